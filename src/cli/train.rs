//! `zkdl train`: fixed-point SGD on real data, with the float reference beside it.

use super::options::RunOptions;
use super::CliError;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use zkdl::runtime::training::session::{train, EpochReport, TrainConfig, TrainEvent};

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunOptions,
    /// Steps of SGD (one batch each).
    #[arg(long, conflicts_with = "epochs")]
    pub steps: Option<u64>,
    /// Epochs: ⌈examples / batch⌉ steps each (default 1 when neither --steps nor --epochs is given).
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Write the final weights (float32 for PyTorch and the exact fixed-point integers).
    #[arg(long, value_name = "W.safetensors")]
    pub weights_out: Option<PathBuf>,
    /// Skip the float reference.
    #[arg(long)]
    pub no_reference: bool,
    /// Draw the loss and accuracy per epoch of the run and its float reference to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

use super::percent;

fn epoch_line(e: &EpochReport) -> String {
    let f = &e.fixed;
    let mut line = format!(
        "epoch {:>3}  step {:>6}  mean batch loss {:.4}  train {}  test {}",
        e.epoch,
        e.steps,
        f.loss,
        percent(f.train_accuracy),
        percent(f.test_accuracy)
    );
    if let Some(r) = &e.float {
        line += &format!(
            "   | float: mean batch loss {:.4}  train {}  test {}",
            r.loss,
            percent(r.train_accuracy),
            percent(r.test_accuracy)
        );
    }
    line
}

pub fn run(args: TrainArgs) -> Result<(), CliError> {
    super::options::check_outputs(&[("--weights-out", args.weights_out.as_deref()), ("--plot", args.plot.as_deref())])?;
    let inputs = args.run.inputs()?;
    let batch = inputs.spec.batch as u64;
    let per_epoch = (inputs.train.len() as u64).div_ceil(batch);
    let steps = match (args.steps, args.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) => e.checked_mul(per_epoch).ok_or_else(|| {
            CliError::input(format!(
                "--epochs {e}: {e} × {per_epoch} steps per epoch is more steps than can be counted"
            ))
        })?,
        (None, None) => per_epoch,
    };
    if steps == 0 {
        return Err(CliError::input("--steps/--epochs: nothing to train (0 steps)".into()));
    }
    if !args.json {
        let p = inputs.spec.fixed_point_params();
        say!(
            "network {} ({} parameters), batch {}, lr {} on the mean gradient; R = {}, Q = {}, S_W = {}",
            inputs.spec.name,
            inputs.spec.parameter_count(),
            inputs.spec.batch,
            inputs.spec.optimizer.describe(),
            p.scale_bits,
            p.range_bits,
            p.weight_scale_bits
        );
        say!(
            "data {}: {} examples ({} train, {} test), {} features, {} classes; {} steps ({} per epoch)",
            inputs.data.name,
            inputs.data.len(),
            inputs.train.len(),
            inputs.test.len(),
            inputs.data.feature_count,
            inputs.data.class_count,
            steps,
            per_epoch
        );
        if let Some(line) = super::options::normalization_line(&inputs) {
            say!("{line}");
        }
        if inputs.test.is_empty() {
            say!("no test set (--test-fraction {}): test accuracy is n/a", args.run.test_fraction);
        }
    }
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(steps) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  eta {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let config = TrainConfig { steps, seed: args.run.seed.wrapping_add(2), reference: !args.no_reference };
    let started = Instant::now();
    let json = args.json;
    let result = train(&inputs.spec, &inputs.train, &inputs.test, inputs.initial, &config, &mut |event| match event {
        TrainEvent::Step { loss, .. } => {
            bar.inc(1);
            bar.set_message(format!("loss {loss:.4}"));
        }
        TrainEvent::Epoch(report) if !json && bar.is_hidden() => say!("{}", epoch_line(report)),
        TrainEvent::Epoch(report) if !json => bar.println(epoch_line(report)),
        TrainEvent::Epoch(_) => {}
    });
    bar.finish_and_clear();
    let run = result.map_err(|e| CliError::input(format!("training stopped: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.weights_out {
        run.weights
            .save_with_normalization(path, &inputs.spec, steps, inputs.train.scaler.as_ref())
            .map_err(|e| CliError::input(e.to_string()))?;
    }
    if let Some(path) = &args.plot {
        let title = format!("{} on {}: {steps} steps, batch {}", inputs.spec.name, inputs.data.name, inputs.spec.batch);
        super::plot::training_curves(path, &title, &run.epochs).map_err(|e| CliError::input(format!("--plot: {e}")))?;
    }
    let last = run.epochs.last();
    if args.json {
        let doc = json!({
            "network": inputs.spec,
            "data": { "name": inputs.data.name, "examples": inputs.data.len(), "train": inputs.train.len(), "test": inputs.test.len() },
            "normalization": inputs.train.scaler,
            "test_values_clipped": inputs.test.clipped,
            "steps": steps,
            "seconds": seconds,
            "epochs": run.epochs,
            "drift": run.drift,
            "weights_out": args.weights_out,
        });
        say!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::input(e.to_string()))?);
    } else {
        if let Some(e) = last {
            say!(
                "done: {steps} steps in {seconds:.2} s; fixed point: test accuracy {}, last batch loss {:.4}",
                percent(e.fixed.test_accuracy),
                run.losses.last().copied().unwrap_or(0.0)
            );
        }
        if let Some(d) = &run.drift {
            say!(
                "float reference: test accuracy {}{}; last batch loss {:.4}; largest weight difference {:.2e}",
                percent(d.float_test_accuracy),
                match d.fixed_test_accuracy - d.float_test_accuracy {
                    gap if gap.is_nan() => String::new(),
                    gap => format!(" (difference {:+.2} pp)", 100.0 * gap),
                },
                d.float_losses.last().copied().unwrap_or(0.0),
                d.max_weight_difference
            );
        }
        if let Some(path) = &args.weights_out {
            say!("weights written to {}", path.display());
        }
        if let Some(path) = &args.plot {
            say!("loss and accuracy curves drawn to {}", path.display());
        }
    }
    Ok(())
}
