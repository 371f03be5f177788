//! M1, M2, M3: the matrix products of a training step, aggregated over instances n (`PROTOCOL.md` §4–§5).
//!
//! Each is `O(n, a, c) = Σ_b L(n, ·, ·) · R(n, ·, ·)` over the relation's stacked views:
//!
//! ```text
//!     M1  Z(n, i, j)   = Σ_k A(n, i, k) · W(n, k, j)        L = A (sum index trailing), R = W (leading)
//!     M2  H(n, i, k)   = Σ_j G(n, i, j) · W(n, k, j)        L = G (trailing),           R = W (trailing)
//!     M3  G_W(n, k, j) = Σ_i A(n, i, k) · G(n, i, j)        L = A (leading),            R = G (leading)
//! ```
//!
//! At a point `ρ = (ρ_n, ρ_a, ρ_c)` of the output — fresh for M1 and M2 (Z and H are roots: the prover
//! sends `O(ρ)`), the merged claim on G_W for M3 — the prover binds the free index of each factor
//! (`L'(n, b) = L(n, ρ_a, b)` or `L(n, b, ρ_a)`, likewise `R'`) in time linear in its size and runs the
//! degree-3 sumcheck
//!
//! ```text
//!     O(ρ) = Σ_{n, b} eq(ρ_n, n) · L'(n, b) · R'(n, b)
//! ```
//!
//! over the instance and summed variables. It ends at `(r_n, r_b)` with the claims
//! `L(r_n, ρ_a, r_b)` (or `L(r_n, r_b, ρ_a)`) and `R(…)` on the operands, routed to their tensors.
//!
//! **Bias.** M1 of layers with a bias has a fourth operand β (`docs/bias.md`):
//! `Z(n, i, j) = Σ_k A(n, i, k) · W(n, k, j) + 2^R · β(n, j)` for the B rows i of the batch. At the
//! point ρ the prover sends `β(ρ_n, ρ_c)` (a claim on β), and the sumcheck proves
//! `Z(ρ) − 2^R · e · β(ρ_n, ρ_c)` with `e = Σ_{i<B} eq(ρ_a, i)` (1 when B fills the rows).
//!
//! The stacked W (R of M1 and M2) is bound without its table ([`super::weight_walk`]). M3 does not
//! merge the claims on G_W (that would need G_W's table, `T · |W|` entries): it proves them together
//! in one sumcheck over the factors ([`gradient_statement`]).

use zkdl_compiler::plan::{AggregatedRelation, RelationKind};

use super::routing::{relation_name, Route};
use super::weight_walk::Bound;
use super::{is_root, Prover, Verifier};
use crate::crypto::claims::WeightedClaim;
use crate::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
use crate::crypto::zk::Value;
use crate::error::VerificationError;
use crate::{Fr, TensorId};

/// Where the summed index sits in each factor's (row, column) layout.
struct Layout {
    /// The summed index is L's column (else its row).
    left_sum_is_column: bool,
    /// The summed index is R's column (else its row).
    right_sum_is_column: bool,
}

fn layout(kind: RelationKind) -> Layout {
    match kind {
        RelationKind::MatMulForward => Layout { left_sum_is_column: true, right_sum_is_column: false },
        RelationKind::MatMulBackward => Layout { left_sum_is_column: true, right_sum_is_column: true },
        _ => Layout { left_sum_is_column: false, right_sum_is_column: false },
    }
}

/// The relation's routes and variable counts.
struct Shape<'p> {
    out: Route<'p>,
    left: Route<'p>,
    right: Route<'p>,
    layout: Layout,
    instance_bits: usize,
    /// Bits of L's free index (a), of R's free index (c), and of the summed index (b).
    a_bits: usize,
    c_bits: usize,
    sum_bits: usize,
}

fn shape<'p>(plan: &'p zkdl_compiler::Plan, relation: &'p AggregatedRelation) -> Result<Shape<'p>, VerificationError> {
    let [out, left, right] = Route::operands(plan, relation)?;
    let layout = layout(relation.kind);
    let split = |route: &Route, sum_is_column: bool| {
        let l = route.tensor.layout;
        let (rows, cols) = (l.row_bits as usize, l.col_bits as usize);
        if sum_is_column {
            (rows, cols)
        } else {
            (cols, rows)
        }
    };
    let (a_bits, left_sum) = split(&left, layout.left_sum_is_column);
    let (c_bits, right_sum) = split(&right, layout.right_sum_is_column);
    let o = out.tensor.layout;
    let instance_bits = out.view_instance_bits();
    let consistent = left_sum == right_sum
        && o.row_bits as usize == a_bits
        && o.col_bits as usize == c_bits
        && left.view_instance_bits() == instance_bits
        && right.view_instance_bits() == instance_bits
        && [&out, &left, &right].iter().all(|r| r.tensor.layout.plane_bits == 0);
    if !consistent {
        return Err(VerificationError::Malformed {
            relation: super::routing::relation_name(relation),
            what: "the operands' shapes do not form a matrix product".into(),
        });
    }
    Ok(Shape { out, left, right, layout, instance_bits, a_bits, c_bits, sum_bits: left_sum })
}

