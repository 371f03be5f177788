//! Claim routing between a relation's index space and the stacked tensors (`PROTOCOL.md` §5).
//!
//! An aggregated relation R runs over its own instances (t, j), t < T_R steps and j < |layers(R)|,
//! indexed `t · 2^{⌈log |layers(R)|⌉} + j`. Its *view* of an operand tensor P is
//!
//! ```text
//!     P_R(t, j, y) = P(σ(t, j), y)        for real instances (t, j), zero at padded ones,
//! ```
//!
//! where `σ(t, j) = (t_R + t + offset − t_P) · 2^{layer bits of P} + position_j` re-indexes the instance
//! and `y` is P's (plane, row, column) index. A claim on the view with weight
//! `w_R(t, j) · W_y(y)` is therefore the weighted claim on P with instance weight
//! `w_P(σ(t, j)) = w_R(t, j)` (zero off the image of σ). When the routing is the identity the view is
//! P itself and a point claim stays a point claim.
//!
//! **Bit planes.** A claim on a bit stacked tensor with weight `w(inst) · c(plane) · eq(u, (row, col))`
//! is a claim on the chunks of b that hold its planes: chunk `c` at offset `o` (a multiple of its size
//! `2^s`) holds planes `f … f + p − 1` indexed `(inst, plane − f, row, col)`, so the claim splits into
//! one weighted claim per chunk on b, with weight `eq(o / 2^s, x_high) · w · c_chunk · eq(u, ·)`; the
//! prover sends each chunk's value and the verifier checks that they add up to the claim.
//!
//! **Used regions.** [`used_region`] is the indicator of the entries of a stacked tensor that hold real
//! values (real steps, layers, planes, rows, columns); [`bit_tensor_used_region`] is that of b. Both are
//! sums of Kronecker products of prefix indicators, evaluated by the verifier in `O(n)` per box.

use zkdl_compiler::plan::{AggregatedRelation, BitChunk, Operand, StackedTensor, Storage};
use zkdl_compiler::spec::ceil_log2;
use zkdl_compiler::Plan;

use crate::crypto::sumcheck::PublicTensor;
use crate::crypto::tensor::bind_leading;
use crate::error::VerificationError;
use crate::Fr;
use ark_ff::{One, Zero};
use rayon::prelude::*;

/// The name of a relation in errors and transcripts, e.g. `R3 M2 MatMulBackward (layers 2..8)`.
pub fn relation_name(relation: &AggregatedRelation) -> String {
    let layers = match (relation.layers.first(), relation.layers.last()) {
        (Some(a), Some(b)) if a == b => format!(" (layer {a})"),
        (Some(a), Some(b)) => format!(" (layers {a}..{b})"),
        _ => String::new(),
    };
    format!("R{} {} {}{layers}", relation.id.0, relation.kind.protocol_name(), relation.kind.name())
}

/// Bits of the relation's instance index: (step bits, layer bits).
pub fn relation_instance_bits(relation: &AggregatedRelation) -> (usize, usize) {
    (ceil_log2(relation.steps.count as u64) as usize, ceil_log2(relation.layers.len() as u64) as usize)
}

/// Bits of a stacked tensor's (plane, row, column) index.
pub fn rest_bits(tensor: &StackedTensor) -> usize {
    (tensor.layout.plane_bits + tensor.layout.row_bits + tensor.layout.col_bits) as usize
}

/// One operand of a relation, with the map from the relation's instances to the tensor's.
pub struct Route<'p> {
    pub relation: &'p AggregatedRelation,
    pub operand: &'p Operand,
    pub tensor: &'p StackedTensor,
    /// (relation instance, tensor instance) for every real relation instance.
    map: Vec<(usize, usize)>,
    identity: bool,
    layers_only: bool,
}

