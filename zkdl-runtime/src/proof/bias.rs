//! M4, the bias gradient (`docs/bias.md`): for a layer with a bias β^l,
//!
//! ```text
//!     g_β^l(n, j) = 2^R · Σ_i G^l(n, i, j)        (i over the B rows of the batch)
//! ```
//!
//! the column sums of the signal at G_W's scale (the bias's input is the constant 1.0 = 2^R). g_β is
//! not committed: it is defined by this identity, which is linear, so a claim on it is rewritten as a
//! claim on G with no message. B = 2^{n_r} rows fill G's row index exactly (the batch is a power of
//! two), and the multilinear extension of G summed over its rows is `2^{n_r} · G(n, ½, …, ½, j)`
//! (eq((½, …, ½), i) = 2^{−n_r} for every row i). At the merged claim `g_β(ρ_n, ρ_c) = y`:
//!
//! ```text
//!     G(ρ_n, (½, …, ½), ρ_c) = y / (2^R · B),
//! ```
//!
//! a claim on G (merged with its other claims before H2 or L1 reduces it). The rewrite is an identity
//! of multilinear extensions, not a probabilistic step: a false claim on g_β is a false claim on G.

use zkdl_compiler::plan::AggregatedRelation;

use super::routing::{relation_name, Route};
use super::{Prover, Verifier};
use crate::crypto::sumcheck::PublicTensor;
use crate::crypto::tensor::power_of_two;
use crate::error::VerificationError;
use crate::Fr;
use ark_ff::Field;

/// The routes of g_β (operand 0) and G (operand 1), checked to share their columns, and G's row
/// variables.
fn routes<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
) -> Result<([Route<'p>; 2], usize), VerificationError> {
    let routes: [Route; 2] = Route::operands(plan, relation)?;
    let (g_b, g) = (routes[0].tensor.layout, routes[1].tensor.layout);
    let rows = plan.spec.batch as u64;
    if g_b.row_bits != 0 || g_b.col_bits != g.col_bits || g_b.plane_bits != 0 || 1u64 << g.row_bits != rows {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "g_β and G do not have the shapes of a column sum over the batch".into(),
        });
    }
    Ok((routes, g.row_bits as usize))
}

/// The point on G (rows at ½) and the factor `(2^R · B)^{-1}` from a point `(ρ_n, ρ_c)` on g_β.
fn signal_point(plan: &zkdl_compiler::Plan, instance_bits: usize, point: &[Fr], row_bits: usize) -> (Vec<Fr>, Fr) {
    let half = Fr::from(2u64).inverse().expect("2 is invertible");
    let rest = [vec![half; row_bits], point[instance_bits..].to_vec()].concat();
    let scale = power_of_two(plan.params.scale_bits + row_bits as u32);
    (rest, scale.inverse().expect("a power of two is invertible"))
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let ([g_b, g], row_bits) = routes(p.plan, relation)?;
    let Some(claim) = p.merged(&g_b)? else { return Ok(()) };
    let n = g_b.view_instance_bits();
    let (rest, factor) = signal_point(p.plan, n, &claim.point, row_bits);
    p.claim(&g, PublicTensor::Eq(claim.point[..n].to_vec()), rest, claim.value * factor);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let ([g_b, g], row_bits) = routes(v.plan, relation)?;
    let Some(claim) = v.merged(&g_b)? else { return Ok(()) };
    let n = g_b.view_instance_bits();
    let (rest, factor) = signal_point(v.plan, n, &claim.point, row_bits);
    v.claim(&g, PublicTensor::Eq(claim.point[..n].to_vec()), rest, claim.value * factor)
}
