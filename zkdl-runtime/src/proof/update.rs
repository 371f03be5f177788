//! U1, the SGD update over all T steps at once (`PROTOCOL.md` §2, §4):
//!
//! ```text
//!     W_t = W_0 − Σ_{s<t} G_W,s   (t < T),        W_T = W_0 − Σ_{s<T} G_W,s,
//! ```
//!
//! exact because weights are at scale 2^{2R+k}. Both are linear, so no sumcheck is needed: at the merged
//! claim on the stacked W (index (t, j, row, col)) at `ρ = (ρ_t, ρ_j, ρ_y)`,
//!
//! ```text
//!     W(ρ) = c_0 · W_0(ρ_j, ρ_y) − Σ_{s,j} c(s) · eq(ρ_j, j) · G_W(s, j, ρ_y),
//!     c_0 = Σ_{t<T} eq(ρ_t, t),     c(s) = Σ_{s<t<T} eq(ρ_t, t),
//! ```
//!
//! the prover sends the W_0 term and the G_W term, which become claims (the second a weighted claim on
//! the stacked G_W). W_T, a statement commitment, is a root: at a fresh `ρ' = (ρ'_j, ρ'_y)` the prover
//! sends `W_T(ρ')`, `W_0(ρ')` and `Σ_{s<T, j} eq(ρ'_j, j) G_W(s, j, ρ'_y)`, and the verifier checks
//! the first is the second minus the third. Padded steps of W are forced to zero by the `t < T` factor.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{relation_instance_bits, relation_name, rest_bits, Route};
use super::{Prover, Verifier};
use crate::error::VerificationError;
use crate::sumcheck::{prefix_indicator, PublicTensor};
use crate::tensor::eq_table;
use crate::Fr;
use ark_ff::Zero;

struct Routes<'p> {
    weights: Route<'p>,
    final_weights: Route<'p>,
    initial_weights: Route<'p>,
    gradients: Route<'p>,
}

fn routes<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
) -> Result<Routes<'p>, VerificationError> {
    let r = Routes {
        weights: Route::new(plan, relation, 0, false)?,
        final_weights: Route::new(plan, relation, 1, true)?,
        initial_weights: Route::new(plan, relation, 2, true)?,
        gradients: Route::new(plan, relation, 3, false)?,
    };
    let rest = rest_bits(r.weights.tensor);
    if [&r.final_weights, &r.initial_weights, &r.gradients].iter().any(|x| rest_bits(x.tensor) != rest) {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "W, W_0, W_T and G_W have different shapes".into(),
        });
    }
    Ok(r)
}

/// `c_0` and `c(s)` of the module docs at `ρ_t`, for T steps.
fn step_weights(rho_t: &[Fr], steps: u32) -> (Fr, Vec<Fr>) {
    let e = eq_table(rho_t);
    let mut c = vec![Fr::zero(); e.len()];
    let mut suffix = Fr::zero();
    for s in (0..(steps as usize).min(e.len())).rev() {
        c[s] = suffix;
        suffix += e[s];
    }
    (prefix_indicator(rho_t, steps as u64), c)
}

/// The relation instance weight `c(s) · eq(ρ_j, j)` of the G_W term.
fn gradient_weight(c: Vec<Fr>, rho_j: &[Fr]) -> PublicTensor {
    PublicTensor::Kron(vec![PublicTensor::Dense(c), PublicTensor::Eq(rho_j.to_vec())])
}

/// The same for `W_T`: `[s < T] · eq(ρ'_j, j)`.
fn final_gradient_weight(relation: &AggregatedRelation, rho_j: &[Fr]) -> PublicTensor {
    let (step_bits, _) = relation_instance_bits(relation);
    PublicTensor::Kron(vec![
        PublicTensor::Prefix { num_vars: step_bits, count: relation.steps.count as u64 },
        PublicTensor::Eq(rho_j.to_vec()),
    ])
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let r = routes(p.plan, relation)?;
    let (step_bits, layer_bits) = relation_instance_bits(relation);
    if let Some(claim) = p.merged(&r.weights)? {
        let (rho_t, rest) = claim.point.split_at(step_bits);
        let (rho_j, rho_y) = rest.split_at(layer_bits);
        let (c0, c) = step_weights(rho_t, relation.steps.count);
        let initial = p.send(p.view_value(&r.initial_weights, rest));
        p.claim(&r.initial_weights, PublicTensor::Eq(rho_j.to_vec()), rho_y.to_vec(), initial);
        let weight = gradient_weight(c, rho_j);
        let gradients = p.send(p.weighted_value(&r.gradients, weight.clone(), rho_y));
        p.claim(&r.gradients, weight, rho_y.to_vec(), gradients);
        p.require_equal(claim.value, initial * c0 - gradients);
    }
    let rho = p.transcript.challenge_fields(b"relation-point", layer_bits + rest_bits(r.final_weights.tensor));
    let (rho_j, rho_y) = rho.split_at(layer_bits);
    let mut values = Vec::with_capacity(2);
    for route in [&r.final_weights, &r.initial_weights] {
        let value = p.send(p.view_value(route, &rho));
        p.claim(route, PublicTensor::Eq(rho_j.to_vec()), rho_y.to_vec(), value);
        values.push(value);
    }
    let weight = final_gradient_weight(relation, rho_j);
    let gradients = p.send(p.weighted_value(&r.gradients, weight.clone(), rho_y));
    p.claim(&r.gradients, weight, rho_y.to_vec(), gradients);
    p.require_equal(values[0], values[1] - gradients);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let r = routes(v.plan, relation)?;
    let (step_bits, layer_bits) = relation_instance_bits(relation);
    if let Some(claim) = v.merged(&r.weights)? {
        let (rho_t, rest) = claim.point.split_at(step_bits);
        let (rho_j, rho_y) = rest.split_at(layer_bits);
        let (c0, c) = step_weights(rho_t, relation.steps.count);
        let initial = v.receive()?;
        v.claim(&r.initial_weights, PublicTensor::Eq(rho_j.to_vec()), rho_y.to_vec(), initial)?;
        let weight = gradient_weight(c, rho_j);
        let gradients = v.receive()?;
        v.claim(&r.gradients, weight, rho_y.to_vec(), gradients)?;
        v.require_equal(claim.value, initial * c0 - gradients, "W_t(ρ) = W_0(ρ) − Σ_{s<t} G_W,s(ρ)")?;
    }
    let rho = v.transcript.challenge_fields(b"relation-point", layer_bits + rest_bits(r.final_weights.tensor));
    let (rho_j, rho_y) = rho.split_at(layer_bits);
    let mut values = Vec::with_capacity(2);
    for route in [&r.final_weights, &r.initial_weights] {
        let value = v.receive()?;
        v.claim(route, PublicTensor::Eq(rho_j.to_vec()), rho_y.to_vec(), value)?;
        values.push(value);
    }
    let weight = final_gradient_weight(relation, rho_j);
    let gradients = v.receive()?;
    v.claim(&r.gradients, weight, rho_y.to_vec(), gradients)?;
    v.require_equal(values[0], values[1] - gradients, "W_T(ρ') = W_0(ρ') − Σ_{s<T} G_W,s(ρ')")
}
