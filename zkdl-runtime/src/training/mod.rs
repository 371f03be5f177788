//! Training (`PROTOCOL.md` §1–§3): the exact fixed-point run whose every value the proof needs.
//!
//! - [`data`]: the embedded UCI digits set and loaders for CSV, IDX, npy and CIFAR-10; normalization,
//!   seeded splits and epoch batches.
//! - [`fixed_point`]: quantization, rescale_S with its remainder, two's complement and zkReLU's
//!   sign/magnitude decomposition.
//! - [`exact_matmul`]: exact integer matrix products through f64 limbs ([`gemm`] holds the only `unsafe`).
//! - [`trainer`]: the exact fixed-point SGD step, every value recorded, ranges checked as errors.
//! - [`witness`]: a run's values in the plan's stacked layout, and a self-check of every relation.
//! - [`integers`]: the compact integer and bit storage of the witness.
//! - [`weights`]: seeded initialization and safetensors files; [`reference`](mod@reference): the float
//!   reference; [`session`]: a training run with per-epoch reports and the drift report.

pub mod data;
pub mod exact_matmul;
pub mod fixed_point;
pub mod gemm;
pub mod integers;
pub mod reference;
pub mod session;
pub mod trainer;
pub mod weights;
pub mod witness;
