//! Public final weights: W_T given in the clear in the statement instead of committed as C_WT.
//!
//! Completeness in both modes through the proof file (alone, and with public data, public W_0 and W_0
//! from a seed), the statement helpers (`check_public_final_weights`, no C_WT to open), and one named
//! test per attack on the public W_T: changed after proving, taken from another run, or outside the
//! range the proof relies on.

use ark_ff::One;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::plan::{StackRole, StackedTensor, Storage};
use zkdl_compiler::{CompileOptions, NetworkSpec, Plan, Visibility};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::tensor::power_of_two;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, PublicInputs, PublicValues, Tables};
use zkdl_runtime::statement::{
    check_final_weights, check_public_final_weights, final_weights_digest, safetensors_sha256, weight_stack_values,
    FinalWeightsBlinds, StatementError,
};
use zkdl_runtime::training::weights::{FixedWeights, Init, SeededInit};
use zkdl_runtime::training::witness::Witness;
use zkdl_runtime::{Fr, VerificationError};

mod common;

use common::{entry, tensor, witness_with};

/// 64 → 16 → relu → 8 → relu → 10, batch 8, lr 2^-3.
fn small() -> NetworkSpec {
    common::small_spec()
}

/// Public final weights, with public data and public initial weights as given.
fn public_final(public_data: bool, public_initial_weights: bool) -> Visibility {
    Visibility { public_data, public_initial_weights, public_final_weights: true }
}

fn options(steps: u32, visibility: Visibility) -> CompileOptions {
    CompileOptions { steps, visibility }
}

/// The stacked W_T tensors of a plan.
fn final_stacks(plan: &Plan) -> impl Iterator<Item = &StackedTensor> {
    plan.tensors.iter().filter(|t| t.role == StackRole::FinalWeight)
}

/// Proves `tables` for `plan` in `mode` and returns the proof file as a verifier reads it back from
/// its bytes, with the plan it recompiles.
fn prove_file(
    plan: &Plan,
    tables: &Tables,
    mode: Mode,
    initial_seed: Option<SeededInit>,
    seed: u64,
) -> (ProofFile, Plan) {
    let key = CommitmentKey::new(key_log_cols(plan));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (public, secrets) = proof::commit_statement(plan, &key, tables, &mut rng);
    assert!(
        final_weights_digest(plan, &public).is_none()
            && FinalWeightsBlinds::from_secrets(plan, &public, &secrets).is_none(),
        "public W_T has no C_WT to name or open"
    );
    let (body, _) = proof::prove_in_mode(mode, plan, &key, tables, &public, &secrets, &mut rng, |_| {}).unwrap();
    assert_eq!(body.mode(), mode);
    let file = ProofFile {
        spec: plan.spec.clone(),
        steps: plan.steps,
        visibility: plan.visibility,
        initial_seed,
        initial_weights: Default::default(),
        plan_digest: plan.digest(),
        public,
        body,
    };
    ProofFile::from_bytes(&file.to_bytes()).unwrap()
}

fn verify_file(file: &ProofFile, plan: &Plan) -> Result<(), VerificationError> {
    let key = CommitmentKey::new(key_log_cols(plan));
    proof::verify(plan, &key, &file.public, &file.body)
}

/// Proves in both modes through the file bytes; the verdicts (clear, zero-knowledge).
fn prove_both(plan: &Plan, tables: &Tables) -> Vec<Result<(), VerificationError>> {
    [Mode::Clear, Mode::ZeroKnowledge]
        .into_iter()
        .map(|mode| {
            let (file, plan) = prove_file(plan, tables, mode, None, 5);
            verify_file(&file, &plan)
        })
        .collect()
}

fn assert_rejected(verdicts: Vec<Result<(), VerificationError>>, expected: &str) {
    for (mode, verdict) in ["clear", "zero-knowledge"].iter().zip(verdicts) {
        match verdict {
            Ok(()) => panic!("the {mode} proof was accepted"),
            Err(e) => {
                assert!(e.to_string().contains(expected), "the {mode} proof was rejected for {e}, not {expected:?}")
            }
        }
    }
}

/// The public W_T values of a proof's statement, stack by stack.
fn public_final_values<'a>(plan: &'a Plan, public: &'a PublicInputs) -> Vec<(u32, &'a PublicValues)> {
    final_stacks(plan).map(|t| (t.id.0, public.values(t.id.0).expect("public W_T values"))).collect()
}

