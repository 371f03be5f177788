//! Renderings of a plan: its digest, its text (what the snapshots hold and `zkdl inspect` prints) and
//! the DOT export of the IR.
//!
//! The digest is SHA-256 over the domain tag `zkdl-plan` and the plan's canonical JSON encoding
//! (struct fields in declaration order, maps ordered), so it changes whenever the spec, T, the
//! fixed-point parameters, the visibility or the aggregation layout change. The transcript absorbs it
//! (`PROTOCOL.md` §7).

use crate::cost::{cost, Cost};
use crate::ir::{is_run_input, Ir, IrEdge, IrNode};
use crate::plan::{ClaimFlow, Plan, StackRole, Storage, ValueKind};
use crate::spec::Layer;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Domain tag of the plan digest.
pub const PLAN_DIGEST_DOMAIN: &[u8] = b"zkdl-plan";

impl Plan {
    /// The stable digest that binds a proof to this plan.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(PLAN_DIGEST_DOMAIN);
        h.update(serde_json::to_vec(self).expect("a plan serializes to JSON"));
        h.finalize().into()
    }

    /// The digest in hex.
    pub fn digest_hex(&self) -> String {
        self.digest().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The cost model.
    pub fn cost(&self) -> Cost {
        cost(self)
    }

    /// The plan as text: statement, magnitudes, stacked tensors, relations in prover order with their
    /// claim routing, the bit tensor layout, and the cost model.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        let spec = &self.spec;
        let p = &self.params;
        let layers: Vec<String> = spec
            .layers
            .iter()
            .map(|l| match l {
                Layer::Dense { units, bias: true } => units.to_string(),
                Layer::Dense { units, bias: false } => format!("{units} (no bias)"),
                Layer::Relu => "relu".into(),
            })
            .collect();
        let _ = writeln!(o, "plan {} (format {}), digest {}", spec.name, self.format_version, self.digest_hex());
        let _ = writeln!(
            o,
            "network: {} → {} ({} dense layers, {} parameters), MSE loss",
            spec.input,
            layers.join(" → "),
            spec.depth(),
            spec.parameter_count()
        );
        let _ = writeln!(
            o,
            "training: T = {} steps of SGD, batch {}, learning rate {} on the mean gradient (shift k = {} on the summed gradient{})",
            self.steps,
            spec.batch,
            spec.optimizer.describe(),
            p.update_shift,
            if spec.optimizer.is_constant() { "" } else { " at the smallest rate; larger rates multiply the update by 2^(k'_max − k'_t)" }
        );
        let _ = writeln!(
            o,
            "fixed point: R = {}, Q = {}, S_W = 2R + k = {}; range checks: X, Y {} bits, W_0 {} bits, rz and rh {} bits, Z'^L and H' {} bits, hidden Z' sign + {} bits",
            p.scale_bits,
            p.range_bits,
            p.weight_scale_bits,
            p.data_bits,
            p.weight_bits,
            p.weight_scale_bits,
            p.range_bits + 1,
            p.range_bits
        );
        let v = self.visibility;
        let _ = writeln!(
            o,
            "statement: data {}, initial weights {}, final weights {}",
            if v.public_data { "public" } else { "committed (C_X, C_Y)" },
            if v.public_initial_weights { "public" } else { "committed (C_W0)" },
            if v.public_final_weights { "public (W_T in the clear)" } else { "committed (C_WT)" }
        );
        if let crate::ir::InitialWeights::CarriedFromPreviousSegment { steps_before } = self.initial_weights {
            let _ = writeln!(
                o,
                "chain segment: W_0 carried from the previous segment's C_WT (no range check here), {steps_before} chain steps before; magnitudes bounded at step {}",
                steps_before + self.steps as u64
            );
        }
        let b = &self.bounds;
        let _ = writeln!(
            o,
            "magnitudes (log2, at T = {}): data {}, activations {}, signals {}, W_0 {}, G_W {}, W_t {}, Z {}, H {}; worst relation {} at 2^{}, margin {} bits below p/2",
            self.steps,
            b.data,
            b.activation,
            b.signal,
            b.initial_weight,
            b.weight_gradient,
            b.weight,
            b.pre_activation,
            b.backward_pre_activation,
            b.worst_relation,
            b.max_relation_log2,
            b.margin_bits()
        );
        let gates: Vec<String> = self.gate_instances.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(o, "IR gates: {}", gates.join(", "));

        let _ = writeln!(o, "\nstacked tensors (index bits: step+layer+plane+row+col)");
        for t in &self.tensors {
            let l = t.layout;
            let storage = match &t.storage {
                Storage::Committed { values, public_commitment, row_vars, col_vars } => format!(
                    "committed {}, {} row commitments × 2^{} columns{}",
                    value_kind(*values),
                    1u64 << row_vars,
                    col_vars,
                    if *public_commitment { ", in the statement" } else { ", in the proof" }
                ),
                Storage::Public => "public, in the clear".into(),
                Storage::Derived(r) => format!("derived by {r}"),
                Storage::BitPlanes(chunks) => {
                    let c: Vec<String> = chunks
                        .iter()
                        .map(|c| {
                            format!(
                                "planes {}..{} at b[{}; 2^{}]",
                                c.first_plane,
                                c.first_plane + c.planes,
                                c.offset,
                                c.log_size
                            )
                        })
                        .collect();
                    format!("bits in b: {}", c.join(", "))
                }
            };
            let members = if t.role == StackRole::AllBits {
                String::new()
            } else {
                format!(" layers {} steps {}", layer_list(&t.layers), step_list(t.steps.first, t.steps.count))
            };
            let _ = writeln!(
                o,
                "  {:<4} {:<18}{members}  index {}+{}+{}+{}+{}  {} used of {}  {storage}",
                t.id.to_string(),
                t.name(),
                l.step_bits,
                l.layer_bits,
                l.plane_bits,
                l.row_bits,
                l.col_bits,
                t.used_entries,
                t.padded_entries()
            );
        }

        let _ = writeln!(o, "\naggregated relations (prover order)");
        for r in &self.relations {
            let sumchecks: Vec<String> =
                r.sumchecks.iter().map(|s| format!("{} rounds of degree {}", s.rounds, s.degree)).collect();
            let members = if r.layers.is_empty() {
                String::new()
            } else {
                format!(" layers {} steps {}", layer_list(&r.layers), step_list(r.steps.first, r.steps.count))
            };
            let _ = writeln!(
                o,
                "  {:<4} {} {}{members}, {} instances: {}",
                r.id.to_string(),
                r.kind.protocol_name(),
                r.kind.name(),
                r.instances,
                if sumchecks.is_empty() {
                    "linear, checked at the claimed point".into()
                } else {
                    format!("sumcheck {}", sumchecks.join(" + "))
                }
            );
            for op in &r.operands {
                let t = &self.tensors[op.tensor.0 as usize];
                let flow = match op.flow {
                    ClaimFlow::Claims { fresh: true } => "claim at a fresh point on",
                    ClaimFlow::Claims { fresh: false } => "reduces the claims on",
                    ClaimFlow::Produces => "produces a claim on",
                };
                let routing = if op.identity {
                    String::new()
                } else {
                    let positions: Vec<String> = op.layer_positions.iter().map(u32::to_string).collect();
                    let shift =
                        if op.step_offset != 0 { format!(", step {:+}", op.step_offset) } else { String::new() };
                    format!(" (layer positions [{}]{shift})", positions.join(", "))
                };
                let _ = writeln!(o, "         {:<8} {flow} {} {}{routing}", op.symbol, op.tensor, t.name());
            }
        }

        let c = self.cost();
        let _ = writeln!(o, "\ncost model");
        let _ = writeln!(
            o,
            "  bits committed: {} used, 2^{} in b ({:.1}% used)",
            c.bits_used,
            self.bit_tensor_vars,
            100.0 * c.bits_used as f64 / c.bits_padded.max(1) as f64
        );
        for (width, n) in &c.signed_values {
            let _ = writeln!(o, "  signed values committed: {n} of {width} bits");
        }
        for cc in &c.commitments {
            let _ = writeln!(
                o,
                "  {:<18} {:>12} entries, {}, opened once",
                cc.tensor,
                cc.used_entries,
                if cc.claims == 1 { "1 claim".to_string() } else { format!("{} claims merged", cc.claims) }
            );
        }
        let _ = writeln!(o, "  sumchecks: {} with {} rounds in all", c.sumchecks, c.sumcheck_rounds);
        let _ = writeln!(
            o,
            "  proof size: ≈ {} bytes ({:.1} KiB); statement commitments {} bytes",
            c.proof_bytes,
            c.proof_bytes as f64 / 1024.0,
            c.statement_commitment_bytes
        );
        let _ = writeln!(
            o,
            "  prover work (estimate, 2-core reference machine): commitments {:.2} s, sumchecks and bindings {:.2} s, total {:.2} s ({:.3} s per step)",
            c.commitment_seconds,
            c.sumcheck_seconds,
            c.prover_seconds(),
            c.prover_seconds() / self.steps as f64
        );
        out
    }
}

