//! Compile-time benchmark: lowering, checking and aggregating the zkDL paper network
//! (3072 → 8 × 1024 → 10, batch 64) for T = 1 and T = 1024 steps. Target: T = 1024 in ≤ 2 s and ≤ 500 MB
//! peak memory on the 2-core reference machine. Peak memory is the process's VmHWM after one compilation
//! of T = 1024, taken before criterion allocates anything, minus the resident set at start.

use criterion::Criterion;
use std::hint::black_box;
use zkdl_compiler::{compile, CompileOptions, Layer, NetworkSpec};

fn paper() -> NetworkSpec {
    NetworkSpec::builder("paper")
        .input(3072)
        .repeat(8, &[Layer::dense(1024), Layer::Relu])
        .dense(10)
        .sgd(7)
        .batch(64)
        .build()
        .expect("the paper network is valid")
}

/// (VmRSS, VmHWM) in KiB, where /proc is available.
fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field =
        |name: &str| status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse::<u64>().ok();
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn main() {
    let spec = paper();
    let before = memory_kib();
    let start = std::time::Instant::now();
    let plan = compile(&spec, CompileOptions::steps(1024)).expect("compiles");
    let first = start.elapsed();
    let after = memory_kib();
    println!(
        "paper network, T = 1024: first compilation {:.1} ms, {} relations, {} stacked tensors, {} IR gates",
        first.as_secs_f64() * 1e3,
        plan.relations.len(),
        plan.tensors.len(),
        plan.gate_instances.values().sum::<u64>()
    );
    if let (Some((rss0, _)), Some((_, hwm))) = (before, after) {
        println!(
            "peak memory of the compilation: {:.1} MiB (VmHWM {hwm} KiB − start RSS {rss0} KiB)",
            (hwm - rss0) as f64 / 1024.0
        );
    }
    drop(plan);

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut group = c.benchmark_group("compile paper network");
    for steps in [1u32, 1024] {
        group.bench_function(format!("T = {steps}"), |b| {
            b.iter(|| compile(black_box(&spec), CompileOptions::steps(steps)).expect("compiles"))
        });
    }
    group.finish();
    c.final_summary();
}
