//! A sumcheck proven by `N` ranks, each holding the restriction of every factor table to its last
//! `m = log2 N` index bits (the module docs of [`crate::crypto::ranks`] derive it): the first `n − m`
//! rounds are all-reduced partial round polynomials, the last `m` run on the all-gathered entries.
//! Every rank holds a replica of the prover state and the transcript and sends every round itself
//! (the same field elements, so the same bytes): the proof, the claims and the transcript are
//! [`sumcheck::prove_from`]'s on every rank.

use ark_ff::Zero;

use super::{all_gather_fields, Communicator};
use crate::crypto::device;
use crate::crypto::sumcheck::{
    self, Blocks, Factor, PublicBlocks, SumcheckProverOutput, SumcheckProverState, SumcheckStatement,
};
use crate::crypto::tensor::eq_table;
use crate::{Fr, Transcript};

/// The fewest local rounds (`n − m`) for which a sumcheck is split over the ranks; a smaller one is
/// proven whole by every rank (its tables are at most `2^LOCAL_MIN_VARS · N` entries: less work than
/// the collective operations would cost).
pub const LOCAL_MIN_VARS: usize = 10;

/// Whether `statement` is split over the ranks of `comm`: more than one rank, and at least
/// [`Communicator::min_local_vars`] local rounds; the same answer on every rank.
pub fn splits(statement: &SumcheckStatement, comm: &dyn Communicator) -> bool {
    let size = comm.size();
    size > 1 && statement.num_vars >= size.trailing_zeros() as usize + comm.min_local_vars()
}

/// `eq(ρ_lo, r)`: rank `r`'s share of the statement's eq weight (its last `m` coordinates at `r`),
/// the same for all the rank's entries; 1 without an eq weight.
pub fn eq_share(statement: &SumcheckStatement, rank: usize, size: usize) -> Fr {
    let local = statement.num_vars - size.trailing_zeros() as usize;
    statement.eq_weight.as_deref().map_or(Fr::from(1u64), |rho| eq_table(&rho[local..])[rank])
}

/// Proves `statement` over the ranks of `comm`. Every rank passes its replica of the prover state
/// and of the transcript, and `tables`: its restrictions ([`super::restriction`]) of
/// every factor's table, committed and public, in the order of the statement's factors, bound to the
/// point of the rounds the state has sent (`d`, all local: a caller that ran the first rounds its own
/// way): `2^(n − m − d)` entries each. Every rank gets the output.
///
/// # Panics
/// If the tables do not have `2^(n − m − d)` entries, `N > 2^n`, or the state has sent more than the
/// local rounds: programming errors of the caller.
pub fn prove_distributed(
    comm: &mut dyn Communicator,
    statement: &SumcheckStatement,
    mut state: SumcheckProverState,
    transcript: &mut Transcript,
    tables: Vec<Vec<Fr>>,
) -> SumcheckProverOutput {
    let n = statement.num_vars;
    let (rank, size) = (comm.rank(), comm.size());
    let m = size.trailing_zeros() as usize;
    let done = state.point().len();
    assert!(m + done <= n, "{}: {size} ranks for {n} variables, {done} rounds sent", statement.relation);
    let local = n - m;
    assert!(
        tables.iter().all(|t| t.len() == 1 << (local - done)),
        "{}: restricted tables of 2^{} entries",
        statement.relation,
        local - done
    );
    let rho = statement.eq_weight.as_deref();
    let share = eq_share(statement, rank, size);

    let finals: Vec<Fr> = if local == done {
        tables.iter().map(|t| t[0]).collect()
    } else {
        let eq_rest = rho.map(|rho| eq_table(&rho[done + 1..local]));
        let mut held = device::current().round_tables(&statement.round_shape(), tables, eq_rest);
        for _ in done..local {
            let mut q = held.round_values(state.point().is_empty());
            for v in &mut q {
                *v *= share;
            }
            comm.all_reduce_sum(&mut q);
            held.bind(state.send_round(statement, &q, transcript));
        }
        held.first_entries()
    };

    let gathered = all_gather_fields(comm, &finals);
    // Factor f over the last m variables: rank r's entry at index r.
    let tables: Vec<Vec<Fr>> =
        (0..statement.factors.len()).map(|f| gathered.iter().map(|entries| entries[f]).collect()).collect();
    let eq_rest = rho.map(|rho| eq_table(&rho[(local + 1).min(n)..]));
    sumcheck::prove_remaining_rounds(statement, state, tables, eq_rest, transcript)
}

