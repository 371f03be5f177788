//! zkdl: zero-knowledge proofs that a neural network was trained correctly.
//!
//! This facade re-exports the crates of the pipeline (`ARCHITECTURE.md`): [`network!`] declares a
//! network in Rust source, [`compile`] lowers a [`NetworkSpec`] and a step count to the [`Plan`] that the
//! trainer, prover and verifier follow, and [`runtime`] holds the cryptographic core (field tensors, the
//! transcript, sumcheck, claim merging, hiding Hyrax-style commitments). [`presets`] holds the networks
//! zkdl ships. [`train`] runs exact fixed-point SGD on a [`Dataset`] with the float reference beside it, and
//! [`train_with_witness`] also keeps the [`Witness`] a prover needs. The proof of training arrives with its issue.

// `network!` expands to `::zkdl::…` paths; this lets the presets use it inside this crate.
extern crate self as zkdl;

pub mod presets;

pub use zkdl_compiler as compiler;
pub use zkdl_compiler::{compile, CompileOptions, Layer, Loss, Network, NetworkSpec, Optimizer, Plan};
pub use zkdl_macros::network;
pub use zkdl_runtime as runtime;
pub use zkdl_runtime::data::Dataset;
pub use zkdl_runtime::session::{train, train_with_witness, TrainConfig, TrainingRun};
pub use zkdl_runtime::weights::FixedWeights;
pub use zkdl_runtime::witness::Witness;
