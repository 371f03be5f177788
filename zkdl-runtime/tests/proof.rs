//! The proof of training: completeness on real training runs.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::{compile, CompileOptions};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::proof::{self, key_log_cols, Tables};
use zkdl_runtime::training::witness::Witness;

mod common;

use common::small_spec;

fn small_witness(steps: u32, seed: u64) -> Witness {
    common::witness(&small_spec(), steps, seed)
}

#[test]
fn honest_proofs_verify() {
    for steps in [1, 3] {
        let witness = small_witness(steps, 4);
        let plan = &witness.plan;
        let tables = Tables::from_witness(&witness);
        let key = CommitmentKey::new(key_log_cols(plan));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (public, secrets) = proof::commit_statement(plan, &key, &tables, &mut rng);
        let (body, _) = proof::prove(plan, &key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
        proof::verify(plan, &key, &public, &body).unwrap_or_else(|e| panic!("T = {steps}: {e}"));
    }
}

/// The packed b the prover commits equals the witness read bit by bit, and proving from it gives the
/// same proof, byte for byte, as proving from b as field elements (the generic paths) and as proving
/// with W_t and G_W streamed from the witness.
#[test]
fn packed_bits_prove_exactly_like_field_bits() {
    let witness = small_witness(2, 8);
    let plan = &witness.plan;
    let tables = Tables::from_witness(&witness);
    let proof::BitTable::Packed(bits) = &tables.bits else { panic!("an honest witness gives packed bits") };
    for i in 0..bits.len() {
        assert_eq!(bits.get(i), witness.bit(i as u64), "bit {i} of b");
    }
    let mut field = tables.clone();
    field.bits.field_mut();
    let key = CommitmentKey::new(key_log_cols(plan));
    let prove = |tables: &Tables| {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (public, secrets) = proof::commit_statement(plan, &key, tables, &mut rng);
        let (body, _) = proof::prove(plan, &key, tables, &public, &secrets, &mut rng, |_| {}).unwrap();
        (public, body)
    };
    let (public, packed_body) = prove(&tables);
    let (_, field_body) = prove(&field);
    assert!(packed_body == field_body, "packed and field bits give different proofs");
    let streaming = Tables::streaming(&witness);
    assert!(streaming.tensors.iter().any(Vec::is_empty), "W_t and G_W are left in the witness");
    let (_, streamed_body) = prove(&streaming);
    assert!(packed_body == streamed_body, "streamed W_t and G_W give a different proof");
    proof::verify(plan, &key, &public, &packed_body).unwrap();
    // A compact witness (W_0, W_T and the activations only) proves the same, byte for byte.
    let compact = Witness::from_compact_parts(
        plan,
        witness.batches.clone(),
        witness.weights[0].clone(),
        witness.weights.last().unwrap().clone(),
        witness.traces.clone(),
    );
    compact.check_relations().unwrap();
    let (_, compact_body) = prove(&Tables::streaming(&compact));
    assert!(packed_body == compact_body, "a compact witness gives a different proof");
    // Relations reading their operands a block at a time prove the same, whatever the block size
    // (one entry, part of an instance, several instances), from held tables or from the witness.
    for block_vars in [0, 3, 7, 12] {
        let blocked = Tables::streaming(&compact).with_block_vars(block_vars);
        assert!(prove(&blocked).1 == packed_body, "blocks of 2^{block_vars} from the witness");
        let held = tables.clone().with_block_vars(block_vars);
        assert!(prove(&held).1 == packed_body, "blocks of 2^{block_vars} from held tables");
    }
}

#[test]
fn public_data_and_public_initial_weights_are_checked_in_the_clear() {
    use zkdl_compiler::Visibility;
    for visibility in [
        Visibility { public_data: true, public_initial_weights: false, public_final_weights: false },
        Visibility { public_data: false, public_initial_weights: true, public_final_weights: false },
        Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
    ] {
        let honest = small_witness(2, 6);
        let plan = compile(&small_spec(), CompileOptions { steps: 2, visibility }).unwrap();
        let witness = Witness::from_parts(&plan, honest.batches, honest.weights, honest.traces);
        let tables = Tables::from_witness(&witness);
        let key = CommitmentKey::new(key_log_cols(&plan));
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (public, secrets) = proof::commit_statement(&plan, &key, &tables, &mut rng);
        // X and Y; W_0 and β_0 of each of the three layers.
        let expected = usize::from(visibility.public_data) * 2 + usize::from(visibility.public_initial_weights) * 6;
        assert_eq!(public.public_values.len(), expected, "{visibility:?}");
        let (body, _) = proof::prove(&plan, &key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
        proof::verify(&plan, &key, &public, &body).unwrap_or_else(|e| panic!("{visibility:?}: {e}"));
        // Public values that differ from the ones proven are rejected.
        let mut altered = public.clone();
        altered.public_values[0].1.field_mut()[3] += zkdl_runtime::Fr::from(1u64);
        assert!(proof::verify(&plan, &key, &altered, &body).is_err(), "{visibility:?}");
    }
}

#[test]
fn proof_files_round_trip_and_name_what_is_wrong() {
    use zkdl_runtime::proof::file::{ProofFile, ProofFileError};
    let witness = small_witness(1, 3);
    let plan = &witness.plan;
    let tables = Tables::from_witness(&witness);
    let key = CommitmentKey::new(key_log_cols(plan));
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (public, secrets) = proof::commit_statement(plan, &key, &tables, &mut rng);
    let (body, _) = proof::prove(plan, &key, &tables, &public, &secrets, &mut rng, |_| {}).unwrap();
    let file = ProofFile {
        spec: small_spec(),
        initial_seed: None,
        initial_weights: Default::default(),
        steps: 1,
        visibility: plan.visibility,
        plan_digest: plan.digest(),
        public,
        body,
    };
    let dir = std::env::temp_dir().join(format!("zkdl-proof-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("small.proof");
    file.write(&path).unwrap();
    let (read, replan) = ProofFile::read(&path).unwrap();
    assert_eq!(read, file);
    assert_eq!(&replan, plan);
    proof::verify(&replan, &key, &read.public, &read.body).unwrap();

    let bytes = file.to_bytes();
    let error = |bytes: &[u8]| ProofFile::from_bytes(bytes).unwrap_err();
    assert!(matches!(error(b"not a proof"), ProofFileError::Format { offset: 0, .. }));
    assert!(matches!(error(&bytes[..bytes.len() - 1]), ProofFileError::Decode { what: "proof body", .. }));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(error(&trailing).to_string().contains("trailing"), "{}", error(&trailing));
    let mut version = bytes.clone();
    version[8] = 9;
    assert!(error(&version).to_string().contains("format version 9"));
    // A digest that is not the plan's: the file pairs the proof with another plan.
    let mut digest = bytes.clone();
    let at = 8 + 4 + 4 + 4 + serde_json::to_vec(&small_spec()).unwrap().len() + 4 + 1 + 8;
    digest[at] ^= 1;
    assert!(matches!(error(&digest), ProofFileError::Digest { .. }));
    // A seed the flags do not use is not ignored: a statement has one encoding.
    let mut seed = bytes.clone();
    seed[at - 8] ^= 1;
    assert!(error(&seed).to_string().contains("without statement flag bit 3"), "{}", error(&seed));
    std::fs::remove_dir_all(&dir).unwrap();
}
