//! Procedural macros of zkdl.
//!
//! This crate will hold `network!`, the declaration of a network in Rust source that expands to a
//! `NetworkSpec` of `zkdl-compiler` (see `ARCHITECTURE.md`). It exports nothing yet: the DSL is built
//! by its own issue, and no placeholder API stands here in the meantime.
