//! The fixed-point SGD step of `PROTOCOL.md` §2, exactly, with every value the prover needs.
//!
//! For a batch (X_t, Y_t) and weights W_t, with A^0 = X_t:
//!
//! ```text
//! forward,  l = 1 … L:   Z^l = A^(l−1)·W^l_t,   (Z'^l, rz^l) = rescale_{S_W}(Z^l)
//!                        l < L:  s^l = [Z'^l > 0],  m^l = Z'^l − 1 + (1 − s^l)·2^Q,  A^l = s^l ⊙ Z'^l
//! loss:                  G^L = Z'^L − Y_t
//! backward, l = L … 1:   G_W^l = (A^(l−1))ᵀ·G^l
//!                        l > 1:  H^(l−1) = G^l·(W^l_t)ᵀ,  (H'^(l−1), rh^(l−1)) = rescale_{S_W}(H^(l−1)),
//!                                G^(l−1) = s^(l−1) ⊙ H'^(l−1)
//! update:                W^l_(t+1) = W^l_t − G_W^l
//! ```
//!
//! All arithmetic is on integers wide enough for every bound: products run through [`exact_matmul`]
//! (exact, with 128-bit results), element-wise steps in i128. The trainer refuses a spec whose magnitude
//! bounds at the given horizon reach 2^126, so nothing can wrap.
//!
//! **Ranges are errors, never wraps.** A value outside the range the proof will check — hidden Z' outside
//! [1 − 2^Q, 2^Q] (sign + Q magnitude bits), Z'^L or H' outside (Q+1)-bit two's complement, inputs and
//! targets outside (R+2)-bit two's complement, initial weights outside (S_W+2)-bit — stops training with
//! [`TrainingError::OutOfRange`], naming step, layer, tensor, index and value, and what to change. Remainders
//! are in range by construction of `rescale`. So a witness that could not be proven is never produced.
//!
//! The step is deterministic: the same weights and batch give the same integers, whatever the thread count
//! (every sum is exact, so the order of additions cannot matter).

use crate::bits::BitVector;
use crate::data::Dataset;
use crate::exact_matmul::{exact_matmul, MatMulError, MatrixRef};
use crate::fixed_point::{quantize, rescale, sign_magnitude, sign_magnitude_range, twos_complement_range};
use crate::integers::IntVec;
use crate::weights::{layer_shapes, FixedWeights};
use rayon::prelude::*;
use zkdl_compiler::{FixedPointParams, MagnitudeBounds, NetworkSpec};

/// Exact integers of the trainer: magnitudes must stay below 2^126.
pub const TRAINER_MAGNITUDE_LIMIT_LOG2: u32 = 126;

/// One batch at the fixed-point input scale: X_t (B × d_0) and one-hot Y_t (B × d_L), both at 2^R.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    pub x: IntVec,
    pub y: IntVec,
    pub labels: Vec<u32>,
    /// The data set indices of the examples, in order.
    pub indices: Vec<usize>,
}

/// The zkReLU values of a hidden layer l, forward and backward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReluTrace {
    /// s^l = [Z'^l > 0], B × d_l.
    pub sign: BitVector,
    /// m^l, Q bit planes of B × d_l, plane-major: bit p of entry i at p·(B·d_l) + i.
    pub magnitude: BitVector,
    /// A^l = s^l ⊙ Z'^l.
    pub activation: IntVec,
    /// H^l = G^(l+1)·(W^(l+1)_t)ᵀ.
    pub backward_pre_activation: IntVec,
    /// H'^l = rescale_{S_W}(H^l).
    pub backward_rescaled: IntVec,
    /// rh^l = H^l − 2^S_W·H'^l.
    pub backward_remainder: IntVec,
}

/// Every tensor of layer l at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTrace {
    /// Z^l.
    pub pre_activation: IntVec,
    /// Z'^l.
    pub rescaled: IntVec,
    /// rz^l.
    pub remainder: IntVec,
    /// Hidden layers only.
    pub relu: Option<ReluTrace>,
    /// G^l.
    pub signal: IntVec,
    /// G_W^l.
    pub weight_gradient: IntVec,
}

