//! The fixed-point SGD step of `PROTOCOL.md` §2, exactly, with every value the prover needs.
//!
//! For a batch (X_t, Y_t) and weights W_t, with A^0 = X_t:
//!
//! ```text
//! forward,  l = 1 … L:   Z^l = A^(l−1)·W^l_t + 2^R·1·(β^l_t)ᵀ,   (Z'^l, rz^l) = rescale_{S_W}(Z^l)
//!                        l < L:  s^l = [Z'^l > 0],  m^l = Z'^l − 1 + (1 − s^l)·2^Q,  A^l = s^l ⊙ Z'^l
//! loss:                  G^L = Z'^L − Y_t
//! backward, l = L … 1:   G_W^l = (A^(l−1))ᵀ·G^l,   g_β^l = 2^R·1ᵀ·G^l
//!                        l > 1:  H^(l−1) = G^l·(W^l_t)ᵀ,  (H'^(l−1), rh^(l−1)) = rescale_{S_W}(H^(l−1)),
//!                                G^(l−1) = s^(l−1) ⊙ H'^(l−1)
//! update:                W^l_(t+1) = W^l_t − m_t·G_W^l,   β^l_(t+1) = β^l_t − m_t·g_β^l
//!                        (m_t = 2^(k'_max − k'_t), 1 at one rate; the β terms for layers with a bias)
//! ```
//!
//! All arithmetic is on integers wide enough for every bound: products run through [`exact_matmul`]
//! (exact, with 128-bit results), element-wise steps in i128. Nothing can wrap ([`StepBounds`]):
//!
//! - every per-step quantity is range-checked, so bounded independently of the weights and of t:
//!   |A^0| = |X| ≤ 2^(R+1), hidden |A| ≤ 2^Q, |G^L| ≤ 2^Q + 2^(R+1), hidden |G| ≤ |H'| ≤ 2^Q, hence
//!   |G_W^l| ≤ B·|A^(l−1)|·|G^l| per step;
//! - only the weights grow, by at most |G_W| a step: |W_(t+k)| ≤ |W_t| + k·max|G_W|;
//! - the products of a step are bounded by the weights it reads: |Z^l| ≤ d_(l−1)·|A^(l−1)|·|W^l|,
//!   |H^(l−1)| ≤ d_l·|G^l|·|W^l|.
//!
//! All of these must stay below 2^126 ([`TRAINER_MAGNITUDE_LIMIT_LOG2`]). [`Trainer::new`] refuses a
//! spec for which one step from the largest admissible W_0 (S_W+2 bits) could break that, and
//! [`Trainer::step`] bounds every step from the largest |W^l| it actually reads (the segment of steps
//! that follows is bounded by [`StepBounds::steps_within_limit`]), so training has no step horizon of
//! its own: it runs as long as the weights stay small enough, which the range checks ensure in practice
//! (a Z' in range needs |Z| < 2^(Q+S_W)). The digits network, from any admissible W_0, is bounded for
//! about 2^20 steps before the first weight could matter ([`Trainer::static_horizon`]).
//!
//! **Ranges are errors, never wraps.** A value outside the range the proof will check — hidden Z' outside
//! [1 − 2^Q, 2^Q] (sign + Q magnitude bits), Z'^L or H' outside (Q+1)-bit two's complement, inputs and
//! targets outside (R+2)-bit two's complement, initial weights outside (S_W+2)-bit — stops training with
//! [`TrainingError::OutOfRange`], naming step, layer, tensor, index and value, and what to change. Remainders
//! are in range by construction of `rescale`. So a witness that could not be proven is never produced.
//!
//! The step is deterministic: the same weights and batch give the same integers, whatever the thread count
//! (every sum is exact, so the order of additions cannot matter).

