//! A committed dataset and the link of a run's batches to it: completeness in both modes, and one
//! named test per attack on the link (`docs/statement.md`).

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Plan};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::zk::Mode;
use zkdl_runtime::proof::dataset_link::DatasetProverInput;
use zkdl_runtime::proof::file::ProofFile;
use zkdl_runtime::proof::{self, key_log_cols, Tables};
use zkdl_runtime::statement::dataset::{DatasetCommitment, DatasetSecrets, DatasetStatement};
use zkdl_runtime::training::data::{Dataset, EpochBatches};
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::FixedWeights;
use zkdl_runtime::training::witness::Witness;
use zkdl_runtime::VerificationError;

mod common;

const STEPS: u32 = 2;
const SAMPLING_SEED: u64 = 9;

struct Fixture {
    spec: NetworkSpec,
    plan: Plan,
    key: CommitmentKey,
    train: Dataset,
    commitment: DatasetCommitment,
    secrets: DatasetSecrets,
}

/// The small network, the digits training split (test fraction 0.2, split seed 3), committed.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let spec = common::small_spec();
        let plan = compile(&spec, CompileOptions::steps(STEPS)).unwrap();
        let key = CommitmentKey::new(key_log_cols(&plan));
        let (train, _) = Dataset::digits().split(0.2, 3).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (commitment, secrets) =
            DatasetCommitment::commit(&key, &spec, &train, "digits", 0.2, 3, &mut rng, &|_| {}).unwrap();
        Fixture { spec, plan, key, train, commitment, secrets }
    })
}

/// The witness of a run on `data` with step t's batch `batches[t]`.
fn run(f: &Fixture, data: &Dataset, batches: &[Vec<usize>]) -> Witness {
    let trainer = Trainer::new(&f.spec, STEPS as u64).unwrap();
    let batches = batches.iter().enumerate().map(|(t, b)| trainer.batch(data, b, t as u64).unwrap()).collect();
    Witness::generate(&f.plan, FixedWeights::he_init(&f.spec, 4).unwrap(), batches, |_, _| {}).unwrap()
}

/// The batches of the public rule for `seed`.
fn rule(f: &Fixture, seed: u64) -> Vec<Vec<usize>> {
    let order = EpochBatches::new(f.train.len(), f.spec.batch as usize, seed).unwrap();
    (0..STEPS as u64).map(|t| order.batch(t)).collect()
}

fn statement(commitment: &DatasetCommitment, sampling_seed: u64) -> DatasetStatement {
    DatasetStatement { digest: commitment.digest().to_vec(), examples: commitment.header.examples, sampling_seed }
}

/// Proves `witness` against the dataset statement `claimed` in `mode` (after a round trip through the
/// file bytes) and verifies it against the verifier's dataset `held`.
fn prove_and_verify(
    witness: &Witness,
    claimed: DatasetStatement,
    held: &DatasetCommitment,
    mode: Mode,
) -> Result<(), VerificationError> {
    let f = fixture();
    let tables = Tables::from_witness(witness);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (mut public, secrets) = proof::commit_statement(&f.plan, &f.key, &tables, &mut rng);
    public.dataset = Some(claimed);
    let input = DatasetProverInput { commitment: &f.commitment, secrets: &f.secrets };
    let (body, _) =
        proof::prove_with_dataset(mode, &f.plan, &f.key, &tables, &public, &secrets, Some(&input), &mut rng, |_| {})
            .unwrap();
    let file = ProofFile {
        spec: f.spec.clone(),
        steps: STEPS,
        visibility: f.plan.visibility,
        initial_seed: None,
        initial_weights: Default::default(),
        plan_digest: f.plan.digest(),
        public,
        body,
    };
    let (file, plan) = ProofFile::from_bytes(&file.to_bytes()).unwrap();
    // Without the dataset everything but the link verifies.
    proof::verify(&plan, &f.key, &file.public, &file.body)?;
    proof::verify_with_dataset(&plan, &f.key, &file.public, &file.body, Some(held))
}

fn both_modes(
    witness: &Witness,
    claimed: DatasetStatement,
    held: &DatasetCommitment,
) -> Vec<Result<(), VerificationError>> {
    [Mode::Clear, Mode::ZeroKnowledge]
        .into_iter()
        .map(|m| prove_and_verify(witness, claimed.clone(), held, m))
        .collect()
}

fn assert_rejected(verdicts: Vec<Result<(), VerificationError>>, expected: &str) {
    for (mode, verdict) in ["clear", "zero-knowledge"].iter().zip(verdicts) {
        let error = verdict.expect_err(&format!("the {mode} proof was accepted"));
        assert!(error.to_string().contains(expected), "the {mode} proof was rejected for {error}, not {expected:?}");
    }
}

#[test]
fn batches_drawn_by_the_rule_verify_in_both_modes() {
    let f = fixture();
    let witness = run(f, &f.train, &rule(f, SAMPLING_SEED));
    for verdict in both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &f.commitment) {
        verdict.unwrap();
    }
}

