//! zkdl: zero-knowledge proofs that a neural network was trained correctly.
//!
//! This facade re-exports the crates of the pipeline (`ARCHITECTURE.md`): [`network!`] declares a
//! network in Rust source, [`compiler`] lowers a [`NetworkSpec`] and a step count to the plan the
//! prover follows, and [`runtime`] holds the cryptographic core (field tensors, the transcript,
//! sumcheck, claim merging, hiding Hyrax-style commitments). Training and the proof of training arrive
//! with their issues.

pub use zkdl_compiler as compiler;
pub use zkdl_compiler::{Layer, Loss, Network, NetworkSpec, Optimizer};
pub use zkdl_macros::network;
pub use zkdl_runtime as runtime;
