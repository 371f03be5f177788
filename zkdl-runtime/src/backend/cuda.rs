//! The CUDA backend: zkdl's kernels compiled as CUDA C++ by NVRTC for the GPU at hand (device 0) and
//! run through the CUDA driver, both loaded at run time by cudarc (dynamic loading: nothing in the
//! build needs a CUDA toolkit). cudarc panics when a library it needs is missing, so presence is
//! checked first and a missing driver or NVRTC is an error naming it.
//!
//! NVRTC is found by name (`libnvrtc.so.13`): from the CUDA toolkit (`/usr/local/cuda/lib64`) or
//! from `pip install nvidia-cuda-nvrtc==13.0.88` (`site-packages/nvidia/cu13/lib`), on
//! `LD_LIBRARY_PATH`.
#![allow(unsafe_code)]

use std::sync::Arc;

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::sys::CUdevice_attribute;
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::result as nvrtc_result;
use cudarc::nvrtc::sys as nvrtc_sys;
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions};
use zkdl_kernels::Program;

use crate::backend::device::{Arg, Device, DeviceBackend, Kernel};
use crate::backend::BackendError;
use crate::crypto::device::{Backend, BackendKind};

/// Below this many variables a table stays on the host.
pub const DEFAULT_MIN_VARS: usize = 12;

/// A CUDA device with zkdl's kernels loaded.
pub struct CudaDevice {
    name: String,
    /// cuBLAS, where `libcublas` is present (else the trainer's products stay on the host).
    blas: Option<CudaBlas>,
    arch: String,
    functions: Vec<(Kernel, CudaFunction)>,
    stream: Arc<CudaStream>,
    _context: Arc<CudaContext>,
}

fn device_error(operation: impl Into<String>, e: impl std::fmt::Debug) -> BackendError {
    BackendError::Device { backend: CudaDevice::NAME, operation: operation.into(), detail: format!("{e:?}") }
}

/// Whether the CUDA driver library and NVRTC can be loaded (cudarc panics on first use otherwise).
pub fn libraries_present() -> Result<(), BackendError> {
    let unavailable = |what: &str| BackendError::Unavailable { backend: CudaDevice::NAME, what: what.into() };
    // SAFETY: only tries to open the libraries by name.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(unavailable("no CUDA driver library (libcuda.so): is an NVIDIA driver installed?"));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(unavailable(
            "no NVRTC (libnvrtc.so.13): add the CUDA toolkit's lib64, or the lib folder of `pip install \
             nvidia-cuda-nvrtc==13.0.88`, to LD_LIBRARY_PATH",
        ));
    }
    Ok(())
}

/// Compiles `program` with NVRTC for `arch` (`sm_90`) to PTX, or the compiler's log.
pub fn compile(program: Program, arch: &str) -> Result<cudarc::nvrtc::Ptx, BackendError> {
    libraries_present()?;
    let options = CompileOptions {
        options: vec![format!("--gpu-architecture={arch}")],
        name: Some(format!("zkdl_{}.cu", program.name())),
        ..Default::default()
    };
    compile_ptx_with_opts(program.source(), options).map_err(|e| BackendError::Compile {
        backend: CudaDevice::NAME,
        program: program.name(),
        log: match e {
            CompileError::CompileError { log, .. } => log.to_string_lossy().into_owned(),
            other => format!("{other:?}"),
        },
    })
}

/// Compiles `program` with NVRTC for `arch` to a cubin, with ptxas's resource report: the cubin and
/// NVRTC's log (which carries the `--ptxas-options=-v` lines [`resource_report`] reads). This needs
/// NVRTC only, no driver or GPU, so CI checks every kernel's registers and spills with it.
///
/// # Errors
/// No NVRTC; the program does not compile (the log).
pub fn compile_cubin(program: Program, arch: &str) -> Result<(Vec<u8>, String), BackendError> {
    // SAFETY: only tries to open the library by name.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(BackendError::Unavailable {
            backend: CudaDevice::NAME,
            what: "no NVRTC (libnvrtc.so.13) on LD_LIBRARY_PATH".into(),
        });
    }
    let failed = |what: &str, e: &dyn std::fmt::Debug| BackendError::Compile {
        backend: CudaDevice::NAME,
        program: program.name(),
        log: format!("{what}: {e:?}"),
    };
    let source = std::ffi::CString::new(program.source()).map_err(|e| failed("the source", &e))?;
    let name = std::ffi::CString::new(format!("zkdl_{}.cu", program.name())).map_err(|e| failed("the name", &e))?;
    let prog = nvrtc_result::create_program(&source, Some(&name)).map_err(|e| failed("creating the program", &e))?;
    let options = [format!("--gpu-architecture={arch}"), "--ptxas-options=-v".to_string()];
    // SAFETY: `prog` was just created and is destroyed below, once; `source` and `name` outlive it.
    let compiled = unsafe { nvrtc_result::compile_program(prog, &options) };
    // SAFETY: as above.
    let log = unsafe { nvrtc_result::get_program_log(prog) }
        .map(|chars| {
            let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .unwrap_or_default();
    let cubin = compiled.map_err(|e| format!("{e:?}")).and_then(|()| {
        let mut size = 0usize;
        // SAFETY: `prog` compiled; the buffer has the size NVRTC reports.
        unsafe {
            nvrtc_sys::nvrtcGetCUBINSize(prog, &mut size).result().map_err(|e| format!("{e:?}"))?;
            let mut cubin = vec![0u8; size];
            nvrtc_sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast()).result().map_err(|e| format!("{e:?}"))?;
            Ok(cubin)
        }
    });
    // SAFETY: created above, destroyed once.
    let _ = unsafe { nvrtc_result::destroy_program(prog) };
    match cubin {
        Ok(cubin) => Ok((cubin, log)),
        Err(e) => Err(BackendError::Compile {
            backend: CudaDevice::NAME,
            program: program.name(),
            log: format!("{e}\n{log}"),
        }),
    }
}