impl<'p> Route<'p> {
    /// The route of operand `index` of `relation`. With `layers_only`, the tensor has one step and the
    /// relation's step is ignored (the statement's W_0 and W_T seen from U1).
    pub fn new(
        plan: &'p Plan,
        relation: &'p AggregatedRelation,
        index: usize,
        layers_only: bool,
    ) -> Result<Route<'p>, VerificationError> {
        let malformed = |what: String| VerificationError::Malformed { relation: relation_name(relation), what };
        let operand =
            relation.operands.get(index).ok_or_else(|| malformed(format!("the plan has no operand {index}")))?;
        let tensor = plan
            .tensors
            .get(operand.tensor.0 as usize)
            .ok_or_else(|| malformed(format!("operand {} names a missing tensor", operand.symbol)))?;
        let (_, relation_layer_bits) = relation_instance_bits(relation);
        let tensor_layer_bits = tensor.layout.layer_bits as usize;
        let mut map = Vec::new();
        let steps = if layers_only { 1 } else { relation.steps.count as usize };
        for t in 0..steps {
            let step = if layers_only {
                0
            } else {
                (relation.steps.first as i64 + t as i64 + operand.step_offset as i64) - tensor.steps.first as i64
            };
            if step < 0 || step >= tensor.steps.count as i64 {
                return Err(malformed(format!("{} of step {t} lies outside {}", operand.symbol, tensor.name())));
            }
            for j in 0..relation.layers.len() {
                let position = *operand
                    .layer_positions
                    .get(j)
                    .ok_or_else(|| malformed(format!("{} has no layer position {j}", operand.symbol)))?
                    as usize;
                if position >= tensor.layers.len().max(1) {
                    return Err(malformed(format!("{} routes outside {}", operand.symbol, tensor.name())));
                }
                map.push(((t << relation_layer_bits) + j, ((step as usize) << tensor_layer_bits) + position));
            }
        }
        let identity = operand.identity && !layers_only;
        Ok(Route { relation, operand, tensor, map, identity, layers_only })
    }

    /// Operand `index` of `relation` seen whole: the view is the tensor itself, over the tensor's own
    /// instance variables, whatever the relation's instances (U1's claims on the statement's W_0 and
    /// W_T, which cover their padding layer slots too).
    pub fn whole(
        plan: &'p Plan,
        relation: &'p AggregatedRelation,
        index: usize,
    ) -> Result<Route<'p>, VerificationError> {
        Ok(Route { identity: true, ..Route::new(plan, relation, index, true)? })
    }

    /// For a layers-only route: the tensor's layer slot of each of the relation's layers.
    pub fn layer_slots(&self) -> impl Iterator<Item = usize> + '_ {
        let tensor_layer_bits = self.tensor.layout.layer_bits;
        self.map.iter().map(move |&(_, p)| p & ((1 << tensor_layer_bits) - 1))
    }

    /// The routes of operands `0 … N − 1` of `relation` (none layers-only).
    pub fn operands<const N: usize>(
        plan: &'p Plan,
        relation: &'p AggregatedRelation,
    ) -> Result<[Route<'p>; N], VerificationError> {
        let routes = (0..N).map(|i| Route::new(plan, relation, i, false)).collect::<Result<Vec<_>, _>>()?;
        Ok(routes.try_into().unwrap_or_else(|_| unreachable!("N routes were built")))
    }

    /// Whether the view is the tensor itself.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// Variables of the view: the relation's instance bits (or only its layer bits, for a layers-only
    /// route) and the tensor's (plane, row, column) bits.
    pub fn view_instance_bits(&self) -> usize {
        if self.identity {
            return self.tensor.layout.instance_bits() as usize;
        }
        let (step_bits, layer_bits) = relation_instance_bits(self.relation);
        if self.layers_only {
            layer_bits
        } else {
            step_bits + layer_bits
        }
    }

    /// The tensor's instance weight for a relation instance weight over the view's instance variables.
    pub fn instance_weight(&self, relation_weight: PublicTensor) -> PublicTensor {
        if self.identity {
            return relation_weight;
        }
        let relation_table = relation_weight.table(self.view_instance_bits());
        let mut table = vec![Fr::zero(); 1 << self.tensor.layout.instance_bits()];
        for &(r, p) in &self.map {
            table[p] += relation_table[r];
        }
        PublicTensor::Dense(table)
    }

    /// Per instance of the view, the tensor instance it shows (`None` at padded instances).
    pub fn instance_sources(&self) -> Vec<Option<usize>> {
        if self.identity {
            return (0..1usize << self.view_instance_bits()).map(Some).collect();
        }
        let mut sources = vec![None; 1 << self.view_instance_bits()];
        for &(r, p) in &self.map {
            sources[r] = Some(p);
        }
        sources
    }

    /// The view's entries (prover) for a table of the tensor's instances with `block_bits` variables
    /// each (the tensor with some of its (row, column) variables bound): re-indexed, zero at padded
    /// instances. Whole views of stacked tensors are read as blocks (`proof::ViewBlocks`).
    pub fn view_blocks(&self, table: &[Fr], block_bits: usize) -> Vec<Fr> {
        if self.identity {
            return table.to_vec();
        }
        let block = 1usize << block_bits;
        let mut view = vec![Fr::zero(); block << self.view_instance_bits()];
        for &(r, p) in &self.map {
            view[r * block..(r + 1) * block].copy_from_slice(&table[p * block..(p + 1) * block]);
        }
        view
    }
}

