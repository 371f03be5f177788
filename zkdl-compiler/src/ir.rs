//! The circuit IR: a petgraph DAG of tensors and gates for T unrolled SGD steps.
//!
//! Nodes are tensors (role, layer, step, shape) and gates (kind, layer, step); edges run
//! tensor → gate (operand, by port) and gate → tensor (output, by port). [`lower`] unrolls a spec over T
//! steps into exactly the relations of `PROTOCOL.md` §4, with A^0 = X_t:
//!
//! ```text
//! M1  MatMulForward   (A^(l−1), W^l_t)  → Z^l                 Z = A·W
//! S1  Rescale         Z^l               → Z'^l, rz^l          Z = 2^S_W·Z' + rz
//! H1  ZkRelu          Z'^l              → s^l, m^l, A^l       Z' − 1 = m − (1−s)·2^Q,  A = s ⊙ Z'   (l < L)
//! L1  MseGrad         (Z'^L, Y_t)       → G^L                 G^L = Z'^L − Y
//! M3  WeightGradient  (A^(l−1), G^l)    → G_W^l               G_W = Aᵀ·G
//! M2  MatMulBackward  (G^l, W^l_t)      → H^(l−1)             H = G·Wᵀ                              (l > 1)
//! S2  Rescale         H^l               → H'^l, rh^l          H = 2^S_W·H' + rh
//! H2  ReluBackward    (H'^l, s^l)       → G^l                 G = s ⊙ H'   (the sign bits of H1)
//! U1  SgdUpdate       (W^l_t, G_W^l)    → W^l_(t+1)           W_(t+1) = W_t − G_W
//! B   RangeCheck(n)   v                 → bits of v           v = Σ c_i·b_i, every b_i ∈ {0,1}
//! ```
//!
//! Range checks (§3): rz and rh as S_W-bit two's complement, Z'^L and H' as (Q+1)-bit two's complement;
//! the hidden Z' through the sign and magnitude bits of ZkRelu. Committed inputs that enter products are
//! range-checked as well (see `spec`): X and Y with R+2 bits and private W_0 with S_W+2 bits; public ones
//! are checked by the verifier in the clear and get no gate.
//!
//! [`check`] verifies that shapes agree at every gate, that every non-input tensor has exactly one producer,
//! that each gate has its ports, and that the graph is acyclic.

use crate::spec::{FixedPointParams, NetworkSpec};
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The part a tensor plays in the training step, in the paper's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// X_t = A^0, the batch of inputs (B × d_0).
    Input,
    /// Y_t, the batch of targets (B × d_L).
    Target,
    /// W^l_t (d_(l−1) × d_l), for t = 0 … T.
    Weight,
    /// Z^l = A^(l−1)·W^l_t.
    PreActivation,
    /// Z'^l = rescale_{S_W}(Z^l).
    Rescaled,
    /// rz^l, the forward rescaling remainder.
    Remainder,
    /// s^l = [Z'^l > 0], one bit plane.
    SignBits,
    /// m^l, the Q magnitude bit planes of Z'^l − 1 + (1 − s)·2^Q.
    MagnitudeBits,
    /// A^l = s^l ⊙ Z'^l.
    Activation,
    /// G^l, the back-propagated signal at layer l.
    Signal,
    /// H^l = G^(l+1)·(W^(l+1)_t)ᵀ.
    BackwardPreActivation,
    /// H'^l = rescale_{S_W}(H^l).
    BackwardRescaled,
    /// rh^l, the backward rescaling remainder.
    BackwardRemainder,
    /// G_W^l = (A^(l−1))ᵀ·G^l.
    WeightGradient,
    /// b^l_t (1 × d_l), the bias of a dense layer with one, at W's scale 2^S_W, for t = 0 … T.
    Bias,
    /// g_b^l = 2^R·1ᵀ·G^l (1 × d_l), the bias gradient at G_W's scale.
    BiasGradient,
    /// The bit planes of a range-checked value of the given role.
    RangeBits(RangeChecked),
}

/// The roles whose values are range-checked by a `RangeCheck` gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RangeChecked {
    Input,
    Target,
    InitialWeight,
    InitialBias,
    Remainder,
    OutputRescaled,
    BackwardRescaled,
    BackwardRemainder,
}