impl Shape<'_> {
    fn statement(&self, relation: &AggregatedRelation, rho_n: &[Fr]) -> SumcheckStatement {
        SumcheckStatement {
            relation: super::routing::relation_name(relation),
            num_vars: self.instance_bits + self.sum_bits,
            eq_weight: None,
            factors: vec![
                Factor::Committed(TensorId(self.left.tensor.id.0)),
                Factor::Committed(TensorId(self.right.tensor.id.0)),
                Factor::Public(PublicTensor::Kron(vec![
                    PublicTensor::Eq(rho_n.to_vec()),
                    PublicTensor::Prefix { num_vars: self.sum_bits, count: 1 << self.sum_bits },
                ])),
            ],
            terms: vec![ProductTerm::new(Fr::from(1u64), [0, 1, 2])],
        }
    }

    /// The (row, column) points of L and R after the sumcheck bound `(n, b)` to `(r_n, r_b)`.
    fn operand_points(&self, rho_a: &[Fr], rho_c: &[Fr], r_b: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
        let place = |free: &[Fr], sum_is_column: bool| {
            if sum_is_column {
                [free, r_b].concat()
            } else {
                [r_b, free].concat()
            }
        };
        (place(rho_a, self.layout.left_sum_is_column), place(rho_c, self.layout.right_sum_is_column))
    }
}

/// The index of a factor left free: its row when the summed index is its column, else its column.
fn free_index(sum_is_column: bool) -> Bound {
    if sum_is_column {
        Bound::Row
    } else {
        Bound::Column
    }
}

/// The route of M1's bias operand β (operand 3), for a relation of layers with a bias, checked to be
/// one row of Z's columns per instance.
fn bias_route<'p>(
    plan: &'p zkdl_compiler::Plan,
    relation: &'p AggregatedRelation,
    s: &Shape,
) -> Result<Option<Route<'p>>, VerificationError> {
    if relation.kind != RelationKind::MatMulForward || relation.operands.len() != 4 {
        return Ok(None);
    }
    let route = Route::new(plan, relation, 3, false)?;
    let l = route.tensor.layout;
    if l.row_bits != 0
        || l.plane_bits != 0
        || l.col_bits as usize != s.c_bits
        || route.view_instance_bits() != s.instance_bits
    {
        return Err(VerificationError::Malformed {
            relation: relation_name(relation),
            what: "the bias is not one row of Z's columns per instance".into(),
        });
    }
    Ok(Some(route))
}

