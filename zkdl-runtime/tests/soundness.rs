//! Soundness: each named attack on a sumcheck, a claim merge or an opening is rejected.

mod common;

use ark_ec::CurveGroup;
use common::*;
use rand::Rng;
use zkdl_runtime::crypto::claims::{prove_merge, verify_merge, Claim};
use zkdl_runtime::crypto::commitment::{CommitmentBlinds, CommitmentKey, OpeningProof, TensorCommitment};
use zkdl_runtime::crypto::sumcheck::{self, SumcheckProof};
use zkdl_runtime::crypto::tensor::evaluate;
use zkdl_runtime::{Fr, TensorId, Transcript, VerificationError};

/// Sumcheck soundness as a reduction: a tampered proof is rejected, or the claims it reduces to are
/// false (and the openings of the committed tensors then reject them). Accepting a tampered proof
/// with only true claims is the failure.
fn assert_rejected_or_claims_false(case: &SumcheckCase, result: Result<Vec<Claim>, VerificationError>, what: &str) {
    if let Ok(claims) = result {
        let false_claim = claims.iter().any(|c| c.value != case.evaluate_committed(c.tensor, &c.point));
        assert!(false_claim, "{} (n = {}): {what} accepted with true claims", case.name, case.statement.num_vars);
    }
}

/// Proves each case honestly, applies `tamper` to (claimed sum, proof) and expects rejection.
fn each_sumcheck_tampered(tamper: impl Fn(&mut Fr, &mut SumcheckProof) -> bool) {
    let mut tried = 0;
    for case in sumcheck_cases(21) {
        let output = sumcheck::prove(&case.statement, case.witness.clone(), &mut Transcript::new(b"s"));
        let (mut sum, mut proof) = (output.claimed_sum, output.proof);
        if !tamper(&mut sum, &mut proof) {
            continue;
        }
        tried += 1;
        let result = sumcheck::verify(&case.statement, sum, &proof, &mut Transcript::new(b"s"));
        assert_rejected_or_claims_false(&case, result, "tampered proof");
    }
    assert!(tried > 0, "the attack applied to no case");
}

#[test]
fn sumcheck_rejects_a_wrong_claimed_sum() {
    each_sumcheck_tampered(|sum, _| {
        *sum += Fr::from(1u64);
        true
    });
}

#[test]
fn sumcheck_rejects_a_changed_round_polynomial() {
    // Every value of every round, one at a time.
    for case in sumcheck_cases(22) {
        let output = sumcheck::prove(&case.statement, case.witness.clone(), &mut Transcript::new(b"s"));
        for round in 0..output.proof.rounds.len() {
            for index in 0..output.proof.rounds[round].len() {
                let mut proof = output.proof.clone();
                proof.rounds[round][index] += Fr::from(1u64);
                let result = sumcheck::verify(&case.statement, output.claimed_sum, &proof, &mut Transcript::new(b"s"));
                assert_rejected_or_claims_false(&case, result, &format!("round {round} value {index} changed"));
            }
        }
    }
}

#[test]
fn sumcheck_rejects_a_changed_final_evaluation() {
    each_sumcheck_tampered(|_, proof| {
        proof.final_evaluations[0] += Fr::from(1u64);
        true
    });
}

#[test]
fn sumcheck_rejects_round_polynomials_of_the_wrong_degree_or_count() {
    each_sumcheck_tampered(|_, proof| match proof.rounds.first_mut() {
        Some(round) => {
            round.push(Fr::from(0u64));
            true
        }
        None => false,
    });
    each_sumcheck_tampered(|_, proof| proof.rounds.pop().is_some());
    each_sumcheck_tampered(|_, proof| {
        proof.final_evaluations.push(Fr::from(0u64));
        true
    });
}

#[test]
fn sumcheck_rejects_a_proof_made_for_another_relation() {
    // Same witness and sum; only the relation name (hence the transcript) differs. On random tensors
    // the replayed proof must fail outright (on constant tensors every point gives true claims, so a
    // replay proves nothing false and is not an attack).
    let random_cases = ["product of two", "eq-weighted product of three", "rescale", "public factor"];
    for case in sumcheck_cases(23).into_iter().filter(|c| c.statement.num_vars > 0 && random_cases.contains(&c.name)) {
        let output = sumcheck::prove(&case.statement, case.witness.clone(), &mut Transcript::new(b"s"));
        let mut other = case.statement.clone();
        other.relation.push_str(" (other plan)");
        let result = sumcheck::verify(&other, output.claimed_sum, &output.proof, &mut Transcript::new(b"s"));
        assert!(result.is_err(), "{}: accepted under another relation", case.name);
        let result =
            sumcheck::verify(&case.statement, output.claimed_sum, &output.proof, &mut Transcript::new(b"other"));
        assert!(result.is_err(), "{}: accepted under another transcript domain", case.name);
    }
}

