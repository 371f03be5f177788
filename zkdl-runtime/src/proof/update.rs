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
//! the stacked G_W). W_T, a statement commitment, is a root: at a fresh `ρ' = (ρ'_k, ρ'_y)` over W_T's
//! own index — `k` its layer slot — the prover sends
//!
//! ```text
//!     Σ_k u(k) · W_T(k, ρ'_y),   Σ_k u(k) · W_0(k, ρ'_y),   Σ_{s<T, j} u(slot(j)) · G_W(s, j, ρ'_y),
//!     u(k) = eq(ρ'_k, k) for the slots of the relation's layers and the padding slots (k ≥ #layers),
//! ```
//!
//! and the verifier checks the first is the second minus the third. Padded steps of W are forced to
//! zero by the `t < T` factor. The padding slots make every committed entry of W_T constrained: where
//! a stack holds fewer layers than its power-of-two slots (three layers in four), the slot's W_T must
//! equal its W_0, which is zero — W_0 is recomposed from bits that are zero in padding, or public and
//! checked to be zero there. Without them a prover could commit anything in that slot under C_WT.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{relation_instance_bits, relation_name, rest_bits, Route};
use super::{Prover, Verifier};
use crate::error::VerificationError;
use crate::sumcheck::{prefix_indicator, PublicTensor};
use crate::tensor::eq_table;
use crate::Fr;
use ark_ff::Zero;
use zkdl_compiler::spec::ceil_log2;

struct Routes<'p> {
    weights: Route<'p>,
    final_weights: Route<'p>,
    initial_weights: Route<'p>,
    gradients: Route<'p>,
    /// W_T and W_0 seen whole, for the root claim over every slot of their stacks.
    whole_final_weights: Route<'p>,
    whole_initial_weights: Route<'p>,
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
        whole_final_weights: Route::whole(plan, relation, 1)?,
        whole_initial_weights: Route::whole(plan, relation, 2)?,
    };
    let rest = rest_bits(r.weights.tensor);
    if [&r.final_weights, &r.initial_weights, &r.gradients].iter().any(|x| rest_bits(x.tensor) != rest)
        || r.final_weights.tensor.layers != r.initial_weights.tensor.layers
        || r.final_weights.tensor.layout != r.initial_weights.tensor.layout
    {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "W, W_0, W_T and G_W have different shapes".into(),
        });
    }
    Ok(r)
}

/// The root point's slot weights: `u` over W_T's layer slots (the relation's slots and the padding
/// slots) and, per relation layer `j`, `u(slot(j))` for the G_W term.
fn final_slot_weights(r: &Routes, rho_k: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
    let e = eq_table(rho_k);
    let stacked = r.final_weights.tensor.layers.len();
    let slots: Vec<usize> = r.final_weights.layer_slots().collect();
    let u = (0..e.len()).map(|k| if k >= stacked || slots.contains(&k) { e[k] } else { Fr::zero() }).collect();
    let relation_layers = 1usize << ceil_log2(slots.len() as u64);
    let mut per_layer = vec![Fr::zero(); relation_layers];
    for (j, &k) in slots.iter().enumerate() {
        per_layer[j] = e[k];
    }
    (u, per_layer)
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

/// The same for `W_T`: `[s < T] · u(slot(j))`.
fn final_gradient_weight(relation: &AggregatedRelation, per_layer: Vec<Fr>) -> PublicTensor {
    let (step_bits, _) = relation_instance_bits(relation);
    PublicTensor::Kron(vec![
        PublicTensor::Prefix { num_vars: step_bits, count: relation.steps.count as u64 },
        PublicTensor::Dense(per_layer),
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
    let slot_bits = r.final_weights.tensor.layout.layer_bits as usize;
    let rho = p.transcript.challenge_fields(b"relation-point", slot_bits + rest_bits(r.final_weights.tensor));
    let (rho_k, rho_y) = rho.split_at(slot_bits);
    let (u, per_layer) = final_slot_weights(&r, rho_k);
    let mut values = Vec::with_capacity(2);
    for route in [&r.whole_final_weights, &r.whole_initial_weights] {
        let value = p.send(p.weighted_value(route, PublicTensor::Dense(u.clone()), rho_y));
        p.claim(route, PublicTensor::Dense(u.clone()), rho_y.to_vec(), value);
        values.push(value);
    }
    let weight = final_gradient_weight(relation, per_layer);
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
    let slot_bits = r.final_weights.tensor.layout.layer_bits as usize;
    let rho = v.transcript.challenge_fields(b"relation-point", slot_bits + rest_bits(r.final_weights.tensor));
    let (rho_k, rho_y) = rho.split_at(slot_bits);
    let (u, per_layer) = final_slot_weights(&r, rho_k);
    let mut values = Vec::with_capacity(2);
    for route in [&r.whole_final_weights, &r.whole_initial_weights] {
        let value = v.receive()?;
        v.claim(route, PublicTensor::Dense(u.clone()), rho_y.to_vec(), value)?;
        values.push(value);
    }
    let weight = final_gradient_weight(relation, per_layer);
    let gradients = v.receive()?;
    v.claim(&r.gradients, weight, rho_y.to_vec(), gradients)?;
    v.require_equal(values[0], values[1] - gradients, "W_T(ρ') = W_0(ρ') − Σ_{s<T} G_W,s(ρ')")
}
