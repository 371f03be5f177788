//! Range checks by lookup: logUp (Haböck 2022) with the fraction sum proven by a GKR-style
//! sumcheck over a binary tree of fractions (Papini–Haböck 2023, "logUp-GKR").
//!
//! Proofs of training range-check by bit decomposition instead: with byte-table commitments a limb
//! costs as much to commit as its bits, and this argument costs more than the bit relation
//! (`docs/range-checks.md`; `benches/range_checks.rs` measures both on the same range).
//!
//! **The lookup.** Leaves `f_0 … f_{2^N − 1}` (field elements: the prover's limbs, or linear images of
//! them) are claimed to lie in the table `[0, 2^w)`. The prover commits to the multiplicities
//! `m(j) = #{i : f_i = j}` before the challenge `α` is drawn, and shows
//!
//! ```text
//!     Σ_i 1/(α − f_i) = Σ_j m(j)/(α − j).                                        (logUp)
//! ```
//!
//! Both sides are rational functions of `α`; if the multiset `{f_i}` is not covered by the table with
//! multiplicities `m`, they differ as rational functions, and clearing denominators gives nonzero
//! polynomials of degree at most `2^N + 2^w`, so the identity holds at a random `α` with probability at
//! most `(2^N + 2^w)/|F|` (Haböck, Lemma 5: it needs the field's characteristic above `2^N`, true for
//! every N a plan can have). The caller draws `α` after committing to the leaves and to `m`.
//!
//! **The table side** is linear in `m`: with `inv(j) = 1/(α − j)` public, `S = Σ_j m(j)·inv(j)` is
//! proven by a degree-2 sumcheck over the `w` table variables, ending in a claim on `m`. The verifier
//! refuses an `α` in `[0, 2^w)` (probability `2^w/|F|`).
//!
//! **The witness side** is a tree of fractions `p/q`: leaves `(1, α − f_i)`, and a node at depth `d`
//! (`2^d` nodes, the root at depth 0) is the sum of its children at `2x` and `2x + 1`:
//!
//! ```text
//!     p_d(x) = p_{d+1}(x, 0)·q_{d+1}(x, 1) + p_{d+1}(x, 1)·q_{d+1}(x, 0),
//!     q_d(x) = q_{d+1}(x, 0)·q_{d+1}(x, 1),
//! ```
//!
//! so the root is `(P, Q)` with `P/Q = Σ_i 1/(α − f_i)` whenever no denominator vanishes. The prover
//! sends `P`, `Q` and `Q⁻¹`; the verifier checks `P = S·Q` and `Q·Q⁻¹ = 1`. A zero denominator
//! `α = f_i` would make `Q = 0`, so `Q ≠ 0` rules out the degenerate trees where `P = 0` although
//! the sums differ.
//!
//! **Layers.** A claim `(p_d(ρ), q_d(ρ)) = (a, b)` on depth `d` becomes, with `λ` from the
//! transcript, the degree-3 sumcheck
//!
//! ```text
//!     a + λ·b = Σ_x eq(ρ, x)·[p_L(x)·q_R(x) + p_R(x)·q_L(x) + λ·q_L(x)·q_R(x)]
//! ```
//!
//! over `d` variables, where `p_L(x) = p_{d+1}(x, 0)` and `p_R(x) = p_{d+1}(x, 1)` (and the same for
//! `q`). It ends at a point `r` in the four values `p_L(r), p_R(r), q_L(r), q_R(r)`; with `r*` from
//! the transcript, `p_{d+1}(r, r*) = p_L(r) + r*·(p_R(r) − p_L(r))` (and the same for `q`) is the
//! claim on depth `d + 1`, by multilinearity in the last variable. At depth `N − 1` the children are
//! the leaves, `p = 1`, and the summand is `q_R + q_L + λ·q_L·q_R`. The last claim is
//! `q_N(r, r*) = α − f(r, r*)`: a claim on the leaves' multilinear extension `f`, which the caller
//! turns into a claim on its committed tensors. Soundness error `3·Σ_d d/|F|` for the layers.
//!
//! **Zero-knowledge.** Every value is sent as [`crate::crypto::sumcheck`] sends it: the layer sumchecks are
//! hidden (commitments to the round polynomials, the final values, their products and proofs of
//! product), `S`, `P`, `Q`, `Q⁻¹` are commitments, and `P = S·Q`, `Q·Q⁻¹ = 1` are proofs of product
//! ([`ProductProof`]). The claims that come out are [`Secret`] values on the prover's side and
//! [`Sent`] values on the verifier's.
//!
//! **Memory.** The prover holds the layers of at most `2^hold_vars` nodes. A deeper layer's sumcheck
//! reads its children a block at a time ([`sumcheck::prove_blocks_from`]), each block computed from
//! the leaves by folding, so the prover never holds a layer of the size of the leaves.