impl Role {
    /// The symbol of PROTOCOL.md.
    pub fn symbol(&self) -> &'static str {
        match self {
            Role::Input => "X",
            Role::Target => "Y",
            Role::Weight => "W",
            Role::PreActivation => "Z",
            Role::Rescaled => "Z'",
            Role::Remainder => "rz",
            Role::SignBits => "s",
            Role::MagnitudeBits => "m",
            Role::Activation => "A",
            Role::Signal => "G",
            Role::BackwardPreActivation => "H",
            Role::BackwardRescaled => "H'",
            Role::BackwardRemainder => "rh",
            Role::WeightGradient => "G_W",
            Role::Bias => "β",
            Role::BiasGradient => "g_β",
            Role::RangeBits(of) => match of {
                RangeChecked::Input => "bits(X)",
                RangeChecked::Target => "bits(Y)",
                RangeChecked::InitialWeight => "bits(W_0)",
                RangeChecked::InitialBias => "bits(β_0)",
                RangeChecked::Remainder => "bits(rz)",
                RangeChecked::OutputRescaled => "bits(Z'^L)",
                RangeChecked::BackwardRescaled => "bits(H')",
                RangeChecked::BackwardRemainder => "bits(rh)",
            },
        }
    }

    /// Whether the tensor holds bits (0 or 1 entries).
    pub fn is_bits(&self) -> bool {
        matches!(self, Role::SignBits | Role::MagnitudeBits | Role::RangeBits(_))
    }
}

/// The shape of one tensor: `planes` bit planes (1 for a value tensor) of `rows × cols` entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TensorShape {
    pub planes: u32,
    pub rows: u32,
    pub cols: u32,
}

impl TensorShape {
    pub fn matrix(rows: u32, cols: u32) -> TensorShape {
        TensorShape { planes: 1, rows, cols }
    }
    pub fn with_planes(self, planes: u32) -> TensorShape {
        TensorShape { planes, ..self }
    }
    /// Rows and columns rounded up to powers of two (planes are chunked separately, see `aggregate`).
    pub fn padded(&self) -> TensorShape {
        TensorShape { planes: self.planes, rows: self.rows.next_power_of_two(), cols: self.cols.next_power_of_two() }
    }
    /// Entries, planes included.
    pub fn len(&self) -> u64 {
        self.planes as u64 * self.rows as u64 * self.cols as u64
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for TensorShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.planes == 1 {
            write!(f, "{}×{}", self.rows, self.cols)
        } else {
            write!(f, "{}×{}×{}", self.planes, self.rows, self.cols)
        }
    }
}

/// Which pass a rescale belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pass {
    /// S1: Z = 2^S_W·Z' + rz.
    Forward,
    /// S2: H = 2^S_W·H' + rh.
    Backward,
}

/// How a range-checked value is recomposed from its bit planes b_0 … b_(n−1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BitEncoding {
    /// v = Σ_(i<n−1) 2^i·b_i − 2^(n−1)·b_(n−1).
    TwosComplement(u32),
}

impl BitEncoding {
    pub fn planes(&self) -> u32 {
        match self {
            BitEncoding::TwosComplement(n) => *n,
        }
    }
}

/// The gates: one per relation of PROTOCOL.md §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GateKind {
    /// M1: Z^l = A^(l−1)·W^l_t.
    MatMulForward,
    /// M1 of a layer with a bias: Z^l = A^(l−1)·W^l_t + 2^R·1·(b^l_t)ᵀ.
    BiasedMatMulForward,
    /// M4: g_b^l = 2^R·1ᵀ·G^l, the bias gradient (a column sum).
    BiasGradient,
    /// M2: H^(l−1) = G^l·(W^l_t)ᵀ.
    MatMulBackward,
    /// M3: G_W^l = (A^(l−1))ᵀ·G^l.
    WeightGradient,
    /// S1 / S2.
    Rescale(Pass),
    /// H1 with the sign–magnitude split that forces s = [Z' > 0].
    ZkRelu,
    /// H2: G = s ⊙ H' with the sign bits of the forward ZkRelu.
    ReluBackward,
    /// L1: G^L = Z'^L − Y.
    MseGrad,
    /// U1: W_(t+1) = W_t − m_t·G_W, and b_(t+1) = b_t − m_t·g_b for a bias.
    SgdUpdate,
    /// B and the recomposition of a value from its bits.
    RangeCheck(BitEncoding),
}

