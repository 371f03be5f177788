//! The distributed sumcheck (`zkdl_runtime::distributed`): `N` ranks (threads of one process), each
//! holding the restriction of every factor table to its last `log2 N` index bits, make the
//! single-process proof — the same messages, claims, point and transcript — for every sumcheck shape
//! of the relations, in the clear and (terms of at most two committed factors) in zero knowledge, for `N` = 1, 2, 4 and 8 (up to `2^n`).

mod common;

use common::{rng, sumcheck_cases, SumcheckCase};
use zkdl_runtime::crypto::sumcheck::{self, Factor, SumcheckProverOutput, SumcheckProverState};
use zkdl_runtime::crypto::zk::{Blinder, Secret};
use zkdl_runtime::distributed::sumcheck::{prove_distributed, Root};
use zkdl_runtime::distributed::{restriction, Communicator, LocalGroup, Traffic};
use zkdl_runtime::{Fr, Transcript};

/// Every factor's table, committed and public, in the statement's order.
fn full_tables(case: &SumcheckCase) -> Vec<Vec<Fr>> {
    let n = case.statement.num_vars;
    let mut witness = case.witness.iter();
    case.statement
        .factors
        .iter()
        .map(|f| match f {
            Factor::Committed(_) => witness.next().expect("a witness per committed factor").clone(),
            Factor::Public(public) => public.table(n),
        })
        .collect()
}

/// A prover state for the case: in the clear, or hidden with a blinder seeded by `seed`.
fn state<'b>(case: &SumcheckCase, blinder: Option<&'b mut Blinder>) -> SumcheckProverState<'b> {
    let claimed = Secret::public(case.true_sum());
    SumcheckProverState::for_mode(&case.statement, claimed, blinder)
}

/// The output and the transcript's next challenge, proven by one process.
fn single(case: &SumcheckCase, hidden: bool) -> (SumcheckProverOutput, Fr) {
    let mut transcript = Transcript::new(b"distributed suite");
    let mut blinder = Blinder::new(&mut rng(77));
    let state = state(case, hidden.then_some(&mut blinder));
    let public = vec![None; case.statement.factors.len()];
    let out = sumcheck::prove_from(&case.statement, state, case.witness.clone(), public, &mut transcript);
    (out, transcript.challenge_field(b"after"))
}

/// The output at rank 0, the transcript's next challenge, and every rank's traffic, proven by `size`
/// threads.
fn distributed(case: &SumcheckCase, hidden: bool, size: usize) -> (SumcheckProverOutput, Fr, Vec<Traffic>) {
    let tables = full_tables(case);
    let ranks = LocalGroup::new(size);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranks
            .into_iter()
            .map(|mut comm| {
                let restricted: Vec<Vec<Fr>> = tables.iter().map(|t| restriction(t, comm.rank(), size)).collect();
                scope.spawn(move || {
                    if comm.rank() != 0 {
                        let out = prove_distributed(&mut comm, &case.statement, None, restricted);
                        assert!(out.is_none(), "only rank 0 has the output");
                        return (None, comm.traffic());
                    }
                    let mut transcript = Transcript::new(b"distributed suite");
                    let mut blinder = Blinder::new(&mut rng(77));
                    let root = Root { state: state(case, hidden.then_some(&mut blinder)), transcript: &mut transcript };
                    let out = prove_distributed(&mut comm, &case.statement, Some(root), restricted);
                    let after = transcript.challenge_field(b"after");
                    (Some((out.expect("rank 0 has the output"), after)), comm.traffic())
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("a rank panicked")).collect();
        let traffic = results.iter().map(|(_, t)| *t).collect();
        let (out, after) = results.into_iter().next().and_then(|(o, _)| o).expect("rank 0's output");
        (out, after, traffic)
    })
}

fn same(a: &SumcheckProverOutput, b: &SumcheckProverOutput) -> bool {
    a.proof == b.proof && a.claimed_sum == b.claimed_sum && a.point == b.point && a.claims == b.claims
}

#[test]
fn distributed_sumchecks_are_the_single_process_proofs() {
    let (mut hidden_runs, mut eq_runs) = (0, 0);
    for case in sumcheck_cases(31) {
        let n = case.statement.num_vars;
        // The zero-knowledge sumcheck takes terms of at most two committed factors.
        let hideable = case.statement.terms.iter().all(|t| {
            t.factors.iter().filter(|&&f| matches!(case.statement.factors[f], Factor::Committed(_))).count() <= 2
        });
        for hidden in [false, true].into_iter().filter(|&h| !h || hideable) {
            let (expected, expected_after) = single(&case, hidden);
            for size in [1usize, 2, 4, 8].into_iter().filter(|&s| s <= 1 << n) {
                let (out, after, traffic) = distributed(&case, hidden, size);
                let what = format!("{} ({n} variables, hidden {hidden}) on {size} ranks", case.name);
                assert!(same(&out, &expected), "{what}: not the single-process proof");
                assert_eq!(after, expected_after, "{what}: the transcripts diverge");
                // Per local round: the all-reduce and the challenge's broadcast; then the gather.
                let local = (n - size.trailing_zeros() as usize) as u64;
                assert!(traffic.iter().all(|t| t.collectives == 2 * local + 1), "{what}: {traffic:?}");
                hidden_runs += usize::from(hidden && size > 1);
                eq_runs += usize::from(case.statement.eq_weight.is_some() && size > 1);
            }
        }
    }
    assert!(hidden_runs > 0 && eq_runs > 0, "zero-knowledge and eq-weighted cases ran on several ranks");
}

/// A rank whose table is corrupted changes the proof: the round sums are really combined (a check
/// that cannot pass by running everything at rank 0).
#[test]
fn a_corrupted_rank_changes_the_proof() {
    let case = sumcheck_cases(32).into_iter().find(|c| c.statement.num_vars >= 5).expect("a case of 5 variables");
    let (expected, _) = single(&case, false);
    let mut witness = case.witness.clone();
    // Entry 3 lies in rank 3's restriction on 4 ranks (its last two bits are 3).
    witness[0][3] += Fr::from(1u64);
    let corrupted = SumcheckCase { name: case.name, statement: case.statement.clone(), witness };
    let (out, _, _) = distributed(&corrupted, false, 4);
    assert!(!same(&out, &expected), "a changed entry on rank 3 must change the proof");
}
