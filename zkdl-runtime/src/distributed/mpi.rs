//! The MPI transport (feature `mpi`, rsmpi): the ranks are the processes of `MPI_COMM_WORLD`
//! (`mpirun -np N …`, `N` a power of two). Field elements travel as their four Montgomery limbs.
//! MPI's reductions do not know the field, so the all-reduce is an all-gather and a local sum (round
//! messages are a few field elements; a row combination, `2^{n_c}`, is the largest).

use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives};
use mpi::Count;

use super::{all_gather_fields, sum_into, Communicator, Traffic};
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

    /// Ends every process of the job with exit status `code` (`MPI_Abort`): what a rank does on an
    /// error, since the others would wait for it in their next collective operation.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

/// The most bytes one MPI all-gather moves from a rank (its counts are `i32`).
const MAX_PIECE: usize = 1 << 30;

impl Communicator for MpiRanks {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn all_reduce_sum(&mut self, values: &mut [Fr]) {
        let all = all_gather_fields(self, values);
        sum_into(values, &all);
    }

    /// The lengths first (one `u64` a rank), then the bytes in pieces of at most 1 GiB a rank.
    fn all_gather_bytes(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let size = self.size();
        let mut lengths = vec![0u64; size];
        self.world.all_gather_into(&(bytes.len() as u64), &mut lengths[..]);
        let lengths: Vec<usize> = lengths.into_iter().map(|l| l as usize).collect();
        let mut all: Vec<Vec<u8>> = lengths.iter().map(|&l| Vec::with_capacity(l)).collect();
        let pieces = lengths.iter().map(|l| l.div_ceil(MAX_PIECE)).max().unwrap_or(0);
        for piece in 0..pieces {
            let span = |len: usize| (piece * MAX_PIECE).min(len)..((piece + 1) * MAX_PIECE).min(len);
            let counts: Vec<Count> = lengths.iter().map(|&l| span(l).len() as Count).collect();
            let displs: Vec<Count> = counts
                .iter()
                .scan(0, |at, &c| {
                    let here = *at;
                    *at += c;
                    Some(here)
                })
                .collect();
            let mut buf = vec![0u8; counts.iter().map(|&c| c as usize).sum()];
            {
                let mut partition = PartitionMut::new(&mut buf[..], &counts[..], &displs[..]);
                self.world.all_gather_varcount_into(&bytes[span(bytes.len())], &mut partition);
            }
            for (rank, received) in all.iter_mut().enumerate() {
                let at = displs[rank] as usize;
                received.extend_from_slice(&buf[at..at + counts[rank] as usize]);
            }
        }
        self.traffic.bytes_sent += bytes.len() as u64;
        self.traffic.collectives += 1;
        all
    }

    fn traffic(&self) -> Traffic {
        self.traffic
    }
}
