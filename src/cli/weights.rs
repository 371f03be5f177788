//! `zkdl weights open PROOF --secrets S --weights W.safetensors --out OPENING`: show an auditor that a
//! weights file is exactly the model the proof's C_WT commits to.
//!
//! The opening is the blinds of C_WT's row commitments, taken from the run's secrets file and named by
//! the SHA-256 of the C_WT they open; `zkdl verify PROOF --final-weights W --opening OPENING`
//! recomputes every row commitment from W and the blinds (`zkdl_runtime::statement`). Before writing
//! it, this command checks that W really opens C_WT, so a wrong weights file or secrets file is an
//! error here, not a surprise for the auditor.

use super::CliError;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use zkdl_runtime::commitment::CommitmentKey;
use zkdl_runtime::files::write_atomically;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::key_log_cols;
use zkdl_runtime::statement::{check_final_weights, FinalWeightsBlinds, OPENING_MAGIC, SECRETS_MAGIC};
use zkdl_runtime::weights::FixedWeights;

#[derive(Args, Debug)]
pub struct WeightsArgs {
    #[command(subcommand)]
    pub command: WeightsCommand,
}

#[derive(Subcommand, Debug)]
pub enum WeightsCommand {
    /// Open a proof's final-weights commitment C_WT to a weights file, for an auditor.
    Open(OpenArgs),
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
    }
}

fn run_open(args: OpenArgs) -> Result<(), CliError> {
    let (file, plan) =
        ProofFile::read(&args.proof).map_err(|e| CliError::input(format!("{}: {e}", args.proof.display())))?;
    let bytes = std::fs::read(&args.secrets)
        .map_err(|e| CliError::input(format!("--secrets {}: {e}", args.secrets.display())))?;
    let blinds = FinalWeightsBlinds::from_bytes(&bytes, SECRETS_MAGIC, "secrets file")
        .map_err(|e| CliError::input(format!("--secrets {}: {e}", args.secrets.display())))?;
    let weights = FixedWeights::load(&args.weights, &file.spec)
        .map_err(|e| CliError::input(format!("--weights: {e} (the proof is about network {})", file.spec.name)))?;
    let key = CommitmentKey::new(key_log_cols(&plan));
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
