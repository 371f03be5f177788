//! `zkdl bench`: the prover and verifier measured on real training runs.
//!
//! For each network and T: training, the prover's phases (statement commitments, commit b, each
//! aggregated relation, openings), the verifier, the proof size and the peak resident memory of the
//! run; and, in the same process, the commitment floor: arkworks' MSM committing the same number of
//! values of the same widths in the same row layout. Runs whose field tables would not fit in memory
//! are reported as skipped with the memory they need.
//!
//! Each run is proven with zero-knowledge on and off side by side (`--modes zk,clear`, the default):
//! one training run, one set of witness tables and one commitment key, then for each mode its own
//! statement commitments, proof and verification. The table and the JSON give each mode's prover
//! seconds, verifier seconds and proof bytes, and the ratios zero-knowledge / clear. The unsuffixed
//! JSON fields (`prover_seconds`, `verifier_seconds`, `proof_bytes`, `phases`, …) are the
//! zero-knowledge proof's, what `zkdl prove` makes; the `_clear` ones the proof of
//! `zkdl prove --no-zero-knowledge`; a mode not run has nulls. s/step, verify% and prover/floor are of
//! the zero-knowledge proof, or of the clear one when only it runs. The peak memory covers the whole
//! run, every mode included (the tables are shared).

use super::options::{load_network, RunOptions};
use super::pipeline::{prove_training_in_modes, verify_file, ModeProof};
use super::CliError;
use ark_ec::VariableBaseMSM;
use ark_ff::PrimeField;
use clap::{Args, ValueEnum};
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use zkdl_compiler::plan::{Storage, ValueKind};
use zkdl_compiler::{compile, CompileOptions, Plan, Visibility};
use zkdl_runtime::commitment::CommitmentKey;
use zkdl_runtime::proof::{is_field_tensor, is_streamed};
use zkdl_runtime::zk::Mode;
use zkdl_runtime::{Fr, G1Projective};

/// A proof mode of `zkdl bench --modes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// Zero-knowledge, what `zkdl prove` makes.
    Zk,
    /// Not zero-knowledge, what `zkdl prove --no-zero-knowledge` makes.
    Clear,
}

impl BenchMode {
    fn mode(self) -> Mode {
        match self {
            BenchMode::Zk => Mode::ZeroKnowledge,
            BenchMode::Clear => Mode::Clear,
        }
    }
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Networks to run, each `NAME:T,T,…` (`digits`, `paper` or a network file).
    #[arg(long, value_delimiter = ' ', default_values_t = vec!["digits:16".to_string(), "paper:1,4,16".to_string()])]
    pub runs: Vec<String>,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Seed of the initial weights, split and batch order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Proof modes to run on each training run, in this order: `zk` (zero-knowledge), `clear` (not
    /// zero-knowledge). One mode alone saves time on huge networks.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BenchMode::Zk, BenchMode::Clear], value_name = "zk,clear")]
    pub modes: Vec<BenchMode>,
    /// No progress bars (training, witness, commitments and each proof phase, on stderr).
    #[arg(long)]
    pub quiet: bool,
}

/// The columns of the printed table: header and width (the first left-aligned, the others right-aligned).
const COLUMNS: [(&str, usize); 15] = [
    ("network", 8),
    ("T", 3),
    ("train s", 8),
    ("zk", 9),
    ("clear", 9),
    ("zk/clear", 8),
    ("s/step", 8),
    ("floor s", 8),
    ("zk", 8),
    ("clear", 8),
    ("verify%", 8),
    ("zk", 10),
    ("clear", 10),
    ("zk/clear", 8),
    ("peak MiB", 9),
];

/// Headers over groups of columns: title, first column, number of columns.
const GROUPS: [(&str, usize, usize); 3] = [("prover s", 3, 3), ("verifier s", 8, 2), ("proof bytes", 11, 3)];

/// One line of the table: `cells` in [`COLUMNS`], then the note.
fn table_row(cells: &[String], note: &str) -> String {
    let mut line = String::new();
    for (i, (cell, &(_, width))) in cells.iter().zip(COLUMNS.iter()).enumerate() {
        if i == 0 {
            line += &format!("{cell:<width$}");
        } else {
            line += &format!(" {cell:>width$}");
        }
    }
    format!("{line}  {note}").trim_end().to_string()
}

/// The line above the headers that names the groups of columns.
fn group_header() -> String {
    let mut line = String::new();
    let mut i = 0;
    while i < COLUMNS.len() {
        if i > 0 {
            line.push(' ');
        }
        if let Some(&(title, _, n)) = GROUPS.iter().find(|g| g.1 == i) {
            let width = COLUMNS[i..i + n].iter().map(|c| c.1).sum::<usize>() + n - 1;
            line += &format!("{:-^width$}", format!(" {title} "));
            i += n;
        } else {
            line += &" ".repeat(COLUMNS[i].1);
            i += 1;
        }
    }
    line.trim_end().to_string()
}

/// A measured proof of one mode.
struct Measured<'a> {
    proof: &'a ModeProof,
    prover: f64,
    verifier: f64,
}

