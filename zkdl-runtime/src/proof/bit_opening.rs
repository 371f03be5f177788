//! Opening the bit tensor b once for all its claims, without a sumcheck over b's `2^n` entries.
//!
//! b is committed as a `2^{n_r} × 2^{n_c}` matrix B (rows: the leading `n_r` variables). Its claims
//! are weighted, `Σ_x W_i(x) · b(x) = y_i`, and every weight the proof produces is a short sum of
//! tensor products across the row/column boundary, `W_i = Σ_k c_ik · L_ik ⊗ R_ik` ([`split_weight`]:
//! eq splits coordinate-wise, a Kronecker product at its factor boundaries, a prefix indicator into two
//! terms, a dense factor into one term per row index it spans). With `v_m = L_m^T B` (a public row
//! combination of B, committed in `Σ_i L_m(i) · C_i` by homomorphism), the claims become
//!
//! ```text
//!     Σ_i α_i y_i = Σ_{col} Σ_m α_{i(m)} c_m · R_m(col) · v_m(col)        (α_i from the transcript),
//! ```
//!
//! a degree-2 sumcheck over the `n_c` column variables only. It ends in the values `v_m(r_c)`, which
//! the prover sends; the verifier draws `β_m` and checks them all at once by one row-combination
//! opening of the commitment: the vector committed in `Σ_i L*(i) · C_i`, `L* = Σ_m β_m L_m`, has
//! inner product `Σ_m β_m v_m(r_c)` with `eq(r_c, ·)` ([`CommitmentKey::prove_row_combination`]).
//! A wrong `y_i` survives the sumcheck with probability `≤ (1 + 2 n_c)/|F|`, a wrong `v_m(r_c)` the
//! combination with probability `1/|F|`.
//!
//! The prover's work is additions selected by bits: each `v_m` sums the rows of its support, so the
//! whole reduction is a few passes over b's set bits ([`row_combination`]), against a sumcheck over
//! `2^n` field elements for the generic merge (`crate::crypto::claims`). The chunk values that split a
//! bit-plane claim ([`weighted_bit_sum`]) are computed the same way.

use std::ops::Range;

use ark_ff::{One, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

use super::routing::index_indicator;
use super::BitTable;
use crate::crypto::claims::{draw_claim_coefficients, TensorId, WeightedClaim};
use crate::crypto::commitment::{CommitmentBlinds, CommitmentKey, OpeningProof, TensorCommitment};
use crate::crypto::ranks::sumcheck::prove_blocks_on;
use crate::crypto::ranks::{all_gather_fields, owned_rows, Communicator};
use crate::crypto::sumcheck::{
    self, Factor, ProductTerm, PublicTensor, SumcheckProof, SumcheckProverState, SumcheckStatement,
};
use crate::crypto::zk::{Blinder, Mode, Secret, Sent, Value};
use crate::error::VerificationError;
use crate::{Fr, Transcript};

/// The most row/column terms the claims on b may split into (each costs the prover a pass over its rows).
const MAX_TERMS: usize = 1 << 12;

const RELATION: &str = "opening of b";

/// The proof that b's commitment satisfies every claim on b.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct BitTensorOpening {
    /// The sumcheck over the column variables; its final evaluations are the `v_m(r_c)`.
    pub column_sumcheck: SumcheckProof,
    /// The opening of `Σ_m β_m v_m` at `r_c`.
    pub opening: OpeningProof,
}

/// One term `c · L ⊗ R` of a weight split at the row/column boundary.
#[derive(Clone, Debug)]
pub struct SplitTerm {
    pub coefficient: Fr,
    /// Over the row variables.
    pub rows: PublicTensor,
    /// Over the column variables.
    pub cols: PublicTensor,
}

/// The tensor over zero variables equal to one.
fn one() -> PublicTensor {
    PublicTensor::Eq(Vec::new())
}

fn malformed(what: String) -> VerificationError {
    VerificationError::Malformed { relation: RELATION.into(), what }
}

