//! The `zkdl` command line.

use clap::Parser;

/// Zero-knowledge proofs that a neural network was trained correctly.
///
/// The subcommands of ARCHITECTURE.md (train, prove, verify, inspect, bench) arrive with the issues
/// that build them; this build holds the cryptographic core, exercised by `cargo test` and
/// `cargo bench -p zkdl-runtime`.
#[derive(Parser)]
#[command(name = "zkdl", version, about)]
struct Cli {}

fn main() {
    let Cli {} = Cli::parse();
    println!("zkdl {}: the cryptographic core is built; see README.md for what runs today.", env!("CARGO_PKG_VERSION"));
}
