//! Holes in what the statement pins down, each found by an attacker against an earlier verifier and
//! each proven here as that attacker would: the witness is forged after training, the honest
//! self-check skipped, and the proof made anyway. Every test fails on a verifier without the fix.

use ark_ff::{One, Zero};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::ir::RangeChecked;
use zkdl_compiler::plan::StackRole;
use zkdl_compiler::{CompileOptions, NetworkSpec, Plan, Role, Visibility};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::tensor::power_of_two;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, Tables};
use zkdl_runtime::{Fr, VerificationError};

mod common;

use common::{bit, entry, tensor, witness_with};

/// 64 → 16 → relu → 8 → relu → 10, batch 8, lr 2^-3.
fn small() -> NetworkSpec {
    common::small_spec()
}

/// Proves `tables` for `plan` in both modes, writes each proof to file bytes and reads it back, and
/// returns the verdicts (clear, zero-knowledge).
fn prove_both(plan: &Plan, tables: &Tables) -> Vec<Result<(), VerificationError>> {
    let key = CommitmentKey::new(key_log_cols(plan));
    [Mode::Clear, Mode::ZeroKnowledge]
        .into_iter()
        .map(|mode| {
            let mut rng = ChaCha20Rng::seed_from_u64(5);
            let (public, secrets) = proof::commit_statement(plan, &key, tables, &mut rng);
            let (body, _) =
                proof::prove_in_mode(mode, plan, &key, tables, &public, &secrets, &mut rng, |_| {}).unwrap();
            let file = ProofFile {
                spec: plan.spec.clone(),
                initial_seed: None,
                initial_weights: Default::default(),
                steps: plan.steps,
                visibility: plan.visibility,
                plan_digest: plan.digest(),
                public,
                body,
            };
            let (file, plan) = ProofFile::from_bytes(&file.to_bytes()).unwrap();
            proof::verify(&plan, &key, &file.public, &file.body)
        })
        .collect()
}

fn assert_rejected(verdicts: Vec<Result<(), VerificationError>>, expected: &str) {
    for (mode, verdict) in ["clear", "zero-knowledge"].iter().zip(verdicts) {
        match verdict {
            Ok(()) => panic!("the {mode} proof of a forged witness was accepted"),
            Err(e) => {
                assert!(e.to_string().contains(expected), "the {mode} proof was rejected for {e}, not {expected:?}")
            }
        }
    }
}

/// A column of the first batch's X that is zero in every row (digits has blank border pixels).
fn zero_column(plan: &Plan, tables: &Tables) -> u64 {
    let x = tensor(plan, StackRole::Tensor(Role::Input), 0);
    (0..64)
        .find(|&c| (0..8).all(|r| tables.tensors[x.0 as usize][entry(plan, x, 0, 0, r, c)].is_zero()))
        .expect("a blank pixel column")
}

/// Sets W_0^1[row, ·] (and so W^1 at step 0, and W_0's range-check bits when W_0 is committed) to
/// `values`, returning the old row.
fn set_initial_weight_row(plan: &Plan, tables: &mut Tables, row: u64, values: &[Fr]) {
    let w0 = tensor(plan, StackRole::InitialWeight, 1);
    let w = tensor(plan, StackRole::Tensor(Role::Weight), 1);
    let committed_w0 = !plan.visibility.public_initial_weights;
    for (col, value) in values.iter().enumerate() {
        let col = col as u64;
        tables.tensors[w0.0 as usize][entry(plan, w0, 0, 1, row, col)] = *value;
        tables.tensors[w.0 as usize][entry(plan, w, 0, 1, row, col)] = *value;
        if committed_w0 {
            assert!(value.is_zero(), "only a zero row keeps W_0's range-check bits simple");
            let bits = tensor(plan, StackRole::Tensor(Role::RangeBits(RangeChecked::InitialWeight)), 1);
            for plane in 0..plan.params.weight_bits {
                tables.bits.set(bit(plan, bits, 0, 1, plane, row, col), Fr::zero());
            }
        }
    }
}

/// The review's attack on public data. With `--public-data` and T = 1, the prover zeroes row c of
/// the committed W_0^1 where column c of X is blank, so Z^1 = X·W^1 does not change; then writes a
/// huge field element x into X[k, c]. Row c of the weight gradient G_W^1 = Xᵀ·G^1 becomes x·G^1[k, ·]
/// and W_T^1[c, ·] = −x·G^1[k, ·]: a row of the final model chosen by the prover, "proven" from a
/// batch no range check ever looked at.
#[test]
fn public_data_outside_its_range_is_rejected() {
    let options = CompileOptions {
        steps: 1,
        visibility: Visibility { public_data: true, public_initial_weights: false, public_final_weights: false },
    };
    let w = witness_with(&small(), options, 3);
    let plan = w.plan.clone();
    let mut tables = Tables::from_witness(&w);
    let c = zero_column(&plan, &tables);
    set_initial_weight_row(&plan, &mut tables, c, &[Fr::zero(); 16]);
    let g = tensor(&plan, StackRole::Tensor(Role::Signal), 1);
    let k = (0..8)
        .find(|&r| (0..16).any(|j| !tables.tensors[g.0 as usize][entry(&plan, g, 0, 1, r, j)].is_zero()))
        .expect("a row of G^1 with a nonzero entry");
    let x_value = power_of_two(250) + Fr::from(12345u64);
    let x = tensor(&plan, StackRole::Tensor(Role::Input), 0);
    tables.tensors[x.0 as usize][entry(&plan, x, 0, 0, k, c)] = x_value;
    let g_w = tensor(&plan, StackRole::Tensor(Role::WeightGradient), 1);
    let w_t = tensor(&plan, StackRole::FinalWeight, 1);
    for j in 0..16 {
        let gradient = x_value * tables.tensors[g.0 as usize][entry(&plan, g, 0, 1, k, j)];
        tables.tensors[g_w.0 as usize][entry(&plan, g_w, 0, 1, c, j)] = gradient;
        tables.tensors[w_t.0 as usize][entry(&plan, w_t, 1, 1, c, j)] = -gradient;
    }
    let expected = format!("outside the {}-bit signed range", plan.params.data_bits);
    assert_rejected(prove_both(&plan, &tables), &expected);
}

