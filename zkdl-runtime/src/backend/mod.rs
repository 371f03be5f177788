//! The backends that run the prover's heavy kernels ([`crate::crypto::device`] is the seam): the cpu
//! (rayon, the reference), OpenCL (any OpenCL 1.2 driver; PoCL runs it on a CPU in CI) and CUDA (an
//! NVIDIA GPU, through the driver and NVRTC, both loaded at run time). The OpenCL and CUDA backends
//! run the same kernels (`zkdl_kernels`: one C source, two dialects) through [`device`], which
//! sequences them over a small interface each driver implements; [`opencl`] and [`cuda`] never
//! import each other.
//!
//! [`select`] picks one at run time: `auto` takes CUDA when the driver and NVRTC are present, else the
//! cpu, and says which in one log line. A missing driver or library is an error naming what is
//! missing, never a panic (cudarc panics when a library it needs is absent, so presence is checked
//! first).

mod bit_rounds;
pub mod cpu;
pub mod cuda;
pub(crate) mod device;
pub mod opencl;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::crypto::device::{Backend, BackendKind};

/// What `--backend` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// CUDA when a driver and NVRTC are present, else the cpu.
    #[default]
    Auto,
    /// The cpu.
    Cpu,
    /// OpenCL (the first platform's first device).
    OpenCl,
    /// CUDA (device 0).
    Cuda,
}

impl FromStr for BackendChoice {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, BackendError> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "opencl" => Ok(Self::OpenCl),
            "cuda" => Ok(Self::Cuda),
            other => Err(BackendError::Unknown(other.to_string())),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::OpenCl => "opencl",
            Self::Cuda => "cuda",
        })
    }
}

/// Why a backend could not be had or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// `--backend` named no backend.
    #[error("unknown backend `{0}` (expected auto, cpu, opencl or cuda)")]
    Unknown(String),
    /// A driver or library is missing.
    #[error("{backend}: {what}")]
    Unavailable {
        /// The backend.
        backend: &'static str,
        /// What is missing, and how to get it.
        what: String,
    },
    /// A kernel program did not compile.
    #[error("{backend}: the {program} kernels did not compile:\n{log}")]
    Compile {
        /// The backend.
        backend: &'static str,
        /// The program (`zkdl_kernels::Program::name`).
        program: &'static str,
        /// The compiler's log.
        log: String,
    },
    /// The device refused an operation (allocation, copy, launch).
    #[error("{backend}: {operation} failed: {detail}")]
    Device {
        /// The backend.
        backend: &'static str,
        /// What was being done.
        operation: String,
        /// The driver's error.
        detail: String,
    },
}

/// The backend `choice` asks for, ready to [`install`](crate::crypto::device::install). With
/// `Auto`, also the reason CUDA was not taken (for the log line).
///
/// # Errors
/// For an explicit `opencl` or `cuda` whose driver, library or device is missing, or whose kernels
/// do not compile; `auto` falls back to the cpu instead.
pub fn select(choice: BackendChoice) -> Result<Selected, BackendError> {
    match choice {
        BackendChoice::Cpu => Ok(Selected { backend: Arc::new(cpu::Cpu), fallback: None }),
        BackendChoice::OpenCl => Ok(Selected { backend: opencl::backend()?, fallback: None }),
        BackendChoice::Cuda => Ok(Selected { backend: cuda::backend()?, fallback: None }),
        BackendChoice::Auto => match cuda::backend() {
            Ok(backend) => Ok(Selected { backend, fallback: None }),
            Err(e) => Ok(Selected { backend: Arc::new(cpu::Cpu), fallback: Some(e) }),
        },
    }
}

/// A selected backend.
pub struct Selected {
    /// The backend.
    pub backend: Arc<dyn Backend>,
    /// With `auto`, why CUDA was not taken.
    pub fallback: Option<BackendError>,
}

impl Selected {
    /// The log line: which backend runs, and with `auto` why not CUDA.
    pub fn log_line(&self) -> String {
        match &self.fallback {
            None => format!("backend: {}", self.backend.description()),
            Some(why) => format!("backend: {} (auto, without CUDA: {why})", self.backend.description()),
        }
    }

    /// Where it runs.
    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }
}
