//! Train, commit, prove and verify in one call: what `zkdl prove` and `zkdl bench` run.

use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rand::rngs::OsRng;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::{compile_segment, CompileOptions, InitialWeights, Plan, Visibility};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::distributed::Communicator;
use zkdl_runtime::proof::dataset_link::DatasetProverInput;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, PhaseTiming, Tables};
use zkdl_runtime::statement::dataset::{DatasetCommitment, DatasetSecrets, DatasetStatement};
use zkdl_runtime::statement::{carry_final_weights, InitialWeightsCommitment, InitialWeightsSecrets};
use zkdl_runtime::training::session::{train_with_witness, TrainConfig, TrainEvent, TrainingRun};
use zkdl_runtime::training::weights::FixedWeights;

use super::options::RunInputs;
use super::CliError;

/// What a proving run produced and how long each part took.
pub struct ProvingRun {
    pub plan: Plan,
    pub training: TrainingRun,
    pub file: ProofFile,
    pub key: CommitmentKey,
    /// Whether the proof is zero-knowledge (`file.body.mode()`).
    pub mode: Mode,
    /// Phases in order: training, witness tables, commitment key, statement commitments, then the
    /// prover's own phases (commit b, each relation, openings).
    pub phases: Vec<PhaseTiming>,
    pub proof_bytes: usize,
    /// The prover's secrets of the statement (the blinds of its commitments).
    pub secrets: proof::StatementSecrets,
}

impl ProvingRun {
    /// Seconds of the prover proper: statement commitments and the proof, without training.
    pub fn prover_seconds(&self) -> f64 {
        self.phases.iter().skip(SETUP_PHASES).map(|p| p.seconds).sum()
    }
}

/// The phases shared by every mode of a run: training, witness tables, commitment key.
const SETUP_PHASES: usize = 3;

/// One training run proven in one or more modes, from the same witness tables and commitment key.
pub struct ProvingRuns {
    pub plan: Plan,
    pub training: TrainingRun,
    pub key: CommitmentKey,
    /// Training, witness tables, commitment key: done once for all modes.
    pub setup: Vec<PhaseTiming>,
    /// One per mode asked for, in that order.
    pub proofs: Vec<ModeProof>,
}

/// The proof of one mode of a [`ProvingRuns`].
pub struct ModeProof {
    pub mode: Mode,
    /// The proof file (not yet written).
    pub file: ProofFile,
    /// Statement commitments (made afresh for each mode), then the prover's own phases.
    pub phases: Vec<PhaseTiming>,
    pub proof_bytes: usize,
    /// The blinds of the statement's commitments.
    pub secrets: proof::StatementSecrets,
}

impl ModeProof {
    /// Seconds of the prover proper: statement commitments and the proof.
    pub fn prover_seconds(&self) -> f64 {
        self.phases.iter().map(|p| p.seconds).sum()
    }
}

fn bar(len: u64, template: &str, show: bool) -> ProgressBar {
    let bar = if show { ProgressBar::new(len) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// A bar shown under a chain's bars when there are any (`Pinned::chain_progress`).
fn sub_bar(len: u64, template: &str, show: bool, chain: Option<&ChainProgress>) -> ProgressBar {
    let b = bar(len, template, show);
    match chain {
        Some(c) if show => c.multi.add(b),
        _ => b,
    }
}

/// Who proves and where the proof's randomness (its blinds) comes from.
#[derive(Default)]
pub struct Provers<'c> {
    /// The ranks proving together (`zkdl prove --distributed`): every rank trains, commits and proves
    /// with a replica of the same random stream and gets the same proof. `None`: this process alone.
    pub ranks: Option<&'c mut dyn Communicator>,
    /// The seed of the blinds' random stream (ChaCha20): `--blinding-seed`, or rank 0's draw from the
    /// OS shared with the other ranks. `None`: drawn from the OS for each proof.
    pub blinding_seed: Option<[u8; 32]>,
}

impl Provers<'_> {
    /// The random stream of one proof.
    fn stream(&self) -> ChaCha20Rng {
        ChaCha20Rng::from_seed(self.blinding_seed.unwrap_or_else(|| OsRng.gen()))
    }
}

