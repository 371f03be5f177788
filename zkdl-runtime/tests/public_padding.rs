//! The verifier's check of public inputs reads the used region of each public tensor entry by entry;
//! it must agree with the indicator `routing::used_region` everywhere: a nonzero value is rejected
//! exactly where the indicator is zero, and an entry where it is one is range-checked instead.

use ark_ff::{One, Zero};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::plan::Storage;
use zkdl_compiler::{CompileOptions, NetworkSpec, Plan, Visibility};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::tensor::power_of_two;
use zkdl_runtime::proof::{self, key_log_cols, routing, ProofBody, PublicInputs, Tables};
use zkdl_runtime::{Fr, VerificationError};

mod common;

/// 64 → 12 → relu → 10 (steps 3): rows, columns, layer slots and steps all padded.
fn padded() -> NetworkSpec {
    NetworkSpec::builder("padded").input(64).dense(12).relu().dense(10).sgd(3).batch(8).build().unwrap()
}

/// The padded network with everything public: its plan, key, public inputs and a clear proof (whose
/// commitment to b `check_layouts` checks first).
fn everything_public() -> (Plan, CommitmentKey, PublicInputs, ProofBody) {
    let visibility = Visibility { public_data: true, public_initial_weights: true, public_final_weights: true };
    let w = common::witness_with(&padded(), CompileOptions { steps: 3, visibility }, 2);
    let plan = w.plan.clone();
    let tables = Tables::from_witness(&w);
    let key = CommitmentKey::new(key_log_cols(&plan));
    let (public, secrets) = proof::commit_statement(&plan, &key, &tables, &mut ChaCha20Rng::seed_from_u64(1));
    let mode = zkdl_runtime::crypto::zk::Mode::Clear;
    let rng = &mut ChaCha20Rng::seed_from_u64(2);
    let body: ProofBody = proof::prove_in_mode(mode, &plan, &key, &tables, &public, &secrets, rng, |_| {}).unwrap().0;
    (plan, key, public, body)
}

#[test]
fn padding_is_the_complement_of_the_used_region() {
    let (plan, _, public, body) = everything_public();
    proof::check_layouts(&plan, &public, &body).unwrap();
    let mut checked = 0;
    for t in plan.tensors.iter().filter(|t| t.storage == Storage::Public) {
        let used = routing::used_region(t).table(t.layout.num_vars() as usize);
        let index = public.public_values.iter().position(|(id, _)| *id == t.id.0).unwrap();
        for (i, u) in used.iter().enumerate() {
            let mut forged = public.clone();
            // A value inside every range, nonzero.
            forged.public_values[index].1.field_mut()[i] = Fr::one() + forged.public_values[index].1.field_mut()[i];
            if forged.public_values[index].1.field_mut()[i].is_zero() {
                forged.public_values[index].1.field_mut()[i] = Fr::one();
            }
            let verdict = proof::check_layouts(&plan, &forged, &body);
            if u.is_zero() {
                match verdict {
                    Err(VerificationError::Check { what, .. }) => {
                        assert!(what.contains(&format!("nonzero value in padding at entry {i}")), "{what}")
                    }
                    other => panic!("{} entry {i} is padding, but {other:?}", t.name()),
                }
            } else {
                assert!(verdict.is_ok(), "{} entry {i} is used, but {verdict:?}", t.name());
                forged.public_values[index].1.field_mut()[i] = power_of_two(200);
                match proof::check_layouts(&plan, &forged, &body) {
                    Err(VerificationError::Check { what, .. }) => {
                        assert!(what.contains(&format!("entry {i} is")) && what.contains("outside"), "{what}")
                    }
                    other => panic!("{} entry {i} is out of range, but {other:?}", t.name()),
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// Public values given as integers (as a verifier regenerates a seeded W_0) mean the same field
/// elements: equal to, and encoded as, their field form; checked alike, padding and range.
#[test]
fn integer_public_values_are_checked_as_their_field_elements() {
    use ark_ff::PrimeField;
    use zkdl_runtime::crypto::serialization::encode;
    use zkdl_runtime::proof::PublicValues;
    let (plan, key, public, body) = everything_public();
    let to_integer = |v: &Fr| -> i64 {
        let negative = v.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO;
        let magnitude = if negative { -*v } else { *v }.into_bigint().0[0] as i64;
        if negative {
            -magnitude
        } else {
            magnitude
        }
    };
    let mut integers = public.clone();
    for (_, values) in integers.public_values.iter_mut() {
        let small: Vec<i64> = values.field().iter().map(to_integer).collect();
        *values = PublicValues::Small(small);
    }
    assert_eq!(integers, public);
    assert_eq!(encode(&integers), encode(&public));
    proof::check_layouts(&plan, &integers, &body).unwrap();
    proof::verify(&plan, &key, &integers, &body).unwrap();
    let mut range_checked = 0;
    for t in plan.tensors.iter().filter(|t| t.storage == Storage::Public) {
        let used = routing::used_region(t).table(t.layout.num_vars() as usize);
        let bits = proof::public_range_bits(&plan, t).unwrap();
        let position = integers.public_values.iter().position(|(id, _)| *id == t.id.0).unwrap();
        let first_used = used.iter().position(|u| u.is_one()).unwrap();
        if bits < 64 {
            range_checked += 1;
            let mut forged = integers.clone();
            let PublicValues::Small(values) = &mut forged.public_values[position].1 else { unreachable!() };
            values[first_used] = (1i64 << (bits - 1)) - 1;
            let top = proof::check_layouts(&plan, &forged, &body);
            assert!(top.is_ok(), "{}: the top of the range: {top:?}", t.name());
            let PublicValues::Small(values) = &mut forged.public_values[position].1 else { unreachable!() };
            values[first_used] = 1i64 << (bits - 1);
            match proof::check_layouts(&plan, &forged, &body) {
                Err(VerificationError::Check { what, .. }) => assert!(what.contains("outside"), "{what}"),
                other => panic!("{}: one past the range, but {other:?}", t.name()),
            }
        }
        if let Some(padding) = used.iter().position(|u| u.is_zero()) {
            let mut forged = integers.clone();
            let PublicValues::Small(values) = &mut forged.public_values[position].1 else { unreachable!() };
            values[padding] = -1;
            match proof::check_layouts(&plan, &forged, &body) {
                Err(VerificationError::Check { what, .. }) => {
                    assert!(what.contains(&format!("nonzero value in padding at entry {padding}")), "{what}")
                }
                other => panic!("{} entry {padding} is padding, but {other:?}", t.name()),
            }
        }
    }
    assert!(range_checked > 0);
}