use ark_ec::CurveGroup;
use ark_ff::{Field, One, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;

use crate::crypto::sumcheck::{
    self, Factor, ProductTerm, PublicTensor, SumcheckProof, SumcheckProverState, SumcheckStatement,
};
use crate::crypto::tensor::PARALLEL_MIN;
use crate::crypto::zk::{Blinder, Mode, ProductProof, Secret, Sent, Value};
use crate::error::VerificationError;
use crate::{Fr, G1Affine, TensorId, Transcript};

/// The leaves of the witness side, as the prover reads them.
pub trait LookupLeaves: Sync {
    /// `N`: there are `2^N` leaves (`N ≥ 1`).
    fn num_vars(&self) -> usize;

    /// Writes the leaf values `f_i` for `i = start … start + out.len() − 1`.
    fn fill(&self, start: usize, out: &mut [Fr]);

    /// Writes the denominators `α − f_i` (a leaf source with small values may use a table).
    fn fill_denominators(&self, alpha: Fr, start: usize, out: &mut [Fr]) {
        self.fill(start, out);
        out.par_iter_mut().with_min_len(PARALLEL_MIN).for_each(|f| *f = alpha - *f);
    }
}

/// Leaves given as field elements (tests prove deliberately wrong leaves through this).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLeaves(pub Vec<Fr>);

impl LookupLeaves for FieldLeaves {
    fn num_vars(&self) -> usize {
        crate::crypto::tensor::log2_exact(self.0.len())
    }

    fn fill(&self, start: usize, out: &mut [Fr]) {
        out.copy_from_slice(&self.0[start..start + out.len()]);
    }
}

/// Leaves that are small integers: denominators are read from a table of `α − j`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallLeaves(pub Vec<u32>);

impl LookupLeaves for SmallLeaves {
    fn num_vars(&self) -> usize {
        crate::crypto::tensor::log2_exact(self.0.len())
    }

    fn fill(&self, start: usize, out: &mut [Fr]) {
        let values = &self.0[start..start + out.len()];
        out.par_iter_mut().zip(values).with_min_len(PARALLEL_MIN).for_each(|(o, v)| *o = Fr::from(u64::from(*v)));
    }
}

/// The messages of one lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct LookupProof {
    /// `S`, `P`, `Q` in the clear (a proof that is not zero-knowledge).
    pub root: Vec<Fr>,
    /// `S`, `P`, `Q`, `Q⁻¹` as commitments (a zero-knowledge proof).
    pub committed_root: Vec<G1Affine>,
    /// Proofs of `P = S·Q` and `Q·Q⁻¹ = 1` (zero-knowledge only).
    pub root_products: Vec<ProductProof>,
    /// `S = Σ_j m(j)/(α − j)` over the table's `w` variables.
    pub table: Option<SumcheckProof>,
    /// One sumcheck per depth `d = 0 … N − 1` of the fraction tree.
    pub layers: Vec<SumcheckProof>,
}

/// What a lookup leaves to prove: claims on the leaves' extension `f` and on the multiplicities `m`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupClaims<V> {
    /// The point `(r, r*)` over the leaves' `N` variables.
    pub leaf_point: Vec<Fr>,
    /// `f(leaf_point)`.
    pub leaf_value: V,
    /// The point over the table's `w` variables.
    pub multiplicity_point: Vec<Fr>,
    /// `m(multiplicity_point)`.
    pub multiplicity_value: V,
}

/// The label of a lookup's layer tensors in sumcheck claims (they are not committed tensors: the
/// claims are taken as values).
const LAYER: TensorId = TensorId(u32::MAX);
const MULTIPLICITIES: TensorId = TensorId(u32::MAX - 1);