/// The index in a stacked W_T tensor of W_T^layer[row, col].
fn final_entry(plan: &Plan, layer: u32, row: u64, col: u64) -> (u32, usize) {
    let id = tensor(plan, StackRole::FinalWeight, layer);
    (id.0, entry(plan, id, plan.steps, layer, row, col))
}

/// The statement of an honest clear proof of `w`.
fn file_public(w: &Witness) -> PublicInputs {
    prove_file(&w.plan, &Tables::from_witness(w), Mode::Clear, None, 1).0.public
}

fn final_weights(w: &Witness) -> &FixedWeights {
    w.weights.last().expect("W_T")
}

#[test]
fn public_final_weights_prove_and_verify_in_both_modes() {
    for (visibility, seeded) in [
        (public_final(false, false), false),
        (public_final(true, false), false),
        (public_final(false, true), false),
        (public_final(true, true), false),
        (public_final(true, true), true),
    ] {
        let seed = 4;
        let w = witness_with(&small(), options(2, visibility), seed);
        w.check_relations().unwrap();
        let plan = &w.plan;
        assert!(final_stacks(plan).all(|t| t.storage == Storage::Public), "{visibility:?}");
        assert!(plan.to_text().contains("final weights public (W_T in the clear)"));
        let tables = Tables::from_witness(&w);
        for mode in [Mode::Clear, Mode::ZeroKnowledge] {
            // The witness starts from He(seed) (`common::witness_with`).
            let initial_seed = seeded.then_some(SeededInit { init: Init::He, seed });
            let (file, replan) = prove_file(plan, &tables, mode, initial_seed, 6);
            let context = format!("{visibility:?}, seeded W_0 {seeded}, {mode:?}");
            assert_eq!(file.visibility, visibility, "{context}");
            assert_eq!(file.initial_seed, initial_seed, "{context}");
            assert_eq!(replan.digest(), plan.digest(), "{context}");
            // No C_WT: W_T travels in the clear, as the run's final weights.
            for t in final_stacks(plan) {
                assert!(file.public.commitment(t.id.0).is_none(), "{context}: a commitment to {}", t.name());
                assert_eq!(
                    file.public.values(t.id.0),
                    Some(&PublicValues::Field(weight_stack_values(t, final_weights(&w)))),
                    "{context}: {}",
                    t.name()
                );
            }
            verify_file(&file, &replan).unwrap_or_else(|e| panic!("{context}: {e}"));
            check_public_final_weights(&replan, &file.public, final_weights(&w)).unwrap();
        }
    }
}

/// Statement flags bit 2 is public final weights; the plan without it keeps its digest and file.
#[test]
fn the_proof_file_records_public_final_weights_in_bit_2() {
    let w = witness_with(&small(), options(1, public_final(false, false)), 2);
    let (file, _) = prove_file(&w.plan, &Tables::from_witness(&w), Mode::Clear, None, 1);
    let bytes = file.to_bytes();
    let spec_len = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    let flags_at = 24 + spec_len;
    assert_eq!(bytes[flags_at], 1 << 2);
    // The same file with bit 2 cleared names a plan with C_WT: its digest no longer matches.
    let mut cleared = bytes.clone();
    cleared[flags_at] = 0;
    let error = ProofFile::from_bytes(&cleared).unwrap_err();
    assert!(error.to_string().contains("plan digest"), "{error}");
    // Bit 4 (W_0 carried from a chain's previous segment) needs the steps before it in the seed word.
    let mut carried = bytes.clone();
    carried[flags_at] |= 1 << 4;
    let error = ProofFile::from_bytes(&carried).unwrap_err();
    assert!(error.to_string().contains("0 steps before it"), "{error}");
    // Bit 5 (He's scheme) means nothing without seeded weights (bit 3), and bits beyond the six known
    // ones are rejected.
    for bit in [5, 6, 7] {
        let mut unknown = bytes.clone();
        unknown[flags_at] |= 1 << bit;
        let error = ProofFile::from_bytes(&unknown).unwrap_err();
        assert!(error.to_string().contains("unknown statement flags"), "bit {bit}: {error}");
    }
}

