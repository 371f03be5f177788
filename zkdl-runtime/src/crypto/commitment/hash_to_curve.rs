//! Batched derivation of the column generators `g_j = H("g" ‖ j)`: the same points as ark-ec's
//! `MapToCurveBasedHasher<G1, DefaultFieldHasher<Sha256, 128>, WBMap>` (the IETF suite
//! `BLS12381G1_XMD:SHA-256_SSWU_RO_`), computed with far fewer field inversions and exponentiations.
//!
//! The reference hasher spends, per generator, about eight inversions (two divisions and one batch
//! inversion per simplified-SWU map and isogeny, one normalization of the sum and one after clearing
//! the cofactor) and two exponentiations per map (a Legendre symbol, then a square root, and a third
//! for the non-square branch). Here a batch of points shares every inversion (Montgomery's trick on
//! the SWU denominators, on the isogeny denominators and on the final normalization), and each map
//! costs one exponentiation `a^((p+1)/4)`, which is either a square root of `a` or, times
//! `sqrt(−Z)`, one of `Z · a` (`p ≡ 3 mod 4`). Every step computes the same field elements as the
//! reference, so the points are identical; the rare inputs where the reference's own arithmetic
//! meets a zero denominator in the isogeny are delegated to the reference hasher.

use ark_bls12_381::{g1, Fq, FqConfig};
use ark_ec::hashing::curve_maps::parity;
use ark_ec::hashing::curve_maps::swu::SWUConfig;
use ark_ec::hashing::curve_maps::wb::WBConfig;
use ark_ec::hashing::HashToCurve;
use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::field_hashers::{DefaultFieldHasher, HashToField};
use ark_ff::{batch_inversion, Field, MontConfig, One, Zero};
use rayon::prelude::*;
use sha2::Sha256;

use super::{GeneratorHasher, GENERATOR_DOMAIN};
use crate::{G1Affine, G1Projective};

type Iso = <g1::Config as WBConfig>::IsogenousCurve;

/// Generators per batch: every inversion of the batch is shared, and a batch is one parallel task.
const BATCH: u64 = 256;

/// `1 − x` for the BLS parameter `x = −0xd201000000010000`: the effective cofactor of G1 that
/// ark-bls12-381 multiplies by to clear the cofactor.
const H_EFF: u64 = 0xd201_0000_0001_0001;

/// The message hashed to `g_j`: `"g"` followed by `j` as 8 little-endian bytes.
pub(super) fn generator_message(j: u64) -> [u8; 9] {
    let mut message = [0u8; 9];
    message[0] = b'g';
    message[1..].copy_from_slice(&j.to_le_bytes());
    message
}

/// `g_j` by the reference hasher (ark-ec), one point at a time.
pub(super) fn reference_generator(hasher: &GeneratorHasher, j: u64) -> G1Affine {
    hasher.hash(&generator_message(j)).expect("hashing to G1 cannot fail for BLS12-381")
}

/// The column generators `g_j` for `j` in `start..end`, in order.
pub(super) fn derive_generators(start: u64, end: u64) -> Vec<G1Affine> {
    let field_hasher = <DefaultFieldHasher<Sha256, 128> as HashToField<Fq>>::new(GENERATOR_DOMAIN);
    let constants = Constants::new();
    let batches = end.saturating_sub(start).div_ceil(BATCH);
    (0..batches)
        .into_par_iter()
        .flat_map_iter(|b| {
            let first = start + b * BATCH;
            derive_batch(&field_hasher, &constants, first, end.min(first.saturating_add(BATCH)))
        })
        .collect()
}

/// Constants of the simplified SWU map to the 11-isogenous curve.
struct Constants {
    /// `(p + 1) / 4`, little-endian limbs.
    sqrt_exponent: [u64; 6],
    /// A square root of `−Z`.
    sqrt_minus_zeta: Fq,
}

impl Constants {
    fn new() -> Self {
        let sqrt_exponent = <FqConfig as MontConfig<6>>::MODULUS_PLUS_ONE_DIV_FOUR.expect("p ≡ 3 mod 4").0;
        let sqrt_minus_zeta = (-Iso::ZETA).sqrt().expect("−Z is a square: −1 and Z are not");
        Self { sqrt_exponent, sqrt_minus_zeta }
    }
}

/// `base^exponent` with a fixed 4-bit window (the exponent is public).
fn pow_window(base: Fq, exponent: &[u64; 6]) -> Fq {
    let mut table = [Fq::one(); 16];
    for i in 1..16 {
        table[i] = table[i - 1] * base;
    }
    let mut result = Fq::one();
    let mut started = false;
    for limb in exponent.iter().rev() {
        for shift in (0..16).rev() {
            let nibble = ((limb >> (4 * shift)) & 0xf) as usize;
            if started {
                for _ in 0..4 {
                    result.square_in_place();
                }
            }
            if nibble != 0 {
                result *= table[nibble];
                started = true;
            }
        }
    }
    result
}

