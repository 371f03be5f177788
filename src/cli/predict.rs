//! `zkdl predict` and `zkdl evaluate`: a trained model applied to new data, prepared as its training
//! data was.
//!
//! The model is a weights file (`zkdl train/prove --weights-out`): its exact fixed-point tensors, the
//! network it was written for, and the normalization fitted on its training split (`normalization`
//! metadata, `zkdl_runtime::training::data::Scaler`). The data file is read raw (CSV or npy, with or without a
//! label column: a file with exactly the network's input width of columns has none), mapped through
//! that normalization — values past ±1.99 clipped and counted — and run through the same fixed-point
//! forward pass as training. `predict` writes one row per example: its index, the predicted class
//! (the largest output) and the outputs, as CSV (`--out FILE` or stdout) or JSON; `evaluate` needs
//! labels and reports accuracy and the mean MSE loss (½‖Z'^L − onehot‖², as training reports it).

use super::options::{check_output, load_network, parse, DataFileOptions};
use super::{percent, CliError};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use zkdl::runtime::training::data::{Dataset, LabelColumn, LoadOptions, Normalization, Scaler};
use zkdl::runtime::training::trainer::{argmax, Trainer};
use zkdl::runtime::training::weights::{FixedWeights, ModelFile};
use zkdl::NetworkSpec;

