//! Soundness of the proof of training, one named test per attack: a cheating prover corrupts the
//! witness after training, skips the honest self-check and proves anyway; the verifier must reject.
//! Also: statements and plans that do not belong to the proof, and every single-byte flip of a
//! small proof file (rejection or a decode error, never a panic).

use std::sync::OnceLock;

use ark_ff::{One, Zero};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::ir::RangeChecked;
use zkdl_compiler::plan::{StackRole, StackedTensorId};
use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Plan, Role};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::tensor::power_of_two;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, ProofBody, PublicInputs, Tables};
use zkdl_runtime::training::data::Dataset;
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::FixedWeights;
use zkdl_runtime::training::witness::Witness;
use zkdl_runtime::{Fr, VerificationError};

mod common;

use common::{bit, entry, tensor, witness};

/// 64 → 16 → relu → 8 → relu → 10 (every layer with a bias), batch 8, lr 2^-3, T = 2.
fn spec(width: u32, lr_shift: u32) -> NetworkSpec {
    NetworkSpec::builder("small")
        .input(64)
        .dense(width)
        .relu()
        .dense(8)
        .relu()
        .dense(10)
        .sgd(lr_shift)
        .batch(8)
        .build()
        .unwrap()
}

struct Honest {
    plan: Plan,
    tables: Tables<'static>,
    key: CommitmentKey,
}

fn honest() -> &'static Honest {
    static HONEST: OnceLock<Honest> = OnceLock::new();
    HONEST.get_or_init(|| {
        let w = witness(&spec(16, 3), 2, 7);
        w.check_relations().unwrap();
        let key = CommitmentKey::new(key_log_cols(&w.plan));
        Honest { tables: Tables::from_witness(&w), plan: w.plan, key }
    })
}

fn prove(plan: &Plan, key: &CommitmentKey, tables: &Tables, seed: u64) -> (PublicInputs, ProofBody) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (public, secrets) = proof::commit_statement(plan, key, tables, &mut rng);
    let (body, _) = proof::prove(plan, key, tables, &public, &secrets, &mut rng, |_| {}).unwrap();
    (public, body)
}

