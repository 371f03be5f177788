//! B, the bit relation over the whole stacked bit tensor b (`PROTOCOL.md` §3, §5):
//!
//! ```text
//!     0 = Σ_x eq(ρ, x) · b(x) · (b(x) − used(x))
//! ```
//!
//! at a fresh `ρ`, one degree-3 sumcheck for every bit of every layer, step and role. As a polynomial
//! identity it holds on the whole cube only if `b(x)² = b(x)` where `used(x) = 1` (every committed bit is
//! 0 or 1) and `b(x)² = 0` elsewhere (b is zero in padding, which makes every tensor recomposed from it
//! zero in padding too). `used` is the indicator of the real bits of every chunk, a sum of Kronecker
//! products of prefix indicators that the verifier evaluates in `O(chunks · layers · log |b|)`.
//! The sumcheck ends in the claim `b(r)`, merged with the claims routed into b and opened once.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{bit_tensor_used_region, bit_tensor_used_table, relation_name};
use super::{Prover, Verifier};
use crate::error::VerificationError;
use crate::sumcheck::{self, Factor, ProductTerm, SumcheckStatement};
use crate::{Fr, TensorId};
use ark_ff::Zero;

fn statement(relation: &AggregatedRelation, plan: &zkdl_compiler::Plan, rho: Vec<Fr>) -> SumcheckStatement {
    SumcheckStatement {
        relation: relation_name(relation),
        num_vars: plan.bit_tensor_vars as usize,
        eq_weight: Some(rho),
        factors: vec![
            Factor::Committed(TensorId(plan.tensors.len() as u32 - 1)),
            Factor::Public(bit_tensor_used_region(plan)),
        ],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 0]), ProductTerm::new(-Fr::from(1u64), [0, 1])],
    }
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let rho = p.transcript.challenge_fields(b"relation-point", p.plan.bit_tensor_vars as usize);
    let statement = statement(relation, p.plan, rho);
    let output = sumcheck::prove_with_public_tables(
        &statement,
        vec![p.tables.bits.clone().field_mut().clone()],
        vec![None, Some(bit_tensor_used_table(p.plan))],
        &mut p.transcript,
    );
    let claim = output.claims.into_iter().next().expect("one committed factor");
    p.current.sumcheck = Some(output.proof);
    p.bit_tensor_claim(claim);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let rho = v.transcript.challenge_fields(b"relation-point", v.plan.bit_tensor_vars as usize);
    let statement = statement(relation, v.plan, rho);
    let proof = v.sumcheck_proof()?;
    let claims = sumcheck::verify(&statement, Fr::zero(), proof, &mut v.transcript)?;
    let claim = claims.into_iter().next().expect("one committed factor");
    v.bit_tensor_claim(claim);
    Ok(())
}
