//! Zero-knowledge (`PROTOCOL.md` §8, `docs/zero-knowledge.md`): values the prover sends are
//! Pedersen commitments, and the verifier's checks on them are done homomorphically or by
//! Σ-protocols — Hyrax's construction (Wahby et al. 2018, §4; Thaler ch. 13).
//!
//! **Scalar commitments.** A hidden value `y` is sent as `Com(y; β) = y · U + β · h` with a fresh
//! uniformly random blind `β`, where `U` and `h` are the key's inner-product and blinding generators
//! ([`scalar_generators`]), derived by hashing to the curve: nobody knows `log_h U`. The commitment is
//! perfectly hiding and computationally binding. A value sent in the clear is the commitment
//! `y · U` with blind 0, so clear and hidden values combine by the same arithmetic.
//!
//! **Values.** The prover holds a [`Secret`] (the value and its blind, `None` for a value sent in the
//! clear), the verifier a [`Sent`] (the clear value or the commitment). Both support the linear
//! arithmetic of the protocol — sums, differences, multiples by public field elements, public
//! constants — and stay in step: whatever the prover computes on values and blinds, the verifier
//! computes on the commitments, `Com(a) + c · Com(b) = Com(a + c b; β_a + c β_b)`.
//!
//! **Equalities.** A check `a = b` between sent values is immediate when both are clear. Otherwise
//! the difference `D = Com(a) − Com(b)` must be a commitment to zero, `D = δ · h`. The checks of a
//! relation are collected ([`ProverEqualities`], [`VerifierEqualities`]) and proven together by a
//! [`ZeroProof`]: with `μ` from the transcript the verifier forms `D = Σ_i μ^i D_i`, and the prover
//! shows knowledge of `δ = Σ_i μ^i δ_i` with `D = δ · h` (Schnorr: `A = k · h`, `c`,
//! `z = k + c δ`, checked as `z · h = A + c · D`). If some `D_i = d_i U + δ_i h` has `d_i ≠ 0`,
//! then `Σ μ^i d_i ≠ 0` except with probability `n/|F|`, and a valid proof would give `log_h U`.
//!
//! **Products.** [`ProductProof`] shows that committed `X, Y, Z` hold `x, y, z = x · y` (Hyrax's
//! proof of product): the prover sends `α = b_1 U + b_2 h`, `β = b_3 U + b_4 h`,
//! `δ = b_3 X + b_5 h`, receives `c` and answers `z_1 = b_1 + c x`, `z_2 = b_2 + c β_x`,
//! `z_3 = b_3 + c y`, `z_4 = b_4 + c β_y`, `z_5 = b_5 + c (β_z − β_x y)`; the verifier checks
//! `α + c X = z_1 U + z_2 h`, `β + c Y = z_3 U + z_4 h` and `δ + c Z = z_3 X + z_5 h`.
//!
//! Both Σ-protocols are special honest-verifier zero-knowledge: given the challenge, their
//! transcripts can be produced without the witness ([`ZeroProof::simulate`],
//! [`ProductProof::simulate`]), with the same distribution.

use std::ops::{Add, Mul, Neg, Sub};

use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{UniformRand, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub use crate::crypto::commitment::{commit_scalar, scalar_generators};
use crate::error::VerificationError;
use crate::{Fr, G1Affine, G1Projective, Transcript};

/// Whether a proof hides the witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Every value is sent as a commitment, every check on it is proven (the default).
    ZeroKnowledge,
    /// Values are sent in the clear: smaller and faster to check, but the proof reveals linear
    /// functions of the data and weights. Only for measurement and debugging.
    Clear,
}

impl Mode {
    /// Whether values are hidden.
    pub fn is_zero_knowledge(self) -> bool {
        self == Self::ZeroKnowledge
    }

    /// A short label for reports: `zero-knowledge` or `NOT zero-knowledge`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ZeroKnowledge => "zero-knowledge",
            Self::Clear => "NOT zero-knowledge",
        }
    }
}