/// Proves the corrupted tables in both modes (zero-knowledge and clear); returns the verifier's
/// verdict on the zero-knowledge proof after requiring that it matches the clear one's.
fn prove_corrupted(corrupt: impl FnOnce(&Plan, &mut Tables)) -> Result<(), VerificationError> {
    let h = honest();
    let mut tables = h.tables.clone();
    corrupt(&h.plan, &mut tables);
    assert!(tables.tensors != h.tables.tensors || tables.bits != h.tables.bits, "the corruption changed nothing");
    let verdicts: Vec<Result<(), VerificationError>> = [Mode::Clear, Mode::ZeroKnowledge]
        .into_iter()
        .map(|mode| {
            let mut rng = ChaCha20Rng::seed_from_u64(11);
            let (public, secrets) = proof::commit_statement(&h.plan, &h.key, &tables, &mut rng);
            let (body, _) =
                proof::prove_in_mode(mode, &h.plan, &h.key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
            assert_eq!(body.mode(), mode);
            proof::verify(&h.plan, &h.key, &public, &body)
        })
        .collect();
    assert_eq!(verdicts[0].is_ok(), verdicts[1].is_ok(), "the clear proof was judged {:?}", verdicts[0]);
    verdicts.into_iter().next_back().expect("two modes")
}

fn rejected(result: Result<(), VerificationError>) -> VerificationError {
    match result {
        Ok(()) => panic!("the verifier accepted a proof of a corrupted witness"),
        Err(e) => e,
    }
}

fn value(role: Role) -> StackRole {
    StackRole::Tensor(role)
}

fn bump(tables: &mut Tables, id: StackedTensorId, index: usize) {
    tables.tensors[id.0 as usize][index] += Fr::one();
}

macro_rules! corrupting_one_entry_is_rejected {
    ($($name:ident: $role:expr, step $step:expr, layer $layer:expr, ($row:expr, $col:expr);)*) => {$(
        #[test]
        fn $name() {
            let error = rejected(prove_corrupted(|plan, tables| {
                let id = tensor(plan, $role, $layer);
                bump(tables, id, entry(plan, id, $step, $layer, $row, $col));
            }));
            assert!(!error.to_string().is_empty());
        }
    )*};
}

corrupting_one_entry_is_rejected! {
    input_entry: value(Role::Input), step 1, layer 0, (3, 17);
    target_entry: value(Role::Target), step 0, layer 3, (2, 4);
    weight_entry_at_step_1: value(Role::Weight), step 1, layer 2, (5, 6);
    initial_weight_entry: StackRole::InitialWeight, step 0, layer 1, (9, 3);
    pre_activation_entry: value(Role::PreActivation), step 0, layer 2, (1, 1);
    rescaled_entry: value(Role::Rescaled), step 1, layer 1, (4, 9);
    output_rescaled_entry: value(Role::Rescaled), step 0, layer 3, (6, 2);
    activation_entry: value(Role::Activation), step 0, layer 1, (7, 15);
    signal_entry: value(Role::Signal), step 1, layer 2, (0, 3);
    output_signal_entry: value(Role::Signal), step 0, layer 3, (3, 8);
    backward_pre_activation_entry: value(Role::BackwardPreActivation), step 1, layer 1, (2, 2);
    backward_rescaled_entry: value(Role::BackwardRescaled), step 0, layer 2, (5, 5);
    weight_gradient_entry: value(Role::WeightGradient), step 1, layer 3, (4, 7);
    forward_remainder_entry: value(Role::Remainder), step 0, layer 1, (1, 12);
    output_remainder_entry: value(Role::Remainder), step 1, layer 3, (7, 0);
    backward_remainder_entry: value(Role::BackwardRemainder), step 1, layer 2, (6, 1);
    // Biases (every layer of the small network has one): β_t read by M1, β_0 in the statement,
    // the bias gradient g_β = 2^R·1ᵀ·G that U1 subtracts.
    bias_entry_at_step_1: value(Role::Bias), step 1, layer 2, (0, 5);
    initial_bias_entry: StackRole::InitialBias, step 0, layer 1, (0, 9);
    bias_gradient_entry: value(Role::BiasGradient), step 0, layer 3, (0, 7);
    hidden_bias_gradient_entry: value(Role::BiasGradient), step 1, layer 1, (0, 2);
}

#[test]
fn final_bias_entry() {
    // β_T is committed in the statement beside W_T: the prover commits to a wrong final bias.
    rejected(prove_corrupted(|plan, tables| {
        let id = tensor(plan, StackRole::FinalBias, 3);
        bump(tables, id, 4);
    }));
}

#[test]
fn final_weight_entry() {
    // W_T is committed in the statement: the prover commits to a wrong final model.
    rejected(prove_corrupted(|plan, tables| {
        let id = tensor(plan, StackRole::FinalWeight, 2);
        bump(tables, id, 5);
    }));
}

#[test]
fn flipped_sign_bit() {
    rejected(prove_corrupted(|plan, tables| {
        let i = bit(plan, tensor(plan, value(Role::SignBits), 1), 1, 1, 0, 3, 4);
        tables.bits.set(i, Fr::one() - tables.bits.entry(i));
        // Keep A and G consistent with the flipped bit: only the recomposition of Z' can catch it.
        let z1 = tensor(plan, value(Role::Rescaled), 1);
        let z = tables.tensors[z1.0 as usize][entry(plan, z1, 1, 1, 3, 4)];
        let a = tensor(plan, value(Role::Activation), 1);
        let ia = entry(plan, a, 1, 1, 3, 4);
        tables.tensors[a.0 as usize][ia] = tables.bits.entry(i) * z;
    }));
}

#[test]
fn remainder_out_of_range_with_compensating_rescaled_value() {
    // rz + 2^S_W and Z' − 1 keep Z = 2^S_W Z' + rz; the magnitude bits of Z' follow, and the spare
    // plane of rz's bit chunk is set so that rz's bits carry the extra 2^S_W.
    rejected(prove_corrupted(|plan, tables| {
        let s_w = plan.params.weight_scale_bits;
        let (step, layer, row, col) = (0, 1, 2, 5);
        let rz = tensor(plan, value(Role::Remainder), layer);
        tables.tensors[rz.0 as usize][entry(plan, rz, step, layer, row, col)] += power_of_two(s_w);
        let z1 = tensor(plan, value(Role::Rescaled), layer);
        let iz = entry(plan, z1, step, layer, row, col);
        tables.tensors[z1.0 as usize][iz] -= Fr::one();
        // m − 1 in the magnitude planes (m = Z' − 1 + (1 − s)·2^Q).
        let m = tensor(plan, value(Role::MagnitudeBits), layer);
        let q = plan.params.range_bits;
        let planes: Vec<usize> = (0..q).map(|p| bit(plan, m, step, layer, p, row, col)).collect();
        let mut magnitude: u64 =
            planes.iter().enumerate().map(|(p, &i)| (u64::from(tables.bits.entry(i) == Fr::one())) << p).sum();
        magnitude = magnitude.wrapping_sub(1) & ((1 << q) - 1);
        for (p, &i) in planes.iter().enumerate() {
            tables.bits.set(i, Fr::from((magnitude >> p) & 1));
        }
        let rz_bits = tensor(plan, value(Role::RangeBits(RangeChecked::Remainder)), layer);
        let spare = bit(plan, rz_bits, step, layer, s_w, row, col);
        tables.bits.set(spare, Fr::one());
    }));
}

#[test]
fn bit_equal_to_two() {
    // Plane p = 2 and plane p + 1 = 0 recompose to the same value as (0, 1): only the binary check
    // can catch it.
    rejected(prove_corrupted(|plan, tables| {
        let id = tensor(plan, value(Role::RangeBits(RangeChecked::Remainder)), 2);
        let (step, layer) = (1, 2);
        for (row, col) in (0..8).flat_map(|r| (0..8).map(move |c| (r, c))) {
            for p in 0..30 {
                let (low, high) =
                    (bit(plan, id, step, layer, p, row, col), bit(plan, id, step, layer, p + 1, row, col));
                if tables.bits.entry(low).is_zero() && tables.bits.entry(high) == Fr::one() {
                    tables.bits.set(low, Fr::from(2u64));
                    tables.bits.set(high, Fr::zero());
                    return;
                }
            }
        }
        panic!("no bit pattern 01 found");
    }));
}

#[test]
fn nonzero_bit_in_padding() {
    rejected(prove_corrupted(|_, tables| {
        let last = tables.bits.len() - 1;
        tables.bits.set(last, Fr::one());
    }));
}

#[test]
fn nonzero_target_in_padding() {
    // Y is 8 × 10, padded to 8 × 16: column 12 is padding.
    rejected(prove_corrupted(|plan, tables| {
        let y = tensor(plan, value(Role::Target), 3);
        bump(tables, y, entry(plan, y, 0, 3, 1, 12));
    }));
}

#[test]
fn batches_of_two_steps_swapped() {
    // X and Y of steps 0 and 1 swapped, with their range-check bits: every range check holds, the
    // training relations do not.
    rejected(prove_corrupted(|plan, tables| {
        for (role, bits, layer) in [(Role::Input, RangeChecked::Input, 0), (Role::Target, RangeChecked::Target, 3)] {
            let id = tensor(plan, value(role), layer);
            let t = &plan.tensors[id.0 as usize];
            let block = 1usize << (t.layout.row_bits + t.layout.col_bits);
            let values = &mut tables.tensors[id.0 as usize];
            let (first, second) = values.split_at_mut(block);
            first.swap_with_slice(&mut second[..block]);
            let bit_id = tensor(plan, value(Role::RangeBits(bits)), layer);
            let shape = plan.tensors[bit_id.0 as usize].shapes[0];
            for plane in 0..shape.planes {
                for row in 0..shape.rows as u64 {
                    for col in 0..shape.cols as u64 {
                        let (a, b) = (
                            bit(plan, bit_id, 0, layer, plane, row, col),
                            bit(plan, bit_id, 1, layer, plane, row, col),
                        );
                        tables.bits.swap(a, b);
                    }
                }
            }
        }
    }));
}

#[test]
fn final_weight_commitment_from_another_run() {
    let h = honest();
    let (mut public, body) = prove(&h.plan, &h.key, &h.tables, 3);
    proof::verify(&h.plan, &h.key, &public, &body).unwrap();
    let other = Tables::from_witness(&witness(&spec(16, 3), 2, 8));
    let (other_public, _) = prove(&h.plan, &h.key, &other, 4);
    for (id, commitment) in &mut public.commitments {
        if h.plan.tensors[*id as usize].role == StackRole::FinalWeight {
            *commitment = other_public.commitment(*id).unwrap().clone();
        }
    }
    rejected(proof::verify(&h.plan, &h.key, &public, &body));
}

#[test]
fn proof_checked_against_other_plans() {
    let h = honest();
    let (public, body) = prove(&h.plan, &h.key, &h.tables, 5);
    let others = [
        ("other T", compile(&spec(16, 3), CompileOptions::steps(3)).unwrap()),
        ("other learning rate", compile(&spec(16, 4), CompileOptions::steps(2)).unwrap()),
        ("other width", compile(&spec(32, 3), CompileOptions::steps(2)).unwrap()),
    ];
    for (what, plan) in others {
        let key = CommitmentKey::new(key_log_cols(&plan));
        assert!(proof::verify(&plan, &key, &public, &body).is_err(), "accepted against a plan of {what}");
    }
}

/// 8 → 4 → relu → 2, batch 2, T = 1: a proof small enough to flip every byte.
#[test]
fn every_single_byte_flip_is_rejected_or_fails_to_decode() {
    use rayon::prelude::*;
    let spec = NetworkSpec::builder("tiny").input(8).dense(4).relu().dense(2).sgd(1).batch(2).build().unwrap();
    let plan = compile(&spec, CompileOptions::steps(1)).unwrap();
    let trainer = Trainer::new(&spec, 1).unwrap();
    let data = tiny_data();
    let batch = trainer.batch(&data, &[0, 1], 0).unwrap();
    let w = Witness::generate(&plan, FixedWeights::he_init(&spec, 1).unwrap(), vec![batch], |_, _| {}).unwrap();
    let tables = Tables::from_witness(&w);
    let key = CommitmentKey::new(key_log_cols(&plan));
    let (public, body) = prove(&plan, &key, &tables, 1);
    let file = ProofFile {
        spec: spec.clone(),
        initial_seed: None,
        initial_weights: Default::default(),
        steps: 1,
        visibility: plan.visibility,
        plan_digest: plan.digest(),
        public,
        body,
    };
    let bytes = file.to_bytes();
    let (decoded, replan) = ProofFile::from_bytes(&bytes).unwrap();
    proof::verify(&replan, &key, &decoded.public, &decoded.body).unwrap();
    // arkworks' MSM runs its own parallel iterators inside these tasks: big stacks for the nesting.
    let pool = rayon::ThreadPoolBuilder::new().stack_size(256 << 20).build().unwrap();
    let started = std::time::Instant::now();
    let accepted: Vec<usize> = pool.install(|| {
        (0..bytes.len())
            .into_par_iter()
            .filter(|&i| {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0xff;
                match ProofFile::from_bytes(&flipped) {
                    Err(_) => false,
                    Ok((file, plan)) => {
                        let key = CommitmentKey::new(key_log_cols(&plan));
                        proof::verify(&plan, &key, &file.public, &file.body).is_ok()
                    }
                }
            })
            .collect()
    });
    eprintln!("{} bytes flipped one at a time in {:.1} s", bytes.len(), started.elapsed().as_secs_f64());
    assert!(
        accepted.is_empty(),
        "{} of {} flipped bytes accepted, first at {:?}",
        accepted.len(),
        bytes.len(),
        accepted.first()
    );
}

/// Eight digits reduced to 8 features (the mean of each row of the 8 × 8 image).
fn tiny_data() -> Dataset {
    let digits = Dataset::digits();
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for i in 0..8 {
        features.extend(digits.example(i).chunks(8).map(|row| row.iter().sum::<f32>() / 8.0));
        labels.push(digits.labels[i]);
    }
    Dataset::from_parts("tiny digits", 8, 2, features, labels.into_iter().map(|l| l % 2).collect()).unwrap()
}
