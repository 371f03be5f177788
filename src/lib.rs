//! zkdl: zero-knowledge proofs that a neural network was trained correctly.
//!
//! This facade re-exports the crates of the pipeline (`ARCHITECTURE.md`): [`network!`] declares a
//! network in Rust source, [`compile`] lowers a [`NetworkSpec`] and a step count to the [`Plan`] that the
//! trainer, prover and verifier follow, and [`runtime`] holds the cryptographic core (field tensors, the
//! transcript, sumcheck, claim merging, hiding Hyrax-style commitments). [`presets`] holds the networks
//! zkdl ships. [`train`] runs exact fixed-point SGD on a [`Dataset`] with the float reference beside it, and
//! [`train_with_witness`] also keeps the [`Witness`] a prover needs; [`pipeline`](cli::pipeline) trains, proves and
//! verifies in one call, and [`cli`] is the `zkdl` command line, which [`prover_main!`] builds into a binary with a
//! network of its own.

// `network!` expands to `::zkdl::…` paths; this lets the presets use it inside this crate.
extern crate self as zkdl;

pub mod cli;
pub mod presets;

pub use zkdl_compiler as compiler;
pub use zkdl_compiler::{compile, CompileOptions, Layer, Loss, Network, NetworkSpec, Optimizer, Plan};
pub use zkdl_macros::network;
pub use zkdl_runtime as runtime;
pub use zkdl_runtime::training::data::Dataset;
pub use zkdl_runtime::training::session::{train, train_with_witness, TrainConfig, TrainingRun};
pub use zkdl_runtime::training::weights::FixedWeights;
pub use zkdl_runtime::training::witness::Witness;

/// Generates the `main` of a prover binary for a network declared with [`network!`]: the `zkdl`
/// subcommands (`train`, `prove`, `verify`, `inspect`, `bench`) with that network built in.
///
/// ```ignore
/// zkdl::network! { pub Tiny { input: 64, layers: [dense(16), relu, dense(10)], loss: mse, optimizer: sgd(lr = 2^-3), batch: 8 } }
/// zkdl::prover_main!(Tiny);
/// ```
#[macro_export]
macro_rules! prover_main {
    ($network:ty) => {
        fn main() -> ::std::process::ExitCode {
            $crate::cli::main_with(::std::option::Option::Some(<$network as $crate::Network>::spec()))
        }
    };
}
