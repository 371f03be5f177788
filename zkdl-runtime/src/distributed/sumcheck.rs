//! A sumcheck proven by `N` ranks, each holding the restriction of every factor table to its last
//! `m = log2 N` index bits (the module docs of [`crate::distributed`] derive it): the first `n − m`
//! rounds are all-reduced partial round polynomials, the last `m` run at rank 0 on the gathered
//! entries. The proof, the claims and the transcript are [`sumcheck::prove_from`]'s.

use crate::crypto::device;
use crate::crypto::sumcheck::{self, SumcheckProverOutput, SumcheckProverState, SumcheckStatement};
use crate::crypto::tensor::eq_table;
use crate::distributed::Communicator;
use crate::{Fr, Transcript};

/// Rank 0's part: the prover state (fresh) and the transcript.
pub struct Root<'s, 't> {
    pub state: SumcheckProverState<'s>,
    pub transcript: &'t mut Transcript,
}

/// Proves `statement` over the ranks of `comm`. `tables` are this rank's restrictions
/// ([`crate::distributed::restriction`]) of every factor's table, committed and public, in the order
/// of the statement's factors: `2^(n − m)` entries each. Rank 0 passes its [`Root`] and gets the
/// output; the other ranks pass `None` and get `None`.
///
/// # Panics
/// If the tables do not have `2^(n − m)` entries, `N > 2^n`, rank 0 has no root (or another rank has
/// one), or the state has sent rounds: programming errors of the caller.
pub fn prove_distributed(
    comm: &mut impl Communicator,
    statement: &SumcheckStatement,
    root: Option<Root<'_, '_>>,
    tables: Vec<Vec<Fr>>,
) -> Option<SumcheckProverOutput> {
    let n = statement.num_vars;
    let (rank, size) = (comm.rank(), comm.size());
    let m = size.trailing_zeros() as usize;
    assert!(m <= n, "{}: {size} ranks for {n} variables", statement.relation);
    assert_eq!(root.is_some(), rank == 0, "{}: rank 0, and only rank 0, holds the transcript", statement.relation);
    assert!(
        tables.iter().all(|t| t.len() == 1 << (n - m)),
        "{}: restricted tables of 2^{} entries",
        statement.relation,
        n - m
    );
    let mut root = root;
    if let Some(root) = &root {
        assert!(root.state.point().is_empty(), "{}: a fresh prover state", statement.relation);
    }
    let local = n - m;
    let rho = statement.eq_weight.as_deref();
    // eq(ρ_lo, r): this rank's share of the eq weight, the same for all its entries.
    let share = rho.map_or(Fr::from(1u64), |rho| eq_table(&rho[local..])[rank]);

    let finals: Vec<Fr> = if local == 0 {
        tables.iter().map(|t| t[0]).collect()
    } else {
        let eq_rest = rho.map(|rho| eq_table(&rho[1..local]));
        let mut held = device::current().round_tables(&statement.round_shape(), tables, eq_rest);
        for j in 0..local {
            let mut q = held.round_values(j == 0);
            for v in &mut q {
                *v *= share;
            }
            comm.all_reduce_sum(&mut q);
            let mut challenge = [Fr::from(0u64)];
            if let Some(root) = root.as_mut() {
                challenge[0] = root.state.send_round(statement, &q, root.transcript);
            }
            comm.broadcast(&mut challenge);
            held.bind(challenge[0]);
        }
        held.first_entries()
    };

    let gathered = comm.gather(&finals)?;
    let root = root.expect("rank 0 holds the root");
    // Factor f over the last m variables: rank r's entry at index r.
    let tables: Vec<Vec<Fr>> =
        (0..statement.factors.len()).map(|f| gathered.iter().map(|entries| entries[f]).collect()).collect();
    let eq_rest = rho.map(|rho| eq_table(&rho[(local + 1).min(n)..]));
    Some(sumcheck::prove_remaining_rounds(statement, root.state, tables, eq_rest, root.transcript))
}
