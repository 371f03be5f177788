//! Train, commit, prove and verify in one call: what `zkdl prove` and `zkdl bench` run.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::OsRng;
use zkdl_compiler::{compile, CompileOptions, Plan, Visibility};
use zkdl_runtime::commitment::CommitmentKey;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, PhaseTiming, Tables};
use zkdl_runtime::session::{train_with_witness, TrainConfig, TrainEvent, TrainingRun};

use super::options::RunInputs;
use super::CliError;

/// What a proving run produced and how long each part took.
pub struct ProvingRun {
    pub plan: Plan,
    pub training: TrainingRun,
    pub file: ProofFile,
    pub key: CommitmentKey,
    /// Phases in order: training, witness tables, commitment key, statement commitments, then the
    /// prover's own phases (commit b, each relation, openings).
    pub phases: Vec<PhaseTiming>,
    pub proof_bytes: usize,
}

impl ProvingRun {
    /// Seconds of the prover proper: statement commitments and the proof, without training.
    pub fn prover_seconds(&self) -> f64 {
        self.phases.iter().skip(3).map(|p| p.seconds).sum()
    }
}

fn bar(len: u64, template: &str, show: bool) -> ProgressBar {
    let bar = if show { ProgressBar::new(len) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// Trains `steps` steps on the inputs, proves them and returns the proof file (not yet written).
pub fn prove_training(
    inputs: &RunInputs,
    steps: u32,
    visibility: Visibility,
    seed: u64,
    show_progress: bool,
) -> Result<ProvingRun, CliError> {
    let plan = compile(&inputs.spec, CompileOptions { steps, visibility })
        .map_err(|e| CliError::input(format!("network {}: {e}", inputs.spec.name)))?;
    let mut phases = Vec::new();
    let mut timed = |phase: &str, started: Instant| {
        phases.push(PhaseTiming { phase: phase.into(), seconds: started.elapsed().as_secs_f64() })
    };

    let started = Instant::now();
    let training_bar = bar(steps as u64, "training {bar:40} {pos}/{len} steps  {msg}", show_progress);
    let config = TrainConfig { steps: steps as u64, seed, reference: false };
    let training =
        train_with_witness(&plan, &inputs.train, &inputs.test, inputs.initial.clone(), &config, &mut |event| {
            if let TrainEvent::Step { loss, .. } = event {
                training_bar.inc(1);
                training_bar.set_message(format!("loss {loss:.4}"));
            }
        })
        .map_err(|e| CliError::input(format!("training stopped: {e}")))?;
    training_bar.finish_and_clear();
    timed("training", started);
    let witness = training.witness.as_ref().ok_or_else(|| CliError::input("the run kept no witness".into()))?;

    let spinner = bar(1, "{spinner} {msg}", show_progress);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner.set_message("witness: field tables of the stacked tensors (W_t and G_W streamed), packed b");
    let started = Instant::now();
    let tables = Tables::streaming(witness);
    timed("witness tables", started);
    spinner.set_message("commitment key (hash to curve)");
    let started = Instant::now();
    let key = CommitmentKey::new(key_log_cols(&plan));
    timed("commitment key", started);
    spinner.set_message("statement commitments C_X, C_Y, C_W0, C_WT");
    let started = Instant::now();
    let mut rng = OsRng;
    let (public, secrets) = proof::commit_statement(&plan, &key, &tables, &mut rng);
    timed("statement commitments", started);
    spinner.finish_and_clear();

    let proof_bar = bar(plan.relations.len() as u64 + 2, "proving  {bar:40} {pos}/{len} phases  {msg}", show_progress);
    let (body, prover_phases) = proof::prove(&plan, &key, &tables, &public, &secrets, &mut rng, |phase| {
        proof_bar.inc(1);
        proof_bar.set_message(phase.phase.clone());
    })
    .map_err(|e| CliError::input(e.to_string()))?;
    proof_bar.finish_and_clear();
    phases.extend(prover_phases);

    let file = ProofFile { spec: inputs.spec.clone(), steps, visibility, plan_digest: plan.digest(), public, body };
    let proof_bytes = file.to_bytes().len();
    Ok(ProvingRun { plan, training, file, key, phases, proof_bytes })
}

/// Verifies a decoded proof file against its plan; returns the seconds taken.
pub fn verify_file(file: &ProofFile, plan: &Plan, key: Option<&CommitmentKey>) -> (Result<(), String>, f64) {
    let started = Instant::now();
    if let Err(e) = proof::check_layouts(plan, &file.public, &file.body) {
        return (Err(e.to_string()), started.elapsed().as_secs_f64());
    }
    let owned;
    let key = match key {
        Some(k) if k.max_log_cols() == key_log_cols(plan) => k,
        _ => {
            owned = CommitmentKey::new(key_log_cols(plan));
            &owned
        }
    };
    let result = proof::verify(plan, key, &file.public, &file.body).map_err(|e| e.to_string());
    (result, started.elapsed().as_secs_f64())
}
