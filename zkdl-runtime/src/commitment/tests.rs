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