/// The prover's source of blinds: a ChaCha20 stream seeded once per proof from the caller's
/// cryptographic generator.
pub struct Blinder {
    rng: ChaCha20Rng,
}

impl Blinder {
    /// A blinder seeded from `rng`.
    pub fn new<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self { rng: ChaCha20Rng::from_seed(seed) }
    }

    /// A fresh uniformly random field element.
    pub fn blind(&mut self) -> Fr {
        Fr::rand(&mut self.rng)
    }

    /// `value` hidden under a fresh blind.
    pub fn hide(&mut self, value: Fr) -> Secret {
        Secret { value, blind: Some(self.blind()) }
    }
}

/// The linear arithmetic shared by the prover's [`Secret`] and the verifier's [`Sent`] values.
pub trait Value: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Fr, Output = Self> + std::iter::Sum {
    /// A public constant.
    fn constant(c: Fr) -> Self;

    /// Absorbs the value as the verifier holds it: a clear value as a field element, a hidden one
    /// as its commitment.
    fn absorb(&self, transcript: &mut Transcript, label: &'static [u8]);

    /// `Σ_i c_i · v_i`.
    fn combination(values: &[Self], coefficients: &[Fr]) -> Self {
        values.iter().zip(coefficients).map(|(v, c)| *v * *c).sum()
    }
}

impl Value for Secret {
    fn constant(c: Fr) -> Self {
        Secret::public(c)
    }

    fn absorb(&self, transcript: &mut Transcript, label: &'static [u8]) {
        self.sent().absorb(transcript, label);
    }
}

impl Value for Sent {
    fn constant(c: Fr) -> Self {
        Sent::Clear(c)
    }

    fn absorb(&self, transcript: &mut Transcript, label: &'static [u8]) {
        match self {
            Self::Clear(value) => transcript.append_field(label, value),
            Self::Committed(point) => transcript.append_point(label, &point.into_affine()),
        }
    }

    /// One multi-scalar multiplication when any value is committed (the verifier combines hundreds
    /// of claims at a time).
    fn combination(values: &[Self], coefficients: &[Fr]) -> Self {
        if values.iter().all(|v| matches!(v, Sent::Clear(_))) {
            return Sent::Clear(values.iter().zip(coefficients).map(|(v, c)| v.clear().unwrap_or_default() * c).sum());
        }
        let points = G1Projective::normalize_batch(&values.iter().map(Sent::commitment).collect::<Vec<_>>());
        Sent::Committed(G1Projective::msm_unchecked(&points, &coefficients[..points.len()]))
    }
}

/// A value as the prover knows it: the value and, if it was sent hidden, the blind of its commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secret {
    pub value: Fr,
    /// `None` for a value sent in the clear (or a public constant).
    pub blind: Option<Fr>,
}

impl Secret {
    /// A value the verifier knows.
    pub fn public(value: Fr) -> Self {
        Self { value, blind: None }
    }

    /// The blind, zero for a clear value.
    pub fn blind_or_zero(&self) -> Fr {
        self.blind.unwrap_or_default()
    }

    /// What the verifier holds for this value.
    pub fn sent(&self) -> Sent {
        match self.blind {
            None => Sent::Clear(self.value),
            Some(blind) => Sent::Committed(commit_scalar(self.value, blind)),
        }
    }
}

fn combine_blinds(a: Option<Fr>, b: Option<Fr>, f: impl Fn(Fr, Fr) -> Fr) -> Option<Fr> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(f(a.unwrap_or_default(), b.unwrap_or_default())),
    }
}

impl Add for Secret {
    type Output = Secret;
    fn add(self, other: Secret) -> Secret {
        Secret { value: self.value + other.value, blind: combine_blinds(self.blind, other.blind, |a, b| a + b) }
    }
}

impl Sub for Secret {
    type Output = Secret;
    fn sub(self, other: Secret) -> Secret {
        Secret { value: self.value - other.value, blind: combine_blinds(self.blind, other.blind, |a, b| a - b) }
    }
}