/// Splits `weight` (over `row_vars + col_vars` variables) into terms `c · L ⊗ R`.
pub fn split_weight(weight: &PublicTensor, row_vars: usize) -> Result<Vec<SplitTerm>, VerificationError> {
    let n = weight.num_vars().ok_or_else(|| malformed("a malformed claim weight".into()))?;
    if row_vars > n {
        return Err(malformed(format!("{row_vars} row variables of a {n}-variable weight")));
    }
    let term = |rows, cols| SplitTerm { coefficient: Fr::one(), rows, cols };
    if row_vars == 0 {
        return Ok(vec![term(one(), weight.clone())]);
    }
    if row_vars == n {
        return Ok(vec![term(weight.clone(), one())]);
    }
    let terms = match weight {
        PublicTensor::Eq(u) => {
            vec![term(PublicTensor::Eq(u[..row_vars].to_vec()), PublicTensor::Eq(u[row_vars..].to_vec()))]
        }
        PublicTensor::EqCombination(parts) => parts
            .iter()
            .map(|(c, u)| SplitTerm {
                coefficient: *c,
                rows: PublicTensor::Eq(u[..row_vars].to_vec()),
                cols: PublicTensor::Eq(u[row_vars..].to_vec()),
            })
            .collect(),
        PublicTensor::Dense(values) => {
            let block = values.len() >> row_vars;
            if 1usize << row_vars > MAX_TERMS {
                return Err(malformed(format!("a dense weight spanning 2^{row_vars} rows")));
            }
            values
                .chunks(block)
                .enumerate()
                .filter(|(_, part)| part.iter().any(|v| !v.is_zero()))
                .map(|(row, part)| term(index_indicator(row_vars, row as u64), PublicTensor::Dense(part.to_vec())))
                .collect()
        }
        PublicTensor::Prefix { count, .. } => {
            let col_vars = n - row_vars;
            let (full_rows, rest) = (count >> col_vars, count & ((1u64 << col_vars) - 1));
            let mut terms = Vec::new();
            if full_rows > 0 {
                terms.push(term(
                    PublicTensor::Prefix { num_vars: row_vars, count: full_rows },
                    PublicTensor::Prefix { num_vars: col_vars, count: 1u64 << col_vars },
                ));
            }
            if rest > 0 && full_rows < 1u64 << row_vars {
                terms.push(term(
                    index_indicator(row_vars, full_rows),
                    PublicTensor::Prefix { num_vars: col_vars, count: rest },
                ));
            }
            terms
        }
        PublicTensor::Kron(factors) => {
            let mut rows = Vec::new();
            let mut cols = Vec::new();
            let mut straddling = None;
            let mut seen = 0;
            for factor in factors {
                let k = factor.num_vars().ok_or_else(|| malformed("a malformed Kronecker factor".into()))?;
                if seen + k <= row_vars {
                    rows.push(factor.clone());
                } else if seen >= row_vars {
                    cols.push(factor.clone());
                } else {
                    straddling = Some(split_weight(factor, row_vars - seen)?);
                }
                seen += k;
            }
            match straddling {
                None => vec![term(PublicTensor::Kron(rows), PublicTensor::Kron(cols))],
                Some(parts) => parts
                    .into_iter()
                    .map(|part| {
                        let mut r = rows.clone();
                        r.push(part.rows);
                        let mut c = vec![part.cols];
                        c.extend(cols.iter().cloned());
                        SplitTerm {
                            coefficient: part.coefficient,
                            rows: PublicTensor::Kron(r),
                            cols: PublicTensor::Kron(c),
                        }
                    })
                    .collect(),
            }
        }
        PublicTensor::Sum(parts) => {
            let mut terms = Vec::new();
            for (c, part) in parts {
                for mut t in split_weight(part, row_vars)? {
                    t.coefficient *= c;
                    terms.push(t);
                }
            }
            terms
        }
    };
    if terms.len() > MAX_TERMS {
        return Err(malformed(format!("a weight of {} row/column terms", terms.len())));
    }
    Ok(terms)
}

/// `v = Σ_i w_i · B[i]`: the row combination of b laid out with `2^log_cols` columns.
pub fn row_combination(bits: &BitTable, log_cols: usize, row_weights: &[Fr]) -> Vec<Fr> {
    row_combination_window(bits, log_cols, row_weights, 0..1 << log_cols)
}

/// The entries `cols` of [`row_combination`] (a rank's window of the columns).
pub fn row_combination_window(bits: &BitTable, log_cols: usize, row_weights: &[Fr], cols: Range<usize>) -> Vec<Fr> {
    let (stride, width) = (1usize << log_cols, cols.len());
    let rows: Vec<(usize, Fr)> =
        row_weights.iter().enumerate().filter(|(_, w)| !w.is_zero()).map(|(i, w)| (i, *w)).collect();
    let add = |mut acc: Vec<Fr>, &(row, w): &(usize, Fr)| {
        let start = row * stride + cols.start;
        match bits {
            BitTable::Packed(b) => b.for_each_one(start, width, |j| acc[j] += w),
            BitTable::Field(values) => {
                for (a, v) in acc.iter_mut().zip(&values[start..start + width]) {
                    *a += w * v;
                }
            }
        }
        acc
    };
    rows.par_iter().with_min_len(8).fold(|| vec![Fr::zero(); width], add).reduce(
        || vec![Fr::zero(); width],
        |mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        },
    )
}

