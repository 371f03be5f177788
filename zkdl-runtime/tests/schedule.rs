//! Learning-rate schedules (`docs/schedules.md`): a step schedule of powers of two keeps the weights
//! at the smallest rate's scale and multiplies the update of a step at a larger rate by
//! m_t = 2^(k'_max − k'_t). Completeness of such a run's proof, from full and compact witnesses, and
//! soundness: a witness updated at the wrong rate, and a proof checked against another schedule.

use zkdl_compiler::{compile, CompileOptions, LrChange, NetworkSpec, Optimizer, Plan};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::proof::{self, ProofBody, PublicInputs, Tables};
use zkdl_runtime::training::witness::Witness;

mod common;

use common::{prove_full_and_compact, prove_tables, small_spec, witness};

/// The small network at 2^-1 for steps 0–1, 2^-3 for steps 2–3, then 2^-2: k'_max = 3 as for
/// `small_spec`'s one rate 2^-3, so both have the same S_W and W_0.
fn scheduled() -> NetworkSpec {
    let mut spec = small_spec();
    spec.optimizer = Optimizer::Sgd {
        lr_shift: 1,
        schedule: vec![LrChange { from_step: 2, lr_shift: 3 }, LrChange { from_step: 4, lr_shift: 2 }],
    };
    spec.validate().unwrap();
    spec
}

fn prove(plan: &Plan, tables: &Tables) -> (CommitmentKey, PublicInputs, ProofBody) {
    prove_tables(plan, tables, 5)
}

#[test]
fn a_schedule_multiplies_each_steps_update() {
    let spec = scheduled();
    assert_eq!(spec.fixed_point_params(), small_spec().fixed_point_params(), "S_W is the smallest rate's");
    assert_eq!(
        (0..6).map(|t| spec.optimizer.multiplier_log2_at(t)).collect::<Vec<_>>(),
        [2, 2, 0, 0, 1, 1],
        "m_t = 2^(3 − k'_t)"
    );
    let (run, one_rate) = (witness(&spec, 5, 7), witness(&small_spec(), 5, 7));
    run.check_relations().unwrap();
    // Step 0 reads the same W_0 and batch in both runs, so its gradient is the same: the scheduled
    // run moves the weights 4 times as far.
    let (w0, w1, v1) = (run.weights_at(0).unwrap(), run.weights_at(1).unwrap(), one_rate.weights_at(1).unwrap());
    assert_eq!(w0, one_rate.weights_at(0).unwrap());
    for l in 0..w0.layers.len() {
        let moved: Vec<i128> = w0.layers[l].iter().zip(w1.layers[l].iter()).map(|(a, b)| a - b).collect();
        let moved_once: Vec<i128> = w0.layers[l].iter().zip(v1.layers[l].iter()).map(|(a, b)| 4 * (a - b)).collect();
        assert_eq!(moved, moved_once, "layer {}", l + 1);
        assert!(moved.iter().any(|&d| d != 0), "layer {} moved", l + 1);
    }
}

#[test]
fn a_scheduled_run_proves_and_verifies_from_full_and_compact_witnesses() {
    // The compact witness's proof walks W_t from W_0 with the multipliers: it must equal the stored W_t's.
    prove_full_and_compact(&witness(&scheduled(), 5, 7), 5);
}

/// A prover that trained at one rate (no multipliers) and claims the schedule: the witness check names
/// U1, and the proof is rejected.
#[test]
fn a_run_updated_at_the_wrong_rate_is_rejected() {
    let one_rate = witness(&small_spec(), 5, 7);
    let claimed = compile(&scheduled(), CompileOptions::steps(5)).unwrap();
    let forged =
        Witness::from_parts(&claimed, one_rate.batches.clone(), one_rate.weights.clone(), one_rate.traces.clone());
    let violation = forged.check_relations().unwrap_err();
    assert_eq!(violation.relation, "U1 update", "{violation:?}");
    let (key, public, body) = prove(&claimed, &Tables::from_witness(&forged));
    assert!(proof::verify(&claimed, &key, &public, &body).is_err(), "a one-rate run proven under a schedule");
    let compact = Witness::from_compact_parts(
        &claimed,
        one_rate.batches.clone(),
        one_rate.weights[0].clone(),
        one_rate.weights.last().unwrap().clone(),
        one_rate.traces.clone(),
    );
    let (key, public, body) = prove(&claimed, &Tables::streaming(&compact));
    assert!(proof::verify(&claimed, &key, &public, &body).is_err(), "the same from a compact witness");
}

/// The schedule is in the plan digest: a proof verifies only against its own schedule.
#[test]
fn a_proof_checked_against_another_schedule_is_rejected() {
    let run = witness(&scheduled(), 5, 7);
    let (key, public, body) = prove(&run.plan, &Tables::from_witness(&run));
    proof::verify(&run.plan, &key, &public, &body).unwrap();
    let mut later = scheduled();
    later.optimizer = Optimizer::Sgd {
        lr_shift: 1,
        schedule: vec![LrChange { from_step: 3, lr_shift: 3 }, LrChange { from_step: 4, lr_shift: 2 }],
    };
    for (what, spec) in [("a later change", later), ("one rate", small_spec())] {
        let plan = compile(&spec, CompileOptions::steps(5)).unwrap();
        assert_ne!(plan.digest(), run.plan.digest(), "{what}");
        assert!(proof::verify(&plan, &key, &public, &body).is_err(), "accepted against {what}");
    }
}
