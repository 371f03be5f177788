//! FAC4DNN aggregation (`PROTOCOL.md` §5) and the `Plan` it produces.
//!
//! **Stacked tensors.** The IR's tensors are grouped by role and padded shape across layers and steps.
//! A stacked tensor P of a group with layers ℓ_0 … ℓ_(m−1) and steps t_0 … t_0+T'−1 is indexed
//! (step, layer, plane, row, column), most significant first, each part padded to a power of two:
//! P(t, j, p, i, k) = (tensor of layer ℓ_j at step t_0+t)[p][i][k], zero in padding.
//!
//! **Commitment plan.** Committed: X and Y (the statement's C_X, C_Y, unless data is public), W_0 and
//! W_T (C_W0, C_WT; each given in the clear if public) and one stacked bit tensor b holding every bit
//! plane of every layer, step and role (sign bits, magnitude bits, range-check bits). Every other tensor
//! is derived, and its claims are routed to the relation that defines it:
//! Z', rz, H', rh are fixed linear combinations of their bit planes (`Recompose`), Z and H linear in
//! those (`Rescale`), A and hidden G Hadamard products (`ZkRelu`, `ReluBackward`), G^L = Z'^L − Y
//! (`MseGrad`), G_W a matrix product (`WeightGradient`) and W_t = W_0 − Σ_(s<t) G_W,s (`SgdUpdate`,
//! which also ties the committed W_T = W_0 − Σ_s G_W,s).
//!
//! **Bit tensor layout.** Each bit stacked tensor's planes are cut into at most two power-of-two chunks
//! (33 = 32 + 1, 45 = 32 + 13 → 32 + 16), so planes waste little padding; chunks are placed in b by
//! decreasing size, each at an offset that is a multiple of its size, so every chunk is a sub-cube of b.
//!
//! **Aggregated relations.** Gate instances are grouped by kind and the padded shapes of their ports.
//! Each group is one relation over stacked tensors; an operand's routing maps the relation's instance
//! (step t, layer ℓ) to the operand tensor's instance (t + step offset, position of its layer).
//! A relation *claims* tensors (it starts from a claim on them: a fresh random point for a root, merged
//! incoming claims otherwise) and *produces* claims on its operands.
//!
//! **Order.** Relations are listed in the prover's order; [`Plan::check_claim_routing`] verifies that
//! every claim on a derived tensor is produced before the relation defining that tensor runs, so each
//! derived tensor is reduced once, with all its claims batched.
//!
//! **Size limits.** Every stacked tensor's padded size 2^(step+layer+plane+row+column bits) and b's
//! size are at most 2^[`MAX_STACKED_TENSOR_LOG2`] entries, and L·T ≤ [`MAX_UNROLLED_LAYER_STEPS`];
//! [`lower_checked`] checks both from the spec and T before it unrolls the IR, so no size computed
//! here can overflow (the arithmetic is checked regardless).

use crate::ir::{
    check, lower_segment, BitEncoding, GateKind, InitialWeights, Ir, IrError, Pass, RangeChecked, Role, TensorNode,
    TensorShape, Visibility,
};
use crate::spec::{ceil_log2, FixedPointParams, MagnitudeBounds, NetworkSpec, SpecErrors, STEP_HORIZON_LOG2};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Version of the plan format; part of the digest.
pub const PLAN_FORMAT_VERSION: u32 = 0;

/// log2 of the most entries a stacked tensor, or the bit tensor b, may have once padded: 2^40.
///
/// Far above what can be proved: the paper network (3072 → 8×1024 → 10, batch 64) at T = 1024 has
/// b of 2^37 entries and stacked tensors of at most 2^35 (the bit planes of rz, H', rh; W_t over
/// its steps is 2^33), and a prover holds at least one field element per entry. Far below where a
/// size, or a cost estimate built on one, overflows 64 bits.
pub const MAX_STACKED_TENSOR_LOG2: u32 = 40;

/// The most layer-steps L·T a compilation unrolls: 2^18. Each is about 26 IR nodes and 50 edges
/// (and, in a deep network, an entry in the layer lists of every stacked tensor and relation), so
/// compiling takes at most about 2 GB (measured in release: 1.6 GB and 23 s for 2^18 layers at
/// T = 1, 0.4 GB and 3 s for 4 layers at T = 2^16). The digits network (L = 3) fits up to T = 2^16,
/// the most a proof file holds; the paper network's b reaches the size limit first (T > 8192).
pub const MAX_UNROLLED_LAYER_STEPS: u64 = 1 << 18;

/// Index of a stacked tensor in [`Plan::tensors`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StackedTensorId(pub u32);

/// Index of a relation in [`Plan::relations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RelationId(pub u32);

/// What a stacked tensor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StackRole {
    /// Tensors of one IR role (weights: steps 0 … T−1, the ones the matmuls read).
    Tensor(Role),
    /// W_0, the statement's initial weights.
    InitialWeight,
    /// W_T, the statement's final weights.
    FinalWeight,
    /// b_0, the statement's initial biases (beside W_0, committed or public alike).
    InitialBias,
    /// b_T, the statement's final biases (beside W_T).
    FinalBias,
    /// b: every bit plane of the run.
    AllBits,
}

impl StackRole {
    /// Part of the statement's initial parameters: W_0 or b_0.
    pub fn is_initial(&self) -> bool {
        matches!(self, StackRole::InitialWeight | StackRole::InitialBias)
    }

    /// Part of the statement's final parameters: W_T or b_T.
    pub fn is_final(&self) -> bool {
        matches!(self, StackRole::FinalWeight | StackRole::FinalBias)
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            StackRole::Tensor(r) => r.symbol(),
            StackRole::InitialWeight => "W_0",
            StackRole::FinalWeight => "W_T",
            StackRole::InitialBias => "β_0",
            StackRole::FinalBias => "β_T",
            StackRole::AllBits => "b",
        }
    }
}

/// A contiguous range of steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepRange {
    pub first: u32,
    pub count: u32,
}

/// Variable counts of a stacked tensor's index (step, layer, plane, row, column), most significant first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndexLayout {
    pub step_bits: u32,
    pub layer_bits: u32,
    pub plane_bits: u32,
    pub row_bits: u32,
    pub col_bits: u32,
}

impl IndexLayout {
    /// Saturating, for a layout read from elsewhere; a compiled plan's is at most
    /// [`MAX_STACKED_TENSOR_LOG2`].
    pub fn num_vars(&self) -> u32 {
        self.instance_bits().saturating_add(self.plane_bits).saturating_add(self.row_bits).saturating_add(self.col_bits)
    }
    pub fn instance_bits(&self) -> u32 {
        self.step_bits.saturating_add(self.layer_bits)
    }
}

/// How values are committed, which sets the commitment cost (`PROTOCOL.md` §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueKind {
    /// 0/1 entries: subset sums of generators.
    Bits,
    /// Signed integers of at most this many bits (two's complement), by signed-digit tables.
    Signed(u32),
}

