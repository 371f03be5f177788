//! Benchmarks of the runtime's core operations, each paired with an arkworks baseline of the same
//! size that runs in the same process, followed by a table of medians and the ratio ours/baseline.
//!
//! All sizes are `2^20` entries in a `2^10 × 2^10` matrix layout (`log_cols = 10`); the key
//! `CommitmentKey::new(10)` is built once outside the timing, and all data comes from seeded
//! `ChaCha20Rng`s. Each benchmark is a criterion group with the functions `zkdl` and `arkworks`
//! (the `opening` group: `prove`, `verify` and their shared baseline `arkworks msm 2^11`):
//!
//! - `commit/bits`: `key.commit(bits, 10, rng)` on uniformly random bits (`p = 1/2`).
//!   Baseline: per row `G1Projective::msm_u1(g_0..g_1023, row) + h · β` (β a fresh random `Fr`),
//!   rows in parallel with rayon, normalized to affine like our output.
//! - `commit/signed16`: `key.commit(values, 10, rng)` on uniformly random `i16`.
//!   Baseline: per row `msm_u16` on the magnitudes `|v|` with the base negated where `v < 0`,
//!   plus `h · β`, rows in parallel.
//! - `commit/field`: `key.commit(values, 10, rng)` on uniformly random `Fr`.
//!   Baseline: per row `G1Projective::msm_unchecked(g, row) + h · β`, rows one after another, each
//!   MSM parallel inside (ark-ec's full-width MSM cannot run inside rayon tasks, see
//!   `arkworks_commit_field`). Slow (seconds per iteration): 10 samples of one iteration each.
//! - `sumcheck/degree2`: `sumcheck::prove` of `Σ_x A(x) B(x)` over 20 variables (two committed
//!   factors, one product term), random `A`, `B`; the witness clone is made in the untimed setup.
//!   Baseline: the textbook sumcheck prover on ark-poly's `DenseMultilinearExtension`: each round
//!   sums `s(0), s(1), s(2)` over the pairs `(2i, 2i + 1)` (ark-poly binds the lowest variable
//!   first), draws `r` from the same kind of transcript, and calls `fix_variables(&[r])` on both
//!   polynomials. The round sums run in parallel with rayon; `fix_variables` is ark-poly's own,
//!   single-threaded (and it allocates a new polynomial every round).
//! - `opening/prove` and `opening/verify`: `key.open` and `key.verify_opening` on random `i16`
//!   values committed with `log_cols = 10` (the `Fr` values for `open` precomputed; a fresh
//!   `Transcript::new(b"bench")` per iteration). Baseline for both, `opening/arkworks msm 2^11`:
//!   one `G1Projective::msm_unchecked` over `2^11` random points with random full-width scalars,
//!   the size of the verifier's single MSM (`2^10` row commitments + `2^10` generators).
//!
//! `main` runs the groups with `Criterion::default()` (10 flat samples, 1 s warm-up, 3 s
//! measurement; command-line arguments override), then reads each median from the
//! `estimates.json` criterion wrote during this run and prints a markdown table with the targets.
//! Rows whose estimates were not written by this run (filtered out, `--baseline`, `--list`, …)
//! are skipped.

use std::cell::OnceCell;
use std::env;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, UniformRand, Zero};
use ark_poly::{DenseMultilinearExtension, MultilinearExtension};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use zkdl_runtime::crypto::commitment::{CommitValues, CommitmentBlinds, CommitmentKey};
use zkdl_runtime::crypto::sumcheck::{self, Factor, ProductTerm, SumcheckStatement};
use zkdl_runtime::{Claim, Fr, G1Affine, G1Projective, TensorId, Transcript};

const LOG_COLS: u32 = 10;
const COLS: usize = 1 << LOG_COLS;
const NUM_VARS: usize = 20;
const LEN: usize = 1 << NUM_VARS;
const ROWS: usize = LEN / COLS;

/// The function ids within each group.
const OURS: &str = "zkdl";
const BASELINE: &str = "arkworks";
const OPENING_BASELINE: &str = "arkworks msm 2^11";

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn random_fields(rng: &mut ChaCha20Rng, len: usize) -> Vec<Fr> {
    (0..len).map(|_| Fr::rand(rng)).collect()
}