/// Seeded W_0 is named by scheme and seed (bits 3 and 5, the seed word): a proof from He(seed) read
/// as PyTorch(seed), or from another seed, is checked against the verifier's own regenerated W_0 and
/// rejected.
#[test]
fn seeded_initial_weights_are_pinned_by_scheme_and_seed() {
    let seed = 4;
    let w = witness_with(&small(), options(1, public_final(false, true)), seed);
    let tables = Tables::from_witness(&w);
    let he = SeededInit { init: Init::He, seed };
    let (file, plan) = prove_file(&w.plan, &tables, Mode::ZeroKnowledge, Some(he), 3);
    verify_file(&file, &plan).unwrap();
    let bytes = file.to_bytes();
    let spec_len = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    let flags_at = 24 + spec_len;
    assert_eq!(bytes[flags_at] & (1 << 3 | 1 << 5), 1 << 3 | 1 << 5, "seeded, He's scheme");
    let mut as_pytorch = bytes.clone();
    as_pytorch[flags_at] &= !(1 << 5);
    let mut other_seed = bytes;
    other_seed[flags_at + 1] ^= 1;
    for (tampered, name) in [(as_pytorch, "PyTorch(seed 4)"), (other_seed, "He(seed 5)")] {
        let (read, plan) = ProofFile::from_bytes(&tampered).unwrap();
        assert_eq!(read.initial_seed.unwrap().to_string(), name);
        assert!(verify_file(&read, &plan).is_err(), "a proof from He(seed 4) verified as one from {name}");
    }
}

#[test]
fn check_public_final_weights_accepts_the_runs_final_weights_and_rejects_others() {
    let w = witness_with(&small(), options(2, public_final(false, false)), 3);
    let plan = &w.plan;
    let (file, plan_read) = prove_file(plan, &Tables::from_witness(&w), Mode::ZeroKnowledge, None, 2);
    let public = &file.public;
    check_public_final_weights(&plan_read, public, final_weights(&w)).unwrap();

    let mismatch = |weights: &FixedWeights, what: &str| match check_public_final_weights(plan, public, weights) {
        Err(StatementError::Mismatch(message)) => message,
        other => panic!("{what}: {other:?}"),
    };
    // The initial weights of the same run, and another run's final weights.
    mismatch(&w.weights[0], "W_0");
    let other = witness_with(&small(), options(2, public_final(false, false)), 9);
    mismatch(final_weights(&other), "another run's W_T");
    // One entry off by one, named by layer and entry.
    let mut changed = final_weights(&w).clone();
    let cols = changed.shapes[1].1;
    let value = changed.layers[1].get(3 * cols + 5);
    changed.layers[1].set(3 * cols + 5, value + 1);
    let message = mismatch(&changed, "one entry changed");
    assert!(message.contains("layer 2, entry (3, 5)"), "{message}");

    // Weights of another network are bad input, not a mismatch.
    let wide = NetworkSpec::builder("wide").input(64).dense(32).relu().dense(8).relu().dense(10).sgd(3).batch(8);
    let wide = FixedWeights::he_init(&wide.build().unwrap(), 1).unwrap();
    assert!(matches!(check_public_final_weights(plan, public, &wide), Err(StatementError::Format(_))));

    // With public W_T there is no C_WT to open.
    let key = CommitmentKey::new(key_log_cols(plan));
    let opening = FinalWeightsBlinds { final_weights: [0; 32], blinds: Vec::new() };
    let error = check_final_weights(plan, public, &key, final_weights(&w), &opening).unwrap_err();
    assert!(matches!(error, StatementError::Format(_)), "{error:?}");

    // A proof that commits to W_T has no public W_T to check, but a C_WT to open.
    let committed = witness_with(&small(), CompileOptions::steps(2), 3);
    let key = CommitmentKey::new(key_log_cols(&committed.plan));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let tables = Tables::from_witness(&committed);
    let (public, secrets) = proof::commit_statement(&committed.plan, &key, &tables, &mut rng);
    let error = check_public_final_weights(&committed.plan, &public, final_weights(&committed)).unwrap_err();
    assert!(matches!(error, StatementError::Format(_)), "{error:?}");
    let opening = FinalWeightsBlinds::from_secrets(&committed.plan, &public, &secrets).expect("C_WT's blinds");
    check_final_weights(&committed.plan, &public, &key, final_weights(&committed), &opening).unwrap();
}

