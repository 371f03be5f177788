//! The witness of a training run, in the plan's stacked layout.
//!
//! A [`Witness`] holds every value of T steps: the batches (X_t, Y_t), the weights W_0 … W_T, and per
//! step and layer Z, Z', rz, s, m, A, G, H, H', rh and G_W ([`StepTrace`]). Values are integers in the
//! narrowest width that holds each tensor; sign and magnitude bits are packed ([`crate::training::integers`]).
//! W_t is stored once and read by the three stacked tensors that contain it (W for the matmuls of steps
//! 0 … T−1, the statement's W_0 and W_T).
//!
//! **Stacked layout.** [`Witness::entry`] reads stacked tensor P of the plan at index
//! i = (step, layer, plane, row, col) (most significant first, each part padded to a power of two,
//! `PROTOCOL.md` §5): the member tensor of layer `layers[layer]` at step `steps.first + step`, zero in
//! every padded position. Range-check bit planes are not stored: plane p of an n-bit two's complement
//! value v is ⌊v / 2^p⌋ mod 2, computed from the stored value when read, so the prover streams the bit
//! tensor b into its commitment instead of materializing it.
//!
//! **The bit tensor b.** Chunk c of a bit stacked tensor lies in b at `c.offset` as a sub-cube of
//! 2^`c.log_size` entries indexed (step, layer, plane − `c.first_plane`, row, col), the plane part padded
//! to `c.padded_planes`; [`Witness::bit`] reads b at any index, zero outside every chunk.
//!
//! **Self-check.** [`Witness::check_relations`] re-checks every relation of §4 for every step and layer
//! as an integer identity, independently of the trainer (plain i128 arithmetic), with the ranges of §3.

use rayon::prelude::*;

use crate::crypto::bits::BitVector;
use crate::training::exact_matmul::{naive_matmul, MatrixRef};
use crate::training::fixed_point::{sign_magnitude_range, twos_complement_bit, twos_complement_range};
use crate::training::integers::IntVec;
use crate::training::trainer::{Batch, StepTrace, Trainer, TrainingError};
use crate::training::weights::FixedWeights;
use crate::Fr;
use ark_ff::Zero;
use zkdl_compiler::ir::RangeChecked;
use zkdl_compiler::plan::StackedTensorId;
use zkdl_compiler::plan::{StackRole, Storage};
use zkdl_compiler::{Plan, Role};

/// Every value of a training run of T steps.
#[derive(Clone, Debug)]
pub struct Witness {
    pub plan: Plan,
    /// (X_t, Y_t), t = 0 … T−1.
    pub batches: Vec<Batch>,
    /// W_t, t = 0 … T; for a compact witness only W_0 and W_T ([`Witness::generate_compact`]).
    pub weights: Vec<FixedWeights>,
    /// Every tensor of step t, t = 0 … T−1 (a compact witness leaves G_W empty).
    pub traces: Vec<StepTrace>,
    /// b's chunks sorted by offset: (offset, log_size, tensor, chunk index).
    bit_chunks: Vec<(u64, u32, StackedTensorId, usize)>,
    /// Whether W_1 … W_(T−1) and every step's G_W were dropped.
    compact: bool,
}

/// A relation of `PROTOCOL.md` §4 that a witness does not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{relation} fails at step {step}, layer {layer}, entry ({row}, {col}): expected {expected}, found {found}")]
pub struct RelationViolation {
    pub relation: &'static str,
    pub step: usize,
    pub layer: usize,
    pub row: usize,
    pub col: usize,
    pub expected: i128,
    pub found: i128,
}