impl Neg for Secret {
    type Output = Secret;
    fn neg(self) -> Secret {
        Secret { value: -self.value, blind: self.blind.map(|b| -b) }
    }
}

impl Mul<Fr> for Secret {
    type Output = Secret;
    fn mul(self, c: Fr) -> Secret {
        Secret { value: self.value * c, blind: self.blind.map(|b| b * c) }
    }
}

impl Add<Fr> for Secret {
    type Output = Secret;
    fn add(self, c: Fr) -> Secret {
        Secret { value: self.value + c, blind: self.blind }
    }
}

impl Sub<Fr> for Secret {
    type Output = Secret;
    fn sub(self, c: Fr) -> Secret {
        Secret { value: self.value - c, blind: self.blind }
    }
}

impl std::iter::Sum for Secret {
    fn sum<I: Iterator<Item = Secret>>(iter: I) -> Secret {
        iter.fold(Secret::public(Fr::zero()), |a, b| a + b)
    }
}

/// A value as the verifier holds it: in the clear, or as a commitment `y · U + β · h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    Clear(Fr),
    Committed(G1Projective),
}

impl Sent {
    /// The commitment to the value (`y · U` for a clear value).
    pub fn commitment(&self) -> G1Projective {
        match self {
            Self::Clear(value) => commit_scalar(*value, Fr::zero()),
            Self::Committed(point) => *point,
        }
    }

    /// The value, if it was sent in the clear.
    pub fn clear(&self) -> Option<Fr> {
        match self {
            Self::Clear(value) => Some(*value),
            Self::Committed(_) => None,
        }
    }

    fn combine(
        self,
        other: Sent,
        clear: impl Fn(Fr, Fr) -> Fr,
        points: impl Fn(G1Projective, G1Projective) -> G1Projective,
    ) -> Sent {
        match (self, other) {
            (Self::Clear(a), Self::Clear(b)) => Self::Clear(clear(a, b)),
            (a, b) => Self::Committed(points(a.commitment(), b.commitment())),
        }
    }
}

impl Add for Sent {
    type Output = Sent;
    fn add(self, other: Sent) -> Sent {
        self.combine(other, |a, b| a + b, |a, b| a + b)
    }
}

impl Sub for Sent {
    type Output = Sent;
    fn sub(self, other: Sent) -> Sent {
        self.combine(other, |a, b| a - b, |a, b| a - b)
    }
}

impl Neg for Sent {
    type Output = Sent;
    fn neg(self) -> Sent {
        match self {
            Self::Clear(a) => Self::Clear(-a),
            Self::Committed(p) => Self::Committed(-p),
        }
    }
}

impl Mul<Fr> for Sent {
    type Output = Sent;
    fn mul(self, c: Fr) -> Sent {
        match self {
            Self::Clear(a) => Self::Clear(a * c),
            Self::Committed(p) => Self::Committed(p * c),
        }
    }
}

impl Add<Fr> for Sent {
    type Output = Sent;
    fn add(self, c: Fr) -> Sent {
        self + Sent::Clear(c)
    }
}

impl Sub<Fr> for Sent {
    type Output = Sent;
    fn sub(self, c: Fr) -> Sent {
        self - Sent::Clear(c)
    }
}

impl std::iter::Sum for Sent {
    fn sum<I: Iterator<Item = Sent>>(iter: I) -> Sent {
        iter.fold(Sent::Clear(Fr::zero()), |a, b| a + b)
    }
}

/// `Σ_i μ^i x_i` for `μ` drawn after absorbing the count.
fn draw_powers(transcript: &mut Transcript, count: usize) -> Vec<Fr> {
    transcript.append_u64(b"equalities", count as u64);
    let mu = transcript.challenge_field(b"equality-combination");
    std::iter::successors(Some(Fr::from(1u64)), |p| Some(*p * mu)).take(count).collect()
}

/// The proof that a combination of committed differences is a commitment to zero.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct ZeroProof {
    /// `A = k · h`.
    pub commitment: G1Affine,
    /// `z = k + c δ`.
    pub response: Fr,
}

