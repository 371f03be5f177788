//! Canonical serialization: round trips, and untrusted bytes that never panic the decoder.

mod common;

use common::*;
use rand::{Rng, RngCore};
use zkdl_runtime::crypto::claims::{prove_merge, verify_merge, Claim, ClaimMergeProof};
use zkdl_runtime::crypto::commitment::{CommitmentBlinds, CommitmentKey, OpeningProof, TensorCommitment};
use zkdl_runtime::crypto::serialization::{decode, encode};
use zkdl_runtime::crypto::sumcheck::{self, SumcheckProof};
use zkdl_runtime::crypto::tensor::evaluate;
use zkdl_runtime::{Fr, TensorId, Transcript};

struct Fixture {
    key: CommitmentKey,
    values: Vec<Fr>,
    commitment: TensorCommitment,
    blinds: CommitmentBlinds,
    claim: Claim,
    opening: OpeningProof,
    sumcheck: SumcheckProof,
    sumcheck_sum: Fr,
    case: SumcheckCase,
    merge: ClaimMergeProof,
    merge_claims: Vec<Claim>,
}

fn fixture() -> Fixture {
    let key = CommitmentKey::new(2);
    let mut r = rng(51);
    let small: Vec<i16> = (0..16).map(|_| r.gen()).collect();
    let values: Vec<Fr> = small.iter().map(|v| Fr::from(i64::from(*v))).collect();
    let (commitment, blinds) = key.commit(small.as_slice(), 2, &mut r);
    let point = random_fields(&mut r, 4);
    let (opening, value) = key.open(&mut Transcript::new(b"o"), &commitment, &values, &blinds, &point, &mut r);
    let claim = Claim { tensor: TensorId(0), point, value };
    let case = sumcheck_cases(52)
        .into_iter()
        .find(|c| c.name == "eq-weighted product of three" && c.statement.num_vars == 2)
        .unwrap();
    let output = sumcheck::prove(&case.statement, case.witness.clone(), &mut Transcript::new(b"s"));
    let merge_claims: Vec<Claim> = (0..2)
        .map(|_| {
            let point = random_fields(&mut r, 4);
            Claim { tensor: TensorId(0), value: evaluate(&values, &point), point }
        })
        .collect();
    let (merge, _) = prove_merge(TensorId(0), &merge_claims, &values, &mut Transcript::new(b"m"));
    Fixture {
        key,
        values,
        commitment,
        blinds,
        claim,
        opening,
        sumcheck: output.proof,
        sumcheck_sum: output.claimed_sum,
        case,
        merge,
        merge_claims,
    }
}

#[test]
fn every_proof_object_round_trips() {
    let f = fixture();
    assert_eq!(decode::<OpeningProof>(&encode(&f.opening)).unwrap(), f.opening);
    assert_eq!(decode::<TensorCommitment>(&encode(&f.commitment)).unwrap(), f.commitment);
    assert_eq!(decode::<CommitmentBlinds>(&encode(&f.blinds)).unwrap(), f.blinds);
    assert_eq!(decode::<SumcheckProof>(&encode(&f.sumcheck)).unwrap(), f.sumcheck);
    assert_eq!(decode::<ClaimMergeProof>(&encode(&f.merge)).unwrap(), f.merge);
    let single = ClaimMergeProof { sumcheck: None };
    assert_eq!(decode::<ClaimMergeProof>(&encode(&single)).unwrap(), single);
    // Points are compressed: 48 bytes each, after an 8-byte length and the 4-byte column count.
    assert_eq!(encode(&f.commitment).len(), 4 + 8 + 48 * f.commitment.rows.len());
}

#[test]
fn every_truncation_and_trailing_byte_is_an_error_with_its_offset() {
    let f = fixture();
    let bytes = encode(&f.opening);
    for len in 0..bytes.len() {
        let error = decode::<OpeningProof>(&bytes[..len]).expect_err("a truncated proof decoded");
        assert!(error.offset <= len, "offset {} past the end {len}", error.offset);
    }
    let mut long = bytes.clone();
    long.push(0);
    let error = decode::<OpeningProof>(&long).unwrap_err();
    assert_eq!(error.offset, bytes.len());
    assert!(error.to_string().contains("trailing"), "{error}");
}

#[test]
fn random_bytes_and_forged_lengths_are_errors() {
    let mut r = rng(53);
    for len in [0usize, 1, 7, 8, 31, 32, 48, 100, 500] {
        for _ in 0..50 {
            let mut bytes = vec![0u8; len];
            r.fill_bytes(&mut bytes);
            assert!(decode::<OpeningProof>(&bytes).is_err());
            assert!(decode::<TensorCommitment>(&bytes).is_err());
            // A random SumcheckProof decodes only if its length prefixes happen to fit exactly.
            let _ = decode::<SumcheckProof>(&bytes);
        }
    }
    // A length of 2^64 − 1 fails at the end of the input instead of allocating.
    let mut forged = u64::MAX.to_le_bytes().to_vec();
    forged.extend([0u8; 64]);
    let error = decode::<SumcheckProof>(&forged).unwrap_err();
    assert!(error.offset <= forged.len());
}

#[test]
fn flipping_any_byte_of_an_opening_proof_is_rejected() {
    let f = fixture();
    let bytes = encode(&f.opening);
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut tampered = bytes.clone();
            tampered[i] ^= mask;
            let Ok(proof) = decode::<OpeningProof>(&tampered) else { continue };
            let result = f.key.verify_opening(&mut Transcript::new(b"o"), &f.commitment, &f.claim, &proof);
            assert!(result.is_err(), "byte {i} ^ {mask:#x} accepted");
        }
    }
}

#[test]
fn flipping_any_byte_of_a_commitment_is_rejected() {
    let f = fixture();
    let bytes = encode(&f.commitment);
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let Ok(commitment) = decode::<TensorCommitment>(&tampered) else { continue };
        let result = f.key.verify_opening(&mut Transcript::new(b"o"), &commitment, &f.claim, &f.opening);
        assert!(result.is_err(), "byte {i} accepted");
    }
}

#[test]
fn flipping_any_byte_of_a_sumcheck_or_merge_proof_is_rejected() {
    let f = fixture();
    let bytes = encode(&f.sumcheck);
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let Ok(proof) = decode::<SumcheckProof>(&tampered) else { continue };
        if let Ok(claims) = sumcheck::verify(&f.case.statement, f.sumcheck_sum, &proof, &mut Transcript::new(b"s")) {
            let false_claim = claims.iter().any(|c| c.value != f.case.evaluate_committed(c.tensor, &c.point));
            assert!(false_claim, "byte {i} accepted with true claims");
        }
    }
    let bytes = encode(&f.merge);
    let honest = verify_merge(TensorId(0), &f.merge_claims, &f.merge, &mut Transcript::new(b"m")).unwrap();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let Ok(proof) = decode::<ClaimMergeProof>(&tampered) else { continue };
        // A tampered merge either fails or yields a claim other than the honest one, which the
        // opening then rejects (see soundness.rs).
        if let Ok(merged) = verify_merge(TensorId(0), &f.merge_claims, &proof, &mut Transcript::new(b"m")) {
            assert_ne!(merged, honest, "byte {i} changed nothing");
            assert!(merged.value != evaluate(&f.values, &merged.point), "byte {i} accepted with a true claim");
        }
    }
}