/// One function's resources as ptxas reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelResources {
    /// The function (a kernel, or a device function not inlined).
    pub name: String,
    /// Registers per thread (entry functions).
    pub registers: u32,
    /// Stack frame bytes per thread.
    pub stack_bytes: u32,
    /// Bytes spilled to local memory (stores + loads).
    pub spill_bytes: u32,
}

/// The functions of a `--ptxas-options=-v` log, in order: `Function properties for F` starts one,
/// `N bytes stack frame, S bytes spill stores, L bytes spill loads` and `Used R registers` fill it.
pub fn resource_report(log: &str) -> Vec<KernelResources> {
    let mut functions: Vec<KernelResources> = Vec::new();
    let number_before = |line: &str, unit: &str| -> Option<u32> {
        let at = line.find(unit)?;
        line[..at].split(|c: char| !c.is_ascii_digit()).rfind(|w| !w.is_empty())?.parse().ok()
    };
    for line in log.lines() {
        if let Some(at) = line.find("Function properties for ") {
            let name = line[at + "Function properties for ".len()..].trim().to_string();
            functions.push(KernelResources { name, ..Default::default() });
        } else if let Some(f) = functions.last_mut() {
            if line.contains("bytes stack frame") {
                f.stack_bytes = number_before(line, " bytes stack frame").unwrap_or(0);
                f.spill_bytes = number_before(line, " bytes spill stores").unwrap_or(0)
                    + number_before(line, " bytes spill loads").unwrap_or(0);
            } else if line.contains("Used ") && line.contains(" registers") {
                f.registers = number_before(line, " registers").unwrap_or(0);
            }
        }
    }
    functions
}

impl CudaDevice {
    /// Device 0, with the kernels compiled for its architecture.
    ///
    /// # Errors
    /// No driver, NVRTC or device; kernels that do not compile (the log).
    pub fn open() -> Result<Self, BackendError> {
        libraries_present()?;
        let context = CudaContext::new(0).map_err(|e| BackendError::Unavailable {
            backend: Self::NAME,
            what: format!("no CUDA device 0 ({e:?})"),
        })?;
        let attribute = |a| context.attribute(a).map_err(|e| device_error("reading the compute capability", e));
        let major = attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?;
        let minor = attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?;
        let arch = format!("sm_{major}{minor}");
        let name = context.name().unwrap_or_else(|_| "unnamed GPU".into());
        let mut functions = Vec::new();
        for program in Program::ALL {
            let ptx = compile(program, &arch)?;
            let module = context
                .load_module(ptx)
                .map_err(|e| device_error(format!("loading the {} kernels", program.name()), e))?;
            for kernel in Kernel::ALL.into_iter().filter(|k| k.program() == program) {
                let f = module
                    .load_function(kernel.name())
                    .map_err(|e| device_error(format!("loading kernel {}", kernel.name()), e))?;
                functions.push((kernel, f));
            }
        }
        let stream = context.default_stream();
        // SAFETY: only tries to open the library by name.
        let blas = if unsafe { cudarc::cublas::sys::is_culib_present() } {
            Some(CudaBlas::new(stream.clone()).map_err(|e| device_error("starting cuBLAS", e))?)
        } else {
            None
        };
        Ok(Self { name, blas, arch, functions, stream, _context: context })
    }
}