/// Where a stacked tensor's values live.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Storage {
    /// Committed with Hyrax row commitments (2^row_vars rows of 2^col_vars); `public_commitment` when the
    /// commitment is part of the statement rather than the proof.
    Committed { values: ValueKind, public_commitment: bool, row_vars: u32, col_vars: u32 },
    /// Given to the verifier in the clear (public data, public initial or final weights).
    Public,
    /// Defined by a relation, which reduces every claim on it.
    Derived(RelationId),
    /// Bit planes stored in b.
    BitPlanes(Vec<BitChunk>),
}

/// Planes `first_plane … first_plane + planes − 1` of a bit stacked tensor, stored in b at `offset`
/// as a sub-cube of 2^log_size entries (planes padded to `padded_planes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BitChunk {
    pub first_plane: u32,
    pub planes: u32,
    pub padded_planes: u32,
    pub offset: u64,
    pub log_size: u32,
}

/// A stacked tensor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StackedTensor {
    pub id: StackedTensorId,
    pub role: StackRole,
    /// The layers stacked, in instance order.
    pub layers: Vec<u32>,
    pub steps: StepRange,
    /// Unpadded shape of each member, per layer (all steps alike).
    pub shapes: Vec<TensorShape>,
    pub layout: IndexLayout,
    pub storage: Storage,
    /// Entries actually used (no padding).
    pub used_entries: u64,
}

impl StackedTensor {
    /// A short name: symbol and padded matrix shape, e.g. `A[64×1024]`.
    pub fn name(&self) -> String {
        let l = &self.layout;
        let side = |bits: u32| 1u64.checked_shl(bits).unwrap_or(u64::MAX);
        format!("{}[{}×{}]", self.role.symbol(), side(l.row_bits), side(l.col_bits))
    }
    /// 2^(index variables); at most 2^[`MAX_STACKED_TENSOR_LOG2`] in a compiled plan (saturates at
    /// `u64::MAX` in a plan read from elsewhere).
    pub fn padded_entries(&self) -> u64 {
        1u64.checked_shl(self.layout.num_vars()).unwrap_or(u64::MAX)
    }
}

/// The relation kinds of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RelationKind {
    MatMulForward,
    MatMulBackward,
    WeightGradient,
    Rescale(Pass),
    /// A = s ⊙ Z' (H1).
    ZkRelu,
    ReluBackward,
    MseGrad,
    /// W_t = W_0 − Σ_(s<t) m_s·G_W,s and W_T = W_0 − Σ_s m_s·G_W,s (U1 over all steps at once); the
    /// same for biases with g_b.
    SgdUpdate,
    /// g_b = 2^R·1ᵀ·G, the bias gradient (M4: linear, a claim on g_b is a claim on G).
    BiasGradient,
    /// A value as a fixed affine combination of its bit planes.
    Recompose(Recomposition),
    /// Σ_x eq(ρ, x)·(b(x)² − b(x)) = 0 over the whole bit tensor.
    Binary,
}

/// How a value is recomposed from its bit planes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Recomposition {
    /// v = Σ_(i<n−1) 2^i·b_i − 2^(n−1)·b_(n−1).
    TwosComplement(u32),
    /// Hidden Z' from magnitude bits m (Q planes) and sign s: Z' = 1 − 2^Q + Σ_i 2^i·m_i + 2^Q·s.
    SignMagnitude(u32),
}

impl RelationKind {
    /// The relation's label in `PROTOCOL.md`.
    pub fn protocol_name(&self) -> &'static str {
        match self {
            RelationKind::MatMulForward => "M1",
            RelationKind::MatMulBackward => "M2",
            RelationKind::WeightGradient => "M3",
            RelationKind::Rescale(Pass::Forward) => "S1",
            RelationKind::Rescale(Pass::Backward) => "S2",
            RelationKind::ZkRelu => "H1",
            RelationKind::ReluBackward => "H2",
            RelationKind::MseGrad => "L1",
            RelationKind::SgdUpdate => "U1",
            RelationKind::BiasGradient => "M4",
            RelationKind::Recompose(_) => "§3",
            RelationKind::Binary => "B",
        }
    }
    pub fn name(&self) -> String {
        match self {
            RelationKind::MatMulForward => "MatMulForward".into(),
            RelationKind::MatMulBackward => "MatMulBackward".into(),
            RelationKind::WeightGradient => "WeightGradient".into(),
            RelationKind::Rescale(_) => "Rescale".into(),
            RelationKind::ZkRelu => "ZkRelu".into(),
            RelationKind::ReluBackward => "ReluBackward".into(),
            RelationKind::MseGrad => "MseGrad".into(),
            RelationKind::SgdUpdate => "SgdUpdate".into(),
            RelationKind::BiasGradient => "BiasGradient".into(),
            RelationKind::Recompose(Recomposition::TwosComplement(n)) => format!("Recompose({n}-bit two's complement)"),
            RelationKind::Recompose(Recomposition::SignMagnitude(q)) => format!("Recompose(sign + {q} magnitude bits)"),
            RelationKind::Binary => "Binary".into(),
        }
    }
}

/// Whether a relation starts from claims on an operand or ends in claims on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClaimFlow {
    /// The relation starts from the claims on this tensor; `fresh` when it draws the point itself.
    Claims { fresh: bool },
    /// The relation's reduction ends in claims on this tensor.
    Produces,
}

/// One operand of an aggregated relation and where its claims go.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operand {
    /// The operand's name in the relation, e.g. `A^(l−1)`.
    pub symbol: String,
    pub tensor: StackedTensorId,
    pub flow: ClaimFlow,
    /// For each relation layer, the position of the operand's layer in the tensor's layer list.
    pub layer_positions: Vec<u32>,
    /// Operand step minus relation step.
    pub step_offset: i32,
    /// Whether the relation's instance index equals the tensor's (no re-indexing of claims).
    pub identity: bool,
}

/// The sumcheck of a relation: rounds (variables) and the degree of each round polynomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SumcheckShape {
    pub rounds: u32,
    pub degree: u32,
}

/// One aggregated relation: all instances of one gate kind and padded shape, over all layers and steps.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AggregatedRelation {
    pub id: RelationId,
    pub kind: RelationKind,
    pub layers: Vec<u32>,
    pub steps: StepRange,
    /// Gate instances aggregated (layers × steps).
    pub instances: u64,
    pub operands: Vec<Operand>,
    /// The sumchecks the relation runs (none for a linear relation checked at the claimed point).
    pub sumchecks: Vec<SumcheckShape>,
}

/// The compiled plan: what the trainer computes, what the prover commits and proves, and what the
/// verifier checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub spec: NetworkSpec,
    pub steps: u32,
    pub visibility: Visibility,
    /// W_0 range-checked here, or carried from the previous segment of a chain (omitted when checked,
    /// so standalone plans keep their digests).
    #[serde(default, skip_serializing_if = "InitialWeights::is_checked")]
    pub initial_weights: InitialWeights,
    pub params: FixedPointParams,
    /// At `steps` steps, or at `steps_before + steps` for a carried segment.
    pub bounds: MagnitudeBounds,
    pub tensors: Vec<StackedTensor>,
    /// In the prover's order.
    pub relations: Vec<AggregatedRelation>,
    /// log2 of the size of b.
    pub bit_tensor_vars: u32,
    /// Gate instances in the IR, per gate kind name.
    pub gate_instances: BTreeMap<String, u64>,
}

