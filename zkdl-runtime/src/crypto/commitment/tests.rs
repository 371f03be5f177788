//! Unit tests of the private pieces of the commitment paths.

use super::*;
use proptest::prelude::*;

/// `Σ_w d_w 256^w`, in i128 arithmetic wide enough for every recoded value but the extremes.
fn recompose(digits: &[i16]) -> Option<i128> {
    digits.iter().rev().try_fold(0i128, |acc, d| acc.checked_mul(256)?.checked_add(i128::from(*d)))
}

proptest! {
    #[test]
    fn signed_digits_recompose_and_stay_in_range(v in any::<i128>()) {
        let mut digits = [0i16; MAX_DIGITS];
        let count = signed_digits(&v, &mut digits);
        prop_assert!(digits[..count].iter().all(|d| (-128..=128).contains(d) && (*d != -128 || v < 0)));
        prop_assert!(count == 0 || digits[count - 1] != 0, "no leading zero digit");
        if let Some(value) = recompose(&digits[..count]) {
            prop_assert_eq!(value, v);
        }
    }
}

#[test]
fn signed_digits_of_boundaries() {
    let mut digits = [0i16; MAX_DIGITS];
    let cases: [(i128, &[i16]); 8] = [
        (0, &[]),
        (128, &[128]),
        (129, &[-127, 1]),
        (-129, &[127, -1]),
        (255, &[-1, 1]),
        (-32768, &[0, -128]),
        (32767, &[-1, 128]),
        (i128::from(i16::MIN), &[0, -128]),
    ];
    for (v, expected) in cases {
        let count = signed_digits(&v, &mut digits);
        assert_eq!(&digits[..count], expected, "digits of {v}");
        // A field element holding the same integer has the same digits.
        let count = signed_digits(&Fr::from(v), &mut digits);
        assert_eq!(&digits[..count], expected, "digits of {v} as a field element");
    }
    // 16-bit values need two windows; i128::MIN needs at most seventeen.
    assert_eq!(signed_digits(&i128::MIN, &mut digits), 16);
    assert_eq!(recompose(&digits[..16]), Some(i128::MIN));
}

#[test]
fn field_elements_recode_by_their_signed_representative() {
    let mut digits = [0i16; MAX_DIGITS];
    // (p − 1)/2 is the largest positive representative; (p + 1)/2 = −(p − 1)/2 the most negative.
    let half = Fr::from(Fr::MODULUS_MINUS_ONE_DIV_TWO);
    let count = signed_digits(&half, &mut digits);
    assert!(count <= 32 && digits[..count].iter().all(|d| *d >= -127 && *d <= 128));
    let count_negative = signed_digits(&-half, &mut digits);
    assert_eq!(count_negative, count);
    assert!(digits[..count].iter().all(|d| *d >= -128 && *d <= 127));
    // Σ d_w 256^w reproduces the field element.
    for v in [half, -half, Fr::from(12345u64), -Fr::from(1u64 << 40)] {
        let count = signed_digits(&v, &mut digits);
        let recomposed: Fr = digits[..count]
            .iter()
            .rev()
            .fold(Fr::from(0u64), |acc, d| acc * Fr::from(256u64) + Fr::from(i64::from(*d)));
        assert_eq!(recomposed, v);
    }
}

#[test]
fn blinding_points_sum_to_the_blinding_term() {
    let key = CommitmentKey::new(0);
    for blind in [Fr::from(0u64), Fr::from(1u64), Fr::from(256u64), -Fr::from(1u64), Fr::from(0xdead_beef_u64)] {
        let expected = key.blinding_generator() * blind;
        assert_eq!(key.blinding_term(&blind), expected);
    }
}

