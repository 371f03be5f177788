//! `zkdl bench`: the prover and verifier measured on real training runs.
//!
//! For each network and T: training, the prover's phases (statement commitments, commit b, each
//! aggregated relation, openings), the verifier, the proof size and the peak resident memory of the
//! run; and, in the same process, the commitment floor: arkworks' MSM committing the same number of
//! values of the same widths in the same row layout. Runs whose field tables would not fit in memory
//! are reported as skipped with the memory they need.

use super::options::{load_network, RunOptions};
use super::pipeline::{prove_training, verify_file};
use super::CliError;
use ark_ec::VariableBaseMSM;
use ark_ff::PrimeField;
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use zkdl_compiler::plan::{Storage, ValueKind};
use zkdl_compiler::{compile, CompileOptions, Plan, Visibility};
use zkdl_runtime::commitment::CommitmentKey;
use zkdl_runtime::proof::{is_field_tensor, is_streamed};
use zkdl_runtime::{Fr, G1Projective};

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
    /// No progress bars (training, witness, commitments and each proof phase, on stderr).
    #[arg(long)]
    pub quiet: bool,
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

/// Bytes of the tables the prover holds: every stacked tensor but the bit-plane and streamed ones
/// (W_t and G_W, `proof::is_streamed`) as 32-byte field elements, the largest streamed tensor twice
/// (its table and a merge's weight table while a relation reads it), b and its used mask packed, and
/// the bit relation's tables once its first five rounds have folded b (b, used and the eq table at
/// `2^(n−5)` entries).
fn table_bytes(plan: &Plan) -> u64 {
    let field = || plan.tensors.iter().filter(|t| is_field_tensor(t));
    let held: u64 = field().filter(|t| !is_streamed(t)).map(|t| t.padded_entries()).sum();
    let streamed = field().filter(|t| is_streamed(t)).map(|t| t.padded_entries()).max();
    let n = plan.bit_tensor_vars;
    (held + 2 * streamed.unwrap_or(0)) * 32 + (1u64 << n) / 4 + 3 * 32 * (1u64 << n.saturating_sub(5))
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
    say!(
        "{:<8} {:>3} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>9}  {}",
        "network",
        "T",
        "train s",
        "prove s",
        "s/step",
        "floor s",
        "verify s",
        "verify%",
        "proof B",
        "peak MiB",
        "note"
    );
    for run in &args.runs {
        let (name, steps) = run.split_once(':').unwrap_or((run.as_str(), "16"));
        let steps: Vec<u32> = steps
            .split(',')
            .map(|s| s.trim().parse().map_err(|_| CliError::input(format!("--runs {run}: {s} is not a step count"))))
            .collect::<Result<_, _>>()?;
        let spec = load_network(name)?;
        let options = RunOptions {
            network: Some(name.to_string()),
            data: None,
            format: None,
            label_column: None,
            labels: None,
            normalize: None,
            test_fraction: 0.2,
            seed: args.seed,
            weights_in: None,
        };
        for t in steps {
            let plan = compile(&spec, CompileOptions::steps(t)).map_err(|e| CliError::input(e.to_string()))?;
            let needed = table_bytes(&plan);
            if available_memory().is_some_and(|a| needed > a / 10 * 8) {
                let note = format!(
                    "skipped: the prover's tables need {:.1} GiB, more than this machine has free",
                    needed as f64 / (1u64 << 30) as f64
                );
                say!("{:<8} {:>3} {:>96}  {note}", spec.name, t, "");
                results.push(json!({ "network": spec.name, "steps": t, "skipped": note, "table_bytes": needed }));
                continue;
            }
            let inputs = options.inputs()?;
            reset_peak_rss();
            let proving = prove_training(&inputs, t, Visibility::default(), args.seed.wrapping_add(2), !args.quiet)?;
            let peak = peak_rss().unwrap_or(0);
            let (verified, verify_seconds) = verify_file(&proving.file, &proving.plan, Some(&proving.key));
            verified.map_err(|e| CliError {
                message: format!("{} T = {t}: the proof does not verify: {e}", spec.name),
                code: 1,
            })?;
            let floor = commitment_floor(&proving.plan, &proving.key, args.seed);
            let training = proving.phases[0].seconds;
            let prover = proving.prover_seconds();
            say!(
                "{:<8} {:>3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.4} {:>7.2}% {:>10} {:>9.1}  prover/floor {:.1}",
                spec.name,
                t,
                training,
                prover,
                prover / t as f64,
                floor,
                verify_seconds,
                100.0 * verify_seconds / prover,
                proving.proof_bytes,
                peak as f64 / (1u64 << 20) as f64,
                prover / floor
            );
            results.push(json!({
                "network": spec.name,
                "steps": t,
                "training_seconds": training,
                "prover_seconds": prover,
                "prover_seconds_per_step": prover / t as f64,
                "phases": proving.phases.iter().map(|p| json!({"phase": p.phase, "seconds": p.seconds})).collect::<Vec<_>>(),
                "verifier_seconds": verify_seconds,
                "proof_bytes": proving.proof_bytes,
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
