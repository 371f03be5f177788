//! The cryptographic core that every proof of training is assembled from (`PROTOCOL.md` §4–§8).
//!
//! - [`tensor`]: dense multilinear tensors over `F` — a tensor `P` with `2^n` entries is identified
//!   with its multilinear extension `P(u) = Σ_i P[i] · eq(u, bits(i))`.
//! - [`transcript`]: the Fiat–Shamir transcript (merlin), absorbing field elements, points and labels,
//!   squeezing full-width challenges.
//! - [`sumcheck`]: one prover and verifier for `Σ_x [eq(ρ, x)] · Σ_t c_t · Π_{f ∈ t} P_f(x)`, the
//!   shape of every relation of `PROTOCOL.md` §4, ending in claims `P_f(r) = y_f`.
//! - [`claim`]: a claim `P(u) = y` on a committed tensor; [`claims`]: merging several claims on one
//!   tensor into one (`PROTOCOL.md` §5).
//! - [`commitment`]: hiding Hyrax-style row commitments with a logarithmic opening proof (§6).
//! - [`zk`]: zero-knowledge values (Pedersen commitments to scalars) and the Σ-protocols on them (§8).
//! - [`serialization`]: decoding proof objects from untrusted bytes.
//! - [`bits`]: packed bit vectors, the prover's form of the stacked bit tensor b.
//! - [`logup`]: range checks by lookup (logUp with a GKR fraction sum). Proofs of training do not use
//!   it: at the same range it costs 1.7× the bit decomposition they use (`docs/range-checks.md`,
//!   `benches/range_checks.rs`).

pub mod bits;
pub mod claim;
pub mod claims;
pub mod commitment;
pub mod device;
pub mod logup;
pub mod ranks;
pub mod serialization;
pub mod sumcheck;
pub mod tensor;
pub mod transcript;
pub mod zk;
