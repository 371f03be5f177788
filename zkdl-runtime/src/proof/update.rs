//! U1, the SGD update over all T steps at once (`PROTOCOL.md` §2, §4):
//!
//! ```text
//!     W_t = W_0 − Σ_{s<t} m_s·G_W,s   (t < T),        W_T = W_0 − Σ_{s<T} m_s·G_W,s,
//! ```
//!
//! exact because weights are at scale 2^{2R+k}. The public multiplier m_s = 2^(k'_max − k'_s) is 1 at
//! one learning rate; under a step schedule of powers of two the weights are at the smallest rate's
//! scale and a step at a larger rate subtracts its gradient times m_s (`docs/schedules.md`), so the
//! G_W weights c(s, j) below carry a factor m_s. Both are linear, so no sumcheck is needed, and no
//! claim on the stacked W is merged (merging would need its table, `T · |W|` entries): each claim
//! `Σ_{t,j} w(t, j) · W(t, j, ρ_y) = v` that M1 and M2 leave on W (index (t, j, row, col)) is
//! rewritten by itself as
//!
//! ```text
//!     v = Σ_j a(j) · W_0(j, ρ_y) − Σ_{s,j} c(s, j) · G_W(s, j, ρ_y),
//!     a(j) = Σ_{t<T} w(t, j),     c(s, j) = m_s · Σ_{s<t<T} w(t, j),
//! ```
//!
//! the prover sends the W_0 term and the G_W term, which become claims (the second a weighted claim on
//! the stacked G_W). W_T, a statement commitment, is a root: at a fresh `ρ' = (ρ'_k, ρ'_y)` over W_T's
//! own index — `k` its layer slot — the prover sends
//!
//! ```text
//!     Σ_k u(k) · W_T(k, ρ'_y),   Σ_k u(k) · W_0(k, ρ'_y),   Σ_{s<T, j} m_s · u(slot(j)) · G_W(s, j, ρ'_y),
//!     u(k) = eq(ρ'_k, k) for the slots of the relation's layers and the padding slots (k ≥ #layers),
//! ```
//!
//! and the verifier checks the first is the second minus the third. Padded steps of W are forced to
//! zero by the `t < T` factor. The padding slots make every committed entry of W_T constrained: where
//! a stack holds fewer layers than its power-of-two slots (three layers in four), the slot's W_T must
//! equal its W_0, which is zero — W_0 is recomposed from bits that are zero in padding, or public and
//! checked to be zero there. Without them a prover could commit anything in that slot under C_WT.

use zkdl_compiler::plan::AggregatedRelation;
use zkdl_compiler::Plan;

use super::routing::{relation_instance_bits, relation_name, rest_bits, Route};
use super::{Prover, Verifier};
use crate::crypto::sumcheck::PublicTensor;
use crate::crypto::tensor::eq_table;
use crate::error::VerificationError;
use crate::Fr;
use ark_ff::{Field, Zero};
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

/// For a claim `Σ_{t,j} w(t, j) · W(t, j, ρ_y) = v` on the stacked W: the instance weight
/// `a(j) = Σ_{t<T} w(t, j)` of its W_0 term, the instance weight `c(s, j) = Σ_{s<t<T} w(t, j)` of its
/// G_W term, and `ρ_y`.
fn split_claim(
    plan: &Plan,
    relation: &AggregatedRelation,
    r: &Routes,
    weight: &PublicTensor,
) -> Result<(PublicTensor, PublicTensor, Vec<Fr>), VerificationError> {
    let (step_bits, layer_bits) = relation_instance_bits(relation);
    let (w, rho_y) = super::matmul::split_instance_weight(weight, step_bits + layer_bits, rest_bits(r.weights.tensor))
        .ok_or_else(|| VerificationError::Malformed {
            relation: relation_name(relation),
            what: "a claim on W is not an instance weight times a point".into(),
        })?;
    let slots = 1usize << layer_bits;
    let steps = (relation.steps.count as usize).min(1 << step_bits);
    let mut initial = vec![Fr::zero(); slots];
    let mut gradients = vec![Fr::zero(); w.len()];
    let multiplier = multipliers(plan, relation);
    for j in 0..slots {
        let mut suffix = Fr::zero();
        for t in (0..steps).rev() {
            gradients[t * slots + j] = match &multiplier {
                Some(m) => suffix * m[t],
                None => suffix,
            };
            suffix += w[t * slots + j];
        }
        initial[j] = suffix;
    }
    Ok((PublicTensor::Dense(initial), PublicTensor::Dense(gradients), rho_y))
}

/// U1's multipliers m_s = 2^(k'_max − k'_s) of the relation's steps, as field elements, or `None`
/// when every step's is 1 (one learning rate for the segment).
fn multipliers(plan: &Plan, relation: &AggregatedRelation) -> Option<Vec<Fr>> {
    let first = relation.steps.first as u64;
    let shifts: Vec<u32> = (0..relation.steps.count as u64).map(|s| plan.update_multiplier_log2(first + s)).collect();
    shifts.iter().any(|&k| k > 0).then(|| shifts.iter().map(|&k| Fr::from(2u64).pow([k as u64])).collect())
}

/// The same for `W_T`: `[s < T] · m_s · u(slot(j))`.
fn final_gradient_weight(plan: &Plan, relation: &AggregatedRelation, per_layer: Vec<Fr>) -> PublicTensor {
    let (step_bits, _) = relation_instance_bits(relation);
    let steps = match multipliers(plan, relation) {
        None => PublicTensor::Prefix { num_vars: step_bits, count: relation.steps.count as u64 },
        Some(mut m) => {
            m.resize(1 << step_bits, Fr::zero());
            PublicTensor::Dense(m)
        }
    };
    PublicTensor::Kron(vec![steps, PublicTensor::Dense(per_layer)])
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let r = routes(p.plan, relation)?;
    for claim in p.take_claims(&r.weights)? {
        let (initial_weight, gradient_weight, rho_y) = split_claim(p.plan, relation, &r, &claim.weight)?;
        let initial = p.send(p.weighted_value(&r.initial_weights, initial_weight.clone(), &rho_y));
        p.claim(&r.initial_weights, initial_weight, rho_y.clone(), initial);
        let gradients = p.send(p.gradient_value(&r.gradients, gradient_weight.clone(), &rho_y));
        p.claim(&r.gradients, gradient_weight, rho_y, gradients);
        p.require_equal(claim.value, initial - gradients);
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
    let weight = final_gradient_weight(p.plan, relation, per_layer);
    let gradients = p.send(p.gradient_value(&r.gradients, weight.clone(), rho_y));
    p.claim(&r.gradients, weight, rho_y.to_vec(), gradients);
    p.require_equal(values[0], values[1] - gradients);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let r = routes(v.plan, relation)?;
    for claim in v.take_claims(&r.weights)? {
        let (initial_weight, gradient_weight, rho_y) = split_claim(v.plan, relation, &r, &claim.weight)?;
        let initial = v.receive()?;
        v.claim(&r.initial_weights, initial_weight, rho_y.clone(), initial)?;
        let gradients = v.receive()?;
        v.claim(&r.gradients, gradient_weight, rho_y, gradients)?;
        v.require_equal(claim.value, initial - gradients, "Σ w·W_t = Σ a·W_0 − Σ c·G_W,s")?;
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
    let weight = final_gradient_weight(v.plan, relation, per_layer);
    let gradients = v.receive()?;
    v.claim(&r.gradients, weight, rho_y.to_vec(), gradients)?;
    v.require_equal(values[0], values[1] - gradients, "W_T(ρ') = W_0(ρ') − Σ_{s<T} G_W,s(ρ')")
}