/// Every tensor of one step, with its loss and the batch examples classified correctly.
#[derive(Clone, Debug, PartialEq)]
pub struct StepTrace {
    /// Layers 1 … L.
    pub layers: Vec<LayerTrace>,
    /// ½‖Z'^L − Y‖² in real units, averaged over the batch.
    pub loss: f64,
    /// Examples whose largest output is their label.
    pub correct: usize,
}

impl StepTrace {
    /// Drops every layer's G_W (a compact witness recomputes it from A and G).
    pub fn drop_weight_gradients(&mut self) {
        for layer in &mut self.layers {
            layer.weight_gradient = IntVec::zeros(0);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|l| {
                let relu = l.relu.as_ref().map_or(0, |r| {
                    r.sign.heap_bytes()
                        + r.magnitude.heap_bytes()
                        + r.activation.heap_bytes()
                        + r.backward_pre_activation.heap_bytes()
                        + r.backward_rescaled.heap_bytes()
                        + r.backward_remainder.heap_bytes()
                });
                l.pre_activation.heap_bytes()
                    + l.rescaled.heap_bytes()
                    + l.remainder.heap_bytes()
                    + l.signal.heap_bytes()
                    + l.weight_gradient.heap_bytes()
                    + relu
            })
            .sum()
    }
}

/// Loss and accuracy of a forward pass over a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
}

/// A value outside the range the proof checks: where it is, what it is, and what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("step {step}, layer {layer}: {tensor}[{row}, {col}] = {value} is outside [{min}, {max}] ({range}); {help}")]
pub struct RangeViolation {
    pub step: u64,
    pub layer: usize,
    pub tensor: &'static str,
    pub row: usize,
    pub col: usize,
    pub value: i128,
    pub min: i128,
    pub max: i128,
    pub range: String,
    pub help: &'static str,
}

/// Why training stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainingError {
    #[error("{0}")]
    OutOfRange(Box<RangeViolation>),
    #[error("the trainer computes in 128-bit integers, but {what} can reach 2^{bits} within {steps} steps; lower range_bits (Q) or scale_bits (R), or train fewer steps")]
    TooWide { what: String, bits: u32, steps: u64 },
    #[error("{0}")]
    Mismatch(String),
    #[error("step {step}, layer {layer}, {relation}: {source}")]
    MatMul { step: u64, layer: usize, relation: &'static str, source: MatMulError },
}

const GROWTH_HELP: &str = "the values outgrew the range the proof checks: lower the learning rate (a larger K in lr = 2^-K), raise range_bits (Q), or scale the inputs down";
const INPUT_HELP: &str =
    "inputs and targets must lie in [−2, 2): normalize the data (e.g. divide by the largest value)";

/// Executes the training step of a spec in fixed point.
#[derive(Clone, Debug)]
pub struct Trainer {
    pub spec: NetworkSpec,
    pub params: FixedPointParams,
    pub shapes: Vec<(usize, usize)>,
}

impl Trainer {
    /// A trainer for up to `horizon` steps; refuses specs whose bounds could exceed its integers.
    pub fn new(spec: &NetworkSpec, horizon: u64) -> Result<Trainer, TrainingError> {
        spec.validate().map_err(|e| TrainingError::Mismatch(format!("invalid network: {e}")))?;
        let bounds = MagnitudeBounds::new(spec, horizon.max(1));
        if bounds.max_relation_log2 >= TRAINER_MAGNITUDE_LIMIT_LOG2 {
            let (what, bits) = (bounds.worst_relation.clone(), bounds.max_relation_log2);
            return Err(TrainingError::TooWide { what, bits, steps: horizon });
        }
        Ok(Trainer { spec: spec.clone(), params: spec.fixed_point_params(), shapes: layer_shapes(spec) })
    }

    pub fn batch_size(&self) -> usize {
        self.spec.batch as usize
    }
    fn depth(&self) -> usize {
        self.shapes.len()
    }
    fn input_width(&self) -> usize {
        self.shapes[0].0
    }
    fn output_width(&self) -> usize {
        self.shapes[self.depth() - 1].1
    }

