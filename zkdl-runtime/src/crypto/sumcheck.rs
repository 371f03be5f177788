//! The sumcheck protocol, generic over every relation of `PROTOCOL.md` §4.
//!
//! A [`SumcheckStatement`] over `n` variables claims
//!
//! ```text
//!     σ = Σ_{x ∈ {0,1}^n} w(x) · Σ_t c_t · Π_{f ∈ F_t} P_f(x),        w(x) = eq(ρ, x) or 1,
//! ```
//!
//! where each term `t` is a public coefficient `c_t` times a product of factors `P_f`. A factor is a
//! committed tensor (its final evaluation is sent and becomes a [`Claim`]) or a public tensor the
//! verifier evaluates itself. Products of two or three factors give matmul and Hadamard relations,
//! one-factor terms give linear relations with public coefficients (rescale, loss, update,
//! recomposition from bits), the term `b·b − b` under `eq(ρ, ·)` gives the bit relation.
//!
//! **Rounds.** Variables are bound most significant first (see `tensor`). In round `j` the prover
//! sends the round polynomial `s_j(X) = Σ_{x'} w(r_<j, X, x') · g(r_<j, X, x')` of degree
//! `D = max_t |F_t| + [w = eq]`, as the `D` values `s_j(0), s_j(2), …, s_j(D)`; the verifier sets
//! `s_j(1) = claim_j − s_j(0)`, draws `r_j` from the transcript and sets `claim_{j+1} = s_j(r_j)`.
//! At the end the prover sends `P_f(r)` for every committed factor, and the verifier checks
//! `claim_n = w(r) · Σ_t c_t Π_f P_f(r)`, evaluating `w` and the public factors itself. Soundness
//! error `n·D/|F|`.
//!
//! **Eq weight.** With `w = eq(ρ, ·)` the prover factors `s_j(X) = α_j · eq(ρ_j, X) · q_j(X)`, with
//! `α_j = Π_{k<j} eq(ρ_k, r_k)` and `q_j(X) = Σ_{x'} eq(ρ_{>j}, x') g(r_<j, X, x')` (Gruen), so the
//! eq table shrinks with the tensors: `E_{j+1}[x''] = E_j[0, x''] + E_j[1, x'']`.
//!
//! **Round loop.** [`prove_remaining_rounds`] runs the rounds from a [`SumcheckProverState`] (rounds
//! sent, challenges, `α_j`, claimed sum) and the tables bound at the challenges so far; the generic
//! prover starts it at round 1. A prover that knows more about its tables (the bit-aware prover of
//! the binary relation, which reads b as packed bits) computes its first `q_j` itself, sends them with
//! [`SumcheckProverState::send_round`] and hands over: the same messages, challenges and claims.
//! Per pair of entries a round evaluates every factor at `t = 0 … D` by repeated addition, multiplies
//! a factor common to every term once (`b·b − b·used = b·(b − used)`), and skips `t = 1` after round 1
//! (`s_j(1)` is not sent).
//!
//! **Transcript.** Absorbed in order: the relation name, `n`, `σ`, each round's values (then the
//! challenge `r_j`), the final evaluations.
//!
//! **Zero-knowledge** (Hyrax, Wahby et al. 2018 §4; `docs/zero-knowledge.md`). The claimed sum is held
//! as sent — a commitment `Com(σ) = σ·U + β·h` or a public value ([`Sent`]). In round `j` the prover
//! commits to `s_j(0), s_j(2), …, s_j(D)` with fresh blinds ([`HiddenSumcheck::rounds`]); the verifier
//! derives `Com(s_j(1)) = C_{j−1} − Com(s_j(0))`, so the round's consistency holds by construction,
//! and `C_j = Σ_k L_k(r_j) · Com(s_j(k))` ([`lagrange_weights`]), kept as scalars over the
//! commitments. At the end the prover commits to each committed factor's `P_f(r)` and to the product
//! of each pair of committed factors that a term multiplies, proves each product ([`ProductProof`]),
//! and proves that `C_n − w(r) · Σ_t c_t Π_f P_f(r)` — linear in those commitments — is a commitment
//! to zero ([`ZeroProof`]); the verifier checks that in one multi-scalar multiplication. A term with
//! three committed factors has no hidden form (none of zkdl's relations has one). The transcript
//! absorbs the commitments in place of the values (the header under `sumcheck-zk`).

use ark_ec::CurveGroup;
use ark_ff::{Field, One, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;

use crate::crypto::claim::{Claim, TensorId};
use crate::crypto::device::{self, RoundShape};
use crate::crypto::tensor::{self, eq_eval, eq_table, log2_exact, PARALLEL_MIN};
use crate::crypto::zk::{
    commit_scalar, scalar_generators, verify_zero_combination, Blinder, Mode, ProductProof, ProverEqualities, Secret,
    Sent, Value, ZeroProof,
};
use crate::error::VerificationError;
use crate::{Fr, G1Affine, G1Projective, Transcript};

/// A tensor that both prover and verifier know; the verifier evaluates it at the final point itself.
///
/// Besides plain tables, public tensors have structured forms whose multilinear extensions the
/// verifier evaluates in time logarithmic in their size: `eq`, prefix indicators `[x < c]`, tensor
/// (Kronecker) products over consecutive variable blocks, and linear combinations. Claim weights,
/// padding masks and the plane coefficients of bit recomposition are all built from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicTensor {
    /// `eq(u, x)`.
    Eq(Vec<Fr>),
    /// `Σ_k c_k · eq(u_k, x)`: the weight of merged claims.
    EqCombination(Vec<(Fr, Vec<Fr>)>),
    /// Arbitrary public entries; the verifier evaluates them in time linear in their number.
    Dense(Vec<Fr>),
    /// `[x < count]` over `num_vars` variables (`x` read most significant variable first).
    Prefix {
        /// The number of variables.
        num_vars: usize,
        /// The number of leading entries equal to one.
        count: u64,
    },
    /// `Π_k T_k(x_k)`: the tensor product, `x` split into consecutive blocks, the first factor
    /// over the leading variables.
    Kron(Vec<PublicTensor>),
    /// `Σ_k c_k · T_k(x)`.
    Sum(Vec<(Fr, PublicTensor)>),
}

impl PublicTensor {
    /// The entries over the hypercube of `num_vars` variables (the prover's table).
    pub fn table(&self, num_vars: usize) -> Vec<Fr> {
        match self {
            Self::Eq(point) => eq_table(point),
            Self::EqCombination(parts) => {
                let mut table = vec![Fr::zero(); 1 << num_vars];
                for (coefficient, point) in parts {
                    let eq = eq_table(point);
                    table.par_iter_mut().zip(eq.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(t, e)| {
                        *t += *coefficient * e;
                    });
                }
                table
            }
            Self::Dense(values) => values.clone(),
            Self::Prefix { num_vars, count } => {
                let len = 1usize << num_vars;
                let ones = (*count).min(len as u64) as usize;
                let mut table = vec![Fr::one(); ones];
                table.resize(len, Fr::zero());
                table
            }
            Self::Kron(_) | Self::Sum(_) => {
                let mut table = vec![Fr::zero(); 1 << num_vars];
                self.accumulate(Fr::one(), &mut table);
                table
            }
        }
    }

