//! Declares a network with `network!` and prints its compiled plan and cost model.
//!
//! ```text
//! cargo run --release --example plan            # the network below, T = 4
//! cargo run --release --example plan -- 64      # T = 64
//! cargo run --release --example plan -- 1 dot   # the IR of T = 1 as Graphviz DOT
//! ```

use zkdl::compiler::{lower_checked, to_dot, CompileOptions};
use zkdl::{compile, network, Network};

network! {
    /// A small network for 8×8 digit images: 64 pixels → 48 → 24 → 10 classes.
    pub SmallDigits {
        input: 64,
        layers: [dense(48), relu, dense(24), relu, dense(10)],
        loss: mse,
        optimizer: sgd(lr = 2^-4),
        batch: 16,
        scale_bits: 16,
        range_bits: 32,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let steps = match args.next().map(|s| s.parse::<u32>()) {
        None => 4,
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            eprintln!("error: the step count must be a positive integer: {e}");
            std::process::exit(2);
        }
    };
    let spec = SmallDigits::spec();
    let result = if args.next().as_deref() == Some("dot") {
        lower_checked(&spec, CompileOptions::steps(steps)).map(|ir| to_dot(&ir))
    } else {
        compile(&spec, CompileOptions::steps(steps)).map(|plan| plan.to_text())
    };
    match result {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