#[test]
fn bit_relation_rejects_a_bit_equal_to_two() {
    let case =
        sumcheck_cases(24).into_iter().find(|c| c.name == "bits are binary" && c.statement.num_vars == 5).unwrap();
    let mut witness = case.witness.clone();
    witness[0][3] = Fr::from(2u64);
    // The honest sum is 0; the prover's own round polynomials now sum to something else.
    let output = sumcheck::prove(&case.statement, witness, &mut Transcript::new(b"s"));
    assert_ne!(output.claimed_sum, Fr::from(0u64));
    let result = sumcheck::verify(&case.statement, Fr::from(0u64), &output.proof, &mut Transcript::new(b"s"));
    assert!(result.is_err(), "a bit equal to 2 passed the bit relation");
}

/// A committed tensor with an honest opening at a random point.
struct Opened {
    key: CommitmentKey,
    values: Vec<Fr>,
    commitment: TensorCommitment,
    blinds: CommitmentBlinds,
    claim: Claim,
    proof: OpeningProof,
}

fn opened(seed: u64) -> Opened {
    let key = CommitmentKey::new(4);
    let mut r = rng(seed);
    let small: Vec<i64> = (0..1 << 7).map(|_| r.gen_range(-1000..1000)).collect();
    let values: Vec<Fr> = small.iter().map(|v| Fr::from(*v)).collect();
    let (commitment, blinds) = key.commit(small.as_slice(), 4, &mut r);
    let point = random_fields(&mut r, 7);
    let (proof, value) = key.open(&mut Transcript::new(b"o"), &commitment, &values, &blinds, &point, &mut r);
    let claim = Claim { tensor: TensorId(1), point, value };
    key.verify_opening(&mut Transcript::new(b"o"), &commitment, &claim, &proof).expect("honest opening verifies");
    Opened { key, values, commitment, blinds, claim, proof }
}

fn rejects(o: &Opened, commitment: &TensorCommitment, claim: &Claim, proof: &OpeningProof) -> bool {
    o.key.verify_opening(&mut Transcript::new(b"o"), commitment, claim, proof).is_err()
}

#[test]
fn opening_rejects_a_changed_commitment_row() {
    let o = opened(31);
    for row in 0..o.commitment.rows.len() {
        let mut commitment = o.commitment.clone();
        commitment.rows[row] = (commitment.rows[row] + o.key.generators()[0]).into_affine();
        assert!(rejects(&o, &commitment, &o.claim, &o.proof), "row {row} changed");
    }
}

#[test]
fn opening_rejects_a_changed_opening_message() {
    let o = opened(32);
    let shift = o.key.generators()[1];
    for k in 0..o.proof.left.len() {
        let mut proof = o.proof.clone();
        proof.left[k] = (proof.left[k] + shift).into_affine();
        assert!(rejects(&o, &o.commitment, &o.claim, &proof), "L_{k} changed");
        let mut proof = o.proof.clone();
        proof.right[k] = (proof.right[k] + shift).into_affine();
        assert!(rejects(&o, &o.commitment, &o.claim, &proof), "R_{k} changed");
        let mut proof = o.proof.clone();
        proof.left.swap(k, (k + 1) % o.proof.left.len());
        assert!(rejects(&o, &o.commitment, &o.claim, &proof), "L_{k} swapped");
    }
    let mut proof = o.proof.clone();
    proof.schnorr_commitment = (proof.schnorr_commitment + shift).into_affine();
    assert!(rejects(&o, &o.commitment, &o.claim, &proof), "A changed");
    let mut proof = o.proof.clone();
    proof.response_value += Fr::from(1u64);
    assert!(rejects(&o, &o.commitment, &o.claim, &proof), "z1 changed");
    let mut proof = o.proof.clone();
    proof.response_blind += Fr::from(1u64);
    assert!(rejects(&o, &o.commitment, &o.claim, &proof), "z2 changed");
    let mut proof = o.proof.clone();
    proof.left.pop();
    proof.right.pop();
    assert!(matches!(
        o.key.verify_opening(&mut Transcript::new(b"o"), &o.commitment, &o.claim, &proof),
        Err(VerificationError::Malformed { .. })
    ));
}

