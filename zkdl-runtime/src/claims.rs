//! Claims on committed tensors, and merging several claims on one tensor into one (`PROTOCOL.md` §5).
//!
//! A [`Claim`] says "tensor `P` at point `u` equals `y`". Sumchecks end in claims; each committed
//! tensor is opened once, so the claims on one tensor are first merged. Given claims
//! `P(u_k) = y_k`, `k = 1 … K`, the verifier draws `c_1 … c_K` from the transcript and both run the
//! sumcheck
//!
//! ```text
//!     Σ_k c_k y_k = Σ_x (Σ_k c_k eq(u_k, x)) · P(x),
//! ```
//!
//! a degree-2 sumcheck whose weight `Σ_k c_k eq(u_k, ·)` is public. It ends in the single claim
//! `P(r) = y` at a fresh point `r`. If any `y_k` is wrong, the merged claim is wrong except with
//! probability `(K + 2n)/|F|`. A single claim is passed through unchanged.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use std::fmt;

use crate::error::VerificationError;
use crate::sumcheck::{self, Factor, ProductTerm, PublicTensor, SumcheckProof, SumcheckStatement};
use crate::{Fr, Transcript};

/// Names a committed tensor within a proof (the plan assigns the numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u32);

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor#{}", self.0)
    }
}

/// "Tensor `tensor` at `point` equals `value`."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The tensor the claim is about.
    pub tensor: TensorId,
    /// The evaluation point (most significant variable first).
    pub point: Vec<Fr>,
    /// The claimed value of the multilinear extension there.
    pub value: Fr,
}

/// The proof that merges several claims on one tensor: `None` when there was only one claim.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct ClaimMergeProof {
    /// The sumcheck of `Σ_x (Σ_k c_k eq(u_k, x)) P(x)`.
    pub sumcheck: Option<SumcheckProof>,
}

/// The statement of the merging sumcheck and its claimed sum, after drawing the coefficients.
fn merge_statement(
    tensor: TensorId,
    claims: &[Claim],
    transcript: &mut Transcript,
) -> Result<(SumcheckStatement, Fr), VerificationError> {
    let relation = format!("claim merge ({tensor})");
    let num_vars = claims[0].point.len();
    if let Some(bad) = claims.iter().find(|c| c.tensor != tensor || c.point.len() != num_vars) {
        return Err(VerificationError::Malformed {
            relation,
            what: format!(
                "a claim on {} over {} variables among claims on {tensor} over {num_vars}",
                bad.tensor,
                bad.point.len()
            ),
        });
    }
    transcript.append_message(b"merge", relation.as_bytes());
    for claim in claims {
        transcript.append_fields(b"claim-point", &claim.point);
        transcript.append_field(b"claim-value", &claim.value);
    }
    let coefficients = transcript.challenge_fields(b"merge-coefficient", claims.len());
    let claimed_sum = claims.iter().zip(&coefficients).map(|(claim, c)| claim.value * c).sum();
    let weight =
        PublicTensor::EqCombination(coefficients.into_iter().zip(claims.iter().map(|c| c.point.clone())).collect());
    let statement = SumcheckStatement {
        relation,
        num_vars,
        eq_weight: None,
        factors: vec![Factor::Committed(tensor), Factor::Public(weight)],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1])],
    };
    Ok((statement, claimed_sum))
}

/// Merges `claims` (all on `tensor`, whose entries are `values`) into one claim.
///
/// # Panics
/// If `claims` is empty or the claims do not all concern `tensor` over `log2(values.len())`
/// variables (programming errors of the caller).
pub fn prove_merge(
    tensor: TensorId,
    claims: &[Claim],
    values: &[Fr],
    transcript: &mut Transcript,
) -> (ClaimMergeProof, Claim) {
    assert!(!claims.is_empty(), "merging no claims on {tensor}");
    if claims.len() == 1 {
        return (ClaimMergeProof { sumcheck: None }, claims[0].clone());
    }
    let (statement, _) = merge_statement(tensor, claims, transcript).unwrap_or_else(|e| panic!("{e}"));
    let output = sumcheck::prove(&statement, vec![values.to_vec()], transcript);
    let merged = output.claims.into_iter().next().expect("one committed factor");
    (ClaimMergeProof { sumcheck: Some(output.proof) }, merged)
}

/// Verifies the merging of `claims` on `tensor`, returning the merged claim to be opened.
pub fn verify_merge(
    tensor: TensorId,
    claims: &[Claim],
    proof: &ClaimMergeProof,
    transcript: &mut Transcript,
) -> Result<Claim, VerificationError> {
    let malformed =
        |what: &str| VerificationError::Malformed { relation: format!("claim merge ({tensor})"), what: what.into() };
    match (claims, &proof.sumcheck) {
        ([], _) => Err(malformed("no claims to merge")),
        ([single], _) if single.tensor != tensor => Err(malformed(&format!("the claim is on {}", single.tensor))),
        ([single], None) => Ok(single.clone()),
        ([_], Some(_)) => Err(malformed("a single claim is passed through without a sumcheck")),
        (_, None) => Err(malformed("several claims need a merging sumcheck")),
        (_, Some(sumcheck_proof)) => {
            let (statement, claimed_sum) = merge_statement(tensor, claims, transcript)?;
            let merged = sumcheck::verify(&statement, claimed_sum, sumcheck_proof, transcript)?;
            Ok(merged.into_iter().next().expect("one committed factor"))
        }
    }
}
