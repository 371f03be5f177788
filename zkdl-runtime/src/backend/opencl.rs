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
        // PoCL's platform and device discovery is not safe to run from two threads at once (seen
        // as "no device" and as crashes when tests opened devices in parallel): one at a time.
        static OPENING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = OPENING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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

#[cfg(test)]
mod tests {
    use ark_ec::{AffineRepr, CurveGroup};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::backend::device::{
        bucket_bytes, digit_windows, BYTE_TABLE_MIN_ROWS, BYTE_TABLE_SLICE_WORDS, MSM_SEGMENT,
    };
    use crate::crypto::commitment::CommitmentKey;
    use crate::{G1Affine, G1Projective};

    /// The device, or `None` (skipping) where no OpenCL driver is installed and
    /// `ZKDL_REQUIRE_OPENCL=1` is not set.
    fn device() -> Option<OpenClDevice> {
        match OpenClDevice::open() {
            Ok(d) => Some(d),
            Err(e) if std::env::var("ZKDL_REQUIRE_OPENCL").is_ok_and(|v| v == "1") => panic!("{e}"),
            Err(e) => {
                eprintln!("skipping: {e}");
                None
            }
        }
    }

    fn naive_row_sum(generators: &[G1Affine], terms: impl Iterator<Item = (usize, i64)>) -> G1Affine {
        let sum: G1Projective = terms.map(|(j, v)| generators[j].into_group() * crate::Fr::from(v)).sum();
        sum.into_affine()
    }

    /// Rows of bits past the byte-table threshold, summed by tables of one word's columns (three
    /// slices a row, the later ones added to the earlier) and by tables of the whole row: both are
    /// the subset sums.
    #[test]
    fn byte_tables_sum_wide_rows_slice_by_slice() {
        let Some(d) = device() else { return };
        let key = CommitmentKey::new(8);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (rows, words_per_row) = (BYTE_TABLE_MIN_ROWS + 3, 3usize);
        let mut words: Vec<u64> = (0..rows * words_per_row).map(|_| rng.gen()).collect();
        words[..words_per_row].fill(0);
        words[words_per_row..2 * words_per_row].fill(u64::MAX);
        let generators = &key.generators()[..64 * words_per_row];
        let sliced = DeviceBackend::with_limits(d, 0, 1, 1 << 26);
        let by_slices = sliced.bit_row_sums(generators, &words, words_per_row).expect("on the device");
        let whole = DeviceBackend::new(device().unwrap(), 0);
        assert_eq!(by_slices, whole.bit_row_sums(generators, &words, words_per_row).unwrap());
        for (i, row) in
            words.chunks(words_per_row).enumerate().step_by(37).chain(words.chunks(words_per_row).enumerate().take(2))
        {
            let set = (0..64 * words_per_row).filter(|j| row[j / 64] >> (j % 64) & 1 == 1).map(|j| (j, 1));
            assert_eq!(by_slices[i], naive_row_sum(generators, set), "row {i}");
        }
        assert!(by_slices[0].is_zero());
    }

    /// Signed rows committed in batches of one or a few rows (the bucket lists bounded) equal one
    /// launch for all rows and the plain sums.
    #[test]
    fn bucket_sums_in_batches_of_rows_equal_one_launch() {
        let Some(d) = device() else { return };
        let key = CommitmentKey::new(5);
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (rows, cols, bits) = (7usize, 32usize, 40u32);
        let values: Vec<i64> = (0..rows * cols).map(|_| rng.gen_range(-(1i64 << 39)..1 << 39)).collect();
        let scalars: Vec<u64> = values.iter().flat_map(|v| [v.unsigned_abs(), 0, 0, 0, u64::from(*v < 0)]).collect();
        let generators = &key.generators()[..cols];
        let row_bytes = bucket_bytes(cols, digit_windows(bits));
        let one_row = DeviceBackend::with_limits(d, 0, BYTE_TABLE_SLICE_WORDS, row_bytes);
        let three_rows = DeviceBackend::with_limits(device().unwrap(), 0, BYTE_TABLE_SLICE_WORDS, 3 * row_bytes);
        let all = DeviceBackend::new(device().unwrap(), 0);
        let expected: Vec<G1Affine> =
            values.chunks(cols).map(|row| naive_row_sum(generators, row.iter().copied().enumerate())).collect();
        for backend in [&one_row, &three_rows, &all] {
            assert_eq!(backend.signed_row_sums(generators, &scalars, cols, bits).unwrap(), expected);
        }
    }

    /// An MSM of three segments and a few entries more, in launches of one segment (the bases of
    /// each launch its own) and in one: both are ark's sum.
    #[test]
    fn msms_in_batches_of_segments_equal_one_launch() {
        use ark_ec::VariableBaseMSM;
        let Some(d) = device() else { return };
        let key = CommitmentKey::new(5);
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (count, bits) = (3 * MSM_SEGMENT + 5, 40u32);
        let values: Vec<i64> = (0..count).map(|_| rng.gen_range(-(1i64 << 39)..1 << 39)).collect();
        let scalars: Vec<u64> = values.iter().flat_map(|v| [v.unsigned_abs(), 0, 0, 0, u64::from(*v < 0)]).collect();
        let bases: Vec<G1Affine> = key.generators().iter().copied().cycle().take(count).collect();
        let fields: Vec<crate::Fr> = values.iter().map(|&v| crate::Fr::from(v)).collect();
        let expected = G1Projective::msm_unchecked(&bases, &fields);
        let one_segment =
            DeviceBackend::with_limits(d, 0, BYTE_TABLE_SLICE_WORDS, bucket_bytes(MSM_SEGMENT, digit_windows(bits)));
        let all = DeviceBackend::new(device().unwrap(), 0);
        for backend in [&one_segment, &all] {
            assert_eq!(backend.msm(&bases, &scalars, bits).unwrap(), expected);
        }
    }
}