/// Why a spec and step count could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Spec(#[from] SpecErrors),
    #[error("steps: {0}")]
    Steps(String),
    #[error("the lowered IR is malformed: {0}")]
    Ir(#[from] IrError),
    #[error("aggregation: {0}")]
    Aggregation(String),
    /// The plan would exceed [`MAX_STACKED_TENSOR_LOG2`] or [`MAX_UNROLLED_LAYER_STEPS`].
    #[error("too large: {0}")]
    TooLarge(String),
    /// A chain segment that cannot be: public carried W_0, no steps before it, or a horizon whose
    /// magnitude bounds reach the field.
    #[error("chain segment: {0}")]
    Chain(String),
}

/// Options of a compilation: the step count and what is public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    pub steps: u32,
    pub visibility: Visibility,
}

impl CompileOptions {
    pub fn steps(steps: u32) -> CompileOptions {
        CompileOptions { steps, visibility: Visibility::default() }
    }
}

/// Compiles a spec for T steps: validate, lower, check, aggregate.
pub fn compile(spec: &NetworkSpec, options: CompileOptions) -> Result<Plan, CompileError> {
    compile_segment(spec, options, InitialWeights::Checked)
}

/// [`compile`] for a segment of a chain (`docs/chains.md`): with W_0 carried from the previous
/// segment, the plan has no range check of W_0, commits W_0 as wide as W_T may be at its step, and its
/// magnitude bounds are those of the whole chain so far (`steps_before + T` steps); it is refused when
/// they reach the field.
pub fn compile_segment(
    spec: &NetworkSpec,
    options: CompileOptions,
    initial_weights: InitialWeights,
) -> Result<Plan, CompileError> {
    let ir = lower_segment_checked(spec, options, initial_weights)?;
    aggregate(&ir)
}

/// Validates, lowers and checks: the IR of a compilation (for DOT export and inspection).
///
/// Before unrolling T steps it checks the size limits: L·T ≤ [`MAX_UNROLLED_LAYER_STEPS`], and every
/// stacked tensor and b at most 2^[`MAX_STACKED_TENSOR_LOG2`] entries, computed from the stacked
/// tensors of a probe IR of at most two steps with the step variables of T.
pub fn lower_checked(spec: &NetworkSpec, options: CompileOptions) -> Result<Ir, CompileError> {
    lower_segment_checked(spec, options, InitialWeights::Checked)
}

/// [`lower_checked`] for a segment of a chain; also checks the chain's horizon (`steps_before + T`):
/// at most 2^[`STEP_HORIZON_LOG2`] steps, and magnitude bounds below the field's limit there.
pub fn lower_segment_checked(
    spec: &NetworkSpec,
    options: CompileOptions,
    initial_weights: InitialWeights,
) -> Result<Ir, CompileError> {
    spec.validate()?;
    let steps = options.steps;
    if steps == 0 || steps as u64 > 1u64 << STEP_HORIZON_LOG2.min(31) {
        return Err(CompileError::Steps(format!("{steps} steps; prove between 1 and 2^31 steps")));
    }
    if let InitialWeights::CarriedFromPreviousSegment { steps_before } = initial_weights {
        check_chain_horizon(spec, options, steps_before)?;
    }
    let depth = spec.depth() as u64;
    let layer_steps = depth as u128 * steps as u128;
    if layer_steps > MAX_UNROLLED_LAYER_STEPS as u128 {
        return Err(CompileError::TooLarge(format!(
            "{depth} dense layers × {steps} steps = {layer_steps} layer-steps to unroll, above the limit of \
             2^{} (MAX_UNROLLED_LAYER_STEPS); prove fewer steps per proof or use fewer layers",
            MAX_UNROLLED_LAYER_STEPS.ilog2()
        )));
    }
    // The stacked tensors' layer groups do not depend on T, and a stacked tensor present at two steps
    // of the probe is present at every step: its step variables are those of T.
    let probe_steps = steps.min(2);
    let probe = lower_segment(spec, probe_steps, options.visibility, initial_weights);
    check(&probe)?;
    let (mut tensors, _) = stack_tensors(&probe)?;
    for t in tensors.iter_mut().filter(|t| t.steps.count == probe_steps) {
        t.steps.count = steps;
        t.layout.step_bits = ceil_log2(steps as u64);
    }
    check_sizes(&tensors)?;
    if probe_steps == steps {
        return Ok(probe);
    }
    let ir = lower_segment(spec, steps, options.visibility, initial_weights);
    check(&ir)?;
    Ok(ir)
}

/// The checks of a carried segment: W_0 committed (it is the previous segment's C_WT), at least one
/// step before it, and the chain's horizon `steps_before + T` within 2^[`STEP_HORIZON_LOG2`] steps and
/// with every relation's magnitude bound below the field's limit (`docs/chains.md`).
fn check_chain_horizon(spec: &NetworkSpec, options: CompileOptions, steps_before: u64) -> Result<(), CompileError> {
    if options.visibility.public_initial_weights {
        return Err(CompileError::Chain(
            "W_0 carried from the previous segment is that segment's C_WT: it cannot be public".into(),
        ));
    }
    if steps_before == 0 {
        return Err(CompileError::Chain("a carried W_0 needs a segment before it (steps_before ≥ 1)".into()));
    }
    let horizon = steps_before.checked_add(options.steps as u64).filter(|&h| h <= 1u64 << STEP_HORIZON_LOG2);
    let Some(horizon) = horizon else {
        return Err(CompileError::Chain(format!(
            "{steps_before} steps before a segment of {}: a chain holds at most 2^{STEP_HORIZON_LOG2} steps",
            options.steps
        )));
    };
    let bounds = MagnitudeBounds::new(spec, horizon);
    if bounds.max_relation_log2 > crate::spec::FIELD_MAGNITUDE_LIMIT_LOG2 {
        return Err(CompileError::Chain(format!(
            "at step {horizon} of the chain the magnitude bound of {} reaches 2^{}, beyond the field's 2^{}",
            bounds.worst_relation,
            bounds.max_relation_log2,
            crate::spec::FIELD_MAGNITUDE_LIMIT_LOG2
        )));
    }
    Ok(())
}

