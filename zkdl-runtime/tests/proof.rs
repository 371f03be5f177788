//! The proof of training: completeness on real training runs.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkdl_compiler::{compile, CompileOptions, NetworkSpec};
use zkdl_runtime::commitment::CommitmentKey;
use zkdl_runtime::data::{Dataset, EpochBatches};
use zkdl_runtime::proof::{self, key_log_cols, Tables};
use zkdl_runtime::trainer::Trainer;
use zkdl_runtime::weights::FixedWeights;
use zkdl_runtime::witness::Witness;

fn small_spec() -> NetworkSpec {
    NetworkSpec::builder("small").input(64).dense(16).relu().dense(8).relu().dense(10).sgd(3).batch(8).build().unwrap()
}

fn small_witness(steps: u32, seed: u64) -> Witness {
    let spec = small_spec();
    let plan = compile(&spec, CompileOptions::steps(steps)).unwrap();
    let data = Dataset::digits();
    let trainer = Trainer::new(&spec, steps as u64).unwrap();
    let order = EpochBatches::new(data.len(), 8, seed).unwrap();
    let batches = (0..steps as u64).map(|t| trainer.batch(&data, &order.batch(t), t).unwrap()).collect();
    let w0 = FixedWeights::he_init(&spec, seed).unwrap();
    Witness::generate(&plan, w0, batches, |_, _| {}).unwrap()
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
