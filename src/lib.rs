//! zkdl: zero-knowledge proofs that a neural network was trained correctly.
//!
//! This facade re-exports the crates of the pipeline (`ARCHITECTURE.md`). So far it holds the
//! cryptographic core of [`runtime`]: field tensors, the transcript, sumcheck, claim merging and
//! hiding Hyrax-style commitments; the `network!` DSL, the compiler, the trainer and the proof of
//! training arrive with their issues.

pub use zkdl_runtime as runtime;
