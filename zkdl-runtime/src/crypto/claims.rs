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
//!
//! The same sumcheck merges *weighted* claims `Σ_x W_k(x) P(x) = y_k` for public weights `W_k`
//! ([`WeightedClaim`]), with the weight `Σ_k c_k W_k`; a claim routed through a change of instance
//! index or through bit planes has such a weight.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use std::borrow::Cow;

pub use crate::crypto::claim::{Claim, TensorId};
use crate::crypto::sumcheck::{
    self, Factor, ProductTerm, PublicTensor, SumcheckProof, SumcheckProverState, SumcheckStatement,
};
use crate::crypto::zk::{Blinder, Mode, Secret, Sent, Value};
use crate::error::VerificationError;
use crate::{Fr, Transcript};

/// "`Σ_x W(x) · P(x) = value`" for a public weight `W`: a claim on a combination of entries of `P`.
/// A point claim is the case `W = eq(u, ·)`; routing a claim through a change of instance index
/// (`PROTOCOL.md` §5) or through bit planes gives other weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedClaim<V = Fr> {
    /// The tensor the claim is about.
    pub tensor: TensorId,
    /// The public weight `W`, over the tensor's variables.
    pub weight: PublicTensor,
    /// The claimed value.
    pub value: V,
}

impl<V> From<Claim<V>> for WeightedClaim<V> {
    fn from(claim: Claim<V>) -> Self {
        WeightedClaim { tensor: claim.tensor, weight: PublicTensor::Eq(claim.point), value: claim.value }
    }
}

impl<V: Copy> WeightedClaim<V> {
    /// The point claim this is, if its weight is `eq(u, ·)`.
    fn as_point_claim(&self) -> Option<Claim<V>> {
        match &self.weight {
            PublicTensor::Eq(point) => Some(Claim { tensor: self.tensor, point: point.clone(), value: self.value }),
            _ => None,
        }
    }

    /// The claim with its value mapped.
    pub fn map<W>(&self, f: impl FnOnce(V) -> W) -> WeightedClaim<W> {
        WeightedClaim { tensor: self.tensor, weight: self.weight.clone(), value: f(self.value) }
    }
}

/// The proof that merges several claims on one tensor: `None` when there was a single point claim.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct ClaimMergeProof {
    /// The sumcheck of `Σ_x (Σ_k c_k W_k(x)) P(x)`.
    pub sumcheck: Option<SumcheckProof>,
}

/// The statement of the merging sumcheck and its claimed sum, after drawing the coefficients.
fn merge_statement<V: Value>(
    tensor: TensorId,
    num_vars: usize,
    claims: &[WeightedClaim<V>],
    transcript: &mut Transcript,
) -> Result<(SumcheckStatement, V), VerificationError> {
    let relation = format!("claim merge ({tensor})");
    if let Some(bad) = claims.iter().find(|c| c.tensor != tensor || c.weight.num_vars() != Some(num_vars)) {
        return Err(VerificationError::Malformed {
            relation,
            what: format!("a claim on {} with a weight that is not over {num_vars} variables", bad.tensor),
        });
    }
    let (coefficients, claimed_sum) = draw_claim_coefficients(transcript, b"merge", &relation, claims);
    let weight = match claims.iter().map(WeightedClaim::as_point_claim).collect::<Option<Vec<_>>>() {
        Some(points) => {
            PublicTensor::EqCombination(coefficients.into_iter().zip(points.into_iter().map(|c| c.point)).collect())
        }
        None => PublicTensor::Sum(coefficients.into_iter().zip(claims.iter().map(|c| c.weight.clone())).collect()),
    };
    let statement = SumcheckStatement {
        relation,
        num_vars,
        eq_weight: None,
        factors: vec![Factor::Committed(tensor), Factor::Public(weight)],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1])],
    };
    Ok((statement, claimed_sum))
}

/// Absorbs the values of `claims` (after `domain` and `name`) and draws one coefficient `c_k` per
/// claim; returns the coefficients and the combined value `Σ_k c_k y_k`.
pub(crate) fn draw_claim_coefficients<V: Value>(
    transcript: &mut Transcript,
    domain: &'static [u8],
    name: &str,
    claims: &[WeightedClaim<V>],
) -> (Vec<Fr>, V) {
    transcript.append_message(domain, name.as_bytes());
    transcript.append_u64(b"claims", claims.len() as u64);
    for claim in claims {
        claim.value.absorb(transcript, b"claim-value");
    }
    let coefficients = transcript.challenge_fields(b"claim-coefficient", claims.len());
    let values: Vec<V> = claims.iter().map(|claim| claim.value).collect();
    let combined = V::combination(&values, &coefficients);
    (coefficients, combined)
}

/// Merges point `claims` (all on `tensor`, whose entries are `values`) into one claim, in the clear.
///
/// # Panics
/// As [`prove_merge_weighted`].
pub fn prove_merge(
    tensor: TensorId,
    claims: &[Claim],
    values: &[Fr],
    transcript: &mut Transcript,
) -> (ClaimMergeProof, Claim) {
    let weighted: Vec<WeightedClaim<Secret>> =
        claims.iter().cloned().map(|c| WeightedClaim::from(c).map(Secret::public)).collect();
    let (proof, merged) = prove_merge_weighted(tensor, &weighted, Cow::Borrowed(values), transcript, None);
    (proof, Claim { tensor: merged.tensor, point: merged.point, value: merged.value.value })
}