/// Flat sampling (the same iteration count in every sample) suits iterations of 10 ms and more.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sampling_mode(SamplingMode::Flat);
}

/// Row commitments `Σ_j M[i][j] g_j + β_i h` the way an arkworks-based committer computes them:
/// one MSM per row (`row_msm`), plus a scalar multiplication of `h`, rows in parallel.
fn arkworks_rows<T: Sync>(
    values: &[T],
    blinds: &[Fr],
    h: G1Affine,
    row_msm: impl Fn(&[T]) -> G1Projective + Sync,
) -> Vec<G1Affine> {
    let rows: Vec<G1Projective> =
        values.par_chunks(COLS).zip(blinds.par_iter()).map(|(row, blind)| row_msm(row) + h * blind).collect();
    G1Projective::normalize_batch(&rows)
}

fn arkworks_commit_bits(generators: &[G1Affine], h: G1Affine, bits: &[bool], blinds: &[Fr]) -> Vec<G1Affine> {
    arkworks_rows(bits, blinds, h, |row| G1Projective::msm_u1(generators, row))
}

fn arkworks_commit_signed16(generators: &[G1Affine], h: G1Affine, values: &[i16], blinds: &[Fr]) -> Vec<G1Affine> {
    arkworks_rows(values, blinds, h, |row| {
        let (bases, magnitudes): (Vec<G1Affine>, Vec<u16>) =
            row.iter().zip(generators).map(|(v, g)| (if *v < 0 { -*g } else { *g }, v.unsigned_abs())).unzip();
        G1Projective::msm_u16(&bases, &magnitudes)
    })
}

/// Full-width rows one after another, each MSM parallel inside: ark-ec 0.6's full-width MSM
/// builds and `install`s a fresh rayon pool per call, so calling it from rayon tasks (rows in
/// parallel) nests MSMs on the workers' stacks, one level per row, and overflows them.
fn arkworks_commit_field(generators: &[G1Affine], h: G1Affine, values: &[Fr], blinds: &[Fr]) -> Vec<G1Affine> {
    let rows: Vec<G1Projective> = values
        .chunks(COLS)
        .zip(blinds)
        .map(|(row, blind)| G1Projective::msm_unchecked(generators, row) + h * blind)
        .collect();
    G1Projective::normalize_batch(&rows)
}

/// The arkworks baseline of one value kind: `(generators, h, values, blinds) → row commitments`.
type CommitBaseline<T> = fn(&[G1Affine], G1Affine, &[T], &[Fr]) -> Vec<G1Affine>;

/// `commit/<kind>`: ours against its arkworks baseline on `LEN` values. Before timing, the
/// baseline is checked to compute the same row commitments on the first `checked_rows` rows.
fn bench_commit<T: Sync>(
    c: &mut Criterion,
    key: &CommitmentKey,
    kind: &str,
    seed: u64,
    make_values: impl Fn(&mut ChaCha20Rng) -> Vec<T>,
    checked_rows: usize,
    baseline: CommitBaseline<T>,
) where
    [T]: CommitValues,
{
    let mut r = rng(seed);
    let values = make_values(&mut r);
    let (generators, h) = (&key.generators()[..COLS], key.blinding_generator());
    let head = &values[..checked_rows * COLS];
    let blinds = CommitmentBlinds::random(checked_rows, &mut r);
    let expected = key.commit_with_blinds(head, LOG_COLS, &blinds).rows;
    assert_eq!(baseline(generators, h, head, blinds.values()), expected, "the {kind} baseline disagrees");

    let mut group = c.benchmark_group(format!("commit/{kind}"));
    configure(&mut group);
    if checked_rows < ROWS {
        // Seconds per iteration: criterion's minimum of 10 samples of one iteration each (it warns
        // that the measurement time is too short, which is expected).
        group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    }
    group.bench_function(OURS, |b| b.iter(|| key.commit(values.as_slice(), LOG_COLS, &mut r)));
    group.bench_function(BASELINE, |b| {
        b.iter(|| {
            let blinds: Vec<Fr> = random_fields(&mut r, ROWS);
            baseline(generators, h, &values, &blinds)
        });
    });
    group.finish();
}

