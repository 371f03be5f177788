//! `zkdl prove`: train T steps, prove them, write the proof file, and check it as a verifier would.

use super::options::{BackendOption, RunOptions};
use super::pipeline::{prove_training, verify_file, Provers};
use super::CliError;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use zkdl_compiler::Visibility;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::statement::{write_secret_file, FinalWeightsBlinds, SECRETS_MAGIC};

#[derive(Args, Debug)]
pub struct ProveArgs {
    #[command(flatten)]
    pub run: RunOptions,
    #[command(flatten)]
    pub backend: BackendOption,
    /// Steps of SGD to train and prove (one batch each).
    #[arg(long, default_value_t = 16)]
    pub steps: u64,
    /// Train and prove E epochs instead (an epoch is ⌈training examples / batch⌉ steps).
    #[arg(long, value_name = "E", conflicts_with = "steps")]
    pub epochs: Option<u64>,
    /// Prove the run as a chain of consecutive segments of K steps (the last may be shorter), each a
    /// proof whose C_W0 is the previous one's C_WT, written to the directory `<network>.chain` (or
    /// --out) with a manifest (`docs/chains.md`). Runs of any length; `zkdl verify DIR` checks every
    /// link.
    #[arg(long, value_name = "K")]
    pub segment_steps: Option<u32>,
    /// Where to write the proof (default: `<network>.proof` in the current directory; a chain's
    /// directory, `<network>.chain`, with --segment-steps).
    #[arg(long, value_name = "PROOF")]
    pub out: Option<PathBuf>,
    /// Give the training data (X, Y) to the verifier in the clear instead of committing to it.
    #[arg(long, conflicts_with = "dataset")]
    pub public_data: bool,
    /// Train on a committed dataset (`zkdl data commit`): the training set is its examples (from
    /// --data, split as the commitment records), batches are drawn by the public rule with seed
    /// --seed + 2, and the proof shows every batch is rows of the dataset so drawn.
    #[arg(long, value_name = "NAME.zkdd")]
    pub dataset: Option<PathBuf>,
    /// Start from initial weights committed before training (`zkdl weights commit`): the statement's
    /// C_W0 is that commitment. Needs --weights-in with those weights (and `<NAME.zkdw>.secrets`).
    #[arg(long, value_name = "NAME.zkdw", requires = "weights_in", conflicts_with = "public_initial_weights")]
    pub initial_weights: Option<PathBuf>,
    /// The dataset's secrets file (default: `<NAME.zkdd>.secrets`).
    #[arg(long, value_name = "FILE", requires = "dataset")]
    pub dataset_secrets: Option<PathBuf>,
    /// Give the initial weights W_0 to the verifier in the clear instead of committing to them. A fresh
    /// run (no --weights-in) always does: its W_0 is the He initialization of --seed, which the
    /// statement names and the verifier regenerates, so no weight travels in the proof.
    #[arg(long)]
    pub public_initial_weights: bool,
    /// Put the final weights W_T in the statement in the clear instead of committing to them (C_WT):
    /// anyone can check a model file against the proof with `zkdl verify --final-weights`, no opening
    /// needed, and no secrets file is written.
    #[arg(long)]
    pub public_final_weights: bool,
    /// Where to write the run's secrets: the blinds of the final-weights commitment C_WT, which
    /// `zkdl weights open` needs to show an auditor that a weights file is the trained model. Created
    /// private (mode 0600). Default: `<PROOF>.secrets`, replaced only together with its proof.
    #[arg(long, value_name = "FILE")]
    pub secrets_out: Option<PathBuf>,
    /// Replace an existing --secrets-out file (its blinds are lost: proofs made with them can no
    /// longer be opened).
    #[arg(long)]
    pub replace_secrets: bool,
    /// Also write the final weights W_T (safetensors).
    #[arg(long, value_name = "W.safetensors")]
    pub weights_out: Option<PathBuf>,
    /// Prove without zero-knowledge: values are sent in the clear, so the proof is smaller and faster
    /// to make and check but reveals linear functions of the data and weights. Only for measurement
    /// and debugging; the proof file says it is not zero-knowledge.
    #[arg(long)]
    pub no_zero_knowledge: bool,
    /// Skip checking the written proof.
    #[arg(long)]
    pub no_verify: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Prove on the processes of an MPI job: `mpirun -np N zkdl prove --distributed …` (N a power of
    /// two). Every process trains the same run; each commits its share of the rows and sums its share
    /// of every large sumcheck, and rank 0 writes the proof: the single-process proof, byte for byte
    /// (`docs/distributed.md`). Needs a zkdl built with `--features mpi`.
    #[arg(long, conflicts_with = "segment_steps")]
    pub distributed: bool,
    /// Draw the proof's blinds from a ChaCha20 stream seeded with N instead of the operating system:
    /// the same run and N give the same proof file byte for byte (how a distributed proof is compared
    /// with a single-process one). The blinds hide the data: never publish a proof made with a seed
    /// others could guess. Not for chains (--segment-steps): their segments draw their own blinds.
    #[arg(long, value_name = "N", conflicts_with = "segment_steps")]
    pub blinding_seed: Option<u64>,
}

/// The 32-byte ChaCha20 seed of `--blinding-seed N`: N's little-endian bytes, then zeros.
fn seed_bytes(n: u64) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&n.to_le_bytes());
    seed
}