/// Merges weighted `claims` (all on `tensor`, whose entries are `values`) into one point claim at a
/// fresh point. A single point claim is passed through unchanged. Owned `values` are folded in place;
/// borrowed ones are copied first. With a `blinder` the merging sumcheck is zero-knowledge.
///
/// # Panics
/// If `claims` is empty or the claims do not all concern `tensor` over `log2(values.len())`
/// variables (programming errors of the caller).
pub fn prove_merge_weighted(
    tensor: TensorId,
    claims: &[WeightedClaim<Secret>],
    values: Cow<'_, [Fr]>,
    transcript: &mut Transcript,
    blinder: Option<&mut Blinder>,
) -> (ClaimMergeProof, Claim<Secret>) {
    let num_vars = crate::crypto::tensor::log2_exact(values.len());
    prove_merge_weighted_blocks(None, tensor, claims, &values.into_owned(), num_vars, num_vars, transcript, blinder)
}

/// As [`prove_merge_weighted`], reading the tensor (over `num_vars` variables) as blocks of
/// `2^block_vars` entries ([`sumcheck::prove_blocks_from`]): the same proof.
#[allow(clippy::too_many_arguments)]
pub fn prove_merge_weighted_blocks(
    ranks: Option<&mut (dyn crate::crypto::ranks::Communicator + '_)>,
    tensor: TensorId,
    claims: &[WeightedClaim<Secret>],
    values: &dyn sumcheck::Blocks,
    num_vars: usize,
    block_vars: usize,
    transcript: &mut Transcript,
    blinder: Option<&mut Blinder>,
) -> (ClaimMergeProof, Claim<Secret>) {
    assert!(!claims.is_empty(), "merging no claims on {tensor}");
    if let Some(point) = claims.first().and_then(WeightedClaim::as_point_claim).filter(|_| claims.len() == 1) {
        return (ClaimMergeProof { sumcheck: None }, point);
    }
    let (statement, claimed) = merge_statement(tensor, num_vars, claims, transcript).unwrap_or_else(|e| panic!("{e}"));
    let state = SumcheckProverState::for_mode(&statement, claimed, blinder);
    let output =
        crate::crypto::ranks::sumcheck::prove_blocks_on(ranks, &statement, state, vec![values], block_vars, transcript);
    let merged = Claim { tensor, point: output.point, value: output.evaluations[0] };
    (ClaimMergeProof { sumcheck: Some(output.proof) }, merged)
}

/// Verifies the merging of point `claims` on `tensor` in the clear, returning the merged claim to be opened.
pub fn verify_merge(
    tensor: TensorId,
    claims: &[Claim],
    proof: &ClaimMergeProof,
    transcript: &mut Transcript,
) -> Result<Claim, VerificationError> {
    let num_vars = claims.first().map_or(0, |c| c.point.len());
    let weighted: Vec<WeightedClaim<Sent>> =
        claims.iter().cloned().map(|c| WeightedClaim::from(c).map(Sent::Clear)).collect();
    let merged = verify_merge_weighted(tensor, num_vars, &weighted, proof, Mode::Clear, transcript)?;
    let value = merged.value.clear().expect("clear claims merge into a clear claim");
    Ok(Claim { tensor: merged.tensor, point: merged.point, value })
}

/// Verifies the merging of weighted `claims` on `tensor` (a tensor over `num_vars` variables) in a
/// proof of `mode`, returning the merged point claim to be opened or reduced further.
pub fn verify_merge_weighted(
    tensor: TensorId,
    num_vars: usize,
    claims: &[WeightedClaim<Sent>],
    proof: &ClaimMergeProof,
    mode: Mode,
    transcript: &mut Transcript,
) -> Result<Claim<Sent>, VerificationError> {
    let malformed =
        |what: &str| VerificationError::Malformed { relation: format!("claim merge ({tensor})"), what: what.into() };
    if let Some(bad) = claims.iter().find(|c| c.tensor != tensor) {
        return Err(malformed(&format!("a claim on {} among claims on {tensor}", bad.tensor)));
    }
    let single_point = match claims {
        [single] => single.as_point_claim(),
        _ => None,
    };
    match (claims, single_point, &proof.sumcheck) {
        ([], _, _) => Err(malformed("no claims to merge")),
        (_, Some(point), None) if point.point.len() == num_vars => Ok(point),
        (_, Some(_), None) => Err(malformed(&format!("a point claim that is not over {num_vars} variables"))),
        (_, Some(_), Some(_)) => Err(malformed("a single point claim is passed through without a sumcheck")),
        (_, None, None) => Err(malformed("these claims need a merging sumcheck")),
        (_, None, Some(sumcheck_proof)) => {
            let (statement, claimed) = merge_statement(tensor, num_vars, claims, transcript)?;
            let (point, values) = sumcheck::verify_sent(&statement, claimed, sumcheck_proof, mode, transcript)?;
            Ok(Claim { tensor, point, value: values[0] })
        }
    }
}