    /// Entries `start … start + out.len()` of the table over `num_vars` variables (`out.len()` a power
    /// of two dividing `start`): the prover's block of the tensor, built without its whole table. The
    /// block's leading `k` variables are fixed to the bits of `start / out.len()`, so an `eq` is its
    /// weight there times the `eq` table of the rest, a Kronecker product the product of its factors'
    /// entries there times the blocks of the factors it cuts through and after.
    pub fn fill_block(&self, num_vars: usize, start: usize, out: &mut [Fr]) {
        let m = log2_exact(out.len());
        assert!(
            m <= num_vars && start % out.len() == 0,
            "a block of 2^{m} entries at {start} over {num_vars} variables"
        );
        let k = num_vars - m;
        let block = start >> m;
        match self {
            Self::Eq(u) => {
                let scale = eq_at_bits(&u[..k], block);
                let rest = eq_table(&u[k..]);
                out.par_iter_mut().zip(rest.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(o, e)| *o = scale * e);
            }
            Self::EqCombination(parts) => {
                out.iter_mut().for_each(|o| *o = Fr::zero());
                for (coefficient, u) in parts {
                    let scale = *coefficient * eq_at_bits(&u[..k], block);
                    let rest = eq_table(&u[k..]);
                    out.par_iter_mut()
                        .zip(rest.par_iter())
                        .with_min_len(PARALLEL_MIN)
                        .for_each(|(o, e)| *o += scale * e);
                }
            }
            Self::Dense(values) => out.copy_from_slice(&values[start..start + out.len()]),
            Self::Prefix { count, .. } => {
                out.par_iter_mut().enumerate().with_min_len(PARALLEL_MIN).for_each(|(i, o)| {
                    *o = if ((start + i) as u64) < *count { Fr::one() } else { Fr::zero() };
                });
            }
            Self::Kron(factors) => match factors.split_first() {
                None => out[0] = Fr::one(),
                Some((first, rest)) => {
                    let n1 = first.num_vars().expect("a well-formed factor");
                    let rest = Self::Kron(rest.to_vec());
                    let inner = num_vars - n1;
                    if k >= n1 {
                        // The first factor lies in the fixed variables: one entry of it.
                        let mut entry = [Fr::zero()];
                        first.fill_block(n1, block >> (k - n1), &mut entry);
                        if entry[0].is_zero() {
                            out.iter_mut().for_each(|o| *o = Fr::zero());
                        } else {
                            rest.fill_block(inner, start & ((1usize << inner) - 1), out);
                            out.par_iter_mut().with_min_len(PARALLEL_MIN).for_each(|o| *o *= entry[0]);
                        }
                    } else {
                        // The block cuts through the first factor: its block times the rest's table.
                        let mut head = vec![Fr::zero(); 1 << (n1 - k)];
                        first.fill_block(n1, block << (n1 - k), &mut head);
                        let tail = rest.table(inner);
                        out.par_chunks_mut(tail.len()).zip(head.par_iter()).for_each(|(chunk, a)| {
                            chunk.iter_mut().zip(&tail).for_each(|(o, t)| *o = *a * t);
                        });
                    }
                }
            },
            Self::Sum(parts) => {
                out.iter_mut().for_each(|o| *o = Fr::zero());
                let mut part_block = vec![Fr::zero(); out.len()];
                for (coefficient, part) in parts {
                    part.fill_block(num_vars, start, &mut part_block);
                    out.par_iter_mut().zip(part_block.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(o, v)| {
                        *o += *coefficient * v;
                    });
                }
            }
        }
    }

    /// `out += c · table`, touching only the blocks where a Kronecker factor is nonzero: a claim routed
    /// into one chunk of b costs the chunk's size, not b's.
    fn accumulate(&self, c: Fr, out: &mut [Fr]) {
        match self {
            Self::Kron(factors) => {
                let tables: Vec<Vec<Fr>> = factors.iter().map(|f| f.table(f.num_vars().unwrap_or(0))).collect();
                accumulate_kron(&tables, c, out);
            }
            Self::Sum(parts) => {
                for (coefficient, part) in parts {
                    part.accumulate(c * coefficient, out);
                }
            }
            other => {
                let table = other.table(log2_exact(out.len()));
                out.par_iter_mut().zip(table.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(o, t)| *o += c * t);
            }
        }
    }

    /// The number of variables, or `None` if malformed (parts of different lengths, a table whose
    /// length is not a power of two).
    pub fn num_vars(&self) -> Option<usize> {
        match self {
            Self::Eq(point) => Some(point.len()),
            Self::EqCombination(parts) => {
                let n = parts.first().map_or(0, |(_, p)| p.len());
                parts.iter().all(|(_, p)| p.len() == n).then_some(n)
            }
            Self::Dense(values) => values.len().is_power_of_two().then(|| values.len().trailing_zeros() as usize),
            Self::Prefix { num_vars, .. } => (*num_vars < 64).then_some(*num_vars),
            Self::Kron(factors) => factors.iter().map(Self::num_vars).sum(),
            Self::Sum(parts) => {
                let n = parts.first().map_or(Some(0), |(_, p)| p.num_vars())?;
                parts.iter().all(|(_, p)| p.num_vars() == Some(n)).then_some(n)
            }
        }
    }

    /// The multilinear extension at `point`.
    ///
    /// # Panics
    /// If the tensor is malformed or `point` does not have its number of variables.
    pub fn evaluate(&self, point: &[Fr]) -> Fr {
        match self {
            Self::Eq(u) => eq_eval(u, point),
            Self::EqCombination(parts) => parts.iter().map(|(c, u)| *c * eq_eval(u, point)).sum(),
            Self::Dense(values) => tensor::evaluate(values, point),
            Self::Prefix { num_vars, count } => {
                assert_eq!(point.len(), *num_vars, "a prefix indicator over {num_vars} variables");
                prefix_indicator(point, *count)
            }
            Self::Kron(factors) => {
                let mut rest = point;
                let mut product = Fr::one();
                for factor in factors {
                    let n = factor.num_vars().expect("a well-formed factor");
                    let (head, tail) = rest.split_at(n);
                    product *= factor.evaluate(head);
                    rest = tail;
                }
                assert!(rest.is_empty(), "a Kronecker product evaluated at a point with extra coordinates");
                product
            }
            Self::Sum(parts) => parts.iter().map(|(c, p)| *c * p.evaluate(point)).sum(),
        }
    }
}

/// `out += c · (T_0 ⊗ T_1 ⊗ …)`, recursing only into blocks where the leading table is nonzero.
fn accumulate_kron(tables: &[Vec<Fr>], c: Fr, out: &mut [Fr]) {
    match tables {
        [] => out[0] += c,
        [last] => {
            out.par_iter_mut().zip(last.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(o, t)| *o += c * t);
        }
        [first, rest @ ..] => {
            let block = out.len() / first.len();
            out.par_chunks_mut(block).zip(first.par_iter()).for_each(|(chunk, a)| {
                if !a.is_zero() {
                    accumulate_kron(rest, c * a, chunk);
                }
            });
        }
    }
}

/// `eq(u, bits(index))`, `index` read over `u.len()` bits, most significant first.
fn eq_at_bits(u: &[Fr], index: usize) -> Fr {
    let k = u.len();
    u.iter().enumerate().fold(Fr::one(), |acc, (i, ui)| {
        if (index >> (k - 1 - i)) & 1 == 1 {
            acc * ui
        } else {
            acc * (Fr::one() - ui)
        }
    })
}

/// The multilinear extension of `[x < count]` at `z` (most significant variable first), in `O(n)`:
/// the leading variable splits the cube into halves; a half entirely below `count` contributes its
/// eq weight `1 − z_0` (or `z_0`) times one, the half containing the boundary recurses.
pub fn prefix_indicator(z: &[Fr], count: u64) -> Fr {
    let Some((first, rest)) = z.split_first() else {
        return if count >= 1 { Fr::one() } else { Fr::zero() };
    };
    let half = 1u64.checked_shl(rest.len() as u32).unwrap_or(u64::MAX);
    if count >= half.saturating_mul(2) && rest.len() < 63 {
        Fr::one()
    } else if count >= half {
        (Fr::one() - first) + *first * prefix_indicator(rest, count - half)
    } else {
        (Fr::one() - first) * prefix_indicator(rest, count)
    }
}

/// A product of committed factors' values at the final point.
enum Monomial {
    /// No committed factor.
    One,
    /// One committed factor.
    Factor(usize),
    /// The `k`-th pair of [`SumcheckStatement::committed_pairs`].
    Pair(usize),
}

/// One factor of the summand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Factor {
    /// A committed (witness) tensor: its final evaluation is sent and becomes a claim on it.
    Committed(TensorId),
    /// A public tensor.
    Public(PublicTensor),
}

/// `c · Π_{f ∈ factors} P_f(x)`; `factors` indexes [`SumcheckStatement::factors`], repeats allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductTerm {
    /// The public coefficient `c`.
    pub coefficient: Fr,
    /// The factors multiplied (one to three in the relations of zkdl).
    pub factors: Vec<usize>,
}

impl ProductTerm {
    /// A term with coefficient `c`.
    pub fn new(coefficient: Fr, factors: impl Into<Vec<usize>>) -> Self {
        Self { coefficient, factors: factors.into() }
    }
}

/// The public description of a sumcheck: what is summed, over how many variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumcheckStatement {
    /// The relation proven, for the transcript and for errors (e.g. `"M1 forward matmul"`).
    pub relation: String,
    /// The number of summed variables `n`.
    pub num_vars: usize,
    /// `Some(ρ)` for the weight `eq(ρ, x)`, `None` for weight 1.
    pub eq_weight: Option<Vec<Fr>>,
    /// The factors, committed or public.
    pub factors: Vec<Factor>,
    /// The terms of the summand.
    pub terms: Vec<ProductTerm>,
}