/// The line that states a proof's mode: `mode: zero-knowledge`, or `mode: NOT zero-knowledge (…)`.
pub fn mode_line(mode: Mode) -> String {
    match mode {
        Mode::ZeroKnowledge => format!("mode: {}", mode.label()),
        Mode::Clear => format!(
            "mode: {} (--no-zero-knowledge: the proof reveals linear functions of data and weights)",
            mode.label()
        ),
    }
}

pub fn run(args: ProveArgs) -> Result<(), CliError> {
    if args.distributed {
        return run_distributed(args);
    }
    let blinding_seed = args.blinding_seed.map(seed_bytes);
    run_on(args, Provers { ranks: None, blinding_seed })
}

/// `zkdl prove --distributed`: MPI's processes prove together; rank 0 prints and writes. An error on
/// any rank aborts the job (the others would wait in a collective operation for ever).
#[cfg(feature = "mpi")]
fn run_distributed(args: ProveArgs) -> Result<(), CliError> {
    use rand::Rng;
    use zkdl_runtime::distributed::mpi::MpiRanks;
    use zkdl_runtime::distributed::Communicator;

    let mut ranks = MpiRanks::init().map_err(|e| CliError::input(format!("--distributed: {e}")))?;
    let (rank, size) = (ranks.rank(), ranks.size());
    if rank != 0 {
        super::set_quiet();
    }
    // One random stream on every rank: the seed given, or rank 0's draw from the OS.
    let seed = match args.blinding_seed {
        Some(n) => seed_bytes(n),
        None => {
            let mine: [u8; 32] = rand::rngs::OsRng.gen();
            let all = ranks.all_gather_bytes(&mine);
            all[0].as_slice().try_into().map_err(|_| CliError::input("rank 0 sent no seed".into()))?
        }
    };
    let result = run_on(args, Provers { ranks: Some(&mut ranks), blinding_seed: Some(seed) });
    if let Err(e) = &result {
        if size > 1 {
            eprintln!("zkdl (rank {rank} of {size}): {}", e.message);
            ranks.abort(i32::from(e.code));
        }
    }
    result
}

#[cfg(not(feature = "mpi"))]
fn run_distributed(_: ProveArgs) -> Result<(), CliError> {
    Err(CliError::input(
        "--distributed: this zkdl was built without MPI; build it with `cargo build --release --features mpi` \
         (OpenMPI or MPICH and libclang installed) and run it under `mpirun -np N`"
            .into(),
    ))
}

/// The terms b's claims split into in its opening: one committed factor of the column sumcheck each
/// (what the cluster model of `zkdl inspect --ranks` reads).
fn b_opening_terms(body: &zkdl_runtime::proof::ProofBody) -> usize {
    let sumcheck = &body.bit_opening.column_sumcheck;
    sumcheck.hidden.as_ref().map_or(sumcheck.final_evaluations.len(), |h| h.final_evaluations.len())
}

/// The ranks' traffic, gathered on every rank: `(rank, bytes sent, collective operations)`.
fn gathered_traffic(provers: &mut Provers) -> Vec<(usize, u64, u64)> {
    let Some(ranks) = provers.ranks.as_deref_mut() else { return Vec::new() };
    let mine = ranks.traffic();
    let mut words = mine.bytes_sent.to_le_bytes().to_vec();
    words.extend(mine.collectives.to_le_bytes());
    ranks
        .all_gather_bytes(&words)
        .iter()
        .enumerate()
        .map(|(rank, b)| {
            let word =
                |i: usize| b.get(8 * i..8 * i + 8).map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
            (rank, word(0), word(1))
        })
        .collect()
}

