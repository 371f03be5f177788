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
        let mut digits = [0i16; 17];
        let count = signed_digits(v, &mut digits);
        prop_assert!(digits[..count].iter().all(|d| (-128..=128).contains(d) && (*d != -128 || v < 0)));
        prop_assert!(count == 0 || digits[count - 1] != 0, "no leading zero digit");
        if let Some(value) = recompose(&digits[..count]) {
            prop_assert_eq!(value, v);
        }
    }
}

#[test]
fn signed_digits_of_boundaries() {
    let mut digits = [0i16; 17];
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
        let count = signed_digits(v, &mut digits);
        assert_eq!(&digits[..count], expected, "digits of {v}");
    }
    // 16-bit values need two windows; i128::MIN needs at most seventeen.
    assert_eq!(signed_digits(i128::MIN, &mut digits), 16);
    assert_eq!(recompose(&digits[..16]), Some(i128::MIN));
}

#[test]
fn blinding_points_sum_to_the_blinding_term() {
    let key = CommitmentKey::new(0);
    for blind in [Fr::from(0u64), Fr::from(1u64), Fr::from(256u64), -Fr::from(1u64), Fr::from(0xdead_beef_u64)] {
        let expected = key.blinding_generator() * blind;
        assert_eq!(key.blinding_term(&blind), expected);
    }
}