impl ZeroProof {
    /// Proves that `D = δ · h` for the prover's `δ` (the verifier holds `D`).
    pub fn prove(transcript: &mut Transcript, blind: Fr, blinder: &mut Blinder) -> Self {
        let k = blinder.blind();
        let commitment = commit_scalar(Fr::zero(), k).into_affine();
        transcript.append_point(b"zero-commitment", &commitment);
        let c = transcript.challenge_field(b"zero-challenge");
        Self { commitment, response: k + c * blind }
    }

    /// Checks the proof for `D`.
    pub fn verify(&self, transcript: &mut Transcript, difference: G1Projective) -> bool {
        self.verify_combination(transcript, &[difference.into_affine()], &[Fr::from(1u64)])
    }

    /// Checks the proof for `D = Σ_i s_i · P_i`, given as points and scalars: `z · h − A − c · D = 0`
    /// in one multi-scalar multiplication, `D` never formed on its own.
    fn verify_combination(&self, transcript: &mut Transcript, points: &[G1Affine], scalars: &[Fr]) -> bool {
        transcript.append_point(b"zero-commitment", &self.commitment);
        let c = transcript.challenge_field(b"zero-challenge");
        let mut bases = vec![scalar_generators().1, self.commitment];
        bases.extend_from_slice(points);
        let mut all = vec![self.response, -Fr::from(1u64)];
        all.extend(scalars.iter().map(|s| -c * s));
        G1Projective::msm_unchecked(&bases, &all).is_zero()
    }

    /// A transcript made without `δ`, for challenge `c` (special honest-verifier zero-knowledge):
    /// `z` uniform, `A = z · h − c · D`.
    pub fn simulate<R: RngCore>(difference: G1Projective, c: Fr, rng: &mut R) -> Self {
        let response = Fr::rand(rng);
        Self { commitment: (scalar_generators().1 * response - difference * c).into_affine(), response }
    }
}

/// Checks a [`ZeroProof`] for a single difference `D = Σ_i s_i · P_i` given as points and scalars,
/// in one multi-scalar multiplication (the transcript steps of a one-entry [`VerifierEqualities`]).
pub fn verify_zero_combination(
    transcript: &mut Transcript,
    proof: &ZeroProof,
    points: &[G1Affine],
    scalars: &[Fr],
) -> bool {
    draw_powers(transcript, 1);
    proof.verify_combination(transcript, points, scalars)
}

/// The prover's equalities of one relation: the blinds of the committed differences.
#[derive(Debug, Default)]
pub struct ProverEqualities {
    blinds: Vec<Fr>,
}

impl ProverEqualities {
    /// Requires `a = b` (as the verifier does in [`VerifierEqualities::require`]).
    pub fn require(&mut self, a: Secret, b: Secret) {
        let difference = a - b;
        if let Some(blind) = difference.blind {
            self.blinds.push(blind);
        }
    }

    /// Proves the committed equalities required so far (none: no proof) and clears them.
    pub fn prove(&mut self, transcript: &mut Transcript, blinder: Option<&mut Blinder>) -> Option<ZeroProof> {
        let blinds = std::mem::take(&mut self.blinds);
        if blinds.is_empty() {
            return None;
        }
        let blinder = blinder.expect("committed values exist only in zero-knowledge proofs");
        let powers = draw_powers(transcript, blinds.len());
        let blind = blinds.iter().zip(&powers).map(|(b, p)| *b * p).sum();
        Some(ZeroProof::prove(transcript, blind, blinder))
    }
}

/// The verifier's equalities of one relation: the committed differences and what each checks.
#[derive(Debug, Default)]
pub struct VerifierEqualities {
    differences: Vec<(G1Projective, String)>,
}