/// The name of a mode in `--modes` and the JSON: `zk` or `clear`.
fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::ZeroKnowledge => "zk",
        Mode::Clear => "clear",
    }
}

/// `value` formatted, or `-` for a mode not run.
fn cell<T>(value: Option<T>, format: impl Fn(T) -> String) -> String {
    value.map_or_else(|| "-".to_string(), format)
}

/// Peak resident memory since the last reset (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Bytes of the tables the prover holds at once: no stacked tensor is held (`Tables::streaming`), a
/// relation builds the tables it reads — at most about four of the largest activation-sized tensors
/// (operands, their views and bound copies) — and the stacked W_t and G_W are never built
/// (`proof::is_streamed`); b and its used mask packed, and the bit relation's tables once its first
/// five rounds have folded b (b, used and the eq table at `2^(n−5)` entries).
fn table_bytes(plan: &Plan) -> u64 {
    let largest =
        plan.tensors.iter().filter(|t| is_field_tensor(t) && !is_streamed(t)).map(|t| t.padded_entries()).max();
    let n = plan.bit_tensor_vars;
    4 * largest.unwrap_or(0) * 32 + (1u64 << n) / 4 + 3 * 32 * (1u64 << n.saturating_sub(5))
}

/// Seconds arkworks' MSM takes to commit random values of each committed tensor's width, row by row.
fn commitment_floor(plan: &Plan, key: &CommitmentKey, seed: u64) -> f64 {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut seconds = 0.0;
    for t in &plan.tensors {
        let Storage::Committed { values, row_vars, col_vars, .. } = t.storage else { continue };
        let bits = match values {
            ValueKind::Bits => 1,
            ValueKind::Signed(n) => n,
        };
        let cols = 1usize << col_vars;
        let bases = &key.generators()[..cols];
        // Magnitudes of `bits − 1` bits (the sign selects the base), a 0/1 value for bits.
        let scalars: Vec<<Fr as PrimeField>::BigInt> = (0..cols)
            .map(|_| {
                let magnitude: u128 = match bits {
                    1 => u128::from(rng.gen::<bool>()),
                    b if b > 128 => rng.gen(),
                    b => rng.gen::<u128>() & ((1u128 << (b - 1)) - 1),
                };
                <Fr as PrimeField>::BigInt::new([magnitude as u64, (magnitude >> 64) as u64, 0, 0])
            })
            .collect();
        let started = Instant::now();
        // Every row has the same cost; time one and scale by the number of rows.
        let _ = G1Projective::msm_bigint(bases, &scalars);
        seconds += started.elapsed().as_secs_f64() * (1u64 << row_vars) as f64;
    }
    seconds
}

pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let mut results = Vec::new();
    let mut modes: Vec<Mode> = Vec::new();
    for mode in args.modes.iter().map(|m| m.mode()) {
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    if modes.is_empty() {
        return Err(CliError::input("--modes: give zk, clear or both".into()));
    }
    say!("{}", group_header());
    say!("{}", table_row(&COLUMNS.map(|c| c.0.to_string()), "note"));
    for run in &args.runs {
        let (name, steps) = run.split_once(':').unwrap_or((run.as_str(), "16"));
        let steps: Vec<u32> = steps
            .split(',')
            .map(|s| s.trim().parse().map_err(|_| CliError::input(format!("--runs {run}: {s} is not a step count"))))
            .collect::<Result<_, _>>()?;
        let spec = load_network(name)?;
        let options = RunOptions::preset(name, args.seed);
        for t in steps {
            let plan = compile(&spec, CompileOptions::steps(t)).map_err(|e| CliError::input(e.to_string()))?;
            let needed = table_bytes(&plan);
            if available_memory().is_some_and(|a| needed > a / 10 * 8) {
                let note = format!(
                    "skipped: the prover's tables need {:.1} GiB, more than this machine has free",
                    needed as f64 / (1u64 << 30) as f64
                );
                let mut cells = vec![String::new(); COLUMNS.len()];
                cells[0] = spec.name.clone();
                cells[1] = t.to_string();
                say!("{}", table_row(&cells, &note));
                results.push(json!({ "network": spec.name, "steps": t, "skipped": note, "table_bytes": needed }));
                continue;
            }
            let inputs = options.inputs()?;
            reset_peak_rss();
            let proving = prove_training_in_modes(
                &inputs,
                t,
                Visibility::default(),
                args.seed.wrapping_add(2),
                !args.quiet,
                &modes,
                &Default::default(),
            )?;
            let peak = peak_rss().unwrap_or(0);
            let mut measured = Vec::with_capacity(proving.proofs.len());
            for proof in &proving.proofs {
                let (verified, verifier) = verify_file(&proof.file, &proving.plan, Some(&proving.key), None);
                verified.map_err(|e| CliError {
                    message: format!("{} T = {t}: the {} proof does not verify: {e}", spec.name, proof.mode.label()),
                    code: 1,
                })?;
                measured.push(Measured { proof, prover: proof.prover_seconds(), verifier });
            }
            let find = |mode: Mode| measured.iter().find(|m| m.proof.mode == mode);
            let (zk, clear) = (find(Mode::ZeroKnowledge), find(Mode::Clear));
            let Some(primary) = zk.or(clear) else { continue };
            let ratio = |f: fn(&Measured) -> f64| zk.zip(clear).map(|(z, c)| f(z) / f(c));
            let prover_ratio = ratio(|m| m.prover);
            let verifier_ratio = ratio(|m| m.verifier);
            let size_ratio = ratio(|m| m.proof.proof_bytes as f64);

            let floor = commitment_floor(&proving.plan, &proving.key, args.seed);
            let training = proving.setup[0].seconds;
            let cells = [
                spec.name.clone(),
                t.to_string(),
                format!("{training:.3}"),
                cell(zk, |m| format!("{:.3}", m.prover)),
                cell(clear, |m| format!("{:.3}", m.prover)),
                cell(prover_ratio, |r| format!("{r:.2}")),
                format!("{:.3}", primary.prover / t as f64),
                format!("{floor:.3}"),
                cell(zk, |m| format!("{:.4}", m.verifier)),
                cell(clear, |m| format!("{:.4}", m.verifier)),
                format!("{:.2}%", 100.0 * primary.verifier / primary.prover),
                cell(zk, |m| m.proof.proof_bytes.to_string()),
                cell(clear, |m| m.proof.proof_bytes.to_string()),
                cell(size_ratio, |r| format!("{r:.2}")),
                format!("{:.1}", peak as f64 / (1u64 << 20) as f64),
            ];
            let floor_note = if zk.is_some() { "prover/floor" } else { "clear prover/floor" };
            say!("{}", table_row(&cells, &format!("{floor_note} {:.1}", primary.prover / floor)));

            let phases = |m: &Measured| {
                proving
                    .setup
                    .iter()
                    .chain(&m.proof.phases)
                    .map(|p| json!({"phase": p.phase, "seconds": p.seconds}))
                    .collect::<Vec<_>>()
            };
            results.push(json!({
                "network": spec.name,
                "steps": t,
                "modes": measured.iter().map(|m| mode_name(m.proof.mode)).collect::<Vec<_>>(),
                "training_seconds": training,
                "prover_seconds": zk.map(|m| m.prover),
                "prover_seconds_per_step": zk.map(|m| m.prover / t as f64),
                "phases": zk.map(phases),
                "verifier_seconds": zk.map(|m| m.verifier),
                "proof_bytes": zk.map(|m| m.proof.proof_bytes),
                "prover_seconds_clear": clear.map(|m| m.prover),
                "prover_seconds_per_step_clear": clear.map(|m| m.prover / t as f64),
                "phases_clear": clear.map(phases),
                "verifier_seconds_clear": clear.map(|m| m.verifier),
                "proof_bytes_clear": clear.map(|m| m.proof.proof_bytes),
                "zk_prover_ratio": prover_ratio,
                "zk_verifier_ratio": verifier_ratio,
                "zk_size_ratio": size_ratio,
                "peak_rss_bytes": peak,
                "commitment_floor_seconds": floor,
            }));
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| CliError::input(e.to_string()))?;
        zkdl_runtime::files::write_atomically(path, text.as_bytes())
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
