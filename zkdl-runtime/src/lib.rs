//! The zkdl runtime: the cryptographic core that every proof of training is assembled from, the
//! training that produces the witness, what a statement pins down, and the proof itself. One folder
//! per stage, each importing only the stages listed before it:
//!
//! - [`crypto`]: multilinear tensors over the BLS12-381 scalar field ([`Fr`]), the Fiat–Shamir
//!   transcript, the sumcheck protocol, claims and their merging, Hyrax-style commitments and their
//!   openings, zero-knowledge values and Σ-protocols, packed bits, and logUp lookups.
//! - [`training`]: datasets and batches, fixed-point arithmetic, exact integer matrix products, the
//!   SGD trainer, initial weights and model files, the float reference, training sessions, and the
//!   witness: a run's values in the plan's stacked layout.
//! - [`statement`]: what a proof's statement pins down — its public inputs (commitments and public
//!   values), initial weights regenerated from a seed, final weights opened to a model file, a
//!   committed dataset.
//! - [`proof`]: the proof of training — every relation of `PROTOCOL.md` §4, aggregated, committed,
//!   opened and made non-interactive — and its file format.
//! - [`distributed`]: proving on several ranks that together make the single-process proof (so far
//!   the sumcheck's round loop, over ranks owning the last index bits).
//!
//! [`error`] holds the verifier's error type and [`files`] atomic writes. Notation follows
//! `PROTOCOL.md`: `F` is the scalar field, `G` the G1 group.
#![deny(unsafe_code)]

pub mod backend;
pub mod crypto;
pub mod distributed;
pub mod error;
pub mod files;
pub mod proof;
pub mod statement;
pub mod training;

pub use ark_bls12_381::{Fr, G1Affine, G1Projective};
pub use crypto::claim::{Claim, TensorId};
pub use crypto::tensor::{Shape, Tensor};
pub use crypto::transcript::Transcript;
pub use error::VerificationError;
