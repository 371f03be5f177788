//! Opening a row commitment at a point: a logarithmic inner-product argument (Bulletproofs, with
//! the blinding carried as in Hyrax's `proof_log`).
//!
//! Claim: the tensor `M` committed in rows `C_i` satisfies `M(u_r, u_c) = y`. Both sides form
//! `C' = Σ_i eq(u_r, i) · C_i`, a commitment to `v = Σ_i eq(u_r, i) · M[i]` with blind
//! `β = Σ_i eq(u_r, i) β_i`, and the claim becomes `⟨v, b⟩ = y` with `b = eq(u_c, ·)`.
//!
//! With `x_0` from the transcript and `U* = x_0 · U`, let `P = C' + y · U* = ⟨v, g⟩ + ⟨v, b⟩ U* + β h`.
//! Each round halves the vectors (`L`/`R` = low/high half, most significant bit first):
//!
//! ```text
//!     L = ⟨v_L, g_R⟩ + ⟨v_L, b_R⟩ U* + r_L h,      R = ⟨v_R, g_L⟩ + ⟨v_R, b_L⟩ U* + r_R h,
//!     x ← transcript (after L, R),
//!     v ← v_L + x v_R,   g ← x g_L + g_R,   b ← x b_L + b_R,   β ← x β + r_L + x² r_R,
//!     P ← x P + L + x² R,
//! ```
//!
//! which keeps `P = ⟨v, g⟩ + ⟨v, b⟩ U* + β h`. After `n_c` rounds `P = a · G + β h` with
//! `G = g_f + b_f U*`, `g_f = Σ_j s_j g_j`, `s_j = Π_k (x_k if bit k of j is 0 else 1)` and
//! `b_f = Π_k (x_k (1 − u_{c,k}) + u_{c,k})`. The prover ends with a Schnorr proof of knowledge of
//! `(a, β)`: `A = d G + δ h`, `c ← transcript`, `z_1 = c a + d`, `z_2 = c β + δ`, checked as
//! `c P + A = z_1 G + z_2 h`. The folding challenges come from the transcript, never from `u`.
//!
//! The verifier checks everything in one multi-scalar multiplication over the row commitments, the
//! generators, the `L`/`R` messages, `A`, `U` and `h` (`2^{n_r} + 2^{n_c} + 2 n_c + 3` points).
//! The random `r_L`, `r_R`, `d`, `δ` hide `v` apart from `y` itself. In a zero-knowledge proof `y` is
//! not sent: it is committed as `Y = y · U + β_y · h` (`crate::crypto::zk`), and the argument runs on
//! `P = C' + x_0 · Y = ⟨v, g⟩ + ⟨v, b⟩ U* + (β + x_0 β_y) h` — the same form, with the blind
//! `β + x_0 β_y` — so the verifier puts `Y` into its multi-scalar multiplication in place of `y · U`.
//! Then the whole opening is honest-verifier zero-knowledge (Hyrax's `proof_log`).

use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{Field, One, UniformRand, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

use super::{CommitmentBlinds, CommitmentKey, TensorCommitment};
use crate::crypto::claims::Claim;
use crate::crypto::ranks::{all_gather_points, owned_rows, Communicator};
use crate::crypto::sumcheck::Blocks;
use crate::crypto::tensor::{bind_leading, eq_table, inner_product, weighted_product_table};
use crate::crypto::zk::{Secret, Sent, Value};
use crate::error::VerificationError;
use crate::{Fr, G1Affine, G1Projective, Transcript};

/// The proof that a committed tensor takes a claimed value at a point.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct OpeningProof {
    /// `L_k` of each folding round.
    pub left: Vec<G1Affine>,
    /// `R_k` of each folding round.
    pub right: Vec<G1Affine>,
    /// `A = d G + δ h`, the Schnorr commitment.
    pub schnorr_commitment: G1Affine,
    /// `z_1 = c a + d`.
    pub response_value: Fr,
    /// `z_2 = c β + δ`.
    pub response_blind: Fr,
}

