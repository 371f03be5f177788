//! Shared by the CLI tests: running the `zkdl` binary and a scratch directory per test.
#![allow(dead_code)]

use std::process::Command;

/// Runs the `zkdl` binary built for these tests.
pub fn zkdl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zkdl")).args(args).output().expect("run zkdl")
}

/// A fresh directory under the system's temporary directory, named after the test and the process.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("zkdl-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
