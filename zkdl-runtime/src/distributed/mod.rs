//! Proving on several ranks (processes or threads) that together make the single-process proof,
//! byte for byte.
//!
//! **Ownership by the last variables.** Every sumcheck binds its variables most significant first
//! (`crypto::sumcheck`), so a rank that owns the entries whose last `m = log2 N` index bits equal its
//! rank `r` — the restriction `P_r(y) = P(y, r)` of every factor table, itself a table of `n − m`
//! variables — keeps every binding of the first `n − m` rounds local: binding `x_j` for `j ≤ n − m`
//! pairs entries that differ only in `x_j`, which share their last bits. The round polynomial is a
//! sum over the cube, and with an eq weight `eq(ρ, (y, r)) = eq(ρ_hi, y) · eq(ρ_lo, r)`, so
//!
//! ```text
//!     q_j(t) = Σ_r eq(ρ_lo, r) · q_{j,r}(t),
//! ```
//!
//! where `q_{j,r}` is rank `r`'s round polynomial over its restricted tables with the eq weight
//! `ρ_hi` (Gruen's factor `eq(ρ_j, t)` and the running `α` are applied once, by the rank holding the
//! transcript). Each round is an all-reduce of `D + 1` field elements; rank 0 alone holds the
//! transcript, sends the round and broadcasts the challenge. After `n − m` rounds each rank holds one
//! entry per factor, `P(r_1 … r_{n−m}, r)`; gathered in rank order they are the factor tables over the
//! last `m` variables, and rank 0 finishes the last `m` rounds with the single-process round loop. The
//! messages, the challenges and the claims are the single-process prover's: the proof is the same.
//!
//! [`Communicator`] is what the ranks need from a transport (an all-reduce of field elements, a
//! broadcast, a gather); [`LocalGroup`] runs ranks as threads of one process, which the tests use to
//! check the byte identity, and `mpi::MpiRanks` (feature `mpi`) the processes of an MPI job.

pub mod commit;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod sumcheck;

use std::sync::{Arc, Barrier, Mutex};

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

/// The slots the threads of a [`LocalGroup`] exchange through.
struct Shared {
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
}

/// One rank of a group of threads ([`LocalGroup::new`]).
pub struct LocalGroup {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
    traffic: Traffic,
    min_local_vars: usize,
}

impl LocalGroup {
    /// `size` ranks (a power of two) that communicate through shared memory; give each to its own
    /// thread.
    ///
    /// # Panics
    /// If `size` is not a power of two.
    pub fn new(size: usize) -> Vec<LocalGroup> {
        assert!(size.is_power_of_two(), "{size} ranks: a power of two");
        let shared = Arc::new(Shared { slots: Mutex::new(vec![Vec::new(); size]), barrier: Barrier::new(size) });
        (0..size)
            .map(|rank| LocalGroup {
                rank,
                size,
                shared: shared.clone(),
                traffic: Traffic::default(),
                min_local_vars: sumcheck::LOCAL_MIN_VARS,
            })
            .collect()
    }

    /// As [`new`](Self::new), splitting every sumcheck of at least `min_local_vars` local rounds
    /// (tests split the small sumchecks of small fixtures that way).
    pub fn with_min_local_vars(size: usize, min_local_vars: usize) -> Vec<LocalGroup> {
        let mut ranks = Self::new(size);
        for rank in &mut ranks {
            rank.min_local_vars = min_local_vars;
        }
        ranks
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.shared.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Communicator for LocalGroup {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_reduce_sum(&mut self, values: &mut [Fr]) {
        let all = all_gather_fields(self, values);
        // An all-reduce counts once, with its payload.
        sum_into(values, &all);
    }

    /// Publishes `bytes` in this rank's slot, waits for every rank, reads every slot, waits again (so
    /// no slot is overwritten before every rank has read it).
    fn all_gather_bytes(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.slots()[self.rank] = bytes.to_vec();
        self.shared.barrier.wait();
        let all = self.slots().clone();
        self.shared.barrier.wait();
        self.traffic.bytes_sent += bytes.len() as u64;
        self.traffic.collectives += 1;
        all
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }

    fn min_local_vars(&self) -> usize {
        self.min_local_vars
    }
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