/// Honest-verifier zero-knowledge of the opening of a committed value: given only the statement (the
/// row commitments, the point, the commitment `Y` to the value) and the verifier's challenges, a
/// simulator produces an opening that verifies and has the real one's form — uniformly random
/// `L_k`, `R_k` (as the real ones, blinded by fresh `r_L h`, `r_R h`), uniform responses, and the
/// one Schnorr commitment that the verifier's equation then determines, as in the real proof.
#[test]
fn a_simulator_without_the_tensor_produces_openings_that_verify() {
    use crate::crypto::claims::{Claim, TensorId};
    use crate::crypto::tensor::{bind_leading, eq_table, inner_product, weighted_product_table};
    use crate::crypto::zk::{commit_scalar, Blinder, Sent};
    use ark_ff::{Field, One};
    use rand::SeedableRng;

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(21);
    let key = CommitmentKey::new(3);
    let values: Vec<Fr> = (0..64).map(|_| Fr::rand(&mut rng)).collect();
    let (commitment, blinds) = key.commit(&values[..], 3, &mut rng);
    let point: Vec<Fr> = (0..6).map(|_| Fr::rand(&mut rng)).collect();
    let (row_point, col_point) = point.split_at(3);
    let y = inner_product(&bind_leading(&values, row_point), &eq_table(col_point));
    let value = Blinder::new(&mut rng).hide(y);
    let claim = Claim { tensor: TensorId(0), point: point.clone(), value: value.sent() };
    // The verifier's coins: the scale of U, one folding challenge per column variable, the Schnorr challenge.
    let challenges: Vec<Fr> = (0..5).map(|_| Fr::rand(&mut rng)).collect();
    let (u_scale, folds, c) = (challenges[0], &challenges[1..4], challenges[4]);

    let real = key.open_sent(
        &mut Transcript::scripted(challenges.clone()),
        &commitment,
        &values,
        &blinds,
        &point,
        value,
        &mut rng,
    );
    key.verify_opening_sent(&mut Transcript::scripted(challenges.clone()), &commitment, &claim, &real).unwrap();

    // The simulator: random L_k, R_k and responses; A from the verifier's equation
    // c·P_f + A = z_1·(g_f + b_f·U*) + z_2·h, with P_f = X·(C' + x_0·Y) + Σ_k X_k·(L_k + x_k²·R_k).
    let random_point = |rng: &mut rand_chacha::ChaCha20Rng| (key.generators()[0] * Fr::rand(rng)).into_affine();
    let left: Vec<G1Affine> = (0..3).map(|_| random_point(&mut rng)).collect();
    let right: Vec<G1Affine> = (0..3).map(|_| random_point(&mut rng)).collect();
    let (z1, z2) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let row_weights = eq_table(row_point);
    let combined_rows = G1Projective::msm_unchecked(&commitment.rows, &row_weights);
    let total: Fr = folds.iter().product();
    let mut p_final = (combined_rows + claim.value.commitment() * u_scale) * total;
    for k in 0..3 {
        let suffix: Fr = folds[k + 1..].iter().product();
        p_final += (right[k] * folds[k].square() + left[k]) * suffix;
    }
    let s = weighted_product_table(folds.iter().map(|x| (*x, Fr::one())));
    let g_final = G1Projective::msm_unchecked(&key.generators()[..8], &s);
    let b_final: Fr = folds.iter().zip(col_point).map(|(x, u)| *x * (Fr::one() - u) + u).product();
    let base = g_final + key.inner_product_generator() * (u_scale * b_final);
    let schnorr_commitment = (base * z1 + key.blinding_generator() * z2 - p_final * c).into_affine();
    let simulated = OpeningProof { left, right, schnorr_commitment, response_value: z1, response_blind: z2 };
    key.verify_opening_sent(&mut Transcript::scripted(challenges.clone()), &commitment, &claim, &simulated).unwrap();
    assert_eq!(simulated.compressed_size(), real.compressed_size(), "the same message kinds and sizes");
    assert_ne!(simulated, real);
    // The simulator never saw the tensor or y: a commitment to another value verifies just as well.
    let other = Claim { value: Sent::Committed(commit_scalar(y + Fr::one(), Fr::rand(&mut rng))), ..claim };
    assert!(key.verify_opening_sent(&mut Transcript::scripted(challenges), &commitment, &other, &simulated).is_err());
}

/// A commitment decodes (rows in parallel) to itself from the derived encoding — compressed and not,
/// the identity among its rows — and a point off the curve, a truncated input and a forged row
/// count are errors, not panics or huge allocations.
#[test]
fn commitments_decode_in_parallel_to_the_encoded_rows() {
    use ark_ec::AffineRepr;
    use rand::SeedableRng;

    #[derive(CanonicalSerialize)]
    struct Derived {
        log_cols: u32,
        rows: Vec<G1Affine>,
    }
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    let mut rows: Vec<G1Affine> = (0..300).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
    rows[7] = G1Affine::zero();
    let commitment = TensorCommitment { log_cols: 5, rows: rows.clone() };
    for compress in [Compress::Yes, Compress::No] {
        let mut bytes = Vec::new();
        Derived { log_cols: 5, rows: rows.clone() }.serialize_with_mode(&mut bytes, compress).unwrap();
        let mut own = Vec::new();
        commitment.serialize_with_mode(&mut own, compress).unwrap();
        assert_eq!(own, bytes);
        let decoded = TensorCommitment::deserialize_with_mode(&bytes[..], compress, Validate::Yes).unwrap();
        assert_eq!(decoded, commitment);
        assert!(TensorCommitment::deserialize_with_mode(&bytes[..bytes.len() - 1], compress, Validate::Yes).is_err());
    }
    let mut bytes = Vec::new();
    commitment.serialize_compressed(&mut bytes).unwrap();
    // Row 3's x coordinate changed (its low byte) until it is no longer the x of a point of G1.
    let row3 = 4 + 8 + 3 * 48;
    let mut rejected = false;
    for delta in 1..=50u8 {
        let mut tampered = bytes.clone();
        tampered[row3] ^= delta;
        if TensorCommitment::deserialize_compressed(&tampered[..]).is_err() {
            rejected = true;
            break;
        }
    }
    assert!(rejected, "no change of row 3 was rejected");
    let mut forged = bytes.clone();
    forged[4..12].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(TensorCommitment::deserialize_compressed(&forged[..]).is_err());
    forged[4..12].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(TensorCommitment::deserialize_compressed(&forged[..]).is_err());
}