impl GateKind {
    /// The relation's name in PROTOCOL.md §4.
    pub fn protocol_name(&self) -> &'static str {
        match self {
            GateKind::MatMulForward | GateKind::BiasedMatMulForward => "M1",
            GateKind::BiasGradient => "M4",
            GateKind::MatMulBackward => "M2",
            GateKind::WeightGradient => "M3",
            GateKind::Rescale(Pass::Forward) => "S1",
            GateKind::Rescale(Pass::Backward) => "S2",
            GateKind::ZkRelu => "H1",
            GateKind::ReluBackward => "H2",
            GateKind::MseGrad => "L1",
            GateKind::SgdUpdate => "U1",
            GateKind::RangeCheck(_) => "B",
        }
    }

    /// The Rust-side name, for text and DOT.
    pub fn name(&self) -> &'static str {
        match self {
            GateKind::MatMulForward => "MatMulForward",
            GateKind::BiasedMatMulForward => "BiasedMatMulForward",
            GateKind::BiasGradient => "BiasGradient",
            GateKind::MatMulBackward => "MatMulBackward",
            GateKind::WeightGradient => "WeightGradient",
            GateKind::Rescale(_) => "Rescale",
            GateKind::ZkRelu => "ZkRelu",
            GateKind::ReluBackward => "ReluBackward",
            GateKind::MseGrad => "MseGrad",
            GateKind::SgdUpdate => "SgdUpdate",
            GateKind::RangeCheck(_) => "RangeCheck",
        }
    }

    /// (operand ports, output ports).
    pub fn arity(&self) -> (usize, usize) {
        match self {
            GateKind::MatMulForward | GateKind::MatMulBackward | GateKind::WeightGradient => (2, 1),
            GateKind::BiasedMatMulForward => (3, 1),
            GateKind::BiasGradient => (1, 1),
            GateKind::Rescale(_) => (1, 2),
            GateKind::ZkRelu => (1, 3),
            GateKind::ReluBackward | GateKind::MseGrad | GateKind::SgdUpdate => (2, 1),
            GateKind::RangeCheck(_) => (1, 1),
        }
    }
}

/// A tensor of one layer and step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TensorNode {
    pub role: Role,
    /// l; 0 for X (which is A^0).
    pub layer: u32,
    /// t; weights run to t = T.
    pub step: u32,
    pub shape: TensorShape,
}

/// A gate instance of one layer and step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GateNode {
    pub kind: GateKind,
    pub layer: u32,
    pub step: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IrNode {
    Tensor(TensorNode),
    Gate(GateNode),
}

/// Operand edges run tensor → gate, output edges gate → tensor; the number is the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IrEdge {
    Operand(u8),
    Output(u8),
}

/// Which committed inputs the verifier sees in the clear (bound into the statement).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Visibility {
    /// X and Y given in the clear.
    pub public_data: bool,
    /// W_0 given in the clear.
    pub public_initial_weights: bool,
    /// W_T given in the clear instead of committed as C_WT. Left out of the serialized form when
    /// false, so the digests of plans without it do not change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_final_weights: bool,
}

/// Whether the proof range-checks its W_0, or takes W_0 from the previous segment of a chain
/// (`docs/chains.md`). Part of the plan and its digest (left out of the serialized plan when
/// `Checked`, so the digests of standalone plans do not change).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InitialWeights {
    /// W_0 is range-checked to S_W+2 bits (`RangeChecked::InitialWeight`), or public and checked by
    /// the verifier: a standalone proof, or segment 0 of a chain.
    #[default]
    Checked,
    /// W_0 is the W_T of the previous segment (C_W0 is its C_WT): no range check here. `steps_before`
    /// steps of the chain precede this segment (≥ 1): the batches are steps `steps_before …` of the
    /// sampling rule, and the magnitude bounds are those of `steps_before + T` steps from a checked W_0.
    CarriedFromPreviousSegment { steps_before: u64 },
}

impl InitialWeights {
    pub fn is_checked(&self) -> bool {
        matches!(self, InitialWeights::Checked)
    }
    /// The chain steps before this proof (0 when checked).
    pub fn steps_before(&self) -> u64 {
        match self {
            InitialWeights::Checked => 0,
            InitialWeights::CarriedFromPreviousSegment { steps_before } => *steps_before,
        }
    }
}

