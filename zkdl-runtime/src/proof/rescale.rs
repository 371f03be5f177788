//! S1 and S2, the rescalings (`PROTOCOL.md` §1, §4): a linear relation with public coefficients,
//!
//! ```text
//!     S1  Z^l = 2^{S_W} · Z'^l + rz^l        S2  H^l = 2^{S_W} · H'^l + rh^l,
//! ```
//!
//! checked at the merged claim `V(ρ) = y`: the prover sends `V'(ρ)` and `r(ρ)`, the verifier checks
//! `y = 2^{S_W} · V'(ρ) + r(ρ)`, and both become claims on V' and r. The ranges of V' and r (their bit
//! recompositions) make the rescaling unique: `r ∈ [−2^{S_W−1}, 2^{S_W−1})`.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{rest_bits, Route};
use super::{Prover, Verifier};
use crate::crypto::sumcheck::PublicTensor;
use crate::crypto::tensor::power_of_two;
use crate::error::VerificationError;
use crate::Fr;

fn routes<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
) -> Result<[Route<'p>; 3], VerificationError> {
    let routes = Route::operands(plan, relation)?;
    if routes.iter().any(|r| rest_bits(r.tensor) != rest_bits(routes[0].tensor)) {
        return Err(VerificationError::Malformed {
            relation: super::routing::relation_name(relation),
            what: "the operands of a rescaling have different shapes".into(),
        });
    }
    Ok(routes)
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    prove_two_term(p, relation, coefficients(p.plan))
}

/// `(2^{S_W}, 1)`.
fn coefficients(plan: &zkdl_compiler::Plan) -> [Fr; 2] {
    [power_of_two(plan.params.weight_scale_bits), Fr::from(1u64)]
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let shift = v.plan.params.weight_scale_bits;
    verify_two_term(v, relation, coefficients(v.plan), &format!("2^{shift}"))
}

/// The prover's half of a two-term linear relation `V = c_1 · V_1 + c_2 · V_2` (operands 0, 1, 2):
/// sends `V_1(ρ)` and `V_2(ρ)` at the merged claim on V.
pub(super) fn prove_two_term(
    p: &mut Prover,
    relation: &AggregatedRelation,
    coefficients: [Fr; 2],
) -> Result<(), VerificationError> {
    let routes = routes(p.plan, relation)?;
    let Some(claim) = p.merged(&routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    let (rho_n, rho_rest) = claim.point.split_at(n);
    let mut sent = Vec::with_capacity(2);
    for route in &routes[1..] {
        let value = p.send(p.view_value(route, &claim.point));
        p.claim(route, PublicTensor::Eq(rho_n.to_vec()), rho_rest.to_vec(), value);
        sent.push(value);
    }
    p.require_equal(claim.value, sent[0] * coefficients[0] + sent[1] * coefficients[1]);
    Ok(())
}

/// The verifier's half of `V = c_1 · V_1 + c_2 · V_2`; `c_1` is written `describe` in errors.
pub(super) fn verify_two_term(
    v: &mut Verifier,
    relation: &AggregatedRelation,
    coefficients: [Fr; 2],
    describe: &str,
) -> Result<(), VerificationError> {
    let routes = routes(v.plan, relation)?;
    let Some(claim) = v.merged(&routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    let (rho_n, rho_rest) = claim.point.split_at(n);
    let first = v.receive()?;
    let second = v.receive()?;
    let sign = if coefficients[1] == Fr::from(1u64) { "+" } else { "−" };
    let what = format!(
        "{}(ρ) = {describe} · {}(ρ) {sign} {}(ρ)",
        routes[0].operand.symbol, routes[1].operand.symbol, routes[2].operand.symbol
    );
    v.require_equal(claim.value, first * coefficients[0] + second * coefficients[1], &what)?;
    v.claim(&routes[1], PublicTensor::Eq(rho_n.to_vec()), rho_rest.to_vec(), first)?;
    v.claim(&routes[2], PublicTensor::Eq(rho_n.to_vec()), rho_rest.to_vec(), second)?;
    Ok(())
}
