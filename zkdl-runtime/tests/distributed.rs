//! The distributed sumcheck (`zkdl_runtime::distributed`): `N` ranks (threads of one process), each
//! holding the restriction of every factor table to its last `log2 N` index bits, make the
//! single-process proof — the same messages, claims, point and transcript — for every sumcheck shape
//! of the relations, in the clear and (terms of at most two committed factors) in zero knowledge, for `N` = 1, 2, 4 and 8 (up to `2^n`).

mod common;

use ark_serialize::CanonicalSerialize;
use common::{compact, rng, small_spec, sumcheck_cases, witness, SumcheckCase};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::sumcheck::{self, Factor, SumcheckProverOutput, SumcheckProverState};
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::crypto::zk::{Blinder, Secret};
use zkdl_runtime::distributed::sumcheck::prove_distributed;
use zkdl_runtime::distributed::{restriction, Communicator, LocalGroup, Traffic};
use zkdl_runtime::proof::{self, ProofBody, PublicInputs, Tables};
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

/// Every rank's output and next transcript challenge, and every rank's traffic, proven by `size`
/// threads, each with its replica of the transcript and the blinder.
fn distributed(case: &SumcheckCase, hidden: bool, size: usize) -> (Vec<(SumcheckProverOutput, Fr)>, Vec<Traffic>) {
    let tables = full_tables(case);
    let ranks = LocalGroup::new(size);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranks
            .into_iter()
            .map(|mut comm| {
                let restricted: Vec<Vec<Fr>> = tables.iter().map(|t| restriction(t, comm.rank(), size)).collect();
                scope.spawn(move || {
                    let mut transcript = Transcript::new(b"distributed suite");
                    let mut blinder = Blinder::new(&mut rng(77));
                    let state = state(case, hidden.then_some(&mut blinder));
                    let out = prove_distributed(&mut comm, &case.statement, state, &mut transcript, restricted);
                    ((out, transcript.challenge_field(b"after")), comm.traffic())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a rank panicked")).unzip()
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
                let (outputs, traffic) = distributed(&case, hidden, size);
                let what = format!("{} ({n} variables, hidden {hidden}) on {size} ranks", case.name);
                for (rank, (out, after)) in outputs.iter().enumerate() {
                    assert!(same(out, &expected), "{what}: rank {rank}'s is not the single-process proof");
                    assert_eq!(*after, expected_after, "{what}: rank {rank}'s transcript diverges");
                }
                // Per local round an all-reduce; then the all-gather of the final entries.
                let local = (n - size.trailing_zeros() as usize) as u64;
                assert!(traffic.iter().all(|t| t.collectives == local + 1), "{what}: {traffic:?}");
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
    let (outputs, _) = distributed(&corrupted, false, 4);
    assert!(outputs.iter().all(|(out, _)| !same(out, &expected)), "a changed entry on rank 3 must change the proof");
}

/// The canonical (compressed) bytes of a statement or proof, as proof files hold them.
fn bytes(value: &impl CanonicalSerialize) -> Vec<u8> {
    let mut out = Vec::new();
    value.serialize_compressed(&mut out).expect("writing to memory");
    out
}

/// What one rank made: the statement, the proof and its traffic, or the prover's error.
type RankOutput = Result<(PublicInputs, ProofBody, Traffic), String>;

/// The statement and proof made by `size` thread-ranks (every sumcheck of at least `min_local_vars`
/// local rounds split), rank `r` proving from `tables(r)`, each with a replica of the random stream
/// `seed`; every rank's, in rank order.
fn whole_proof_on_ranks<'t>(
    plan: &zkdl_compiler::Plan,
    tables: impl Fn(usize) -> &'t Tables<'t> + Sync,
    key: &CommitmentKey,
    mode: Mode,
    seed: u64,
    size: usize,
    min_local_vars: usize,
) -> Vec<RankOutput> {
    let tables = &tables;
    std::thread::scope(|scope| {
        let handles: Vec<_> = LocalGroup::with_min_local_vars(size, min_local_vars)
            .into_iter()
            .map(|mut comm| {
                scope.spawn(move || {
                    let tables = tables(comm.rank());
                    let mut rng = rng(seed);
                    let (public, secrets) = proof::commit_statement_on(Some(&mut comm), plan, key, tables, &mut rng);
                    let ranks = Some(&mut comm as &mut dyn Communicator);
                    let proved =
                        proof::prove_on(ranks, mode, plan, key, tables, &public, &secrets, None, &mut rng, |_| {});
                    proved.map(|(body, _)| (public, body, comm.traffic())).map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a rank panicked")).collect()
    })
}

/// A whole proof of training made by 2 and 4 ranks, with every sumcheck, commitment and row
/// combination split, is the single-process proof byte for byte on every rank, in zero knowledge and
/// in the clear, from full and from streaming (compact) tables; and it verifies.
#[test]
fn whole_proofs_on_ranks_are_the_single_process_proof() {
    let spec = small_spec();
    let run = witness(&spec, 2, 41);
    let plan = &run.plan;
    let key = CommitmentKey::new(proof::key_log_cols(plan));
    let compacted = compact(&run);
    for (tables, what) in [(Tables::from_witness(&run), "full tables"), (Tables::streaming(&compacted), "streaming")] {
        for mode in [Mode::ZeroKnowledge, Mode::Clear] {
            let mut rng = rng(9);
            let (public, secrets) = proof::commit_statement(plan, &key, &tables, &mut rng);
            let (body, _) =
                proof::prove_in_mode(mode, plan, &key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
            proof::verify(plan, &key, &public, &body).unwrap();
            let expected = (bytes(&public), bytes(&body));
            for size in [2usize, 4] {
                let outputs = whole_proof_on_ranks(plan, |_| &tables, &key, mode, 9, size, 0);
                for (rank, output) in outputs.iter().enumerate() {
                    let (public, body, traffic) = output.as_ref().expect("the ranks prove");
                    let got = (bytes(public), bytes(body));
                    assert!(got == expected, "{what}, {mode:?}, rank {rank} of {size}: not the single-process proof");
                    assert!(traffic.collectives > 0 && traffic.bytes_sent > 0, "rank {rank} of {size} took part");
                }
            }
        }
    }
}

/// A rank that commits a different witness (one changed activation entry) changes the ranks' proof:
/// the other ranks' rows and sums come from it, not from their own copies.
#[test]
fn a_rank_with_another_witness_changes_the_whole_proof() {
    let spec = small_spec();
    let run = witness(&spec, 2, 41);
    let plan = &run.plan;
    let key = CommitmentKey::new(proof::key_log_cols(plan));
    let tables = Tables::from_witness(&run);
    let honest = whole_proof_on_ranks(plan, |_| &tables, &key, Mode::Clear, 9, 2, 0);
    // Rank 1 alone proves from tables whose b has one bit flipped in its rows.
    let mut flipped = Tables::from_witness(&run);
    let last = flipped.bits.len() - 1;
    let value = flipped.bits.entry(last);
    flipped.bits.set(last, Fr::from(1u64) - value);
    let mixed = whole_proof_on_ranks(plan, |r| if r == 1 { &flipped } else { &tables }, &key, Mode::Clear, 9, 2, 0);
    let honest_bytes = bytes(&honest[0].as_ref().expect("the honest ranks prove").1);
    let changed = mixed[0].as_ref().map_or(true, |(_, body, _)| bytes(body) != honest_bytes);
    assert!(changed, "rank 0's proof must change with rank 1's bits");
}
