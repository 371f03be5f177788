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

#[cfg(feature = "mpi")]
pub mod mpi;
pub mod sumcheck;

use std::sync::{Arc, Barrier, Mutex};

use crate::Fr;

/// What the ranks of a distributed proof exchange. Every rank calls every collective operation in
/// the same order.
pub trait Communicator {
    /// This rank, `0 … size − 1`; rank 0 holds the transcript.
    fn rank(&self) -> usize;
    /// The number of ranks `N` (a power of two).
    fn size(&self) -> usize;
    /// Replaces `values` on every rank by their sum over the ranks.
    fn all_reduce_sum(&mut self, values: &mut [Fr]);
    /// Replaces `values` on every rank by rank 0's.
    fn broadcast(&mut self, values: &mut [Fr]);
    /// Every rank's `values`, in rank order, at rank 0 (`None` elsewhere).
    fn gather(&mut self, values: &[Fr]) -> Option<Vec<Vec<Fr>>>;
    /// What this rank has sent so far.
    fn traffic(&self) -> Traffic;
}

/// A rank's communication: bytes it sent and collective operations it took part in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub bytes_sent: u64,
    pub collectives: u64,
}

/// Bytes of a field element on the wire.
const FR_BYTES: u64 = 32;

/// The slots the threads of a [`LocalGroup`] exchange through.
struct Shared {
    slots: Mutex<Vec<Vec<Fr>>>,
    barrier: Barrier,
}

/// One rank of a group of threads ([`LocalGroup::new`]).
pub struct LocalGroup {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
    traffic: Traffic,
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
        (0..size).map(|rank| LocalGroup { rank, size, shared: shared.clone(), traffic: Traffic::default() }).collect()
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Fr>>> {
        self.shared.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes `values` in this rank's slot, waits for every rank, reads with `read`, waits again
    /// (so no slot is overwritten before every rank has read it).
    fn exchange<T>(&mut self, values: &[Fr], read: impl FnOnce(&[Vec<Fr>]) -> T) -> T {
        self.slots()[self.rank] = values.to_vec();
        self.shared.barrier.wait();
        let out = read(&self.slots());
        self.shared.barrier.wait();
        self.traffic.collectives += 1;
        out
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
        self.traffic.bytes_sent += FR_BYTES * values.len() as u64;
        let sum = self.exchange(values, |slots| {
            let mut sum = vec![Fr::from(0u64); slots[0].len()];
            for slot in slots {
                for (s, v) in sum.iter_mut().zip(slot) {
                    *s += v;
                }
            }
            sum
        });
        values.copy_from_slice(&sum);
    }

    fn broadcast(&mut self, values: &mut [Fr]) {
        if self.rank == 0 {
            self.traffic.bytes_sent += FR_BYTES * values.len() as u64 * (self.size as u64 - 1);
        }
        let root = self.exchange(values, |slots| slots[0].clone());
        values.copy_from_slice(&root);
    }

    fn gather(&mut self, values: &[Fr]) -> Option<Vec<Vec<Fr>>> {
        if self.rank != 0 {
            self.traffic.bytes_sent += FR_BYTES * values.len() as u64;
        }
        let root = self.rank == 0;
        self.exchange(values, |slots| root.then(|| slots.to_vec()))
    }

    fn traffic(&self) -> Traffic {
        self.traffic
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
