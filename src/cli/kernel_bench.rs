//! `zkdl bench --kernels N`: each kernel family of the backend seam (`zkdl_runtime::crypto::device`)
//! timed on the selected backend and on the cpu, in the same process, on the same random inputs of
//! `2^N` entries, medians of `--kernel-runs` runs, with the ratio cpu / backend and a check that both
//! gave the same result.
//!
//! - eq table: `E[i] = eq(u, bits(i))` over `N` variables (the device's includes copying the table
//!   back to the host);
//! - sumcheck: the `N` rounds of `Σ_x eq(ρ, x)·A(x)·B(x)·C(x)` (M1's shape), from taking the tables
//!   (copying them to the device) to the final values;
//! - bit relation: the sumcheck of `0 = Σ_x eq(ρ, x)·b(x)·(b(x) − used(x))` over `2^N` packed bits
//!   (`proof::binary::prove_packed`: the first rounds on bits, then on field tables), b random where
//!   `used` (the first three quarters) and zero elsewhere;
//! - bit commitments: `2^N` bits committed in rows of 1024 columns (`2^(N−10)` rows), blinded and
//!   normalized as `CommitmentKey::commit` does (the cpu and a device by byte tables of the
//!   generators, copies included); the figure beside it is the input read per second (the bits plus
//!   the generators), to set against the device's memory bandwidth;
//! - signed commitments: `2^(N−6)` integers below `2^40` in magnitude (weight-sized) committed in rows
//!   of 1024 (the cpu by signed-digit tables, a device by signed-digit buckets);
//! - MSM: `Σ v_i · g_i` over `2^(N−6)` random field elements, an opening round's `⟨v, g⟩` (the cpu
//!   by ark's Pippenger, a device by signed-digit buckets);
//! - generator fold: the opening's `x·g_L + g_R` over `2^(N−6)` points (a scalar multiplication each),
//!   as affine points.

use std::sync::Arc;
use std::time::Instant;

use ark_ff::UniformRand;
use rand::{Rng, SeedableRng};
use serde_json::json;
use zkdl_runtime::backend::cpu::Cpu;
use zkdl_runtime::crypto::bits::{BitVector, PagedBits};
use zkdl_runtime::crypto::commitment::{fold_generators, multi_scalar_multiplication, CommitmentKey, TensorCommitment};
use zkdl_runtime::crypto::device::with_backend;
use zkdl_runtime::crypto::device::{Backend, RoundShape};
use zkdl_runtime::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
use zkdl_runtime::proof::binary::prove_packed;
use zkdl_runtime::{Fr, TensorId, Transcript};
use zkdl_runtime::{G1Affine, G1Projective};

use super::CliError;