/// Each term's row combination ([`row_combination`]) for row weights `row_tables`, over the ranks
/// of `ranks` (each computes its window of the columns for every term, then the ranks all-gather the
/// windows) or by this process alone (`None`).
fn row_combinations(
    ranks: Option<&mut (dyn Communicator + '_)>,
    bits: &BitTable,
    log_cols: usize,
    row_tables: &[Vec<Fr>],
) -> Vec<Vec<Fr>> {
    let cols = 1usize << log_cols;
    let Some(comm) = ranks else {
        return row_tables.iter().map(|w| row_combination(bits, log_cols, w)).collect();
    };
    let mine = owned_rows(cols, comm.rank(), comm.size());
    let windows: Vec<Fr> =
        row_tables.iter().flat_map(|w| row_combination_window(bits, log_cols, w, mine.clone())).collect();
    let gathered = all_gather_fields(comm, &windows);
    (0..row_tables.len())
        .map(|t| {
            let mut v = Vec::with_capacity(cols);
            for (rank, part) in gathered.iter().enumerate() {
                let width = owned_rows(cols, rank, comm.size()).len();
                v.extend_from_slice(&part[t * width..(t + 1) * width]);
            }
            v
        })
        .collect()
}

/// `Σ_x W(x) · b(offset + x)` over a sub-cube of `2^W.num_vars` entries, for a weight that is a
/// Kronecker product (or a sum of them): the outer factors' nonzero index combinations each select
/// a block, summed against the innermost factor's table.
pub fn weighted_bit_sum(bits: &BitTable, offset: usize, weight: &PublicTensor) -> Fr {
    match weight {
        PublicTensor::Sum(parts) => parts.iter().map(|(c, part)| *c * weighted_bit_sum(bits, offset, part)).sum(),
        PublicTensor::Kron(factors) if factors.len() > 1 => {
            let (inner, outer) = factors.split_last().expect("two factors or more");
            let inner_vars = inner.num_vars().expect("a well-formed weight");
            let inner_table = inner.table(inner_vars);
            // (block index, weight) of the outer factors' nonzero combinations.
            let mut blocks = vec![(0usize, Fr::one())];
            for factor in outer {
                let k = factor.num_vars().expect("a well-formed weight");
                let table = factor.table(k);
                blocks = blocks
                    .into_iter()
                    .flat_map(|(block, w)| {
                        table
                            .iter()
                            .enumerate()
                            .filter(|(_, t)| !t.is_zero())
                            .map(move |(i, t)| ((block << k) | i, w * t))
                    })
                    .collect();
            }
            blocks
                .par_iter()
                .map(|&(block, w)| w * table_bit_sum(bits, offset + (block << inner_vars), &inner_table))
                .sum()
        }
        PublicTensor::Kron(factors) if factors.len() == 1 => weighted_bit_sum(bits, offset, &factors[0]),
        other => {
            let n = other.num_vars().expect("a well-formed weight");
            table_bit_sum(bits, offset, &other.table(n))
        }
    }
}

/// `Σ_k table[k] · b(offset + k)`.
fn table_bit_sum(bits: &BitTable, offset: usize, table: &[Fr]) -> Fr {
    match bits {
        BitTable::Packed(b) => {
            let mut sum = Fr::zero();
            b.for_each_one(offset, table.len(), |k| sum += table[k]);
            sum
        }
        BitTable::Field(values) => values[offset..offset + table.len()].iter().zip(table).map(|(v, t)| *v * t).sum(),
    }
}

/// The terms of all claims, with the claims' random coefficients folded in, and the column sumcheck.
fn column_statement<V: Value>(
    num_vars: usize,
    col_vars: usize,
    claims: &[WeightedClaim<V>],
    transcript: &mut Transcript,
) -> Result<(Vec<SplitTerm>, SumcheckStatement, V), VerificationError> {
    if claims.is_empty() {
        return Err(malformed("b has no claims to open".into()));
    }
    if let Some(bad) = claims.iter().find(|c| c.weight.num_vars() != Some(num_vars)) {
        return Err(malformed(format!("a claim on {} whose weight is not over {num_vars} variables", bad.tensor)));
    }
    let (alphas, claimed_sum) = draw_claim_coefficients(transcript, b"bit-opening", RELATION, claims);
    let mut terms = Vec::new();
    for (claim, alpha) in claims.iter().zip(&alphas) {
        for mut t in split_weight(&claim.weight, num_vars - col_vars)? {
            t.coefficient *= alpha;
            terms.push(t);
        }
        if terms.len() > MAX_TERMS {
            return Err(malformed(format!("the claims on b split into more than {MAX_TERMS} terms")));
        }
    }
    let m = terms.len();
    let statement = SumcheckStatement {
        relation: RELATION.into(),
        num_vars: col_vars,
        eq_weight: None,
        factors: (0..m)
            .map(|i| Factor::Committed(TensorId(i as u32)))
            .chain(terms.iter().map(|t| Factor::Public(t.cols.clone())))
            .collect(),
        terms: terms.iter().enumerate().map(|(i, t)| ProductTerm::new(t.coefficient, [i, m + i])).collect(),
    };
    Ok((terms, statement, claimed_sum))
}

/// `L* = Σ_m β_m L_m` over the row variables, and the combined value `Σ_m β_m v_m(r_c)`.
fn combine_rows<V: Value>(
    terms: &[SplitTerm],
    values: &[V],
    row_vars: usize,
    transcript: &mut Transcript,
) -> (Vec<Fr>, Vec<Fr>, V) {
    let betas = transcript.challenge_fields(b"bit-opening-combination", terms.len());
    let mut row_weights = vec![Fr::zero(); 1 << row_vars];
    for (t, beta) in terms.iter().zip(&betas) {
        let table = t.rows.table(row_vars);
        row_weights.par_iter_mut().zip(table.par_iter()).for_each(|(w, l)| *w += *beta * l);
    }
    let value = V::combination(values, &betas);
    (row_weights, betas, value)
}

fn absorb_opening<V: Value>(transcript: &mut Transcript, commitment: &TensorCommitment, col_point: &[Fr], value: &V) {
    transcript.append_message(b"opening", b"hyrax-ipa-rows");
    commitment.absorb_into(transcript);
    transcript.append_fields(b"opening-point", col_point);
    value.absorb(transcript, b"opening-value");
}

/// The prover's half: proves every claim on b against its commitment.
///
/// # Panics
/// If the claims do not fit b (the prover's own claims; a programming error).
#[allow(clippy::too_many_arguments)]
pub fn prove<R: RngCore + CryptoRng>(
    mut ranks: Option<&mut (dyn Communicator + '_)>,
    key: &CommitmentKey,
    transcript: &mut Transcript,
    bits: &BitTable,
    commitment: &TensorCommitment,
    blinds: &CommitmentBlinds,
    claims: &[WeightedClaim<Secret>],
    blinder: Option<&mut Blinder>,
    rng: &mut R,
) -> BitTensorOpening {
    let num_vars = commitment.num_vars().expect("a well-formed commitment");
    let col_vars = commitment.log_cols as usize;
    let row_vars = num_vars - col_vars;
    let (terms, statement, claimed) =
        column_statement(num_vars, col_vars, claims, transcript).unwrap_or_else(|e| panic!("{e}"));
    let row_tables: Vec<Vec<Fr>> = terms.iter().map(|t| t.rows.table(row_vars)).collect();
    let combinations = row_combinations(ranks.as_deref_mut(), bits, col_vars, &row_tables);
    drop(row_tables);
    let state = SumcheckProverState::for_mode(&statement, claimed, blinder);
    // The row combinations are kept for the opening below; the sumcheck reads them as blocks of an
    // eighth, so it holds an eighth of each (and of each public factor) instead of copies.
    let blocks: Vec<&dyn sumcheck::Blocks> = combinations.iter().map(|v| v as &dyn sumcheck::Blocks).collect();
    let output =
        prove_blocks_on(ranks.as_deref_mut(), &statement, state, blocks, col_vars.saturating_sub(3), transcript);
    let (row_weights, betas, value) = combine_rows(&terms, &output.evaluations, row_vars, transcript);
    let mut combined = vec![Fr::zero(); 1 << col_vars];
    for (v, beta) in combinations.iter().zip(&betas) {
        combined.par_iter_mut().zip(v.par_iter()).for_each(|(c, x)| *c += *beta * x);
    }
    absorb_opening(transcript, commitment, &output.point, &value);
    let opening = key.prove_row_combination_on(
        ranks,
        transcript,
        commitment,
        combined,
        &row_weights,
        blinds,
        &output.point,
        value.blind,
        rng,
    );
    BitTensorOpening { column_sumcheck: output.proof, opening }
}

/// The verifier's half.
pub fn verify(
    key: &CommitmentKey,
    transcript: &mut Transcript,
    commitment: &TensorCommitment,
    claims: &[WeightedClaim<Sent>],
    proof: &BitTensorOpening,
    mode: Mode,
) -> Result<(), VerificationError> {
    let num_vars = commitment.num_vars().ok_or_else(|| malformed("the commitment to b is malformed".into()))?;
    let col_vars = commitment.log_cols as usize;
    if col_vars > num_vars {
        return Err(malformed("the commitment to b has more column variables than variables".into()));
    }
    let (terms, statement, claimed_sum) = column_statement(num_vars, col_vars, claims, transcript)?;
    let (col_point, values) = sumcheck::verify_sent(&statement, claimed_sum, &proof.column_sumcheck, mode, transcript)?;
    let (row_weights, _, value) = combine_rows(&terms, &values, num_vars - col_vars, transcript);
    absorb_opening(transcript, commitment, &col_point, &value);
    key.verify_row_combination(transcript, commitment, &row_weights, &col_point, value, &proof.opening).map_err(|e| {
        match e {
            VerificationError::Opening { .. } => VerificationError::Opening { relation: RELATION.into() },
            other => other,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::tensor::evaluate;
    use ark_std::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Every split reassembles into the weight it came from, at every row/column boundary.
    #[test]
    fn split_terms_reassemble_the_weight() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut random = |n: usize| (0..n).map(|_| Fr::rand(&mut rng)).collect::<Vec<_>>();
        let weights = vec![
            PublicTensor::Eq(random(6)),
            PublicTensor::EqCombination(vec![(Fr::from(3u64), random(6)), (Fr::from(5u64), random(6))]),
            PublicTensor::Dense(random(64)),
            PublicTensor::Prefix { num_vars: 6, count: 37 },
            PublicTensor::Prefix { num_vars: 6, count: 64 },
            PublicTensor::Prefix { num_vars: 6, count: 8 },
            PublicTensor::Kron(vec![
                index_indicator(2, 2),
                PublicTensor::Dense(random(4)),
                PublicTensor::Eq(random(2)),
            ]),
            PublicTensor::Sum(vec![
                (
                    Fr::from(7u64),
                    PublicTensor::Kron(vec![
                        PublicTensor::Prefix { num_vars: 3, count: 5 },
                        PublicTensor::Eq(random(3)),
                    ]),
                ),
                (Fr::from(2u64), PublicTensor::Dense(random(64))),
            ]),
        ];
        for weight in &weights {
            let expected = weight.table(6);
            for row_vars in 0..=6 {
                let mut table = vec![Fr::zero(); 64];
                for t in split_weight(weight, row_vars).unwrap() {
                    let (rows, cols) = (t.rows.table(row_vars), t.cols.table(6 - row_vars));
                    for (i, r) in rows.iter().enumerate() {
                        for (j, c) in cols.iter().enumerate() {
                            table[(i << (6 - row_vars)) | j] += t.coefficient * r * c;
                        }
                    }
                }
                assert_eq!(table, expected, "{weight:?} split at {row_vars}");
            }
        }
    }

    /// Weighted sums and row combinations over packed bits equal those over the same bits as field
    /// elements.
    #[test]
    fn bit_sums_match_field_sums() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let bits = crate::crypto::bits::BitVector::from_fn(1 << 10, |i| ((i * 2654435761usize) >> 7) % 3 == 0);
        let packed = BitTable::Packed(bits.clone());
        let mut field = packed.clone();
        let values = field.field_mut().clone();
        let weight = PublicTensor::Kron(vec![
            PublicTensor::Dense((0..4).map(|_| Fr::rand(&mut rng)).collect()),
            PublicTensor::Eq((0..6).map(|_| Fr::rand(&mut rng)).collect()),
        ]);
        let table = weight.table(8);
        let expected: Fr = values[256..512].iter().zip(&table).map(|(v, t)| *v * t).sum();
        assert_eq!(weighted_bit_sum(&packed, 256, &weight), expected);
        assert_eq!(weighted_bit_sum(&field, 256, &weight), expected);
        let row_weights: Vec<Fr> = (0..16).map(|i| if i % 3 == 0 { Fr::rand(&mut rng) } else { Fr::zero() }).collect();
        let v = row_combination(&packed, 6, &row_weights);
        assert_eq!(v, row_combination(&field, 6, &row_weights));
        let point: Vec<Fr> = (0..6).map(|_| Fr::rand(&mut rng)).collect();
        let direct: Fr = (0..16).map(|i| row_weights[i] * evaluate(&values[i * 64..(i + 1) * 64], &point)).sum();
        assert_eq!(evaluate(&v, &point), direct);
    }
}