    /// X and one-hot Y of the examples `indices` of `data`, at scale 2^R and range-checked.
    pub fn batch(&self, data: &Dataset, indices: &[usize], step: u64) -> Result<Batch, TrainingError> {
        let (d0, dl) = (self.input_width(), self.output_width());
        if data.feature_count != d0 || data.class_count > dl {
            return Err(TrainingError::Mismatch(format!(
                "the data has {} features and {} classes; the network takes {d0} inputs and has {dl} outputs",
                data.feature_count, data.class_count
            )));
        }
        let r = self.params.scale_bits;
        let bits = self.params.data_bits;
        let (min, max) = twos_complement_range(bits);
        let mut x = Vec::with_capacity(indices.len() * d0);
        for (row, &i) in indices.iter().enumerate() {
            for (col, &f) in data.example(i).iter().enumerate() {
                let v = quantize(f as f64, r);
                if !(min..=max).contains(&v) {
                    return Err(out_of_range(step, 0, "X", row, col, v, min, max, bits, INPUT_HELP));
                }
                x.push(v);
            }
        }
        let mut y = vec![0i128; indices.len() * dl];
        let labels: Vec<u32> = indices.iter().map(|&i| data.labels[i]).collect();
        for (row, &label) in labels.iter().enumerate() {
            y[row * dl + label as usize] = 1 << r;
        }
        Ok(Batch { x: IntVec::from_i128(&x), y: IntVec::from_i128(&y), labels, indices: indices.to_vec() })
    }

    /// Checks W_0 against its (S_W+2)-bit range and the network's shapes.
    pub fn check_initial_weights(&self, weights: &FixedWeights) -> Result<(), TrainingError> {
        self.check_shapes(weights)?;
        let bits = self.params.weight_bits;
        let (min, max) = twos_complement_range(bits);
        for (l, (w, &(_, cols))) in weights.layers.iter().zip(&self.shapes).enumerate() {
            if let Some(i) = w.iter().position(|v| !(min..=max).contains(&v)) {
                let help = "initial weights must lie in (−2, 2) in real units";
                return Err(out_of_range(0, l + 1, "W_0", i / cols, i % cols, w.get(i), min, max, bits, help));
            }
        }
        Ok(())
    }

    fn check_shapes(&self, weights: &FixedWeights) -> Result<(), TrainingError> {
        if weights.shapes != self.shapes || weights.scale_bits != self.params.weight_scale_bits {
            return Err(TrainingError::Mismatch(format!(
                "weights of shapes {:?} at scale 2^{} do not fit the network {} (shapes {:?}, scale 2^{})",
                weights.shapes, weights.scale_bits, self.spec.name, self.shapes, self.params.weight_scale_bits
            )));
        }
        Ok(())
    }

    /// One SGD step: the trace of every tensor, and W_(t+1).
    pub fn step(
        &self,
        weights: &FixedWeights,
        batch: &Batch,
        step: u64,
    ) -> Result<(StepTrace, FixedWeights), TrainingError> {
        self.check_shapes(weights)?;
        let b = self.batch_size();
        if batch.labels.len() != b || batch.x.len() != b * self.input_width() {
            return Err(TrainingError::Mismatch(format!(
                "a batch of {} examples; the network's batch is {b}",
                batch.labels.len()
            )));
        }
        let p = self.params;
        let depth = self.depth();
        let matmul_error = |layer: usize, relation: &'static str| {
            move |source| TrainingError::MatMul { step, layer, relation, source }
        };

        // Forward.
        struct Forward {
            pre_activation: IntVec,
            rescaled: Vec<i128>,
            remainder: IntVec,
            relu: Option<(BitVector, BitVector, IntVec)>,
        }
        let mut forward: Vec<Forward> = Vec::with_capacity(depth);
        for l in 1..=depth {
            let cols = self.shapes[l - 1].1;
            let input = if l == 1 { &batch.x } else { &forward[l - 2].relu.as_ref().expect("hidden layer").2 };
            let (z, rescaled, remainder) = self.forward_layer(input, b, weights, l, step)?;
            let relu = if l < depth {
                let (min, max) = sign_magnitude_range(p.range_bits);
                check_range(&rescaled, min, max, cols, |row, col, value| {
                    let range = format!("sign + {} magnitude bits", p.range_bits);
                    let help = GROWTH_HELP;
                    let violation =
                        RangeViolation { step, layer: l, tensor: "Z'", row, col, value, min, max, range, help };
                    TrainingError::OutOfRange(Box::new(violation))
                })?;
                Some(zk_relu(&rescaled, p.range_bits))
            } else {
                let (min, max) = twos_complement_range(p.range_bits + 1);
                check_range(&rescaled, min, max, cols, |row, col, value| {
                    out_of_range(step, l, "Z'", row, col, value, min, max, p.range_bits + 1, GROWTH_HELP)
                })?;
                None
            };
            forward.push(Forward { pre_activation: z, rescaled, remainder, relu });
        }

