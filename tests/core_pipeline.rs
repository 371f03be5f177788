//! End to end through the facade: the primitives assemble into a proof of a small relation, the
//! way the proof of training will use them.
//!
//! Statement: committed tensors `S` (bits), `Z'` (signed integers) and `A` (signed integers)
//! satisfy `A = S ⊙ Z'` and every entry of `S` is 0 or 1 (the zkReLU relations H1 and B).
//! Proof: commit; `ρ ← transcript`; the prover sends `a = A(ρ)`; sumcheck H1
//! `a = Σ_x eq(ρ, x) S(x) Z'(x)`; `ρ' ← transcript`; sumcheck B `0 = Σ_x eq(ρ', x)(S(x)² − S(x))`;
//! merge the two claims on `S`; open `S`, `Z'` and `A` once each.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkdl::runtime::crypto::claims::{prove_merge, verify_merge, Claim, ClaimMergeProof};
use zkdl::runtime::crypto::commitment::{CommitmentKey, OpeningProof, TensorCommitment};
use zkdl::runtime::crypto::serialization::{decode, encode};
use zkdl::runtime::crypto::sumcheck::{self, Factor, ProductTerm, SumcheckProof, SumcheckStatement};
use zkdl::runtime::{Fr, TensorId, Transcript, VerificationError};

const SIGNS: TensorId = TensorId(0);
const PRE_ACTIVATION: TensorId = TensorId(1);
const ACTIVATION: TensorId = TensorId(2);
const NUM_VARS: usize = 9;
const LOG_COLS: u32 = 4;

#[derive(CanonicalSerialize, CanonicalDeserialize)]
struct ReluProof {
    commitments: Vec<TensorCommitment>,
    activation_at_rho: Fr,
    hadamard: SumcheckProof,
    bits: SumcheckProof,
    merge: ClaimMergeProof,
    openings: Vec<OpeningProof>,
}

fn hadamard_statement(rho: Vec<Fr>) -> SumcheckStatement {
    SumcheckStatement {
        relation: "H1 ReLU".into(),
        num_vars: NUM_VARS,
        eq_weight: Some(rho),
        factors: vec![Factor::Committed(SIGNS), Factor::Committed(PRE_ACTIVATION)],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1])],
    }
}

fn bits_statement(rho: Vec<Fr>) -> SumcheckStatement {
    SumcheckStatement {
        relation: "B bits".into(),
        num_vars: NUM_VARS,
        eq_weight: Some(rho),
        factors: vec![Factor::Committed(SIGNS)],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 0]), ProductTerm::new(-Fr::from(1u64), [0])],
    }
}

fn prove(
    key: &CommitmentKey,
    signs: &[i8],
    pre_activation: &[i64],
    activation: &[i64],
    rng: &mut ChaCha20Rng,
) -> ReluProof {
    let mut t = Transcript::new(b"relu-test");
    let (c_s, b_s) = key.commit(signs, LOG_COLS, rng);
    let (c_z, b_z) = key.commit(pre_activation, LOG_COLS, rng);
    let (c_a, b_a) = key.commit(activation, LOG_COLS, rng);
    for c in [&c_s, &c_z, &c_a] {
        c.absorb_into(&mut t);
    }
    let s: Vec<Fr> = signs.iter().map(|v| Fr::from(i64::from(*v))).collect();
    let z: Vec<Fr> = pre_activation.iter().map(|v| Fr::from(*v)).collect();
    let a: Vec<Fr> = activation.iter().map(|v| Fr::from(*v)).collect();

    let rho = t.challenge_fields(b"rho", NUM_VARS);
    let activation_at_rho = zkdl::runtime::crypto::tensor::evaluate(&a, &rho);
    t.append_field(b"a(rho)", &activation_at_rho);
    let hadamard = sumcheck::prove(&hadamard_statement(rho.clone()), vec![s.clone(), z.clone()], &mut t);
    let rho_bits = t.challenge_fields(b"rho-bits", NUM_VARS);
    let bits = sumcheck::prove(&bits_statement(rho_bits), vec![s.clone()], &mut t);
    let sign_claims = vec![hadamard.claims[0].clone(), bits.claims[0].clone()];
    let (merge, sign_claim) = prove_merge(SIGNS, &sign_claims, &s, &mut t);
    let openings = vec![
        key.open(&mut t, &c_s, &s, &b_s, &sign_claim.point, rng).0,
        key.open(&mut t, &c_z, &z, &b_z, &hadamard.claims[1].point, rng).0,
        key.open(&mut t, &c_a, &a, &b_a, &rho, rng).0,
    ];
    ReluProof {
        commitments: vec![c_s, c_z, c_a],
        activation_at_rho,
        hadamard: hadamard.proof,
        bits: bits.proof,
        merge,
        openings,
    }
}

