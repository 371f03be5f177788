//! Dense layers with a bias (`docs/bias.md`): Z = A·W + 2^R·1·βᵀ (M1), g_β = 2^R·1ᵀ·G (M4),
//! β_(t+1) = β_t − m_t·g_β (U1), β_0 and β_T in the statement beside W_0 and W_T. Completeness for a
//! network mixing layers with and without a bias, from full and compact witnesses, and soundness of
//! what only a bias can get wrong (the corruptions of single entries are in `proof_soundness.rs`).

use zkdl_compiler::plan::StackRole;
use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Plan, Role};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::proof::{self, ProofBody, PublicInputs, Tables};
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::{FixedWeights, Init};
use zkdl_runtime::training::witness::Witness;

mod common;

use common::{prove_full_and_compact, prove_tables, witness};

/// 64 → 16 (bias) → relu → 8 (no bias) → relu → 10 (bias), batch 8.
fn mixed() -> NetworkSpec {
    NetworkSpec::builder("mixed")
        .input(64)
        .dense(16)
        .relu()
        .dense_no_bias(8)
        .relu()
        .dense(10)
        .sgd(3)
        .batch(8)
        .build()
        .unwrap()
}

fn prove(plan: &Plan, tables: &Tables) -> (CommitmentKey, PublicInputs, ProofBody) {
    prove_tables(plan, tables, 9)
}

#[test]
fn layers_with_and_without_a_bias_prove_and_verify_from_full_and_compact_witnesses() {
    let run = witness(&mixed(), 3, 4);
    run.check_relations().unwrap();
    let plan = &run.plan;
    let has = |role: StackRole, layer: u32| plan.tensors.iter().any(|t| t.role == role && t.layers.contains(&layer));
    assert!(has(StackRole::InitialBias, 1) && has(StackRole::InitialBias, 3) && !has(StackRole::InitialBias, 2));
    assert!(has(StackRole::Tensor(Role::BiasGradient), 3) && !has(StackRole::Tensor(Role::BiasGradient), 2));
    prove_full_and_compact(&run, 9);
}

/// The biases move: each step subtracts 2^R times the signal's column sums, exactly.
#[test]
fn the_bias_gradient_is_the_column_sum_of_the_signal() {
    let run = witness(&mixed(), 2, 4);
    let r = run.plan.params.scale_bits;
    for (l, layer) in run.traces[0].layers.iter().enumerate() {
        let Some(g_b) = &layer.bias_gradient else {
            assert_eq!(l, 1, "only layer 2 has no bias");
            continue;
        };
        let signal = layer.signal_values();
        let cols = g_b.len();
        for c in 0..cols {
            let sum: i128 = (0..signal.len() / cols).map(|i| signal.get(i * cols + c)).sum();
            assert_eq!(g_b.get(c), sum << r, "layer {} column {c}", l + 1);
        }
        let (before, after) = (run.weights[0].biases[l].as_ref().unwrap(), run.weights[1].biases[l].as_ref().unwrap());
        assert!((0..cols).all(|c| before.get(c) - after.get(c) == g_b.get(c)), "β_1 = β_0 − g_β");
    }
}

/// A prover that trained without the biases (β frozen at β_0, as if the layer had none) and claims
/// the biased network: the witness check names the bias update, and the proof is rejected.
#[test]
fn a_run_whose_biases_never_moved_is_rejected() {
    let spec = mixed();
    let plan = compile(&spec, CompileOptions::steps(3)).unwrap();
    let mut run = witness(&spec, 3, 4);
    let frozen = run.weights[0].biases.clone();
    for w in run.weights.iter_mut() {
        w.biases = frozen.clone();
    }
    for trace in run.traces.iter_mut() {
        for (layer, b) in trace.layers.iter_mut().zip(&frozen) {
            layer.bias = b.clone();
        }
    }
    let forged = Witness::from_parts(&plan, run.batches, run.weights, run.traces);
    assert!(forged.check_relations().unwrap_err().relation.contains("bias"));
    let (key, public, body) = prove(&plan, &Tables::from_witness(&forged));
    assert!(proof::verify(&plan, &key, &public, &body).is_err(), "frozen biases accepted");
}

/// PyTorch's initialization draws the biases from U(−1/√fan_in, 1/√fan_in), as nn.Linear does;
/// He's starts them at zero. Both are deterministic in the seed.
#[test]
fn initialization_draws_biases_as_pytorch_does() {
    let spec = mixed();
    let w = FixedWeights::init(&spec, Init::PyTorch, 5).unwrap();
    assert_eq!(w, FixedWeights::init(&spec, Init::PyTorch, 5).unwrap());
    let b1 = w.bias_to_f64(0).unwrap();
    assert_eq!(b1.len(), 16);
    assert!(b1.iter().all(|v| v.abs() <= 1.0 / 8.0 + 1e-9) && b1.iter().any(|v| *v != 0.0), "{b1:?}");
    assert!(w.biases[1].is_none());
    let b3 = w.bias_to_f64(2).unwrap();
    assert!(b3.iter().all(|v| v.abs() <= 1.0 / 8f64.sqrt() + 1e-9));
    assert_ne!(FixedWeights::init(&spec, Init::PyTorch, 6).unwrap().biases, w.biases);
    let he = FixedWeights::init(&spec, Init::He, 5).unwrap();
    assert!(he.biases[0].as_ref().unwrap().iter().all(|v| v == 0));
    Trainer::new(&spec, 1).unwrap().check_initial_weights(&w).unwrap();
}