/// Checks [`MAX_STACKED_TENSOR_LOG2`] for every stacked tensor and for b (the chunks of every bit
/// stacked tensor, as `aggregate` lays them out), naming the first tensor over the limit.
fn check_sizes(tensors: &[StackedTensor]) -> Result<(), CompileError> {
    const HELP: &str = "use narrower layers, a smaller batch or fewer steps per proof";
    let limit = MAX_STACKED_TENSOR_LOG2;
    let mut bits_total: u128 = 0;
    for t in tensors {
        let log = t.layout.num_vars();
        if log > limit {
            return Err(CompileError::TooLarge(format!(
                "the stacked tensor {} ({} layer{}, {} step{}, {} plane{}) has 2^{log} entries padded, above the \
                 limit of 2^{limit} (MAX_STACKED_TENSOR_LOG2); {HELP}",
                t.name(),
                t.layers.len(),
                if t.layers.len() == 1 { "" } else { "s" },
                t.steps.count,
                if t.steps.count == 1 { "" } else { "s" },
                t.shapes.first().map_or(1, |s| s.planes),
                if t.shapes.first().map_or(1, |s| s.planes) == 1 { "" } else { "s" },
            )));
        }
        if role_is_bits(t.role) {
            let base = t.layout.instance_bits() + t.layout.row_bits + t.layout.col_bits;
            for (_, _, padded) in plane_chunks(t.shapes.first().map_or(1, |s| s.planes)) {
                // Each chunk is at most the tensor's padded size, 2^log ≤ 2^limit: no overflow in u128.
                bits_total += 1u128 << (base + padded.ilog2());
            }
        }
    }
    // b is padded to 2^⌈log2(Σ chunks)⌉.
    let bits_log = if bits_total <= 1 { 0 } else { u128::BITS - (bits_total - 1).leading_zeros() };
    if bits_log > limit {
        return Err(CompileError::TooLarge(format!(
            "the bit tensor b (every bit plane of every layer and step) has 2^{bits_log} entries padded \
             ({bits_total} in its chunks), above the limit of 2^{limit} (MAX_STACKED_TENSOR_LOG2); {HELP}"
        )));
    }
    Ok(())
}

/// The stacked tensors an IR tensor belongs to (W_0 is both the first matmul weight and the statement's).
fn stack_roles(t: &TensorNode, steps: u32) -> impl Iterator<Item = StackRole> {
    let (first, second) = match t.role {
        Role::Weight if t.step == 0 => (Some(StackRole::Tensor(Role::Weight)), Some(StackRole::InitialWeight)),
        Role::Weight if t.step == steps => (Some(StackRole::FinalWeight), None),
        Role::Bias if t.step == 0 => (Some(StackRole::Tensor(Role::Bias)), Some(StackRole::InitialBias)),
        Role::Bias if t.step == steps => (Some(StackRole::FinalBias), None),
        r => (Some(StackRole::Tensor(r)), None),
    };
    first.into_iter().chain(second)
}

fn padded_key(shape: TensorShape) -> (u32, u32, u32) {
    let p = shape.padded();
    (p.planes, p.rows, p.cols)
}

