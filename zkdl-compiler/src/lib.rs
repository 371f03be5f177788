//! The zkdl circuit compiler: `NetworkSpec` × T ──► IR (petgraph) ──► aggregation ──► `Plan`.
//!
//! It knows no cryptography. [`spec`] holds the network as declared; the IR, the FAC4DNN aggregation
//! (`PROTOCOL.md` §5) and the plan follow in their own modules.

pub mod ir;
pub mod spec;

pub use spec::{
    FixedPoint, FixedPointParams, Layer, Loss, MagnitudeBounds, Network, NetworkSpec, NetworkSpecBuilder, Optimizer,
    SpecError, SpecErrors, SpecFileError, SpecKey,
};