/// `[Σ_i p(2i) q(2i), Σ_i p(2i+1) q(2i+1), Σ_i p₂(i) q₂(i)]` with `p₂(i) = 2 p(2i+1) − p(2i)`:
/// the round polynomial of `Σ p q` at 0, 1, 2 in the lowest variable. Parallel with rayon, as an
/// arkworks-based prover with the `parallel` feature would do it (`cfg_iter!`).
fn round_sums(p: &[Fr], q: &[Fr]) -> [Fr; 3] {
    p.par_chunks(2)
        .zip(q.par_chunks(2))
        .with_min_len(1 << 10)
        .fold(
            || [Fr::zero(); 3],
            |mut acc, (p, q)| {
                let (p0, p1, q0, q1) = (p[0], p[1], q[0], q[1]);
                let p2 = p1.double() - p0;
                let q2 = q1.double() - q0;
                acc[0] += p0 * q0;
                acc[1] += p1 * q1;
                acc[2] += p2 * q2;
                acc
            },
        )
        .reduce(|| [Fr::zero(); 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]])
}

/// The textbook sumcheck prover for `Σ_x p(x) q(x)` on ark-poly's dense multilinear extensions:
/// round sums in parallel (`round_sums`), then ark-poly's own `fix_variables` (single-threaded,
/// and allocating a fresh polynomial each round). Returns the round messages and `p(r)`, `q(r)`.
fn arkworks_sumcheck(
    mut p: DenseMultilinearExtension<Fr>,
    mut q: DenseMultilinearExtension<Fr>,
    transcript: &mut Transcript,
) -> (Vec<[Fr; 3]>, Fr, Fr) {
    let mut rounds = Vec::with_capacity(p.num_vars);
    while p.num_vars > 0 {
        let s = round_sums(&p.evaluations, &q.evaluations);
        transcript.append_fields(b"round", &s);
        let r = transcript.challenge_field(b"challenge");
        p = p.fix_variables(&[r]);
        q = q.fix_variables(&[r]);
        rounds.push(s);
    }
    (rounds, p.evaluations[0], q.evaluations[0])
}