/// The FAC4DNN pass: stacked tensors, commitment plan, aggregated relations, claim routing, bit layout.
pub fn aggregate(ir: &Ir) -> Result<Plan, CompileError> {
    let steps = ir.steps;
    let params = ir.params;
    let fail = |m: String| CompileError::Aggregation(m);

    // 1. Stacked tensors.
    let (mut tensors, tensor_of) = stack_tensors(ir)?;
    check_sizes(&tensors)?;
    let lookup = |role: StackRole, layer: u32| {
        tensor_of
            .get(&(role, layer))
            .copied()
            .ok_or_else(|| fail(format!("no stacked tensor holds {} of layer {layer}", role.symbol())))
    };

    // 2. Gate groups by (kind, the stacked tensor of every port). SgdUpdate's output is W_(t+1) or W_T
    //    and is routed by the relation itself; a range check of W_0 reads the statement's W_0.
    #[derive(Default)]
    struct Group {
        layers: BTreeMap<u32, Vec<(StackedTensorId, u32, i32)>>,
        steps: BTreeSet<u32>,
    }
    let mut gate_groups: BTreeMap<(GateKind, Vec<StackedTensorId>), Group> = BTreeMap::new();
    let mut gate_instances: BTreeMap<String, u64> = BTreeMap::new();
    for (node, gate) in ir.gates() {
        *gate_instances.entry(gate.kind.name().to_string()).or_default() += 1;
        let mut ports: Vec<&TensorNode> =
            ir.operands(node).into_iter().chain(ir.outputs(node)).filter_map(|n| ir.tensor(n)).collect();
        if gate.kind == GateKind::SgdUpdate {
            ports.truncate(2);
        }
        let routes = ports
            .iter()
            .map(|t| {
                let role = match (gate.kind, t.role) {
                    (GateKind::RangeCheck(_), Role::Weight) => StackRole::InitialWeight,
                    (GateKind::RangeCheck(_), Role::Bias) => StackRole::InitialBias,
                    (_, r) => StackRole::Tensor(r),
                };
                Ok((lookup(role, t.layer)?, t.layer, t.step as i32 - gate.step as i32))
            })
            .collect::<Result<Vec<_>, CompileError>>()?;
        let group = gate_groups.entry((gate.kind, routes.iter().map(|r| r.0).collect())).or_default();
        group.steps.insert(gate.step);
        match group.layers.get(&gate.layer) {
            Some(existing) if existing != &routes => {
                return Err(fail(format!(
                    "{} of layer {} routes differently across steps",
                    gate.kind.name(),
                    gate.layer
                )))
            }
            Some(_) => {}
            None => {
                group.layers.insert(gate.layer, routes);
            }
        }
    }

    // 3. Relations from gate groups, in the prover's order.
    let mut relations: Vec<AggregatedRelation> = Vec::new();
    let mut bit_chunks_of: Vec<StackedTensorId> = Vec::new();
    for ((kind, _), group) in &gate_groups {
        let layers: Vec<u32> = group.layers.keys().copied().collect();
        let first = *group.steps.iter().next().expect("a group has a step");
        let step_range = StepRange { first, count: group.steps.len() as u32 };
        let instance_bits = ceil_log2(step_range.count as u64) + ceil_log2(layers.len() as u64);
        let port = |i: usize, symbol: &str, flow: ClaimFlow| -> Operand {
            let tensor = group.layers.values().next().expect("nonempty")[i].0;
            let stacked = &tensors[tensor.0 as usize];
            let layer_positions: Vec<u32> =
                group.layers.values().map(|routes| layer_position(&stacked.layers, routes[i].1)).collect();
            let step_offset = group.layers.values().next().expect("nonempty")[i].2;
            let identity = step_offset == 0
                && stacked.steps == step_range
                && layer_positions.iter().enumerate().all(|(j, &p)| p == j as u32)
                && layer_positions.len() == stacked.layers.len();
            Operand { symbol: symbol.into(), tensor, flow, layer_positions, step_offset, identity }
        };
        let shape_of = |i: usize| {
            let t = &tensors[group.layers.values().next().expect("nonempty")[i].0 .0 as usize];
            t.layout
        };
        let produces = ClaimFlow::Produces;
        let root = ClaimFlow::Claims { fresh: true };
        let incoming = ClaimFlow::Claims { fresh: false };
        let hadamard = |i: usize| {
            let l = shape_of(i);
            SumcheckShape { rounds: instance_bits + l.row_bits + l.col_bits, degree: 3 }
        };
        let (rel_kind, operands, sumchecks) = match kind {
            GateKind::MatMulForward => (
                RelationKind::MatMulForward,
                vec![port(2, "Z^l", root), port(0, "A^(l−1)", produces), port(1, "W^l_t", produces)],
                vec![SumcheckShape { rounds: instance_bits + shape_of(0).col_bits, degree: 3 }],
            ),
            GateKind::BiasedMatMulForward => (
                RelationKind::MatMulForward,
                vec![
                    port(3, "Z^l", root),
                    port(0, "A^(l−1)", produces),
                    port(1, "W^l_t", produces),
                    port(2, "β^l_t", produces),
                ],
                vec![SumcheckShape { rounds: instance_bits + shape_of(0).col_bits, degree: 3 }],
            ),
            GateKind::BiasGradient => (
                RelationKind::BiasGradient,
                // Linear: Σ_j g_b(n, j)·w(j) = 2^R·Σ_{i,j} G(n, i, j)·w(j), checked at the claimed point.
                vec![port(1, "g_β^l", incoming), port(0, "G^l", produces)],
                Vec::new(),
            ),
            GateKind::MatMulBackward => (
                RelationKind::MatMulBackward,
                vec![port(2, "H^(l−1)", root), port(0, "G^l", produces), port(1, "W^l_t", produces)],
                vec![SumcheckShape { rounds: instance_bits + shape_of(0).col_bits, degree: 3 }],
            ),
            GateKind::WeightGradient => (
                RelationKind::WeightGradient,
                vec![port(2, "G_W^l", incoming), port(0, "A^(l−1)", produces), port(1, "G^l", produces)],
                vec![SumcheckShape { rounds: instance_bits + shape_of(0).row_bits, degree: 3 }],
            ),
            GateKind::Rescale(pass) => {
                let (v, v1, r) = match pass {
                    Pass::Forward => ("Z^l", "Z'^l", "rz^l"),
                    Pass::Backward => ("H^l", "H'^l", "rh^l"),
                };
                (
                    RelationKind::Rescale(*pass),
                    vec![port(0, v, incoming), port(1, v1, produces), port(2, r, produces)],
                    vec![],
                )
            }
            GateKind::ZkRelu => {
                // One gate, two relations: the product A = s ⊙ Z' here, the sign–magnitude recomposition
                // of Z' after the rescale has added its claims on Z'.
                let z1 = port(0, "Z'^l", produces);
                relations.push(AggregatedRelation {
                    id: RelationId(0),
                    kind: RelationKind::Recompose(Recomposition::SignMagnitude(params.range_bits)),
                    layers: layers.clone(),
                    steps: step_range,
                    instances: layers.len() as u64 * step_range.count as u64,
                    operands: vec![
                        Operand { flow: incoming, ..z1.clone() },
                        port(2, "m^l", produces),
                        port(1, "s^l", produces),
                    ],
                    sumchecks: Vec::new(),
                });
                (RelationKind::ZkRelu, vec![port(3, "A^l", incoming), port(1, "s^l", produces), z1], vec![hadamard(0)])
            }
            GateKind::ReluBackward => (
                RelationKind::ReluBackward,
                vec![port(2, "G^l", incoming), port(1, "s^l", produces), port(0, "H'^l", produces)],
                vec![hadamard(0)],
            ),
            GateKind::MseGrad => (
                RelationKind::MseGrad,
                vec![port(2, "G^L", incoming), port(0, "Z'^L", produces), port(1, "Y_t", produces)],
                vec![],
            ),
            GateKind::SgdUpdate => {
                let bias = tensors[group.layers.values().next().expect("nonempty")[0].0 .0 as usize].role
                    == StackRole::Tensor(Role::Bias);
                let (symbols, initial, last) = match bias {
                    false => (["W^l_t", "G_W^l", "W^l_T", "W^l_0"], StackRole::InitialWeight, StackRole::FinalWeight),
                    true => (["β^l_t", "g_β^l", "β^l_T", "β^l_0"], StackRole::InitialBias, StackRole::FinalBias),
                };
                let w = port(0, symbols[0], incoming);
                let g_w = port(1, symbols[1], produces);
                let mut w_t = Operand { symbol: symbols[2].into(), flow: root, ..w.clone() };
                let mut w_0 = Operand { symbol: symbols[3].into(), flow: produces, ..w.clone() };
                for (op, role) in [(&mut w_0, initial), (&mut w_t, last)] {
                    op.tensor = lookup(role, layers[0])?;
                    op.step_offset = 0;
                    op.identity = false;
                }
                (
                    RelationKind::SgdUpdate,
                    vec![w, w_t, w_0, g_w],
                    // Linear in every step at once: a claim on W_t is a claim on W_0 and on G_W with
                    // prefix-sum weights over the step variables, checked at the claimed point.
                    Vec::new(),
                )
            }
            GateKind::RangeCheck(BitEncoding::TwosComplement(n)) => {
                let source = tensors[group.layers.values().next().expect("nonempty")[0].0 .0 as usize].role;
                let committed_source =
                    matches!(source, StackRole::Tensor(Role::Input | Role::Target)) || source.is_initial();
                let bits = port(1, "bits", produces);
                bit_chunks_of.push(bits.tensor);
                (
                    RelationKind::Recompose(Recomposition::TwosComplement(*n)),
                    vec![port(0, "v", if committed_source { root } else { incoming }), bits],
                    // Linear: the plane coefficients go into the weights of the claims on b's chunks.
                    Vec::new(),
                )
            }
        };
        relations.push(AggregatedRelation {
            id: RelationId(0),
            kind: rel_kind,
            layers,
            steps: step_range,
            instances: group.layers.len() as u64 * step_range.count as u64,
            operands,
            sumchecks,
        });
    }
    // The W_0 operand of SgdUpdate must read the InitialWeight tensor by layer position.
    for r in relations.iter_mut().filter(|r| r.kind == RelationKind::SgdUpdate) {
        for op in r.operands.iter_mut().skip(1).take(2) {
            let t = &tensors[op.tensor.0 as usize];
            op.layer_positions = r.layers.iter().map(|&l| layer_position(&t.layers, l)).collect();
        }
    }

    // 4. The bit tensor: chunks of every bit stacked tensor, placed by decreasing size.
    let bit_tensors: Vec<StackedTensorId> = tensors.iter().filter(|t| role_is_bits(t.role)).map(|t| t.id).collect();
    let mut chunks: Vec<(u32, StackedTensorId, u32, u32, u32)> = Vec::new(); // (log_size, tensor, first, planes, padded)
    for &id in &bit_tensors {
        let t = &tensors[id.0 as usize];
        let plane_count = t.shapes[0].planes;
        let base = t.layout.instance_bits() + t.layout.row_bits + t.layout.col_bits;
        for (first, planes, padded) in plane_chunks(plane_count) {
            let log_size = base
                .checked_add(padded.ilog2())
                .ok_or_else(|| fail(format!("a chunk of {} has too many variables", t.name())))?;
            chunks.push((log_size, id, first, planes, padded));
        }
    }
    chunks.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut offset = 0u64;
    let mut placed: BTreeMap<StackedTensorId, Vec<BitChunk>> = BTreeMap::new();
    for (log_size, id, first_plane, planes, padded_planes) in chunks {
        placed.entry(id).or_default().push(BitChunk { first_plane, planes, padded_planes, offset, log_size });
        offset = 1u64
            .checked_shl(log_size)
            .and_then(|size| offset.checked_add(size))
            .ok_or_else(|| fail(format!("the bit tensor b overflows 64 bits at a chunk of 2^{log_size} entries")))?;
    }
    let bit_tensor_vars = ceil_log2(offset.max(1));
    let bits_used = bit_tensors
        .iter()
        .try_fold(0u64, |sum, id| sum.checked_add(tensors[id.0 as usize].used_entries))
        .ok_or_else(|| fail("the used entries of b overflow 64 bits".into()))?;
    let all_bits = StackedTensorId(tensors.len() as u32);
    tensors.push(StackedTensor {
        id: all_bits,
        role: StackRole::AllBits,
        layers: vec![],
        steps: StepRange { first: 0, count: steps },
        shapes: vec![],
        layout: IndexLayout { step_bits: 0, layer_bits: 0, plane_bits: 0, row_bits: 0, col_bits: bit_tensor_vars },
        storage: Storage::Public,
        used_entries: bits_used,
    });
    relations.push(AggregatedRelation {
        id: RelationId(0),
        kind: RelationKind::Binary,
        layers: vec![],
        steps: StepRange { first: 0, count: steps },
        instances: 1,
        operands: vec![Operand {
            symbol: "b".into(),
            tensor: all_bits,
            flow: ClaimFlow::Claims { fresh: true },
            layer_positions: vec![],
            step_offset: 0,
            identity: true,
        }],
        sumchecks: vec![SumcheckShape { rounds: bit_tensor_vars, degree: 3 }],
    });

    // 5. Order and ids.
    relations.sort_by_key(|r| order_rank(r, &tensors));
    for (i, r) in relations.iter_mut().enumerate() {
        r.id = RelationId(i as u32);
    }

    // A carried segment's weights are bounded from the chain's checked W_0 over every step so far.
    let bounds = MagnitudeBounds::new(&ir.spec, ir.initial_weights.steps_before() + steps as u64);

    // 6. Storage: committed, public, derived, bit planes.
    let key_cols = bit_tensor_col_vars(bit_tensor_vars);
    for t in tensors.iter_mut() {
        t.storage = match t.role {
            StackRole::Tensor(Role::Input | Role::Target) if ir.visibility.public_data => Storage::Public,
            role if role.is_initial() && ir.visibility.public_initial_weights => Storage::Public,
            role if role.is_final() && ir.visibility.public_final_weights => Storage::Public,
            StackRole::Tensor(Role::Input | Role::Target) => {
                committed(t, ValueKind::Signed(params.data_bits), true, key_cols)
            }
            // W_0's layout depends on the spec alone (not on T through b's key width), so a commitment
            // published before training (`zkdl weights commit`) fits a run of any length.
            role if role.is_initial() && ir.initial_weights.is_checked() => {
                committed(t, ValueKind::Signed(params.weight_bits), true, u32::MAX)
            }
            // A carried W_0 is the previous segment's W_T, as wide as W_T may be here.
            role if role.is_initial() => committed(t, ValueKind::Signed(bounds.weight + 1), true, u32::MAX),
            // W_T's magnitude bound plus the sign; its layout depends on the spec alone, as W_0's, so a
            // segment's C_WT is the next segment's C_W0 row by row. (Biases alike, b_0 and b_T.)
            role if role.is_final() => committed(t, ValueKind::Signed(bounds.weight + 1), true, u32::MAX),
            StackRole::AllBits => committed(t, ValueKind::Bits, false, key_cols),
            role if role_is_bits(role) => Storage::BitPlanes(placed.remove(&t.id).unwrap_or_default()),
            _ => Storage::Public, // replaced by the defining relation below
        };
    }
    for r in &relations {
        for op in &r.operands {
            let t = &mut tensors[op.tensor.0 as usize];
            let defines = matches!(op.flow, ClaimFlow::Claims { fresh: false });
            if defines {
                if let Storage::Derived(other) = t.storage {
                    return Err(fail(format!("{} is defined twice ({} and {})", t.name(), other.0, r.id.0)));
                }
                t.storage = Storage::Derived(r.id);
            }
        }
    }
    for t in &tensors {
        let needs_definition =
            matches!(t.role, StackRole::Tensor(r) if !matches!(r, Role::Input | Role::Target) && !role_is_bits(t.role));
        if needs_definition && !matches!(t.storage, Storage::Derived(_)) {
            return Err(fail(format!("{} is neither committed nor derived", t.name())));
        }
    }

    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        spec: ir.spec.clone(),
        steps,
        visibility: ir.visibility,
        initial_weights: ir.initial_weights,
        params,
        bounds,
        tensors,
        relations,
        bit_tensor_vars,
        gate_instances,
    };
    plan.check_claim_routing().map_err(fail)?;
    Ok(plan)
}

