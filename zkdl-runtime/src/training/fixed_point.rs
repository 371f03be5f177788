//! Fixed-point arithmetic of `PROTOCOL.md` §1.
//!
//! - A real x at scale 2^S is the integer round(x·2^S) (ties away from zero, the f64 `round`).
//! - rescale_S(v) = ⌊(v + 2^(S−1)) / 2^S⌋ (round half up), with remainder r = v − 2^S·rescale_S(v) in
//!   [−2^(S−1), 2^(S−1)).
//! - An n-bit two's complement value lies in [−2^(n−1), 2^(n−1)); its bits are b_i = ⌊v / 2^i⌋ mod 2 and
//!   v = Σ_(i<n−1) 2^i·b_i − 2^(n−1)·b_(n−1).
//! - zkReLU (§3): for hidden Z', the sign s = [Z' > 0] and magnitude m = Z' − 1 + (1 − s)·2^Q, which lies in
//!   [0, 2^Q) exactly when Z' ∈ [1 − 2^Q, 2^Q].

/// rescale_S(v) and its remainder.
#[inline]
pub fn rescale(v: i128, shift: u32) -> (i128, i128) {
    let q = (v + (1i128 << (shift - 1))) >> shift;
    (q, v - (q << shift))
}

/// The integer round(x·2^scale_bits).
#[inline]
pub fn quantize(x: f64, scale_bits: u32) -> i128 {
    (x * (scale_bits as f64).exp2()).round() as i128
}

/// v / 2^scale_bits as a real number.
#[inline]
pub fn dequantize(v: i128, scale_bits: u32) -> f64 {
    v as f64 / (scale_bits as f64).exp2()
}

/// The range [−2^(n−1), 2^(n−1) − 1] of n-bit two's complement.
pub fn twos_complement_range(bits: u32) -> (i128, i128) {
    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
}

/// Bit `i` of the two's complement expansion of `v`.
#[inline]
pub fn twos_complement_bit(v: i128, i: u32) -> bool {
    (v >> i.min(127)) & 1 == 1
}

/// The range [1 − 2^Q, 2^Q] of a hidden Z' (sign bit plus Q magnitude bits).
pub fn sign_magnitude_range(range_bits: u32) -> (i128, i128) {
    (1 - (1i128 << range_bits), 1i128 << range_bits)
}

/// (s, m) of a hidden Z' in range: s = [Z' > 0], m = Z' − 1 + (1 − s)·2^Q.
#[inline]
pub fn sign_magnitude(z: i128, range_bits: u32) -> (bool, u128) {
    let s = z > 0;
    (s, magnitude(z, s, range_bits) as u128)
}

/// zkReLU's magnitude m = Z' − 1 + (1 − s)·2^Q for a value and a sign bit s (in [0, 2^Q) exactly when
/// s = [Z' > 0] and Z' is in range; a compact witness reads its bits from Z' and the committed s).
pub fn magnitude(z: i128, sign: bool, range_bits: u32) -> i128 {
    z - 1 + (i128::from(!sign) << range_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up_with_remainder_in_range() {
        let s = 4;
        for v in -100i128..100 {
            let (q, r) = rescale(v, s);
            assert_eq!(v, 16 * q + r);
            assert!((-8..8).contains(&r), "v={v} r={r}");
            assert_eq!(q, ((v as f64 + 8.0) / 16.0).floor() as i128);
        }
        assert_eq!(rescale(8, 4), (1, -8));
        assert_eq!(rescale(-8, 4), (0, -8));
    }

    #[test]
    fn twos_complement_bits_recompose() {
        let n = 9;
        let (lo, hi) = twos_complement_range(n);
        for v in lo..=hi {
            let bits: Vec<i128> = (0..n).map(|i| twos_complement_bit(v, i) as i128).collect();
            let back: i128 =
                (0..n - 1).map(|i| bits[i as usize] << i).sum::<i128>() - (bits[n as usize - 1] << (n - 1));
            assert_eq!(back, v);
        }
    }

    #[test]
    fn sign_magnitude_is_the_only_consistent_sign() {
        let q = 5;
        let (lo, hi) = sign_magnitude_range(q);
        for z in lo..=hi {
            let (s, m) = sign_magnitude(z, q);
            assert!(m < 1 << q, "z={z}");
            assert_eq!(s, z > 0);
            // The other sign gives a magnitude outside [0, 2^Q).
            let other = z - 1 + if s { 1i128 << q } else { 0 };
            assert!(!(0..1i128 << q).contains(&other), "z={z}");
        }
    }

    #[test]
    fn quantize_round_trips() {
        assert_eq!(quantize(0.5, 16), 32768);
        assert_eq!(quantize(-1.0, 16), -65536);
        assert_eq!(dequantize(quantize(0.123, 20), 20), (0.123f64 * 1048576.0).round() / 1048576.0);
    }
}
