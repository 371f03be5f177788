//! H1 and H2, the two halves of zkReLU that are products (`PROTOCOL.md` §3–§4):
//!
//! ```text
//!     H1  A^l = s^l ⊙ Z'^l        H2  G^l = s^l ⊙ H'^l
//! ```
//!
//! with the *same* committed sign bits s^l in both, so ReLU and its derivative cost one Hadamard product
//! each. Aggregated over all hidden layers and steps, at the merged claim `O(ρ) = y` on the output:
//!
//! ```text
//!     y = Σ_x eq(ρ, x) · s(x) · V(x),
//! ```
//!
//! a degree-3 sumcheck ending in claims `s(r)` (routed into the chunks of b) and `V(r)` (Z' or H').

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{relation_name, Route};
use super::{Prover, Verifier};
use crate::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
use crate::error::VerificationError;
use crate::{Fr, TensorId};

fn routes<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
) -> Result<[Route<'p>; 3], VerificationError> {
    let routes = Route::operands(plan, relation)?;
    let vars = |r: &Route| r.view_instance_bits() + super::routing::rest_bits(r.tensor);
    if routes.iter().any(|r| vars(r) != vars(&routes[0])) {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "the operands of a Hadamard product have different shapes".into(),
        });
    }
    Ok(routes)
}

fn statement(relation: &AggregatedRelation, routes: &[Route; 3], rho: &[Fr]) -> SumcheckStatement {
    SumcheckStatement {
        relation: relation_name(relation),
        num_vars: rho.len(),
        eq_weight: Some(rho.to_vec()),
        factors: vec![
            Factor::Committed(TensorId(routes[1].tensor.id.0)),
            Factor::Committed(TensorId(routes[2].tensor.id.0)),
        ],
        terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1])],
    }
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let routes = routes(p.plan, relation)?;
    let Some(claim) = p.merged(&routes[0])? else { return Ok(()) };
    let blocks = [p.view_blocks(&routes[1]), p.view_blocks(&routes[2])];
    let statement = statement(relation, &routes, &claim.point);
    let (point, values) = p.prove_sumcheck_blocks(&statement, claim.value, vec![&blocks[0], &blocks[1]]);
    let n = routes[1].view_instance_bits();
    let (r_n, r_rest) = point.split_at(n);
    p.claim(&routes[1], PublicTensor::Eq(r_n.to_vec()), r_rest.to_vec(), values[0]);
    p.claim(&routes[2], PublicTensor::Eq(r_n.to_vec()), r_rest.to_vec(), values[1]);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let routes = routes(v.plan, relation)?;
    let Some(claim) = v.merged(&routes[0])? else { return Ok(()) };
    let (point, values) = v.verify_sumcheck(&statement(relation, &routes, &claim.point), claim.value)?;
    let n = routes[1].view_instance_bits();
    let (r_n, r_rest) = point.split_at(n);
    v.claim(&routes[1], PublicTensor::Eq(r_n.to_vec()), r_rest.to_vec(), values[0])?;
    v.claim(&routes[2], PublicTensor::Eq(r_n.to_vec()), r_rest.to_vec(), values[1])?;
    Ok(())
}