impl SumcheckStatement {
    /// The summand as the round kernels read it.
    pub fn round_shape(&self) -> RoundShape {
        RoundShape::new(self.factors.len(), self.degree(), self.terms.iter().map(|t| (t.coefficient, &t.factors[..])))
    }

    /// The degree `D` of each round polynomial.
    pub fn degree(&self) -> usize {
        self.terms.iter().map(|t| t.factors.len()).max().unwrap_or(0) + usize::from(self.eq_weight.is_some())
    }

    fn committed_factors(&self) -> impl Iterator<Item = (usize, TensorId)> + '_ {
        self.factors.iter().enumerate().filter_map(|(i, f)| match f {
            Factor::Committed(id) => Some((i, *id)),
            Factor::Public(_) => None,
        })
    }

    /// Checks that the statement is well formed: terms index existing factors, public tensors and
    /// the eq point have `num_vars` variables, and at least one term has a factor.
    fn check(&self) -> Result<(), VerificationError> {
        let malformed = |what: String| VerificationError::Malformed { relation: self.relation.clone(), what };
        if self.terms.is_empty() || self.terms.iter().any(|t| t.factors.is_empty()) {
            return Err(malformed("every term needs at least one factor".into()));
        }
        if let Some(bad) = self.terms.iter().flat_map(|t| &t.factors).find(|&&f| f >= self.factors.len()) {
            return Err(malformed(format!("a term names factor {bad} of {}", self.factors.len())));
        }
        if self.eq_weight.as_ref().is_some_and(|rho| rho.len() != self.num_vars) {
            return Err(malformed(format!("the eq weight point does not have {} coordinates", self.num_vars)));
        }
        for (i, factor) in self.factors.iter().enumerate() {
            if let Factor::Public(public) = factor {
                if public.num_vars() != Some(self.num_vars) {
                    return Err(malformed(format!("public factor {i} is not over {} variables", self.num_vars)));
                }
            }
        }
        Ok(())
    }

    /// `Σ_t c_t Π_f values[f]`: the summand at one point, given every factor's value there.
    fn combine(&self, values: &[Fr]) -> Fr {
        self.terms.iter().map(|t| t.coefficient * t.factors.iter().map(|&f| values[f]).product::<Fr>()).sum()
    }

    /// The header of a zero-knowledge sumcheck: the claimed sum as sent (a commitment or a public value).
    fn absorb_hidden_header<V: Value>(&self, transcript: &mut Transcript, claimed: &V) {
        transcript.append_message(b"sumcheck-zk", self.relation.as_bytes());
        transcript.append_u64(b"num-vars", self.num_vars as u64);
        claimed.absorb(transcript, b"claimed-sum");
    }

    /// The distinct pairs `f ≤ g` of committed factors multiplied in some term, in order of first
    /// appearance: a zero-knowledge sumcheck commits to each product and proves it.
    fn committed_pairs(&self) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        for term in &self.terms {
            if let [f, g] = self.committed_in(term)[..] {
                let pair = (f.min(g), f.max(g));
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
        pairs
    }

    fn committed_in(&self, term: &ProductTerm) -> Vec<usize> {
        term.factors.iter().copied().filter(|&f| matches!(self.factors[f], Factor::Committed(_))).collect()
    }

    /// The summand at the final point as `Σ (monomial, coefficient)`: each term's coefficient times
    /// its public factors' values `public[f]`, on the product of its committed factors.
    fn monomials(&self, public: &[Fr], pairs: &[(usize, usize)]) -> Vec<(Monomial, Fr)> {
        self.terms
            .iter()
            .map(|term| {
                let coefficient = term
                    .factors
                    .iter()
                    .filter(|&&f| matches!(self.factors[f], Factor::Public(_)))
                    .fold(term.coefficient, |c, &f| c * public[f]);
                let monomial = match self.committed_in(term)[..] {
                    [] => Monomial::One,
                    [f] => Monomial::Factor(f),
                    [f, g] => {
                        Monomial::Pair(pairs.iter().position(|&p| p == (f.min(g), f.max(g))).expect("a listed pair"))
                    }
                    _ => panic!("{}: three committed factors in one term", self.relation),
                };
                (monomial, coefficient)
            })
            .collect()
    }

    /// `Σ_t c_t Π_f P_f(r)` over sent values: `public[f]` for public factors, `sent[f]` for committed
    /// ones, `products[k]` for the `k`-th pair of [`committed_pairs`](Self::committed_pairs).
    fn hidden_summand<V: Value>(&self, public: &[Fr], sent: &[V], pairs: &[(usize, usize)], products: &[V]) -> V {
        self.monomials(public, pairs)
            .into_iter()
            .map(|(monomial, c)| {
                let value = match monomial {
                    Monomial::One => V::constant(Fr::one()),
                    Monomial::Factor(f) => sent[f],
                    Monomial::Pair(k) => products[k],
                };
                value * c
            })
            .sum()
    }

    fn absorb_header(&self, transcript: &mut Transcript, claimed_sum: &Fr) {
        transcript.append_message(b"sumcheck", self.relation.as_bytes());
        transcript.append_u64(b"num-vars", self.num_vars as u64);
        transcript.append_field(b"claimed-sum", claimed_sum);
    }
}

/// The prover's messages: per round `s_j(0), s_j(2), …, s_j(D)`, then the committed factors'
/// evaluations at the final point, in the order of [`SumcheckStatement::factors`] — in the clear,
/// or, for a zero-knowledge proof, as commitments in `hidden` (and then `rounds` and
/// `final_evaluations` are empty).
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct SumcheckProof {
    /// The round polynomials, each without its value at 1.
    pub rounds: Vec<Vec<Fr>>,
    /// `P_f(r)` for every committed factor `f`.
    pub final_evaluations: Vec<Fr>,
    /// The zero-knowledge form of the messages.
    pub hidden: Option<HiddenSumcheck>,
}

/// A zero-knowledge sumcheck's messages (module docs, "Zero-knowledge").
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct HiddenSumcheck {
    /// Per round, commitments to `s_j(0), s_j(2), …, s_j(D)`.
    pub rounds: Vec<Vec<G1Affine>>,
    /// Commitments to `P_f(r)` for every committed factor `f`.
    pub final_evaluations: Vec<G1Affine>,
    /// Commitments to the products `P_f(r) · P_g(r)` of the terms with two committed factors, one per
    /// distinct pair `f ≤ g` in order of first appearance.
    pub products: Vec<G1Affine>,
    /// One proof of product per entry of `products`.
    pub product_proofs: Vec<ProductProof>,
    /// The proof that the last round's claim equals `w(r) · Σ_t c_t Π_f P_f(r)`.
    pub final_check: ZeroProof,
}

/// What the prover holds after a sumcheck.
#[derive(Clone, Debug)]
pub struct SumcheckProverOutput {
    /// The proof.
    pub proof: SumcheckProof,
    /// The sum that was proven (`σ`).
    pub claimed_sum: Fr,
    /// The final point `r`.
    pub point: Vec<Fr>,
    /// The claims `P_f(r) = y_f` on the committed factors, for merging and opening.
    pub claims: Vec<Claim>,
    /// The values `y_f` as sent: with their blinds in a zero-knowledge sumcheck.
    pub evaluations: Vec<Secret>,
}

/// Proves `statement`. `witness` holds the entries of each committed factor, in the order the
/// committed factors appear in `statement.factors`.
///
/// # Panics
/// If the statement is malformed or a witness tensor does not have `2^n` entries (a programming
/// error of the caller, not something input can cause).
pub fn prove(
    statement: &SumcheckStatement,
    witness: Vec<Vec<Fr>>,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    prove_with_public_tables(statement, witness, Vec::new(), transcript)
}

/// As [`prove`], with the tables of some public factors given (`public_tables[f]` for factor `f`)
/// when the prover can fill them faster than [`PublicTensor::table`].
///
/// # Panics
/// As [`prove`], and if a given table does not have `2^n` entries.
pub fn prove_with_public_tables(
    statement: &SumcheckStatement,
    witness: Vec<Vec<Fr>>,
    public_tables: Vec<Option<Vec<Fr>>>,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    prove_from(statement, SumcheckProverState::new(statement), witness, public_tables, transcript)
}

