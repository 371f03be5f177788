//! The zkdl circuit compiler: `NetworkSpec` × T ──► IR (petgraph) ──► aggregation ──► `Plan`.
//!
//! - [`spec`]: the network as declared (by `network!`, a builder, or a TOML/JSON file), its validation
//!   and the magnitude bounds of `PROTOCOL.md` §1;
//! - [`ir`]: the unrolled circuit of T steps, one gate per relation of §4, and its check pass;
//! - [`plan`]: FAC4DNN aggregation (§5): stacked tensors, the commitment plan, aggregated relations and
//!   their claim routing, the bit-tensor layout;
//! - [`cost`]: the cost model; [`render`]: the digest, the text and the DOT export.
//!
//! It knows no cryptography.

pub mod cost;
pub mod ir;
pub mod plan;
pub mod render;
pub mod spec;

pub use cost::Cost;
pub use ir::{lower, lower_segment, GateKind, InitialWeights, Ir, Role, TensorShape, Visibility};
pub use plan::{
    compile, compile_segment, lower_checked, lower_segment_checked, AggregatedRelation, CompileError, CompileOptions,
    Plan, RelationKind, StackedTensor, Storage, MAX_STACKED_TENSOR_LOG2, MAX_UNROLLED_LAYER_STEPS,
};
pub use render::to_dot;
pub use spec::{
    FixedPoint, FixedPointParams, Layer, Loss, LrChange, MagnitudeBounds, Network, NetworkSpec, NetworkSpecBuilder,
    Optimizer, SpecError, SpecErrors, SpecFileError, SpecKey,
};