/// The layer sumcheck of depth `d` over `d` variables (see the module docs): factors `p_L, p_R, q_L,
/// q_R`, or `q_L, q_R` when the children are leaves.
fn layer_statement(d: usize, leaves: bool, rho: &[Fr], lambda: Fr) -> SumcheckStatement {
    let (factors, terms) = if leaves {
        (
            vec![Factor::Committed(LAYER); 2],
            vec![ProductTerm::new(Fr::one(), [1]), ProductTerm::new(Fr::one(), [0]), ProductTerm::new(lambda, [0, 1])],
        )
    } else {
        (
            vec![Factor::Committed(LAYER); 4],
            vec![
                ProductTerm::new(Fr::one(), [0, 3]),
                ProductTerm::new(Fr::one(), [1, 2]),
                ProductTerm::new(lambda, [2, 3]),
            ],
        )
    };
    SumcheckStatement {
        relation: format!("logUp layer {d}"),
        num_vars: d,
        eq_weight: Some(rho.to_vec()),
        factors,
        terms,
    }
}

/// The table-side sumcheck `Σ_j m(j)·inv(j) = S`.
fn table_statement(inverses: Vec<Fr>) -> SumcheckStatement {
    let w = crate::crypto::tensor::log2_exact(inverses.len());
    SumcheckStatement {
        relation: "logUp table".into(),
        num_vars: w,
        eq_weight: None,
        factors: vec![Factor::Committed(MULTIPLICITIES), Factor::Public(PublicTensor::Dense(inverses))],
        terms: vec![ProductTerm::new(Fr::one(), [0, 1])],
    }
}

/// `1/(α − j)` for `j < 2^w`, or `None` if `α` is in the table.
fn table_inverses(alpha: Fr, w: usize) -> Option<Vec<Fr>> {
    let mut values: Vec<Fr> = (0..1u64 << w).map(|j| alpha - Fr::from(j)).collect();
    if values.iter().any(Zero::is_zero) {
        return None;
    }
    ark_ff::batch_inversion(&mut values);
    Some(values)
}

/// Leaves read at a time while folding nodes: `2^16`.
const LEAF_GROUP_VARS: usize = 16;

/// Nodes `start … start + p.len() − 1` of depth `depth < N` (numerators, denominators), folded from
/// their leaves, at most `2^LEAF_GROUP_VARS` leaves per node held at a time.
fn nodes_from_leaves(leaves: &dyn LookupLeaves, alpha: Fr, depth: usize, start: usize, p: &mut [Fr], q: &mut [Fr]) {
    let n = leaves.num_vars();
    let height = n - depth;
    debug_assert!(height >= 1);
    if height > LEAF_GROUP_VARS {
        // Nodes of height LEAF_GROUP_VARS first, then their ancestors.
        let below = height - LEAF_GROUP_VARS;
        let count = p.len() << below;
        let (mut num, mut den) = (vec![Fr::zero(); count], vec![Fr::zero(); count]);
        nodes_from_leaves(leaves, alpha, depth + below, start << below, &mut num, &mut den);
        for _ in 0..below {
            (num, den) = fold_pairs(&num, &den);
        }
        p.copy_from_slice(&num);
        q.copy_from_slice(&den);
        return;
    }
    let width = 1usize << height;
    // Nodes in groups whose leaves are read together (at least 2^12 leaves per group).
    let group = (1usize << 12 >> height).max(1);
    p.par_chunks_mut(group).zip(q.par_chunks_mut(group)).enumerate().for_each(|(g, (p, q))| {
        let first = start + g * group;
        let mut den = vec![Fr::zero(); p.len() * width];
        leaves.fill_denominators(alpha, first * width, &mut den);
        // Height 1: p = q_a + q_b, q = q_a·q_b.
        let mut num: Vec<Fr> = den.chunks_exact(2).map(|c| c[0] + c[1]).collect();
        let mut den: Vec<Fr> = den.chunks_exact(2).map(|c| c[0] * c[1]).collect();
        for _ in 1..height {
            (num, den) = fold_pairs(&num, &den);
        }
        p.copy_from_slice(&num);
        q.copy_from_slice(&den);
    });
}

/// The parents of nodes `(p, q)`: `(p_a·q_b + p_b·q_a, q_a·q_b)` for each pair `a = 2x`, `b = 2x + 1`.
fn fold_pairs(p: &[Fr], q: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
    let fold = |(a, b): (&[Fr], &[Fr])| (a[0] * b[1] + a[1] * b[0], b[0] * b[1]);
    if p.len() < 2 * PARALLEL_MIN {
        p.chunks_exact(2).zip(q.chunks_exact(2)).map(fold).unzip()
    } else {
        p.par_chunks_exact(2).zip(q.par_chunks_exact(2)).with_min_len(PARALLEL_MIN).map(fold).unzip()
    }
}

