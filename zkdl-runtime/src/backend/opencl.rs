//! The OpenCL backend: zkdl's kernels compiled as OpenCL C 1.2 by the platform's driver (PoCL on
//! CPU machines, where CI runs them; a GPU vendor's driver elsewhere), through `opencl3`, which
//! loads `libOpenCL.so.1` at run time. The first platform's first device is used.
#![allow(unsafe_code)]

use std::ptr;
use std::sync::{Arc, Mutex};

use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{Device as ClDevice, CL_DEVICE_TYPE_ALL};
use opencl3::kernel::{ExecuteKernel, Kernel as ClKernel};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE};
use opencl3::program::Program as ClProgram;
use opencl3::types::CL_BLOCKING;
use zkdl_kernels::Program;

use crate::backend::device::{Arg, Device, DeviceBackend, Kernel};
use crate::backend::BackendError;
use crate::crypto::device::{Backend, BackendKind};

/// Below this many variables a table stays on the host.
pub const DEFAULT_MIN_VARS: usize = 10;

/// An OpenCL device with zkdl's kernels built for it.
pub struct OpenClDevice {
    name: String,
    // Declared before the context so that they are released first.
    kernels: Vec<(Kernel, Mutex<ClKernel>)>,
    _programs: Vec<ClProgram>,
    queue: CommandQueue,
    context: Context,
}

fn device_error(operation: impl Into<String>, e: impl std::fmt::Display) -> BackendError {
    BackendError::Device { backend: OpenClDevice::NAME, operation: operation.into(), detail: e.to_string() }
}

impl OpenClDevice {
    /// The first platform's first device, with the kernels built.
    ///
    /// # Errors
    /// No OpenCL library or platform or device; a program that does not build (its log).
    pub fn open() -> Result<Self, BackendError> {
        let unavailable = |what: String| BackendError::Unavailable { backend: Self::NAME, what };
        let platforms = opencl3::platform::get_platforms().map_err(|e| {
            unavailable(format!(
                "no OpenCL platform ({e}); install a driver, e.g. `apt-get install pocl-opencl-icd ocl-icd-opencl-dev`"
            ))
        })?;
        let platform = platforms.first().ok_or_else(|| unavailable("no OpenCL platform".into()))?;
        let ids =
            platform.get_devices(CL_DEVICE_TYPE_ALL).map_err(|e| unavailable(format!("no OpenCL device ({e})")))?;
        let id = *ids.first().ok_or_else(|| unavailable("the OpenCL platform has no device".into()))?;
        let device = ClDevice::new(id);
        let name = device.name().unwrap_or_else(|_| "unnamed device".into());
        let context = Context::from_device(&device).map_err(|e| device_error("creating a context", e))?;
        #[allow(deprecated)]
        let queue = CommandQueue::create_default(&context, 0).map_err(|e| device_error("creating a queue", e))?;
        let mut programs = Vec::new();
        let mut kernels = Vec::new();
        for program in Program::ALL {
            let built = ClProgram::create_and_build_from_source(&context, &program.source(), "")
                .map_err(|log| BackendError::Compile { backend: Self::NAME, program: program.name(), log })?;
            for kernel in Kernel::ALL.into_iter().filter(|k| k.program() == program) {
                let k = ClKernel::create(&built, kernel.name())
                    .map_err(|e| device_error(format!("creating kernel {}", kernel.name()), e))?;
                kernels.push((kernel, Mutex::new(k)));
            }
            programs.push(built);
        }
        Ok(Self { name, kernels, _programs: programs, queue, context })
    }
}

impl Device for OpenClDevice {
    type Buffer = Buffer<u64>;
    const NAME: &'static str = "opencl";

    fn kind(&self) -> BackendKind {
        BackendKind::OpenCl
    }

    fn description(&self) -> String {
        format!("opencl ({})", self.name)
    }

    fn alloc(&self, words: usize) -> Result<Buffer<u64>, BackendError> {
        // SAFETY: no host pointer; the buffer is written before it is read (or read as scratch).
        unsafe { Buffer::<u64>::create(&self.context, CL_MEM_READ_WRITE, words.max(1), ptr::null_mut()) }
            .map_err(|e| device_error(format!("allocating {} bytes", 8 * words.max(1)), e))
    }

    fn write(&self, buffer: &mut Buffer<u64>, offset: usize, data: &[u64]) -> Result<(), BackendError> {
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: a blocking write of `data`, which outlives the call.
        unsafe { self.queue.enqueue_write_buffer(buffer, CL_BLOCKING, 8 * offset, data, &[]) }
            .map(drop)
            .map_err(|e| device_error("writing a buffer", e))
    }

    fn read(&self, buffer: &Buffer<u64>, offset: usize, out: &mut [u64]) -> Result<(), BackendError> {
        if out.is_empty() {
            return Ok(());
        }
        // SAFETY: a blocking read into `out`, which outlives the call; the in-order queue runs it
        // after every launch before it.
        unsafe { self.queue.enqueue_read_buffer(buffer, CL_BLOCKING, 8 * offset, out, &[]) }
            .map(drop)
            .map_err(|e| device_error("reading a buffer", e))
    }

    fn launch(&self, kernel: Kernel, groups: usize, args: &[Arg<'_, Buffer<u64>>]) -> Result<(), BackendError> {
        let (_, k) = self.kernels.iter().find(|(k, _)| *k == kernel).expect("every kernel is built");
        let k = k.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut execute = ExecuteKernel::new(&k);
        for arg in args {
            // SAFETY: the arguments match the kernel's parameters in order and type (cl_mem,
            // cl_ulong, cl_uint, cl_int), as `backend::device` passes them.
            unsafe {
                match arg {
                    Arg::Buffer(b) => execute.set_arg(*b),
                    Arg::U64(v) => execute.set_arg(v),
                    Arg::U32(v) => execute.set_arg(v),
                    Arg::I32(v) => execute.set_arg(v),
                };
            }
        }
        let local = kernel.group_size();
        execute.set_global_work_size(groups.max(1) * local).set_local_work_size(local);
        // SAFETY: global and local sizes as the kernels expect (they bound-check their indices).
        unsafe { execute.enqueue_nd_range(&self.queue) }
            .map(drop)
            .map_err(|e| device_error(format!("launching {}", kernel.name()), e))
    }
}

/// The OpenCL backend with tables of at least `2^min_vars` entries on the device.
///
/// # Errors
/// As [`OpenClDevice::open`].
pub fn backend_with_min_vars(min_vars: usize) -> Result<Arc<dyn Backend>, BackendError> {
    Ok(Arc::new(DeviceBackend::new(OpenClDevice::open()?, min_vars)))
}

/// The OpenCL backend.
///
/// # Errors
/// As [`OpenClDevice::open`].
pub fn backend() -> Result<Arc<dyn Backend>, BackendError> {
    backend_with_min_vars(DEFAULT_MIN_VARS)
}