/// As [`prove_with_public_tables`], from a fresh `state` (clear or hidden).
///
/// # Panics
/// As [`prove_with_public_tables`], and if `state` has sent rounds.
pub fn prove_from(
    statement: &SumcheckStatement,
    state: SumcheckProverState,
    witness: Vec<Vec<Fr>>,
    mut public_tables: Vec<Option<Vec<Fr>>>,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    assert!(state.point.is_empty(), "{}: a fresh prover state", statement.relation);
    let n = statement.num_vars;
    let mut witness = witness.into_iter();
    let tables: Vec<Vec<Fr>> = statement
        .factors
        .iter()
        .enumerate()
        .map(|(f, factor)| match factor {
            Factor::Committed(id) => {
                let table = witness.next().unwrap_or_else(|| panic!("no witness for committed tensor {id}"));
                assert_eq!(table.len(), 1 << n, "{}: tensor {id} needs 2^{n} entries", statement.relation);
                table
            }
            Factor::Public(public) => match public_tables.get_mut(f).and_then(Option::take) {
                Some(table) => {
                    assert_eq!(table.len(), 1 << n, "{}: public factor {f} needs 2^{n} entries", statement.relation);
                    table
                }
                None => public.table(n),
            },
        })
        .collect();
    assert!(witness.next().is_none(), "{}: more witness tensors than committed factors", statement.relation);

    let rho = statement.eq_weight.as_deref();
    // E_1 = eq(ρ_{>1}, ·) over the variables after the first.
    let eq_rest = rho.map(|rho| if n == 0 { vec![Fr::one()] } else { device::current().eq_table(&rho[1..]) });
    prove_remaining_rounds(statement, state, tables, eq_rest, transcript)
}

/// The chunks, `2^20` entries, in which [`prove_blocks_from`] computes its rounds on blocks: per
/// factor two chunks (32 MiB) at a time, whatever the block size.
const ROUND_CHUNK_VARS: usize = 20;

/// A factor table the prover reads a block at a time instead of holding it: a stacked tensor of
/// every step, built block by block from the witness's integers.
pub trait Blocks: Sync {
    /// Writes entries `start … start + out.len()` into `out`.
    fn fill(&self, start: usize, out: &mut [Fr]);
}

impl Blocks for Vec<Fr> {
    fn fill(&self, start: usize, out: &mut [Fr]) {
        out.copy_from_slice(&self[start..start + out.len()]);
    }
}

/// A public factor as [`Blocks`].
pub(crate) struct PublicBlocks<'a> {
    pub(crate) tensor: &'a PublicTensor,
    pub(crate) num_vars: usize,
}

impl Blocks for PublicBlocks<'_> {
    fn fill(&self, start: usize, out: &mut [Fr]) {
        self.tensor.fill_block(self.num_vars, start, out);
    }
}

/// As [`prove_from`], reading each committed factor (in the order of the statement's committed
/// factors) and each public one as blocks of `2^m` entries, `m = min(block_vars, n)`: the prover holds
/// a few blocks per factor, never a whole table, and its messages are [`prove_from`]'s, bit for bit.
///
/// With `k = n − m`, the leading `k` variables number the blocks. Round `j ≤ k` needs, for each
/// assignment `h` of the block variables after `j` and each `c ∈ {0, 1}`, the tables
/// `P(r_<j, c, h, ·) = Σ_p eq(r_<j, p) · P(p, c, h, ·)` (block `(p, c, h)`): it builds those two per
/// factor, adds `eq(ρ_{j+1..k}, h) · q_h(X)` (with [`round_values`] under `eq(ρ_{>k}, ·)`) into `q_j`, and
/// drops them. After round `k` each factor's table `P(r_≤k, ·) = Σ_b eq(r_≤k, b) · P(b, ·)` has `2^m`
/// entries, and [`prove_remaining_rounds`] takes over. Bound tables are built by folding blocks
/// pairwise, as the round loop folds. Round `j ≤ k` reads every block once, so the price of the
/// bounded memory is `k + 1` passes over the factors instead of one, and about `k` folds of the whole
/// tables instead of one: callers pick `k` small (`proof::STREAM_BLOCK_VARS`).
///
/// # Panics
/// As [`prove_from`].
pub fn prove_blocks_from(
    statement: &SumcheckStatement,
    state: SumcheckProverState,
    committed: Vec<&dyn Blocks>,
    block_vars: usize,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    prove_blocks_in_chunks(statement, state, committed, block_vars, ROUND_CHUNK_VARS, transcript)
}

/// [`prove_blocks_from`] with rounds on blocks computed in chunks of `2^chunk_vars` entries.
fn prove_blocks_in_chunks(
    statement: &SumcheckStatement,
    mut state: SumcheckProverState,
    committed: Vec<&dyn Blocks>,
    block_vars: usize,
    chunk_vars: usize,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    assert!(state.point.is_empty(), "{}: a fresh prover state", statement.relation);
    let n = statement.num_vars;
    let (m, k) = (block_vars.min(n), n - block_vars.min(n));
    let mut committed = committed.into_iter();
    let publics: Vec<Option<PublicBlocks>> = statement
        .factors
        .iter()
        .map(|factor| match factor {
            Factor::Public(tensor) => Some(PublicBlocks { tensor, num_vars: n }),
            Factor::Committed(_) => None,
        })
        .collect();
    let factors: Vec<&dyn Blocks> = statement
        .factors
        .iter()
        .zip(&publics)
        .map(|(factor, public)| match (factor, public) {
            (_, Some(public)) => public as &dyn Blocks,
            (Factor::Committed(id), None) => committed
                .next()
                .unwrap_or_else(|| panic!("{}: no blocks for committed tensor {id}", statement.relation)),
            (Factor::Public(_), None) => unreachable!("every public factor has blocks"),
        })
        .collect();
    assert!(committed.next().is_none(), "{}: more witness tensors than committed factors", statement.relation);
    let len = 1usize << m;
    let rho = statement.eq_weight.as_deref();
    let degree = statement.degree();
    // Entries `offset …` of `P(point, ·) = Σ_p eq(point, p) · P(block index(p), ·)` into `out`, folding
    // the blocks pairwise (`A + r·(B − A)`, one multiplication per entry and fold).
    fn bind_blocks(
        factor: &dyn Blocks,
        m: usize,
        point: &[Fr],
        index: &dyn Fn(usize) -> usize,
        (base, offset): (usize, usize),
        out: &mut [Fr],
    ) {
        let Some((r, rest)) = point.split_first() else {
            return factor.fill((index(base) << m) + offset, out);
        };
        bind_blocks(factor, m, rest, index, (base, offset), out);
        let mut high = vec![Fr::zero(); out.len()];
        bind_blocks(factor, m, rest, index, (base | (1 << rest.len()), offset), &mut high);
        out.par_iter_mut().zip(high.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(o, h)| *o += *r * (*h - *o));
    }
    // Rounds on blocks work on chunks of `2^s` entries of each block.
    let s = m.min(chunk_vars);
    let chunk = 1usize << s;
    let eq_low = rho.map(|rho| eq_table(&rho[k..]));
    let shape = statement.round_shape();
    let backend = device::current();
    for j in 1..=k {
        let prefix = state.point().to_vec();
        let suffix = k - j;
        let eq_h = rho.map(|rho| eq_table(&rho[j..k]));
        let mut q = vec![Fr::zero(); degree + 1];
        for h in 0..1usize << suffix {
            let scale = eq_h.as_ref().map_or(Fr::one(), |e| e[h]);
            for offset in (0..len).step_by(chunk) {
                let tables: Vec<Vec<Fr>> = factors
                    .iter()
                    .map(|factor| {
                        let mut table = vec![Fr::zero(); 2 * chunk];
                        for (c, half) in table.chunks_exact_mut(chunk).enumerate() {
                            let index = |p: usize| (p << (suffix + 1)) | (c << suffix) | h;
                            bind_blocks(*factor, m, &prefix, &index, (0, offset), half);
                        }
                        table
                    })
                    .collect();
                let eq_chunk = eq_low.as_deref().map(|e| &e[offset..offset + chunk]);
                let q_h = backend.round_values_once(&shape, &tables, eq_chunk, j == 1);
                q.iter_mut().zip(&q_h).for_each(|(a, b)| *a += scale * b);
            }
        }
        state.send_round(statement, &q, transcript);
    }
    drop(eq_low);
    let point = state.point().to_vec();
    let tables: Vec<Vec<Fr>> = factors
        .iter()
        .map(|factor| {
            let mut table = vec![Fr::zero(); len];
            for (c, part) in table.chunks_mut(chunk).enumerate() {
                bind_blocks(*factor, m, &point, &|b| b, (0, c * chunk), part);
            }
            table
        })
        .collect();
    let eq_rest = rho.map(|rho| if m == 0 { vec![Fr::one()] } else { eq_table(&rho[k + 1..]) });
    prove_remaining_rounds(statement, state, tables, eq_rest, transcript)
}