/// A held layer: `2^d` numerators and denominators.
struct Layer {
    p: Vec<Fr>,
    q: Vec<Fr>,
}

impl Layer {
    /// The parent layer.
    fn parent(&self) -> Layer {
        let (p, q) = fold_pairs(&self.p, &self.q);
        Layer { p, q }
    }

    /// The four child tables `p_L, p_R, q_L, q_R` of the layer above this one.
    fn halves(&self) -> Vec<Vec<Fr>> {
        let even = |v: &Vec<Fr>| v.par_iter().step_by(2).copied().collect::<Vec<_>>();
        let odd = |v: &Vec<Fr>| v.par_iter().skip(1).step_by(2).copied().collect::<Vec<_>>();
        vec![even(&self.p), odd(&self.p), even(&self.q), odd(&self.q)]
    }
}

/// One child table of a deep layer, read in blocks computed from the leaves: `part` 0–3 is
/// `p_L, p_R, q_L, q_R` of depth `depth`.
struct ChildBlocks<'a> {
    leaves: &'a dyn LookupLeaves,
    alpha: Fr,
    depth: usize,
    part: usize,
}

impl sumcheck::Blocks for ChildBlocks<'_> {
    fn fill(&self, start: usize, out: &mut [Fr]) {
        let len = out.len();
        let parity = self.part % 2;
        if self.depth == self.leaves.num_vars() {
            let mut den = vec![Fr::zero(); 2 * len];
            self.leaves.fill_denominators(self.alpha, 2 * start, &mut den);
            out.par_iter_mut().enumerate().with_min_len(PARALLEL_MIN).for_each(|(i, o)| *o = den[2 * i + parity]);
            return;
        }
        let (mut p, mut q) = (vec![Fr::zero(); 2 * len], vec![Fr::zero(); 2 * len]);
        nodes_from_leaves(self.leaves, self.alpha, self.depth, 2 * start, &mut p, &mut q);
        let source = if self.part < 2 { &p } else { &q };
        out.par_iter_mut().enumerate().with_min_len(PARALLEL_MIN).for_each(|(i, o)| *o = source[2 * i + parity]);
    }
}

/// The prover's way of sending values: in the clear, or committed with blinds.
struct Sender<'b> {
    blinder: Option<&'b mut Blinder>,
}

impl Sender<'_> {
    fn send(&mut self, value: Fr, proof: &mut LookupProof, transcript: &mut Transcript) -> Secret {
        match self.blinder.as_deref_mut() {
            None => {
                transcript.append_field(b"logup-value", &value);
                proof.root.push(value);
                Secret::public(value)
            }
            Some(blinder) => {
                let secret = blinder.hide(value);
                let point = secret.sent().commitment().into_affine();
                transcript.append_point(b"logup-value", &point);
                proof.committed_root.push(point);
                secret
            }
        }
    }
}

fn absorb_header(transcript: &mut Transcript, n: usize, w: usize) {
    transcript.append_message(b"logup", b"fraction-sum");
    transcript.append_u64(b"logup-leaf-vars", n as u64);
    transcript.append_u64(b"logup-table-vars", w as u64);
}

