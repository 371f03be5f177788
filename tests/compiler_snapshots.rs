//! Snapshots of compiled plans across crates: the digits network and the paper network (declared with
//! `network!` in `zkdl::presets`) at T = 1, and the DOT export of the two-layer IR at T = 1. Review a
//! change with `INSTA_UPDATE=always cargo test --test compiler_snapshots` and `git diff`.

use zkdl::compiler::{lower_checked, to_dot, CompileOptions};
use zkdl::presets::{Digits, Paper};
use zkdl::{compile, Network, NetworkSpec};

#[test]
fn digits_plan_one_step() {
    insta::assert_snapshot!(compile(&Digits::spec(), CompileOptions::steps(1)).unwrap().to_text());
}

#[test]
fn paper_plan_one_step() {
    insta::assert_snapshot!(compile(&Paper::spec(), CompileOptions::steps(1)).unwrap().to_text());
}

#[test]
fn two_layer_ir_dot_one_step() {
    let spec = NetworkSpec::builder("two-layer").input(6).dense(5).relu().dense(3).sgd(3).batch(4).build().unwrap();
    insta::assert_snapshot!(to_dot(&lower_checked(&spec, CompileOptions::steps(1)).unwrap()));
}