/// Trains `steps` steps on the inputs, proves them in `mode` and returns the proof file (not yet
/// written).
#[allow(clippy::too_many_arguments)]
pub fn prove_training(
    inputs: &RunInputs,
    steps: u32,
    visibility: Visibility,
    seed: u64,
    show_progress: bool,
    mode: Mode,
    pinned: &Pinned,
    provers: &mut Provers,
) -> Result<ProvingRun, CliError> {
    let ProvingRuns { plan, training, key, mut setup, proofs } =
        prove_training_in_modes(inputs, steps, visibility, seed, show_progress, &[mode], pinned, provers)?;
    let proof = proofs.into_iter().next().ok_or_else(|| CliError::input("no proof was made".into()))?;
    setup.extend(proof.phases);
    Ok(ProvingRun {
        plan,
        training,
        file: proof.file,
        key,
        mode: proof.mode,
        phases: setup,
        proof_bytes: proof.proof_bytes,
        secrets: proof.secrets,
    })
}

/// Trains `steps` steps on the inputs once, builds the witness tables and the commitment key once,
/// then commits to the statement and proves the training in each of `modes`, in order. With a
/// committed dataset, the batches are drawn by `seed` from its rows (`inputs.train` must be them) and
/// the proof links them to it.
#[allow(clippy::too_many_arguments)]
pub fn prove_training_in_modes(
    inputs: &RunInputs,
    steps: u32,
    visibility: Visibility,
    seed: u64,
    show_progress: bool,
    modes: &[Mode],
    pinned: &Pinned,
    provers: &mut Provers,
) -> Result<ProvingRuns, CliError> {
    let dataset = pinned.dataset.as_ref();
    let chain = pinned.chain_progress.as_ref();
    let initial_weights = pinned.previous.as_ref().map_or(InitialWeights::Checked, |p| {
        InitialWeights::CarriedFromPreviousSegment { steps_before: p.steps_through }
    });
    let plan = compile_segment(&inputs.spec, CompileOptions { steps, visibility }, initial_weights)
        .map_err(|e| CliError::input(format!("network {}: {e}", inputs.spec.name)))?;
    // A later segment starts where the previous one ended.
    let start = pinned.previous.as_ref().map_or(&inputs.initial, |p| &p.weights);
    let mut setup = Vec::new();
    let timed = |phases: &mut Vec<PhaseTiming>, phase: &str, started: Instant| {
        phases.push(PhaseTiming { phase: phase.into(), seconds: started.elapsed().as_secs_f64() })
    };

    let started = Instant::now();
    let training_bar = sub_bar(steps as u64, "training {bar:40} {pos}/{len} steps  {msg}", show_progress, chain);
    let config = TrainConfig { steps: steps as u64, seed, reference: false };
    let training = train_with_witness(&plan, &inputs.train, &inputs.test, start.clone(), &config, &mut |event| {
        if let TrainEvent::Step { loss, .. } = event {
            training_bar.inc(1);
            training_bar.set_message(format!("loss {loss:.4}"));
            if let Some(c) = chain {
                c.steps.inc(1);
            }
        }
    })
    .map_err(|e| CliError::input(format!("training stopped: {e}")))?;
    training_bar.finish_and_clear();
    timed(&mut setup, "training", started);
    let witness = training.witness.as_ref().ok_or_else(|| CliError::input("the run kept no witness".into()))?;

    let spinner = sub_bar(1, "{spinner} {msg}", show_progress, chain);
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner.set_message("witness: field tables of the stacked tensors (W_t and G_W streamed), packed b");
    let started = Instant::now();
    let tables = Tables::streaming(witness);
    timed(&mut setup, "witness tables", started);
    spinner.set_message("commitment key (generator cache, else hash to curve)");
    let started = Instant::now();
    let key = CommitmentKey::cached(key_log_cols(&plan));
    timed(&mut setup, "commitment key", started);
    spinner.finish_and_clear();
    debug_assert_eq!(setup.len(), SETUP_PHASES);

    let mut proofs = Vec::with_capacity(modes.len());
    for &mode in modes {
        let mut phases = Vec::new();
        let spinner = sub_bar(1, "{spinner} {msg}", show_progress, chain);
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        spinner.set_message(format!("statement commitments C_X, C_Y, C_W0, C_WT ({})", mode.label()));
        let started = Instant::now();
        let mut rng = provers.stream();
        let (mut public, mut secrets) =
            proof::commit_statement_on(provers.ranks.as_deref_mut(), &plan, &key, &tables, &mut rng);
        if let Some((commitment, weights_secrets)) = &pinned.initial_weights {
            commitment
                .apply(&plan, &key, &inputs.initial, weights_secrets, &mut public, &mut secrets)
                .map_err(|e| CliError::input(format!("--initial-weights: {e}")))?;
        }
        if let Some(previous) = &pinned.previous {
            carry_final_weights(
                &previous.plan,
                &previous.public,
                &previous.secrets,
                &plan,
                &key,
                start,
                &mut public,
                &mut secrets,
            )
            .map_err(|e| CliError::input(format!("carrying W_T of the previous segment: {e}")))?;
        }
        public.dataset = dataset.map(|(commitment, _)| DatasetStatement {
            digest: commitment.digest().to_vec(),
            examples: commitment.header.examples,
            sampling_seed: seed,
        });
        let link = dataset.map(|(commitment, secrets)| DatasetProverInput { commitment, secrets });
        timed(&mut phases, "statement commitments", started);
        spinner.finish_and_clear();

        let template = format!("proving ({}) {{bar:40}} {{pos}}/{{len}} phases  {{msg}}", mode.label());
        let proof_bar = sub_bar(plan.relations.len() as u64 + 2, &template, show_progress, chain);
        let (body, prover_phases) = proof::prove_on(
            provers.ranks.as_deref_mut(),
            mode,
            &plan,
            &key,
            &tables,
            &public,
            &secrets,
            link.as_ref(),
            &mut rng,
            |phase| {
                proof_bar.inc(1);
                proof_bar.set_message(phase.phase.clone());
            },
        )
        .map_err(|e| CliError::input(e.to_string()))?;
        proof_bar.finish_and_clear();
        phases.extend(prover_phases);

        // W_0 drawn from a seed and public: the statement names the seed and the verifier regenerates it.
        let initial_seed =
            inputs.initial_seed.filter(|_| visibility.public_initial_weights && pinned.previous.is_none());
        let file = ProofFile {
            spec: inputs.spec.clone(),
            steps,
            visibility,
            initial_seed,
            initial_weights,
            plan_digest: plan.digest(),
            public,
            body,
        };
        let proof_bytes = file.to_bytes().len();
        proofs.push(ModeProof { mode, file, phases, proof_bytes, secrets });
    }
    Ok(ProvingRuns { plan, training, key, setup, proofs })
}