/// The prover's state between rounds, without the tables: the rounds sent so far, the challenges
/// `r_1 … r_j` drawn after them, `α = Π_{k ≤ j} eq(ρ_k, r_k)` and the claimed sum (fixed by round 1).
///
/// A prover that computes its first round polynomials in its own way (the bit-aware prover of the
/// binary relation, which reads b as packed bits) sends them through [`Self::send_round`] and then
/// hands the tables, bound at the challenges so far, to [`prove_remaining_rounds`]: the transcript,
/// messages and claims are those of [`prove_with_public_tables`], bit for bit.
pub struct SumcheckProverState<'b> {
    rounds: Vec<Vec<Fr>>,
    point: Vec<Fr>,
    alpha: Fr,
    claimed_sum: Option<Fr>,
    hidden: Option<HiddenState<'b>>,
}

/// The zero-knowledge prover's extra state: its blinds, the running claim as committed, the
/// round commitments sent.
struct HiddenState<'b> {
    blinder: &'b mut Blinder,
    claim: Secret,
    rounds: Vec<Vec<G1Affine>>,
}

impl<'b> SumcheckProverState<'b> {
    /// The state before round 1, messages in the clear.
    ///
    /// # Panics
    /// If the statement is malformed (a programming error of the caller).
    pub fn new(statement: &SumcheckStatement) -> Self {
        if let Err(e) = statement.check() {
            panic!("{e}");
        }
        let n = statement.num_vars;
        Self {
            rounds: Vec::with_capacity(n),
            point: Vec::with_capacity(n),
            alpha: Fr::one(),
            claimed_sum: None,
            hidden: None,
        }
    }

    /// The state before round 1 of a zero-knowledge sumcheck of the sum `claimed`, which the
    /// verifier holds as sent (a commitment or a public value).
    pub fn hidden(statement: &SumcheckStatement, claimed: Secret, blinder: &'b mut Blinder) -> Self {
        let mut state = Self::new(statement);
        state.hidden = Some(HiddenState { blinder, claim: claimed, rounds: Vec::with_capacity(statement.num_vars) });
        state
    }

    /// A state for `mode`: clear, or hidden with `blinder` (which `ZeroKnowledge` requires).
    pub fn for_mode(statement: &SumcheckStatement, claimed: Secret, blinder: Option<&'b mut Blinder>) -> Self {
        match blinder {
            Some(blinder) => Self::hidden(statement, claimed, blinder),
            None => Self::new(statement),
        }
    }

    /// Absorbs the sumcheck's header: the claimed sum `sum` in the clear, or, hidden, the claim as
    /// the verifier holds it.
    fn absorb_header(&self, statement: &SumcheckStatement, transcript: &mut Transcript, sum: &Fr) {
        match &self.hidden {
            Some(hidden) => statement.absorb_hidden_header(transcript, &hidden.claim),
            None => statement.absorb_header(transcript, sum),
        }
    }

    /// The challenges `r_1 … r_j` of the rounds sent so far.
    pub fn point(&self) -> &[Fr] {
        &self.point
    }

    /// Sends round `j + 1` given `q_{j+1}(t)` for `t = 0 … D`: the round polynomial is
    /// `s_{j+1}(t) = α · eq(ρ_{j+1}, t) · q_{j+1}(t)` with an eq weight (Gruen's factoring, module
    /// docs), `q_{j+1}(t)` itself without. Round 1 also fixes and absorbs the claimed sum
    /// `s_1(0) + s_1(1)`; later rounds send `s(0), s(2), …, s(D)` only and ignore `q(1)`. Returns the
    /// challenge `r_{j+1}`.
    ///
    /// # Panics
    /// If every round has been sent, or `q` does not hold `D + 1` values.
    pub fn send_round(&mut self, statement: &SumcheckStatement, q: &[Fr], transcript: &mut Transcript) -> Fr {
        let j = self.point.len();
        let degree = statement.degree();
        assert!(j < statement.num_vars, "{}: round {} of {}", statement.relation, j + 1, statement.num_vars);
        assert_eq!(q.len(), degree + 1, "{}: a degree-{degree} round needs {} values", statement.relation, degree + 1);
        let rho = statement.eq_weight.as_deref();
        let s: Vec<Fr> = match rho {
            Some(rho) => (0..=degree).map(|t| self.alpha * eq_linear(rho[j], t) * q[t]).collect(),
            None => q.to_vec(),
        };
        if j == 0 {
            let sum = s[0] + s[1];
            self.absorb_header(statement, transcript, &sum);
            self.claimed_sum = Some(sum);
        }
        let message: Vec<Fr> = std::iter::once(s[0]).chain(s[2..].iter().copied()).collect();
        let r = match self.hidden.as_mut() {
            None => {
                transcript.append_fields(b"round", &message);
                let r = transcript.challenge_field(b"challenge");
                self.rounds.push(message);
                r
            }
            Some(hidden) => {
                // Commit s(0), s(2), …, s(D); s(1) is the running claim minus s(0), by homomorphism.
                let sent: Vec<Secret> = message.iter().map(|v| hidden.blinder.hide(*v)).collect();
                let points = commitments(&sent);
                transcript.append_points(b"round", &points);
                let r = transcript.challenge_field(b"challenge");
                let values: Vec<Secret> =
                    [sent[0], hidden.claim - sent[0]].into_iter().chain(sent[1..].iter().copied()).collect();
                hidden.claim = Secret::combination(&values, &lagrange_weights(values.len(), r));
                hidden.rounds.push(points);
                r
            }
        };
        self.point.push(r);
        if let Some(rho) = rho {
            self.alpha *= eq_linear_at(rho[j], r);
        }
        r
    }
}

/// The round loop of [`prove_with_public_tables`] from the state after `j = state.point().len()`
/// rounds, then the final evaluations and claims.
///
/// `tables[f]` is factor `f`'s table with its first `j` variables bound to `r_1 … r_j`
/// (`2^(n − j)` entries, in the order of [`SumcheckStatement::factors`]); with an eq weight,
/// `eq_rest` is `E_{j+1} = eq(ρ_{>j+1}, ·)` over the `n − j − 1` variables after the current one
/// (one entry `1` when `j = n`), and `None` without.
///
/// # Panics
/// If the tables or the eq table do not have those lengths.
pub fn prove_remaining_rounds(
    statement: &SumcheckStatement,
    mut state: SumcheckProverState,
    tables: Vec<Vec<Fr>>,
    eq_rest: Option<Vec<Fr>>,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    let n = statement.num_vars;
    let done = state.point.len();
    assert_eq!(tables.len(), statement.factors.len(), "{}: one table per factor", statement.relation);
    assert!(
        tables.iter().all(|t| t.len() == 1 << (n - done)),
        "{}: tables of 2^{} entries after {done} rounds",
        statement.relation,
        n - done
    );
    assert_eq!(
        eq_rest.as_ref().map(Vec::len),
        statement.eq_weight.as_ref().map(|_| 1 << (n - done).saturating_sub(1)),
        "{}: the eq table after {done} rounds",
        statement.relation
    );
    let shape = statement.round_shape();
    let mut tables = device::current().round_tables(&shape, tables, eq_rest);
    for _ in done..n {
        let q = tables.round_values(state.point.is_empty());
        let r = state.send_round(statement, &q, transcript);
        tables.bind(r);
    }

    let values: Vec<Fr> = tables.first_entries();
    let claimed_sum = state.claimed_sum.unwrap_or_else(|| {
        // No variables: the sum is the single summand (eq over zero variables is 1).
        let sum = statement.combine(&values);
        state.absorb_header(statement, transcript, &sum);
        sum
    });
    let SumcheckProverState { rounds, point, hidden, alpha, .. } = state;
    let claims: Vec<Claim> = statement
        .committed_factors()
        .map(|(i, tensor)| Claim { tensor, point: point.clone(), value: values[i] })
        .collect();
    let (proof, evaluations) = match hidden {
        None => {
            let final_evaluations: Vec<Fr> = claims.iter().map(|c| c.value).collect();
            transcript.append_fields(b"final-evaluations", &final_evaluations);
            let evaluations = final_evaluations.iter().copied().map(Secret::public).collect();
            (SumcheckProof { rounds, final_evaluations, hidden: None }, evaluations)
        }
        Some(hidden) => prove_hidden_final(statement, hidden, &values, alpha, transcript),
    };
    SumcheckProverOutput { proof, claimed_sum, point, claims, evaluations }
}

