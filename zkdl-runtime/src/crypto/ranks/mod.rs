//! Proving on several ranks (processes or threads) that together make the single-process proof,
//! byte for byte: what the ranks exchange ([`Communicator`]) and how the prover's work splits among
//! them. The transports are in `crate::distributed` (threads; MPI with the `mpi` feature).
//!
//! **Replicas.** Every rank runs the whole prover with a replica of the transcript and of the random
//! stream (the same seed): wherever the prover computes a value every rank computes it, and whatever
//! is split is all-reduced or all-gathered, so every rank holds the same messages, challenges and
//! blinds, and each writes the single-process proof. Only the work is divided.
//!
//! **Ownership by the last variables** (sumchecks, [`sumcheck`]). Every sumcheck binds its variables
//! most significant first, so a rank that owns the entries whose last `m = log2 N` index bits equal
//! its rank `r` — the restriction `P_r(y) = P(y, r)` of every factor table, itself a table of
//! `n − m` variables — keeps every binding of the first `n − m` rounds local: binding `x_j` for
//! `j ≤ n − m` pairs entries that differ only in `x_j`, which share their last bits. The round
//! polynomial is a sum over the cube, and with an eq weight `eq(ρ, (y, r)) = eq(ρ_hi, y) · eq(ρ_lo, r)`,
//! so
//!
//! ```text
//!     q_j(t) = Σ_r eq(ρ_lo, r) · q_{j,r}(t),
//! ```
//!
//! where `q_{j,r}` is rank `r`'s round polynomial over its restricted tables with the eq weight
//! `ρ_hi` (Gruen's factor `eq(ρ_j, t)` and the running `α` are applied once, when the round is sent).
//! Each round is an all-reduce of `D + 1` field elements. After `n − m` rounds each rank holds one
//! entry per factor, `P(r_1 … r_{n−m}, r)`; all-gathered in rank order they are the factor tables
//! over the last `m` variables, and every rank finishes the last `m` rounds with the single-process
//! round loop.
//!
//! **Ownership by columns** (commitments and row combinations, [`commit`]). A row commitment
//! `C_i = Σ_j M[i][j] · g_j + β_i · h` and an opening's row combination `v = Σ_i w_i · M[i]` are sums
//! that split by column windows or by rows; each rank computes its part and the ranks all-gather.
//! The inner-product argument's cross terms (MSMs) and generator folds split by index ranges
//! (`CommitmentKey::prove_row_combination_on`).

pub mod commit;
pub mod sumcheck;

use ark_ff::BigInt;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

use crate::{Fr, G1Affine};

/// What the ranks of a distributed proof exchange. Every rank calls every collective operation in
/// the same order, with the same lengths where a length is asked to agree.
pub trait Communicator {
    /// This rank, `0 … size − 1`.
    fn rank(&self) -> usize;
    /// The number of ranks `N` (a power of two).
    fn size(&self) -> usize;
    /// Replaces `values` on every rank by their sum over the ranks (the same length on every rank).
    fn all_reduce_sum(&mut self, values: &mut [Fr]);
    /// Every rank's `bytes` (of any length), in rank order, on every rank.
    fn all_gather_bytes(&mut self, bytes: &[u8]) -> Vec<Vec<u8>>;
    /// What this rank has sent so far.
    fn traffic(&self) -> Traffic;
    /// The fewest local rounds for which a sumcheck is split over the ranks (the same on every rank;
    /// [`sumcheck::splits`]).
    fn min_local_vars(&self) -> usize {
        sumcheck::LOCAL_MIN_VARS
    }
}

/// A rank's communication: the bytes it contributed to collective operations (its payloads; a ring
/// all-gather forwards each `N − 1` times) and the number of operations it took part in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub bytes_sent: u64,
    pub collectives: u64,
}

/// Bytes of a field element on the wire: its four Montgomery limbs, little-endian.
pub(crate) const FR_BYTES: u64 = 32;

/// Field elements as their Montgomery limbs' bytes (the ranks share one build: no conversion).
pub(crate) fn field_bytes(values: &[Fr]) -> Vec<u8> {
    values.iter().flat_map(|v| v.0 .0).flat_map(u64::to_le_bytes).collect()
}

/// The inverse of [`field_bytes`].
///
/// # Panics
/// If the length is not a multiple of 32 (a rank sent something else: a programming error).
pub(crate) fn bytes_field(bytes: &[u8]) -> Vec<Fr> {
    assert_eq!(bytes.len() % FR_BYTES as usize, 0, "field elements are 32 bytes");
    bytes
        .chunks_exact(32)
        .map(|c| {
            let limb = |i: usize| u64::from_le_bytes(c[8 * i..8 * i + 8].try_into().expect("8 bytes"));
            Fr::new_unchecked(BigInt([limb(0), limb(1), limb(2), limb(3)]))
        })
        .collect()
}

/// Every rank's field elements, in rank order, on every rank.
pub fn all_gather_fields(comm: &mut dyn Communicator, values: &[Fr]) -> Vec<Vec<Fr>> {
    comm.all_gather_bytes(&field_bytes(values)).iter().map(|b| bytes_field(b)).collect()
}

/// Every rank's points, in rank order, concatenated, on every rank (uncompressed: the ranks trust
/// each other, so the points are not checked again).
pub fn all_gather_points(comm: &mut dyn Communicator, points: &[G1Affine]) -> Vec<G1Affine> {
    let mut bytes = Vec::with_capacity(points.len() * 64);
    points.serialize_uncompressed(&mut bytes).expect("writing to memory");
    comm.all_gather_bytes(&bytes)
        .iter()
        .flat_map(|b| Vec::<G1Affine>::deserialize_uncompressed_unchecked(&b[..]).expect("a rank's points"))
        .collect()
}

/// The rows `[rows · r / N, rows · (r + 1) / N)` that rank `r` of `N` commits and combines: a
/// contiguous share (empty when there are fewer rows than ranks).
pub fn owned_rows(rows: usize, rank: usize, size: usize) -> std::ops::Range<usize> {
    rows * rank / size..rows * (rank + 1) / size
}

/// `values = Σ_r all[r]`.
pub(crate) fn sum_into(values: &mut [Fr], all: &[Vec<Fr>]) {
    for (i, v) in values.iter_mut().enumerate() {
        *v = all.iter().map(|rank| rank[i]).sum();
    }
}

/// Rank `rank`'s restriction of a table over `n` variables: the entries whose last `log2 size` index
/// bits equal `rank`, in order (`P_r(y) = P(y, r)`).
///
/// # Panics
/// If `size` is not a power of two or the table is shorter than `size`.
pub fn restriction(table: &[Fr], rank: usize, size: usize) -> Vec<Fr> {
    assert!(size.is_power_of_two() && table.len() >= size, "{} entries over {size} ranks", table.len());
    table.iter().skip(rank).step_by(size).copied().collect()
}
