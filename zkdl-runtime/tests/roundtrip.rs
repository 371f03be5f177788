//! Completeness: honest provers convince the verifiers, and every claim they output is true.

mod common;

use common::*;
use rand::Rng;
use zkdl_runtime::crypto::claims::{prove_merge, verify_merge, Claim};
use zkdl_runtime::crypto::commitment::{CommitmentBlinds, CommitmentKey};
use zkdl_runtime::crypto::sumcheck::{self};
use zkdl_runtime::crypto::tensor::evaluate;
use zkdl_runtime::{Fr, G1Projective, TensorId, Transcript};

use ark_ec::{CurveGroup, VariableBaseMSM};

#[test]
fn sumcheck_completeness_on_every_case() {
    for case in sumcheck_cases(11) {
        let n = case.statement.num_vars;
        let sum = case.true_sum();
        let output = sumcheck::prove(&case.statement, case.witness.clone(), &mut Transcript::new(b"test"));
        assert_eq!(output.claimed_sum, sum, "{} (n = {n}): claimed sum", case.name);
        let claims = sumcheck::verify(&case.statement, sum, &output.proof, &mut Transcript::new(b"test"))
            .unwrap_or_else(|e| panic!("{} (n = {n}): {e}", case.name));
        assert_eq!(claims, output.claims, "{} (n = {n}): prover and verifier claims", case.name);
        for claim in &claims {
            assert_eq!(claim.point.len(), n);
            assert_eq!(claim.value, case.evaluate_committed(claim.tensor, &claim.point), "{} (n = {n})", case.name);
        }
        if case.name == "bits are binary" || case.name == "all zero" {
            assert_eq!(sum, Fr::from(0u64));
        }
    }
}

#[test]
fn sumcheck_over_sixteen_variables_proves_the_inner_product() {
    let mut r = rng(5);
    let a = random_fields(&mut r, 1 << 16);
    let b = random_fields(&mut r, 1 << 16);
    let statement = sumcheck::SumcheckStatement {
        relation: "inner product".into(),
        num_vars: 16,
        eq_weight: None,
        factors: vec![sumcheck::Factor::Committed(TensorId(0)), sumcheck::Factor::Committed(TensorId(1))],
        terms: vec![sumcheck::ProductTerm::new(one(), [0, 1])],
    };
    let sum: Fr = a.iter().zip(&b).map(|(x, y)| *x * y).sum();
    let output = sumcheck::prove(&statement, vec![a.clone(), b.clone()], &mut Transcript::new(b"t"));
    assert_eq!(output.claimed_sum, sum);
    let claims = sumcheck::verify(&statement, sum, &output.proof, &mut Transcript::new(b"t")).unwrap();
    assert_eq!(claims[0].value, evaluate(&a, &claims[0].point));
    assert_eq!(claims[1].value, evaluate(&b, &claims[1].point));
}

#[test]
fn claim_merging_of_one_two_and_five_claims() {
    let mut r = rng(7);
    let values = random_fields(&mut r, 1 << 6);
    for count in [1, 2, 5] {
        let claims: Vec<Claim> = (0..count)
            .map(|_| {
                let point = random_fields(&mut r, 6);
                Claim { tensor: TensorId(3), value: evaluate(&values, &point), point }
            })
            .collect();
        let (proof, merged) = prove_merge(TensorId(3), &claims, &values, &mut Transcript::new(b"m"));
        assert_eq!(proof.sumcheck.is_some(), count > 1);
        let verified = verify_merge(TensorId(3), &claims, &proof, &mut Transcript::new(b"m")).unwrap();
        assert_eq!(verified, merged);
        assert_eq!(merged.value, evaluate(&values, &merged.point), "{count} claims");
    }
    // Two claims at the same point merge as well.
    let point = random_fields(&mut r, 6);
    let claim = Claim { tensor: TensorId(3), value: evaluate(&values, &point), point };
    let claims = vec![claim.clone(), claim];
    let (proof, merged) = prove_merge(TensorId(3), &claims, &values, &mut Transcript::new(b"m"));
    assert_eq!(verify_merge(TensorId(3), &claims, &proof, &mut Transcript::new(b"m")).unwrap(), merged);
}

/// `Σ_j M[i][j] g_j + β_i h`, straight from the definition with arkworks' MSM.
fn naive_row_commitments(
    key: &CommitmentKey,
    values: &[Fr],
    log_cols: u32,
    blinds: &CommitmentBlinds,
) -> Vec<zkdl_runtime::G1Affine> {
    let cols = 1usize << log_cols;
    values
        .chunks(cols)
        .zip(blinds.values())
        .map(|(row, blind)| {
            let mut bases = key.generators()[..cols].to_vec();
            bases.push(key.blinding_generator());
            let mut scalars = row.to_vec();
            scalars.push(*blind);
            G1Projective::msm_unchecked(&bases, &scalars).into_affine()
        })
        .collect()
}