fn bench_sumcheck(c: &mut Criterion) {
    let statement = SumcheckStatement {
        relation: "bench inner product".into(),
        num_vars: NUM_VARS,
        eq_weight: None,
        factors: vec![Factor::Committed(TensorId(0)), Factor::Committed(TensorId(1))],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1])],
    };
    let data = OnceCell::new();
    let data = || {
        data.get_or_init(|| {
            let mut r = rng(10);
            let (a, b) = (random_fields(&mut r, LEN), random_fields(&mut r, LEN));
            // Both provers claim the same sum.
            let ours = sumcheck::prove(&statement, vec![a.clone(), b.clone()], &mut Transcript::new(b"bench"));
            let (rounds, _, _) = arkworks_sumcheck(
                DenseMultilinearExtension::from_evaluations_slice(NUM_VARS, &a),
                DenseMultilinearExtension::from_evaluations_slice(NUM_VARS, &b),
                &mut Transcript::new(b"bench"),
            );
            assert_eq!(rounds[0][0] + rounds[0][1], ours.claimed_sum, "the sumcheck baseline sums something else");
            (a, b)
        })
    };
    let mut group = c.benchmark_group("sumcheck/degree2");
    configure(&mut group);
    group.bench_function(OURS, |bencher| {
        let (a, b) = data();
        bencher.iter_batched(
            || vec![a.clone(), b.clone()],
            |witness| sumcheck::prove(&statement, witness, &mut Transcript::new(b"bench")),
            BatchSize::LargeInput,
        );
    });
    group.bench_function(BASELINE, |bencher| {
        let (a, b) = data();
        bencher.iter_batched(
            || {
                (
                    DenseMultilinearExtension::from_evaluations_slice(NUM_VARS, a),
                    DenseMultilinearExtension::from_evaluations_slice(NUM_VARS, b),
                )
            },
            |(p, q)| arkworks_sumcheck(p, q, &mut Transcript::new(b"bench")),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn bench_opening(c: &mut Criterion, key: &CommitmentKey) {
    let data = OnceCell::new();
    let data = || {
        data.get_or_init(|| {
            let mut r = rng(11);
            let small: Vec<i16> = (0..LEN).map(|_| r.gen()).collect();
            let values: Vec<Fr> = small.iter().map(|v| Fr::from(i64::from(*v))).collect();
            let (commitment, blinds) = key.commit(small.as_slice(), LOG_COLS, &mut r);
            let point = random_fields(&mut r, NUM_VARS);
            let (proof, value) =
                key.open(&mut Transcript::new(b"bench"), &commitment, &values, &blinds, &point, &mut r);
            let claim = Claim { tensor: TensorId(0), point, value };
            assert!(
                key.verify_opening(&mut Transcript::new(b"bench"), &commitment, &claim, &proof).is_ok(),
                "the benchmarked opening does not verify"
            );
            (values, commitment, blinds, claim, proof)
        })
    };
    let msm_data = OnceCell::new();
    let msm_data = || {
        msm_data.get_or_init(|| {
            let mut r = rng(12);
            let points: Vec<G1Projective> = (0..2 * COLS).map(|_| G1Projective::rand(&mut r)).collect();
            (G1Projective::normalize_batch(&points), random_fields(&mut r, 2 * COLS))
        })
    };
    let mut group = c.benchmark_group("opening");
    configure(&mut group);
    group.bench_function("prove", |b| {
        let (values, commitment, blinds, claim, _) = data();
        let mut r = rng(13);
        b.iter(|| key.open(&mut Transcript::new(b"bench"), commitment, values, blinds, &claim.point, &mut r));
    });
    group.bench_function("verify", |b| {
        let (_, commitment, _, claim, proof) = data();
        b.iter(|| black_box(key.verify_opening(&mut Transcript::new(b"bench"), commitment, claim, proof).is_ok()));
    });
    group.bench_function(OPENING_BASELINE, |b| {
        let (bases, scalars) = msm_data();
        b.iter(|| G1Projective::msm_unchecked(bases, scalars));
    });
    group.finish();
}

/// One row of the summary: our benchmark, its baseline (criterion ids) and the target in seconds.
struct Row {
    name: &'static str,
    ours: &'static str,
    baseline: &'static str,
    baseline_label: &'static str,
    /// The target median in seconds, and how it is printed.
    target: Option<(f64, &'static str)>,
}

const ROWS_TABLE: [Row; 6] = [
    Row {
        name: "commit/bits",
        ours: "commit/bits/zkdl",
        baseline: "commit/bits/arkworks",
        baseline_label: "per-row msm_u1 + h·β",
        target: Some((0.2, "≤ 0.2 s")),
    },
    Row {
        name: "commit/signed16",
        ours: "commit/signed16/zkdl",
        baseline: "commit/signed16/arkworks",
        baseline_label: "per-row msm_u16 on magnitudes, bases negated where v < 0, + h·β",
        target: Some((0.6, "≤ 0.6 s")),
    },
    Row {
        name: "commit/field",
        ours: "commit/field/zkdl",
        baseline: "commit/field/arkworks",
        baseline_label: "per-row msm + h·β",
        target: None,
    },
    Row {
        name: "sumcheck/degree2",
        ours: "sumcheck/degree2/zkdl",
        baseline: "sumcheck/degree2/arkworks",
        baseline_label: "ark-poly DenseMLE textbook prover",
        target: Some((0.25, "≤ 0.25 s")),
    },
    Row {
        name: "opening/prove",
        ours: "opening/prove",
        baseline: "opening/arkworks msm 2^11",
        baseline_label: "arkworks msm 2^11 (the verifier's MSM size)",
        target: None,
    },
    Row {
        name: "opening/verify",
        ours: "opening/verify",
        baseline: "opening/arkworks msm 2^11",
        baseline_label: "arkworks msm 2^11 (the verifier's MSM size)",
        target: Some((0.05, "≤ 50 ms")),
    },
];

/// Where criterion 0.8 writes its output (`default_output_directory` in its `lib.rs`):
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target directory that
/// `cargo metadata` reports, joined with `criterion`, else `target/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    cargo_metadata_target_dir().map_or_else(|| PathBuf::from("target/criterion"), |target| target.join("criterion"))
}

/// `target_directory` from `$CARGO metadata` (as criterion does), parsed by hand.
fn cargo_metadata_target_dir() -> Option<PathBuf> {
    let output =
        Command::new(env::var_os("CARGO")?).args(["metadata", "--format-version", "1", "--no-deps"]).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let start = text.find("\"target_directory\"")? + "\"target_directory\"".len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let mut path = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                'n' => path.push('\n'),
                't' => path.push('\t'),
                escaped => path.push(escaped), // `\\`, `\"`, `\/`
            },
            c => path.push(c),
        }
    }
    Some(PathBuf::from(path))
}