/// One member tensor of a stacked tensor.
#[derive(Clone, Copy, Debug)]
pub enum Member<'a> {
    Values(&'a IntVec),
    /// Packed planes, plane-major.
    Bits(&'a BitVector),
    /// Two's complement bit planes of a stored value.
    RangeBits(&'a IntVec),
    /// `2^shift · scaled + remainder`: Z or H of a compact witness, which keeps Z', rz, H' and rh
    /// (S1, S2) and not the 122-bit values they recompose.
    Recomposed {
        scaled: &'a IntVec,
        remainder: &'a IntVec,
        shift: u32,
    },
    /// `s ⊙ values`: a hidden A = s ⊙ Z' or G = s ⊙ H' of a compact witness.
    Masked {
        sign: &'a BitVector,
        values: &'a IntVec,
    },
    /// zkReLU's magnitude bit planes of a compact witness, from Z' and s: plane p of entry i is bit p
    /// of m = Z' − 1 + (1 − s)·2^Q.
    Magnitude {
        sign: &'a BitVector,
        scaled: &'a IntVec,
        range_bits: u32,
    },
}

impl Member<'_> {
    /// Entry `i` of a member of values (`Values` or `Recomposed`).
    fn value(&self, i: usize) -> Option<i128> {
        match self {
            Member::Values(v) => Some(v.get(i)),
            Member::Recomposed { scaled, remainder, shift } => Some((scaled.get(i) << shift) + remainder.get(i)),
            Member::Masked { sign, values } => Some(if sign.get(i) { values.get(i) } else { 0 }),
            Member::Bits(_) | Member::RangeBits(_) | Member::Magnitude { .. } => None,
        }
    }

    /// Bit `plane` of entry `i` of a member of bits (`Bits`, `RangeBits`, `Magnitude`; `plane_len`
    /// entries per plane), or whether a member of values is 1 there.
    fn bit(&self, plane: usize, plane_len: usize, i: usize) -> bool {
        match self {
            Member::Bits(b) => b.get(plane * plane_len + i),
            Member::RangeBits(v) => twos_complement_bit(v.get(i), plane as u32),
            Member::Magnitude { sign, scaled, range_bits } => {
                (crate::training::fixed_point::magnitude(scaled.get(i), sign.get(i), *range_bits) >> plane) & 1 == 1
            }
            values => values.value(i) == Some(1),
        }
    }
}

impl Witness {
    /// Trains T = `plan.steps` steps from `initial` on `batches` (one per step), recording everything.
    /// `progress` is called after each step with the step's trace.
    pub fn generate(
        plan: &Plan,
        initial: FixedWeights,
        batches: Vec<Batch>,
        progress: impl FnMut(u64, &StepTrace),
    ) -> Result<Witness, TrainingError> {
        Self::generate_keeping(plan, initial, batches, true, progress)
    }

    /// As [`generate`](Self::generate), keeping only what the prover reads: W_0, W_T and the steps'
    /// activation-sized tensors. W_1 … W_(T−1) and every step's G_W — `T · |W|` integers each — are
    /// dropped; the prover walks them from W_0 and the steps' A and G (`proof::weight_walk`), and
    /// [`check_relations`](Self::check_relations) recomputes them. Memory is then the weights twice
    /// plus the activations of T steps.
    pub fn generate_compact(
        plan: &Plan,
        initial: FixedWeights,
        batches: Vec<Batch>,
        progress: impl FnMut(u64, &StepTrace),
    ) -> Result<Witness, TrainingError> {
        Self::generate_keeping(plan, initial, batches, false, progress)
    }

    fn generate_keeping(
        plan: &Plan,
        initial: FixedWeights,
        batches: Vec<Batch>,
        keep_all: bool,
        mut progress: impl FnMut(u64, &StepTrace),
    ) -> Result<Witness, TrainingError> {
        let trainer = Trainer::new(&plan.spec, plan.steps as u64)?;
        if batches.len() != plan.steps as usize {
            return Err(TrainingError::Mismatch(format!(
                "{} batches for a plan of T = {} steps",
                batches.len(),
                plan.steps
            )));
        }
        trainer.check_initial_weights(&initial)?;
        let mut weights = vec![initial];
        let mut traces = Vec::with_capacity(batches.len());
        for (t, batch) in batches.iter().enumerate() {
            let current = weights.last().expect("W_0 is there");
            // The run's step: it sets a learning-rate schedule's rate (and names the step in errors).
            let step = plan.initial_weights.steps_before() + t as u64;
            let (mut trace, next) = trainer.step(current, batch, step)?;
            progress(t as u64, &trace);
            if !keep_all {
                trace.drop_weight_gradients();
                trace.drop_derivable();
                if t > 0 {
                    weights.pop();
                }
            }
            traces.push(trace);
            weights.push(next);
        }
        let mut witness = Witness::from_parts(plan, batches, weights, traces);
        witness.compact = !keep_all;
        Ok(witness)
    }

    /// A compact witness ([`generate_compact`](Self::generate_compact)) from the values of a run: W_0,
    /// W_T, and traces whose G_W may be dropped.
    pub fn from_compact_parts(
        plan: &Plan,
        batches: Vec<Batch>,
        initial: FixedWeights,
        last: FixedWeights,
        mut traces: Vec<StepTrace>,
    ) -> Witness {
        for trace in &mut traces {
            trace.drop_weight_gradients();
            trace.drop_derivable();
        }
        let mut witness = Witness::from_parts(plan, batches, vec![initial, last], traces);
        witness.compact = true;
        witness
    }

    /// Whether this is a compact witness ([`generate_compact`](Self::generate_compact)).
    pub fn is_compact(&self) -> bool {
        self.compact
    }

    /// W_t, if the witness holds it (a compact one holds W_0 and W_T).
    pub fn weights_at(&self, t: usize) -> Option<&FixedWeights> {
        if !self.compact {
            return self.weights.get(t);
        }
        match t {
            0 => self.weights.first(),
            t if t == self.steps() => self.weights.last(),
            _ => None,
        }
    }

    /// A witness from the values of a run: `weights` holds W_0 … W_T, one more than `batches` and `traces`.
    pub fn from_parts(plan: &Plan, batches: Vec<Batch>, weights: Vec<FixedWeights>, traces: Vec<StepTrace>) -> Witness {
        let mut bit_chunks: Vec<(u64, u32, StackedTensorId, usize)> = plan
            .tensors
            .iter()
            .filter_map(|t| match &t.storage {
                Storage::BitPlanes(chunks) => {
                    Some(chunks.iter().enumerate().map(move |(i, c)| (c.offset, c.log_size, t.id, i)))
                }
                _ => None,
            })
            .flatten()
            .collect();
        bit_chunks.sort();
        Witness { plan: plan.clone(), batches, weights, traces, bit_chunks, compact: false }
    }

    pub fn steps(&self) -> usize {
        self.traces.len()
    }

    /// The batch size B.
    pub fn batch_size(&self) -> usize {
        self.plan.spec.batch as usize
    }

    /// (d_(l−1), d_l) of layer `l` (1-based).
    pub fn layer_shape(&self, l: usize) -> (usize, usize) {
        self.weights[0].shapes[l - 1]
    }

    /// W_0^l, row-major d_(l−1) × d_l.
    pub fn initial_layer(&self, l: usize) -> &IntVec {
        &self.weights[0].layers[l - 1]
    }

    /// A^(l−1) of step `s`, the input of layer `l` (X_s for l = 1): B × d_(l−1); s ⊙ Z' where a
    /// compact witness dropped A.
    pub fn layer_input(&self, l: usize, s: usize) -> std::borrow::Cow<'_, IntVec> {
        if l == 1 {
            std::borrow::Cow::Borrowed(&self.batches[s].x)
        } else {
            self.traces[s].layers[l - 2].activation_values().expect("a hidden layer has a ReLU")
        }
    }

    /// G^l of step `s`, the signal of layer `l`: B × d_l; s ⊙ H' where a compact witness dropped it.
    pub fn layer_signal(&self, l: usize, s: usize) -> std::borrow::Cow<'_, IntVec> {
        self.traces[s].layers[l - 1].signal_values()
    }

    /// The member of a stacked role at (layer, step), or `None` if the run has no such tensor.
    pub fn member<'a>(&'a self, role: StackRole, layer: u32, step: u32) -> Option<Member<'a>> {
        let (l, t) = (layer as usize, step as usize);
        let depth = self.plan.spec.depth();
        let trace = |t: usize| self.traces.get(t).and_then(|s| s.layers.get(l.checked_sub(1)?));
        let relu = |t: usize| trace(t).and_then(|x| x.relu.as_ref());
        let weight = |t: usize| self.weights_at(t).and_then(|w| w.layers.get(l.checked_sub(1)?));
        // β_t: from the weights where held (W_0, W_T, every W_t of a full witness), else from the
        // trace of the step that read it.
        let bias = |t: usize| match self.weights_at(t) {
            Some(w) => w.biases.get(l.checked_sub(1)?)?.as_ref(),
            None => trace(t)?.bias.as_ref(),
        };
        let shift = self.plan.params.weight_scale_bits;
        // Z and H as stored, or recomposed from Z', rz (H', rh) where a compact witness dropped them.
        let recomposable = |stored: &'a IntVec, scaled: &'a IntVec, remainder: &'a IntVec| {
            if stored.is_empty() && !scaled.is_empty() {
                Member::Recomposed { scaled, remainder, shift }
            } else {
                Values(stored)
            }
        };
        use Member::{Bits, RangeBits, Values};
        Some(match role {
            StackRole::InitialWeight | StackRole::FinalWeight | StackRole::Tensor(Role::Weight) => Values(weight(t)?),
            StackRole::InitialBias | StackRole::FinalBias | StackRole::Tensor(Role::Bias) => Values(bias(t)?),
            StackRole::AllBits => return None,
            StackRole::Tensor(r) => match r {
                Role::Input => Values(&self.batches.get(t)?.x),
                Role::Target => Values(&self.batches.get(t)?.y),
                Role::Weight | Role::Bias => unreachable!("matched above"),
                Role::BiasGradient => Values(trace(t)?.bias_gradient.as_ref()?),
                Role::PreActivation => {
                    let x = trace(t)?;
                    recomposable(&x.pre_activation, &x.rescaled, &x.remainder)
                }
                Role::Rescaled => Values(&trace(t)?.rescaled),
                Role::Remainder => Values(&trace(t)?.remainder),
                Role::SignBits => Bits(&relu(t)?.sign),
                Role::MagnitudeBits => match relu(t)? {
                    r if r.magnitude.is_empty() => Member::Magnitude {
                        sign: &r.sign,
                        scaled: &trace(t)?.rescaled,
                        range_bits: self.plan.params.range_bits,
                    },
                    r => Bits(&r.magnitude),
                },
                Role::Activation => match relu(t)? {
                    r if r.activation.is_empty() => Member::Masked { sign: &r.sign, values: &trace(t)?.rescaled },
                    r => Values(&r.activation),
                },
                Role::Signal => match trace(t)? {
                    x if x.signal.is_empty() => {
                        let r = x.relu.as_ref()?;
                        Member::Masked { sign: &r.sign, values: &r.backward_rescaled }
                    }
                    x => Values(&x.signal),
                },
                Role::BackwardPreActivation => {
                    let r = relu(t)?;
                    recomposable(&r.backward_pre_activation, &r.backward_rescaled, &r.backward_remainder)
                }
                Role::BackwardRescaled => Values(&relu(t)?.backward_rescaled),
                Role::BackwardRemainder => Values(&relu(t)?.backward_remainder),
                Role::WeightGradient if self.compact => return None,
                Role::WeightGradient => Values(&trace(t)?.weight_gradient),
                Role::RangeBits(of) => RangeBits(match of {
                    RangeChecked::Input => &self.batches.get(t)?.x,
                    RangeChecked::Target => &self.batches.get(t)?.y,
                    RangeChecked::InitialWeight => weight(0)?,
                    RangeChecked::InitialBias => bias(0)?,
                    RangeChecked::Remainder => &trace(t)?.remainder,
                    RangeChecked::OutputRescaled if l == depth => &trace(t)?.rescaled,
                    RangeChecked::OutputRescaled => return None,
                    RangeChecked::BackwardRescaled => &relu(t)?.backward_rescaled,
                    RangeChecked::BackwardRemainder => &relu(t)?.backward_remainder,
                }),
            },
        })
    }

    /// Entry `index` of stacked tensor `id` (module docs); zero in padding.
    pub fn entry(&self, id: StackedTensorId, index: u64) -> i128 {
        let Some(tensor) = self.plan.tensors.get(id.0 as usize) else { return 0 };
        if tensor.role == StackRole::AllBits {
            return self.bit(index) as i128;
        }
        let l = tensor.layout;
        let Some([col, row, plane, layer, step]) =
            split_index(index, [l.col_bits, l.row_bits, l.plane_bits, l.layer_bits, l.step_bits])
        else {
            return 0;
        };
        self.member_entry(id, step, layer, plane, row, col)
    }

    /// Entry (step, layer position, plane, row, col) of stacked tensor `id`, zero outside the members.
    fn member_entry(&self, id: StackedTensorId, step: u64, layer: u64, plane: u64, row: u64, col: u64) -> i128 {
        match self.member_row(id, step, layer, plane, row) {
            Some(r) if col < r.cols as u64 => {
                member_value(Some(&r.member), r.plane, r.plane_len, r.base + col as usize)
            }
            _ => 0,
        }
    }

    /// The member holding row (step, layer position, plane, row) of stacked tensor `id`, or `None`
    /// where that row is padding.
    fn member_row(&self, id: StackedTensorId, step: u64, layer: u64, plane: u64, row: u64) -> Option<MemberRow<'_>> {
        let tensor = &self.plan.tensors[id.0 as usize];
        let (&layer_id, shape) = (tensor.layers.get(layer as usize)?, tensor.shapes.get(layer as usize)?);
        if step >= tensor.steps.count as u64 || plane >= shape.planes as u64 || row >= shape.rows as u64 {
            return None;
        }
        let member = self.member(tensor.role, layer_id, tensor.steps.first + step as u32)?;
        let cols = shape.cols as usize;
        Some(MemberRow {
            member,
            plane: plane as usize,
            plane_len: shape.rows as usize * cols,
            base: row as usize * cols,
            cols,
        })
    }

    /// Entries `start … start + out.len()` of stacked tensor `id` as field elements ([`entry`](Self::entry)),
    /// looking up the member once per row of a row-aligned range.
    pub fn fill_field(&self, id: StackedTensorId, start: u64, out: &mut [Fr]) {
        let Some(tensor) = self.plan.tensors.get(id.0 as usize) else {
            return out.iter_mut().for_each(|o| *o = Fr::zero());
        };
        let l = tensor.layout;
        let row_len = 1usize << l.col_bits;
        if tensor.role == StackRole::AllBits || start as usize % row_len != 0 || out.len() % row_len != 0 {
            out.par_iter_mut().enumerate().with_min_len(1 << 12).for_each(|(i, o)| {
                *o = Fr::from(self.entry(id, start + i as u64));
            });
            return;
        }
        out.par_chunks_mut(row_len).enumerate().with_min_len((1 << 12) / row_len.min(1 << 12)).for_each(|(r, out)| {
            let index = start + (r * row_len) as u64;
            let widths = [l.col_bits, l.row_bits, l.plane_bits, l.layer_bits, l.step_bits];
            let row = split_index(index, widths)
                .and_then(|[_, row, plane, layer, step]| self.member_row(id, step, layer, plane, row));
            match row {
                Some(r) => {
                    for (c, o) in out.iter_mut().enumerate() {
                        *o = match c < r.cols {
                            true => Fr::from(member_value(Some(&r.member), r.plane, r.plane_len, r.base + c)),
                            false => Fr::zero(),
                        };
                    }
                }
                None => out.iter_mut().for_each(|o| *o = Fr::zero()),
            }
        });
    }

    /// Bit `index` of the stacked bit tensor b; zero outside every chunk.
    pub fn bit(&self, index: u64) -> bool {
        let at = self.bit_chunks.partition_point(|c| c.0 <= index);
        let Some(&(offset, log_size, id, chunk)) = at.checked_sub(1).and_then(|i| self.bit_chunks.get(i)) else {
            return false;
        };
        let local = index - offset;
        if local >= 1u64 << log_size {
            return false;
        }
        let tensor = &self.plan.tensors[id.0 as usize];
        let Storage::BitPlanes(chunks) = &tensor.storage else { return false };
        let c = chunks[chunk];
        let l = tensor.layout;
        let Some([col, row, plane, layer, step]) =
            split_index(local, [l.col_bits, l.row_bits, c.padded_planes.ilog2(), l.layer_bits, l.step_bits])
        else {
            return false;
        };
        if plane >= c.planes as u64 {
            return false;
        }
        self.member_entry(id, step, layer, c.first_plane as u64 + plane, row, col) == 1
    }

    /// The whole bit tensor b, packed: equal to [`bit`](Self::bit) at every index, built a word at a
    /// time (64 consecutive columns of one row of one plane share their member lookup).
    pub fn bit_tensor(&self) -> crate::crypto::bits::BitVector {
        let len = 1usize << self.plan.bit_tensor_vars;
        let words = (0..len.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let start = 64 * w as u64;
                let count = (len as u64 - start).min(64);
                self.bit_word(start, count)
                    .unwrap_or_else(|| (0..count).fold(0u64, |word, k| word | (u64::from(self.bit(start + k)) << k)))
            })
            .collect();
        crate::crypto::bits::BitVector::from_words(words, len)
    }

    /// Bits `start … start + 63` of b when they are 64 columns of one row inside one chunk; `None`
    /// when the word needs the bit-by-bit path.
    fn bit_word(&self, start: u64, count: u64) -> Option<u64> {
        let at = self.bit_chunks.partition_point(|c| c.0 <= start);
        let &(offset, log_size, id, chunk) = self.bit_chunks.get(at.checked_sub(1)?)?;
        let local = start - offset;
        let tensor = &self.plan.tensors[id.0 as usize];
        let Storage::BitPlanes(chunks) = &tensor.storage else { return None };
        let c = chunks[chunk];
        let l = tensor.layout;
        if count != 64 || l.col_bits < 6 || local + 64 > 1u64 << log_size {
            return None;
        }
        let [col, row, plane, layer, step] =
            split_index(local, [l.col_bits, l.row_bits, c.padded_planes.ilog2(), l.layer_bits, l.step_bits])?;
        let (Some(&layer_id), Some(shape)) = (tensor.layers.get(layer as usize), tensor.shapes.get(layer as usize))
        else {
            return Some(0);
        };
        if plane >= c.planes as u64 || step >= tensor.steps.count as u64 || row >= shape.rows as u64 {
            return Some(0);
        }
        let plane = c.first_plane as u64 + plane;
        if plane >= shape.planes as u64 {
            return Some(0);
        }
        let member = self.member(tensor.role, layer_id, tensor.steps.first + step as u32);
        let cols = (shape.cols as u64).saturating_sub(col).min(64);
        let base = (row * shape.cols as u64 + col) as usize;
        let mut word = 0u64;
        let plane_len = (shape.rows * shape.cols) as usize;
        for k in 0..cols as usize {
            let bit = member.is_some_and(|m| m.bit(plane as usize, plane_len, base + k));
            word |= u64::from(bit) << k;
        }
        Some(word)
    }

    /// Per-step losses.
    pub fn losses(&self) -> Vec<f64> {
        self.traces.iter().map(|t| t.loss).collect()
    }

    /// Heap bytes held: batches, weights W_0 … W_T and every step's trace.
    pub fn heap_bytes(&self) -> usize {
        let batches: usize = self
            .batches
            .iter()
            .map(|b| b.x.heap_bytes() + b.y.heap_bytes() + b.labels.capacity() * 4 + b.indices.capacity() * 8)
            .sum();
        let weights: usize = self.weights.iter().map(FixedWeights::heap_bytes).sum();
        let traces: usize = self.traces.iter().map(StepTrace::heap_bytes).sum();
        batches + weights + traces
    }

    /// The raw size of the run's integers: every distinct value (each entry of X_t, Y_t, W_0 … W_T and of
    /// every step tensor, sign and magnitude bits at one bit each) in ⌈bits/8⌉ bytes, where `bits` is the
    /// two's complement width of the tensor's largest entry. No padding, no duplicates, no field elements.
    pub fn raw_integer_bytes(&self) -> u64 {
        fn bytes(v: &IntVec) -> u64 {
            let (min, max) = v.iter().fold((0i128, 0i128), |(lo, hi), x| (lo.min(x), hi.max(x)));
            // [min, max] ∋ 0 fits n-bit two's complement iff max < 2^(n−1) and −min − 1 < 2^(n−1).
            let magnitude = max.max(-(min + 1)) as u128;
            let bits = 1 + (128 - magnitude.leading_zeros());
            v.len() as u64 * bits.div_ceil(8) as u64
        }
        let mut total = 0u64;
        for b in &self.batches {
            total += bytes(&b.x) + bytes(&b.y);
        }
        for w in &self.weights {
            total += w.layers.iter().map(bytes).sum::<u64>();
        }
        for t in &self.traces {
            for l in &t.layers {
                total += bytes(&l.pre_activation)
                    + bytes(&l.rescaled)
                    + bytes(&l.remainder)
                    + bytes(&l.signal)
                    + bytes(&l.weight_gradient);
                if let Some(r) = &l.relu {
                    total += (r.sign.len() + r.magnitude.len()).div_ceil(8) as u64;
                    total += bytes(&r.activation)
                        + bytes(&r.backward_pre_activation)
                        + bytes(&r.backward_rescaled)
                        + bytes(&r.backward_remainder);
                }
            }
        }
        total
    }

    /// Checks every relation of `PROTOCOL.md` §4, and the ranges of §3, for every step and layer.
    pub fn check_relations(&self) -> Result<(), RelationViolation> {
        let p = self.plan.params;
        let depth = self.plan.spec.depth();
        let b = self.plan.spec.batch as usize;
        let shapes = &self.weights[0].shapes;
        let check_range = |relation: &'static str,
                           values: &IntVec,
                           (min, max): (i128, i128),
                           step: usize,
                           layer: usize,
                           cols: usize| {
            match values.iter().position(|v| !(min..=max).contains(&v)) {
                None => Ok(()),
                Some(i) => {
                    let found = values.get(i);
                    let expected = found.clamp(min, max);
                    Err(RelationViolation { relation, step, layer, row: i / cols, col: i % cols, expected, found })
                }
            }
        };
        let equal =
            |relation: &'static str, expected: &[i128], found: &IntVec, step: usize, layer: usize, cols: usize| {
                if expected.len() != found.len() {
                    return Err(RelationViolation {
                        relation,
                        step,
                        layer,
                        row: 0,
                        col: 0,
                        expected: expected.len() as i128,
                        found: found.len() as i128,
                    });
                }
                match expected.iter().zip(found.iter()).position(|(&e, f)| e != f) {
                    None => Ok(()),
                    Some(i) => Err(RelationViolation {
                        relation,
                        step,
                        layer,
                        row: i / cols,
                        col: i % cols,
                        expected: expected[i],
                        found: found.get(i),
                    }),
                }
            };
        let product = |relation: &'static str, a: MatrixRef<'_>, w: MatrixRef<'_>, step: usize, layer: usize| {
            naive_matmul(a, w).map_err(|_| RelationViolation {
                relation,
                step,
                layer,
                row: 0,
                col: 0,
                expected: 0,
                found: 0,
            })
        };
        let data_range = twos_complement_range(p.data_bits);
        let wide_range = twos_complement_range(p.range_bits + 1);
        let remainder_range = twos_complement_range(p.weight_scale_bits);
        for (l, w) in self.weights[0].layers.iter().enumerate() {
            check_range("range check of W_0", w, twos_complement_range(p.weight_bits), 0, l + 1, shapes[l].1)?;
        }
        for (l, bias) in self.weights[0].biases.iter().enumerate() {
            if let Some(bias) = bias {
                check_range("range check of β_0", bias, twos_complement_range(p.weight_bits), 0, l + 1, shapes[l].1)?;
            }
        }
        // A compact witness's W_t, walked from W_0 with the recomputed G_W.
        let mut walked = self.compact.then(|| self.weights[0].clone());
        for (t, (batch, trace)) in self.batches.iter().zip(&self.traces).enumerate() {
            check_range("range check of X", &batch.x, data_range, t, 0, shapes[0].0)?;
            check_range("range check of Y", &batch.y, data_range, t, depth, shapes[depth - 1].1)?;
            let weights = match walked.as_ref() {
                Some(w) => w,
                None => &self.weights[t],
            };
            let mut next_layers = Vec::with_capacity(depth);
            let mut next_biases = Vec::with_capacity(depth);
            for l in 1..=depth {
                let (rows, cols) = shapes[l - 1];
                let layer = &trace.layers[l - 1];
                let a_prev = if l == 1 {
                    std::borrow::Cow::Borrowed(&batch.x)
                } else {
                    trace.layers[l - 2].activation_values().ok_or_else(|| missing(t, l - 1))?
                };
                let a_prev = a_prev.as_ref();
                let signal = layer.signal_values();
                let w = MatrixRef::new(&weights.layers[l - 1], rows, cols);
                // M1, S1 (Z = A·W + 2^R·1·βᵀ with a bias).
                let mut z = product("M1 forward matmul", MatrixRef::new(a_prev, b, rows), w, t, l)?;
                let bias = weights.biases[l - 1].as_ref();
                if let Some(beta) = bias {
                    if let Some(read) = &layer.bias {
                        // The β the step recorded is the β_t of the run (a compact witness proves from it).
                        equal("U1 bias update", &beta.to_i128(), read, t, l, cols)?;
                    }
                    crate::training::trainer::add_bias(&mut z, beta, p.scale_bits);
                }
                check_range("range check of rz", &layer.remainder, remainder_range, t, l, cols)?;
                let recomposed: Vec<i128> = layer
                    .rescaled
                    .iter()
                    .zip(layer.remainder.iter())
                    .map(|(z, r)| (z << p.weight_scale_bits) + r)
                    .collect();
                if layer.pre_activation.is_empty() {
                    // A compact witness's Z is 2^S·Z' + rz (S1 by definition): M1 checks that.
                    equal("M1 forward matmul", &z, &IntVec::from_i128(&recomposed), t, l, cols)?;
                } else {
                    equal("M1 forward matmul", &z, &layer.pre_activation, t, l, cols)?;
                    equal("S1 forward rescale", &recomposed, &layer.pre_activation, t, l, cols)?;
                }
                match &layer.relu {
                    Some(relu) => {
                        // zkReLU: Z' − 1 = m − (1 − s)·2^Q with m < 2^Q, and A = s ⊙ Z' (H1).
                        let n = layer.rescaled.len();
                        let q = p.range_bits;
                        // A compact witness's bits are those of m = Z' − 1 + (1 − s)·2^Q (`Member::Magnitude`):
                        // they recompose Z' only when m is in [0, 2^Q), i.e. s = [Z' > 0] and Z' in range.
                        let bit = |j: usize, i: usize| match relu.magnitude.is_empty() {
                            true => {
                                (crate::training::fixed_point::magnitude(layer.rescaled.get(i), relu.sign.get(i), q)
                                    >> j)
                                    & 1
                                    == 1
                            }
                            false => relu.magnitude.get(j * n + i),
                        };
                        let from_bits: Vec<i128> = (0..n)
                            .map(|i| {
                                let m: i128 = (0..q as usize).map(|j| (bit(j, i) as i128) << j).sum();
                                let s = relu.sign.get(i) as i128;
                                m + 1 - ((1 - s) << q)
                            })
                            .collect();
                        equal("zkReLU sign and magnitude bits", &from_bits, &layer.rescaled, t, l, cols)?;
                        check_range("range check of Z'", &layer.rescaled, sign_magnitude_range(q), t, l, cols)?;
                        let activation: Vec<i128> =
                            (0..n).map(|i| if relu.sign.get(i) { layer.rescaled.get(i) } else { 0 }).collect();
                        if !relu.activation.is_empty() {
                            // (A compact witness's A is s ⊙ Z' by definition.)
                            equal("H1 ReLU", &activation, &relu.activation, t, l, cols)?;
                        }
                    }
                    None => {
                        check_range("range check of Z'^L", &layer.rescaled, wide_range, t, l, cols)?;
                        let g: Vec<i128> = layer.rescaled.iter().zip(batch.y.iter()).map(|(z, y)| z - y).collect();
                        equal("L1 loss gradient", &g, &signal, t, l, cols)?;
                    }
                }
                // M3.
                let gw = product(
                    "M3 weight gradient",
                    MatrixRef::new(a_prev, b, rows).t(),
                    MatrixRef::new(&signal, b, cols),
                    t,
                    l,
                )?;
                if !self.compact {
                    equal("M3 weight gradient", &gw, &layer.weight_gradient, t, l, cols)?;
                }
                // M4: g_β = 2^R·1ᵀ·G.
                let bias_gradient: Option<Vec<i128>> =
                    bias.map(|_| crate::training::trainer::bias_gradient(signal.as_ref(), cols, p.scale_bits));
                if let (Some(expected), Some(found)) = (&bias_gradient, &layer.bias_gradient) {
                    equal("M4 bias gradient", expected, found, t, l, cols)?;
                }
                // M2, S2, H2 into layer l − 1.
                if l > 1 {
                    let below = &trace.layers[l - 2];
                    let relu = below.relu.as_ref().ok_or_else(|| missing(t, l - 1))?;
                    let h = product("M2 backward matmul", MatrixRef::new(&signal, b, cols), w.t(), t, l - 1)?;
                    check_range("range check of rh", &relu.backward_remainder, remainder_range, t, l - 1, rows)?;
                    check_range("range check of H'", &relu.backward_rescaled, wide_range, t, l - 1, rows)?;
                    let recomposed: Vec<i128> = relu
                        .backward_rescaled
                        .iter()
                        .zip(relu.backward_remainder.iter())
                        .map(|(h, r)| (h << p.weight_scale_bits) + r)
                        .collect();
                    if relu.backward_pre_activation.is_empty() {
                        equal("M2 backward matmul", &h, &IntVec::from_i128(&recomposed), t, l - 1, rows)?;
                    } else {
                        equal("M2 backward matmul", &h, &relu.backward_pre_activation, t, l - 1, rows)?;
                        equal("S2 backward rescale", &recomposed, &relu.backward_pre_activation, t, l - 1, rows)?;
                    }
                    let g: Vec<i128> = (0..relu.sign.len())
                        .map(|i| if relu.sign.get(i) { relu.backward_rescaled.get(i) } else { 0 })
                        .collect();
                    if !below.signal.is_empty() {
                        // (A compact witness's hidden G is s ⊙ H' by definition.)
                        equal("H2 ReLU backward", &g, &below.signal, t, l - 1, rows)?;
                    }
                }
                // U1.
                let m = self.plan.update_multiplier_log2(t as u64);
                let next: Vec<i128> = weights.layers[l - 1].iter().zip(&gw).map(|(w, g)| w - (g << m)).collect();
                let next_bias: Option<Vec<i128>> = bias
                    .zip(bias_gradient.as_ref())
                    .map(|(beta, g)| beta.iter().zip(g).map(|(v, g)| v - (g << m)).collect());
                if self.compact {
                    next_layers.push(IntVec::from_i128(&next));
                    next_biases.push(next_bias.map(|v| IntVec::from_i128(&v)));
                } else {
                    equal("U1 update", &next, &self.weights[t + 1].layers[l - 1], t, l, cols)?;
                    match (&next_bias, &self.weights[t + 1].biases[l - 1]) {
                        (Some(expected), Some(found)) => equal("U1 bias update", expected, found, t, l, cols)?,
                        (None, None) => {}
                        _ => return Err(missing(t, l)),
                    }
                }
            }
            if let Some(w) = walked.as_mut() {
                w.layers = next_layers;
                w.biases = next_biases;
            }
        }
        if let (Some(walked), Some(last)) = (&walked, self.weights.last()) {
            let t = self.steps().saturating_sub(1);
            for (l, (w, stored)) in walked.layers.iter().zip(&last.layers).enumerate() {
                equal("U1 update", &w.to_i128(), stored, t, l + 1, shapes[l].1)?;
            }
            for (l, (b, stored)) in walked.biases.iter().zip(&last.biases).enumerate() {
                match (b, stored) {
                    (Some(b), Some(stored)) => equal("U1 bias update", &b.to_i128(), stored, t, l + 1, shapes[l].1)?,
                    (None, None) => {}
                    _ => return Err(missing(t, l + 1)),
                }
            }
        }
        Ok(())
    }
}