/// The stacked tensor holding each (role, layer).
type TensorOf = HashMap<(StackRole, u32), StackedTensorId>;

/// Step 1 of `aggregate`: the stacked tensors of an IR and the stacked tensor of each (role, layer).
fn stack_tensors(ir: &Ir) -> Result<(Vec<StackedTensor>, TensorOf), CompileError> {
    let steps = ir.steps;
    let fail = |m: String| CompileError::Aggregation(m);
    // Stored tensors by (role, padded shape); a derived tensor by its padded shape and the stacks of its
    // definer's other ports, so that each derived stack has exactly one definer group and no port of a
    // gate group spans two stacks.
    let depth = ir.spec.depth() as u32;
    let shape_at: HashMap<(Role, u32), TensorShape> =
        ir.tensors().filter(|(_, t)| t.step == 0).map(|(_, t)| ((t.role, t.layer), t.shape)).collect();
    let mut classes = StackClasses { depth, shape_at: &shape_at, interned: HashMap::new(), memo: HashMap::new() };
    type Members = BTreeMap<u32, (TensorShape, BTreeSet<u32>)>;
    let mut groups: BTreeMap<(StackRole, u32), Members> = BTreeMap::new();
    for (_, t) in ir.tensors() {
        let class = classes.class(t.role, t.layer).map_err(fail)?;
        for role in stack_roles(t, steps) {
            let members = groups.entry((role, class)).or_default();
            let entry = members.entry(t.layer).or_insert((t.shape, BTreeSet::new()));
            if entry.0 != t.shape {
                return Err(fail(format!("{} of layer {} changes shape across steps", role.symbol(), t.layer)));
            }
            entry.1.insert(t.step);
        }
    }
    let mut tensors = Vec::new();
    let mut tensor_of: TensorOf = HashMap::new();
    for ((role, _), members) in &groups {
        let layers: Vec<u32> = members.keys().copied().collect();
        let (Some((_, steps_of_first)), Some(&first)) =
            (members.values().next(), members.values().next().and_then(|(_, s)| s.iter().next()))
        else {
            return Err(fail(format!("the stacked tensor of {} has no member", role.symbol())));
        };
        let count = steps_of_first.len() as u32;
        for (layer, (_, s)) in members {
            if s != steps_of_first || s.iter().copied().ne(first..first.saturating_add(count)) {
                return Err(fail(format!("{} of layer {layer} is not present at every step", role.symbol())));
            }
        }
        let id = StackedTensorId(tensors.len() as u32);
        for &l in &layers {
            tensor_of.insert((*role, l), id);
        }
        let shapes: Vec<TensorShape> = members.values().map(|(shape, _)| *shape).collect();
        let padded = shapes.iter().fold(TensorShape { planes: 1, rows: 1, cols: 1 }, |acc, s| {
            let p = s.padded();
            TensorShape { planes: acc.planes.max(p.planes), rows: acc.rows.max(p.rows), cols: acc.cols.max(p.cols) }
        });
        let used_entries = shapes
            .iter()
            .try_fold(0u64, |sum, s| sum.checked_add(s.len()))
            .and_then(|per_step| per_step.checked_mul(count as u64))
            .ok_or_else(|| fail(format!("the entries of {} overflow 64 bits", role.symbol())))?;
        tensors.push(StackedTensor {
            id,
            role: *role,
            layers: layers.clone(),
            steps: StepRange { first, count },
            shapes,
            layout: IndexLayout {
                step_bits: ceil_log2(count as u64),
                layer_bits: ceil_log2(layers.len() as u64),
                plane_bits: ceil_log2(padded.planes as u64),
                row_bits: padded.rows.ilog2(),
                col_bits: padded.cols.ilog2(),
            },
            storage: Storage::Public,
            used_entries,
        });
    }
    Ok((tensors, tensor_of))
}

