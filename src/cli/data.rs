//! `zkdl data commit DATA --out NAME.zkdd` and `zkdl data show NAME.zkdd`: a data owner commits a
//! training set once, before anyone trains on it, and publishes the commitment; a proof of training
//! made with `zkdl prove --dataset NAME.zkdd` shows that every batch is rows of it, drawn by the
//! statement's sampling rule (`zkdl_runtime::statement::dataset`, `docs/statement.md`).
//!
//! The commitment is public (`NAME.zkdd`); its blinds go to `NAME.zkdd.secrets` (mode 0600), which
//! the prover needs. Neither file is ever replaced unless `--replace` says so.

use super::options::{DataFileOptions, RunOptions};
use super::CliError;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::OsRng;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::files::hex;
use zkdl_runtime::statement::dataset::{dataset_log_cols, DatasetCommitment, DatasetSecrets};
use zkdl_runtime::statement::write_secret_file;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Commit a training set (the public NAME.zkdd, and NAME.zkdd.secrets for the prover).
    Commit(CommitArgs),
    /// Print a dataset commitment: its digest, example count and widths.
    Show(ShowArgs),
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// `digits`, `digits-rgb32`, or a data file (CSV, IDX, npy, CIFAR-10), as `train --data` takes it.
    #[arg(value_name = "DATA")]
    pub data: String,
    /// The network the data will train (its input and output widths and R fix the fixed-point form).
    #[arg(long, value_name = "digits|paper|FILE")]
    pub network: Option<String>,
    #[command(flatten)]
    pub file: DataFileOptions,
    /// Fraction of the examples held out for testing (not committed).
    #[arg(long, default_value_t = 0.2, value_name = "F")]
    pub test_fraction: f64,
    /// The split is drawn with seed + 1, as `zkdl train --seed` draws it.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The public commitment to write; the secrets go to `<OUT>.secrets`.
    #[arg(long, value_name = "NAME.zkdd")]
    pub out: PathBuf,
    /// Replace an existing commitment and its secrets file.
    #[arg(long)]
    pub replace: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The dataset commitment.
    pub dataset: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DataArgs) -> Result<(), CliError> {
    match args.command {
        DataCommand::Commit(commit) => run_commit(commit),
        DataCommand::Show(show) => run_show(show),
    }
}

/// The secrets file beside a public file (a dataset, a weights commitment, a proof): `<FILE>.secrets`.
pub fn secrets_path(dataset: &Path) -> PathBuf {
    let mut name = dataset.as_os_str().to_owned();
    name.push(".secrets");
    PathBuf::from(name)
}

fn run_commit(args: CommitArgs) -> Result<(), CliError> {
    let secrets_out = secrets_path(&args.out);
    super::options::check_outputs(&[("--out", Some(&args.out)), ("its secrets file", Some(&secrets_out))])?;
    for path in [&args.out, &secrets_out] {
        if path.exists() && !args.replace {
            return Err(CliError::input(format!(
                "{} exists: a published dataset commitment and its secrets are never replaced silently; choose \
                 another --out, or pass --replace",
                path.display()
            )));
        }
    }
    let options = RunOptions {
        network: args.network.clone(),
        data: Some(args.data.clone()),
        file: args.file.clone(),
        test_fraction: args.test_fraction,
        seed: args.seed,
        weights_in: None,
        init: Default::default(),
        lr_shift: None,
        lr_schedule: None,
        export_split: None,
    };
    let spec = options.network_spec()?;
    let data = options.dataset(&spec)?;
    let widths = spec.widths();
    let split_seed = args.seed.wrapping_add(1);
    let (train, _) = data.split(args.test_fraction, split_seed).map_err(|e| CliError::input(e.to_string()))?;
    train
        .check_fits(widths[0] as usize, *widths.last().unwrap_or(&0) as usize)
        .map_err(|e| CliError::input(format!("{e} (network {})", spec.name)))?;

    let started = Instant::now();
    let outputs = *widths.last().unwrap_or(&0);
    let (x_cols, y_cols) = dataset_log_cols(spec.input, outputs);
    let key = CommitmentKey::cached(x_cols.max(y_cols));
    let rows = 1u64 << zkdl_compiler::spec::ceil_log2(train.len() as u64);
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(2 * rows) };
    bar.set_style(
        ProgressStyle::with_template("committing {bar:40} {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (commitment, secrets) = DatasetCommitment::commit(
        &key,
        &spec,
        &train,
        &data.name,
        args.test_fraction,
        split_seed,
        &mut OsRng,
        &|done| bar.set_position(done as u64),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    // The secrets first: a commitment whose secrets could not be written is of no use to anyone.
    write_secret_file(&secrets_out, &secrets.to_bytes(), args.replace)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", secrets_out.display())))?;
    zkdl_runtime::files::write_atomically(&args.out, &commitment.to_bytes())
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", args.out.display())))?;
    if args.json {
        let doc = json!({
            "dataset": args.out,
            "secrets": secrets_out,
            "digest": hex(&commitment.digest()),
            "header": commitment.header,
            "seconds": seconds,
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!(
            "committed {} training examples of {} ({} features, {} targets at scale 2^{}) in {seconds:.2} s",
            train.len(),
            data.name,
            spec.input,
            outputs,
            spec.fixed_point.scale_bits
        );
        say!("dataset commitment {} (publish it): sha256 {}", args.out.display(), hex(&commitment.digest()));
        say!("secrets {} (keep them; the prover needs them)", secrets_out.display());
    }
    Ok(())
}

fn run_show(args: ShowArgs) -> Result<(), CliError> {
    let commitment = DatasetCommitment::read(&args.dataset).map_err(|e| CliError::input(e.to_string()))?;
    let h = &commitment.header;
    if args.json {
        let doc = json!({ "dataset": args.dataset, "digest": hex(&commitment.digest()), "header": h });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!("dataset commitment {}", args.dataset.display());
        say!("  sha256     {}", hex(&commitment.digest()));
        say!(
            "  source     {} (training split: test fraction {}, split seed {})",
            h.source,
            h.test_fraction,
            h.split_seed
        );
        say!("  examples   {}", h.examples);
        say!(
            "  widths     {} features, {} targets ({} classes), fixed point at scale 2^{}",
            h.features,
            h.outputs,
            h.classes,
            h.scale_bits
        );
        say!(
            "  rows       {} + {} row commitments of 2^{} and 2^{} columns",
            commitment.features.rows.len(),
            commitment.targets.rows.len(),
            commitment.features.log_cols,
            commitment.targets.log_cols
        );
    }
    Ok(())
}

/// Reads a dataset commitment and its secrets file (default `<NAME.zkdd>.secrets`).
pub fn read_with_secrets(
    dataset: &Path,
    secrets: Option<&Path>,
) -> Result<(DatasetCommitment, DatasetSecrets), CliError> {
    let commitment = DatasetCommitment::read(dataset).map_err(|e| CliError::input(format!("--dataset: {e}")))?;
    let path = secrets.map(Path::to_path_buf).unwrap_or_else(|| secrets_path(dataset));
    let bytes = std::fs::read(&path).map_err(|e| {
        CliError::input(format!(
            "the dataset's secrets {}: {e} (the data owner's `zkdl data commit` wrote them)",
            path.display()
        ))
    })?;
    let secrets =
        DatasetSecrets::from_bytes(&bytes).map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    Ok((commitment, secrets))
}