/// Splits an index into parts of the given widths, least significant first; `None` if bits remain.
/// One row of a member: entry `base + c` (of plane `plane`, `plane_len` entries each) for `c < cols`.
struct MemberRow<'a> {
    member: Member<'a>,
    plane: usize,
    plane_len: usize,
    base: usize,
    cols: usize,
}

/// Entry `i` of plane `plane` (of `plane_len` entries) of a member; zero for none.
fn member_value(member: Option<&Member<'_>>, plane: usize, plane_len: usize, i: usize) -> i128 {
    match member {
        Some(m @ (Member::Values(_) | Member::Recomposed { .. } | Member::Masked { .. })) => m.value(i).unwrap_or(0),
        Some(m) => i128::from(m.bit(plane, plane_len, i)),
        None => 0,
    }
}

fn split_index(index: u64, widths: [u32; 5]) -> Option<[u64; 5]> {
    let mut rest = index;
    let parts = widths.map(|bits| {
        let part = rest & ((1u64 << bits) - 1);
        rest >>= bits;
        part
    });
    (rest == 0).then_some(parts)
}

fn missing(step: usize, layer: usize) -> RelationViolation {
    RelationViolation {
        relation: "zkReLU values of a hidden layer",
        step,
        layer,
        row: 0,
        col: 0,
        expected: 1,
        found: 0,
    }
}
