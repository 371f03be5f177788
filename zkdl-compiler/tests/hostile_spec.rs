//! Hostile specs: valid on their own, but whose plans are too large to represent. Compiling one is a
//! `CompileError::TooLarge` naming the tensor and the limit, checked before T steps are unrolled;
//! never an arithmetic overflow (a panic in a debug build, a wrapped, inconsistent plan in release).
//! The networks that can be proved still compile.

use zkdl_compiler::plan::{StackRole, MAX_STACKED_TENSOR_LOG2, MAX_UNROLLED_LAYER_STEPS};
use zkdl_compiler::{compile, lower_checked, CompileError, CompileOptions, Layer, NetworkSpec, Plan, Role, Visibility};

const VISIBILITIES: [Visibility; 4] = [
    Visibility { public_data: false, public_initial_weights: false, public_final_weights: false },
    Visibility { public_data: true, public_initial_weights: false, public_final_weights: false },
    Visibility { public_data: false, public_initial_weights: true, public_final_weights: false },
    Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
];

/// Input, dense width and batch 2^24 (the largest each may be), R = 1, Q = 2: W alone is 2^48
/// entries, and 2^64 stacked over 2^16 steps.
fn hostile() -> NetworkSpec {
    let max = 1 << 24;
    NetworkSpec::builder("hostile").input(max).dense(max).sgd(0).batch(max).scale_bits(1).range_bits(2).build().unwrap()
}

fn paper() -> NetworkSpec {
    NetworkSpec::builder("paper")
        .input(3072)
        .repeat(8, &[Layer::dense(1024), Layer::Relu])
        .dense(10)
        .sgd(7)
        .batch(64)
        .build()
        .unwrap()
}

fn digits() -> NetworkSpec {
    NetworkSpec::builder("digits")
        .input(64)
        .dense(32)
        .relu()
        .dense(32)
        .relu()
        .dense(10)
        .sgd(4)
        .batch(32)
        .build()
        .unwrap()
}

fn too_large(result: Result<impl std::fmt::Debug, CompileError>, what: &str) -> String {
    match result {
        Err(CompileError::TooLarge(message)) => message,
        other => panic!("{what}: expected CompileError::TooLarge, got {other:?}"),
    }
}

/// The largest stacked tensor other than b, and b, as log2 of their padded entries.
fn largest(plan: &Plan) -> (u32, u32) {
    let tensors = plan.tensors.iter().filter(|t| t.role != StackRole::AllBits);
    (tensors.map(|t| t.layout.num_vars()).max().unwrap(), plan.bit_tensor_vars)
}

#[test]
fn a_spec_whose_stacked_tensors_overflow_u64_is_a_compile_error_not_a_panic() {
    let spec = hostile();
    for steps in [1 << 16, 1] {
        for visibility in VISIBILITIES {
            let options = CompileOptions { steps, visibility };
            let what = format!("T = {steps}, {visibility:?}");
            let message = too_large(compile(&spec, options), &what);
            assert!(message.contains(&format!("2^{MAX_STACKED_TENSOR_LOG2}")), "{what}: {message}");
            assert!(message.contains("MAX_STACKED_TENSOR_LOG2"), "{what}: {message}");
            assert!(message.contains("use narrower layers, a smaller batch or fewer steps"), "{what}: {message}");
            // The IR export checks the same limit.
            too_large(lower_checked(&spec, options), &what);
        }
    }
    let message = too_large(compile(&spec, CompileOptions::steps(1 << 16)), "T = 2^16");
    assert!(message.starts_with("the stacked tensor "), "{message}");
}

#[test]
fn a_deep_network_over_many_steps_is_a_compile_error_before_unrolling() {
    let deep = NetworkSpec::builder("deep").input(4).repeat(1023, &[Layer::dense(4), Layer::Relu]).dense(4).batch(1);
    let deep = deep.build().unwrap();
    let started = std::time::Instant::now();
    let message = too_large(compile(&deep, CompileOptions::steps(1 << 16)), "1024 layers × 2^16 steps");
    assert!(message.contains("1024 dense layers × 65536 steps"), "{message}");
    assert!(message.contains("MAX_UNROLLED_LAYER_STEPS"), "{message}");
    assert!(started.elapsed().as_secs() < 5, "the limit is checked before unrolling");
    // One step over the limit is refused; a few steps compile (at the limit, 2^18 layer-steps take a
    // while in a debug build).
    let at_limit = (MAX_UNROLLED_LAYER_STEPS / 1024) as u32;
    too_large(compile(&deep, CompileOptions::steps(at_limit + 1)), "one step over the limit");
    compile(&deep, CompileOptions::steps(2)).unwrap();
}

/// W of 2^20 × 2^20 at batch 1 with public W_0 (no range check of W_0): at T = 1 the stacked W_t,
/// W_0, W_T and G_W are exactly 2^40 entries and compile; at T = 2, W_t and G_W are 2^41.
#[test]
fn the_limit_is_inclusive_and_counts_every_step() {
    let wide = 1 << 20;
    let spec = NetworkSpec::builder("wide").input(wide).dense(wide).sgd(0).batch(1).build().unwrap();
    let public_weights = Visibility { public_data: false, public_initial_weights: true, public_final_weights: false };
    let plan = compile(&spec, CompileOptions { steps: 1, visibility: public_weights }).unwrap();
    assert_eq!(largest(&plan).0, MAX_STACKED_TENSOR_LOG2);
    let message = too_large(compile(&spec, CompileOptions { steps: 2, visibility: public_weights }), "T = 2");
    assert!(message.contains("2^41 entries"), "{message}");
    assert!(message.contains("2 steps"), "{message}");
    // With private W_0 its range check (S_W + 2 bit planes) is over the limit already at T = 1.
    too_large(compile(&spec, CompileOptions::steps(1)), "private W_0");
}

#[test]
fn the_paper_network_at_1024_steps_still_compiles() {
    let plan = compile(&paper(), CompileOptions::steps(1024)).unwrap();
    let (tensor, bits) = largest(&plan);
    eprintln!("paper, T = 1024: largest stacked tensor 2^{tensor}, b 2^{bits} entries");
    // The bit planes of rz, H' and rh: 2^10 steps · 2^3 layers · 64 planes · 64 × 1024; b below 2^37.
    assert_eq!((tensor, bits), (35, 37));
    assert!(tensor <= MAX_STACKED_TENSOR_LOG2 && bits <= MAX_STACKED_TENSOR_LOG2);
    // W_t of the seven 1024 × 1024 layers over 1024 steps: 2^10 · 2^3 · 2^20.
    let w = plan.tensors.iter().filter(|t| t.role == StackRole::Tensor(Role::Weight));
    assert_eq!(w.map(|t| t.layout.num_vars()).max(), Some(33));
}

#[test]
fn the_digits_network_still_compiles() {
    for steps in [1, 16, 1024] {
        for visibility in VISIBILITIES {
            let plan = compile(&digits(), CompileOptions { steps, visibility }).unwrap();
            let (tensor, bits) = largest(&plan);
            assert!(tensor <= MAX_STACKED_TENSOR_LOG2 && bits <= MAX_STACKED_TENSOR_LOG2);
        }
    }
}
