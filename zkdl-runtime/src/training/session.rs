//! A training run as users start one: seeded batches from a data set, the fixed-point trainer, the
//! float reference beside it, a report per epoch, and optionally the witness for a plan.
//!
//! Step t trains on batch t of [`EpochBatches`] (a fresh seeded permutation per epoch, every batch of
//! exactly B examples). An epoch is ⌈n / B⌉ steps. The float reference ([`FloatNetwork`]) starts from
//! the fixed-point W_0 and sees the same examples in the same order. Test accuracy is measured at the end
//! of each epoch (and of a final partial epoch).

use crate::training::data::{Dataset, EpochBatches};
use crate::training::reference::{float_batch, FloatNetwork};
use crate::training::trainer::{Batch, Trainer, TrainingError};
use crate::training::weights::FixedWeights;
use crate::training::witness::Witness;
use serde::Serialize;
use zkdl_compiler::{NetworkSpec, Plan};

/// What to run.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub steps: u64,
    /// Seeds the batch order.
    pub seed: u64,
    /// Train the float reference beside the fixed-point network.
    pub reference: bool,
}

/// Loss and accuracies of one network over an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EpochMetrics {
    /// Mean training loss over the epoch's steps.
    pub loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    pub test_loss: f64,
}

/// One line of the per-epoch report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based; the last epoch may be partial.
    pub epoch: u64,
    /// Steps run so far.
    pub steps: u64,
    pub fixed: EpochMetrics,
    pub float: Option<EpochMetrics>,
}

/// How far fixed point drifted from the float reference.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftReport {
    pub fixed_losses: Vec<f64>,
    pub float_losses: Vec<f64>,
    pub fixed_test_accuracy: f64,
    pub float_test_accuracy: f64,
    /// max |w_fixed − w_float| over all weights, real units.
    pub max_weight_difference: f64,
}

/// Progress of a run.
#[derive(Clone, Debug)]
pub enum TrainEvent<'a> {
    Step { step: u64, loss: f64 },
    Epoch(&'a EpochReport),
}

/// The outcome of a run.
#[derive(Debug)]
pub struct TrainingRun {
    pub initial: FixedWeights,
    pub weights: FixedWeights,
    pub losses: Vec<f64>,
    pub epochs: Vec<EpochReport>,
    pub drift: Option<DriftReport>,
    /// With [`train_with_witness`].
    pub witness: Option<Witness>,
}

