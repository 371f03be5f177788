//! The subcommands of the `zkdl` binary (`ARCHITECTURE.md`, "The CLI").
//!
//! Exit codes: 0 success; 2 bad input (a network, data or weights file that cannot be used, options
//! that contradict each other, or a training run that leaves the range the proof checks).

/// `println!` that ignores a closed stdout (`zkdl train | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod options;
pub mod train;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