/// This rank's restriction of every factor of `statement`, the committed ones read from `committed`
/// (in the order of the statement's committed factors) a block of `2^block_vars` entries at a time,
/// the public ones tabulated a block at a time: `2^(n − m)` entries each, never the whole table.
///
/// # Panics
/// If there are not as many block sources as committed factors.
pub fn restricted_factors(
    statement: &SumcheckStatement,
    committed: &[&dyn Blocks],
    block_vars: usize,
    rank: usize,
    size: usize,
) -> Vec<Vec<Fr>> {
    let n = statement.num_vars;
    let mut committed = committed.iter();
    statement
        .factors
        .iter()
        .map(|factor| match factor {
            Factor::Committed(id) => {
                let blocks =
                    committed.next().unwrap_or_else(|| panic!("{}: no blocks for tensor {id}", statement.relation));
                restricted_blocks(*blocks, n, block_vars, rank, size)
            }
            Factor::Public(tensor) => {
                restricted_blocks(&PublicBlocks { tensor, num_vars: n }, n, block_vars, rank, size)
            }
        })
        .collect()
}

/// The entries of a table over `n` variables, read as blocks, whose last `log2 size` index bits are
/// `rank`, in order.
fn restricted_blocks(blocks: &dyn Blocks, n: usize, block_vars: usize, rank: usize, size: usize) -> Vec<Fr> {
    let m = block_vars.max(size.trailing_zeros() as usize).min(n);
    let mut block = vec![Fr::zero(); 1 << m];
    let mut out = Vec::with_capacity((1 << n) / size);
    for b in 0..1usize << (n - m) {
        blocks.fill(b << m, &mut block);
        out.extend(block.iter().skip(rank).step_by(size));
    }
    out
}

/// [`sumcheck::prove_blocks_from`] over the ranks of `comm` when the statement [`splits`], else by
/// this rank alone (`None`: a single process): the same output either way.
pub fn prove_blocks_on(
    comm: Option<&mut (dyn Communicator + '_)>,
    statement: &SumcheckStatement,
    state: SumcheckProverState,
    committed: Vec<&dyn Blocks>,
    block_vars: usize,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    match comm {
        Some(comm) if splits(statement, comm) => {
            let tables = restricted_factors(statement, &committed, block_vars, comm.rank(), comm.size());
            prove_distributed(comm, statement, state, transcript, tables)
        }
        _ => sumcheck::prove_blocks_from(statement, state, committed, block_vars, transcript),
    }
}

/// [`sumcheck::prove_from`] (the committed factors' whole tables, the public ones tabulated) over the
/// ranks of `comm` when the statement [`splits`], else by this rank alone: the same output either way.
pub fn prove_tables_on(
    comm: Option<&mut (dyn Communicator + '_)>,
    statement: &SumcheckStatement,
    state: SumcheckProverState,
    committed: Vec<Vec<Fr>>,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    match comm {
        Some(comm) if splits(statement, comm) => {
            let blocks: Vec<&dyn Blocks> = committed.iter().map(|t| t as &dyn Blocks).collect();
            let tables = restricted_factors(statement, &blocks, statement.num_vars, comm.rank(), comm.size());
            drop(blocks);
            drop(committed);
            prove_distributed(comm, statement, state, transcript, tables)
        }
        _ => sumcheck::prove_from(statement, state, committed, Vec::new(), transcript),
    }
}