/// Proves that every leaf lies in `[0, 2^w)` given the multiplicities (`2^w` entries), at the
/// challenge `alpha` the caller drew after committing to both. Layers of at most `2^hold_vars` nodes
/// are held; deeper ones are read in blocks of `2^block_vars`.
///
/// # Panics
/// If `alpha` lies in the table, there are fewer than 2 leaves, or the multiplicities are not `2^w`
/// entries with `w ≥ 1` (the caller's errors).
pub fn prove(
    leaves: &dyn LookupLeaves,
    multiplicities: &[Fr],
    alpha: Fr,
    transcript: &mut Transcript,
    blinder: Option<&mut Blinder>,
    hold_vars: usize,
    block_vars: usize,
) -> (LookupProof, LookupClaims<Secret>) {
    let n = leaves.num_vars();
    let w = crate::crypto::tensor::log2_exact(multiplicities.len());
    assert!(n >= 1 && w >= 1, "a lookup needs at least 2 leaves and a table of at least 2 entries");
    let inverses = table_inverses(alpha, w).expect("α lies outside the table");
    let mut proof = LookupProof::default();
    let mut sender = Sender { blinder };
    absorb_header(transcript, n, w);

    // The held layers, deepest first: depth `held` from the leaves, then their parents.
    let held = hold_vars.min(n - 1);
    let mut layers = Vec::with_capacity(held + 1);
    let size = 1usize << held;
    let (mut p, mut q) = (vec![Fr::zero(); size], vec![Fr::zero(); size]);
    nodes_from_leaves(leaves, alpha, held, 0, &mut p, &mut q);
    layers.push(Layer { p, q });
    for _ in 0..held {
        let parent = layers.last().expect("a layer").parent();
        layers.push(parent);
    }
    layers.reverse(); // layers[d] is depth d.

    // The root and the table side.
    let s = crate::crypto::tensor::inner_product(multiplicities, &inverses);
    let (p_root, q_root) = (layers[0].p[0], layers[0].q[0]);
    let s_sent = sender.send(s, &mut proof, transcript);
    let p_sent = sender.send(p_root, &mut proof, transcript);
    let q_sent = sender.send(q_root, &mut proof, transcript);
    if let Some(blinder) = sender.blinder.as_deref_mut() {
        let q_inverse = q_root.inverse().unwrap_or_default();
        let inverse = blinder.hide(q_inverse);
        let point = inverse.sent().commitment().into_affine();
        transcript.append_point(b"logup-value", &point);
        proof.committed_root.push(point);
        proof.root_products.push(ProductProof::prove(transcript, s_sent, q_sent, p_sent, blinder));
        proof.root_products.push(ProductProof::prove(transcript, q_sent, inverse, Secret::public(Fr::one()), blinder));
    }

    // The table side: Σ_j m(j)·inv(j) = S.
    let statement = table_statement(inverses);
    let state = SumcheckProverState::for_mode(&statement, s_sent, sender.blinder.as_deref_mut());
    let output = sumcheck::prove_from(&statement, state, vec![multiplicities.to_vec()], Vec::new(), transcript);
    proof.table = Some(output.proof);
    let (multiplicity_point, multiplicity_value) = (output.point, output.evaluations[0]);

    // The layers, from the root down.
    let mut point: Vec<Fr> = Vec::new();
    let (mut p_claim, mut q_claim) = (p_sent, q_sent);
    let mut leaf_value = Secret::public(Fr::zero());
    for d in 0..n {
        let lambda = transcript.challenge_field(b"logup-lambda");
        let children_are_leaves = d + 1 == n;
        let statement = layer_statement(d, children_are_leaves, &point, lambda);
        let claimed = p_claim + q_claim * lambda;
        let state = SumcheckProverState::for_mode(&statement, claimed, sender.blinder.as_deref_mut());
        let output = if d < held {
            sumcheck::prove_from(&statement, state, layers[d + 1].halves(), Vec::new(), transcript)
        } else {
            let parts: Vec<usize> = if children_are_leaves { vec![2, 3] } else { vec![0, 1, 2, 3] };
            let blocks: Vec<ChildBlocks> =
                parts.into_iter().map(|part| ChildBlocks { leaves, alpha, depth: d + 1, part }).collect();
            let blocks: Vec<&dyn sumcheck::Blocks> = blocks.iter().map(|b| b as &dyn sumcheck::Blocks).collect();
            sumcheck::prove_blocks_from(&statement, state, blocks, block_vars, transcript)
        };
        proof.layers.push(output.proof);
        let r_star = transcript.challenge_field(b"logup-child");
        let values = output.evaluations;
        point = output.point;
        point.push(r_star);
        if children_are_leaves {
            let q_leaf = values[0] + (values[1] - values[0]) * r_star;
            leaf_value = Secret::public(alpha) - q_leaf;
        } else {
            p_claim = values[0] + (values[1] - values[0]) * r_star;
            q_claim = values[2] + (values[3] - values[2]) * r_star;
        }
        if d + 1 == held {
            layers = Vec::new(); // the held layers are done with
        }
    }
    let claims = LookupClaims { leaf_point: point, leaf_value, multiplicity_point, multiplicity_value };
    (proof, claims)
}

