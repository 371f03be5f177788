//! The zkdl circuit compiler.
//!
//! This crate will lower a `NetworkSpec` and a step count T to a petgraph IR of tensors and gates,
//! aggregate gate instances across layers and steps (FAC4DNN, `PROTOCOL.md` §5) and emit the `Plan`
//! that the trainer, prover and verifier follow. It knows no cryptography. It exports nothing yet:
//! the compiler is built by its own issue, and no placeholder API stands here in the meantime.
