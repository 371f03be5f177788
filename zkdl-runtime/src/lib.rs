//! The zkdl runtime: the cryptographic core that every proof of training is assembled from, and the
//! training that produces the witness.
//!
//! Notation follows `PROTOCOL.md`. `F` is the BLS12-381 scalar field ([`Fr`]); `G` is the G1 group.
//!
//! - [`tensor`]: dense multilinear tensors over `F` — a tensor `P` with `2^n` entries is identified
//!   with its multilinear extension `P(u) = Σ_i P[i] · eq(u, bits(i))`.
//! - [`transcript`]: the Fiat–Shamir transcript (merlin), absorbing field elements, points and labels,
//!   squeezing full-width challenges.
//! - [`sumcheck`]: one prover and verifier for `Σ_x [eq(ρ, x)] · Σ_t c_t · Π_{f ∈ t} P_f(x)`, the
//!   shape of every relation of `PROTOCOL.md` §4, ending in claims `P_f(r) = y_f`.
//! - [`claims`]: merging several claims on one tensor into one (`PROTOCOL.md` §5).
//! - [`commitment`]: hiding Hyrax-style row commitments with a logarithmic opening proof (§6).
//! - [`serialization`]: decoding proof objects from untrusted bytes.
//! - [`bits`]: packed bit vectors, the prover's form of the stacked bit tensor b.
//! - [`logup`]: range checks by lookup (logUp with a GKR fraction sum). Proofs of training do not use
//!   it: at the same range it costs 1.7× the bit decomposition they use (`docs/range-checks.md`,
//!   `benches/range_checks.rs`).
//!
//! Training (`PROTOCOL.md` §1–§3):
//! - [`data`]: the embedded UCI digits set and loaders for CSV, IDX, npy and CIFAR-10; normalization,
//!   seeded splits and epoch batches.
//! - [`fixed_point`]: quantization, rescale_S with its remainder, two's complement and zkReLU's
//!   sign/magnitude decomposition.
//! - [`exact_matmul`]: exact integer matrix products through f64 limbs ([`gemm`] holds the only `unsafe`).
//! - [`trainer`]: the exact fixed-point SGD step, every value recorded, ranges checked as errors.
//! - [`witness`]: a run's values in the plan's stacked layout, and a self-check of every relation.
//! - [`integers`]: the compact integer and bit storage of the witness.
//! - [`weights`]: He initialization and safetensors files; [`reference`](mod@reference): the float reference;
//!   [`session`]: a training run with per-epoch reports and the drift report; [`files`]: atomic writes.
//! - [`dataset`]: a committed training set, and the selection of batches from it.
//! - [`statement`]: what the statement pins from outside the proof — initial weights regenerated from
//!   a seed, final weights opened to a weights file.
#![deny(unsafe_code)]

pub mod bits;
pub mod claims;
pub mod commitment;
pub mod data;
pub mod dataset;
pub mod error;
pub mod exact_matmul;
pub mod files;
pub mod fixed_point;
pub mod gemm;
pub mod integers;
pub mod logup;
pub mod proof;
pub mod reference;
pub mod serialization;
pub mod session;
pub mod statement;
pub mod sumcheck;
pub mod tensor;
pub mod trainer;
pub mod transcript;
pub mod weights;
pub mod witness;
pub mod zk;

pub use ark_bls12_381::{Fr, G1Affine, G1Projective};
pub use claims::{Claim, TensorId};
pub use error::VerificationError;
pub use tensor::{Shape, Tensor};
pub use transcript::Transcript;