/// Verifies a lookup of `2^n` leaves in the table `[0, 2^w)` at the challenge `alpha`, returning the
/// claims on the leaves' extension and on the multiplicities that the caller must check.
pub fn verify(
    n: usize,
    w: usize,
    alpha: Fr,
    proof: &LookupProof,
    mode: Mode,
    transcript: &mut Transcript,
) -> Result<LookupClaims<Sent>, VerificationError> {
    let relation = || "logUp".to_string();
    let malformed = |what: String| VerificationError::Malformed { relation: relation(), what };
    let check = |what: &str| VerificationError::Check { relation: relation(), what: what.into() };
    if n == 0 || w == 0 {
        return Err(malformed(format!("a lookup of 2^{n} leaves in a table of 2^{w} entries")));
    }
    if proof.layers.len() != n {
        return Err(malformed(format!("{} layer sumchecks for {n} layers", proof.layers.len())));
    }
    let inverses = table_inverses(alpha, w).ok_or_else(|| check("the challenge α lies in the table"))?;
    absorb_header(transcript, n, w);
    let (s, p_root, q_root) = match mode {
        Mode::Clear => {
            let [s, p, q] = proof.root[..] else {
                return Err(malformed(format!("{} root values in the clear, not 3", proof.root.len())));
            };
            if !proof.committed_root.is_empty() || !proof.root_products.is_empty() {
                return Err(malformed("a committed root value in a proof that is not zero-knowledge".into()));
            }
            for v in [s, p, q] {
                transcript.append_field(b"logup-value", &v);
            }
            if q.is_zero() {
                return Err(check("the root denominator Q is zero (a leaf equals α)"));
            }
            if p != s * q {
                return Err(check("the fraction sum P/Q differs from the table side S"));
            }
            (Sent::Clear(s), Sent::Clear(p), Sent::Clear(q))
        }
        Mode::ZeroKnowledge => {
            let [s, p, q, q_inverse] = proof.committed_root[..] else {
                return Err(malformed(format!("{} committed root values, not 4", proof.committed_root.len())));
            };
            if !proof.root.is_empty() || proof.root_products.len() != 2 {
                return Err(malformed("the root of a zero-knowledge lookup is 4 commitments and 2 proofs".into()));
            }
            for v in [&s, &p, &q, &q_inverse] {
                transcript.append_point(b"logup-value", v);
            }
            let [s, p, q, q_inverse] = [s, p, q, q_inverse].map(|v| Sent::Committed(v.into()));
            if !proof.root_products[0].verify(transcript, s.commitment(), q.commitment(), p.commitment()) {
                return Err(check("the proof that P = S·Q"));
            }
            let one = Sent::Clear(Fr::one()).commitment();
            if !proof.root_products[1].verify(transcript, q.commitment(), q_inverse.commitment(), one) {
                return Err(check("the proof that Q is invertible"));
            }
            (s, p, q)
        }
    };
    let table = proof.table.as_ref().ok_or_else(|| malformed("no table sumcheck".into()))?;
    let (multiplicity_point, values) = sumcheck::verify_sent(&table_statement(inverses), s, table, mode, transcript)?;
    let multiplicity_value = values[0];

    let mut point: Vec<Fr> = Vec::new();
    let (mut p_claim, mut q_claim) = (p_root, q_root);
    let mut leaf_value = Sent::Clear(Fr::zero());
    for (d, layer) in proof.layers.iter().enumerate() {
        let lambda = transcript.challenge_field(b"logup-lambda");
        let children_are_leaves = d + 1 == n;
        let statement = layer_statement(d, children_are_leaves, &point, lambda);
        let (r, values) = sumcheck::verify_sent(&statement, p_claim + q_claim * lambda, layer, mode, transcript)?;
        let r_star = transcript.challenge_field(b"logup-child");
        point = r;
        point.push(r_star);
        if children_are_leaves {
            let q_leaf = values[0] + (values[1] - values[0]) * r_star;
            leaf_value = Sent::constant(alpha) - q_leaf;
        } else {
            p_claim = values[0] + (values[1] - values[0]) * r_star;
            q_claim = values[2] + (values[3] - values[2]) * r_star;
        }
    }
    Ok(LookupClaims { leaf_point: point, leaf_value, multiplicity_point, multiplicity_value })
}

/// The multiplicities of leaves that are small integers in a table of `2^w` entries.
///
/// # Panics
/// If a leaf lies outside the table.
pub fn multiplicities(leaves: &[u32], w: usize) -> Vec<Fr> {
    let mut counts = vec![0u64; 1 << w];
    for &v in leaves {
        counts[v as usize] += 1;
    }
    counts.into_iter().map(Fr::from).collect()
}

#[cfg(test)]
mod tests;
