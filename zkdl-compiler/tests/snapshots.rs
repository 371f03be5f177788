//! Snapshots of compiled plans (text) for the two-layer network at T = 1 and T = 4. Review a change with
//! `INSTA_UPDATE=always cargo test -p zkdl-compiler --test snapshots` and `git diff`.

use zkdl_compiler::{compile, CompileOptions, NetworkSpec};

fn two_layer() -> NetworkSpec {
    NetworkSpec::builder("two-layer").input(6).dense(5).relu().dense(3).sgd(3).batch(4).build().unwrap()
}

#[test]
fn two_layer_plan_one_step() {
    insta::assert_snapshot!(compile(&two_layer(), CompileOptions::steps(1)).unwrap().to_text());
}

#[test]
fn two_layer_plan_four_steps() {
    insta::assert_snapshot!(compile(&two_layer(), CompileOptions::steps(4)).unwrap().to_text());
}