/// The model and the data of `predict` and `evaluate`.
#[derive(Args, Debug)]
pub struct ModelDataArgs {
    /// The model: a weights file written by `zkdl train --weights-out` or `zkdl prove --weights-out`
    /// (or exported from PyTorch, with --network and --normalize).
    #[arg(long, value_name = "W.safetensors")]
    pub weights: PathBuf,
    /// The examples: a CSV or npy file of raw feature values, as the training file had them (with or
    /// without a label column), or `digits` / `digits-rgb32`.
    #[arg(long, value_name = "FILE")]
    pub data: String,
    /// The network, when the weights file does not name it (a file exported from PyTorch).
    #[arg(long, value_name = "digits|paper|FILE")]
    pub network: Option<String>,
    #[command(flatten)]
    pub file: DataFileOptions,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelDataArgs,
    /// Write the predictions to this file (CSV, or JSON with --json) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// JSON instead of CSV.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub model: ModelDataArgs,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A model and data ready for the forward pass.
struct Prepared {
    spec: NetworkSpec,
    weights: FixedWeights,
    data: Dataset,
    normalization: Scaler,
    /// Whether the data file had a label column.
    labelled: bool,
}

/// Reads the model and the data, and normalizes the data as the model's training data was.
fn prepare(args: &ModelDataArgs) -> Result<Prepared, CliError> {
    let weights_path = &args.weights;
    let model = ModelFile::read(weights_path).map_err(|e| CliError::input(format!("--weights: {e}")))?;
    let spec = match (&args.network, model.spec) {
        (Some(name), Some(recorded)) => {
            let spec = load_network(name)?;
            let differences = spec.differences(&recorded, "in --network", "in the weights file");
            if !differences.is_empty() {
                return Err(CliError::input(format!(
                    "--network {name} is not the network of {}: {}",
                    weights_path.display(),
                    differences.join("; ")
                )));
            }
            spec
        }
        (Some(name), None) => load_network(name)?,
        (None, Some(recorded)) => recorded,
        (None, None) => {
            return Err(CliError::input(format!(
                "{} does not name its network (a file exported from PyTorch?): pass --network",
                weights_path.display()
            )))
        }
    };
    let weights = FixedWeights::load(weights_path, &spec)
        .map_err(|e| CliError::input(format!("--weights: {e} (network {})", spec.name)))?;
    let normalization = match (args.file.normalize.as_deref(), model.normalization) {
        (Some(text), _) => match text.parse::<Normalization>() {
            Ok(Normalization::None) => Scaler::None,
            Ok(Normalization::Divide(divisor)) => Scaler::Divide { divisor },
            Ok(Normalization::MinMax) => {
                return Err(CliError::input(
                    "--normalize minmax: min–max statistics come from the training split, which the weights file \
                     records (zkdl train --weights-out); new data is never normalized by its own statistics"
                        .into(),
                ))
            }
            Err(e) => return Err(CliError::input(format!("--normalize {text}: {e}"))),
        },
        (None, Some(recorded)) => recorded,
        (None, None) => {
            return Err(CliError::input(format!(
                "{} records no normalization (written before zkdl recorded it, or exported from PyTorch): pass \
                 --normalize none|divide:D as the training data was prepared",
                weights_path.display()
            )))
        }
    };
    let input = spec.input as usize;
    let (data, labelled) = match args.data.as_str() {
        "digits" | "digits-rgb32" => {
            let data = if args.data == "digits" { Dataset::digits() } else { Dataset::digits_rgb32() };
            if data.scaler.as_ref() != Some(&normalization) {
                return Err(CliError::input(format!(
                    "--data {}: the embedded set is normalized by {}, the model's data by {}",
                    args.data,
                    data.scaler.as_ref().map_or("nothing".into(), Scaler::describe),
                    normalization.describe()
                )));
            }
            (data, true)
        }
        path => {
            let (raw, labelled) = load_raw(Path::new(path), &args.file, input)?;
            let data =
                raw.normalized_with(&normalization).map_err(|e| CliError::input(format!("--data {path}: {e}")))?;
            (data, labelled)
        }
    };
    data.check_fits(input, *spec.widths().last().unwrap_or(&0) as usize)
        .map_err(|e| CliError::input(format!("--data {}: {e} (network {})", args.data, spec.name)))?;
    Ok(Prepared { spec, weights, data, normalization, labelled })
}

/// Reads a data file's raw values. Without `--label-column`, a file whose columns are exactly the
/// network's inputs has no label column; otherwise the label is in the last column.
fn load_raw(path: &Path, file: &DataFileOptions, input: usize) -> Result<(Dataset, bool), CliError> {
    let format = file.format.as_deref().map(|v| parse("format", v)).transpose()?;
    let label_column: Option<LabelColumn> =
        file.label_column.as_deref().map(|v| parse("label-column", v)).transpose()?;
    let options = |label_column| LoadOptions {
        format,
        label_column,
        labels_path: file.labels.clone(),
        raw: true,
        ..LoadOptions::default()
    };
    let load = |label_column| Dataset::load(path, &options(label_column)).map_err(|e| CliError::input(e.to_string()));
    if label_column.is_some() || file.labels.is_some() {
        let data = load(label_column)?;
        return Ok((data, label_column != Some(LabelColumn::None)));
    }
    let data = load(None)?;
    if data.feature_count + 1 == input {
        // The "label" was a feature: the file has the network's width of columns and no label.
        return Ok((load(Some(LabelColumn::None))?, false));
    }
    Ok((data, true))
}

pub fn run_predict(args: PredictArgs) -> Result<(), CliError> {
    if let Some(out) = &args.out {
        check_output("--out", out)?;
    }
    let p = prepare(&args.model)?;
    let trainer = Trainer::new(&p.spec, 1).map_err(|e| CliError::input(e.to_string()))?;
    let outputs = trainer.outputs(&p.weights, &p.data).map_err(|e| CliError::input(e.to_string()))?;
    let width = *p.spec.widths().last().unwrap_or(&1) as usize;
    let rows: Vec<(usize, &[f64])> = outputs.chunks(width).enumerate().collect();
    let text = if args.json {
        let doc = json!({
            "weights": args.model.weights,
            "data": args.model.data,
            "network": p.spec.name,
            "normalization": p.normalization,
            "values_clipped": p.data.clipped,
            "predictions": rows.iter().map(|(i, out)| json!({
                "example": i,
                "class": argmax(out),
                "label": p.labelled.then(|| p.data.labels[*i]),
                "outputs": out,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))? + "\n"
    } else {
        let mut text = String::from("example,class");
        if p.labelled {
            text += ",label";
        }
        for j in 0..width {
            text += &format!(",output_{j}");
        }
        text.push('\n');
        for (i, out) in &rows {
            text += &format!("{i},{}", argmax(out));
            if p.labelled {
                text += &format!(",{}", p.data.labels[*i]);
            }
            for v in out.iter() {
                text += &format!(",{v}");
            }
            text.push('\n');
        }
        text
    };
    match &args.out {
        Some(path) => {
            zkdl::runtime::files::write_atomically(path, text.as_bytes())
                .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "{} predictions of {} for {} written to {}{}",
                rows.len(),
                p.spec.name,
                args.model.data,
                path.display(),
                clipped_note(p.data.clipped)
            );
        }
        None => {
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(text.as_bytes());
            if p.data.clipped > 0 {
                eprintln!("note:{}", clipped_note(p.data.clipped));
            }
        }
    }
    Ok(())
}

fn clipped_note(clipped: usize) -> String {
    match clipped {
        0 => String::new(),
        n => format!(
            " ({n} value{} beyond the training range clipped to ±{})",
            if n == 1 { "" } else { "s" },
            zkdl::runtime::training::data::INPUT_CLIP
        ),
    }
}

pub fn run_evaluate(args: EvaluateArgs) -> Result<(), CliError> {
    let p = prepare(&args.model)?;
    if !p.labelled {
        return Err(CliError::input(format!(
            "--data {}: no label column (its columns are the network's inputs); evaluate needs labels (--label-column)",
            args.model.data
        )));
    }
    let trainer = Trainer::new(&p.spec, 1).map_err(|e| CliError::input(e.to_string()))?;
    let evaluation = trainer.evaluate(&p.weights, &p.data).map_err(|e| CliError::input(e.to_string()))?;
    if args.json {
        let doc = json!({
            "weights": args.model.weights,
            "data": args.model.data,
            "network": p.spec.name,
            "examples": p.data.len(),
            "accuracy": evaluation.accuracy,
            "loss": evaluation.loss,
            "normalization": p.normalization,
            "values_clipped": p.data.clipped,
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        say!(
            "{} on {} ({} examples): accuracy {}, mean loss {:.4}; normalization: {}{}",
            p.spec.name,
            args.model.data,
            p.data.len(),
            percent(evaluation.accuracy),
            evaluation.loss,
            p.normalization.describe(),
            clipped_note(p.data.clipped)
        );
    }
    Ok(())
}
