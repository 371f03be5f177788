//! The `zkdl` command line: see [`zkdl::cli`] for the subcommands.

fn main() -> std::process::ExitCode {
    zkdl::cli::main()
}