fn verify(key: &CommitmentKey, proof: &ReluProof) -> Result<(), VerificationError> {
    let malformed = |what: &str| VerificationError::Malformed { relation: "relu proof".into(), what: what.into() };
    let [c_s, c_z, c_a] = proof.commitments.as_slice() else { return Err(malformed("three commitments")) };
    let [o_s, o_z, o_a] = proof.openings.as_slice() else { return Err(malformed("three openings")) };
    let mut t = Transcript::new(b"relu-test");
    for c in [c_s, c_z, c_a] {
        c.absorb_into(&mut t);
    }
    let rho = t.challenge_fields(b"rho", NUM_VARS);
    t.append_field(b"a(rho)", &proof.activation_at_rho);
    let hadamard =
        sumcheck::verify(&hadamard_statement(rho.clone()), proof.activation_at_rho, &proof.hadamard, &mut t)?;
    let rho_bits = t.challenge_fields(b"rho-bits", NUM_VARS);
    let bits = sumcheck::verify(&bits_statement(rho_bits), Fr::from(0u64), &proof.bits, &mut t)?;
    let sign_claim = verify_merge(SIGNS, &[hadamard[0].clone(), bits[0].clone()], &proof.merge, &mut t)?;
    key.verify_opening(&mut t, c_s, &sign_claim, o_s)?;
    key.verify_opening(&mut t, c_z, &hadamard[1], o_z)?;
    let activation_claim = Claim { tensor: ACTIVATION, point: rho, value: proof.activation_at_rho };
    key.verify_opening(&mut t, c_a, &activation_claim, o_a)
}

fn witness(rng: &mut ChaCha20Rng) -> (Vec<i8>, Vec<i64>, Vec<i64>) {
    let z: Vec<i64> = (0..1 << NUM_VARS).map(|_| rng.gen_range(-(1 << 20)..1 << 20)).collect();
    let s: Vec<i8> = z.iter().map(|v| i8::from(*v > 0)).collect();
    let a: Vec<i64> = z.iter().zip(&s).map(|(v, s)| v * i64::from(*s)).collect();
    (s, z, a)
}

#[test]
fn an_honest_relu_proof_verifies_after_a_round_trip_through_bytes() {
    let key = CommitmentKey::new(LOG_COLS);
    let mut rng = ChaCha20Rng::seed_from_u64(61);
    let (s, z, a) = witness(&mut rng);
    let proof = prove(&key, &s, &z, &a, &mut rng);
    let decoded: ReluProof = decode(&encode(&proof)).expect("round trip");
    verify(&key, &decoded).expect("honest proof");
}

#[test]
fn a_corrupted_activation_is_rejected() {
    let key = CommitmentKey::new(LOG_COLS);
    let mut rng = ChaCha20Rng::seed_from_u64(62);
    let (s, z, mut a) = witness(&mut rng);
    a[77] += 1;
    let proof = prove(&key, &s, &z, &a, &mut rng);
    assert!(verify(&key, &proof).is_err());
}

#[test]
fn a_sign_bit_of_two_is_rejected_even_when_the_product_holds() {
    let key = CommitmentKey::new(LOG_COLS);
    let mut rng = ChaCha20Rng::seed_from_u64(63);
    let (mut s, mut z, mut a) = witness(&mut rng);
    // S = 2, Z' = 3, A = 6 satisfies A = S ⊙ Z' but not the bit relation.
    (s[5], z[5], a[5]) = (2, 3, 6);
    let proof = prove(&key, &s, &z, &a, &mut rng);
    assert!(verify(&key, &proof).is_err());
}

#[test]
fn a_proof_checked_against_another_statement_is_rejected() {
    let key = CommitmentKey::new(LOG_COLS);
    let mut rng = ChaCha20Rng::seed_from_u64(64);
    let (s, z, a) = witness(&mut rng);
    let mut proof = prove(&key, &s, &z, &a, &mut rng);
    let other = prove(&key, &s, &z, &a, &mut rng);
    proof.commitments[2] = other.commitments[2].clone();
    assert!(verify(&key, &proof).is_err());
}
