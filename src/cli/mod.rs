//! The subcommands of the `zkdl` binary (`ARCHITECTURE.md`, "The CLI").
//!
//! Exit codes: 0 success; 1 a proof that does not verify; 2 bad input (a network, data, weights or proof
//! file that cannot be used, options that contradict each other, or a training run that leaves the range
//! the proof checks).

/// `println!` that ignores a closed stdout (`zkdl train | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if !$crate::cli::quiet() {
            let _ = writeln!(std::io::stdout(), $($arg)*);
        }
    }};
}

/// Set on the ranks of a distributed proof other than rank 0: they print nothing ([`say!`]).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences [`say!`] for the rest of the process.
pub fn set_quiet() {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`say!`] is silenced.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

pub mod bench;
pub mod chain;
pub mod cluster;
pub mod data;
pub mod demo;
pub mod inspect;
pub mod kernel_bench;
pub mod options;
pub mod pipeline;
pub mod plot;
pub mod predict;
pub mod prove;
pub mod train;
pub mod verify;
pub mod weights;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::sync::OnceLock;
use zkdl_compiler::NetworkSpec;

static BUILTIN_NETWORK: OnceLock<NetworkSpec> = OnceLock::new();

/// The network built into a generated prover binary, if this is one.
pub fn builtin_network() -> Option<&'static NetworkSpec> {
    BUILTIN_NETWORK.get()
}

/// Zero-knowledge proofs that a neural network was trained correctly.
#[derive(Parser)]
#[command(name = "zkdl", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network in exact fixed point on real data, with the float reference beside it.
    Train(train::TrainArgs),
    /// The whole flow on the embedded digits: commit the dataset, prove training on it from a seeded
    /// W_0, open the final model, and verify with the dataset, the seed and the model pinned.
    Demo(demo::DemoArgs),
    /// Commit a training set once, before training (and show a dataset commitment).
    Data(data::DataArgs),
    /// Train T steps, prove them, write the proof file and check it.
    Prove(prove::ProveArgs),
    /// Verify a proof file and its pins (exit 0 valid, 1 invalid, 2 bad input).
    Verify(verify::VerifyArgs),
    /// Weights and their commitments: open a proof's final weights to a model file.
    Weights(weights::WeightsArgs),
    /// Apply a trained model to new data (normalized as its training data was) and write predictions.
    Predict(predict::PredictArgs),
    /// Accuracy and loss of a trained model on a labelled data file.
    Evaluate(predict::EvaluateArgs),
    /// Print the compiled plan and its cost model, before any work.
    Inspect(inspect::InspectArgs),
    /// Measure the prover and verifier on real training runs; print a table, optionally write JSON.
    Bench(bench::BenchArgs),
}

/// A fraction as a percentage (`87.5%`), or `n/a` for NaN: the accuracy on an empty test set
/// (`--test-fraction 0`), which has no examples to be right about.
pub fn percent(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

/// An error of the command line, with its exit code.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: u8,
}

impl CliError {
    pub fn input(message: String) -> CliError {
        CliError { message, code: 2 }
    }
}

/// The `zkdl` binary.
pub fn main() -> ExitCode {
    main_with(None)
}

/// A prover binary with `network` built in (the default of every `--network`); see [`crate::prover_main!`].
pub fn main_with(network: Option<NetworkSpec>) -> ExitCode {
    if let Some(spec) = network {
        let _ = BUILTIN_NETWORK.set(spec);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Data(args) => data::run(args),
        Command::Prove(args) => prove::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Weights(args) => weights::run(args),
        Command::Predict(args) => predict::run_predict(args),
        Command::Evaluate(args) => predict::run_evaluate(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