use crate::crypto::bits::BitVector;
use crate::training::data::Dataset;
use crate::training::exact_matmul::{exact_matmul, MatMulError, MatrixRef};
use crate::training::fixed_point::{quantize, rescale, sign_magnitude, sign_magnitude_range, twos_complement_range};
use crate::training::integers::IntVec;
use crate::training::weights::{layer_shapes, FixedWeights};
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
    /// β^l_t, the bias this step read, for a layer with a bias (d_l entries: kept by compact
    /// witnesses, which drop W_t).
    pub bias: Option<IntVec>,
    /// g_β^l = 2^R·1ᵀ·G^l, for a layer with a bias.
    pub bias_gradient: Option<IntVec>,
}

impl LayerTrace {
    /// A^l of a hidden layer: stored, or s ⊙ Z' where a compact witness dropped it.
    pub fn activation_values(&self) -> Option<std::borrow::Cow<'_, IntVec>> {
        let relu = self.relu.as_ref()?;
        Some(match relu.activation.is_empty() && !self.rescaled.is_empty() {
            true => std::borrow::Cow::Owned(self.rescaled.masked(&relu.sign)),
            false => std::borrow::Cow::Borrowed(&relu.activation),
        })
    }

    /// G^l: stored, or s ⊙ H' where a compact witness dropped a hidden layer's.
    pub fn signal_values(&self) -> std::borrow::Cow<'_, IntVec> {
        match &self.relu {
            Some(relu) if self.signal.is_empty() && !relu.backward_rescaled.is_empty() => {
                std::borrow::Cow::Owned(relu.backward_rescaled.masked(&relu.sign))
            }
            _ => std::borrow::Cow::Borrowed(&self.signal),
        }
    }
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

    /// Drops what a compact witness derives from the rest: every layer's Z and H (recomposed:
    /// Z = 2^S·Z' + rz, H = 2^S·H' + rh, two 128-bit integers per activation), and each hidden layer's
    /// A = s ⊙ Z', G = s ⊙ H' and magnitude bits m = Z' − 1 + (1 − s)·2^Q (zkReLU; with s = [Z' > 0]
    /// and Z' in range, m is in [0, 2^Q)). The output layer's G = Z'^L − Y stays.
    pub fn drop_derivable(&mut self) {
        for layer in &mut self.layers {
            layer.pre_activation = IntVec::zeros(0);
            if let Some(relu) = layer.relu.as_mut() {
                relu.backward_pre_activation = IntVec::zeros(0);
                relu.activation = IntVec::zeros(0);
                relu.magnitude = BitVector::zeros(0);
                layer.signal = IntVec::zeros(0);
            }
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
                    + l.bias.as_ref().map_or(0, IntVec::heap_bytes)
                    + l.bias_gradient.as_ref().map_or(0, IntVec::heap_bytes)
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
    #[error("step {step}, layer {layer}: the weights reached |W| = 2^{weight_log2:.1}, so {what} of this step could exceed the trainer's 128-bit integers (2^{limit}); the training diverges: lower the learning rate (a larger K in lr = 2^-K)", limit = TRAINER_MAGNITUDE_LIMIT_LOG2)]
    WeightsTooLarge { step: u64, layer: usize, weight_log2: f64, what: &'static str },
    #[error("{0}")]
    Mismatch(String),
    #[error("step {step}, layer {layer}, {relation}: {source}")]
    MatMul { step: u64, layer: usize, relation: &'static str, source: MatMulError },
}

const GROWTH_HELP: &str = "the values outgrew the range the proof checks: lower the learning rate (a larger K in lr = 2^-K), raise range_bits (Q), or scale the inputs down";
const INPUT_HELP: &str =
    "inputs and targets must lie in [−2, 2): normalize the data (e.g. divide by the largest value)";

/// The exact magnitude bounds of one training step (module docs), per layer: what the range checks
/// bound independently of the weights, and what a step's products reach for given |W|.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepBounds {
    /// Per layer l = 1 … L.
    pub layers: Vec<LayerBounds>,
    /// |W_0| ≤ 2^(S_W+1): the (S_W+2)-bit range of initial weights.
    pub initial_weight: u128,
    /// 2^[`TRAINER_MAGNITUDE_LIMIT_LOG2`]: every value must stay below it.
    pub limit: u128,
}

/// The bounds of one layer's values at one step. Products saturate at `u128::MAX` (above the limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerBounds {
    /// d_(l−1) (+ 1 with a bias), the terms of Z^l = A^(l−1)·W^l (+ 2^R·β).
    pub fan_in: u128,
    /// d_l, the inner dimension of H^(l−1) = G^l·(W^l)ᵀ; 0 for layer 1 (no H).
    pub fan_out: u128,
    /// max |A^(l−1)|.
    pub activation: u128,
    /// max |G^l|.
    pub signal: u128,
    /// max m_t·|G_W^l| = m_max·B·|A^(l−1)|·|G^l|: the most a weight moves in one step (m_max the
    /// largest update multiplier of a learning-rate schedule, 1 at one rate).
    pub gradient: u128,
}

impl LayerBounds {
    /// The most |W^l| a step may read: both products stay below `limit`.
    fn weight_room(&self, limit: u128) -> u128 {
        let coefficient = self.fan_in.saturating_mul(self.activation).max(self.fan_out.saturating_mul(self.signal));
        (limit - 1) / coefficient.max(1)
    }
}

impl StepBounds {
    pub fn new(spec: &NetworkSpec) -> StepBounds {
        let p = spec.fixed_point_params();
        let pow = |bits: u32| 1u128.checked_shl(bits).unwrap_or(u128::MAX);
        let (data, range) = (pow(p.scale_bits + 1), pow(p.range_bits));
        let shapes = layer_shapes(spec);
        let depth = shapes.len();
        let batch = spec.batch.max(1) as u128;
        // The largest update multiplier of a learning-rate schedule (1 at one rate).
        let multiplier = pow(spec.optimizer.max_lr_shift() - spec.optimizer.min_lr_shift());
        let has_bias = spec.biases();
        let layers = shapes
            .iter()
            .enumerate()
            .map(|(i, &(rows, cols))| {
                let activation = if i == 0 { data } else { range };
                let signal = if i + 1 == depth { range.saturating_add(data) } else { range };
                LayerBounds {
                    // A bias adds one term of at most 2^R·|β| ≤ |A|·|W| bound to each Z entry.
                    fan_in: rows as u128 + u128::from(has_bias[i]),
                    fan_out: if i == 0 { 0 } else { cols as u128 },
                    activation,
                    signal,
                    gradient: batch.saturating_mul(activation).saturating_mul(signal).saturating_mul(multiplier),
                }
            })
            .collect();
        StepBounds { layers, initial_weight: pow(p.weight_bits - 1), limit: pow(TRAINER_MAGNITUDE_LIMIT_LOG2) }
    }

    /// The most steps that can run from weights with max |W^l| = `weights[l − 1]` with every value
    /// below the limit: k steps read |W| ≤ w + (k−1)·|G_W| and leave |W| ≤ w + k·|G_W|. 0 when not
    /// even one step can; saturates at `u64::MAX`.
    pub fn steps_within_limit(&self, weights: &[u128]) -> u64 {
        let limit = self.limit;
        let mut steps = u64::MAX as u128;
        for (layer, &w) in self.layers.iter().zip(weights) {
            let room = layer.weight_room(limit);
            let gradient = layer.gradient.max(1);
            if w > room || layer.gradient >= limit {
                return 0;
            }
            let read = (room - w) / gradient + 1;
            let left = (limit - 1 - w) / gradient;
            steps = steps.min(read).min(left);
        }
        steps.min(u64::MAX as u128) as u64
    }

    /// The first layer and product that bounds the steps from `weights` to 0, if any.
    fn first_excess(&self, weights: &[u128]) -> Option<(usize, &'static str)> {
        self.layers.iter().zip(weights).enumerate().find_map(|(i, (layer, &w))| {
            if layer.gradient >= self.limit {
                Some((i + 1, "G_W = Aᵀ·G"))
            } else if layer.fan_in.saturating_mul(layer.activation).saturating_mul(w) >= self.limit {
                Some((i + 1, "Z = A·W"))
            } else if layer.fan_out.saturating_mul(layer.signal).saturating_mul(w) >= self.limit {
                Some((i + 1, "H = G·Wᵀ"))
            } else if w.saturating_add(layer.gradient) >= self.limit {
                Some((i + 1, "W − G_W"))
            } else {
                None
            }
        })
    }
}

/// Executes the training step of a spec in fixed point.
#[derive(Clone, Debug)]
pub struct Trainer {
    pub spec: NetworkSpec,
    pub params: FixedPointParams,
    pub shapes: Vec<(usize, usize)>,
    pub bounds: StepBounds,
}

impl Trainer {
    /// A trainer; refuses specs for which one step from the largest admissible W_0 could exceed its
    /// integers. `horizon`, the steps the caller means to run, needs no bound of its own: every step
    /// is bounded from the weights it reads ([`Trainer::step`], module docs).
    pub fn new(spec: &NetworkSpec, _horizon: u64) -> Result<Trainer, TrainingError> {
        spec.validate().map_err(|e| TrainingError::Mismatch(format!("invalid network: {e}")))?;
        let bounds = StepBounds::new(spec);
        let worst = vec![bounds.initial_weight; bounds.layers.len()];
        if bounds.steps_within_limit(&worst) == 0 {
            // The exponents of MagnitudeBounds name the relation for the message.
            let one = MagnitudeBounds::new(spec, 1);
            let (what, bits) = (one.worst_relation.clone(), one.max_relation_log2.max(TRAINER_MAGNITUDE_LIMIT_LOG2));
            return Err(TrainingError::TooWide { what, bits, steps: 1 });
        }
        Ok(Trainer { spec: spec.clone(), params: spec.fixed_point_params(), shapes: layer_shapes(spec), bounds })
    }

    /// The steps every admissible W_0 (S_W+2 bits) can run before a step needs the bound of its
    /// actual weights: a worst case, not a limit (see the module docs).
    pub fn static_horizon(&self) -> u64 {
        self.bounds.steps_within_limit(&vec![self.bounds.initial_weight; self.bounds.layers.len()])
    }

    /// How many steps from `weights` stay within the trainer's integers (at least 1, or an error
    /// naming the layer and product that could overflow at `step`).
    pub fn steps_within_limit(&self, weights: &FixedWeights, step: u64) -> Result<u64, TrainingError> {
        let maxima: Vec<u128> = (0..weights.layers.len()).map(|l| weights.max_abs(l)).collect();
        match self.bounds.steps_within_limit(&maxima) {
            0 => {
                let (layer, what) = self.bounds.first_excess(&maxima).unwrap_or((1, "Z = A·W"));
                let weight_log2 = (maxima.get(layer - 1).copied().unwrap_or(0) as f64).log2();
                Err(TrainingError::WeightsTooLarge { step, layer, weight_log2, what })
            }
            k => Ok(k),
        }
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

    /// Checks W_0 and β_0 against their (S_W+2)-bit range and the network's shapes.
    pub fn check_initial_weights(&self, weights: &FixedWeights) -> Result<(), TrainingError> {
        self.check_shapes(weights)?;
        let bits = self.params.weight_bits;
        let (min, max) = twos_complement_range(bits);
        for (l, (w, &(_, cols))) in weights.layers.iter().zip(&self.shapes).enumerate() {
            if let Some(i) = w.iter().position(|v| !(min..=max).contains(&v)) {
                let help = "initial weights must lie in (−2, 2) in real units";
                return Err(out_of_range(0, l + 1, "W_0", i / cols, i % cols, w.get(i), min, max, bits, help));
            }
            if let Some(bias) = &weights.biases[l] {
                if let Some(i) = bias.iter().position(|v| !(min..=max).contains(&v)) {
                    let help = "initial biases must lie in (−2, 2) in real units";
                    return Err(out_of_range(0, l + 1, "β_0", 0, i, bias.get(i), min, max, bits, help));
                }
            }
        }
        Ok(())
    }

    /// Checks that `weights` have the network's shapes and scale.
    pub fn check_shapes(&self, weights: &FixedWeights) -> Result<(), TrainingError> {
        let biases_fit = weights.biases.len() == self.shapes.len()
            && weights.biases.iter().zip(self.spec.biases()).zip(&self.shapes).all(|((b, has), &(_, cols))| match b {
                Some(b) => has && b.len() == cols,
                None => !has,
            });
        if !biases_fit {
            return Err(TrainingError::Mismatch(format!(
                "the weights' biases do not fit the network {}: it has a bias in layers {:?}",
                self.spec.name,
                self.spec.biases().iter().enumerate().filter(|(_, b)| **b).map(|(l, _)| l + 1).collect::<Vec<_>>()
            )));
        }
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
        // This step reads W_t and writes W_t − G_W: both bounded from the actual |W_t|.
        self.steps_within_limit(weights, step)?;
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
        let mut bias_gradients: Vec<Option<IntVec>> = vec![None; depth];
        let mut backward: Vec<Option<(IntVec, IntVec, IntVec)>> = vec![None; depth];
        signals[depth - 1] = Some(IntVec::from_i128(&g_last));
        for l in (1..=depth).rev() {
            let (rows, cols) = self.shapes[l - 1];
            let g = signals[l - 1].as_ref().expect("signal of the layer above");
            let a_prev = if l == 1 { &batch.x } else { &forward[l - 2].relu.as_ref().expect("hidden layer").2 };
            let gw = exact_matmul(MatrixRef::new(a_prev, b, rows).t(), MatrixRef::new(g, b, cols))
                .map_err(matmul_error(l, "M3 G_W = Aᵀ·G"))?;
            gradients[l - 1] = Some(gw);
            if weights.biases[l - 1].is_some() {
                bias_gradients[l - 1] = Some(IntVec::from_i128(&bias_gradient(g, cols, self.params.scale_bits)));
            }
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

        // Update: W_(t+1) = W_t − m_t·G_W (m_t = 1 but under a learning-rate schedule).
        let m = self.spec.optimizer.multiplier_log2_at(step);
        let next: Vec<IntVec> = weights
            .layers
            .iter()
            .zip(&gradients)
            .map(|(w, gw)| w.difference_shifted(gw.as_ref().expect("gradient of every layer"), m))
            .collect();
        let next_biases: Vec<Option<IntVec>> = weights
            .biases
            .iter()
            .zip(&bias_gradients)
            .map(|(b, g)| b.as_ref().map(|b| b.difference_shifted(g.as_ref().expect("gradient of every bias"), m)))
            .collect();

        let layers = forward
            .into_iter()
            .zip(signals)
            .zip(gradients)
            .zip(backward)
            .zip(weights.biases.iter().cloned().zip(bias_gradients))
            .map(|((((f, signal), gradient), back), (bias, bias_gradient))| LayerTrace {
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
                bias,
                bias_gradient,
            })
            .collect();
        let next = FixedWeights {
            scale_bits: weights.scale_bits,
            shapes: weights.shapes.clone(),
            layers: next,
            biases: next_biases,
        };
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
        let mut z =
            exact_matmul(MatrixRef::new(input, rows, inputs), MatrixRef::new(&weights.layers[l - 1], inputs, cols))
                .map_err(|source| TrainingError::MatMul { step, layer: l, relation: "M1 Z = A·W", source })?;
        if let Some(bias) = &weights.biases[l - 1] {
            // (Bounded with Z: `StepBounds` counts the bias as one more term.)
            let mut values = z.to_i128();
            add_bias(&mut values, bias, self.params.scale_bits);
            z = IntVec::from_i128(&values);
        }
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
            // No examples, no accuracy: NaN (null in JSON), not a 0% that reads as a failed model.
            return Ok(Evaluation { loss: f64::NAN, accuracy: f64::NAN });
        }
        let mut loss = 0.0;
        let mut correct = 0usize;
        self.forward_chunks(weights, data, |batch, output| {
            let (loss_sum, right) = self.output_metrics(output, batch);
            loss += loss_sum;
            correct += right;
        })?;
        Ok(Evaluation { loss: loss / data.len() as f64, accuracy: correct as f64 / data.len() as f64 })
    }

    /// The fixed-point forward pass on every example: Z'^L per example in real units (`d_L` values at
    /// scale 2^R), row-major, as training computes it. The labels of `data` are not used.
    pub fn outputs(&self, weights: &FixedWeights, data: &Dataset) -> Result<Vec<f64>, TrainingError> {
        self.check_shapes(weights)?;
        let scale = (self.params.scale_bits as f64).exp2();
        let mut out = Vec::with_capacity(data.len() * self.output_width());
        self.forward_chunks(weights, data, |_, output| out.extend(output.iter().map(|&z| z as f64 / scale)))?;
        Ok(out)
    }

    /// Runs the forward pass over `data` in chunks of 256 examples, handing each chunk's batch and
    /// output Z'^L (row-major integers) to `each`.
    fn forward_chunks(
        &self,
        weights: &FixedWeights,
        data: &Dataset,
        mut each: impl FnMut(&Batch, &[i128]),
    ) -> Result<(), TrainingError> {
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(256) {
            let batch = self.batch(data, chunk, 0)?;
            let mut a = batch.x.clone();
            for l in 1..=self.depth() {
                let (_, rescaled, _) = self.forward_layer(&a, chunk.len(), weights, l, 0)?;
                if l < self.depth() {
                    a = IntVec::from_i128(&rescaled.iter().map(|&v| v.max(0)).collect::<Vec<_>>());
                } else {
                    each(&batch, &rescaled);
                }
            }
        }
        Ok(())
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
/// Z += 2^R·1·βᵀ for a row-major Z of β's width: β is at W's scale, 1.0 at the activations' 2^R.
pub fn add_bias(z: &mut [i128], bias: &IntVec, scale_bits: u32) {
    let shifted: Vec<i128> = bias.iter().map(|v| v << scale_bits).collect();
    for (i, v) in z.iter_mut().enumerate() {
        *v += shifted[i % shifted.len()];
    }
}

/// g_β = 2^R·1ᵀ·G: the column sums of a row-major signal with `cols` columns, at G_W's scale.
pub fn bias_gradient(signal: &IntVec, cols: usize, scale_bits: u32) -> Vec<i128> {
    let mut sums = vec![0i128; cols];
    for (i, v) in signal.iter().enumerate() {
        sums[i % cols] += v;
    }
    sums.into_iter().map(|s| s << scale_bits).collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use zkdl_compiler::NetworkSpec;

    fn digits() -> NetworkSpec {
        NetworkSpec::builder("digits")
            .input(64)
            .dense(32)
            .relu()
            .dense(32)
            .relu()
            .dense(10)
            .batch(32)
            .sgd(4)
            .build()
            .unwrap()
    }

    /// Whether k steps from weights `w` keep every value below the limit, by the definition.
    fn fits(bounds: &StepBounds, w: &[u128], k: u128) -> bool {
        bounds.layers.iter().zip(w).all(|(l, &w)| {
            let read = w + k.saturating_sub(1) * l.gradient;
            let left = w + k * l.gradient;
            l.fan_in * l.activation * read < bounds.limit
                && l.fan_out * l.signal * read < bounds.limit
                && left < bounds.limit
                && l.gradient < bounds.limit
        })
    }

    #[test]
    fn step_bounds_of_digits_are_the_range_checks() {
        let b = StepBounds::new(&digits());
        // R = 16, Q = 32, B = 32: |X| ≤ 2^17, hidden |A| ≤ 2^32, |G^L| ≤ 2^32 + 2^17, hidden |G| ≤ 2^32.
        assert_eq!(b.layers[0].activation, 1 << 17);
        assert_eq!(b.layers[1].activation, 1 << 32);
        assert_eq!(b.layers[2].signal, (1 << 32) + (1 << 17));
        assert_eq!(b.layers[1].signal, 1 << 32);
        assert_eq!(b.layers[1].gradient, 1 << 69);
        assert_eq!(b.layers[0].fan_out, 0);
        // Z = A·W + 2^R·β: 32 products and the bias.
        assert_eq!((b.layers[2].fan_in, b.layers[2].fan_out), (33, 10));
        // S_W = 2R + k = 32 + 9 = 41: |W_0| ≤ 2^42.
        assert_eq!(b.initial_weight, 1 << 42);
    }

    #[test]
    fn steps_within_limit_is_the_largest_k_that_fits() {
        let b = StepBounds::new(&digits());
        for w in [vec![b.initial_weight; 3], vec![1 << 60, 1 << 80, 1 << 70], vec![0, 0, 0], vec![1, 1 << 88, 1]] {
            let k = b.steps_within_limit(&w) as u128;
            assert!(k == 0 || fits(&b, &w, k), "{w:?}: {k} steps do not fit");
            assert!(!fits(&b, &w, k + 1), "{w:?}: {} steps fit too", k + 1);
        }
    }

    #[test]
    fn digits_trains_a_hundred_thousand_steps_from_any_admissible_w0() {
        let trainer = Trainer::new(&digits(), 100_000).unwrap();
        let horizon = trainer.static_horizon();
        // About (2^89 − 2^42) / 2^69 ≈ 2^20: the old exponent bounds stopped at 8192.
        assert!((1 << 19..=1 << 20).contains(&horizon), "{horizon}");
    }

    #[test]
    fn a_spec_whose_single_step_could_wrap_is_refused() {
        let wide = |q: u32| {
            NetworkSpec::builder("wide").input(64).dense(32).relu().dense(10).batch(32).sgd(4).range_bits(q).build()
        };
        // Q = 50: one step from W_0 fits (|Z| ≤ 2^5·2^50·2^42), the next is bounded from the weights read.
        assert_eq!(Trainer::new(&wide(50).unwrap(), 1).unwrap().static_horizon(), 1);
        // Q = 62: |G_W| ≤ 2^5·2^62·(2^62 + 2^17) > 2^126 in a single step.
        match Trainer::new(&wide(62).unwrap(), 1) {
            Err(TrainingError::TooWide { bits, .. }) => assert!(bits >= TRAINER_MAGNITUDE_LIMIT_LOG2),
            other => panic!("expected TooWide, got {other:?}"),
        }
    }

    #[test]
    fn weights_grown_too_large_stop_the_step_naming_the_layer() {
        let spec = digits();
        let trainer = Trainer::new(&spec, 1).unwrap();
        let mut weights = FixedWeights::he_init(&spec, 1).unwrap();
        let mut big = vec![0i128; 32 * 32];
        big[5] = 1i128 << 90;
        weights.layers[1] = IntVec::from_i128(&big);
        match trainer.steps_within_limit(&weights, 7) {
            Err(e @ TrainingError::WeightsTooLarge { step: 7, layer: 2, .. }) => {
                assert!(e.to_string().contains("step 7, layer 2"), "{e}")
            }
            other => panic!("expected WeightsTooLarge, got {other:?}"),
        }
    }
}