/// Trains `config.steps` steps of `spec` from `initial` on `train_data`, evaluating on `test_data`.
pub fn train(
    spec: &NetworkSpec,
    train_data: &Dataset,
    test_data: &Dataset,
    initial: FixedWeights,
    config: &TrainConfig,
    observer: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<TrainingRun, TrainingError> {
    run(spec, None, train_data, test_data, initial, config, observer)
}

/// Like [`train`] for T = `plan.steps` steps, keeping the witness in the plan's layout. For a segment
/// of a chain whose W_0 is carried from the previous segment (`plan.initial_weights`), the batches
/// are steps `steps_before … steps_before + T − 1` of the sampling rule, and W_0 (the previous
/// segment's W_T) is not held to the range of initial weights.
pub fn train_with_witness(
    plan: &Plan,
    train_data: &Dataset,
    test_data: &Dataset,
    initial: FixedWeights,
    config: &TrainConfig,
    observer: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<TrainingRun, TrainingError> {
    let config = TrainConfig { steps: plan.steps as u64, ..config.clone() };
    run(&plan.spec, Some(plan), train_data, test_data, initial, &config, observer)
}

fn run(
    spec: &NetworkSpec,
    plan: Option<&Plan>,
    train_data: &Dataset,
    test_data: &Dataset,
    initial: FixedWeights,
    config: &TrainConfig,
    observer: &mut dyn FnMut(TrainEvent<'_>),
) -> Result<TrainingRun, TrainingError> {
    let trainer = Trainer::new(spec, config.steps)?;
    let first_step = plan.map_or(0, |p| p.initial_weights.steps_before());
    match plan {
        Some(p) if !p.initial_weights.is_checked() => trainer.check_shapes(&initial)?,
        _ => trainer.check_initial_weights(&initial)?,
    }
    let b = trainer.batch_size();
    let (d0, dl) = (trainer.shapes[0].0, trainer.shapes.last().map_or(0, |s| s.1));
    for data in [train_data, test_data] {
        data.check_fits(d0, dl).map_err(|e| TrainingError::Mismatch(e.to_string()))?;
    }
    let order =
        EpochBatches::new(train_data.len(), b, config.seed).map_err(|e| TrainingError::Mismatch(e.to_string()))?;
    let per_epoch = order.batches_per_epoch() as u64;
    let mut float = config.reference.then(|| FloatNetwork::from_fixed(&initial, trainer.params.update_shift));
    let mut weights = initial.clone();
    let (mut losses, mut float_losses, mut epochs) = (Vec::new(), Vec::new(), Vec::new());
    // The witness is kept compact: W_0, W_T and the steps' activation-sized tensors (no W_t or G_W
    // per step; the prover walks them).
    let mut recorded: Option<(Vec<Batch>, Vec<crate::training::trainer::StepTrace>)> =
        plan.map(|_| (Vec::new(), Vec::new()));
    let (mut epoch_loss, mut epoch_correct, mut float_loss, mut float_correct, mut epoch_steps) =
        (0.0, 0, 0.0, 0, 0u64);
    for step in 0..config.steps {
        let chain_step = first_step + step;
        let indices = order.batch(chain_step);
        let batch = trainer.batch(train_data, &indices, chain_step)?;
        let (trace, next) = trainer.step(&weights, &batch, chain_step)?;
        observer(TrainEvent::Step { step, loss: trace.loss });
        losses.push(trace.loss);
        epoch_loss += trace.loss;
        epoch_correct += trace.correct;
        epoch_steps += 1;
        if let Some(net) = float.as_mut() {
            let spec = &trainer.spec;
            net.set_update_shift(spec.optimizer.lr_shift_at(chain_step) + spec.batch.max(1).ilog2());
            let (x, y) = float_batch(train_data, &indices, dl);
            let (loss, correct) = net.step(&x, &y, &batch.labels);
            float_losses.push(loss);
            float_loss += loss;
            float_correct += correct;
        }
        match recorded.as_mut() {
            Some((batches, traces)) => {
                let mut trace = trace;
                trace.drop_weight_gradients();
                trace.drop_derivable();
                batches.push(batch);
                traces.push(trace);
            }
            None => drop(trace),
        }
        weights = next;
        if (step + 1) % per_epoch == 0 || step + 1 == config.steps {
            let seen = (epoch_steps as usize * b) as f64;
            let test = trainer.evaluate(&weights, test_data)?;
            let report = EpochReport {
                epoch: step / per_epoch + 1,
                steps: step + 1,
                fixed: EpochMetrics {
                    loss: epoch_loss / epoch_steps as f64,
                    train_accuracy: epoch_correct as f64 / seen,
                    test_accuracy: test.accuracy,
                    test_loss: test.loss,
                },
                float: float.as_ref().map(|net| {
                    let test = net.evaluate(test_data);
                    EpochMetrics {
                        loss: float_loss / epoch_steps as f64,
                        train_accuracy: float_correct as f64 / seen,
                        test_accuracy: test.accuracy,
                        test_loss: test.loss,
                    }
                }),
            };
            observer(TrainEvent::Epoch(&report));
            epochs.push(report);
            (epoch_loss, epoch_correct, float_loss, float_correct, epoch_steps) = (0.0, 0, 0.0, 0, 0);
        }
    }
    let drift = float.as_ref().map(|net| DriftReport {
        fixed_losses: losses.clone(),
        float_losses: float_losses.clone(),
        fixed_test_accuracy: epochs.last().map_or(0.0, |e| e.fixed.test_accuracy),
        float_test_accuracy: epochs.last().and_then(|e| e.float).map_or(0.0, |f| f.test_accuracy),
        max_weight_difference: net.max_weight_difference(&weights),
    });
    let witness = match (plan, recorded) {
        (Some(plan), Some((batches, traces))) => {
            Some(Witness::from_compact_parts(plan, batches, initial.clone(), weights.clone(), traces))
        }
        _ => None,
    };
    Ok(TrainingRun { initial, weights, losses, epochs, drift, witness })
}
