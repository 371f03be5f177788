//! `zkdl weights open PROOF --secrets S --weights W.safetensors --out OPENING`: show an auditor that a
//! weights file is exactly the model the proof's C_WT commits to.
//!
//! The opening is the blinds of C_WT's row commitments, taken from the run's secrets file and named by
//! the SHA-256 of the C_WT they open; `zkdl verify PROOF --final-weights W --opening OPENING`
//! recomputes every row commitment from W and the blinds (`zkdl_runtime::statement`). Before writing
//! it, this command checks that W really opens C_WT, so a wrong weights file or secrets file is an
//! error here, not a surprise for the auditor.

use super::options::RunOptions;
use super::CliError;
use clap::{Args, Subcommand};
use std::path::Path;
use std::path::PathBuf;
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::files::write_atomically;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::key_log_cols;
use zkdl_runtime::statement::{
    check_final_weights, write_secret_file, FinalWeightsBlinds, InitialWeightsCommitment, InitialWeightsSecrets,
    OPENING_MAGIC, SECRETS_MAGIC,
};
use zkdl_runtime::training::weights::FixedWeights;

#[derive(Args, Debug)]
pub struct WeightsArgs {
    #[command(subcommand)]
    pub command: WeightsCommand,
}

#[derive(Subcommand, Debug)]
pub enum WeightsCommand {
    /// Open a proof's final-weights commitment C_WT to a weights file, for an auditor.
    Open(OpenArgs),
    /// Commit initial weights before training (NAME.zkdw, and NAME.zkdw.secrets for the prover), for
    /// `zkdl prove --weights-in W --initial-weights NAME.zkdw` and `zkdl verify --initial-weights`.
    Commit(CommitArgs),
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// The weights (safetensors: `zkdl train --weights-out`, or exported from PyTorch).
    pub weights: PathBuf,
    /// The network they belong to.
    #[arg(long, value_name = "digits|paper|FILE")]
    pub network: Option<String>,
    /// The public commitment to write; the secrets go to `<OUT>.secrets`.
    #[arg(long, value_name = "NAME.zkdw")]
    pub out: PathBuf,
    /// Replace an existing commitment and its secrets file.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    /// The proof file.
    pub proof: PathBuf,
    /// The run's secrets file (`zkdl prove` writes `<PROOF>.secrets`).
    #[arg(long, value_name = "FILE")]
    pub secrets: PathBuf,
    /// The final weights (safetensors, `zkdl prove --weights-out`).
    #[arg(long, value_name = "W.safetensors")]
    pub weights: PathBuf,
    /// Where to write the opening.
    #[arg(long, value_name = "OPENING")]
    pub out: PathBuf,
}

pub fn run(args: WeightsArgs) -> Result<(), CliError> {
    match args.command {
        WeightsCommand::Open(open) => run_open(open),
        WeightsCommand::Commit(commit) => run_commit(commit),
    }
}

fn run_commit(args: CommitArgs) -> Result<(), CliError> {
    let secrets_out = super::data::secrets_path(&args.out);
    super::options::check_outputs(&[("--out", Some(&args.out)), ("its secrets file", Some(&secrets_out))])?;
    for path in [&args.out, &secrets_out] {
        if path.exists() && !args.replace {
            return Err(CliError::input(format!(
                "{} exists: a published commitment and its secrets are never replaced silently; choose another \
                 --out, or pass --replace",
                path.display()
            )));
        }
    }
    let spec = super::options::RunOptions { network: args.network.clone(), ..RunOptions::preset("digits", 1) }
        .network_spec()?;
    let weights = FixedWeights::load(&args.weights, &spec)
        .map_err(|e| CliError::input(format!("{e} (network {})", spec.name)))?;
    let plan = zkdl_compiler::compile(&spec, zkdl_compiler::CompileOptions::steps(1))
        .map_err(|e| CliError::input(format!("network {}: {e}", spec.name)))?;
    let key = CommitmentKey::cached(key_log_cols(&plan));
    let (commitment, secrets) = InitialWeightsCommitment::commit(&plan, &key, &weights, &mut rand::rngs::OsRng)
        .map_err(|e| CliError::input(e.to_string()))?;
    write_secret_file(&secrets_out, &secrets.to_bytes(), args.replace)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", secrets_out.display())))?;
    write_atomically(&args.out, &commitment.to_bytes())
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", args.out.display())))?;
    let digest: String = commitment.digest().iter().map(|b| format!("{b:02x}")).collect();
    say!(
        "committed the initial weights of {} ({} parameters) from {}: {} (publish it), sha256 {digest}",
        spec.name,
        spec.parameter_count(),
        args.weights.display(),
        args.out.display()
    );
    say!("secrets {} (keep them; the prover needs them)", secrets_out.display());
    Ok(())
}

/// Reads an initial-weights commitment and its secrets file (`<NAME.zkdw>.secrets`).
pub fn read_with_secrets(path: &Path) -> Result<(InitialWeightsCommitment, InitialWeightsSecrets), CliError> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())));
    let commitment = InitialWeightsCommitment::from_bytes(&read(path)?)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let secrets_path = super::data::secrets_path(path);
    let secrets = InitialWeightsSecrets::from_bytes(&read(&secrets_path)?)
        .map_err(|e| CliError::input(format!("{}: {e}", secrets_path.display())))?;
    Ok((commitment, secrets))
}

fn run_open(args: OpenArgs) -> Result<(), CliError> {
    super::options::check_output("--out", &args.out)?;
    // A chain's final weights are its last segment's C_WT.
    let proof =
        if super::chain::is_chain(&args.proof) { super::chain::last_segment(&args.proof)? } else { args.proof.clone() };
    let (file, plan) = ProofFile::read(&proof).map_err(|e| CliError::input(format!("{}: {e}", proof.display())))?;
    let bytes = std::fs::read(&args.secrets)
        .map_err(|e| CliError::input(format!("--secrets {}: {e}", args.secrets.display())))?;
    let blinds = FinalWeightsBlinds::from_bytes(&bytes, SECRETS_MAGIC, "secrets file")
        .map_err(|e| CliError::input(format!("--secrets {}: {e}", args.secrets.display())))?;
    let weights = FixedWeights::load(&args.weights, &file.spec)
        .map_err(|e| CliError::input(format!("--weights: {e} (the proof is about network {})", file.spec.name)))?;
    let key = CommitmentKey::cached(key_log_cols(&plan));
    check_final_weights(&plan, &file.public, &key, &weights, &blinds).map_err(|e| {
        CliError::input(format!(
            "{} does not open the final weights of {} with the secrets of {}: {e}",
            args.weights.display(),
            args.proof.display(),
            args.secrets.display()
        ))
    })?;
    write_atomically(&args.out, &blinds.to_bytes(OPENING_MAGIC))
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", args.out.display())))?;
    say!(
        "opening {}: {} is what C_WT of {} commits to ({} parameters); check it with\n  zkdl verify {} --final-weights {} --opening {}",
        args.out.display(),
        args.weights.display(),
        args.proof.display(),
        file.spec.parameter_count(),
        args.proof.display(),
        args.weights.display(),
        args.out.display()
    );
    Ok(())
}