impl VerifierEqualities {
    /// Requires `a = b`: at once for clear values (an error saying `what` if they differ), or by the
    /// relation's [`ZeroProof`] for committed ones.
    pub fn require(&mut self, a: Sent, b: Sent, relation: &str, what: &str) -> Result<(), VerificationError> {
        match a - b {
            Sent::Clear(d) if d.is_zero() => Ok(()),
            Sent::Clear(_) => Err(VerificationError::Check { relation: relation.into(), what: what.into() }),
            Sent::Committed(d) => {
                self.differences.push((d, what.into()));
                Ok(())
            }
        }
    }

    /// Checks the proof of the committed equalities required so far and clears them.
    pub fn verify(
        &mut self,
        transcript: &mut Transcript,
        proof: Option<&ZeroProof>,
        relation: &str,
    ) -> Result<(), VerificationError> {
        let differences = std::mem::take(&mut self.differences);
        let proof = match (differences.is_empty(), proof) {
            (true, None) => return Ok(()),
            (true, Some(_)) => {
                return Err(VerificationError::Malformed {
                    relation: relation.into(),
                    what: "a proof of equalities where nothing is committed".into(),
                })
            }
            (false, None) => {
                return Err(VerificationError::Malformed {
                    relation: relation.into(),
                    what: "the proof of its committed equalities is missing".into(),
                })
            }
            (false, Some(proof)) => proof,
        };
        let powers = draw_powers(transcript, differences.len());
        let points: Vec<G1Affine> =
            G1Projective::normalize_batch(&differences.iter().map(|(d, _)| *d).collect::<Vec<_>>());
        if proof.verify_combination(transcript, &points, &powers) {
            Ok(())
        } else {
            let checks: Vec<&str> = differences.iter().map(|(_, what)| what.as_str()).collect();
            Err(VerificationError::Check {
                relation: relation.into(),
                what: format!("a committed identity does not hold (one of: {})", checks.join("; ")),
            })
        }
    }
}

/// Hyrax's proof of product: committed `X, Y, Z` hold `x, y` and `x · y`.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct ProductProof {
    pub alpha: G1Affine,
    pub beta: G1Affine,
    pub delta: G1Affine,
    pub responses: [Fr; 5],
}

impl ProductProof {
    /// Proves `z = x · y` for hidden `x`, `y`, `z` (clear ones count as blind 0).
    pub fn prove(transcript: &mut Transcript, x: Secret, y: Secret, z: Secret, blinder: &mut Blinder) -> Self {
        let b: [Fr; 5] = std::array::from_fn(|_| blinder.blind());
        let x_point = x.sent().commitment();
        let points = G1Projective::normalize_batch(&[
            commit_scalar(b[0], b[1]),
            commit_scalar(b[2], b[3]),
            x_point * b[2] + commit_scalar(Fr::zero(), b[4]),
        ]);
        let (alpha, beta, delta) = (points[0], points[1], points[2]);
        let c = Self::challenge(transcript, &alpha, &beta, &delta);
        let (bx, by, bz) = (x.blind_or_zero(), y.blind_or_zero(), z.blind_or_zero());
        let responses =
            [b[0] + c * x.value, b[1] + c * bx, b[2] + c * y.value, b[3] + c * by, b[4] + c * (bz - bx * y.value)];
        Self { alpha, beta, delta, responses }
    }

    fn challenge(transcript: &mut Transcript, alpha: &G1Affine, beta: &G1Affine, delta: &G1Affine) -> Fr {
        transcript.append_point(b"product-alpha", alpha);
        transcript.append_point(b"product-beta", beta);
        transcript.append_point(b"product-delta", delta);
        transcript.challenge_field(b"product-challenge")
    }

    /// Checks the proof for the commitments `X, Y, Z`.
    pub fn verify(&self, transcript: &mut Transcript, x: G1Projective, y: G1Projective, z: G1Projective) -> bool {
        let (u, h) = scalar_generators();
        let c = Self::challenge(transcript, &self.alpha, &self.beta, &self.delta);
        let [z1, z2, z3, z4, z5] = self.responses;
        let first = x * c + self.alpha - G1Projective::msm_unchecked(&[u, h], &[z1, z2]);
        let second = y * c + self.beta - G1Projective::msm_unchecked(&[u, h], &[z3, z4]);
        let third = z * c + self.delta - x * z3 - h * z5;
        first.is_zero() && second.is_zero() && third.is_zero()
    }