/// Commitments published before the run that its statement uses: the dataset the batches are drawn
/// from, the initial weights' commitment; for a later segment of a chain, the previous segment whose
/// W_T (values, commitment and blinds) it starts from.
#[derive(Default)]
pub struct Pinned {
    pub dataset: Option<(DatasetCommitment, DatasetSecrets)>,
    pub initial_weights: Option<(InitialWeightsCommitment, InitialWeightsSecrets)>,
    pub previous: Option<PreviousSegment>,
    /// The bars of a chain, under which a segment's own bars are shown.
    pub chain_progress: Option<ChainProgress>,
}

/// The segment before this one in a chain (`docs/chains.md`).
pub struct PreviousSegment {
    pub plan: Plan,
    pub public: proof::PublicInputs,
    pub secrets: proof::StatementSecrets,
    /// Its W_T: this segment's W_0.
    pub weights: FixedWeights,
    /// The chain's steps up to the end of it: this segment's `steps_before`.
    pub steps_through: u64,
}

/// A chain's progress: its bars (segments, the chain's steps) and where segment bars go.
pub struct ChainProgress {
    pub multi: MultiProgress,
    pub steps: ProgressBar,
}

/// Verifies a decoded proof file against its plan (and the dataset its statement names, when given);
/// returns the seconds taken.
pub fn verify_file(
    file: &ProofFile,
    plan: &Plan,
    key: Option<&CommitmentKey>,
    dataset: Option<&DatasetCommitment>,
) -> (Result<(), String>, f64) {
    let started = Instant::now();
    // `verify_with_dataset` checks the layouts and the public inputs' ranges first.
    let owned;
    let key = match key {
        Some(k) if k.max_log_cols() == key_log_cols(plan) => k,
        _ => {
            owned = CommitmentKey::cached(key_log_cols(plan));
            &owned
        }
    };
    let result = proof::verify_with_dataset(plan, key, &file.public, &file.body, dataset).map_err(|e| e.to_string());
    (result, started.elapsed().as_secs_f64())
}