#[test]
fn safetensors_sha256_hashes_the_file_bytes() {
    use sha2::{Digest, Sha256};
    let w = witness_with(&small(), options(1, public_final(false, false)), 3);
    let dir = std::env::temp_dir().join(format!("zkdl-public-final-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("final.safetensors");
    final_weights(&w).save(&path, &w.plan.spec, 1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let expected: [u8; 32] = Sha256::digest(&bytes).into();
    assert_eq!(safetensors_sha256(&path).unwrap(), expected);
    let loaded = FixedWeights::load(&path, &w.plan.spec).unwrap();
    check_public_final_weights(&w.plan, &file_public(&w), &loaded).unwrap();
    assert!(safetensors_sha256(&dir.join("missing.safetensors")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An honest proof, then one public W_T value changed in the statement the verifier reads.
#[test]
fn a_public_final_weight_changed_after_proving_is_rejected() {
    let w = witness_with(&small(), options(2, public_final(false, false)), 5);
    let plan = &w.plan;
    let tables = Tables::from_witness(&w);
    for mode in [Mode::Clear, Mode::ZeroKnowledge] {
        let (mut file, replan) = prove_file(plan, &tables, mode, None, 3);
        verify_file(&file, &replan).unwrap();
        let (id, index) = final_entry(plan, 2, 3, 5);
        let values = &mut file.public.public_values.iter_mut().find(|(i, _)| *i == id).unwrap().1;
        values.field_mut()[index] += Fr::one();
        assert!(verify_file(&file, &replan).is_err(), "{mode:?}: a changed W_T was accepted");
        let (reread, replan) = ProofFile::from_bytes(&file.to_bytes()).unwrap();
        assert!(verify_file(&reread, &replan).is_err(), "{mode:?}: a changed W_T was accepted from the file");
    }
}

/// Another run's final weights stated as this run's: swapped into an honest proof's statement, or
/// stated from the start and proven with this run's training.
#[test]
fn public_final_weights_of_another_run_are_rejected() {
    let w = witness_with(&small(), options(2, public_final(false, false)), 7);
    let other = witness_with(&small(), options(2, public_final(false, false)), 8);
    let plan = &w.plan;
    assert_ne!(final_weights(&w).layers[1].to_i128(), final_weights(&other).layers[1].to_i128());
    let tables = Tables::from_witness(&w);
    for mode in [Mode::Clear, Mode::ZeroKnowledge] {
        let (mut file, replan) = prove_file(plan, &tables, mode, None, 3);
        verify_file(&file, &replan).unwrap();
        let (other_file, _) = prove_file(plan, &Tables::from_witness(&other), mode, None, 4);
        for (id, values) in public_final_values(plan, &other_file.public) {
            file.public.public_values.iter_mut().find(|(i, _)| *i == id).unwrap().1 = values.clone();
        }
        assert!(verify_file(&file, &replan).is_err(), "{mode:?}: another run's W_T was accepted");
    }
    // The prover states the other run's W_T before proving: the transcript is consistent, U1 is not.
    let mut forged = tables.clone();
    for t in final_stacks(plan) {
        forged.tensors[t.id.0 as usize] = weight_stack_values(t, final_weights(&other));
    }
    assert_rejected(prove_both(plan, &forged), "U1 SgdUpdate");
}

/// Everything honest but one public W_T entry of about 2^200: the statement's range check rejects it
/// before any relation is checked.
#[test]
fn a_public_final_weight_outside_its_range_is_rejected() {
    let w = witness_with(&small(), options(1, public_final(false, false)), 3);
    let plan = &w.plan;
    let mut tables = Tables::from_witness(&w);
    let (id, index) = final_entry(plan, 1, 2, 7);
    tables.tensors[id as usize][index] = power_of_two(200) + Fr::from(977u64);
    let bits = plan.bounds.weight + 1;
    assert_rejected(prove_both(plan, &tables), &format!("outside the {bits}-bit signed range"));
    // The honest values sit inside the range, negative ones included.
    let honest = Tables::from_witness(&w);
    for verdict in prove_both(plan, &honest) {
        verdict.unwrap();
    }
}
