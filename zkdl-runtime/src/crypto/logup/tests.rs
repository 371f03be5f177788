use super::*;
use crate::crypto::tensor::evaluate;
use ark_ff::UniformRand;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const W: usize = 4;

fn random_leaves(n: usize, seed: u64) -> Vec<u32> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..1usize << n).map(|_| rng.gen_range(0..1u32 << W)).collect()
}

fn field(values: &[u32]) -> Vec<Fr> {
    values.iter().map(|v| Fr::from(u64::from(*v))).collect()
}

fn alpha(seed: u64) -> Fr {
    Fr::rand(&mut ChaCha20Rng::seed_from_u64(seed))
}

/// Proves and verifies; returns the verifier's result and the prover's claims.
fn run(
    leaves: &dyn LookupLeaves,
    multiplicities: &[Fr],
    alpha: Fr,
    mode: Mode,
    hold_vars: usize,
    block_vars: usize,
) -> (LookupProof, LookupClaims<Secret>, Result<LookupClaims<Sent>, VerificationError>) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut blinder = Blinder::new(&mut rng);
    let blinder = mode.is_zero_knowledge().then_some(&mut blinder);
    let mut transcript = Transcript::new(b"logup-test");
    let (proof, claims) = prove(leaves, multiplicities, alpha, &mut transcript, blinder, hold_vars, block_vars);
    let w = crate::crypto::tensor::log2_exact(multiplicities.len());
    let verified = verify(leaves.num_vars(), w, alpha, &proof, mode, &mut Transcript::new(b"logup-test"));
    (proof, claims, verified)
}

fn check_claims(leaves: &[Fr], multiplicities: &[Fr], prover: &LookupClaims<Secret>, verifier: &LookupClaims<Sent>) {
    assert_eq!(prover.leaf_point, verifier.leaf_point);
    assert_eq!(prover.multiplicity_point, verifier.multiplicity_point);
    assert_eq!(prover.leaf_value.value, evaluate(leaves, &prover.leaf_point));
    assert_eq!(prover.multiplicity_value.value, evaluate(multiplicities, &prover.multiplicity_point));
    assert_eq!(prover.leaf_value.sent(), verifier.leaf_value);
    assert_eq!(prover.multiplicity_value.sent(), verifier.multiplicity_value);
}

#[test]
fn leaves_in_the_table_verify_and_the_claims_are_the_extensions() {
    for mode in [Mode::Clear, Mode::ZeroKnowledge] {
        for n in 1..=7 {
            let values = random_leaves(n, n as u64);
            let m = multiplicities(&values, W);
            let (_, claims, verified) = run(&SmallLeaves(values.clone()), &m, alpha(1), mode, 20, 20);
            let verified = verified.unwrap_or_else(|e| panic!("n = {n}, {mode:?}: {e}"));
            check_claims(&field(&values), &m, &claims, &verified);
        }
    }
}

#[test]
fn streamed_layers_give_the_same_proof_as_held_ones() {
    let n = 9;
    let values = random_leaves(n, 3);
    let m = multiplicities(&values, W);
    let (held, held_claims, _) = run(&SmallLeaves(values.clone()), &m, alpha(2), Mode::Clear, 20, 20);
    for (hold_vars, block_vars) in [(0, 2), (3, 1), (5, 3), (8, 0)] {
        let (proof, claims, verified) =
            run(&SmallLeaves(values.clone()), &m, alpha(2), Mode::Clear, hold_vars, block_vars);
        assert_eq!(proof, held, "hold_vars {hold_vars}, block_vars {block_vars}");
        assert_eq!(claims, held_claims);
        check_claims(&field(&values), &m, &claims, &verified.unwrap());
    }
    // Zero-knowledge, streamed: verifies with the right claims.
    let (_, claims, verified) = run(&SmallLeaves(values.clone()), &m, alpha(2), Mode::ZeroKnowledge, 2, 3);
    check_claims(&field(&values), &m, &claims, &verified.unwrap());
}

fn assert_rejected(leaves: Vec<Fr>, multiplicities: &[Fr], alpha: Fr) {
    for mode in [Mode::Clear, Mode::ZeroKnowledge] {
        let (_, _, verified) = run(&FieldLeaves(leaves.clone()), multiplicities, alpha, mode, 3, 2);
        assert!(verified.is_err(), "{mode:?}: accepted");
    }
}

#[test]
fn a_leaf_outside_the_table_is_rejected() {
    let mut values = random_leaves(6, 4);
    let m = multiplicities(&values, W);
    values[17] = 1 << W; // one past the table, counted nowhere
    assert_rejected(field(&values), &m, alpha(3));
}