/// Packed bits committed through byte tables (enough rows) give the rows the per-bit path gives,
/// for dense, sparse, all-ones and all-zero rows; and a byte table entry is its subset's sum.
#[test]
fn bits_committed_by_byte_tables_equal_bits_committed_one_by_one() {
    use crate::crypto::bits::BitVector;
    use rand::{Rng, SeedableRng};

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let key = CommitmentKey::new(7);
    let (rows, log_cols) = (BYTE_TABLE_MIN_ROWS, 7u32);
    let len = rows << log_cols;
    let draws: Vec<bool> = (0..len)
        .map(|i| match (i >> log_cols) % 4 {
            0 => rng.gen_bool(0.5),
            1 => rng.gen_bool(0.03),
            2 => true,
            _ => false,
        })
        .collect();
    let packed = BitVector::from_fn(len, |i| draws[i]);
    let (by_bits, blinds) = key.commit(&draws[..], log_cols, &mut rng);
    assert_eq!(key.commit_with_blinds(&packed, log_cols, &blinds), by_bits);
    // Below the row threshold the per-bit path runs; the same rows either way.
    let few = BitVector::from_fn(len / 2, |i| draws[i]);
    let (few_rows, few_blinds) = key.commit(&draws[..len / 2], log_cols, &mut rng);
    assert_eq!(key.commit_with_blinds(&few, log_cols, &few_blinds), few_rows);

    let table = byte_subset_sums(&key.generators[..16]);
    for (q, v) in [(0usize, 0usize), (0, 1), (0, 0xa5), (1, 0xff), (1, 0x80)] {
        let direct: G1Projective = (0..8).filter(|i| (v >> i) & 1 == 1).map(|i| key.generators[8 * q + i]).sum();
        assert_eq!(table[256 * q + v], direct.into_affine(), "group {q}, subset {v:#x}");
    }
}

/// The row sums of `values` over every window of `2^k` columns add up to the row commitments
/// (blinds zero), for each kind of value and windows narrower and wider than a word of bits.
#[test]
fn column_windows_add_up_to_the_rows() {
    use crate::crypto::bits::BitVector;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(12);
    let key = CommitmentKey::new(8);
    fn check<V: CommitValues + ?Sized>(what: &str, key: &CommitmentKey, values: &V, log_cols: usize) {
        let rows = values.len() >> log_cols;
        let whole = values.commit_rows(key, log_cols, &vec![Fr::ZERO; rows]);
        for k in 0..=log_cols {
            let width = 1usize << k;
            let mut sums = vec![G1Projective::ZERO; rows];
            for start in (0..1usize << log_cols).step_by(width) {
                let part = values.commit_column_window(key, log_cols, start..start + width);
                for (s, p) in sums.iter_mut().zip(&part) {
                    *s += p;
                }
            }
            assert_eq!(G1Projective::normalize_batch(&sums), whole, "{what}: windows of {width} columns");
        }
    }
    let log_cols = 7;
    let len = 1usize << (log_cols + 2);
    let fields: Vec<Fr> = (0..len).map(|_| Fr::rand(&mut rng)).collect();
    let small: Vec<i64> = (0..len).map(|_| rng.gen_range(-1000..1000)).collect();
    let bools: Vec<bool> = (0..len).map(|_| rng.gen()).collect();
    let packed = BitVector::from_bools(bools.iter().copied());
    check("field elements", &key, &fields[..], log_cols);
    check("small integers", &key, &small[..], log_cols);
    check("bools", &key, &bools[..], log_cols);
    check("packed bits", &key, &packed, log_cols);
}