/// `Σ_i scalars_i · bases_i` on the backend in use (scalars by their signed representatives), else by
/// ark's Pippenger on the host.
pub fn multi_scalar_multiplication(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    let backend = crate::crypto::device::current();
    if backend.takes_signed_scalars(scalars.len()) {
        let (words, bits) = super::signed_scalar_words(scalars);
        if let Some(sum) = backend.msm(bases, &words, bits) {
            return sum;
        }
    }
    G1Projective::msm_unchecked(bases, scalars)
}

/// The generator fold `g'_i = x·low_i + high_i` on the backend in use, else on the host.
pub fn fold_generators(low: &[G1Affine], high: &[G1Affine], x: Fr) -> Vec<G1Affine> {
    crate::crypto::device::current()
        .fold_generators(low, high, x)
        .unwrap_or_else(|| fold_generators_on_host(low, high, x))
}

/// The generator fold on the host, in parallel. Projective multiplication takes the GLV endomorphism
/// path (about 1.3× faster than multiplying the affine point, measured); the fold is most of the
/// prover's opening.
fn fold_generators_on_host(low: &[G1Affine], high: &[G1Affine], x: Fr) -> Vec<G1Affine> {
    let folded: Vec<G1Projective> = low.par_iter().zip(high.par_iter()).map(|(l, h)| l.into_group() * x + h).collect();
    G1Projective::normalize_batch(&folded)
}

/// The ranks of `ranks` if an inner-product round over `len` points is split among them: at least
/// `2^(min_local_vars − 2)` points a rank (256 by default: a group operation costs about ten field
/// operations, so about the work of a split sumcheck's smallest share; below it the collective
/// operation costs more than the work).
fn splitting<'r, 'c>(
    ranks: Option<&'r mut (dyn Communicator + 'c)>,
    len: usize,
) -> Option<&'r mut (dyn Communicator + 'c)> {
    ranks.filter(|comm| comm.size() > 1 && len >= comm.size() << comm.min_local_vars().saturating_sub(2))
}