        // Loss: G^L = Z'^L − Y.
        let output = &forward[depth - 1].rescaled;
        let g_last: Vec<i128> = output.iter().zip(batch.y.iter()).map(|(&z, y)| z - y).collect();
        let (loss_sum, correct) = self.output_metrics(output, batch);
        let loss = loss_sum / b as f64;

        // Backward.
        let mut signals: Vec<Option<IntVec>> = vec![None; depth];
        let mut gradients: Vec<Option<IntVec>> = vec![None; depth];
        let mut backward: Vec<Option<(IntVec, IntVec, IntVec)>> = vec![None; depth];
        signals[depth - 1] = Some(IntVec::from_i128(&g_last));
        for l in (1..=depth).rev() {
            let (rows, cols) = self.shapes[l - 1];
            let g = signals[l - 1].as_ref().expect("signal of the layer above");
            let a_prev = if l == 1 { &batch.x } else { &forward[l - 2].relu.as_ref().expect("hidden layer").2 };
            let gw = exact_matmul(MatrixRef::new(a_prev, b, rows).t(), MatrixRef::new(g, b, cols))
                .map_err(matmul_error(l, "M3 G_W = Aᵀ·G"))?;
            gradients[l - 1] = Some(gw);
            if l > 1 {
                let h =
                    exact_matmul(MatrixRef::new(g, b, cols), MatrixRef::new(&weights.layers[l - 1], rows, cols).t())
                        .map_err(matmul_error(l, "M2 H = G·Wᵀ"))?;
                let (h_rescaled, rh) = rescale_all(&h, p.weight_scale_bits);
                let (min, max) = twos_complement_range(p.range_bits + 1);
                check_range(&h_rescaled, min, max, rows, |row, col, value| {
                    out_of_range(step, l - 1, "H'", row, col, value, min, max, p.range_bits + 1, GROWTH_HELP)
                })?;
                let sign = &forward[l - 2].relu.as_ref().expect("hidden layer").0;
                let g_prev: Vec<i128> =
                    h_rescaled.iter().enumerate().map(|(i, &v)| if sign.get(i) { v } else { 0 }).collect();
                signals[l - 2] = Some(IntVec::from_i128(&g_prev));
                backward[l - 2] = Some((h, IntVec::from_i128(&h_rescaled), rh));
            }
        }

        // Update: W_(t+1) = W_t − G_W.
        let next: Vec<IntVec> = weights
            .layers
            .iter()
            .zip(&gradients)
            .map(|(w, gw)| w.difference(gw.as_ref().expect("gradient of every layer")))
            .collect();