/// `P(outer, u, inner)` for all outer and inner indices: the middle `u.len()` variables bound.
pub fn bind_middle(values: &[Fr], outer_vars: usize, point: &[Fr]) -> Vec<Fr> {
    let block = values.len() >> outer_vars;
    values.par_chunks(block).flat_map_iter(|chunk| bind_leading(chunk, point)).collect()
}

/// The multilinear extension of `[x < count]` as a public tensor.
fn prefix(num_vars: u32, count: u64) -> PublicTensor {
    PublicTensor::Prefix { num_vars: num_vars as usize, count }
}

/// `eq(bits(value), ·)` over `num_vars` variables: the indicator of one index.
pub fn index_indicator(num_vars: usize, value: u64) -> PublicTensor {
    PublicTensor::Eq((0..num_vars).map(|k| Fr::from((value >> (num_vars - 1 - k)) & 1)).collect())
}

/// The indicator of the used entries of a stacked tensor (planes of a bit chunk when given).
fn used_boxes(tensor: &StackedTensor, chunk: Option<&BitChunk>) -> Vec<(Fr, PublicTensor)> {
    let l = tensor.layout;
    tensor
        .shapes
        .iter()
        .enumerate()
        .map(|(j, shape)| {
            let (plane_bits, planes) = match chunk {
                Some(c) => (c.padded_planes.ilog2(), c.planes as u64),
                None => (l.plane_bits, shape.planes as u64),
            };
            let parts = vec![
                prefix(l.step_bits, tensor.steps.count as u64),
                index_indicator(l.layer_bits as usize, j as u64),
                prefix(plane_bits, planes),
                prefix(l.row_bits, shape.rows as u64),
                prefix(l.col_bits, shape.cols as u64),
            ];
            (Fr::one(), PublicTensor::Kron(parts))
        })
        .collect()
}

/// The indicator of the entries of a stacked tensor that hold real values.
pub fn used_region(tensor: &StackedTensor) -> PublicTensor {
    PublicTensor::Sum(used_boxes(tensor, None))
}

