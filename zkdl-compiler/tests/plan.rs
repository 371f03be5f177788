//! Properties of compiled plans: FAC4DNN aggregation independent of depth and steps, claim routing,
//! the commitment plan, the bit-tensor layout, the digest, and errors.

use zkdl_compiler::plan::{ClaimFlow, RelationId, StackRole};
use zkdl_compiler::{
    compile, lower_checked, CompileError, CompileOptions, Layer, NetworkSpec, Plan, Storage, Visibility,
};

fn uniform(width: u32, depth: usize) -> NetworkSpec {
    NetworkSpec::builder(format!("uniform-{depth}"))
        .input(width)
        .repeat(depth - 1, &[Layer::dense(width), Layer::Relu])
        .dense(width)
        .sgd(4)
        .batch(8)
        .build()
        .unwrap()
}

fn two_layer() -> NetworkSpec {
    NetworkSpec::builder("two-layer").input(6).dense(5).relu().dense(3).sgd(3).batch(4).build().unwrap()
}

fn plan(spec: &NetworkSpec, steps: u32) -> Plan {
    compile(spec, CompileOptions::steps(steps)).unwrap()
}

#[test]
fn uniform_width_relation_count_is_independent_of_depth_and_steps() {
    let reference = plan(&uniform(16, 3), 1);
    let kinds = |p: &Plan| p.relations.iter().map(|r| r.kind).collect::<Vec<_>>();
    for depth in [3, 4, 7, 12] {
        for steps in [1, 2, 5, 16] {
            let p = plan(&uniform(16, depth), steps);
            assert_eq!(kinds(&p), kinds(&reference), "L = {depth}, T = {steps}");
            assert_eq!(p.tensors.len(), reference.tensors.len(), "L = {depth}, T = {steps}");
            let instances: u64 = p.relations.iter().filter(|r| !r.layers.is_empty()).map(|r| r.instances).sum();
            let gates: u64 = p.gate_instances.values().sum();
            // Every gate instance lands in exactly one relation (ZkRelu gates in two: product and recomposition).
            assert_eq!(instances, gates + p.gate_instances["ZkRelu"], "L = {depth}, T = {steps}");
        }
    }
}

#[test]
fn sumcheck_rounds_grow_with_log_steps() {
    let spec = uniform(16, 4);
    let (one, many) = (plan(&spec, 1), plan(&spec, 8));
    for (a, b) in one.relations.iter().zip(&many.relations) {
        assert_eq!(a.kind, b.kind);
        if matches!(a.kind, zkdl_compiler::RelationKind::MatMulForward | zkdl_compiler::RelationKind::ZkRelu) {
            assert_eq!(b.sumchecks[0].rounds, a.sumchecks[0].rounds + 3, "{:?}", a.kind);
        }
    }
    assert!(many.cost().proof_bytes < 2 * one.cost().proof_bytes, "proof size grows with log T, not T");
}

#[test]
fn every_derived_tensor_has_one_definer_after_all_its_claims() {
    for spec in [two_layer(), uniform(16, 5)] {
        let p = plan(&spec, 3);
        p.check_claim_routing().unwrap();
        for t in &p.tensors {
            match &t.storage {
                Storage::Derived(r) => {
                    let definer = &p.relations[r.0 as usize];
                    let defined = definer
                        .operands
                        .iter()
                        .filter(|o| o.tensor == t.id && o.flow == ClaimFlow::Claims { fresh: false });
                    assert_eq!(defined.count(), 1, "{} defined by {r}", t.name());
                    for producer in p.claims_on(t.id) {
                        assert!(producer < *r, "{} claimed by {producer} after its definer {r}", t.name());
                    }
                    // The definer's instances are exactly the tensor's members.
                    assert_eq!(definer.layers, t.layers, "{}", t.name());
                }
                Storage::Committed { .. } => assert!(p.claims_landing_on(t.id) >= 1, "{} is never opened", t.name()),
                Storage::BitPlanes(chunks) => assert!(!chunks.is_empty()),
                Storage::Public => panic!("{} is public with private visibility", t.name()),
            }
        }
    }
}

#[test]
fn claim_routing_check_rejects_a_definer_that_runs_too_early() {
    let mut p = plan(&two_layer(), 2);
    // Move the ZkRelu product (which defines A) to the front: M1 and M3 would then claim A after it ran.
    let zk = p.relations.iter().position(|r| r.kind == zkdl_compiler::RelationKind::ZkRelu).unwrap();
    let relation = p.relations.remove(zk);
    p.relations.insert(0, relation);
    let mut renumber = vec![RelationId(0); p.relations.len()];
    for (i, r) in p.relations.iter_mut().enumerate() {
        renumber[r.id.0 as usize] = RelationId(i as u32);
        r.id = RelationId(i as u32);
    }
    for t in p.tensors.iter_mut() {
        if let Storage::Derived(r) = &mut t.storage {
            *r = renumber[r.0 as usize];
        }
    }
    let error = p.check_claim_routing().unwrap_err();
    assert!(error.contains("A[4×8]") && error.contains("after its defining relation"), "{error}");
}