/// The end of a zero-knowledge sumcheck: commitments to the final evaluations and to the products of
/// pairs of them, the proofs of product, and the proof that the last claim is the summand at `r`.
fn prove_hidden_final(
    statement: &SumcheckStatement,
    hidden: HiddenState,
    values: &[Fr],
    weight: Fr,
    transcript: &mut Transcript,
) -> (SumcheckProof, Vec<Secret>) {
    let HiddenState { blinder, claim, rounds } = hidden;
    let mut sent: Vec<Secret> = values.iter().map(|v| Secret::public(*v)).collect();
    for (i, _) in statement.committed_factors() {
        sent[i] = blinder.hide(values[i]);
    }
    let evaluations: Vec<Secret> = statement.committed_factors().map(|(i, _)| sent[i]).collect();
    let final_evaluations = commitments(&evaluations);
    transcript.append_points(b"final-evaluations", &final_evaluations);
    let pairs = statement.committed_pairs();
    let products: Vec<Secret> = pairs.iter().map(|&(f, g)| blinder.hide(values[f] * values[g])).collect();
    let product_points = commitments(&products);
    transcript.append_points(b"products", &product_points);
    let product_proofs = pairs
        .iter()
        .zip(&products)
        .map(|(&(f, g), z)| ProductProof::prove(transcript, sent[f], sent[g], *z, blinder))
        .collect();
    let summand = statement.hidden_summand(values, &sent, &pairs, &products);
    let mut equalities = ProverEqualities::default();
    equalities.require(claim, summand * weight);
    let final_check = equalities.prove(transcript, Some(blinder)).expect("the final check is committed");
    let proof = SumcheckProof {
        rounds: Vec::new(),
        final_evaluations: Vec::new(),
        hidden: Some(HiddenSumcheck {
            rounds,
            final_evaluations,
            products: product_points,
            product_proofs,
            final_check,
        }),
    };
    (proof, evaluations)
}

fn commitments(values: &[Secret]) -> Vec<G1Affine> {
    G1Projective::normalize_batch(&values.iter().map(|v| commit_scalar(v.value, v.blind_or_zero())).collect::<Vec<_>>())
}

/// Verifies a sumcheck proof of `statement` for the sum `claimed_sum`, returning the claims on the
/// committed factors at the final point (which openings or further sumchecks must then check).
pub fn verify(
    statement: &SumcheckStatement,
    claimed_sum: Fr,
    proof: &SumcheckProof,
    transcript: &mut Transcript,
) -> Result<Vec<Claim>, VerificationError> {
    statement.check()?;
    let relation = || statement.relation.clone();
    let n = statement.num_vars;
    let degree = statement.degree();
    if proof.rounds.len() != n {
        return Err(VerificationError::Malformed {
            relation: relation(),
            what: format!("{} round polynomials for {n} variables", proof.rounds.len()),
        });
    }
    let committed = statement.committed_factors().count();
    if proof.final_evaluations.len() != committed {
        return Err(VerificationError::Malformed {
            relation: relation(),
            what: format!("{} final evaluations for {committed} committed factors", proof.final_evaluations.len()),
        });
    }
    if let Some((round, message)) = proof.rounds.iter().enumerate().find(|(_, m)| m.len() != degree) {
        return Err(VerificationError::Malformed {
            relation: relation(),
            what: format!("round {round} sends {} values for a degree-{degree} polynomial", message.len()),
        });
    }

    statement.absorb_header(transcript, &claimed_sum);
    let mut claim = claimed_sum;
    let mut point = Vec::with_capacity(n);
    for message in &proof.rounds {
        transcript.append_fields(b"round", message);
        let r = transcript.challenge_field(b"challenge");
        let mut values = Vec::with_capacity(degree + 1);
        values.push(message[0]);
        values.push(claim - message[0]);
        values.extend_from_slice(&message[1..]);
        claim = interpolate_at(&values, r);
        point.push(r);
    }
    transcript.append_fields(b"final-evaluations", &proof.final_evaluations);

    let mut sent = proof.final_evaluations.iter();
    let values: Vec<Fr> = statement
        .factors
        .iter()
        .map(|factor| match factor {
            Factor::Committed(_) => *sent.next().expect("lengths checked above"),
            Factor::Public(public) => public.evaluate(&point),
        })
        .collect();
    let weight = statement.eq_weight.as_ref().map_or(Fr::one(), |rho| eq_eval(rho, &point));
    if claim != weight * statement.combine(&values) {
        return Err(VerificationError::SumcheckFinal { relation: relation() });
    }
    Ok(statement
        .committed_factors()
        .map(|(i, tensor)| Claim { tensor, point: point.clone(), value: values[i] })
        .collect())
}

/// Verifies a sumcheck of `statement` for the sum `claimed` as sent, in the proof's `mode`: a clear
/// proof for a clear sum, or a zero-knowledge proof ([`verify_hidden`]). Returns the final point and
/// the committed factors' values there, as sent.
pub fn verify_sent(
    statement: &SumcheckStatement,
    claimed: Sent,
    proof: &SumcheckProof,
    mode: Mode,
    transcript: &mut Transcript,
) -> Result<(Vec<Fr>, Vec<Sent>), VerificationError> {
    let malformed =
        |what: &str| VerificationError::Malformed { relation: statement.relation.clone(), what: what.into() };
    match (mode, &proof.hidden, claimed) {
        (Mode::Clear, None, Sent::Clear(sum)) => {
            let claims = verify(statement, sum, proof, transcript)?;
            let point = claims.first().map(|c| c.point.clone()).unwrap_or_default();
            Ok((point, claims.into_iter().map(|c| Sent::Clear(c.value)).collect()))
        }
        (Mode::ZeroKnowledge, Some(hidden), _) if proof.rounds.is_empty() && proof.final_evaluations.is_empty() => {
            verify_hidden(statement, claimed, hidden, transcript)
        }
        (Mode::Clear, _, _) => Err(malformed("a committed message in a proof that is not zero-knowledge")),
        (Mode::ZeroKnowledge, _, _) => Err(malformed("a message in the clear in a zero-knowledge proof")),
    }
}

/// Verifies a zero-knowledge sumcheck (module docs): derives each round's claim on the commitments,
/// checks the proofs of product and the final check, and returns the final point and the
/// commitments to the committed factors' values there.
pub fn verify_hidden(
    statement: &SumcheckStatement,
    claimed: Sent,
    proof: &HiddenSumcheck,
    transcript: &mut Transcript,
) -> Result<(Vec<Fr>, Vec<Sent>), VerificationError> {
    statement.check()?;
    let relation = statement.relation.clone();
    let malformed = |what: String| VerificationError::Malformed { relation: relation.clone(), what };
    let n = statement.num_vars;
    let degree = statement.degree();
    let committed: Vec<usize> = statement.committed_factors().map(|(i, _)| i).collect();
    if statement.terms.iter().any(|t| statement.committed_in(t).len() > 2) {
        return Err(malformed("a term with three committed factors has no zero-knowledge proof".into()));
    }
    let pairs = statement.committed_pairs();
    if proof.rounds.len() != n || proof.rounds.iter().any(|r| r.len() != degree) {
        return Err(malformed(format!("the rounds are not {n} of {degree} commitments each")));
    }
    if proof.final_evaluations.len() != committed.len() {
        return Err(malformed(format!(
            "{} final evaluations for {} committed factors",
            proof.final_evaluations.len(),
            committed.len()
        )));
    }
    if proof.products.len() != pairs.len() || proof.product_proofs.len() != pairs.len() {
        return Err(malformed(format!(
            "{} products for {} pairs of committed factors",
            proof.products.len(),
            pairs.len()
        )));
    }

    statement.absorb_hidden_header(transcript, &claimed);
    // The running claim C_j as a combination of the points [Com(σ), round commitments…], kept as
    // scalars: C_j = L_0 E_0 + L_1 (C_{j−1} − E_0) + Σ_{k≥2} L_k E_k. Evaluated once, in the final
    // check's multi-scalar multiplication.
    let mut points: Vec<G1Affine> = vec![claimed.commitment().into_affine()];
    points.extend(proof.rounds.iter().flatten());
    let mut scalars = vec![Fr::zero(); points.len()];
    scalars[0] = Fr::one();
    let mut point = Vec::with_capacity(n);
    for (j, message) in proof.rounds.iter().enumerate() {
        transcript.append_points(b"round", message);
        let r = transcript.challenge_field(b"challenge");
        let l = lagrange_weights(degree + 1, r);
        let start = 1 + j * degree;
        scalars[..start].iter_mut().for_each(|s| *s *= l[1]);
        scalars[start] = l[0] - l[1];
        scalars[start + 1..start + degree].copy_from_slice(&l[2..]);
        point.push(r);
    }
    transcript.append_points(b"final-evaluations", &proof.final_evaluations);
    transcript.append_points(b"products", &proof.products);
    let mut sent = vec![Sent::Clear(Fr::zero()); statement.factors.len()];
    for (f, p) in committed.iter().zip(&proof.final_evaluations) {
        sent[*f] = Sent::Committed((*p).into());
    }
    let products: Vec<Sent> = proof.products.iter().map(|p| Sent::Committed((*p).into())).collect();
    for ((&(f, g), z), product_proof) in pairs.iter().zip(&products).zip(&proof.product_proofs) {
        if !product_proof.verify(transcript, sent[f].commitment(), sent[g].commitment(), z.commitment()) {
            return Err(VerificationError::Check {
                relation: relation.clone(),
                what: format!("the proof of product of factors {f} and {g} at the final point"),
            });
        }
    }
    let public: Vec<Fr> = statement
        .factors
        .iter()
        .map(|factor| match factor {
            Factor::Committed(_) => Fr::zero(),
            Factor::Public(public) => public.evaluate(&point),
        })
        .collect();
    let weight = statement.eq_weight.as_ref().map_or(Fr::one(), |rho| eq_eval(rho, &point));
    // The final check C_n − w(r) · Σ_t c_t M_t = 0, with the monomials' coefficients on the sent
    // evaluations, the products, and U for a constant term.
    let mut coefficients = vec![Fr::zero(); committed.len() + pairs.len() + 1];
    for (monomial, c) in statement.monomials(&public, &pairs) {
        let slot = match monomial {
            Monomial::One => committed.len() + pairs.len(),
            Monomial::Factor(f) => committed.iter().position(|&g| g == f).expect("a committed factor"),
            Monomial::Pair(k) => committed.len() + k,
        };
        coefficients[slot] -= weight * c;
    }
    points.extend(&proof.final_evaluations);
    points.extend(&proof.products);
    points.push(scalar_generators().0);
    scalars.extend(coefficients);
    if !verify_zero_combination(transcript, &proof.final_check, &points, &scalars) {
        return Err(VerificationError::SumcheckFinal { relation });
    }
    Ok((point, committed.iter().map(|&f| sent[f]).collect()))
}