/// The chunks of b, with the tensor each belongs to.
pub fn bit_chunks(plan: &Plan) -> Vec<(&StackedTensor, BitChunk)> {
    plan.tensors
        .iter()
        .filter_map(|t| match &t.storage {
            Storage::BitPlanes(chunks) => Some(chunks.iter().map(move |c| (t, *c))),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The indicator of the entries of b that hold real bits.
pub fn bit_tensor_used_region(plan: &Plan) -> PublicTensor {
    let n = plan.bit_tensor_vars as usize;
    let mut boxes = Vec::new();
    for (tensor, chunk) in bit_chunks(plan) {
        let high = n - chunk.log_size as usize;
        let selector = index_indicator(high, chunk.offset >> chunk.log_size);
        for (c, part) in used_boxes(tensor, Some(&chunk)) {
            boxes.push((c, PublicTensor::Kron(vec![selector.clone(), part])));
        }
    }
    PublicTensor::Sum(boxes)
}

/// The used region of b as boxes `(start, rows, stride, cols)`: `rows` rows of `cols` consecutive
/// entries at a stride of `stride` (a power of two), one box per chunk, layer, step and plane.
pub fn bit_tensor_used_boxes(plan: &Plan) -> Vec<(usize, usize, usize, usize)> {
    let mut boxes = Vec::new();
    for (tensor, chunk) in bit_chunks(plan) {
        let l = tensor.layout;
        let plane_bits = chunk.padded_planes.ilog2();
        for (j, shape) in tensor.shapes.iter().enumerate() {
            for step in 0..tensor.steps.count as usize {
                let instance = (step << l.layer_bits) + j;
                for plane in 0..chunk.planes as usize {
                    let start =
                        chunk.offset as usize + ((((instance << plane_bits) + plane) << l.row_bits) << l.col_bits);
                    boxes.push((start, shape.rows as usize, 1usize << l.col_bits, shape.cols as usize));
                }
            }
        }
    }
    boxes
}

/// The prover's table of [`bit_tensor_used_region`], filled directly (linear in b's used size).
pub fn bit_tensor_used_table(plan: &Plan) -> Vec<Fr> {
    let mut table = vec![Fr::zero(); 1usize << plan.bit_tensor_vars];
    for (start, rows, stride, cols) in bit_tensor_used_boxes(plan) {
        for row in 0..rows {
            table[start + row * stride..start + row * stride + cols].iter_mut().for_each(|t| *t = Fr::one());
        }
    }
    table
}

/// A claim on a bit stacked tensor: `Σ w(inst) · c(plane) · eq(rest, (row, col)) · P = value`.
#[derive(Clone, Debug)]
pub struct BitPlaneClaim {
    pub instance: PublicTensor,
    /// One coefficient per plane (the tensor's planes, unpadded).
    pub planes: Vec<Fr>,
    pub rest: Vec<Fr>,
}

/// The weight on b, and the weight local to the chunk's sub-cube, of one chunk of a bit-plane claim.
pub struct ChunkWeight {
    pub chunk: BitChunk,
    /// Over b's variables.
    pub weight: PublicTensor,
    /// Over the chunk's `log_size` variables.
    pub local: PublicTensor,
}

/// Splits a bit-plane claim on `tensor` into one weighted claim per chunk of b.
pub fn split_bit_claim(plan: &Plan, tensor: &StackedTensor, claim: &BitPlaneClaim) -> Vec<ChunkWeight> {
    let Storage::BitPlanes(chunks) = &tensor.storage else { return Vec::new() };
    let n = plan.bit_tensor_vars as usize;
    chunks
        .iter()
        .map(|chunk| {
            let mut coefficients = vec![Fr::zero(); chunk.padded_planes as usize];
            for (p, c) in coefficients.iter_mut().enumerate().take(chunk.planes as usize) {
                *c = claim.planes.get(chunk.first_plane as usize + p).copied().unwrap_or_else(Fr::zero);
            }
            let local = PublicTensor::Kron(vec![
                claim.instance.clone(),
                PublicTensor::Dense(coefficients),
                PublicTensor::Eq(claim.rest.clone()),
            ]);
            let selector = index_indicator(n - chunk.log_size as usize, chunk.offset >> chunk.log_size);
            ChunkWeight { chunk: *chunk, weight: PublicTensor::Kron(vec![selector, local.clone()]), local }
        })
        .collect()
}

/// Whether a stacked tensor's values live in b.
pub fn is_bit_planes(tensor: &StackedTensor) -> bool {
    matches!(tensor.storage, Storage::BitPlanes(_))
}
