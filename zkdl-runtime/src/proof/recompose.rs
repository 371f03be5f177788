//! Range checks by bit recomposition (`PROTOCOL.md` §3): every range-checked value is a fixed linear
//! combination of committed bit planes, so a claim on the value is a claim on its planes in b.
//!
//! ```text
//!     n-bit two's complement   v(x) = Σ_{p<n−1} 2^p · bits(x, p) − 2^{n−1} · bits(x, n−1)
//!     hidden Z' (zkReLU)       Z'(x) = (1 − 2^Q) · used(x) + Σ_{p<Q} 2^p · m(x, p) + 2^Q · s(x)
//! ```
//!
//! The second is `Z' − 1 = m − (1 − s) · 2^Q` on every used entry, which bounds Z' to `[1 − 2^Q, 2^Q]`
//! and forces `s = [Z' > 0]`; `used` is the indicator of the real entries of the stacked Z' (its
//! multilinear extension costs the verifier `O(log)`), so padded entries with zero bits recompose to
//! zero. At the claim `v(ρ) = y` the relation is the weighted claim
//! `Σ_p c_p · bits(ρ_n, p, ρ_rest) = y − constant` on the bit tensor, which routing splits into claims on
//! the chunks of b (the prover sends each chunk's share). For Z' the prover first sends `s(ρ)`.
//! A committed source (X, Y, W_0) has no defining relation: its range check is a root that draws `ρ`
//! and receives `v(ρ)`, a claim on the committed tensor.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{relation_name, rest_bits, used_region, Route};
use super::{is_root, Prover, Verifier};
use crate::crypto::sumcheck::PublicTensor;
use crate::crypto::tensor::power_of_two;
use crate::crypto::zk::{Secret, Sent, Value};
use crate::error::VerificationError;
use crate::Fr;
use ark_ff::One;

/// `c_p = 2^p` for `p < n − 1` and `c_{n−1} = −2^{n−1}`.
pub fn twos_complement_coefficients(n: u32) -> Vec<Fr> {
    (0..n).map(|p| if p + 1 == n { -power_of_two(p) } else { power_of_two(p) }).collect()
}

/// `c_p = 2^p` for `p < Q`.
pub fn magnitude_coefficients(q: u32) -> Vec<Fr> {
    (0..q).map(power_of_two).collect()
}

fn routes<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
    count: usize,
) -> Result<Vec<Route<'p>>, VerificationError> {
    let routes = (0..count).map(|i| Route::new(plan, relation, i, false)).collect::<Result<Vec<_>, _>>()?;
    let value_layout = routes[0].tensor.layout;
    let fits = routes[1..].iter().all(|r| {
        r.tensor.layout.row_bits == value_layout.row_bits
            && r.tensor.layout.col_bits == value_layout.col_bits
            && r.view_instance_bits() == routes[0].view_instance_bits()
    });
    if !fits || value_layout.plane_bits != 0 {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "the bit planes do not have the shape of the value".into(),
        });
    }
    Ok(routes)
}

/// The point and value the recomposition starts from; `None` if nothing claims the value.
fn start_prover(
    p: &mut Prover,
    relation: &AggregatedRelation,
    value: &Route,
) -> Result<Option<(Vec<Fr>, Secret)>, VerificationError> {
    if is_root(relation, 0) {
        let n = value.view_instance_bits();
        let rho = p.transcript.challenge_fields(b"relation-point", n + rest_bits(value.tensor));
        let y = p.send(p.view_value(value, &rho));
        p.claim(value, PublicTensor::Eq(rho[..n].to_vec()), rho[n..].to_vec(), y);
        Ok(Some((rho, y)))
    } else {
        Ok(p.merged(value)?.map(|c| (c.point, c.value)))
    }
}

fn start_verifier(
    v: &mut Verifier,
    relation: &AggregatedRelation,
    value: &Route,
) -> Result<Option<(Vec<Fr>, Sent)>, VerificationError> {
    if is_root(relation, 0) {
        let n = value.view_instance_bits();
        let rho = v.transcript.challenge_fields(b"relation-point", n + rest_bits(value.tensor));
        let y = v.receive()?;
        v.claim(value, PublicTensor::Eq(rho[..n].to_vec()), rho[n..].to_vec(), y)?;
        Ok(Some((rho, y)))
    } else {
        Ok(v.merged(value)?.map(|c| (c.point, c.value)))
    }
}

/// The prover's half of an n-bit two's complement range check.
pub fn prove_twos_complement(
    p: &mut Prover,
    relation: &AggregatedRelation,
    bits: u32,
) -> Result<(), VerificationError> {
    let routes = routes(p.plan, relation, 2)?;
    let Some((rho, y)) = start_prover(p, relation, &routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    p.plane_claim(
        &routes[1],
        PublicTensor::Eq(rho[..n].to_vec()),
        twos_complement_coefficients(bits),
        rho[n..].to_vec(),
        y,
    );
    Ok(())
}

/// The verifier's half of an n-bit two's complement range check.
pub fn verify_twos_complement(
    v: &mut Verifier,
    relation: &AggregatedRelation,
    bits: u32,
) -> Result<(), VerificationError> {
    let routes = routes(v.plan, relation, 2)?;
    let Some((rho, y)) = start_verifier(v, relation, &routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    v.plane_claim(
        &routes[1],
        PublicTensor::Eq(rho[..n].to_vec()),
        twos_complement_coefficients(bits),
        rho[n..].to_vec(),
        y,
    )
}

/// `(1 − 2^Q) · used(ρ) + 2^Q · s(ρ)`: the part of Z'(ρ) that is not magnitude bits.
fn sign_magnitude_constant<V: Value>(value: &Route, rho: &[Fr], sign: V, q: u32) -> V {
    sign * power_of_two(q) + V::constant((Fr::one() - power_of_two(q)) * used_region(value.tensor).evaluate(rho))
}

/// The prover's half of zkReLU's sign–magnitude recomposition of hidden Z'.
pub fn prove_sign_magnitude(p: &mut Prover, relation: &AggregatedRelation, q: u32) -> Result<(), VerificationError> {
    let routes = routes(p.plan, relation, 3)?;
    let Some((rho, y)) = start_prover(p, relation, &routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    let (rho_n, rho_rest) = (rho[..n].to_vec(), rho[n..].to_vec());
    let sign = p.send(p.view_value(&routes[2], &rho));
    p.claim(&routes[2], PublicTensor::Eq(rho_n.clone()), rho_rest.clone(), sign);
    let magnitude = y - sign_magnitude_constant(&routes[0], &rho, sign, q);
    p.plane_claim(&routes[1], PublicTensor::Eq(rho_n), magnitude_coefficients(q), rho_rest, magnitude);
    Ok(())
}

/// The verifier's half of zkReLU's sign–magnitude recomposition of hidden Z'.
pub fn verify_sign_magnitude(v: &mut Verifier, relation: &AggregatedRelation, q: u32) -> Result<(), VerificationError> {
    let routes = routes(v.plan, relation, 3)?;
    let Some((rho, y)) = start_verifier(v, relation, &routes[0])? else { return Ok(()) };
    let n = routes[0].view_instance_bits();
    let (rho_n, rho_rest) = (rho[..n].to_vec(), rho[n..].to_vec());
    let sign = v.receive()?;
    v.claim(&routes[2], PublicTensor::Eq(rho_n.clone()), rho_rest.clone(), sign)?;
    let magnitude = y - sign_magnitude_constant(&routes[0], &rho, sign, q);
    v.plane_claim(&routes[1], PublicTensor::Eq(rho_n), magnitude_coefficients(q), rho_rest, magnitude)
}
