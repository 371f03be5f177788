//! The transports of a distributed proof ([`crate::crypto::ranks`] gives the design and the split
//! of the prover's work): [`LocalGroup`], ranks as threads of one process (the tests check with it
//! that every split makes the single-process proof), and `mpi::MpiRanks` (feature `mpi`), the
//! processes of an MPI job.

#[cfg(feature = "mpi")]
pub mod mpi;

use std::sync::{Arc, Barrier, Mutex};

use crate::crypto::ranks::sum_into;
pub use crate::crypto::ranks::{
    all_gather_fields, all_gather_points, commit, owned_rows, restriction, sumcheck, Communicator, Traffic,
};
use crate::Fr;

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
