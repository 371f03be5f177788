//! Commitments and row combinations made by `N` ranks.
//!
//! A row commitment `C_i = Σ_j M[i][j] · g_j + β_i · h` is a sum over columns, so rank `r` sums
//! every row over its window of columns ([`owned_rows`] of the columns: its own generators, and
//! for packed bits its own byte tables), the ranks all-gather the partial points, and every rank
//! adds them and the blinding terms; every rank draws the same blinds `β` (their random streams are
//! replicas), so the commitment is the single-process one. An opening's row combination `v = Σ_i eq(u_r, i) · M[i]` is a sum over rows: each rank sums
//! its share of the row blocks and the ranks all-reduce the `2^{n_c}` entries of `v`.

use ark_ec::{AffineRepr, CurveGroup};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

use super::{all_gather_points, owned_rows, Communicator};
use crate::crypto::commitment::{
    row_blocks, row_combination_blocks, CommitValues, CommitmentBlinds, CommitmentKey, TensorCommitment,
};
use crate::crypto::sumcheck::Blocks;
use crate::{Fr, G1Affine, G1Projective};

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
    let rows = values.len() >> log_cols;
    let blinds = CommitmentBlinds::random(rows, rng);
    let mine = owned_rows(1 << log_cols, comm.rank(), comm.size());
    let partial = if mine.is_empty() {
        vec![G1Affine::zero(); rows]
    } else {
        values.commit_column_window(key, log_cols as usize, mine)
    };
    let all = all_gather_points(comm, &partial);
    let sums: Vec<G1Projective> =
        (0..rows).into_par_iter().map(|i| all.iter().skip(i).step_by(rows).map(|p| p.into_group()).sum()).collect();
    let sums = G1Projective::normalize_batch(&sums);
    (TensorCommitment { log_cols, rows: key.blinded(&sums, blinds.values()) }, blinds)
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
