//! Plans of chain segments (`docs/chains.md`): a carried W_0 has no range check and is committed in
//! W_T's layout, the bounds are those of the chain's horizon, the option is part of the digest, and
//! segments that cannot be are refused.

use zkdl_compiler::ir::RangeChecked;
use zkdl_compiler::plan::{StackRole, ValueKind};
use zkdl_compiler::{
    compile, compile_segment, CompileError, CompileOptions, InitialWeights, MagnitudeBounds, NetworkSpec, Plan, Role,
    Storage, Visibility,
};

fn digits() -> NetworkSpec {
    NetworkSpec::builder("digits")
        .input(64)
        .dense(32)
        .relu()
        .dense(32)
        .relu()
        .dense(10)
        .batch(32)
        .sgd(4)
        .build()
        .unwrap()
}

fn carried(steps_before: u64) -> InitialWeights {
    InitialWeights::CarriedFromPreviousSegment { steps_before }
}

fn committed_w0() -> Visibility {
    Visibility::default()
}

fn segment(steps: u32, initial: InitialWeights) -> Result<Plan, CompileError> {
    compile_segment(&digits(), CompileOptions { steps, visibility: committed_w0() }, initial)
}

fn has_w0_range_check(plan: &Plan) -> bool {
    plan.tensors.iter().any(|t| t.role == StackRole::Tensor(Role::RangeBits(RangeChecked::InitialWeight)))
}

fn storage_of(plan: &Plan, role: StackRole) -> Vec<(Vec<u32>, Storage)> {
    plan.tensors.iter().filter(|t| t.role == role).map(|t| (t.layers.clone(), t.storage.clone())).collect()
}

#[test]
fn a_checked_segment_is_the_standalone_plan() {
    let standalone = compile(&digits(), CompileOptions::steps(2)).unwrap();
    let first = segment(2, InitialWeights::Checked).unwrap();
    assert_eq!(standalone, first);
    assert_eq!(standalone.digest(), first.digest());
    assert!(has_w0_range_check(&first));
    // The option is left out of a standalone plan's serialized form (its digest is unchanged).
    assert!(serde_json::to_value(&first).unwrap().get("initial_weights").is_none());
}

#[test]
fn a_carried_segment_omits_the_range_check_and_binds_its_position() {
    let plan = segment(2, carried(4)).unwrap();
    assert!(!has_w0_range_check(&plan));
    assert!(!plan.to_text().contains("bits(W_0)"));
    assert!(plan.to_text().contains("chain segment: W_0 carried"), "{}", plan.to_text());
    // Bounds at the chain's horizon: 4 steps before, 2 here.
    assert_eq!(plan.bounds, MagnitudeBounds::new(&digits(), 6));
    // Position and option are in the digest.
    let (first, elsewhere) = (segment(2, InitialWeights::Checked).unwrap(), segment(2, carried(2)).unwrap());
    assert_ne!(plan.digest(), first.digest());
    assert_ne!(plan.digest(), elsewhere.digest());
}

#[test]
fn a_segments_w_t_is_committed_as_the_next_segments_w_0() {
    for (steps, next_steps, before) in [(2, 2, 2), (2, 1, 2), (1, 16, 1), (16, 3, 32)] {
        let this = segment(
            steps,
            if before == steps as u64 { InitialWeights::Checked } else { carried(before - steps as u64) },
        )
        .unwrap();
        let next = segment(next_steps, carried(before)).unwrap();
        let finals = storage_of(&this, StackRole::FinalWeight);
        let initials = storage_of(&next, StackRole::InitialWeight);
        assert_eq!(finals.len(), initials.len());
        for ((l1, s1), (l2, s2)) in finals.iter().zip(&initials) {
            assert_eq!(l1, l2);
            let (
                Storage::Committed { row_vars: r1, col_vars: c1, .. },
                Storage::Committed { row_vars: r2, col_vars: c2, values, .. },
            ) = (s1, s2)
            else {
                panic!("W_T and carried W_0 must be committed: {s1:?} {s2:?}");
            };
            assert_eq!((r1, c1), (r2, c2), "T = {steps} → {next_steps}");
            // As wide as W_T may be at the end of the chain so far.
            assert_eq!(*values, ValueKind::Signed(next.bounds.weight + 1));
        }
    }
}

#[test]
fn segments_that_cannot_be_are_refused() {
    let chain = |r: Result<Plan, CompileError>| match r {
        Err(CompileError::Chain(m)) => m,
        other => panic!("expected CompileError::Chain, got {other:?}"),
    };
    assert!(chain(segment(2, carried(0))).contains("steps_before ≥ 1"));
    let public = Visibility { public_initial_weights: true, ..Visibility::default() };
    assert!(chain(compile_segment(&digits(), CompileOptions { steps: 2, visibility: public }, carried(2)))
        .contains("cannot be public"));
    assert!(chain(segment(2, carried(u64::MAX - 1))).contains("at most 2^32 steps"));
    // A spec valid up to 2^32 steps is valid for every chain that long.
    assert!(segment(2, carried((1 << 32) - 2)).is_ok());
}