/// (role, padded shape, definer, classes of the definer's other ports).
type ClassKey = (Role, (u32, u32, u32), &'static str, Vec<u32>);

/// Interned stack classes of (role, layer): the padded shape, and for a derived tensor its definer and
/// the classes of the definer's other ports.
struct StackClasses<'a> {
    depth: u32,
    shape_at: &'a HashMap<(Role, u32), TensorShape>,
    interned: HashMap<ClassKey, u32>,
    memo: HashMap<(Role, u32), u32>,
}

impl StackClasses<'_> {
    /// The relation defining (role, layer) in the proof, and the other (role, layer) ports it reads.
    fn definer(&self, role: Role, l: u32) -> Option<(&'static str, Vec<(Role, u32)>)> {
        let bits = |of| Some(("range", vec![(Role::RangeBits(of), l)]));
        match role {
            Role::PreActivation => Some(("S1", vec![(Role::Rescaled, l), (Role::Remainder, l)])),
            Role::BackwardPreActivation => {
                Some(("S2", vec![(Role::BackwardRescaled, l), (Role::BackwardRemainder, l)]))
            }
            Role::Rescaled if l < self.depth => {
                Some(("sign-magnitude", vec![(Role::SignBits, l), (Role::MagnitudeBits, l)]))
            }
            Role::Rescaled => bits(RangeChecked::OutputRescaled),
            Role::Remainder => bits(RangeChecked::Remainder),
            Role::BackwardRescaled => bits(RangeChecked::BackwardRescaled),
            Role::BackwardRemainder => bits(RangeChecked::BackwardRemainder),
            Role::Activation => Some(("H1", vec![(Role::SignBits, l), (Role::Rescaled, l)])),
            Role::Signal if l < self.depth => Some(("H2", vec![(Role::BackwardRescaled, l), (Role::SignBits, l)])),
            Role::Signal => Some(("L1", vec![(Role::Rescaled, l), (Role::Target, l)])),
            Role::WeightGradient => {
                let input = if l == 1 { (Role::Input, 0) } else { (Role::Activation, l - 1) };
                Some(("M3", vec![input, (Role::Signal, l)]))
            }
            Role::Weight => Some(("U1", vec![(Role::WeightGradient, l)])),
            Role::Bias => Some(("U1", vec![(Role::BiasGradient, l)])),
            Role::BiasGradient => Some(("M4", vec![(Role::Signal, l)])),
            Role::Input | Role::Target | Role::SignBits | Role::MagnitudeBits | Role::RangeBits(_) => None,
        }
    }

    fn class(&mut self, role: Role, layer: u32) -> Result<u32, String> {
        if let Some(&c) = self.memo.get(&(role, layer)) {
            return Ok(c);
        }
        let shape = self
            .shape_at
            .get(&(role, layer))
            .ok_or_else(|| format!("{} of layer {layer} is missing from step 0", role.symbol()))?;
        let (definer, others) = self.definer(role, layer).unwrap_or(("stored", vec![]));
        let other_classes = others.into_iter().map(|(r, l)| self.class(r, l)).collect::<Result<Vec<_>, _>>()?;
        let key = (role, padded_key(*shape), definer, other_classes);
        let next = self.interned.len() as u32;
        let class = *self.interned.entry(key).or_insert(next);
        self.memo.insert((role, layer), class);
        Ok(class)
    }
}

/// The position of `layer` in a stacked tensor's (ascending) layer list, 0 if absent. A binary
/// search: routing every layer of a deep network stays O(L log L).
fn layer_position(layers: &[u32], layer: u32) -> u32 {
    layers.binary_search(&layer).unwrap_or(0) as u32
}

fn role_is_bits(role: StackRole) -> bool {
    matches!(role, StackRole::Tensor(r) if r.is_bits())
}

/// The most row commitments a statement tensor gets while the key has columns to spare.
const MAX_STATEMENT_ROW_VARS: u32 = 9;

/// The most row commitments b gets while its columns may grow: `2^12` points of 48 bytes, 192 KiB of
/// the proof.
const MAX_BIT_ROW_VARS: u32 = 12;

/// The most columns b's rows take to keep its rows under `2^MAX_BIT_ROW_VARS`: the key then has `2^18`
/// generators (a 24 MiB cached file), the verifier's opening one multi-scalar multiplication over
/// `2^18` of them, and the prover's inner-product argument folds as many.
const MAX_BIT_COL_VARS: u32 = 18;

/// b's columns for `2^n` bits: `⌈n/2⌉` (the square root, where the verifier's `2^rows + 2^cols` is
/// least) unless that leaves more than `2^MAX_BIT_ROW_VARS` row commitments, then as many as keep the
/// rows at that count, up to `2^MAX_BIT_COL_VARS`. The square root made b's row commitments 97% of a
/// paper-network proof at T = 64 (`2^16` rows, 3 MiB); at `2^18` columns they are `2^15` rows, 1.5 MiB.
pub fn bit_tensor_col_vars(n: u32) -> u32 {
    n.div_ceil(2).max(n.saturating_sub(MAX_BIT_ROW_VARS).min(MAX_BIT_COL_VARS))
}

/// Row/column split of a committed tensor of 2^n entries. b takes [`bit_tensor_col_vars`] columns, which
/// fixes the key at `key_cols` = b's columns. Other tensors take ⌈n/2⌉ columns (the verifier's opening
/// costs `2^rows + 2^cols`, least at the square root), but at most `2^MAX_STATEMENT_ROW_VARS` rows
/// while the key has more generators: their row commitments travel in the statement, and at the paper
/// network's scale the square root would make them a quarter of the proof file.
fn committed(t: &StackedTensor, values: ValueKind, public_commitment: bool, key_cols: u32) -> Storage {
    let n = t.layout.num_vars();
    let col_vars = n.div_ceil(2).max(n.saturating_sub(MAX_STATEMENT_ROW_VARS).min(key_cols));
    Storage::Committed { values, public_commitment, row_vars: n - col_vars, col_vars }
}