impl CudaDevice {
    /// Row-major `C = A·B` as cuBLAS's column-major `Cᵀ = Bᵀ·Aᵀ`: the row-major buffers of A, B
    /// and C are the column-major Aᵀ (k × m), Bᵀ (n × k) and Cᵀ (n × m).
    fn blas_dgemm(
        &self,
        blas: &CudaBlas,
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        b: &[f64],
    ) -> Result<Vec<f64>, BackendError> {
        let dim = |v: usize| i32::try_from(v).map_err(|e| device_error("sizing a matrix product", e));
        let a_dev = self.stream.clone_htod(&a[..m * k]).map_err(|e| device_error("copying A", e))?;
        let b_dev = self.stream.clone_htod(&b[..k * n]).map_err(|e| device_error("copying B", e))?;
        let mut c_dev = self.stream.alloc_zeros::<f64>(m * n).map_err(|e| device_error("allocating C", e))?;
        let config = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: dim(n)?,
            n: dim(m)?,
            k: dim(k)?,
            alpha: 1.0,
            lda: dim(n)?,
            ldb: dim(k)?,
            beta: 0.0,
            ldc: dim(n)?,
        };
        // SAFETY: the buffers hold k·n, m·k and m·n values, as the configuration reads and writes.
        unsafe { blas.gemm(config, &b_dev, &a_dev, &mut c_dev) }.map_err(|e| device_error("cuBLAS DGEMM", e))?;
        let mut c = vec![0f64; m * n];
        self.stream.memcpy_dtoh(&c_dev, &mut c).map_err(|e| device_error("copying C back", e))?;
        self.stream.synchronize().map_err(|e| device_error("copying C back", e))?;
        Ok(c)
    }
}

impl Device for CudaDevice {
    type Buffer = CudaSlice<u64>;
    const NAME: &'static str = "cuda";

    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn description(&self) -> String {
        let blas = if self.blas.is_some() { "cuBLAS" } else { "no cuBLAS: training on the cpu" };
        format!("cuda ({}, {}, {blas})", self.name, self.arch)
    }

    fn has_blas(&self) -> bool {
        self.blas.is_some()
    }

    fn dgemm(&self, m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Option<Result<Vec<f64>, BackendError>> {
        let blas = self.blas.as_ref()?;
        Some(self.blas_dgemm(blas, m, k, n, a, b))
    }

    fn alloc(&self, words: usize) -> Result<CudaSlice<u64>, BackendError> {
        self.stream
            .alloc_zeros::<u64>(words.max(1))
            .map_err(|e| device_error(format!("allocating {} bytes", 8 * words), e))
    }

    fn write(&self, buffer: &mut CudaSlice<u64>, offset: usize, data: &[u64]) -> Result<(), BackendError> {
        if data.is_empty() {
            return Ok(());
        }
        let mut view = buffer.slice_mut(offset..offset + data.len());
        self.stream.memcpy_htod(data, &mut view).map_err(|e| device_error("writing a buffer", e))?;
        self.stream.synchronize().map_err(|e| device_error("writing a buffer", e))
    }

    fn read(&self, buffer: &CudaSlice<u64>, offset: usize, out: &mut [u64]) -> Result<(), BackendError> {
        if out.is_empty() {
            return Ok(());
        }
        let view = buffer.slice(offset..offset + out.len());
        self.stream.memcpy_dtoh(&view, out).map_err(|e| device_error("reading a buffer", e))?;
        self.stream.synchronize().map_err(|e| device_error("reading a buffer", e))
    }

    fn launch(&self, kernel: Kernel, groups: usize, args: &[Arg<'_, CudaSlice<u64>>]) -> Result<(), BackendError> {
        let (_, f) = self.functions.iter().find(|(k, _)| *k == kernel).expect("every kernel is loaded");
        let mut builder = self.stream.launch_builder(f);
        for arg in args {
            match arg {
                Arg::Buffer(b) => builder.arg(*b),
                Arg::U64(v) => builder.arg(v),
                Arg::U32(v) => builder.arg(v),
                Arg::I32(v) => builder.arg(v),
            };
        }
        let config = LaunchConfig {
            grid_dim: (u32::try_from(groups.max(1)).map_err(|e| device_error("sizing a launch", e))?, 1, 1),
            block_dim: (kernel.group_size() as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: the arguments match the kernel's parameters in order and type, as
        // `backend::device` passes them; the kernels bound-check their indices.
        unsafe { builder.launch(config) }.map(drop).map_err(|e| device_error(format!("launching {}", kernel.name()), e))
    }
}

/// The CUDA backend with tables of at least `2^min_vars` entries on the device.
///
/// # Errors
/// As [`CudaDevice::open`].
pub fn backend_with_min_vars(min_vars: usize) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(Arc::new(DeviceBackend::new(CudaDevice::open()?, min_vars)))
}

/// The CUDA backend.
///
/// # Errors
/// As [`CudaDevice::open`].
pub fn backend() -> Result<Arc<dyn Backend>, BackendError> {
    backend_with_min_vars(DEFAULT_MIN_VARS)
}
