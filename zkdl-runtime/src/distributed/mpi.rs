//! The MPI transport (feature `mpi`, rsmpi): the ranks are the processes of `MPI_COMM_WORLD`
//! (`mpirun -np N …`, `N` a power of two). Field elements travel as their four Montgomery limbs.
//! MPI's reductions do not know the field, so the all-reduce is an all-gather and a local sum (the
//! round messages are a few field elements); the broadcast and the gather are MPI's.

use ark_ff::BigInt;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives, Root};

use super::{Communicator, Traffic, FR_BYTES};
use crate::Fr;

/// This process's rank in the MPI job; MPI is finalized when it is dropped.
pub struct MpiRanks {
    world: SimpleCommunicator,
    traffic: Traffic,
    // Dropped last: finalizes MPI.
    _universe: Universe,
}

impl MpiRanks {
    /// Initializes MPI.
    ///
    /// # Errors
    /// MPI initialized already, or a number of processes that is not a power of two.
    pub fn init() -> Result<Self, String> {
        let universe = mpi::initialize().ok_or("MPI is initialized already")?;
        let world = universe.world();
        let size = world.size() as usize;
        if !size.is_power_of_two() {
            return Err(format!("{size} MPI processes: a distributed proof needs a power of two"));
        }
        Ok(Self { world, traffic: Traffic::default(), _universe: universe })
    }
}

fn limbs(values: &[Fr]) -> Vec<u64> {
    values.iter().flat_map(|v| v.0 .0).collect()
}

fn fields(limbs: &[u64]) -> Vec<Fr> {
    limbs.chunks_exact(4).map(|l| Fr::new_unchecked(BigInt([l[0], l[1], l[2], l[3]]))).collect()
}

impl Communicator for MpiRanks {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_reduce_sum(&mut self, values: &mut [Fr]) {
        let mine = limbs(values);
        let mut all = vec![0u64; mine.len() * self.size()];
        self.world.all_gather_into(&mine[..], &mut all[..]);
        self.traffic.bytes_sent += FR_BYTES * values.len() as u64;
        self.traffic.collectives += 1;
        for v in values.iter_mut() {
            *v = Fr::from(0u64);
        }
        let len = values.len();
        let all = fields(&all);
        for rank in 0..self.size() {
            for (v, r) in values.iter_mut().zip(&all[rank * len..]) {
                *v += r;
            }
        }
    }

    fn broadcast(&mut self, values: &mut [Fr]) {
        let mut words = limbs(values);
        self.world.process_at_rank(0).broadcast_into(&mut words[..]);
        if self.rank() == 0 {
            self.traffic.bytes_sent += FR_BYTES * values.len() as u64 * (self.size() as u64 - 1);
        }
        self.traffic.collectives += 1;
        values.copy_from_slice(&fields(&words));
    }

    fn gather(&mut self, values: &[Fr]) -> Option<Vec<Vec<Fr>>> {
        let mine = limbs(values);
        let root = self.world.process_at_rank(0);
        self.traffic.collectives += 1;
        if self.rank() == 0 {
            let mut all = vec![0u64; mine.len() * self.size()];
            root.gather_into_root(&mine[..], &mut all[..]);
            let all = fields(&all);
            Some((0..self.size()).map(|r| all[r * values.len()..(r + 1) * values.len()].to_vec()).collect())
        } else {
            root.gather_into(&mine[..]);
            self.traffic.bytes_sent += FR_BYTES * values.len() as u64;
            None
        }
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}