/// Criterion's `make_filename_safe`, per component of a benchmark id.
fn directory_name(id: &str) -> PathBuf {
    // An id here is `group/function`, and the group may itself contain a `/` (`commit/bits`):
    // criterion makes each of the two filename-safe separately.
    let (group, function) = id.rsplit_once('/').unwrap_or((id, ""));
    let safe = |s: &str| {
        let s = s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
        if cfg!(target_os = "windows") {
            s.trim_end().to_lowercase()
        } else {
            s
        }
    };
    let mut path = PathBuf::from(safe(group));
    if !function.is_empty() {
        path.push(safe(function));
    }
    path
}

/// The median (ns) of benchmark `id`, if criterion wrote its estimates during this run.
fn median_ns(home: &Path, id: &str, since: SystemTime) -> Option<f64> {
    let file = home.join(directory_name(id)).join("new").join("estimates.json");
    let modified = fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None; // a stale estimate from an earlier run
    }
    let text = fs::read_to_string(&file).ok()?;
    let median = &text[text.find("\"median\"")?..];
    let rest = &median[median.find("\"point_estimate\"")? + "\"point_estimate\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end =
        rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))).unwrap_or(rest.len());
    rest[..end].parse().ok().filter(|v: &f64| v.is_finite())
}

fn format_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn print_summary(since: SystemTime) {
    let home = criterion_home();
    let mut lines = Vec::new();
    for row in &ROWS_TABLE {
        let Some(ours) = median_ns(&home, row.ours, since) else { continue };
        let baseline = median_ns(&home, row.baseline, since);
        let baseline_cell = baseline.map_or_else(
            || format!("— ({})", row.baseline_label),
            |b| format!("{} ({})", format_time(b), row.baseline_label),
        );
        let ratio = baseline.map_or_else(|| "—".to_string(), |b| format!("{:.2}", ours / b));
        let target = match row.target {
            None => "—".to_string(),
            Some((target_s, label)) => {
                let ratio = ours / (target_s * 1e9);
                if ratio <= 1.0 {
                    format!("{label} (met)")
                } else {
                    format!("{label} (MISSED by {:.0}%)", (ratio - 1.0) * 100.0)
                }
            }
        };
        lines.push(format!("| {} | {} | {} | {} | {} |", row.name, format_time(ours), baseline_cell, ratio, target));
    }
    println!();
    if lines.is_empty() {
        println!("(no benchmark estimates were written by this run under {}; nothing to summarize)", home.display());
        return;
    }
    println!("Medians at 2^20 entries (2^10 × 2^10 layout), {} rayon threads:", rayon::current_num_threads());
    println!();
    println!("| benchmark | ours median | arkworks baseline median | ratio (ours/baseline) | target |");
    println!("|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
}

fn main() {
    // Estimates older than this were not written by this run.
    let start = SystemTime::now().checked_sub(Duration::from_secs(1)).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let key = CommitmentKey::new(LOG_COLS);

    bench_commit(
        &mut criterion,
        &key,
        "bits",
        1,
        |r| (0..LEN).map(|_| r.gen_bool(0.5)).collect(),
        ROWS,
        arkworks_commit_bits,
    );
    bench_commit(
        &mut criterion,
        &key,
        "signed16",
        4,
        |r| (0..LEN).map(|_| r.gen()).collect(),
        ROWS,
        arkworks_commit_signed16,
    );
    // Checked on the first 16 rows only: a full check costs two more slow iterations.
    bench_commit(&mut criterion, &key, "field", 7, |r| random_fields(r, LEN), 16, arkworks_commit_field);
    bench_sumcheck(&mut criterion);
    bench_opening(&mut criterion, &key);

    criterion.final_summary();
    print_summary(start);
}