#[test]
fn a_leaf_counted_at_the_table_entry_it_aliases_is_rejected() {
    // The leaf 2^w + 3 is counted as if it were 3: the multiplicities balance the counts but not
    // the fractions.
    let mut values = random_leaves(6, 5);
    values[9] = 3;
    let m = multiplicities(&values, W);
    values[9] = (1 << W) + 3;
    assert_rejected(field(&values), &m, alpha(4));
    // A negative leaf, −1 = p − 1, counted at 2^w − 1.
    let mut leaves = field(&values);
    leaves[9] = -Fr::one();
    let mut m = m;
    m[3] -= Fr::one();
    m[(1 << W) - 1] += Fr::one();
    assert_rejected(leaves, &m, alpha(4));
}

#[test]
fn a_forged_multiplicity_is_rejected() {
    let values = random_leaves(6, 6);
    let mut m = multiplicities(&values, W);
    let moved = values[0] as usize;
    m[moved] -= Fr::one();
    m[(moved + 1) % (1 << W)] += Fr::one();
    assert_rejected(field(&values), &m, alpha(5));
    let mut m = multiplicities(&values, W);
    m[2] += Fr::from(5u64);
    assert_rejected(field(&values), &m, alpha(5));
}

#[test]
fn zero_denominators_forced_by_prover_chosen_leaves_are_rejected() {
    // Two leaves equal to α make Q = 0 and P = 0, so P = S·Q for any S: the multiplicities could be
    // anything. Only the check Q ≠ 0 stands between this and a false proof.
    let a = alpha(6);
    let mut leaves = field(&random_leaves(5, 7));
    leaves[3] = a;
    leaves[20] = a;
    leaves[11] = Fr::from(1_000_000u64); // and a leaf far out of range
    let m = vec![Fr::zero(); 1 << W];
    assert_rejected(leaves.clone(), &m, a);
    // P = S·Q holds here (both sides are zero): the clear verifier names the zero denominator.
    let (proof, _, verified) = run(&FieldLeaves(leaves), &m, a, Mode::Clear, 3, 2);
    assert!(proof.root[1].is_zero() && proof.root[2].is_zero(), "P and Q are zero");
    assert!(
        matches!(&verified, Err(VerificationError::Check { what, .. }) if what.contains("Q is zero")),
        "{verified:?}"
    );
}

#[test]
fn a_challenge_in_the_table_is_refused() {
    let values = random_leaves(3, 8);
    let m = multiplicities(&values, W);
    let (proof, _, _) = run(&SmallLeaves(values), &m, alpha(7), Mode::Clear, 4, 4);
    let refused = verify(3, W, Fr::from(5u64), &proof, Mode::Clear, &mut Transcript::new(b"logup-test"));
    assert!(matches!(refused, Err(VerificationError::Check { .. })), "{refused:?}");
}

#[test]
fn a_proof_for_another_statement_or_with_a_tampered_message_is_rejected() {
    let n = 5;
    let values = random_leaves(n, 9);
    let m = multiplicities(&values, W);
    for mode in [Mode::Clear, Mode::ZeroKnowledge] {
        let (proof, _, verified) = run(&SmallLeaves(values.clone()), &m, alpha(8), mode, 4, 4);
        verified.unwrap();
        let again = |proof: &LookupProof, n: usize, w: usize, a: Fr| {
            verify(n, w, a, proof, mode, &mut Transcript::new(b"logup-test"))
        };
        assert!(again(&proof, n, W, alpha(9)).is_err(), "{mode:?}: another α");
        assert!(again(&proof, n + 1, W, alpha(8)).is_err(), "{mode:?}: more leaves");
        assert!(again(&proof, n, W + 1, alpha(8)).is_err(), "{mode:?}: another table");
        assert!(
            verify(n, W, alpha(8), &proof, mode, &mut Transcript::new(b"another-proof")).is_err(),
            "{mode:?}: another transcript"
        );
        // Every message, one at a time.
        let mut tampered = proof.clone();
        match mode {
            Mode::Clear => tampered.root[0] += Fr::one(),
            Mode::ZeroKnowledge => {
                tampered.committed_root[0] = (tampered.committed_root[0] + tampered.committed_root[1]).into_affine()
            }
        }
        assert!(again(&tampered, n, W, alpha(8)).is_err(), "{mode:?}: tampered root");
        for d in 0..n {
            let mut tampered = proof.clone();
            let layer = &mut tampered.layers[d];
            match (&mut layer.hidden, mode) {
                (None, Mode::Clear) if d > 0 => layer.rounds[0][1] += Fr::one(),
                (None, Mode::Clear) => layer.final_evaluations[1] += Fr::one(),
                (Some(hidden), _) => {
                    hidden.final_evaluations[0] =
                        (hidden.final_evaluations[0] + hidden.final_evaluations[1]).into_affine()
                }
                (None, Mode::ZeroKnowledge) => unreachable!(),
            }
            assert!(again(&tampered, n, W, alpha(8)).is_err(), "{mode:?}: tampered layer {d}");
        }
        let mut truncated = proof.clone();
        truncated.layers.pop();
        assert!(matches!(again(&truncated, n, W, alpha(8)), Err(VerificationError::Malformed { .. })));
    }
}
