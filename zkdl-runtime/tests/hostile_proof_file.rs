//! A hostile proof file: a few hundred bytes whose spec is valid but whose plan is astronomically
//! large. Reading it must be a decode error, never a panic (an overflow in a debug build) or a plan
//! that wrapped around in release.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::{compile, CompileOptions, NetworkSpec};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::proof::file::{ProofFile, ProofFileError, MAX_STEPS};
use zkdl_runtime::proof::{self, key_log_cols, Tables};
use zkdl_runtime::training::data::Dataset;
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::FixedWeights;
use zkdl_runtime::training::witness::Witness;

/// Input, dense width and batch 2^24 (the largest each may be), R = 1, Q = 2: it passes
/// `NetworkSpec::validate`, but W alone is 2^48 entries, 2^64 over 2^16 steps.
const HOSTILE_SPEC: &str = r#"{"name":"hostile","input":16777216,"layers":[{"dense":16777216}],"loss":"mse","optimizer":{"kind":"sgd","lr_shift":0},"batch":16777216,"fixed_point":{"scale_bits":1,"range_bits":2}}"#;

/// The bytes of an honest proof file: 8 → 4 → relu → 2, batch 2, T = 1.
fn honest_file() -> Vec<u8> {
    let spec = NetworkSpec::builder("tiny").input(8).dense(4).relu().dense(2).sgd(1).batch(2).build().unwrap();
    let plan = compile(&spec, CompileOptions::steps(1)).unwrap();
    let digits = Dataset::digits();
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for i in 0..8 {
        features.extend(digits.example(i).chunks(8).map(|row| row.iter().sum::<f32>() / 8.0));
        labels.push(digits.labels[i] % 2);
    }
    let data = Dataset::from_parts("tiny digits", 8, 2, features, labels).unwrap();
    let batch = Trainer::new(&spec, 1).unwrap().batch(&data, &[0, 1], 0).unwrap();
    let w = Witness::generate(&plan, FixedWeights::he_init(&spec, 1).unwrap(), vec![batch], |_, _| {}).unwrap();
    let tables = Tables::from_witness(&w);
    let key = CommitmentKey::new(key_log_cols(&plan));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (public, secrets) = proof::commit_statement(&plan, &key, &tables, &mut rng);
    let (body, _) = proof::prove(&plan, &key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
    let file = ProofFile {
        spec,
        steps: 1,
        visibility: plan.visibility,
        initial_seed: None,
        initial_weights: Default::default(),
        plan_digest: plan.digest(),
        public,
        body,
    };
    let bytes = file.to_bytes();
    ProofFile::from_bytes(&bytes).expect("the honest file reads back");
    bytes
}

/// `bytes` with the spec replaced by `spec` and T by `steps` (layout: magic 8, format 4, protocol 4,
/// spec length L 4, spec L, T 4, then the rest).
fn with_spec_and_steps(bytes: &[u8], spec: &str, steps: u32) -> Vec<u8> {
    let spec_len = u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    let rest = 20 + spec_len + 4;
    let mut out = bytes[..16].to_vec();
    out.extend_from_slice(&(spec.len() as u32).to_le_bytes());
    out.extend_from_slice(spec.as_bytes());
    out.extend_from_slice(&steps.to_le_bytes());
    out.extend_from_slice(&bytes[rest..]);
    out
}

#[test]
fn a_proof_file_whose_spec_overflows_the_compiler_is_a_plan_error_not_a_panic() {
    let spec: NetworkSpec = serde_json::from_str(HOSTILE_SPEC).unwrap();
    spec.validate().expect("the hostile spec is valid on its own");
    let honest = honest_file();
    for steps in [MAX_STEPS, 1] {
        let hostile = with_spec_and_steps(&honest, HOSTILE_SPEC, steps);
        eprintln!("T = {steps}: a hostile file of {} bytes", hostile.len());
        match ProofFile::from_bytes(&hostile) {
            Err(ProofFileError::Plan(message)) => {
                assert!(message.contains("2^40"), "T = {steps}: the error names the limit: {message}");
            }
            Err(other) => panic!("T = {steps}: expected a plan error, got {other}"),
            Ok(_) => panic!("T = {steps}: a hostile file was accepted"),
        }
    }
}