#[test]
fn every_value_kind_commits_to_the_pedersen_definition() {
    let key = CommitmentKey::new(6);
    let mut r = rng(9);
    // (log_rows, log_cols): one entry, one row, one column, square, and enough rows for the tables.
    for (log_rows, log_cols) in [(0u32, 0u32), (0, 5), (4, 0), (3, 3), (7, 4)] {
        let len = 1usize << (log_rows + log_cols);
        let blinds = CommitmentBlinds::random(1 << log_rows, &mut r);
        let bits: Vec<bool> = (0..len).map(|_| r.gen_bool(0.3)).collect();
        let bit_fields: Vec<Fr> = bits.iter().map(|b| Fr::from(*b)).collect();
        let expected = naive_row_commitments(&key, &bit_fields, log_cols, &blinds);
        assert_eq!(
            key.commit_with_blinds(bits.as_slice(), log_cols, &blinds).rows,
            expected,
            "bits {log_rows}+{log_cols}"
        );

        let small: Vec<i16> = (0..len).map(|_| r.gen()).collect();
        let expected = naive_row_commitments(
            &key,
            &small.iter().map(|v| Fr::from(i64::from(*v))).collect::<Vec<_>>(),
            log_cols,
            &blinds,
        );
        assert_eq!(
            key.commit_with_blinds(small.as_slice(), log_cols, &blinds).rows,
            expected,
            "i16 {log_rows}+{log_cols}"
        );

        // Extremes of i128 and i64, zeros, and values at digit boundaries (±128, ±129, ±255, ±256).
        let edges =
            [i128::MIN, i128::MAX, i128::from(i64::MIN), 0, 1, -1, 128, -128, 129, -129, 255, -256, 32768, -32768];
        let wide: Vec<i128> =
            (0..len).map(|i| if i % 3 == 0 { edges[i % edges.len()] } else { r.gen::<i64>().into() }).collect();
        let expected =
            naive_row_commitments(&key, &wide.iter().map(|v| Fr::from(*v)).collect::<Vec<_>>(), log_cols, &blinds);
        assert_eq!(
            key.commit_with_blinds(wide.as_slice(), log_cols, &blinds).rows,
            expected,
            "i128 {log_rows}+{log_cols}"
        );

        let fields = random_fields(&mut r, len);
        let expected = naive_row_commitments(&key, &fields, log_cols, &blinds);
        assert_eq!(
            key.commit_with_blinds(fields.as_slice(), log_cols, &blinds).rows,
            expected,
            "field {log_rows}+{log_cols}"
        );

        let zeros = vec![0i32; len];
        let expected = naive_row_commitments(&key, &vec![Fr::from(0u64); len], log_cols, &blinds);
        assert_eq!(
            key.commit_with_blinds(zeros.as_slice(), log_cols, &blinds).rows,
            expected,
            "zeros {log_rows}+{log_cols}"
        );
    }
}

#[test]
fn commitments_hide_equal_values_behind_fresh_blinds() {
    let key = CommitmentKey::new(3);
    let mut r = rng(10);
    let values = vec![1i8; 64];
    let (a, _) = key.commit(values.as_slice(), 3, &mut r);
    let (b, _) = key.commit(values.as_slice(), 3, &mut r);
    assert!(a.rows.iter().zip(&b.rows).all(|(x, y)| x != y));
}

#[test]
fn generators_are_deterministic_distinct_and_prefix_closed() {
    let small = CommitmentKey::new(2);
    let large = CommitmentKey::new(4);
    assert_eq!(small.generators(), &large.generators()[..4]);
    let mut all = large.generators().to_vec();
    all.extend([large.blinding_generator(), large.inner_product_generator()]);
    for (i, g) in all.iter().enumerate() {
        assert!(all[i + 1..].iter().all(|h| g != h), "generator {i} repeats");
    }
    assert_eq!(small.blinding_generator(), large.blinding_generator());
}

#[test]
fn openings_verify_for_every_layout_and_value_kind() {
    let key = CommitmentKey::new(5);
    let mut r = rng(12);
    for (log_rows, log_cols) in [(0u32, 0u32), (0, 1), (1, 0), (0, 5), (5, 0), (3, 2), (2, 5), (7, 4)] {
        let n = (log_rows + log_cols) as usize;
        let len = 1usize << n;
        let small: Vec<i32> = (0..len).map(|_| r.gen_range(-70000..70000)).collect();
        let values: Vec<Fr> = small.iter().map(|v| Fr::from(i64::from(*v))).collect();
        let (commitment, blinds) = key.commit(small.as_slice(), log_cols, &mut r);
        let point = random_fields(&mut r, n);
        let (proof, value) = key.open(&mut Transcript::new(b"o"), &commitment, &values, &blinds, &point, &mut r);
        assert_eq!(value, evaluate(&values, &point));
        let claim = Claim { tensor: TensorId(0), point, value };
        key.verify_opening(&mut Transcript::new(b"o"), &commitment, &claim, &proof)
            .unwrap_or_else(|e| panic!("{log_rows}+{log_cols}: {e}"));
    }
    // All-zero tensor, opened at a boolean point.
    let zeros = vec![Fr::from(0u64); 16];
    let (commitment, blinds) = key.commit(zeros.as_slice(), 2, &mut r);
    let point = vec![Fr::from(1u64), Fr::from(0u64), Fr::from(1u64), Fr::from(1u64)];
    let (proof, value) = key.open(&mut Transcript::new(b"o"), &commitment, &zeros, &blinds, &point, &mut r);
    assert_eq!(value, Fr::from(0u64));
    let claim = Claim { tensor: TensorId(0), point, value };
    key.verify_opening(&mut Transcript::new(b"o"), &commitment, &claim, &proof).unwrap();
}

#[test]
fn field_commitments_of_many_rows_match_the_definition() {
    // Many rows of full-width field elements: the digit-table path, which never nests arkworks'
    // thread pools inside rayon tasks (one MSM per row in parallel overflowed the worker stacks).
    let key = CommitmentKey::new(1);
    let mut r = rng(13);
    let values = random_fields(&mut r, 1 << 13);
    let blinds = CommitmentBlinds::random(1 << 12, &mut r);
    let commitment = key.commit_with_blinds(values.as_slice(), 1, &blinds);
    let expected =
        naive_row_commitments(&key, &values[..64], 1, &CommitmentBlinds::from_values(blinds.values()[..32].to_vec()));
    assert_eq!(commitment.rows[..32], expected[..]);
}