/// Columns of the bit rows committed.
const BIT_COLS_LOG: u32 = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` `runs` times; the median seconds and the last result.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut seconds = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f());
        seconds.push(started.elapsed().as_secs_f64());
    }
    (median(seconds), last.expect("at least one run"))
}

/// What a family computes, compared between the cpu and the backend.
#[derive(PartialEq)]
enum Output {
    Field(Vec<Fr>),
    Commitment(TensorCommitment),
    Point(G1Projective),
    Points(Vec<G1Affine>),
}

/// One family's figures.
struct Row {
    family: &'static str,
    size: String,
    cpu: f64,
    backend: f64,
    same: bool,
    note: String,
}

/// Times every family at `2^vars` entries on `backend` and the cpu; prints the table and returns it as
/// JSON.
pub fn run(backend: &Arc<dyn Backend>, vars: u32, runs: usize) -> Result<serde_json::Value, CliError> {
    if !(BIT_COLS_LOG..=28).contains(&vars) {
        return Err(CliError::input(format!("--kernels {vars}: give 10 to 28 (2^N entries per kernel)")));
    }
    let runs = runs.max(1);
    let cpu: Arc<dyn Backend> = Arc::new(Cpu);
    let n = vars as usize;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(17);
    let mut rows = Vec::new();

    let point: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let compare = |family, size, note, f: &dyn Fn(&Arc<dyn Backend>) -> Output| {
        let (cpu_s, on_cpu) = time(runs, || with_backend(cpu.clone(), || f(&cpu)));
        let (backend_s, on_backend) = time(runs, || with_backend(backend.clone(), || f(backend)));
        Row { family, size, cpu: cpu_s, backend: backend_s, same: on_cpu == on_backend, note }
    };
    rows.push(compare("eq table", format!("2^{n}"), String::new(), &|b| Output::Field(b.eq_table(&point))));

    let tables: Vec<Vec<Fr>> = (0..3).map(|_| (0..1usize << n).map(|_| Fr::rand(&mut rng)).collect()).collect();
    let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let eq_rest = zkdl_runtime::crypto::tensor::eq_table(&rho[1..]);
    let shape = RoundShape::new(3, 4, [(Fr::from(1u64), &[0usize, 1, 2][..])]);
    let challenges: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    rows.push(compare("sumcheck (3 factors, eq)", format!("3 × 2^{n}"), format!("{n} rounds"), &|b| {
        let mut t = b.round_tables(&shape, tables.clone(), Some(eq_rest.clone()));
        let mut messages = Vec::with_capacity(n + 1);
        for r in &challenges {
            messages.push(t.round_values(false));
            t.bind(*r);
        }
        messages.push(t.first_entries());
        Output::Field(messages.concat())
    }));
    drop(tables);

    // The bit relation over 2^n bits: b random where used (the first three quarters), zero elsewhere.
    let used = BitVector::from_fn(1usize << n, |i| i < 3 << (n - 2));
    let b_words: Vec<u64> = used.words().iter().map(|u| u & rng.gen::<u64>()).collect();
    let b = BitVector::from_words(b_words, 1usize << n);
    let statement = SumcheckStatement {
        relation: "B (kernel bench)".into(),
        num_vars: n,
        eq_weight: Some(rho.clone()),
        factors: vec![
            Factor::Committed(TensorId(0)),
            Factor::Public(PublicTensor::Dense((0..1usize << n).map(|i| Fr::from(u64::from(used.get(i)))).collect())),
        ],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 0]), ProductTerm::new(-Fr::from(1u64), [0, 1])],
    };
    let paged = PagedBits::from_bit_vector(&used);
    rows.push(compare("bit relation", format!("2^{n} bits"), format!("{n} rounds, the first on bits"), &|_| {
        let out = prove_packed(&statement, &b, &paged, &mut Transcript::new(b"kernel bench"));
        Output::Field([out.point, out.claims.iter().map(|c| c.value).collect()].concat())
    }));
    drop(statement);

    let key = CommitmentKey::cached(BIT_COLS_LOG);
    let words: Vec<u64> = (0..1usize << (n - 6)).map(|_| rng.gen()).collect();
    let cols = 1usize << BIT_COLS_LOG;
    let bits = BitVector::from_words(words, 1usize << n);
    // The same blinds on both sides, so the commitments compare.
    let blinds = || rand_chacha::ChaCha20Rng::seed_from_u64(18);
    let mut row = compare("bit commitments", format!("2^{n} bits"), String::new(), &|_| {
        Output::Commitment(key.commit(&bits, BIT_COLS_LOG, &mut blinds()).0)
    });
    let bytes = ((1usize << n) / 8 + cols * 96) as f64;
    row.note = format!(
        "rows of {cols}, blinded; {:.1} MB/s of input (bits + generators) on the backend",
        bytes / row.backend / 1e6
    );
    rows.push(row);

    let signed: Vec<i64> = (0..1usize << (n - 6)).map(|_| rng.gen_range(-(1i64 << 40)..1 << 40)).collect();
    rows.push(compare(
        "signed commitments",
        format!("2^{} values", n - 6),
        format!("|v| < 2^40 (weights), rows of {cols}, blinded"),
        &|_| Output::Commitment(key.commit(&signed[..], BIT_COLS_LOG, &mut blinds()).0),
    ));

    let points = 1usize << (n - 6);
    let generators = CommitmentKey::cached(points.trailing_zeros() + 1);
    let (low, high) = generators.generators()[..2 * points].split_at(points);
    let scalars: Vec<Fr> = (0..points).map(|_| Fr::rand(&mut rng)).collect();
    rows.push(compare(
        "MSM (field scalars)",
        format!("2^{} points", n - 6),
        "an opening round's ⟨v, g⟩ (cpu: Pippenger)".into(),
        &|_| Output::Point(multi_scalar_multiplication(low, &scalars)),
    ));
    let x = Fr::rand(&mut rng);
    rows.push(compare("generator fold", format!("2^{} points", n - 6), "x·g_L + g_R, normalized".into(), &|_| {
        Output::Points(fold_generators(low, high, x))
    }));

    say!("kernels on {} against the cpu, 2^{n} entries, medians of {runs}", backend.description());
    say!("{:<26} {:>12} {:>10} {:>10} {:>8} {:>5}  note", "family", "size", "cpu s", "backend s", "cpu/be", "same");
    for r in &rows {
        say!(
            "{:<26} {:>12} {:>10.4} {:>10.4} {:>8.2} {:>5}  {}",
            r.family,
            r.size,
            r.cpu,
            r.backend,
            r.cpu / r.backend,
            if r.same { "yes" } else { "NO" },
            r.note
        );
    }
    if let Some(r) = rows.iter().find(|r| !r.same) {
        return Err(CliError {
            message: format!("{}: the backend's result differs from the cpu's", r.family),
            code: 1,
        });
    }
    Ok(json!({
        "backend": backend.description(),
        "vars": n,
        "runs": runs,
        "kernels": rows.iter().map(|r| json!({
            "family": r.family, "size": r.size, "cpu_seconds": r.cpu, "backend_seconds": r.backend,
            "cpu_over_backend": r.cpu / r.backend, "same": r.same, "note": r.note,
        })).collect::<Vec<_>>(),
    }))
}