fn run_on(args: ProveArgs, mut provers: Provers) -> Result<(), CliError> {
    let root = provers.ranks.as_ref().is_none_or(|r| r.rank() == 0);
    super::options::check_outputs(&[
        ("--weights-out", args.weights_out.as_deref()),
        ("--secrets-out", args.secrets_out.as_deref()),
    ])?;
    if let Some(out) = &args.out {
        match args.segment_steps {
            Some(_) => super::options::check_output_dir("--out", out)?,
            None => super::options::check_output("--out", out)?,
        }
    }
    let dataset = match &args.dataset {
        Some(path) => Some(super::data::read_with_secrets(path, args.dataset_secrets.as_deref())?),
        None => None,
    };
    let initial_weights = match &args.initial_weights {
        Some(path) => Some(super::weights::read_with_secrets(path)?),
        None => None,
    };
    let split = dataset.as_ref().map(|(c, _)| (c.header.test_fraction, c.header.split_seed));
    let inputs = args.run.inputs_with_split(split)?;
    if let (Some((commitment, secrets)), Some(path)) = (&dataset, &args.dataset) {
        // The dataset's rows need the generators of its widths, whatever T.
        let plan = zkdl_compiler::compile(&inputs.spec, zkdl_compiler::CompileOptions::steps(1))
            .map_err(|e| CliError::input(format!("network {}: {e}", inputs.spec.name)))?;
        let key = zkdl_runtime::crypto::commitment::CommitmentKey::cached(zkdl_runtime::proof::key_log_cols(&plan));
        commitment
            .check_training_set(&key, &inputs.spec, &inputs.train, secrets)
            .map_err(|e| CliError::input(format!("--dataset {}: {e}", path.display())))?;
    }
    let mode = if args.no_zero_knowledge { Mode::Clear } else { Mode::ZeroKnowledge };
    let backend = args.backend.install()?;
    let visibility = Visibility {
        public_data: args.public_data,
        public_initial_weights: args.public_initial_weights || inputs.initial_seed.is_some(),
        public_final_weights: args.public_final_weights,
    };
    let total_steps = match args.epochs {
        Some(epochs) => {
            let per_epoch = (inputs.train.len() as u64).div_ceil(inputs.spec.batch.max(1) as u64);
            epochs
                .checked_mul(per_epoch)
                .ok_or_else(|| CliError::input(format!("--epochs {epochs}: too many steps")))?
        }
        None => args.steps,
    };
    if total_steps == 0 {
        return Err(CliError::input("--steps/--epochs: nothing to prove (0 steps)".into()));
    }
    if let Some(segment_steps) = args.segment_steps {
        let pinned = super::pipeline::Pinned { dataset, initial_weights, ..Default::default() };
        return super::chain::prove(&args, &inputs, pinned, total_steps, segment_steps, visibility, mode);
    }
    let steps = u32::try_from(total_steps).map_err(|_| {
        CliError::input(format!("{total_steps} steps in one proof: prove them as a chain (--segment-steps K)"))
    })?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.proof", inputs.spec.name.to_lowercase())));
    super::options::check_output("--out", &out)?;
    let (secrets_path, replace_secrets) = match &args.secrets_out {
        Some(path) => (path.clone(), args.replace_secrets),
        // The default companion file goes with its proof: replaced when the proof is.
        None => (super::data::secrets_path(&out), args.replace_secrets || out.exists()),
    };
    if secrets_path.exists() && !replace_secrets && !args.public_final_weights {
        return Err(CliError::input(format!(
            "{} exists and holds the secrets of another run: choose another --secrets-out, or pass \
             --replace-secrets to discard them",
            secrets_path.display()
        )));
    }
    if !args.json {
        if let Some(ranks) = &provers.ranks {
            say!("distributed over {} MPI processes (ranks)", ranks.size());
        }
        say!(
            "proving {} steps of {} ({} parameters, batch {}) on {} ({} training examples)",
            steps,
            inputs.spec.name,
            inputs.spec.parameter_count(),
            inputs.spec.batch,
            inputs.data.name,
            inputs.train.len()
        );
        say!("{}", mode_line(mode));
        let seed = inputs.initial_seed.filter(|_| visibility.public_initial_weights);
        let dataset_statement = dataset.as_ref().map(|(c, _)| zkdl_runtime::statement::dataset::DatasetStatement {
            digest: c.digest().to_vec(),
            examples: c.header.examples,
            sampling_seed: args.run.seed.wrapping_add(2),
        });
        say!("statement: {}", super::verify::statement_summary(visibility, seed, dataset_statement.as_ref()));
    }
    let pinned = super::pipeline::Pinned { dataset, initial_weights, ..Default::default() };
    let dataset = &pinned.dataset;
    let show = !args.json && root;
    let proving =
        prove_training(&inputs, steps, visibility, args.run.seed.wrapping_add(2), show, mode, &pinned, &mut provers)?;
    let traffic = gathered_traffic(&mut provers);
    if !root {
        return Ok(());
    }
    proving.file.write(&out).map_err(|e| CliError::input(format!("cannot write {}: {e}", out.display())))?;
    // Public final weights have no commitment, so no blinds to keep.
    let blinds = FinalWeightsBlinds::from_secrets(&proving.plan, &proving.file.public, &proving.secrets);
    let replaced = blinds.is_some() && secrets_path.exists();
    if let Some(blinds) = &blinds {
        write_secret_file(&secrets_path, &blinds.to_bytes(SECRETS_MAGIC), replace_secrets)
            .map_err(|e| CliError::input(format!("cannot write the secrets file {}: {e}", secrets_path.display())))?;
    }
    if let Some(path) = &args.weights_out {
        proving
            .training
            .weights
            .save_with_normalization(path, &inputs.spec, steps as u64, inputs.train.scaler.as_ref())
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    let verification = if args.no_verify {
        None
    } else {
        let (file, plan) = ProofFile::read(&out).map_err(|e| CliError::input(format!("{}: {e}", out.display())))?;
        Some(verify_file(&file, &plan, Some(&proving.key), dataset.as_ref().map(|(c, _)| c)))
    };
    let training = proving.phases.first().map_or(0.0, |p| p.seconds);
    let prover = proving.prover_seconds();
    let last = proving.training.epochs.last();
    let loss = proving.training.losses.last().copied().unwrap_or(f64::NAN);
    let accuracy = last.map_or(f64::NAN, |e| e.fixed.test_accuracy);
    if args.json {
        let doc = json!({
            "network": inputs.spec.name,
            "steps": steps,
            "mode": proving.mode.label(),
            "backend": backend,
            "zero_knowledge": proving.mode.is_zero_knowledge(),
            "visibility": { "public_data": visibility.public_data, "public_initial_weights": visibility.public_initial_weights, "public_final_weights": visibility.public_final_weights },
            "initial_weights_seed": proving.file.initial_seed.map(|s| s.seed),
            "initial_weights_init": proving.file.initial_seed.map(|s| s.init.name()),
            "proof": out,
            "secrets": blinds.as_ref().map(|_| &secrets_path),
            "proof_bytes": proving.proof_bytes,
            "plan_digest": proving.plan.digest_hex(),
            "normalization": inputs.train.scaler,
            "final_loss": loss,
            "test_accuracy": accuracy,
            "training_seconds": training,
            "prover_seconds": prover,
            "phases": proving.phases.iter().map(|p| json!({"phase": p.phase, "seconds": p.seconds})).collect::<Vec<_>>(),
            "verifier_seconds": verification.as_ref().map(|v| v.1),
            "valid": verification.as_ref().map(|v| v.0.is_ok()),
            "b_opening_terms": b_opening_terms(&proving.file.body),
            "ranks": traffic.iter().map(|(rank, bytes, ops)| json!({"rank": rank, "bytes_sent": bytes, "collectives": ops})).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!(
            "trained {} steps in {training:.2} s: last batch loss {loss:.4}, test accuracy {}",
            steps,
            super::percent(accuracy)
        );
        say!(
            "proved in {prover:.2} s ({:.3} s per step); proof {} ({} bytes), plan {}",
            prover / steps as f64,
            out.display(),
            proving.proof_bytes,
            &proving.plan.digest_hex()[..16]
        );
        for (rank, bytes, ops) in &traffic {
            say!("rank {rank}: sent {bytes} bytes in {ops} collective operations");
        }
        if blinds.is_some() {
            say!(
                "secrets (the blinds of C_WT, for `zkdl weights open`): {}{}",
                secrets_path.display(),
                if replaced { " (replaced the earlier run's)" } else { "" }
            );
        }
        if let Some((result, seconds)) = &verification {
            match result {
                Ok(()) => {
                    say!("verified in {seconds:.3} s ({:.1}% of the prover time): valid", 100.0 * seconds / prover)
                }
                Err(e) => say!("verification FAILED in {seconds:.3} s: {e}"),
            }
        }
    }
    match verification {
        Some((Err(e), _)) => Err(CliError { message: format!("the proof just written does not verify: {e}"), code: 1 }),
        _ => Ok(()),
    }
}