#[test]
fn the_dataset_file_round_trips_and_rejects_garbage() {
    let f = fixture();
    let bytes = f.commitment.to_bytes();
    assert_eq!(DatasetCommitment::from_bytes(&bytes).unwrap(), f.commitment);
    assert_eq!(DatasetSecrets::from_bytes(&f.secrets.to_bytes()).unwrap(), f.secrets);
    for cut in [0, 7, 15, 40, bytes.len() - 1] {
        assert!(DatasetCommitment::from_bytes(&bytes[..cut]).is_err(), "a file cut at byte {cut} decoded");
    }
    let mut spec = f.spec.clone();
    spec.input = 32;
    assert!(f.commitment.check_network(&spec).is_err(), "a network of another input width fits");
}

#[test]
fn a_batch_row_that_is_not_in_the_dataset() {
    // The prover trains on a doctored copy: one example of the first batch has a pixel changed.
    let f = fixture();
    let batches = rule(f, SAMPLING_SEED);
    let mut features = f.train.features.clone();
    let example = batches[0][3];
    features[example * f.train.feature_count + 20] = 0.5;
    let doctored =
        Dataset::from_parts("doctored", f.train.feature_count, f.train.class_count, features, f.train.labels.clone())
            .unwrap();
    let witness = run(f, &doctored, &batches);
    assert_rejected(both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &f.commitment), "X[8×64] is not");
}

#[test]
fn a_dataset_row_that_the_rule_did_not_select() {
    // Real dataset rows, but step 1's batch has one example the rule did not pick.
    let f = fixture();
    let mut batches = rule(f, SAMPLING_SEED);
    batches[1][5] = (batches[1][5] + 1) % f.train.len();
    let witness = run(f, &f.train, &batches);
    assert_rejected(both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &f.commitment), "is not the dataset");
}

#[test]
fn batches_of_another_sampling_seed() {
    // Honest batches of seed 10, claimed as the batches of seed 9.
    let f = fixture();
    let witness = run(f, &f.train, &rule(f, SAMPLING_SEED + 1));
    assert_rejected(both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &f.commitment), "is not the dataset");
}

#[test]
fn another_datasets_commitment() {
    // The verifier holds another commitment (another split of digits): the digest the proof names
    // differs; and a proof that names the other dataset while drawing from this one fails the link.
    let f = fixture();
    let (other_train, _) = Dataset::digits().split(0.2, 4).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (other, _) =
        DatasetCommitment::commit(&f.key, &f.spec, &other_train, "digits", 0.2, 4, &mut rng, &|_| {}).unwrap();
    let witness = run(f, &f.train, &rule(f, SAMPLING_SEED));
    assert_rejected(both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &other), "another dataset");
    assert_rejected(both_modes(&witness, statement(&other, SAMPLING_SEED), &other), "is not the dataset");
}

#[test]
fn a_dataset_commitment_with_a_row_dropped_or_duplicated() {
    let f = fixture();
    let witness = run(f, &f.train, &rule(f, SAMPLING_SEED));
    let example = rule(f, SAMPLING_SEED)[0][0];
    let mut dropped = f.commitment.clone();
    for c in [&mut dropped.features, &mut dropped.targets] {
        let _ = c.rows.remove(example);
        c.rows.push(c.rows[0]);
    }
    let mut duplicated = f.commitment.clone();
    for c in [&mut duplicated.features, &mut duplicated.targets] {
        c.rows[example] = c.rows[(example + 1) % f.train.len()];
    }
    for tampered in [dropped, duplicated] {
        // Against the genuine statement: the digest differs.
        assert_rejected(both_modes(&witness, statement(&f.commitment, SAMPLING_SEED), &tampered), "another dataset");
        // A statement naming the tampered commitment: the link fails.
        assert_rejected(both_modes(&witness, statement(&tampered, SAMPLING_SEED), &tampered), "is not the dataset");
    }
}

/// The dataset's commitment by value tables (digits has at most 17 values per column) is the
/// commitment the signed-digit engine makes of the same rows with the same blinds.
#[test]
fn value_tables_commit_as_the_digit_engine_does() {
    use zkdl_runtime::crypto::commitment::CommitmentBlinds;
    let f = fixture();
    let trainer = Trainer::new(&f.spec, 1).unwrap();
    let rows = f.commitment.features.rows.len();
    let indices: Vec<usize> = (0..f.train.len()).collect();
    let batch = trainer.batch(&f.train, &indices, 0).unwrap();
    let mut values = vec![0i64; rows << 6];
    for (i, v) in batch.x.iter().enumerate() {
        values[i] = v as i64;
    }
    let by_digits =
        f.key.commit_with_blinds(&values[..], 6, &CommitmentBlinds::from_values(f.secrets.features.values().to_vec()));
    assert_eq!(by_digits, f.commitment.features);
}
