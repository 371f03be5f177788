//! Commitments and row combinations made by `N` ranks.
//!
//! A row commitment `C_i = Σ_j M[i][j] · g_j + β_i · h` depends on row `i` alone, so rank `r`
//! commits the rows [`owned_rows`] gives it and the ranks all-gather the points; every rank draws
//! the same blinds `β` (their random streams are replicas), so the commitment is the single-process
//! one. An opening's row combination `v = Σ_i eq(u_r, i) · M[i]` is a sum over rows: each rank sums
//! its share of the row blocks and the ranks all-reduce the `2^{n_c}` entries of `v`.

use rand::{CryptoRng, RngCore};

use super::{all_gather_points, owned_rows, Communicator};
use crate::crypto::commitment::{
    row_blocks, row_combination_blocks, CommitValues, CommitmentBlinds, CommitmentKey, TensorCommitment,
};
use crate::crypto::sumcheck::Blocks;
use crate::Fr;

/// [`CommitmentKey::commit`] over the ranks of `comm` (or by this process alone, `None`): the same
/// commitment and blinds, from the same random stream.
///
/// # Panics
/// As [`CommitmentKey::commit`].
pub fn commit<V: CommitValues + ?Sized, R: RngCore + CryptoRng>(
    comm: Option<&mut (dyn Communicator + '_)>,
    key: &CommitmentKey,
    values: &V,
    log_cols: u32,
    rng: &mut R,
) -> (TensorCommitment, CommitmentBlinds) {
    let Some(comm) = comm else { return key.commit(values, log_cols, rng) };
    assert!(values.len().is_power_of_two() && values.len() >= 1 << log_cols, "a matrix of 2^{log_cols} columns");
    let blinds = CommitmentBlinds::random(values.len() >> log_cols, rng);
    let mine = owned_rows(blinds.values().len(), comm.rank(), comm.size());
    let points = values.commit_row_range(key, log_cols as usize, mine.start, &blinds.values()[mine]);
    (TensorCommitment { log_cols, rows: all_gather_points(comm, &points) }, blinds)
}

/// The row combination `v = Σ_i eq(u_r, i) · M[i]` of the tensor read as `values` at `point`, over the
/// ranks of `comm` (or by this process alone, `None`).
pub fn row_combination(
    comm: Option<&mut (dyn Communicator + '_)>,
    values: &dyn Blocks,
    block_vars: usize,
    log_cols: usize,
    point: &[Fr],
) -> Vec<Fr> {
    let blocks = row_blocks(point.len(), log_cols, block_vars);
    match comm {
        None => row_combination_blocks(values, block_vars, log_cols, point, 0..blocks),
        Some(comm) => {
            let mine = owned_rows(blocks, comm.rank(), comm.size());
            let mut v = row_combination_blocks(values, block_vars, log_cols, point, mine);
            comm.all_reduce_sum(&mut v);
            v
        }
    }
}