#[test]
fn opening_rejects_a_claim_checked_against_the_wrong_point() {
    let o = opened(33);
    for k in 0..o.claim.point.len() {
        let mut claim = o.claim.clone();
        claim.point[k] += Fr::from(1u64);
        assert!(rejects(&o, &o.commitment, &claim, &o.proof), "coordinate {k} changed");
    }
    // The right value for the wrong point does not help either.
    let mut claim = o.claim.clone();
    claim.point[0] += Fr::from(1u64);
    claim.value = evaluate(&o.values, &claim.point);
    assert!(rejects(&o, &o.commitment, &claim, &o.proof));
}

#[test]
fn opening_rejects_a_wrong_value() {
    let o = opened(34);
    let mut claim = o.claim.clone();
    claim.value += Fr::from(1u64);
    assert!(rejects(&o, &o.commitment, &claim, &o.proof));
}

#[test]
fn opening_rejects_a_proof_for_another_commitment() {
    let o = opened(35);
    let other = opened(36);
    assert!(rejects(&o, &other.commitment, &o.claim, &o.proof));
    // An honest prover cannot open a commitment to other values to this claim.
    let mut r = rng(37);
    let (proof, value) =
        o.key.open(&mut Transcript::new(b"o"), &other.commitment, &other.values, &other.blinds, &o.claim.point, &mut r);
    assert_ne!(value, o.claim.value);
    assert!(rejects(&o, &o.commitment, &o.claim, &proof));
    // Nor open with the wrong blinds.
    let wrong_blinds = CommitmentBlinds::random(o.blinds.values().len(), &mut r);
    let (proof, _) =
        o.key.open(&mut Transcript::new(b"o"), &o.commitment, &o.values, &wrong_blinds, &o.claim.point, &mut r);
    assert!(rejects(&o, &o.commitment, &o.claim, &proof));
}

#[test]
fn opening_rejects_commitments_of_the_wrong_shape() {
    let o = opened(38);
    let mut commitment = o.commitment.clone();
    commitment.rows.pop();
    assert!(matches!(
        o.key.verify_opening(&mut Transcript::new(b"o"), &commitment, &o.claim, &o.proof),
        Err(VerificationError::Malformed { .. })
    ));
    let mut commitment = o.commitment.clone();
    commitment.log_cols = 40;
    assert!(o.key.verify_opening(&mut Transcript::new(b"o"), &commitment, &o.claim, &o.proof).is_err());
    let mut commitment = o.commitment.clone();
    commitment.rows[0] = zkdl_runtime::G1Affine::identity();
    assert!(rejects(&o, &commitment, &o.claim, &o.proof));
}

#[test]
fn merged_claims_with_one_wrong_value_fail_the_opening() {
    let o = opened(39);
    let mut r = rng(40);
    let mut claims: Vec<Claim> = (0..3)
        .map(|_| {
            let point = random_fields(&mut r, 7);
            Claim { tensor: TensorId(1), value: evaluate(&o.values, &point), point }
        })
        .collect();
    claims[1].value += Fr::from(1u64);
    // The cheating prover merges and then opens the merged point honestly.
    let mut prover = Transcript::new(b"m");
    let (merge_proof, merged) = prove_merge(TensorId(1), &claims, &o.values, &mut prover);
    let (opening, _) = o.key.open(&mut prover, &o.commitment, &o.values, &o.blinds, &merged.point, &mut r);
    let mut verifier = Transcript::new(b"m");
    let result = verify_merge(TensorId(1), &claims, &merge_proof, &mut verifier)
        .and_then(|merged| o.key.verify_opening(&mut verifier, &o.commitment, &merged, &opening));
    assert!(result.is_err(), "a wrong claim survived merging and opening");
}

#[test]
fn merge_rejects_a_missing_sumcheck_and_foreign_claims() {
    let o = opened(41);
    let mut claims = vec![o.claim.clone(), o.claim.clone()];
    let (proof, _) = prove_merge(TensorId(1), &claims, &o.values, &mut Transcript::new(b"m"));
    let empty = zkdl_runtime::crypto::claims::ClaimMergeProof { sumcheck: None };
    assert!(verify_merge(TensorId(1), &claims, &empty, &mut Transcript::new(b"m")).is_err());
    claims[1].tensor = TensorId(2);
    assert!(verify_merge(TensorId(1), &claims, &proof, &mut Transcript::new(b"m")).is_err());
    assert!(verify_merge(TensorId(1), &[], &proof, &mut Transcript::new(b"m")).is_err());
    // A lone claim on another tensor is not passed through as a claim on this one.
    assert!(verify_merge(TensorId(2), &claims[..1], &empty, &mut Transcript::new(b"m")).is_err());
    assert!(verify_merge(TensorId(1), &claims[..1], &empty, &mut Transcript::new(b"m")).is_ok());
    assert!(verify_merge(TensorId(1), &claims[..1], &proof, &mut Transcript::new(b"m")).is_err());
}