/// `eq(ρ, t) = (1 − ρ)(1 − t) + ρ t` at a small integer `t`.
fn eq_linear(rho: Fr, t: usize) -> Fr {
    eq_linear_at(rho, Fr::from(t as u64))
}

fn eq_linear_at(rho: Fr, t: Fr) -> Fr {
    (Fr::one() - rho) * (Fr::one() - t) + rho * t
}

/// The value at `r` of the polynomial of degree `< values.len()` taking `values[i]` at `i`
/// (Lagrange interpolation over the nodes `0, 1, …, D`).
pub fn interpolate_at(values: &[Fr], r: Fr) -> Fr {
    lagrange_weights(values.len(), r).iter().zip(values).map(|(l, v)| *l * v).sum()
}

/// `L_i(r)` for the Lagrange basis over the nodes `0, 1, …, count − 1`: a polynomial of degree
/// `< count` with values `v_i` at `i` takes `Σ_i L_i(r) v_i` at `r` (also on commitments).
pub fn lagrange_weights(count: usize, r: Fr) -> Vec<Fr> {
    (0..count)
        .map(|i| {
            let mut numerator = Fr::one();
            let mut denominator = Fr::one();
            for j in 0..count {
                if j != i {
                    numerator *= r - Fr::from(j as u64);
                    denominator *= Fr::from(i as u64) - Fr::from(j as u64);
                }
            }
            numerator * denominator.inverse().expect("distinct nodes")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;
    use ark_std::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Every structured public tensor evaluates, in the verifier's short form, to the multilinear
    /// extension of the table the prover builds.
    #[test]
    fn structured_public_tensors_evaluate_like_their_tables() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut random = |n: usize| (0..n).map(|_| Fr::rand(&mut rng)).collect::<Vec<_>>();
        let cases = [
            PublicTensor::Prefix { num_vars: 0, count: 0 },
            PublicTensor::Prefix { num_vars: 0, count: 1 },
            PublicTensor::Prefix { num_vars: 4, count: 0 },
            PublicTensor::Prefix { num_vars: 4, count: 11 },
            PublicTensor::Prefix { num_vars: 4, count: 16 },
            PublicTensor::Prefix { num_vars: 5, count: 17 },
            PublicTensor::Kron(vec![
                PublicTensor::Eq(random(2)),
                PublicTensor::Dense(random(8)),
                PublicTensor::Prefix { num_vars: 2, count: 3 },
            ]),
            PublicTensor::Sum(vec![
                (
                    Fr::from(3u64),
                    PublicTensor::Kron(vec![
                        PublicTensor::Prefix { num_vars: 3, count: 5 },
                        PublicTensor::Eq(random(2)),
                    ]),
                ),
                (-Fr::from(2u64), PublicTensor::Dense(random(32))),
            ]),
        ];
        for case in cases.iter().chain([
            &PublicTensor::Eq(random(5)),
            &PublicTensor::EqCombination(vec![(Fr::from(5u64), random(4)), (-Fr::one(), random(4))]),
            &PublicTensor::Kron(vec![PublicTensor::Eq(random(1)), PublicTensor::Prefix { num_vars: 3, count: 6 }]),
        ]) {
            let n = case.num_vars().unwrap();
            let table = case.table(n);
            assert_eq!(table.len(), 1 << n);
            let point = random(n);
            assert_eq!(case.evaluate(&point), tensor::evaluate(&table, &point), "{case:?}");
            // Every block of every size is the slice of the table.
            for m in 0..=n {
                for (b, expected) in table.chunks(1 << m).enumerate() {
                    let mut block = vec![Fr::zero(); 1 << m];
                    case.fill_block(n, b << m, &mut block);
                    assert_eq!(block, expected, "{case:?}: block {b} of 2^{m}");
                }
            }
        }
        assert_eq!(
            PublicTensor::Prefix { num_vars: 3, count: 5 }.table(3),
            [1, 1, 1, 1, 1, 0, 0, 0].map(|v| Fr::from(v as u64)).to_vec()
        );
        // A sum of parts over different numbers of variables is malformed.
        assert_eq!(
            PublicTensor::Sum(vec![(Fr::one(), PublicTensor::Eq(random(2))), (Fr::one(), PublicTensor::Eq(random(3)))])
                .num_vars(),
            None
        );
    }

    fn random_statement(rng: &mut ChaCha20Rng, n: usize) -> (SumcheckStatement, Vec<Vec<Fr>>) {
        let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(rng)).collect();
        let statement = SumcheckStatement {
            relation: "test Hadamard".into(),
            num_vars: n,
            eq_weight: Some(rho),
            factors: vec![Factor::Committed(TensorId(0)), Factor::Committed(TensorId(1))],
            terms: vec![ProductTerm::new(Fr::one(), [0, 1])],
        };
        let tables = (0..2).map(|_| (0..1 << n).map(|_| Fr::rand(rng)).collect()).collect();
        (statement, tables)
    }

    /// The block-streaming prover sends the messages of the prover on whole tables, for every block
    /// size, with and without an eq weight, with public factors of every kind, in the clear and hidden.
    #[test]
    fn the_prover_on_blocks_sends_the_messages_of_the_prover_on_tables() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let n = 7;
        let mut random = |len: usize| (0..len).map(|_| Fr::rand(&mut rng)).collect::<Vec<Fr>>();
        let publics = [
            PublicTensor::Kron(vec![PublicTensor::Prefix { num_vars: 3, count: 5 }, PublicTensor::Eq(random(4))]),
            PublicTensor::EqCombination(vec![(Fr::from(3u64), random(n)), (Fr::from(7u64), random(n))]),
            PublicTensor::Sum(vec![
                (Fr::one(), PublicTensor::Eq(random(n))),
                (Fr::from(2u64), PublicTensor::Dense(random(1 << n))),
            ]),
        ];
        let (a, b) = (random(1 << n), random(1 << n));
        for public in publics {
            for eq_weight in [None, Some(random(n))] {
                let statement = SumcheckStatement {
                    relation: "test blocks".into(),
                    num_vars: n,
                    eq_weight,
                    factors: vec![
                        Factor::Committed(TensorId(0)),
                        Factor::Public(public.clone()),
                        Factor::Committed(TensorId(1)),
                    ],
                    terms: vec![ProductTerm::new(Fr::from(3u64), [0, 1, 2]), ProductTerm::new(-Fr::one(), [2])],
                };
                let expected = prove(&statement, vec![a.clone(), b.clone()], &mut Transcript::new(b"t"));
                for block_vars in 0..=n + 1 {
                    for chunk_vars in [0, 2, ROUND_CHUNK_VARS] {
                        let mut transcript = Transcript::new(b"t");
                        let state = SumcheckProverState::new(&statement);
                        let output = prove_blocks_in_chunks(
                            &statement,
                            state,
                            vec![&a, &b],
                            block_vars,
                            chunk_vars,
                            &mut transcript,
                        );
                        let context = format!("blocks of 2^{block_vars} in chunks of 2^{chunk_vars}, {public:?}");
                        assert_eq!(output.proof, expected.proof, "{context}");
                        assert_eq!(output.point, expected.point);
                        assert_eq!(output.claimed_sum, expected.claimed_sum);
                    }
                }
            }
        }
        // Hidden: the same commitments from the same blinding randomness.
        let (statement, tables) = random_statement(&mut ChaCha20Rng::seed_from_u64(22), n);
        let hidden = |blocks: Option<usize>| {
            let mut blinder = Blinder::new(&mut ChaCha20Rng::seed_from_u64(23));
            let claimed = statement_sum(&statement, &tables);
            let secret = blinder.hide(claimed);
            let state = SumcheckProverState::hidden(&statement, secret, &mut blinder);
            let mut transcript = Transcript::new(b"t");
            match blocks {
                None => prove_from(&statement, state, tables.clone(), Vec::new(), &mut transcript).proof,
                Some(m) => {
                    let factors: Vec<&dyn Blocks> = tables.iter().map(|t| t as &dyn Blocks).collect();
                    prove_blocks_from(&statement, state, factors, m, &mut transcript).proof
                }
            }
        };
        let expected = hidden(None);
        for m in [0, 3, 6] {
            assert_eq!(hidden(Some(m)), expected, "hidden, blocks of 2^{m}");
        }
    }

    /// `Σ_x eq(ρ, x) · Σ_t c_t Π_f P_f(x)` over the committed tables (a statement without public factors).
    fn statement_sum(statement: &SumcheckStatement, tables: &[Vec<Fr>]) -> Fr {
        let eq = statement.eq_weight.as_ref().map(|rho| eq_table(rho));
        (0..tables[0].len())
            .map(|x| {
                let values: Vec<Fr> = tables.iter().map(|t| t[x]).collect();
                eq.as_ref().map_or(Fr::one(), |e| e[x]) * statement.combine(&values)
            })
            .sum()
    }

    /// Completeness and soundness of the zero-knowledge sumcheck: honest proofs verify, and a
    /// claimed sum off by one, a changed round commitment or a changed final evaluation are rejected.
    #[test]
    fn hidden_sumchecks_verify_and_reject_tampering() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (statement, tables) = random_statement(&mut rng, 4);
        let sum: Fr = statement
            .eq_weight
            .as_ref()
            .map(|rho| eq_table(rho))
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, e)| *e * tables[0][i] * tables[1][i])
            .sum();
        let mut blinder = Blinder::new(&mut rng);
        let claimed = blinder.hide(sum);
        let state = SumcheckProverState::hidden(&statement, claimed, &mut blinder);
        let output = prove_from(&statement, state, tables, Vec::new(), &mut Transcript::new(b"t"));
        let hidden = output.proof.hidden.as_ref().unwrap();
        let verify = |claimed: Sent, proof: &HiddenSumcheck| {
            verify_hidden(&statement, claimed, proof, &mut Transcript::new(b"t")).map(|(_, values)| values)
        };
        let values = verify(claimed.sent(), hidden).unwrap();
        assert_eq!(values, output.evaluations.iter().map(Secret::sent).collect::<Vec<_>>());
        assert!(verify((claimed + Fr::one()).sent(), hidden).is_err(), "a wrong claimed sum");
        let mut changed = hidden.clone();
        changed.rounds[2][1] = (changed.rounds[2][1] + scalar_generators().0).into_affine();
        assert!(verify(claimed.sent(), &changed).is_err(), "a changed round commitment");
        let mut changed = hidden.clone();
        changed.final_evaluations[0] = (changed.final_evaluations[0] + scalar_generators().0).into_affine();
        assert!(verify(claimed.sent(), &changed).is_err(), "a changed final evaluation");
    }

    /// Honest-verifier zero-knowledge of the sumcheck: given only the statement, the commitment to
    /// the claimed sum and the verifier's challenges, a simulator produces a transcript that
    /// verifies and has the real one's form. Real round and evaluation commitments are uniformly
    /// random points (fresh blinds), as the simulator's are; the proofs of product and of the final
    /// check are the Σ-protocols' simulations, distributed as the real ones for the given challenge.
    #[test]
    fn a_simulator_without_the_witness_produces_sumchecks_that_verify() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let n = 5;
        let (statement, tables) = random_statement(&mut rng, n);
        let degree = statement.degree();
        let mut blinder = Blinder::new(&mut rng);
        let sum: Fr = eq_table(statement.eq_weight.as_ref().unwrap())
            .iter()
            .enumerate()
            .map(|(i, e)| *e * tables[0][i] * tables[1][i])
            .sum();
        let claimed = blinder.hide(sum);
        // The verifier's coins: one per round, the proof of product's, μ and the final check's.
        let challenges: Vec<Fr> = (0..n + 3).map(|_| Fr::rand(&mut rng)).collect();
        let state = SumcheckProverState::hidden(&statement, claimed, &mut blinder);
        let real = prove_from(&statement, state, tables, Vec::new(), &mut Transcript::scripted(challenges.clone()));
        let real = real.proof.hidden.unwrap();
        verify_hidden(&statement, claimed.sent(), &real, &mut Transcript::scripted(challenges.clone())).unwrap();

        let simulated = simulate(&statement, claimed.sent().commitment(), &challenges, &mut rng);
        verify_hidden(&statement, claimed.sent(), &simulated, &mut Transcript::scripted(challenges.clone())).unwrap();
        assert_eq!(simulated.rounds.len(), n);
        assert!(simulated.rounds.iter().all(|r| r.len() == degree));
        assert_eq!(simulated.compressed_size(), real.compressed_size(), "the same message kinds and sizes");
        assert_ne!(simulated, real);
        // It knows nothing of the sum: the same transcript shape verifies for a commitment to another value.
        let other = claimed + Fr::one();
        let for_other = simulate(&statement, other.sent().commitment(), &challenges, &mut rng);
        verify_hidden(&statement, other.sent(), &for_other, &mut Transcript::scripted(challenges)).unwrap();
    }

    /// The simulator of a hidden sumcheck with one product term `eq · P_0 · P_1`.
    fn simulate(
        statement: &SumcheckStatement,
        claimed: G1Projective,
        challenges: &[Fr],
        rng: &mut ChaCha20Rng,
    ) -> HiddenSumcheck {
        let (u, h) = scalar_generators();
        let mut random_point = || (u * Fr::rand(rng) + h * Fr::rand(rng)).into_affine();
        let n = statement.num_vars;
        let degree = statement.degree();
        let rounds: Vec<Vec<G1Affine>> = (0..n).map(|_| (0..degree).map(|_| random_point()).collect()).collect();
        let final_evaluations = vec![random_point(), random_point()];
        let products = vec![random_point()];
        // The verifier's running claim, derived from the commitments as it derives it.
        let mut claim = claimed;
        for (message, r) in rounds.iter().zip(challenges) {
            let first = message[0].into_group();
            let values = [first, claim - first].into_iter().chain(message[1..].iter().map(|p| p.into_group()));
            claim = lagrange_weights(degree + 1, *r).into_iter().zip(values).map(|(l, v)| v * l).sum();
        }
        let (c_product, c_zero) = (challenges[n], challenges[n + 2]);
        let x = final_evaluations[0].into_group();
        let y = final_evaluations[1].into_group();
        let z = products[0].into_group();
        let product_proofs = vec![ProductProof::simulate(x, y, z, c_product, rng)];
        let weight = eq_eval(statement.eq_weight.as_ref().unwrap(), &challenges[..n]);
        // One equality, so μ^0 = 1 weighs it.
        let final_check = ZeroProof::simulate(claim - z * weight, c_zero, rng);
        HiddenSumcheck { rounds, final_evaluations, products, product_proofs, final_check }
    }
}
