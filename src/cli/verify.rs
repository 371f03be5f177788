//! `zkdl verify PROOF`: check a proof file alone. Exit codes: 0 valid, 1 invalid, 2 bad input.

use super::pipeline::verify_file;
use super::CliError;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::zk::Mode;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The proof file written by `zkdl prove`.
    pub proof: PathBuf,
    /// Require the proof to be about this network (a .toml or .json network file).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The warning a proof that is not zero-knowledge gets, on its own line.
pub const NOT_ZERO_KNOWLEDGE_WARNING: &str =
    "warning: this proof is NOT zero-knowledge: it reveals linear functions of the data and \
     weights (it was made with --no-zero-knowledge or Mode::Clear)";

fn digest_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run(args: VerifyArgs) -> Result<(), CliError> {
    let (file, plan) =
        ProofFile::read(&args.proof).map_err(|e| CliError::input(format!("{}: {e}", args.proof.display())))?;
    if let Some(path) = &args.network {
        let expected = super::options::load_network(&path.display().to_string())?;
        if expected != file.spec {
            return Err(CliError {
                message: format!(
                    "{} proves network {}, not the network of {}",
                    args.proof.display(),
                    file.spec.name,
                    path.display()
                ),
                code: 1,
            });
        }
    }
    let (result, seconds) = verify_file(&file, &plan, None);
    let commitments: Vec<(String, String)> = file
        .public
        .commitments
        .iter()
        .map(|(id, c)| {
            let bytes = zkdl_runtime::serialization::encode(c);
            let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
            (plan.tensors[*id as usize].name(), digest_hex(&digest[..8]))
        })
        .collect();
    let p = &plan.params;
    let mode = file.body.mode();
    let warning = (mode == Mode::Clear).then_some(NOT_ZERO_KNOWLEDGE_WARNING);
    if args.json {
        let doc = json!({
            "proof": args.proof,
            "network": file.spec,
            "steps": file.steps,
            "mode": mode.label(),
            "zero_knowledge": mode.is_zero_knowledge(),
            "warning": warning,
            "learning_rate_shift": p.update_shift,
            "visibility": { "public_data": file.visibility.public_data, "public_initial_weights": file.visibility.public_initial_weights },
            "plan_digest": plan.digest_hex(),
            "commitments": commitments.iter().map(|(n, d)| json!({"tensor": n, "sha256_prefix": d})).collect::<Vec<_>>(),
            "valid": result.is_ok(),
            "error": result.as_ref().err(),
            "seconds": seconds,
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
        if let Some(warning) = warning {
            eprintln!("{warning}");
        }
    } else {
        say!(
            "proof {}: {} steps of SGD of network {} ({} parameters, batch {})",
            args.proof.display(),
            file.steps,
            file.spec.name,
            file.spec.parameter_count(),
            file.spec.batch
        );
        say!(
            "fixed point R = {}, Q = {}, learning rate 2^-{} on the summed gradient (2^-{} on the mean)",
            p.scale_bits,
            p.range_bits,
            p.update_shift,
            file.spec.optimizer.lr_shift()
        );
        say!(
            "data {}, initial weights {}; plan digest {}",
            if file.visibility.public_data { "public" } else { "committed" },
            if file.visibility.public_initial_weights { "public" } else { "committed" },
            plan.digest_hex()
        );
        say!("proof mode: {}", mode.label());
        if let Some(warning) = warning {
            say!("{warning}");
        }
        for (name, digest) in &commitments {
            say!("  commitment {name:<20} sha256 {digest}…");
        }
        match &result {
            Ok(()) => say!("valid ({seconds:.3} s)"),
            Err(e) => say!("INVALID: {e}"),
        }
    }
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(CliError { message: format!("the proof is invalid: {e}"), code: 1 }),
    }
}