/// `2^R · Σ_{i<B} eq(ρ_a, i)`: the bias term's coefficient at Z's row point ρ_a.
fn bias_coefficient(plan: &zkdl_compiler::Plan, rho_a: &[Fr]) -> Fr {
    let rows = plan.spec.batch as usize;
    let e: Fr = crate::crypto::tensor::eq_table(rho_a).iter().take(rows).sum();
    crate::crypto::tensor::power_of_two(plan.params.scale_bits) * e
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let s = shape(p.plan, relation)?;
    if relation.kind == RelationKind::WeightGradient {
        return prove_weight_gradient(p, relation, &s);
    }
    let (rho, claimed) = if is_root(relation, 0) {
        let rho = p.transcript.challenge_fields(b"relation-point", s.instance_bits + s.a_bits + s.c_bits);
        let value = p.send(p.view_value(&s.out, &rho));
        p.claim(&s.out, PublicTensor::Eq(rho[..s.instance_bits].to_vec()), rho[s.instance_bits..].to_vec(), value);
        (rho, value)
    } else {
        match p.merged(&s.out)? {
            Some(claim) => (claim.point, claim.value),
            None => return Ok(()),
        }
    };
    let (rho_n, rest) = rho.split_at(s.instance_bits);
    let (rho_a, rho_c) = rest.split_at(s.a_bits);
    let claimed = match bias_route(p.plan, relation, &s)? {
        Some(bias) => {
            let beta = p.send(p.view_value(&bias, &[rho_n, rho_c].concat()));
            p.claim(&bias, PublicTensor::Eq(rho_n.to_vec()), rho_c.to_vec(), beta);
            claimed - beta * bias_coefficient(p.plan, rho_a)
        }
        None => claimed,
    };
    let left = p.bound_view(&s.left, rho_a, free_index(s.layout.left_sum_is_column));
    let right = p.bound_view(&s.right, rho_c, free_index(s.layout.right_sum_is_column));
    let (point, values) = p.prove_sumcheck(&s.statement(relation, rho_n), claimed, vec![left, right]);
    let (r_n, r_b) = point.split_at(s.instance_bits);
    let (left_point, right_point) = s.operand_points(rho_a, rho_c, r_b);
    p.claim(&s.left, PublicTensor::Eq(r_n.to_vec()), left_point, values[0]);
    p.claim(&s.right, PublicTensor::Eq(r_n.to_vec()), right_point, values[1]);
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let s = shape(v.plan, relation)?;
    if relation.kind == RelationKind::WeightGradient {
        return verify_weight_gradient(v, relation, &s);
    }
    let (rho, claimed) = if is_root(relation, 0) {
        let rho = v.transcript.challenge_fields(b"relation-point", s.instance_bits + s.a_bits + s.c_bits);
        let value = v.receive()?;
        v.claim(&s.out, PublicTensor::Eq(rho[..s.instance_bits].to_vec()), rho[s.instance_bits..].to_vec(), value)?;
        (rho, value)
    } else {
        match v.merged(&s.out)? {
            Some(claim) => (claim.point, claim.value),
            None => return Ok(()),
        }
    };
    let (rho_n, rest) = rho.split_at(s.instance_bits);
    let (rho_a, rho_c) = rest.split_at(s.a_bits);
    let claimed = match bias_route(v.plan, relation, &s)? {
        Some(bias) => {
            let beta = v.receive()?;
            v.claim(&bias, PublicTensor::Eq(rho_n.to_vec()), rho_c.to_vec(), beta)?;
            claimed - beta * bias_coefficient(v.plan, rho_a)
        }
        None => claimed,
    };
    let (point, values) = v.verify_sumcheck(&s.statement(relation, rho_n), claimed)?;
    let (r_n, r_b) = point.split_at(s.instance_bits);
    let (left_point, right_point) = s.operand_points(rho_a, rho_c, r_b);
    v.claim(&s.left, PublicTensor::Eq(r_n.to_vec()), left_point, values[0])?;
    v.claim(&s.right, PublicTensor::Eq(r_n.to_vec()), right_point, values[1])?;
    Ok(())
}

/// One claim on G_W, `Σ_n c(n) · G_W(n, ρ_a, ρ_c) = v`: its instance weights `c` (a table over the
/// instance variables) and its point `(ρ_a, ρ_c)`.
struct GradientClaim {
    weights: Vec<Fr>,
    rho_a: Vec<Fr>,
    rho_c: Vec<Fr>,
}

/// The claims on G_W as [`GradientClaim`]s: each weight must be `c(n) ⊗ eq((ρ_a, ρ_c), ·)`, the form
/// U1 routes (anything else is a malformed plan or proof).
fn gradient_claims<V: Copy>(
    relation: &AggregatedRelation,
    s: &Shape,
    claims: &[WeightedClaim<V>],
) -> Result<Vec<GradientClaim>, VerificationError> {
    claims
        .iter()
        .map(|claim| {
            let (weights, rest) = split_instance_weight(&claim.weight, s.instance_bits, s.a_bits + s.c_bits)
                .ok_or_else(|| VerificationError::Malformed {
                    relation: relation_name(relation),
                    what: "a claim on G_W is not an instance weight times a point".into(),
                })?;
            let (rho_a, rho_c) = rest.split_at(s.a_bits);
            Ok(GradientClaim { weights, rho_a: rho_a.to_vec(), rho_c: rho_c.to_vec() })
        })
        .collect()
}

/// A weight `Kron[instance, eq(rest)]` with `instance` over `instance_bits` variables and `rest` of
/// `rest_bits` coordinates: (the instance weight's table, rest).
pub(crate) fn split_instance_weight(
    weight: &PublicTensor,
    instance_bits: usize,
    rest_bits: usize,
) -> Option<(Vec<Fr>, Vec<Fr>)> {
    let PublicTensor::Kron(parts) = weight else { return None };
    let [instance, PublicTensor::Eq(rest)] = parts.as_slice() else { return None };
    (instance.num_vars() == Some(instance_bits) && rest.len() == rest_bits)
        .then(|| (instance.table(instance_bits), rest.clone()))
}

