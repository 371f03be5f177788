//! One training step of the zkDL paper network (3072 → 8 × 1024 → 10, batch 64, lr 2^-7, R = 16,
//! Q = 32) on real images (the embedded digits, upscaled to 32×32×3), including witness generation,
//! against a library baseline run in the same process: the same step in f32 through matrixmultiply's
//! sgemm (`FloatNetwork::step`, no witness, no exactness).
//!
//! - `paper_step/zkdl exact + witness`: `Witness::generate` for a T = 1 plan (the exact fixed-point
//!   step, every tensor and auxiliary input kept), batch conversion included.
//! - `paper_step/f32 sgemm baseline`: one float SGD step from the same weights and batch.
//!
//! After criterion, a summary: medians of 7 more runs of each, their ratio, and the witness's memory:
//! bytes held by the witness as counted by the global allocator (live bytes after generation minus
//! before), `Witness::heap_bytes`, and the raw integer size (`Witness::raw_integer_bytes`: every
//! distinct value in ⌈bits/8⌉ bytes, bits at one bit). Targets on the 2-core machine: step ≤ 1.5 s,
//! witness ≤ 1.5 × raw.

use criterion::Criterion;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zkdl_compiler::{compile, CompileOptions, Layer, NetworkSpec};
use zkdl_runtime::training::data::Dataset;
use zkdl_runtime::training::reference::{float_batch, FloatNetwork};
use zkdl_runtime::training::trainer::Trainer;
use zkdl_runtime::training::weights::FixedWeights;
use zkdl_runtime::training::witness::Witness;

/// Counts live heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let spec = paper();
    let plan = compile(&spec, CompileOptions::steps(1)).expect("compiles");
    let data = Dataset::digits_rgb32();
    let trainer = Trainer::new(&spec, 1).expect("trainer");
    let indices: Vec<usize> = (0..64).map(|i| i * 7 % data.len()).collect();
    let batch = trainer.batch(&data, &indices, 0).expect("batch");
    let w0 = FixedWeights::he_init(&spec, 1).expect("init");
    let float = FloatNetwork::from_fixed(&w0, spec.fixed_point_params().update_shift);
    let (x, y) = float_batch(&data, &batch.indices, 10);

    let step = || {
        Witness::generate(&plan, w0.clone(), vec![trainer.batch(&data, &indices, 0).expect("batch")], |_, _| {})
            .expect("step")
    };
    let float_step = || {
        let mut net = float.clone();
        net.step(&x, &y, &batch.labels)
    };

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut group = criterion.benchmark_group("paper_step");
    group.bench_function("zkdl exact + witness", |b| b.iter(step));
    group.bench_function("f32 sgemm baseline", |b| b.iter(float_step));
    group.finish();
    criterion.final_summary();

    let time = |f: &dyn Fn()| {
        median(
            (0..7)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let ours = time(&|| drop(step()));
    let baseline = time(&|| {
        let _ = float_step();
    });

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let witness = step();
    let held = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    witness.check_relations().expect("the benchmarked witness is valid");
    let raw = witness.raw_integer_bytes() as f64;
    let mib = |b: f64| b / (1u64 << 20) as f64;
    println!();
    println!("| paper network, one step, batch 64 | median | target |");
    println!("|---|---|---|");
    println!("| zkdl exact fixed point + witness | {ours:.3} s | ≤ 1.5 s |");
    println!("| f32 sgemm baseline (same process) | {baseline:.3} s | |");
    println!("| ratio ours / baseline | {:.2} | |", ours / baseline);
    println!(
        "| witness held (allocator) | {:.1} MiB = {:.3} × raw | ≤ 1.5 × raw |",
        mib(held as f64),
        held as f64 / raw
    );
    println!("| witness heap_bytes() | {:.1} MiB | |", mib(witness.heap_bytes() as f64));
    println!("| raw integer size | {:.1} MiB | |", mib(raw));
    println!("| peak allocation during the step | {:.1} MiB | |", mib(peak as f64));
}
