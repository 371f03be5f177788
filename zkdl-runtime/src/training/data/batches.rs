//! Seeded epoch order: which examples make up the batch of each training step.
//!
//! Epoch `e` is a fresh uniformly random permutation of the `n` examples, drawn by Fisher–Yates from
//! `ChaCha8Rng::seed_from_u64(seed)` on stream `e` (so each epoch's order is independent of the
//! others' and computable on its own). The epoch is cut into `ceil(n / B)` batches of exactly `B`
//! examples: batch `k` holds positions `k·B, …, k·B + B − 1` of the permutation, taken modulo `n`, so
//! the last batch is completed with the first examples of the same permutation. Every example appears
//! at least once per epoch and every batch has exactly `B` examples (the protocol's tensors have a
//! fixed shape). When `B > n` a batch repeats examples.
//!
//! The permutation of the most recent epoch is cached, so consecutive steps cost `O(B)`; a step of
//! another epoch recomputes its permutation in `O(n)`. The result depends only on `(n, B, seed, step)`.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{shuffled, DataError};

/// The batches of every training step, for `n` examples, batch size `B` and a seed.
pub struct EpochBatches {
    example_count: usize,
    batch_size: usize,
    seed: u64,
    batches_per_epoch: usize,
    /// The permutation of the most recently used epoch.
    cache: Mutex<Option<(u64, Arc<Vec<usize>>)>>,
}

impl EpochBatches {
    /// The batching of `example_count` examples into batches of `batch_size`; both must be positive.
    pub fn new(example_count: usize, batch_size: usize, seed: u64) -> Result<EpochBatches, DataError> {
        if example_count == 0 || batch_size == 0 {
            return Err(DataError::BadBatching { examples: example_count, batch_size });
        }
        Ok(EpochBatches {
            example_count,
            batch_size,
            seed,
            batches_per_epoch: example_count.div_ceil(batch_size),
            cache: Mutex::new(None),
        })
    }

    /// The number of examples `n`.
    pub fn example_count(&self) -> usize {
        self.example_count
    }

    /// The batch size `B`.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The batches of an epoch: `ceil(n / B)`.
    pub fn batches_per_epoch(&self) -> usize {
        self.batches_per_epoch
    }

    /// The epoch global step `step` belongs to.
    pub fn epoch_of(&self, step: u64) -> u64 {
        step / self.batches_per_epoch as u64
    }

    /// The order of the examples in epoch `epoch`: a permutation of `0..n`.
    pub fn permutation(&self, epoch: u64) -> Vec<usize> {
        self.cached_permutation(epoch).as_ref().clone()
    }

    /// The example indices of global step `step` (epoch = `step / batches_per_epoch`): exactly `B`
    /// indices, deterministic for the seed.
    pub fn batch(&self, step: u64) -> Vec<usize> {
        let epoch = self.epoch_of(step);
        // The remainder is below batches_per_epoch, a usize.
        let k = (step % self.batches_per_epoch as u64) as usize;
        let permutation = self.cached_permutation(epoch);
        let start = k * self.batch_size;
        (start..start + self.batch_size).map(|position| permutation[position % self.example_count]).collect()
    }

    fn cached_permutation(&self, epoch: u64) -> Arc<Vec<usize>> {
        // A poisoned lock only means another thread panicked mid-update; the cache is then recomputed.
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached_epoch, permutation)) = cache.as_ref() {
            if *cached_epoch == epoch && permutation.len() == self.example_count {
                return Arc::clone(permutation);
            }
        }
        let permutation = Arc::new(epoch_permutation(self.example_count, self.seed, epoch));
        *cache = Some((epoch, Arc::clone(&permutation)));
        permutation
    }
}

/// The permutation of epoch `epoch`: Fisher–Yates from ChaCha8 seeded by `seed`, stream `epoch`.
fn epoch_permutation(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch);
    shuffled(n, &mut rng)
}

impl Clone for EpochBatches {
    fn clone(&self) -> Self {
        EpochBatches {
            example_count: self.example_count,
            batch_size: self.batch_size,
            seed: self.seed,
            batches_per_epoch: self.batches_per_epoch,
            cache: Mutex::new(None),
        }
    }
}

impl fmt::Debug for EpochBatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochBatches")
            .field("example_count", &self.example_count)
            .field("batch_size", &self.batch_size)
            .field("seed", &self.seed)
            .field("batches_per_epoch", &self.batches_per_epoch)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_and_fresh_permutations_agree() {
        let batches = EpochBatches::new(10, 4, 7).expect("valid");
        let a = batches.batch(5);
        let _ = batches.batch(0);
        assert_eq!(batches.batch(5), a);
        assert_eq!(EpochBatches::new(10, 4, 7).expect("valid").batch(5), a);
        assert_eq!(
            a[..],
            batches.permutation(1)[8..].iter().chain(&batches.permutation(1)[..2]).copied().collect::<Vec<_>>()[..]
        );
    }
}