fn value_kind(v: ValueKind) -> String {
    match v {
        ValueKind::Bits => "bits".into(),
        ValueKind::Signed(n) => format!("{n}-bit signed"),
    }
}

/// `1`, `2..8` or `1, 3` for a layer list.
fn layer_list(layers: &[u32]) -> String {
    match layers {
        [] => "-".into(),
        [one] => one.to_string(),
        [first, .., last] if layers.windows(2).all(|w| w[1] == w[0] + 1) => format!("{first}..{last}"),
        _ => layers.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
    }
}

fn step_list(first: u32, count: u32) -> String {
    if count == 1 {
        first.to_string()
    } else {
        format!("{first}..{}", first + count - 1)
    }
}

/// The IR as a DOT graph: tensors as ellipses (bit tensors dashed), gates as boxes, edges labelled by port.
pub fn to_dot(ir: &Ir) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "digraph \"{}\" {{", ir.spec.name.replace('"', "'"));
    let _ = writeln!(o, "  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];");
    for n in ir.graph.node_indices() {
        match &ir.graph[n] {
            IrNode::Tensor(t) => {
                let style = if t.role.is_bits() { ", style=dashed" } else { "" };
                let input = is_run_input(t);
                let fill = if input { ", style=filled, fillcolor=\"#e8f0fe\"" } else { style };
                let _ = writeln!(
                    o,
                    "  n{} [shape=ellipse{fill}, label=\"{}^{} t{}\\n{}\"];",
                    n.index(),
                    t.role.symbol(),
                    t.layer,
                    t.step,
                    t.shape
                );
            }
            IrNode::Gate(g) => {
                let _ = writeln!(
                    o,
                    "  n{} [shape=box, label=\"{} {}\\nl{} t{}\"];",
                    n.index(),
                    g.kind.protocol_name(),
                    g.kind.name(),
                    g.layer,
                    g.step
                );
            }
        }
    }
    for e in ir.graph.edge_indices() {
        let (a, b) = ir.graph.edge_endpoints(e).expect("edge of the graph");
        let port = match ir.graph[e] {
            IrEdge::Operand(p) | IrEdge::Output(p) => p,
        };
        let _ = writeln!(o, "  n{} -> n{} [label=\"{port}\"];", a.index(), b.index());
    }
    out.push_str("}\n");
    out
}