/// The generators `g_start … g_{end−1}` of one batch.
fn derive_batch(
    field_hasher: &DefaultFieldHasher<Sha256, 128>,
    constants: &Constants,
    start: u64,
    end: u64,
) -> Vec<G1Affine> {
    // Two field elements per generator, each mapped to the isogenous curve.
    let us: Vec<Fq> = (start..end)
        .flat_map(|j| {
            <DefaultFieldHasher<Sha256, 128> as HashToField<Fq>>::hash_to_field::<2>(
                field_hasher,
                &generator_message(j),
            )
        })
        .collect();
    let iso_points = swu_batch(&us, constants);
    let Some(points) = isogeny_batch(&iso_points) else {
        // An isogeny denominator vanished (never seen in practice): the reference does it.
        let hasher = GeneratorHasher::new(GENERATOR_DOMAIN).expect("the WB map of BLS12-381 G1 is valid");
        return (start..end).map(|j| reference_generator(&hasher, j)).collect();
    };
    let cleared: Vec<G1Projective> = points.chunks(2).map(|pair| (pair[0] + pair[1]).mul_bigint([H_EFF])).collect();
    G1Projective::normalize_batch(&cleared)
}

/// The simplified SWU map of each `u` to the isogenous curve, as ark-ec's `SWUMap` computes it, in
/// affine coordinates `(x, y)`.
fn swu_batch(us: &[Fq], constants: &Constants) -> Vec<(Fq, Fq)> {
    let (a, b, zeta) = (Iso::COEFF_A, Iso::COEFF_B, Iso::ZETA);
    struct Pending {
        zeta_u2: Fq,
        num_x1: Fq,
        div2: Fq,
        num_gx1: Fq,
    }
    let mut pending = Vec::with_capacity(us.len());
    let mut inverse_div3 = Vec::with_capacity(us.len());
    for u in us {
        let zeta_u2 = zeta * u.square();
        let ta = zeta_u2.square() + zeta_u2;
        let num_x1 = b * (ta + Fq::one());
        let div = a * if ta.is_zero() { zeta } else { -ta };
        let div2 = div.square();
        let div3 = div2 * div;
        let num_gx1 = (num_x1.square() + a * div2) * num_x1 + b * div3;
        pending.push(Pending { zeta_u2, num_x1, div2, num_gx1 });
        inverse_div3.push(div3); // never zero: a and Z are not
    }
    batch_inversion(&mut inverse_div3);
    us.iter()
        .zip(pending)
        .zip(inverse_div3)
        .map(|((u, p), inverse_div3)| {
            let gx1 = p.num_gx1 * inverse_div3;
            let inverse_div = p.div2 * inverse_div3;
            // a^((p+1)/4) squares to a when a is a nonzero square (the reference's `legendre().is_qr()`,
            // which is false for 0), and to −a when a is not a square.
            let candidate = pow_window(gx1, &constants.sqrt_exponent);
            let (x, y) = if !gx1.is_zero() && candidate.square() == gx1 {
                (p.num_x1 * inverse_div, candidate)
            } else {
                // A square root of Z · gx1 (0 for gx1 = 0), then y2 = Z u^3 · y1.
                let y1 = candidate * constants.sqrt_minus_zeta;
                (p.zeta_u2 * p.num_x1 * inverse_div, p.zeta_u2 * u * y1)
            };
            let y = if parity(&y) == parity(u) { y } else { -y };
            (x, y)
        })
        .collect()
}

/// The 11-isogeny of each point to G1's curve (`None` if a denominator vanished).
fn isogeny_batch(points: &[(Fq, Fq)]) -> Option<Vec<G1Affine>> {
    let map = &<g1::Config as WBConfig>::ISOGENY_MAP;
    let evaluate = |coefficients: &[Fq], x: &Fq| coefficients.iter().rev().fold(Fq::zero(), |acc, c| acc * x + c);
    let mut denominators = Vec::with_capacity(2 * points.len());
    for (x, _) in points {
        denominators.push(evaluate(map.x_map_denominator, x));
        denominators.push(evaluate(map.y_map_denominator, x));
    }
    if denominators.iter().any(Zero::is_zero) {
        return None;
    }
    batch_inversion(&mut denominators);
    Some(
        points
            .iter()
            .zip(denominators.chunks(2))
            .map(|((x, y), inverses)| {
                let image_x = evaluate(map.x_map_numerator, x) * inverses[0];
                let image_y = evaluate(map.y_map_numerator, x) * y * inverses[1];
                G1Affine::new_unchecked(image_x, image_y)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(indices: impl IntoIterator<Item = u64>) -> Vec<G1Affine> {
        let hasher = GeneratorHasher::new(GENERATOR_DOMAIN).unwrap();
        indices.into_iter().map(|j| reference_generator(&hasher, j)).collect()
    }

    #[test]
    fn batched_derivation_equals_the_reference_hasher() {
        // Several batches, and ranges that start and end inside one.
        assert_eq!(derive_generators(0, 1100), reference(0..1100));
        assert_eq!(derive_generators(300, 517), reference(300..517));
        assert!(derive_generators(7, 7).is_empty());
        for j in [1u64 << 20, (1 << 32) + 5, u64::MAX - 1] {
            assert_eq!(derive_generators(j, j + 1), reference([j]), "g_{j}");
        }
    }

    #[test]
    fn window_exponentiation_is_pow() {
        let base = Fq::from(0x1234_5678_9abc_def0u64);
        for exponent in [[0u64; 6], [1, 0, 0, 0, 0, 0], [0xf0f0, 7, 0, 0, 0, 1 << 60], [u64::MAX; 6]] {
            assert_eq!(pow_window(base, &exponent), base.pow(exponent));
        }
    }
}