/// M3's sumcheck for the claims `v_k = Σ_n c_k(n) · G_W(n, ρ_a^k, ρ_c^k)`, batched by coefficients
/// `β_k` drawn after every claim is fixed:
///
/// ```text
///     Σ_k β_k v_k = Σ_{n, i} Σ_k β_k · c_k(n) · A(n, i, ρ_a^k) · G(n, i, ρ_c^k)
/// ```
///
/// (G_W(n, a, c) = Σ_i A(n, i, a) · G(n, i, c) is bilinear, so its multilinear extension at
/// (ρ_a, ρ_c) is the sum over i of the factors' extensions). The claims are not merged first: a merge
/// would need G_W's table, `T · |W|` entries; this sumcheck runs over the factors, activation-sized.
fn gradient_statement(
    relation: &AggregatedRelation,
    s: &Shape,
    claims: &[GradientClaim],
    beta: &[Fr],
) -> SumcheckStatement {
    let mut factors = Vec::with_capacity(3 * claims.len());
    let mut terms = Vec::with_capacity(claims.len());
    for (k, claim) in claims.iter().enumerate() {
        factors.push(Factor::Committed(TensorId(s.left.tensor.id.0)));
        factors.push(Factor::Committed(TensorId(s.right.tensor.id.0)));
        factors.push(Factor::Public(PublicTensor::Kron(vec![
            PublicTensor::Dense(claim.weights.clone()),
            PublicTensor::Prefix { num_vars: s.sum_bits, count: 1 << s.sum_bits },
        ])));
        terms.push(ProductTerm::new(beta[k], [3 * k, 3 * k + 1, 3 * k + 2]));
    }
    SumcheckStatement {
        relation: relation_name(relation),
        num_vars: s.instance_bits + s.sum_bits,
        eq_weight: None,
        factors,
        terms,
    }
}

/// `Σ_k β_k v_k`.
fn batched_sum<V: Value>(claims: &[WeightedClaim<V>], beta: &[Fr]) -> V {
    claims.iter().zip(beta).fold(V::constant(Fr::from(0u64)), |sum, (claim, b)| sum + claim.value * *b)
}

fn prove_weight_gradient(p: &mut Prover, relation: &AggregatedRelation, s: &Shape) -> Result<(), VerificationError> {
    let claims = p.take_claims(&s.out)?;
    if claims.is_empty() {
        return Ok(());
    }
    let parsed = gradient_claims(relation, s, &claims)?;
    let beta = p.transcript.challenge_fields(b"gradient-claims", claims.len());
    let claimed = batched_sum(&claims, &beta);
    let mut tables = Vec::with_capacity(2 * parsed.len());
    for claim in &parsed {
        tables.push(p.bound_view(&s.left, &claim.rho_a, free_index(s.layout.left_sum_is_column)));
        tables.push(p.bound_view(&s.right, &claim.rho_c, free_index(s.layout.right_sum_is_column)));
    }
    let (point, values) = p.prove_sumcheck(&gradient_statement(relation, s, &parsed, &beta), claimed, tables);
    let (r_n, r_b) = point.split_at(s.instance_bits);
    for (k, claim) in parsed.iter().enumerate() {
        let (left_point, right_point) = s.operand_points(&claim.rho_a, &claim.rho_c, r_b);
        p.claim(&s.left, PublicTensor::Eq(r_n.to_vec()), left_point, values[2 * k]);
        p.claim(&s.right, PublicTensor::Eq(r_n.to_vec()), right_point, values[2 * k + 1]);
    }
    Ok(())
}

fn verify_weight_gradient(v: &mut Verifier, relation: &AggregatedRelation, s: &Shape) -> Result<(), VerificationError> {
    let claims = v.take_claims(&s.out)?;
    if claims.is_empty() {
        return Ok(());
    }
    let parsed = gradient_claims(relation, s, &claims)?;
    let beta = v.transcript.challenge_fields(b"gradient-claims", claims.len());
    let claimed = batched_sum(&claims, &beta);
    let (point, values) = v.verify_sumcheck(&gradient_statement(relation, s, &parsed, &beta), claimed)?;
    let (r_n, r_b) = point.split_at(s.instance_bits);
    for (k, claim) in parsed.iter().enumerate() {
        let (left_point, right_point) = s.operand_points(&claim.rho_a, &claim.rho_c, r_b);
        v.claim(&s.left, PublicTensor::Eq(r_n.to_vec()), left_point, values[2 * k])?;
        v.claim(&s.right, PublicTensor::Eq(r_n.to_vec()), right_point, values[2 * k + 1])?;
    }
    Ok(())
}