/// Cuts n planes into at most two power-of-two chunks: (first plane, planes, padded planes).
pub fn plane_chunks(n: u32) -> Vec<(u32, u32, u32)> {
    if n == 0 {
        return Vec::new();
    }
    if n.is_power_of_two() {
        return vec![(0, n, n)];
    }
    let high = 1u32 << n.ilog2();
    let rest = n - high;
    vec![(0, high, high), (high, rest, rest.next_power_of_two())]
}

/// The prover's order: roots first, then every derived tensor's definer after all its claim producers.
fn order_rank(r: &AggregatedRelation, tensors: &[StackedTensor]) -> (u32, Option<StackRole>, Vec<u32>) {
    let rank = match r.kind {
        RelationKind::MatMulForward => 0,
        RelationKind::MatMulBackward => 1,
        RelationKind::SgdUpdate => 2,
        RelationKind::WeightGradient | RelationKind::BiasGradient => 3,
        RelationKind::MseGrad => 4,
        RelationKind::ReluBackward => 5,
        RelationKind::ZkRelu => 6,
        RelationKind::Rescale(Pass::Forward) => 7,
        RelationKind::Rescale(Pass::Backward) => 8,
        RelationKind::Recompose(Recomposition::SignMagnitude(_)) => 9,
        RelationKind::Recompose(_) => 10,
        RelationKind::Binary => 11,
    };
    let source = r.operands.first().map(|o| tensors[o.tensor.0 as usize].role);
    (rank, source, r.layers.clone())
}

impl Plan {
    /// log2 of U1's multiplier m_t at step `t` of this proof (step `steps_before + t` of the run):
    /// W_(t+1) = W_t − m_t·G_W,t, with m_t = 2^(k'_max − k'_t) under a learning-rate schedule and 1
    /// otherwise.
    pub fn update_multiplier_log2(&self, t: u64) -> u32 {
        self.spec.optimizer.multiplier_log2_at(self.initial_weights.steps_before().saturating_add(t))
    }

    /// Checks the claim routing: every operand's tensor exists; every derived tensor is defined by exactly
    /// one relation, which comes after every relation producing claims on it; every tensor that receives
    /// claims is committed, public, derived or bit planes.
    pub fn check_claim_routing(&self) -> Result<(), String> {
        for r in &self.relations {
            for op in &r.operands {
                let Some(t) = self.tensors.get(op.tensor.0 as usize) else {
                    return Err(format!("relation {} names tensor {} that does not exist", r.id.0, op.tensor.0));
                };
                if op.flow == ClaimFlow::Produces {
                    if let Storage::Derived(definer) = t.storage {
                        if definer <= r.id {
                            return Err(format!(
                                "{} {} produces a claim on {} after its defining relation {} ran",
                                r.kind.protocol_name(),
                                r.kind.name(),
                                t.name(),
                                definer.0
                            ));
                        }
                    }
                }
                if op.layer_positions.iter().any(|&p| p as usize >= t.layers.len().max(1)) {
                    return Err(format!("relation {} routes outside {}", r.id.0, t.name()));
                }
            }
        }
        Ok(())
    }

    /// Tensors committed in the proof or the statement.
    pub fn committed(&self) -> impl Iterator<Item = &StackedTensor> {
        self.tensors.iter().filter(|t| matches!(t.storage, Storage::Committed { .. }))
    }

    /// The relations that produce claims on a tensor (its claim routing).
    pub fn claims_on(&self, tensor: StackedTensorId) -> Vec<RelationId> {
        self.relations
            .iter()
            .filter(|r| r.operands.iter().any(|o| o.tensor == tensor && o.flow != ClaimFlow::Claims { fresh: false }))
            .map(|r| r.id)
            .collect()
    }

    /// Claims that land on a committed tensor: produced by relations, plus one per bit-plane chunk claim
    /// routed into b. Each committed tensor is opened once after merging them.
    pub fn claims_landing_on(&self, tensor: StackedTensorId) -> u64 {
        let t = &self.tensors[tensor.0 as usize];
        if t.role == StackRole::AllBits {
            let mut n = 1; // the binary check's own claim
            for r in &self.relations {
                for op in r.operands.iter().filter(|o| o.flow == ClaimFlow::Produces) {
                    if let Storage::BitPlanes(chunks) = &self.tensors[op.tensor.0 as usize].storage {
                        n += chunks.len() as u64;
                    }
                }
            }
            return n;
        }
        self.claims_on(tensor).len() as u64
    }
}

impl fmt::Display for StackedTensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

impl fmt::Display for RelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_layer() -> NetworkSpec {
        NetworkSpec::builder("two").input(6).dense(5).relu().dense(3).sgd(3).batch(4).build().unwrap()
    }

    fn with(visibility: Visibility) -> Plan {
        compile(&two_layer(), CompileOptions { steps: 2, visibility }).unwrap()
    }

    #[test]
    fn public_final_weights_make_every_w_t_stack_public() {
        let committed = with(Visibility::default());
        let public = with(Visibility { public_final_weights: true, ..Visibility::default() });
        let storage = |p: &Plan, role: StackRole| -> Vec<Storage> {
            p.tensors.iter().filter(|t| t.role == role).map(|t| t.storage.clone()).collect()
        };
        assert!(storage(&committed, StackRole::FinalWeight)
            .iter()
            .all(|s| matches!(s, Storage::Committed { public_commitment: true, .. })));
        let final_weights = storage(&public, StackRole::FinalWeight);
        assert!(!final_weights.is_empty() && final_weights.iter().all(|s| *s == Storage::Public));
        // Nothing else changes: W_0, X and Y stay committed, the relations are the same.
        for role in [StackRole::InitialWeight, StackRole::Tensor(Role::Input), StackRole::AllBits] {
            assert_eq!(storage(&committed, role), storage(&public, role), "{}", role.symbol());
        }
        assert_eq!(committed.relations, public.relations);
        assert_ne!(committed.digest(), public.digest());
        assert!(public.to_text().contains("final weights public (W_T in the clear)"));
        assert!(committed.to_text().contains("final weights committed (C_WT)"));
    }

    #[test]
    fn the_new_flag_is_absent_from_the_encoding_of_plans_without_it() {
        let plan = with(Visibility { public_data: true, ..Visibility::default() });
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["visibility"], serde_json::json!({ "public_data": true, "public_initial_weights": false }));
        let old: Visibility = serde_json::from_str(r#"{"public_data":false,"public_initial_weights":true}"#).unwrap();
        assert_eq!(old, Visibility { public_initial_weights: true, ..Visibility::default() });
        let public = with(Visibility { public_final_weights: true, ..Visibility::default() });
        assert_eq!(serde_json::to_value(&public).unwrap()["visibility"]["public_final_weights"], true);
    }
}