    /// A transcript made without `x, y`, for challenge `c`: uniform responses, and the commitments
    /// that make the three checks hold.
    pub fn simulate<R: RngCore>(x: G1Projective, y: G1Projective, z: G1Projective, c: Fr, rng: &mut R) -> Self {
        let (u, h) = scalar_generators();
        let responses: [Fr; 5] = std::array::from_fn(|_| Fr::rand(rng));
        let [z1, z2, z3, z4, z5] = responses;
        let points =
            G1Projective::normalize_batch(&[u * z1 + h * z2 - x * c, u * z3 + h * z4 - y * c, x * z3 + h * z5 - z * c]);
        Self { alpha: points[0], beta: points[1], delta: points[2], responses }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Blinder, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        (Blinder::new(&mut rng), rng)
    }

    #[test]
    fn hidden_arithmetic_matches_commitment_arithmetic() {
        let (mut blinder, mut rng) = setup();
        let a = blinder.hide(Fr::rand(&mut rng));
        let b = blinder.hide(Fr::rand(&mut rng));
        let c = Fr::rand(&mut rng);
        let public = Secret::public(Fr::from(7u64));
        let combined = (a * c - b + public) - Fr::from(3u64);
        let sent = (a.sent() * c - b.sent() + public.sent()) - Fr::from(3u64);
        assert_eq!(combined.sent(), sent);
        assert_eq!((public + public).sent(), Sent::Clear(Fr::from(14u64)));
    }

    #[test]
    fn equalities_hold_only_for_equal_values() {
        let (mut blinder, mut rng) = setup();
        let run = |a: Secret, b: Secret, blinder: &mut Blinder| {
            let mut prover = ProverEqualities::default();
            let mut verifier = VerifierEqualities::default();
            let other = blinder.hide(Fr::from(5u64));
            for (x, y) in [(other, other), (a, b)] {
                prover.require(x, y);
                verifier.require(x.sent(), y.sent(), "test", "x = y").unwrap();
            }
            let proof = prover.prove(&mut Transcript::new(b"t"), Some(blinder));
            verifier.verify(&mut Transcript::new(b"t"), proof.as_ref(), "test")
        };
        let value = Fr::rand(&mut rng);
        let (a, b) = (blinder.hide(value), blinder.hide(value));
        run(a, b, &mut blinder).unwrap();
        let wrong = blinder.hide(value + Fr::from(1u64));
        assert!(run(a, wrong, &mut blinder).is_err());
        // Clear values are compared at once.
        let mut verifier = VerifierEqualities::default();
        assert!(verifier.require(Sent::Clear(value), Sent::Clear(value + value), "test", "x = y").is_err());
    }

    #[test]
    fn products_hold_only_for_products() {
        let (mut blinder, mut rng) = setup();
        let (x, y) = (blinder.hide(Fr::rand(&mut rng)), blinder.hide(Fr::rand(&mut rng)));
        for (z, honest) in [(blinder.hide(x.value * y.value), true), (blinder.hide(x.value + y.value), false)] {
            let proof = ProductProof::prove(&mut Transcript::new(b"t"), x, y, z, &mut blinder);
            let (cx, cy, cz) = (x.sent().commitment(), y.sent().commitment(), z.sent().commitment());
            assert_eq!(proof.verify(&mut Transcript::new(b"t"), cx, cy, cz), honest);
        }
        // x · x, as the bit relation uses it.
        let square = blinder.hide(x.value * x.value);
        let proof = ProductProof::prove(&mut Transcript::new(b"t"), x, x, square, &mut blinder);
        let (cx, cz) = (x.sent().commitment(), square.sent().commitment());
        assert!(proof.verify(&mut Transcript::new(b"t"), cx, cx, cz));
    }
}