/// The same hole for public initial weights: W_0^1[c, ·] of about 2^200 where column c of X is blank
/// leaves every training relation intact and ships a final model with weights no range check saw.
#[test]
fn public_initial_weights_outside_their_range_are_rejected() {
    let options = CompileOptions {
        steps: 1,
        visibility: Visibility { public_data: false, public_initial_weights: true, public_final_weights: false },
    };
    let w = witness_with(&small(), options, 3);
    let plan = w.plan.clone();
    let mut tables = Tables::from_witness(&w);
    let c = zero_column(&plan, &tables);
    let huge: Vec<Fr> = (0..16u64).map(|j| power_of_two(200) * Fr::from(j + 1)).collect();
    set_initial_weight_row(&plan, &mut tables, c, &huge);
    let w_t = tensor(&plan, StackRole::FinalWeight, 1);
    for (j, value) in huge.iter().enumerate() {
        tables.tensors[w_t.0 as usize][entry(&plan, w_t, 1, 1, c, j as u64)] = *value;
    }
    let expected = format!("outside the {}-bit signed range", plan.params.weight_bits);
    assert_rejected(prove_both(&plan, &tables), &expected);
}

/// The honest witnesses of both public options still verify: the range check accepts every value
/// the trainer produces, negative ones included.
#[test]
fn honest_public_inputs_pass_the_range_check() {
    for visibility in [
        Visibility { public_data: true, public_initial_weights: false, public_final_weights: false },
        Visibility { public_data: false, public_initial_weights: true, public_final_weights: false },
        Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
    ] {
        let w = witness_with(&small(), CompileOptions { steps: 2, visibility }, 4);
        let tables = Tables::from_witness(&w);
        for verdict in prove_both(&w.plan, &tables) {
            verdict.unwrap();
        }
    }
}

/// 64 → 16 → relu → 16 → relu → 16 → relu → 16 → relu → 10: the three 16 × 16 weights stack into four
/// layer slots, and slot 3 of W_T is padding.
fn padded_stack() -> NetworkSpec {
    NetworkSpec::builder("padded")
        .input(64)
        .dense(16)
        .relu()
        .dense(16)
        .relu()
        .dense(16)
        .relu()
        .dense(16)
        .relu()
        .dense(10)
        .sgd(3)
        .batch(8)
        .build()
        .unwrap()
}

/// W_T's padding slot was committed but never constrained: a prover could put anything there (a
/// second model, a message) under the statement's C_WT. Now U1 claims W_T on its whole stack.
#[test]
fn nonzero_final_weights_in_a_padding_layer_slot_are_rejected() {
    let w = witness_with(&padded_stack(), CompileOptions::steps(1), 2);
    let plan = w.plan.clone();
    let stack = plan
        .tensors
        .iter()
        .find(|t| t.role == StackRole::FinalWeight && t.layers.len() == 3)
        .expect("a W_T stack of three layers");
    assert_eq!(stack.layout.layer_bits, 2, "three layers in four slots");
    let mut tables = Tables::from_witness(&w);
    let l = stack.layout;
    let slot = 3usize << (l.row_bits + l.col_bits);
    tables.tensors[stack.id.0 as usize][slot + 5] = Fr::one();
    assert_rejected(prove_both(&plan, &tables), "");
}

/// Initial weights committed before training: W_0's layout does not depend on T, so one published
/// commitment serves runs of any length; a proof whose C_W0 is another commitment fails the pin, and
/// weights that do not open it cannot be put in its place.
#[test]
fn a_published_initial_weights_commitment_pins_w0_for_any_t() {
    use zkdl_runtime::statement::InitialWeightsCommitment;
    let spec = small();
    let w = witness_with(&spec, CompileOptions::steps(1), 6);
    let key = CommitmentKey::new(key_log_cols(&w.plan));
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (published, secrets) = InitialWeightsCommitment::commit(&w.plan, &key, &w.weights[0], &mut rng).unwrap();
    for steps in [1, 3] {
        let w = witness_with(&spec, CompileOptions::steps(steps), 6);
        let key = CommitmentKey::new(key_log_cols(&w.plan));
        let tables = Tables::from_witness(&w);
        let (mut public, mut statement_secrets) = proof::commit_statement(&w.plan, &key, &tables, &mut rng);
        assert!(published.check_pin(&w.plan, &public).is_err(), "a fresh C_W0 is not the published one");
        published.apply(&w.plan, &key, &w.weights[0], &secrets, &mut public, &mut statement_secrets).unwrap();
        published.check_pin(&w.plan, &public).unwrap();
        let (body, _) = proof::prove(&w.plan, &key, &tables, &public, &statement_secrets, &mut rng, |_| {}).unwrap();
        proof::verify(&w.plan, &key, &public, &body).unwrap();
    }
    // Other weights (another seed's W_0) do not open the published commitment.
    let other = witness_with(&spec, CompileOptions::steps(1), 7);
    let tables = Tables::from_witness(&other);
    let (mut public, mut statement_secrets) = proof::commit_statement(&other.plan, &key, &tables, &mut rng);
    assert!(published
        .apply(&other.plan, &key, &other.weights[0], &secrets, &mut public, &mut statement_secrets)
        .is_err());
}