/// `[Σ scalars · bases]` for each pair, each rank summing its index range of every pair and the ranks
/// all-gathering the partial sums (or by this process alone).
fn split_msms<const K: usize>(
    ranks: Option<&mut (dyn Communicator + '_)>,
    pairs: [(&[G1Affine], &[Fr]); K],
) -> [G1Projective; K] {
    let len = pairs.iter().map(|(b, _)| b.len()).min().unwrap_or(0);
    let Some(comm) = splitting(ranks, len) else {
        return pairs.map(|(bases, scalars)| multi_scalar_multiplication(bases, scalars));
    };
    let mine = owned_rows(len, comm.rank(), comm.size());
    let partial = G1Projective::normalize_batch(
        &pairs.map(|(bases, scalars)| multi_scalar_multiplication(&bases[mine.clone()], &scalars[mine.clone()])),
    );
    let all = all_gather_points(comm, &partial);
    std::array::from_fn(|k| all.iter().skip(k).step_by(K).map(|p| p.into_group()).sum())
}

/// [`fold_generators`], each rank folding its index range and the ranks all-gathering the folded
/// generators (or by this process alone).
fn split_fold(
    ranks: Option<&mut (dyn Communicator + '_)>,
    low: &[G1Affine],
    high: &[G1Affine],
    x: Fr,
) -> Vec<G1Affine> {
    let Some(comm) = splitting(ranks, low.len()) else { return fold_generators(low, high, x) };
    let mine = owned_rows(low.len(), comm.rank(), comm.size());
    let folded = fold_generators(&low[mine.clone()], &high[mine], x);
    all_gather_points(comm, &folded)
}

fn absorb_statement<V: Value>(transcript: &mut Transcript, commitment: &TensorCommitment, point: &[Fr], value: &V) {
    transcript.append_message(b"opening", b"hyrax-ipa");
    commitment.absorb_into(transcript);
    transcript.append_fields(b"opening-point", point);
    value.absorb(transcript, b"opening-value");
}

/// `v = M(u_r, ·)`: the tensor's rows combined with `eq(u_r, ·)` at the row part of `point`.
///
/// # Panics
/// If `values`, `point` and `commitment` do not fit together (programming errors).
fn bind_rows(commitment: &TensorCommitment, values: &[Fr], point: &[Fr]) -> Vec<Fr> {
    assert_eq!(commitment.num_vars(), Some(point.len()), "opening point does not fit the commitment");
    assert_eq!(values.len(), 1 << point.len(), "opened values do not fit the point");
    let rows = &point[..point.len() - commitment.log_cols as usize];
    crate::crypto::device::current().bind_leading(values, rows).unwrap_or_else(|| bind_leading(values, rows))
}

/// The number of blocks [`row_combination_blocks`] reads a tensor of `n` variables in: blocks of
/// `2^max(block_vars, log_cols)` entries, whole rows.
pub fn row_blocks(n: usize, log_cols: usize, block_vars: usize) -> usize {
    1 << (n - block_vars.max(log_cols).min(n))
}

/// The part of the row combination `v = Σ_i eq(u_r, i) · M[i]` (`u_r` the row part of `point`) from
/// the rows of blocks `blocks` of `values` (of [`row_blocks`]): the whole `v` for all the blocks, and
/// parts that add up to it for blocks split among ranks.
pub fn row_combination_blocks(
    values: &dyn Blocks,
    block_vars: usize,
    log_cols: usize,
    point: &[Fr],
    blocks: std::ops::Range<usize>,
) -> Vec<Fr> {
    let n = point.len();
    let m = block_vars.max(log_cols).min(n);
    let (cols, rows_per_block) = (1usize << log_cols, 1usize << (m - log_cols));
    let eq_rows = eq_table(&point[..n - log_cols]);
    let mut v = vec![Fr::zero(); cols];
    let mut block = vec![Fr::zero(); 1 << m];
    for b in blocks {
        let weights = &eq_rows[b * rows_per_block..(b + 1) * rows_per_block];
        if weights.iter().all(Zero::is_zero) {
            continue;
        }
        values.fill(b << m, &mut block);
        v.par_iter_mut().enumerate().with_min_len(1 << 10).for_each(|(j, o)| {
            *o += weights.iter().enumerate().map(|(r, w)| *w * block[r * cols + j]).sum::<Fr>();
        });
    }
    v
}

impl CommitmentKey {
    /// Proves the value of the tensor `values` (committed as `commitment` with `blinds`) at `point`;
    /// returns the proof and the value `y = M(point)`.
    ///
    /// # Panics
    /// If `values`, `blinds`, `point` and `commitment` do not fit together (programming errors).
    pub fn open<R: RngCore + CryptoRng>(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        values: &[Fr],
        blinds: &CommitmentBlinds,
        point: &[Fr],
        rng: &mut R,
    ) -> (OpeningProof, Fr) {
        let v = bind_rows(commitment, values, point);
        let (_, col_point) = point.split_at(point.len() - commitment.log_cols as usize);
        let value = inner_product(&v, &eq_table(col_point));
        (self.open_bound(transcript, commitment, v, blinds, point, Secret::public(value), rng), value)
    }

    /// Proves that the tensor `values` (committed as `commitment` with `blinds`) takes `value` at
    /// `point`, where `value` was sent in the clear or as a commitment `y · U + β_y · h`: the
    /// argument then runs on `P = C' + x_0 · Com(y)`, whose blind gains `x_0 · β_y`.
    ///
    /// # Panics
    /// If `values`, `blinds`, `point` and `commitment` do not fit together (programming errors).
    #[allow(clippy::too_many_arguments)]
    pub fn open_sent<R: RngCore + CryptoRng>(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        values: &[Fr],
        blinds: &CommitmentBlinds,
        point: &[Fr],
        value: Secret,
        rng: &mut R,
    ) -> OpeningProof {
        let v = bind_rows(commitment, values, point);
        self.open_bound(transcript, commitment, v, blinds, point, value, rng)
    }

    /// As [`open_sent`](Self::open_sent), reading the tensor as blocks of `2^block_vars` entries (whole
    /// rows): the row combination `v = Σ_i eq(u_r, i) · M[i]` is summed a block of rows at a time, so
    /// the tensor's table is never held. The same proof.
    #[allow(clippy::too_many_arguments)]
    pub fn open_sent_blocks<R: RngCore + CryptoRng>(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        values: &dyn Blocks,
        block_vars: usize,
        blinds: &CommitmentBlinds,
        point: &[Fr],
        value: Secret,
        rng: &mut R,
    ) -> OpeningProof {
        assert_eq!(commitment.num_vars(), Some(point.len()), "opening point does not fit the commitment");
        let blocks = row_blocks(point.len(), commitment.log_cols as usize, block_vars);
        let v = row_combination_blocks(values, block_vars, commitment.log_cols as usize, point, 0..blocks);
        self.open_bound(transcript, commitment, v, blinds, point, value, rng)
    }

    /// [`open_sent`](Self::open_sent) given the row combination `v = M(u_r, ·)` ([`bind_rows`],
    /// [`row_combination_blocks`]).
    #[allow(clippy::too_many_arguments)]
    pub fn open_bound<R: RngCore + CryptoRng>(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        v: Vec<Fr>,
        blinds: &CommitmentBlinds,
        point: &[Fr],
        value: Secret,
        rng: &mut R,
    ) -> OpeningProof {
        self.open_bound_on(None, transcript, commitment, v, blinds, point, value, rng)
    }

    /// [`open_bound`](Self::open_bound) over the ranks of `ranks` ([`prove_row_combination_on`](Self::prove_row_combination_on)).
    #[allow(clippy::too_many_arguments)]
    pub fn open_bound_on<R: RngCore + CryptoRng>(
        &self,
        ranks: Option<&mut (dyn Communicator + '_)>,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        v: Vec<Fr>,
        blinds: &CommitmentBlinds,
        point: &[Fr],
        value: Secret,
        rng: &mut R,
    ) -> OpeningProof {
        let (row_point, col_point) = point.split_at(point.len() - commitment.log_cols as usize);
        absorb_statement(transcript, commitment, point, &value);
        let row_weights = eq_table(row_point);
        self.prove_row_combination_on(
            ranks,
            transcript,
            commitment,
            v,
            &row_weights,
            blinds,
            col_point,
            value.blind,
            rng,
        )
    }

    /// Proves `⟨v, eq(u_c, ·)⟩ = y` for the row combination `v = Σ_i w_i · M[i]` committed in
    /// `Σ_i w_i · C_i`, for public row weights `w` (a point's `eq(u_r, ·)`, or any public vector); the
    /// caller has absorbed the statement. Returns the proof; `y` is `⟨v, eq(u_c, ·)⟩`, sent in the
    /// clear (`value_blind` `None`) or committed with blind `value_blind`.
    ///
    /// # Panics
    /// If the lengths do not fit the commitment (programming errors).
    #[allow(clippy::too_many_arguments)]
    pub fn prove_row_combination<R: RngCore + CryptoRng>(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        v: Vec<Fr>,
        row_weights: &[Fr],
        blinds: &CommitmentBlinds,
        col_point: &[Fr],
        value_blind: Option<Fr>,
        rng: &mut R,
    ) -> OpeningProof {
        self.prove_row_combination_on(None, transcript, commitment, v, row_weights, blinds, col_point, value_blind, rng)
    }

    /// [`prove_row_combination`](Self::prove_row_combination) over the ranks of `ranks` (every rank
    /// with the same inputs and a replica of the random stream), or by this process alone (`None`):
    /// the same proof. Each round's two cross-term MSMs and the generator fold are split by index
    /// ranges ([`owned_rows`]) while the halves are long ([`splitting`]): the
    /// ranks all-gather their partial sums and folded generators. The rest (folding `v` and `b`, the
    /// last rounds, the Schnorr step) every rank computes alike.
    #[allow(clippy::too_many_arguments)]
    pub fn prove_row_combination_on<R: RngCore + CryptoRng>(
        &self,
        mut ranks: Option<&mut (dyn Communicator + '_)>,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        mut v: Vec<Fr>,
        row_weights: &[Fr],
        blinds: &CommitmentBlinds,
        col_point: &[Fr],
        value_blind: Option<Fr>,
        rng: &mut R,
    ) -> OpeningProof {
        let log_cols = commitment.log_cols as usize;
        assert_eq!(v.len(), 1 << log_cols, "the row combination has one entry per column");
        assert_eq!(row_weights.len(), commitment.rows.len(), "one weight per row");
        assert_eq!(col_point.len(), log_cols, "the column point has one coordinate per column variable");
        let mut b = eq_table(col_point);
        let u_scale = transcript.challenge_field(b"ipa-u-scale");
        let mut blind = inner_product(blinds.values(), row_weights) + u_scale * value_blind.unwrap_or_default();
        let scaled_u = (self.inner_product_generator * u_scale).into_affine();
        let h = self.blinding_generator;
        let mut g: Vec<G1Affine> = self.generators[..1 << log_cols].to_vec();
        let mut left = Vec::with_capacity(log_cols);
        let mut right = Vec::with_capacity(log_cols);
        while v.len() > 1 {
            let half = v.len() / 2;
            let (v_low, v_high) = v.split_at(half);
            let (b_low, b_high) = b.split_at(half);
            let (g_low, g_high) = g.split_at(half);
            let (r_left, r_right) = (Fr::rand(rng), Fr::rand(rng));
            let [msm_left, msm_right] = split_msms(ranks.as_deref_mut(), [(g_high, v_low), (g_low, v_high)]);
            let cross = |msm: G1Projective, vs: &[Fr], bs: &[Fr], r: Fr| {
                msm + G1Projective::msm_unchecked(&[scaled_u, h], &[inner_product(vs, bs), r])
            };
            let pair = G1Projective::normalize_batch(&[
                cross(msm_left, v_low, b_high, r_left),
                cross(msm_right, v_high, b_low, r_right),
            ]);
            transcript.append_point(b"ipa-left", &pair[0]);
            transcript.append_point(b"ipa-right", &pair[1]);
            left.push(pair[0]);
            right.push(pair[1]);
            let x = transcript.challenge_nonzero(b"ipa-fold");

            let folded_v: Vec<Fr> = v_low.iter().zip(v_high).map(|(l, h)| *l + x * h).collect();
            let folded_b: Vec<Fr> = b_low.iter().zip(b_high).map(|(l, h)| x * l + h).collect();
            let folded_g = split_fold(ranks.as_deref_mut(), g_low, g_high, x);
            blind = x * blind + r_left + x.square() * r_right;
            v = folded_v;
            b = folded_b;
            g = folded_g;
        }

        let (a, b_final, g_final) = (v[0], b[0], g[0]);
        let base = (g_final + scaled_u * b_final).into_affine();
        let (d, delta) = (Fr::rand(rng), Fr::rand(rng));
        let schnorr_commitment = (base * d + h * delta).into_affine();
        transcript.append_point(b"ipa-schnorr", &schnorr_commitment);
        let c = transcript.challenge_field(b"ipa-schnorr-challenge");
        OpeningProof { left, right, schnorr_commitment, response_value: c * a + d, response_blind: c * blind + delta }
    }

    /// Verifies that `commitment` opens to `claim.value` at `claim.point`.
    pub fn verify_opening(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        claim: &Claim,
        proof: &OpeningProof,
    ) -> Result<(), VerificationError> {
        let claim = Claim { tensor: claim.tensor, point: claim.point.clone(), value: Sent::Clear(claim.value) };
        self.verify_opening_sent(transcript, commitment, &claim, proof)
    }

    /// Verifies that `commitment` opens at `claim.point` to the value sent (clear or committed).
    pub fn verify_opening_sent(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        claim: &Claim<Sent>,
        proof: &OpeningProof,
    ) -> Result<(), VerificationError> {
        let relation = || format!("opening of {}", claim.tensor);
        let malformed = |what: String| VerificationError::Malformed { relation: relation(), what };
        let Some(num_vars) = commitment.num_vars() else {
            return Err(malformed(format!("{} row commitments is not a power of two", commitment.rows.len())));
        };
        if num_vars != claim.point.len() {
            return Err(malformed(format!(
                "a {num_vars}-variable commitment opened at a point of {} coordinates",
                claim.point.len()
            )));
        }
        let log_cols = commitment.log_cols as usize;
        if commitment.log_cols > self.max_log_cols() {
            return Err(malformed(format!("2^{log_cols} columns exceed the key's 2^{}", self.max_log_cols())));
        }
        let (row_point, col_point) = claim.point.split_at(num_vars - log_cols);
        absorb_statement(transcript, commitment, &claim.point, &claim.value);
        self.verify_row_combination(transcript, commitment, &eq_table(row_point), col_point, claim.value, proof)
            .map_err(|e| match e {
                VerificationError::Opening { .. } => VerificationError::Opening { relation: relation() },
                other => other,
            })
    }

    /// Verifies [`prove_row_combination`](Self::prove_row_combination): the vector committed in
    /// `Σ_i w_i · C_i` has inner product `value` with `eq(u_c, ·)`. The caller has absorbed the
    /// statement and checked that there is one weight per row.
    pub fn verify_row_combination(
        &self,
        transcript: &mut Transcript,
        commitment: &TensorCommitment,
        row_weights: &[Fr],
        col_point: &[Fr],
        value: Sent,
        proof: &OpeningProof,
    ) -> Result<(), VerificationError> {
        let relation = || "opening of a row combination".to_string();
        let malformed = |what: String| VerificationError::Malformed { relation: relation(), what };
        let log_cols = commitment.log_cols as usize;
        if commitment.log_cols > self.max_log_cols() || col_point.len() != log_cols {
            return Err(malformed(format!("2^{log_cols} columns do not fit the key or the point")));
        }
        if row_weights.len() != commitment.rows.len() {
            return Err(malformed(format!("{} row weights for {} rows", row_weights.len(), commitment.rows.len())));
        }
        if proof.left.len() != log_cols || proof.right.len() != log_cols {
            return Err(malformed(format!(
                "{} left and {} right messages for {log_cols} folding rounds",
                proof.left.len(),
                proof.right.len()
            )));
        }
        let u_scale = transcript.challenge_field(b"ipa-u-scale");
        let mut challenges = Vec::with_capacity(log_cols);
        for (l, r) in proof.left.iter().zip(&proof.right) {
            transcript.append_point(b"ipa-left", l);
            transcript.append_point(b"ipa-right", r);
            challenges.push(transcript.challenge_nonzero(b"ipa-fold"));
        }
        transcript.append_point(b"ipa-schnorr", &proof.schnorr_commitment);
        let c = transcript.challenge_field(b"ipa-schnorr-challenge");
        let (z1, z2) = (proof.response_value, proof.response_blind);

        // s_j, b_f, and the suffix products X_k = Π_{k' > k} x_{k'} (X = X_{−1}).
        let s = weighted_product_table(challenges.iter().map(|x| (*x, Fr::one())));
        let b_final: Fr = challenges.iter().zip(col_point).map(|(x, u)| *x * (Fr::one() - u) + u).product();
        let mut suffix = vec![Fr::one(); log_cols + 1];
        for k in (0..log_cols).rev() {
            suffix[k] = suffix[k + 1] * challenges[k];
        }
        let total = suffix[0];

        // c·P_f + A − z1·(g_f + b_f U*) − z2·h = 0, with P_f = X·(C' + y U*) + Σ_k X_k (L_k + x_k² R_k).
        let cx = c * total;
        let mut bases: Vec<G1Affine> = Vec::with_capacity(commitment.rows.len() + s.len() + 2 * log_cols + 3);
        let mut scalars: Vec<Fr> = Vec::with_capacity(bases.capacity());
        bases.extend_from_slice(&commitment.rows);
        scalars.extend(row_weights.iter().map(|w| cx * w));
        for k in 0..log_cols {
            let weight = c * suffix[k + 1];
            bases.push(proof.left[k]);
            scalars.push(weight);
            bases.push(proof.right[k]);
            scalars.push(weight * challenges[k].square());
        }
        bases.extend_from_slice(&self.generators[..s.len()]);
        scalars.extend(s.iter().map(|s| -z1 * s));
        bases.extend([self.inner_product_generator, self.blinding_generator, proof.schnorr_commitment]);
        match value {
            Sent::Clear(value) => scalars.extend([u_scale * (cx * value - z1 * b_final), -z2, Fr::one()]),
            Sent::Committed(value) => {
                scalars.extend([-u_scale * z1 * b_final, -z2, Fr::one()]);
                bases.push(value.into_affine());
                scalars.push(cx * u_scale);
            }
        }
        if G1Projective::msm_unchecked(&bases, &scalars).is_zero() {
            Ok(())
        } else {
            Err(VerificationError::Opening { relation: relation() })
        }
    }
}