/// The unrolled circuit of T steps of a spec.
#[derive(Clone, Debug)]
pub struct Ir {
    pub spec: NetworkSpec,
    pub steps: u32,
    pub visibility: Visibility,
    pub initial_weights: InitialWeights,
    pub params: FixedPointParams,
    pub graph: DiGraph<IrNode, IrEdge>,
}

/// A structural defect of an IR, naming the gate or tensor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IrError {
    #[error("{gate} (layer {layer}, step {step}): {message}")]
    Gate { gate: &'static str, layer: u32, step: u32, message: String },
    #[error("tensor {role} (layer {layer}, step {step}): {message}")]
    Tensor { role: &'static str, layer: u32, step: u32, message: String },
    #[error("the IR has a cycle through {0}")]
    Cycle(String),
}

struct Builder {
    graph: DiGraph<IrNode, IrEdge>,
    step: u32,
}

impl Builder {
    fn tensor(&mut self, role: Role, layer: u32, step: u32, shape: TensorShape) -> NodeIndex {
        self.graph.add_node(IrNode::Tensor(TensorNode { role, layer, step, shape }))
    }

    /// Adds a gate with its operand edges and output tensors (role, shape), returning the outputs.
    fn gate(
        &mut self,
        kind: GateKind,
        layer: u32,
        operands: &[NodeIndex],
        outputs: &[(Role, u32, TensorShape)],
    ) -> Vec<NodeIndex> {
        let gate = self.graph.add_node(IrNode::Gate(GateNode { kind, layer, step: self.step }));
        for (port, &op) in operands.iter().enumerate() {
            self.graph.add_edge(op, gate, IrEdge::Operand(port as u8));
        }
        outputs
            .iter()
            .enumerate()
            .map(|(port, &(role, out_step, shape))| {
                let t = self.tensor(role, layer, out_step, shape);
                self.graph.add_edge(gate, t, IrEdge::Output(port as u8));
                t
            })
            .collect()
    }

    fn range_check(&mut self, value: NodeIndex, of: RangeChecked, planes: u32) {
        let (layer, step, shape) = match self.graph[value] {
            IrNode::Tensor(t) => (t.layer, t.step, t.shape),
            IrNode::Gate(_) => unreachable!("range checks take tensors"),
        };
        let gate = self.graph.add_node(IrNode::Gate(GateNode {
            kind: GateKind::RangeCheck(BitEncoding::TwosComplement(planes)),
            layer,
            step,
        }));
        self.graph.add_edge(value, gate, IrEdge::Operand(0));
        let bits = self.tensor(Role::RangeBits(of), layer, step, shape.with_planes(planes));
        self.graph.add_edge(gate, bits, IrEdge::Output(0));
    }
}

/// Unrolls `spec` over `steps` SGD steps. The spec must be valid; the size limits of the plan are
/// checked by [`lower_checked`](crate::plan::lower_checked), not here.
pub fn lower(spec: &NetworkSpec, steps: u32, visibility: Visibility) -> Ir {
    lower_segment(spec, steps, visibility, InitialWeights::Checked)
}

/// [`lower`] for a segment of a chain: with W_0 carried from the previous segment, it has no range
/// check (`docs/chains.md` argues why that is sound).
pub fn lower_segment(spec: &NetworkSpec, steps: u32, visibility: Visibility, initial_weights: InitialWeights) -> Ir {
    let params = spec.fixed_point_params();
    let widths = spec.widths();
    let depth = widths.len() - 1;
    let batch = spec.batch;
    let (s_w, q) = (params.weight_scale_bits, params.range_bits);
    let mut b = Builder { graph: DiGraph::with_capacity(0, 0), step: 0 };
    let per_step_nodes = 30 * depth + 8;
    b.graph.reserve_nodes(per_step_nodes * steps as usize + depth);
    b.graph.reserve_edges(2 * per_step_nodes * steps as usize);

    let mut weights: Vec<NodeIndex> = (1..=depth)
        .map(|l| b.tensor(Role::Weight, l as u32, 0, TensorShape::matrix(widths[l - 1], widths[l])))
        .collect();
    let has_bias = spec.biases();
    let mut biases: Vec<Option<NodeIndex>> = (1..=depth)
        .map(|l| has_bias[l - 1].then(|| b.tensor(Role::Bias, l as u32, 0, TensorShape::matrix(1, widths[l]))))
        .collect();
    if !visibility.public_initial_weights && initial_weights.is_checked() {
        for &w in &weights {
            b.range_check(w, RangeChecked::InitialWeight, params.weight_bits);
        }
        for &bias in biases.iter().flatten() {
            b.range_check(bias, RangeChecked::InitialBias, params.weight_bits);
        }
    }

    for t in 0..steps {
        b.step = t;
        let x = b.tensor(Role::Input, 0, t, TensorShape::matrix(batch, widths[0]));
        let y = b.tensor(Role::Target, depth as u32, t, TensorShape::matrix(batch, widths[depth]));
        if !visibility.public_data {
            b.range_check(x, RangeChecked::Input, params.data_bits);
            b.range_check(y, RangeChecked::Target, params.data_bits);
        }

        // Forward.
        let mut activations = vec![x];
        let mut signs = vec![None; depth + 1];
        let mut output = x;
        for l in 1..=depth {
            let lu = l as u32;
            let out = TensorShape::matrix(batch, widths[l]);
            let (kind, operands) = match biases[l - 1] {
                None => (GateKind::MatMulForward, vec![activations[l - 1], weights[l - 1]]),
                Some(bias) => (GateKind::BiasedMatMulForward, vec![activations[l - 1], weights[l - 1], bias]),
            };
            let z = b.gate(kind, lu, &operands, &[(Role::PreActivation, t, out)])[0];
            let rescaled = b.gate(
                GateKind::Rescale(Pass::Forward),
                lu,
                &[z],
                &[(Role::Rescaled, t, out), (Role::Remainder, t, out)],
            );
            b.range_check(rescaled[1], RangeChecked::Remainder, s_w);
            if l < depth {
                let relu = b.gate(
                    GateKind::ZkRelu,
                    lu,
                    &[rescaled[0]],
                    &[
                        (Role::SignBits, t, out.with_planes(1)),
                        (Role::MagnitudeBits, t, out.with_planes(q)),
                        (Role::Activation, t, out),
                    ],
                );
                signs[l] = Some(relu[0]);
                activations.push(relu[2]);
            } else {
                b.range_check(rescaled[0], RangeChecked::OutputRescaled, q + 1);
                output = rescaled[0];
            }
        }

        // Loss and backward.
        let out = TensorShape::matrix(batch, widths[depth]);
        let mut signal = b.gate(GateKind::MseGrad, depth as u32, &[output, y], &[(Role::Signal, t, out)])[0];
        for l in (1..=depth).rev() {
            let lu = l as u32;
            let w = weights[l - 1];
            let grad_shape = TensorShape::matrix(widths[l - 1], widths[l]);
            let g_w = b.gate(
                GateKind::WeightGradient,
                lu,
                &[activations[l - 1], signal],
                &[(Role::WeightGradient, t, grad_shape)],
            )[0];
            let next_signal = if l > 1 {
                let back = TensorShape::matrix(batch, widths[l - 1]);
                let h =
                    b.gate(GateKind::MatMulBackward, lu, &[signal, w], &[(Role::BackwardPreActivation, t, back)])[0];
                // The gate belongs to layer l; its output is H^(l−1).
                if let IrNode::Tensor(tensor) = &mut b.graph[h] {
                    tensor.layer = lu - 1;
                }
                let rescaled = b.gate(
                    GateKind::Rescale(Pass::Backward),
                    lu - 1,
                    &[h],
                    &[(Role::BackwardRescaled, t, back), (Role::BackwardRemainder, t, back)],
                );
                b.range_check(rescaled[0], RangeChecked::BackwardRescaled, q + 1);
                b.range_check(rescaled[1], RangeChecked::BackwardRemainder, s_w);
                let sign = signs[l - 1].expect("hidden layers have sign bits");
                Some(b.gate(GateKind::ReluBackward, lu - 1, &[rescaled[0], sign], &[(Role::Signal, t, back)])[0])
            } else {
                None
            };
            weights[l - 1] = b.gate(GateKind::SgdUpdate, lu, &[w, g_w], &[(Role::Weight, t + 1, grad_shape)])[0];
            if let Some(bias) = biases[l - 1] {
                let bias_shape = TensorShape::matrix(1, widths[l]);
                let g_b = b.gate(GateKind::BiasGradient, lu, &[signal], &[(Role::BiasGradient, t, bias_shape)])[0];
                biases[l - 1] =
                    Some(b.gate(GateKind::SgdUpdate, lu, &[bias, g_b], &[(Role::Bias, t + 1, bias_shape)])[0]);
            }
            if let Some(s) = next_signal {
                signal = s;
            }
        }
    }
    Ir { spec: spec.clone(), steps, visibility, initial_weights, params, graph: b.graph }
}

impl Ir {
    pub fn tensor(&self, node: NodeIndex) -> Option<&TensorNode> {
        match &self.graph[node] {
            IrNode::Tensor(t) => Some(t),
            IrNode::Gate(_) => None,
        }
    }

    /// The operand tensors of a gate, in port order.
    pub fn operands(&self, gate: NodeIndex) -> Vec<NodeIndex> {
        self.ports(gate, Direction::Incoming)
    }

    /// The output tensors of a gate, in port order.
    pub fn outputs(&self, gate: NodeIndex) -> Vec<NodeIndex> {
        self.ports(gate, Direction::Outgoing)
    }

    fn ports(&self, gate: NodeIndex, direction: Direction) -> Vec<NodeIndex> {
        let mut ports: Vec<(u8, NodeIndex)> = self
            .graph
            .edges_directed(gate, direction)
            .map(|e| {
                let port = match e.weight() {
                    IrEdge::Operand(p) | IrEdge::Output(p) => *p,
                };
                (port, if direction == Direction::Incoming { e.source() } else { e.target() })
            })
            .collect();
        ports.sort_unstable();
        ports.into_iter().map(|(_, n)| n).collect()
    }

    /// Gate nodes, in index order.
    pub fn gates(&self) -> impl Iterator<Item = (NodeIndex, &GateNode)> {
        self.graph.node_indices().filter_map(|n| match &self.graph[n] {
            IrNode::Gate(g) => Some((n, g)),
            IrNode::Tensor(_) => None,
        })
    }

    /// Tensor nodes, in index order.
    pub fn tensors(&self) -> impl Iterator<Item = (NodeIndex, &TensorNode)> {
        self.graph.node_indices().filter_map(|n| match &self.graph[n] {
            IrNode::Tensor(t) => Some((n, t)),
            IrNode::Gate(_) => None,
        })
    }
}

/// Whether a tensor of this role and step is an input of the whole run (has no producer).
pub fn is_run_input(t: &TensorNode) -> bool {
    matches!(t.role, Role::Input | Role::Target) || (matches!(t.role, Role::Weight | Role::Bias) && t.step == 0)
}

/// The check pass: ports, shapes, producers, acyclicity. Returns the first defect found.
pub fn check(ir: &Ir) -> Result<(), IrError> {
    let p = &ir.params;
    for (node, gate) in ir.gates() {
        let err =
            |message: String| IrError::Gate { gate: gate.kind.name(), layer: gate.layer, step: gate.step, message };
        let ops = ir.operands(node);
        let outs = ir.outputs(node);
        let (n_ops, n_outs) = gate.kind.arity();
        if ops.len() != n_ops || outs.len() != n_outs {
            return Err(err(format!(
                "has {} operands and {} outputs, expected {n_ops} and {n_outs}",
                ops.len(),
                outs.len()
            )));
        }
        let shape = |n: NodeIndex| ir.tensor(n).map(|t| t.shape).ok_or_else(|| err("a port is not a tensor".into()));
        let (a, o) = (shape(ops[0])?, shape(outs[0])?);
        let mismatch = |what: &str| err(format!("shapes disagree: {what}"));
        match gate.kind {
            GateKind::MatMulForward | GateKind::BiasedMatMulForward => {
                let w = shape(ops[1])?;
                if a.cols != w.rows || o != TensorShape::matrix(a.rows, w.cols) || a.planes != 1 || w.planes != 1 {
                    return Err(mismatch(&format!("A {a} · W {w} → Z {o}")));
                }
                if gate.kind == GateKind::BiasedMatMulForward {
                    let b = shape(ops[2])?;
                    if b != TensorShape::matrix(1, w.cols) {
                        return Err(mismatch(&format!("bias {b} for Z {o}")));
                    }
                }
            }
            GateKind::BiasGradient => {
                if o != TensorShape::matrix(1, a.cols) || a.planes != 1 {
                    return Err(mismatch(&format!("column sums of G {a} → g_b {o}")));
                }
            }
            GateKind::MatMulBackward => {
                let w = shape(ops[1])?;
                if a.cols != w.cols || o != TensorShape::matrix(a.rows, w.rows) {
                    return Err(mismatch(&format!("G {a} · Wᵀ of W {w} → H {o}")));
                }
            }
            GateKind::WeightGradient => {
                let g = shape(ops[1])?;
                if a.rows != g.rows || o != TensorShape::matrix(a.cols, g.cols) {
                    return Err(mismatch(&format!("Aᵀ of A {a} · G {g} → G_W {o}")));
                }
            }
            GateKind::Rescale(_) => {
                let r = shape(outs[1])?;
                if a != o || a != r || a.planes != 1 {
                    return Err(mismatch(&format!("{a} → {o}, {r}")));
                }
            }
            GateKind::ZkRelu => {
                let (s, m, act) = (o, shape(outs[1])?, shape(outs[2])?);
                if s != a.with_planes(1) || m != a.with_planes(p.range_bits) || act != a {
                    return Err(mismatch(&format!("Z' {a} → s {s}, m {m}, A {act}")));
                }
            }
            GateKind::ReluBackward | GateKind::MseGrad | GateKind::SgdUpdate => {
                // (A bias update reads b and g_b, both 1 × d.)
                let b = shape(ops[1])?;
                if a != b.with_planes(1) || o != a || b.planes != 1 {
                    return Err(mismatch(&format!("{a}, {b} → {o}")));
                }
            }
            GateKind::RangeCheck(encoding) => {
                if o != a.with_planes(encoding.planes()) || a.planes != 1 {
                    return Err(mismatch(&format!("{a} → bits {o} with {} planes", encoding.planes())));
                }
            }
        }
    }
    for (node, t) in ir.tensors() {
        let producers = ir.graph.edges_directed(node, Direction::Incoming).count();
        let expected = usize::from(!is_run_input(t));
        if producers != expected {
            return Err(IrError::Tensor {
                role: t.role.symbol(),
                layer: t.layer,
                step: t.step,
                message: format!("has {producers} producers, expected {expected}"),
            });
        }
    }
    toposort(&ir.graph, None).map(|_| ()).map_err(|cycle| {
        let at = match ir.graph[cycle.node_id()] {
            IrNode::Tensor(t) => format!("tensor {} (layer {}, step {})", t.role.symbol(), t.layer, t.step),
            IrNode::Gate(g) => format!("gate {} (layer {}, step {})", g.kind.name(), g.layer, g.step),
        };
        IrError::Cycle(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_layer() -> NetworkSpec {
        NetworkSpec::builder("two").input(6).dense(5).relu().dense(3).sgd(3).batch(4).build().unwrap()
    }

    fn count(ir: &Ir, kind: fn(&GateKind) -> bool) -> usize {
        ir.gates().filter(|(_, g)| kind(&g.kind)).count()
    }

    #[test]
    fn lowering_has_every_relation_per_layer_and_step() {
        let ir = lower(&two_layer(), 3, Visibility::default());
        check(&ir).unwrap();
        assert_eq!(count(&ir, |k| *k == GateKind::BiasedMatMulForward), 2 * 3);
        assert_eq!(count(&ir, |k| *k == GateKind::MatMulForward), 0);
        assert_eq!(count(&ir, |k| *k == GateKind::MatMulBackward), 3);
        assert_eq!(count(&ir, |k| *k == GateKind::WeightGradient), 2 * 3);
        assert_eq!(count(&ir, |k| *k == GateKind::BiasGradient), 2 * 3);
        assert_eq!(count(&ir, |k| *k == GateKind::ZkRelu), 3);
        assert_eq!(count(&ir, |k| *k == GateKind::ReluBackward), 3);
        assert_eq!(count(&ir, |k| *k == GateKind::MseGrad), 3);
        // W and b of both layers.
        assert_eq!(count(&ir, |k| *k == GateKind::SgdUpdate), 2 * 2 * 3);
        assert_eq!(count(&ir, |k| matches!(k, GateKind::Rescale(_))), 3 * 3);
        // Per step: X, Y, rz ×2, Z'^L, H', rh; once: W_0 ×2, b_0 ×2.
        assert_eq!(count(&ir, |k| matches!(k, GateKind::RangeCheck(_))), 7 * 3 + 4);
        let public = lower(
            &two_layer(),
            3,
            Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
        );
        assert_eq!(count(&public, |k| matches!(k, GateKind::RangeCheck(_))), 5 * 3);
        // Without biases: plain M1, no M4, W updates only.
        let spec =
            NetworkSpec::builder("two").input(6).dense_no_bias(5).relu().dense(3).sgd(3).batch(4).build().unwrap();
        let mixed = lower(&spec, 3, Visibility::default());
        check(&mixed).unwrap();
        assert_eq!(count(&mixed, |k| *k == GateKind::MatMulForward), 3);
        assert_eq!(count(&mixed, |k| *k == GateKind::BiasedMatMulForward), 3);
        assert_eq!(count(&mixed, |k| *k == GateKind::BiasGradient), 3);
        assert_eq!(count(&mixed, |k| *k == GateKind::SgdUpdate), 3 * 3);
    }

    #[test]
    fn relu_backward_uses_the_forward_sign_bits() {
        let ir = lower(&two_layer(), 1, Visibility::default());
        let (relu, _) = ir.gates().find(|(_, g)| g.kind == GateKind::ZkRelu).unwrap();
        let (back, _) = ir.gates().find(|(_, g)| g.kind == GateKind::ReluBackward).unwrap();
        assert_eq!(ir.operands(back)[1], ir.outputs(relu)[0]);
    }

    #[test]
    fn check_rejects_a_shape_mismatch() {
        let mut ir = lower(&two_layer(), 1, Visibility::default());
        let z = ir.tensors().find(|(_, t)| t.role == Role::PreActivation && t.layer == 2).unwrap().0;
        if let IrNode::Tensor(t) = &mut ir.graph[z] {
            t.shape.cols = 7;
        }
        let e = check(&ir).unwrap_err();
        assert!(matches!(e, IrError::Gate { gate: "BiasedMatMulForward", layer: 2, step: 0, .. }), "{e}");
    }

    #[test]
    fn check_rejects_two_producers_and_a_cycle() {
        let mut ir = lower(&two_layer(), 1, Visibility::default());
        let a = ir.tensors().find(|(_, t)| t.role == Role::Activation).unwrap().0;
        let mse = ir.gates().find(|(_, g)| g.kind == GateKind::MseGrad).unwrap().0;
        let extra = ir.graph.add_node(IrNode::Gate(GateNode { kind: GateKind::MseGrad, layer: 9, step: 0 }));
        ir.graph.add_edge(extra, a, IrEdge::Output(0));
        let e = check(&ir).unwrap_err();
        assert!(e.to_string().contains("MseGrad (layer 9"), "{e}");

        // A cycle with consistent shapes and one producer each: b = MseGrad(a, y), a = MseGrad(b, y).
        let mut cyclic = lower(
            &two_layer(),
            0,
            Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
        );
        cyclic.graph.clear();
        let shape = TensorShape::matrix(4, 3);
        let tensor = |role| IrNode::Tensor(TensorNode { role, layer: 2, step: 0, shape });
        let (a, b, y) = (
            cyclic.graph.add_node(tensor(Role::Signal)),
            cyclic.graph.add_node(tensor(Role::Signal)),
            cyclic.graph.add_node(tensor(Role::Target)),
        );
        for (from, to) in [(a, b), (b, a)] {
            let g = cyclic.graph.add_node(IrNode::Gate(GateNode { kind: GateKind::MseGrad, layer: 2, step: 0 }));
            cyclic.graph.add_edge(from, g, IrEdge::Operand(0));
            cyclic.graph.add_edge(y, g, IrEdge::Operand(1));
            cyclic.graph.add_edge(g, to, IrEdge::Output(0));
        }
        let e = check(&cyclic).unwrap_err();
        assert!(matches!(e, IrError::Cycle(_)), "{e}");
        let _ = mse;
    }
}