        let layers = forward
            .into_iter()
            .zip(signals)
            .zip(gradients)
            .zip(backward)
            .map(|(((f, signal), gradient), back)| LayerTrace {
                pre_activation: f.pre_activation,
                rescaled: IntVec::from_i128(&f.rescaled),
                remainder: f.remainder,
                relu: f.relu.map(|(sign, magnitude, activation)| {
                    let (h, h_rescaled, rh) = back.expect("backward values of a hidden layer");
                    ReluTrace {
                        sign,
                        magnitude,
                        activation,
                        backward_pre_activation: h,
                        backward_rescaled: h_rescaled,
                        backward_remainder: rh,
                    }
                }),
                signal: signal.expect("signal of every layer"),
                weight_gradient: gradient.expect("gradient of every layer"),
            })
            .collect();
        let next = FixedWeights { scale_bits: weights.scale_bits, shapes: weights.shapes.clone(), layers: next };
        Ok((StepTrace { layers, loss, correct }, next))
    }

    /// Z^l = A^(l−1)·W^l for a batch of `rows` examples, and (Z'^l, rz^l) = rescale_{S_W}(Z^l).
    fn forward_layer(
        &self,
        input: &IntVec,
        rows: usize,
        weights: &FixedWeights,
        l: usize,
        step: u64,
    ) -> Result<(IntVec, Vec<i128>, IntVec), TrainingError> {
        let (inputs, cols) = self.shapes[l - 1];
        let z = exact_matmul(MatrixRef::new(input, rows, inputs), MatrixRef::new(&weights.layers[l - 1], inputs, cols))
            .map_err(|source| TrainingError::MatMul { step, layer: l, relation: "M1 Z = A·W", source })?;
        let (rescaled, remainder) = rescale_all(&z, self.params.weight_scale_bits);
        Ok((z, rescaled, remainder))
    }

    /// Σ over the batch of ½‖Z'^L − Y‖² in real units, and the examples whose largest output is their label.
    fn output_metrics(&self, output: &[i128], batch: &Batch) -> (f64, usize) {
        let dl = self.output_width();
        let scale = (2.0 * self.params.scale_bits as f64).exp2();
        let loss = output.iter().zip(batch.y.iter()).map(|(&z, y)| ((z - y) as f64).powi(2)).sum::<f64>() / scale / 2.0;
        let correct = batch
            .labels
            .iter()
            .enumerate()
            .filter(|&(row, &label)| argmax(&output[row * dl..(row + 1) * dl]) == label as usize)
            .count();
        (loss, correct)
    }

    /// Loss and accuracy of the fixed-point forward pass over a data set (no range checks: this is not
    /// part of what is proven).
    pub fn evaluate(&self, weights: &FixedWeights, data: &Dataset) -> Result<Evaluation, TrainingError> {
        self.check_shapes(weights)?;
        if data.is_empty() {
            return Ok(Evaluation { loss: 0.0, accuracy: 0.0 });
        }
        let mut loss = 0.0;
        let mut correct = 0usize;
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(256) {
            let batch = self.batch(data, chunk, 0)?;
            let mut a = batch.x.clone();
            for l in 1..=self.depth() {
                let (_, rescaled, _) = self.forward_layer(&a, chunk.len(), weights, l, 0)?;
                if l < self.depth() {
                    a = IntVec::from_i128(&rescaled.iter().map(|&v| v.max(0)).collect::<Vec<_>>());
                } else {
                    let (loss_sum, right) = self.output_metrics(&rescaled, &batch);
                    loss += loss_sum;
                    correct += right;
                }
            }
        }
        Ok(Evaluation { loss: loss / data.len() as f64, accuracy: correct as f64 / data.len() as f64 })
    }
}

/// The first index of the largest entry.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

fn rescale_all(values: &IntVec, shift: u32) -> (Vec<i128>, IntVec) {
    let (q, r): (Vec<i128>, Vec<i128>) =
        (0..values.len()).into_par_iter().map(|i| rescale(values.get(i), shift)).unzip();
    (q, IntVec::from_i128(&r))
}

/// (s, m planes, A) of a hidden Z' already checked to lie in [1 − 2^Q, 2^Q].
fn zk_relu(rescaled: &[i128], range_bits: u32) -> (BitVector, BitVector, IntVec) {
    let n = rescaled.len();
    let mut sign = BitVector::zeros(n);
    let mut magnitude = BitVector::zeros(n * range_bits as usize);
    let mut activation = Vec::with_capacity(n);
    for (i, &z) in rescaled.iter().enumerate() {
        let (s, m) = sign_magnitude(z, range_bits);
        sign.set(i, s);
        let mut rest = m;
        while rest != 0 {
            let p = rest.trailing_zeros() as usize;
            magnitude.set(p * n + i, true);
            rest &= rest - 1;
        }
        activation.push(if s { z } else { 0 });
    }
    (sign, magnitude, IntVec::from_i128(&activation))
}

fn check_range(
    values: &[i128],
    min: i128,
    max: i128,
    cols: usize,
    error: impl Fn(usize, usize, i128) -> TrainingError,
) -> Result<(), TrainingError> {
    match values.iter().position(|v| !(min..=max).contains(v)) {
        None => Ok(()),
        Some(i) => Err(error(i / cols, i % cols, values[i])),
    }
}

#[allow(clippy::too_many_arguments)]
fn out_of_range(
    step: u64,
    layer: usize,
    tensor: &'static str,
    row: usize,
    col: usize,
    value: i128,
    min: i128,
    max: i128,
    bits: u32,
    help: &'static str,
) -> TrainingError {
    let range = format!("{bits}-bit two's complement");
    TrainingError::OutOfRange(Box::new(RangeViolation { step, layer, tensor, row, col, value, min, max, range, help }))
}