#[test]
fn committed_tensors_are_exactly_the_statement_and_the_bits() {
    let p = plan(&uniform(16, 3), 4);
    let committed: Vec<StackRole> = p.committed().map(|t| t.role).collect();
    assert!(committed.iter().all(|r| matches!(
        r,
        StackRole::Tensor(zkdl_compiler::Role::Input | zkdl_compiler::Role::Target)
            | StackRole::InitialWeight
            | StackRole::FinalWeight
            | StackRole::InitialBias
            | StackRole::FinalBias
            | StackRole::AllBits
    )));
    assert!(committed.contains(&StackRole::InitialBias) && committed.contains(&StackRole::FinalBias), "{committed:?}");
    assert_eq!(committed.iter().filter(|r| **r == StackRole::AllBits).count(), 1);

    let public = compile(
        &uniform(16, 3),
        CompileOptions {
            steps: 4,
            visibility: Visibility { public_data: true, public_initial_weights: true, public_final_weights: false },
        },
    )
    .unwrap();
    let public_roles: Vec<StackRole> =
        public.tensors.iter().filter(|t| t.storage == Storage::Public).map(|t| t.role).collect();
    assert!(public_roles.contains(&StackRole::InitialWeight) && public_roles.len() >= 3, "{public_roles:?}");
    assert!(public_roles.contains(&StackRole::InitialBias), "public initial weights include b_0: {public_roles:?}");
    assert!(public.cost().bits_used < p.cost().bits_used, "public inputs need no range-check bits");
    assert_ne!(public.digest(), p.digest());
}

#[test]
fn bit_chunks_are_aligned_disjoint_and_cover_every_plane() {
    let p = plan(&NetworkSpec::builder("odd").input(10).dense(7).relu().dense(3).sgd(2).batch(2).build().unwrap(), 3);
    let mut spans = Vec::new();
    for t in &p.tensors {
        if let Storage::BitPlanes(chunks) = &t.storage {
            let planes: u32 = chunks.iter().map(|c| c.planes).sum();
            assert_eq!(planes, t.shapes[0].planes, "{}", t.name());
            for c in chunks {
                assert_eq!(c.offset % (1 << c.log_size), 0, "{} chunk is not a sub-cube", t.name());
                spans.push((c.offset, c.offset + (1 << c.log_size)));
            }
        }
    }
    spans.sort();
    assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "chunks overlap");
    assert!(spans.last().unwrap().1 <= 1 << p.bit_tensor_vars);
}

#[test]
fn digest_is_stable_and_binds_every_parameter() {
    let spec = two_layer();
    let base = plan(&spec, 4);
    assert_eq!(base.digest(), plan(&spec, 4).digest());
    let json = serde_json::to_string(&base).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, base);
    assert_eq!(back.digest(), base.digest());

    let others = [
        plan(&spec, 5),
        plan(&NetworkSpec { optimizer: zkdl_compiler::Optimizer::sgd(4), ..spec.clone() }, 4),
        plan(&NetworkSpec::builder("two-layer").input(6).dense(6).relu().dense(3).sgd(3).batch(4).build().unwrap(), 4),
        plan(
            &NetworkSpec { fixed_point: zkdl_compiler::FixedPoint { scale_bits: 15, range_bits: 32 }, ..spec.clone() },
            4,
        ),
        plan(&NetworkSpec { name: "renamed".into(), ..spec.clone() }, 4),
    ];
    for other in &others {
        assert_ne!(other.digest(), base.digest());
    }
}

#[test]
fn compile_errors_name_the_problem() {
    let bad = NetworkSpec { batch: 3, ..two_layer() };
    assert!(matches!(compile(&bad, CompileOptions::steps(1)), Err(CompileError::Spec(_))));
    let error = compile(&two_layer(), CompileOptions::steps(0)).unwrap_err();
    assert!(error.to_string().contains("0 steps"), "{error}");
    assert!(lower_checked(&two_layer(), CompileOptions::steps(2)).is_ok());
}

#[test]
fn magnitude_margin_shrinks_with_steps() {
    let spec = uniform(16, 3);
    let (one, many) = (plan(&spec, 1), plan(&spec, 1024));
    assert!(many.bounds.margin_bits() < one.bounds.margin_bits());
    assert!(many.bounds.margin_bits() > 0);
}
