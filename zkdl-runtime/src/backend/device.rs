//! The kernels' host side, written once for every device driver: a driver ([`Device`]) allocates,
//! copies and launches; [`DeviceBackend`] sequences the kernels of `zkdl_kernels` into the
//! [`Backend`] operations.
//!
//! Field elements cross as ark-ff's in-memory `Fr`: four little-endian 64-bit limbs in Montgomery
//! form, which is the kernels' `fr` (`kernels/src/cl/fr.h`), so tables are copied as they are.
//!
//! - eq table: the `2n` weights `(1 − u_k, u_k)` are uploaded and `eq_double` doubles the table
//!   `n` times between two buffers (`2^(n+1)` multiplications).
//! - sumcheck rounds: the factor tables go up once, one after another in one buffer (factor `f`
//!   at `f · 2^n`); each round launches `round_values` (per work-group partial sums of `q(t)`),
//!   `reduce_partials` (one work-group adds them) and reads back `D + 1` values; binding launches
//!   `fold_leading` over every factor and `eq_fold_sum` over the eq table. After the last round one
//!   entry per factor comes back.
//! - the bit relation's rounds on bits: `backend::bit_rounds`.

use std::sync::Arc;

use ark_bls12_381::{g1, Fq};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, One, PrimeField, Zero};
use zkdl_kernels::Program;

use crate::backend::bit_rounds::DeviceBitRounds;
use crate::backend::BackendError;
use crate::crypto::bits::{BitVector, PagedBits};
use crate::crypto::device::{Backend, BackendKind, BitRoundTables, Coefficient, HostTables, RoundShape, RoundTables};
use crate::{Fr, G1Affine, G1Projective};

/// The work-group size of the field kernels (`GROUP_SIZE` in `kernels/src/cl/prelude.h`).
pub(crate) const GROUP_SIZE: usize = 256;

/// The buckets of a window of signed base-256 digits (`BUCKETS` in `kernels/src/cl/commit.cl`):
/// digits `±1 … ±128`.
const BUCKETS: usize = 128;

/// An MSM is cut into segments of this many entries, each a bucket MSM of its own (in parallel),
/// added up on the host.
pub(crate) const MSM_SEGMENT: usize = 4096;

/// The most device memory one launch of the bucket kernels holds (1 GiB): a commitment or an MSM
/// needing more ([`bucket_bytes`] per segment) goes in batches of segments.
const MAX_BUCKET_BYTES: usize = 1 << 30;

/// The signed base-256 digit windows of magnitudes below `2^bits`: `⌊bits/8⌋ + 1`, the last taking the
/// carry out of the top byte (`signed_digit` in `kernels/src/cl/commit.cl`).
pub(crate) const fn digit_windows(bits: u32) -> usize {
    bits as usize / 8 + 1
}

/// The device memory of one segment of `cols` entries in the bucket kernels over `windows` windows:
/// the scalars (40 bytes an entry), and per window the bucket lists (4 bytes an entry), counts and
/// cursors (8 bytes a bucket), the bucket sums (an XYZZ point, 192 bytes, a bucket) and the window
/// sum. The bucket sums dominate: 24 KiB a window.
pub(crate) const fn bucket_bytes(cols: usize, windows: usize) -> usize {
    40 * cols + windows * (4 * cols + (8 + 192) * BUCKETS + 192)
}

/// With this many rows or more, bit rows are summed by byte tables (`bit_byte_tables`: about
/// `128 · columns` additions to build, then one addition per nonzero byte of a row instead of about
/// four for random bits), which repays the build past a few hundred rows.
pub(crate) const BYTE_TABLE_MIN_ROWS: usize = 256;

/// The widest slice of a row (in 64-bit words) that one byte table covers: `64 · 1024` columns,
/// a 384 MiB table. Wider rows are summed slice by slice.
pub(crate) const BYTE_TABLE_SLICE_WORDS: usize = 1024;

/// At most this many work-groups compute a round's partial sums (each thread strides over the rest).
pub(crate) const MAX_ROUND_GROUPS: usize = 1024;

/// A kernel of `zkdl_kernels`, by program and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    EqDouble,
    FoldLeading,
    EqFoldSum,
    RoundValues,
    ReducePartials,
    BitRoundSums,
    BindBits,
    CommitBitRows,
    BitByteTables,
    CommitBitRowsByBytes,
    BucketDigits,
    BucketStarts,
    BucketAccumulate,
    BucketWindowSums,
    WindowCombine,
    G1Fold,
}

impl Kernel {
    pub(crate) const ALL: [Kernel; 16] = [
        Kernel::EqDouble,
        Kernel::FoldLeading,
        Kernel::EqFoldSum,
        Kernel::RoundValues,
        Kernel::ReducePartials,
        Kernel::BitRoundSums,
        Kernel::BindBits,
        Kernel::CommitBitRows,
        Kernel::BitByteTables,
        Kernel::CommitBitRowsByBytes,
        Kernel::BucketDigits,
        Kernel::BucketStarts,
        Kernel::BucketAccumulate,
        Kernel::BucketWindowSums,
        Kernel::WindowCombine,
        Kernel::G1Fold,
    ];

    pub(crate) fn program(self) -> Program {
        match self {
            Kernel::EqDouble
            | Kernel::FoldLeading
            | Kernel::EqFoldSum
            | Kernel::RoundValues
            | Kernel::ReducePartials
            | Kernel::BitRoundSums
            | Kernel::BindBits => Program::Field,
            _ => Program::Group,
        }
    }

    /// The work-group size it is launched with: `GROUP_SIZE`, `COMMIT_GROUP_SIZE` (the row sums of
    /// `kernels/src/cl/commit.cl`) or `BUCKETS` (one work-item per bucket of a window).
    pub(crate) fn group_size(self) -> usize {
        match self {
            Kernel::CommitBitRows | Kernel::CommitBitRowsByBytes => 64,
            Kernel::BucketWindowSums => BUCKETS,
            _ => GROUP_SIZE,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kernel::EqDouble => "eq_double",
            Kernel::FoldLeading => "fold_leading",
            Kernel::EqFoldSum => "eq_fold_sum",
            Kernel::RoundValues => "round_values",
            Kernel::ReducePartials => "reduce_partials",
            Kernel::BitRoundSums => "bit_round_sums",
            Kernel::BindBits => "bind_bits",
            Kernel::CommitBitRows => "commit_bit_rows",
            Kernel::BitByteTables => "bit_byte_tables",
            Kernel::CommitBitRowsByBytes => "commit_bit_rows_by_bytes",
            Kernel::BucketDigits => "bucket_digits",
            Kernel::BucketStarts => "bucket_starts",
            Kernel::BucketAccumulate => "bucket_accumulate",
            Kernel::BucketWindowSums => "bucket_window_sums",
            Kernel::WindowCombine => "window_combine",
            Kernel::G1Fold => "g1_fold",
        }
    }
}

/// A kernel argument.
pub(crate) enum Arg<'a, B> {
    Buffer(&'a B),
    U64(u64),
    U32(u32),
    I32(i32),
}

/// What a device driver provides: buffers of 64-bit words, copies, and launches of
/// `groups × kernel.group_size()` work-items.
pub(crate) trait Device: Send + Sync + 'static {
    type Buffer: Send + 'static;
    /// The backend's name in errors.
    const NAME: &'static str;
    fn kind(&self) -> BackendKind;
    fn description(&self) -> String;
    /// A buffer of `words` 64-bit words (at least one), contents unspecified.
    fn alloc(&self, words: usize) -> Result<Self::Buffer, BackendError>;
    /// Copies `data` into `buffer` from word `offset` on.
    fn write(&self, buffer: &mut Self::Buffer, offset: usize, data: &[u64]) -> Result<(), BackendError>;
    /// Copies words `offset … offset + out.len()` of `buffer` into `out`, after every launch before it.
    fn read(&self, buffer: &Self::Buffer, offset: usize, out: &mut [u64]) -> Result<(), BackendError>;
    fn launch(&self, kernel: Kernel, groups: usize, args: &[Arg<'_, Self::Buffer>]) -> Result<(), BackendError>;
    /// Whether the device has a BLAS for [`Self::dgemm`].
    fn has_blas(&self) -> bool {
        false
    }
    /// `C = A·B` in f64, row-major, through the device's BLAS; `None` without one.
    fn dgemm(&self, m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Option<Result<Vec<f64>, BackendError>> {
        let _ = (m, k, n, a, b);
        None
    }
}

/// The fewest multiply-adds (`m·k·n`) for which a matrix product goes to the device.
const DGEMM_MIN_WORK: usize = 1 << 24;

/// `count` XYZZ points from the start of a device buffer, as affine points.
fn read_points<D: Device>(d: &D, buffer: &D::Buffer, count: usize) -> Result<Vec<G1Affine>, BackendError> {
    let mut xyzz = vec![0u64; 24 * count];
    d.read(buffer, 0, &mut xyzz)?;
    Ok(xyzz_to_affine(&xyzz))
}

/// A device that fails mid-proof (out of memory, a lost device): the prover's kernels have no error
/// path, so this ends the run with the driver's message. It is never caused by the proof's input.
pub(crate) fn device_failed<T>(e: BackendError) -> T {
    panic!("{e}")
}

/// A new device buffer holding `words`.
pub(crate) fn upload<D: Device>(d: &D, words: &[u64]) -> Result<D::Buffer, BackendError> {
    let mut buffer = d.alloc(words.len())?;
    d.write(&mut buffer, 0, words)?;
    Ok(buffer)
}

/// `Fr`s as the 64-bit words of their Montgomery limbs.
pub(crate) fn fr_words(values: &[Fr]) -> &[u64] {
    const { assert!(std::mem::size_of::<Fr>() == 32 && std::mem::align_of::<Fr>() == 8) };
    // SAFETY: `Fr` is `Fp(BigInt([u64; 4]), PhantomData)`: 32 bytes of four u64 limbs (the assertion
    // above; the marker is zero-sized), so a slice of n of them is 4n initialized u64s.
    #[allow(unsafe_code)]
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u64>(), values.len() * 4)
    }
}

/// Field elements from the kernels' words (canonical Montgomery limbs, as the kernels keep them).
pub(crate) fn words_fr(words: &[u64]) -> Vec<Fr> {
    words.chunks_exact(4).map(|l| Fr::new_unchecked(BigInt([l[0], l[1], l[2], l[3]]))).collect()
}

/// Affine points as the kernels read them: 12 limbs each, x then y in Fq Montgomery limbs (the
/// identity is x = y = 0, as in ark).
pub(crate) fn affine_limbs(points: &[G1Affine]) -> Vec<u64> {
    points.iter().flat_map(|g| g.x.0 .0.into_iter().chain(g.y.0 .0)).collect()
}

/// XYZZ points (24 limbs each: X, Y, ZZ, ZZZ in Fq Montgomery limbs) as affine points
/// `(X/ZZ, Y/ZZZ)`, the point at infinity where `ZZ = 0`, with one batch inversion for all.
pub(crate) fn xyzz_to_affine(limbs: &[u64]) -> Vec<G1Affine> {
    let fq = |l: &[u64]| Fq::new_unchecked(BigInt([l[0], l[1], l[2], l[3], l[4], l[5]]));
    let points: Vec<[Fq; 4]> =
        limbs.chunks_exact(24).map(|p| [fq(&p[0..6]), fq(&p[6..12]), fq(&p[12..18]), fq(&p[18..24])]).collect();
    // Inverses of every ZZ and ZZZ (zeros stay zero).
    let mut inverses: Vec<Fq> = points.iter().flat_map(|p| [p[2], p[3]]).collect();
    ark_ff::batch_inversion(&mut inverses);
    points
        .iter()
        .zip(inverses.chunks_exact(2))
        .map(
            |(p, inv)| {
                if p[2].is_zero() {
                    G1Affine::identity()
                } else {
                    G1Affine::new_unchecked(p[0] * inv[0], p[1] * inv[1])
                }
            },
        )
        .collect()
}

/// A backend that runs the kernels on a device, and leaves to the host what is smaller than
/// `2^min_vars` entries (not worth the copies) or what the kernels do not cover.
pub(crate) struct DeviceBackend<D: Device> {
    device: Arc<D>,
    min_vars: usize,
    /// [`BYTE_TABLE_SLICE_WORDS`] and [`MAX_BUCKET_BYTES`], smaller in tests of the slicing and the
    /// batching.
    byte_table_slice_words: usize,
    max_bucket_bytes: usize,
}

impl<D: Device> DeviceBackend<D> {
    pub(crate) fn new(device: D, min_vars: usize) -> Self {
        Self::with_limits(device, min_vars, BYTE_TABLE_SLICE_WORDS, MAX_BUCKET_BYTES)
    }

    /// A backend whose byte tables cover `byte_table_slice_words` words of a row and whose bucket
    /// launches hold at most `max_bucket_bytes` of device memory (at least one segment's).
    pub(crate) fn with_limits(
        device: D,
        min_vars: usize,
        byte_table_slice_words: usize,
        max_bucket_bytes: usize,
    ) -> Self {
        Self { device: Arc::new(device), min_vars, byte_table_slice_words, max_bucket_bytes }
    }

    fn device_eq_table(&self, point: &[Fr]) -> Result<Vec<Fr>, BackendError> {
        let d = &*self.device;
        let n = point.len();
        let weights: Vec<Fr> = point.iter().flat_map(|u| [Fr::one() - u, *u]).collect();
        let weights_buffer = upload(d, fr_words(&weights))?;
        let mut tables = [d.alloc(4 << n)?, d.alloc(4 << n)?];
        d.write(&mut tables[0], 0, fr_words(&[Fr::one()]))?;
        for k in 0..n {
            let len = 1usize << k;
            let [src, dst] = if k % 2 == 0 { [&tables[0], &tables[1]] } else { [&tables[1], &tables[0]] };
            d.launch(
                Kernel::EqDouble,
                len.div_ceil(GROUP_SIZE),
                &[
                    Arg::Buffer(src),
                    Arg::Buffer(dst),
                    Arg::U64(len as u64),
                    Arg::Buffer(&weights_buffer),
                    Arg::U32(k as u32),
                ],
            )?;
        }
        let mut out = vec![0u64; 4 << n];
        d.read(&tables[n % 2], 0, &mut out)?;
        Ok(words_fr(&out))
    }

    fn device_bit_row_sums(
        &self,
        generators: &[G1Affine],
        words: &[u64],
        words_per_row: usize,
    ) -> Result<Vec<G1Affine>, BackendError> {
        let d = &*self.device;
        let rows = words.len() / words_per_row;
        let cols = 64 * words_per_row;
        let limbs = affine_limbs(&generators[..cols]);
        let bits = upload(d, words)?;
        let out = d.alloc(24 * rows)?;
        if rows < BYTE_TABLE_MIN_ROWS {
            let generator_buffer = upload(d, &limbs)?;
            d.launch(
                Kernel::CommitBitRows,
                rows,
                &[
                    Arg::Buffer(&generator_buffer),
                    Arg::Buffer(&bits),
                    Arg::U64(words_per_row as u64),
                    Arg::Buffer(&out),
                ],
            )?;
            return read_points(d, &out, rows);
        }
        let slice_words = self.byte_table_slice_words.min(words_per_row);
        // One table buffer for the widest slice: 256 XYZZ points per group of 8 columns.
        let tables = d.alloc(24 * 256 * 8 * slice_words)?;
        for first_word in (0..words_per_row).step_by(slice_words) {
            let width = slice_words.min(words_per_row - first_word);
            let groups = 8 * width;
            let slice_generators = upload(d, &limbs[12 * 64 * first_word..12 * 64 * (first_word + width)])?;
            d.launch(
                Kernel::BitByteTables,
                (256 * groups).div_ceil(GROUP_SIZE),
                &[Arg::Buffer(&slice_generators), Arg::U64(groups as u64), Arg::Buffer(&tables)],
            )?;
            d.launch(
                Kernel::CommitBitRowsByBytes,
                rows,
                &[
                    Arg::Buffer(&tables),
                    Arg::Buffer(&bits),
                    Arg::U64(words_per_row as u64),
                    Arg::U64(first_word as u64),
                    Arg::U64(width as u64),
                    Arg::U32(u32::from(first_word > 0)),
                    Arg::Buffer(&out),
                ],
            )?;
        }
        read_points(d, &out, rows)
    }

    /// `Σ_j v_(s,j) · P_(s,j)` for every segment `s` of `cols` consecutive scalars (5 words each,
    /// every magnitude below `2^bits`), with `P_(s,j) = bases[s · base_stride + j]`, by the bucket
    /// kernels of `kernels/src/cl/commit.cl`: one XYZZ point per segment in the returned buffer.
    fn bucket_sums(
        &self,
        bases: &D::Buffer,
        base_stride: usize,
        scalars: &[u64],
        cols: usize,
        bits: u32,
    ) -> Result<D::Buffer, BackendError> {
        let d = &*self.device;
        let count = scalars.len() / 5;
        let segments = count.div_ceil(cols);
        let windows = digit_windows(bits);
        let regions = segments * windows;
        let scalar_buffer = upload(d, scalars)?;
        // 128 32-bit counts per region, two to a 64-bit word.
        let bucket_words = regions * BUCKETS / 2;
        let counts = upload(d, &vec![0u64; bucket_words])?;
        let cursors = d.alloc(bucket_words)?;
        let lists = d.alloc((regions * cols).div_ceil(2))?;
        // Counts the nonzero digits of each bucket (scatter = 0), or writes each entry into its
        // buckets' lists at the cursors (scatter = 1).
        let digits = |slots: &D::Buffer, scatter: u32| {
            d.launch(
                Kernel::BucketDigits,
                count.div_ceil(GROUP_SIZE),
                &[
                    Arg::Buffer(&scalar_buffer),
                    Arg::U64(count as u64),
                    Arg::U64(cols as u64),
                    Arg::U32(windows as u32),
                    Arg::Buffer(slots),
                    Arg::U32(scatter),
                    Arg::Buffer(&lists),
                ],
            )
        };
        digits(&counts, 0)?;
        d.launch(
            Kernel::BucketStarts,
            regions.div_ceil(GROUP_SIZE),
            &[Arg::Buffer(&counts), Arg::U64(regions as u64), Arg::Buffer(&cursors)],
        )?;
        digits(&cursors, 1)?;
        let buckets = regions * BUCKETS;
        let bucket_sums = d.alloc(24 * buckets)?;
        d.launch(
            Kernel::BucketAccumulate,
            buckets.div_ceil(GROUP_SIZE),
            &[
                Arg::Buffer(bases),
                Arg::U64(base_stride as u64),
                Arg::U64(cols as u64),
                Arg::U32(windows as u32),
                Arg::Buffer(&lists),
                Arg::Buffer(&counts),
                Arg::Buffer(&cursors),
                Arg::U64(buckets as u64),
                Arg::Buffer(&bucket_sums),
            ],
        )?;
        let window_sums = d.alloc(24 * regions)?;
        d.launch(Kernel::BucketWindowSums, regions, &[Arg::Buffer(&bucket_sums), Arg::Buffer(&window_sums)])?;
        let out = d.alloc(24 * segments)?;
        d.launch(
            Kernel::WindowCombine,
            segments.div_ceil(GROUP_SIZE),
            &[Arg::Buffer(&window_sums), Arg::U64(segments as u64), Arg::U32(windows as u32), Arg::Buffer(&out)],
        )?;
        Ok(out)
    }

    fn device_signed_row_sums(
        &self,
        generators: &[G1Affine],
        scalars: &[u64],
        cols: usize,
        bits: u32,
    ) -> Result<Vec<G1Affine>, BackendError> {
        let d = &*self.device;
        let rows = scalars.len() / 5 / cols;
        let generator_buffer = upload(d, &affine_limbs(&generators[..cols]))?;
        let windows = digit_windows(bits);
        let batch = (self.max_bucket_bytes / bucket_bytes(cols, windows)).max(1);
        let mut points = Vec::with_capacity(rows);
        for first in (0..rows).step_by(batch) {
            let last = (first + batch).min(rows);
            let sums =
                self.bucket_sums(&generator_buffer, 0, &scalars[5 * cols * first..5 * cols * last], cols, bits)?;
            points.extend(read_points(d, &sums, last - first)?);
        }
        Ok(points)
    }

    fn device_bind_leading(&self, values: &[Fr], prefix: &[Fr]) -> Result<Vec<Fr>, BackendError> {
        let d = &*self.device;
        let table = upload(d, fr_words(values))?;
        let mut len = values.len();
        for r in prefix {
            let half = len / 2;
            let l = r.0 .0;
            d.launch(
                Kernel::FoldLeading,
                half.div_ceil(GROUP_SIZE),
                &[
                    Arg::Buffer(&table),
                    Arg::U64(values.len() as u64),
                    Arg::U64(half as u64),
                    Arg::U32(1),
                    Arg::U64(l[0]),
                    Arg::U64(l[1]),
                    Arg::U64(l[2]),
                    Arg::U64(l[3]),
                ],
            )?;
            len = half;
        }
        let mut out = vec![0u64; 4 * len];
        d.read(&table, 0, &mut out)?;
        Ok(words_fr(&out))
    }

    fn device_msm(&self, bases: &[G1Affine], scalars: &[u64], bits: u32) -> Result<G1Projective, BackendError> {
        let d = &*self.device;
        let count = bases.len();
        let cols = count.min(MSM_SEGMENT);
        let windows = digit_windows(bits);
        // Entries per launch: whole segments, within the memory bound.
        let batch = cols * (self.max_bucket_bytes / bucket_bytes(cols, windows)).max(1);
        let mut sum = G1Projective::zero();
        for first in (0..count).step_by(batch) {
            let last = (first + batch).min(count);
            let base_buffer = upload(d, &affine_limbs(&bases[first..last]))?;
            let sums = self.bucket_sums(&base_buffer, cols, &scalars[5 * first..5 * last], cols, bits)?;
            sum += read_points(d, &sums, (last - first).div_ceil(cols))?
                .iter()
                .map(|p| p.into_group())
                .sum::<G1Projective>();
        }
        Ok(sum)
    }

    fn device_fold_generators(
        &self,
        low: &[G1Affine],
        high: &[G1Affine],
        x: Fr,
    ) -> Result<Vec<G1Affine>, BackendError> {
        let d = &*self.device;
        let count = low.len();
        let buffers = [upload(d, &affine_limbs(low))?, upload(d, &affine_limbs(high))?];
        let out = d.alloc(24 * count)?;
        // x = s_1·k_1 + λ·s_2·k_2: the GLV split of `g1_fold` (kernels/src/cl/commit.cl).
        let ((positive_1, k_1), (positive_2, k_2)) = <g1::Config as GLVConfig>::scalar_decomposition(x);
        let (k_1, k_2) = (k_1.into_bigint(), k_2.into_bigint());
        let bits = k_1.num_bits().max(k_2.num_bits());
        let beta = <g1::Config as GLVConfig>::ENDO_COEFFS[0];
        let glv: Vec<u64> = k_1
            .0
            .into_iter()
            .chain(k_2.0)
            .chain([u64::from(!positive_1), u64::from(!positive_2)])
            .chain(beta.0 .0)
            .collect();
        let glv = upload(d, &glv)?;
        d.launch(
            Kernel::G1Fold,
            count.div_ceil(Kernel::G1Fold.group_size()),
            &[
                Arg::Buffer(&buffers[0]),
                Arg::Buffer(&buffers[1]),
                Arg::U64(count as u64),
                Arg::Buffer(&glv),
                Arg::U32(bits),
                Arg::Buffer(&out),
            ],
        )?;
        let points = read_points(d, &out, count)?;
        Ok(points)
    }

    fn device_round_tables(
        &self,
        shape: &RoundShape,
        tables: &[Vec<Fr>],
        eq_rest: Option<&[Fr]>,
    ) -> Result<DeviceTables<D>, BackendError> {
        DeviceTables::new(self.device.clone(), shape, tables, eq_rest)
    }
}

/// Whether the round kernel covers `shape` (its fixed-size arrays: `MAX_FACTORS`, `MAX_POINTS`,
/// `MAX_TERM_FACTORS` in `kernels/src/cl/sumcheck.cl`).
pub(crate) fn kernel_covers(shape: &RoundShape) -> bool {
    shape.num_factors <= 8 && shape.points <= 6 && shape.terms.iter().all(|(_, factors)| factors.len() <= 3)
}

impl<D: Device> Backend for DeviceBackend<D> {
    fn kind(&self) -> BackendKind {
        self.device.kind()
    }

    fn description(&self) -> String {
        self.device.description()
    }

    fn eq_table(&self, point: &[Fr]) -> Vec<Fr> {
        if point.len() < self.min_vars {
            return crate::crypto::tensor::eq_table(point);
        }
        self.device_eq_table(point).unwrap_or_else(device_failed)
    }

    fn bit_row_sums(&self, generators: &[G1Affine], words: &[u64], words_per_row: usize) -> Option<Vec<G1Affine>> {
        if words.len() * 64 < 1 << self.min_vars || words_per_row == 0 {
            return None;
        }
        Some(self.device_bit_row_sums(generators, words, words_per_row).unwrap_or_else(device_failed))
    }

    fn takes_dgemm(&self, m: usize, k: usize, n: usize) -> bool {
        self.device.has_blas() && m.saturating_mul(k).saturating_mul(n) >= DGEMM_MIN_WORK
    }

    fn dgemm(&self, m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
        if !self.takes_dgemm(m, k, n) {
            return None;
        }
        self.device.dgemm(m, k, n, a, b).map(|c| c.unwrap_or_else(device_failed))
    }

    fn takes_signed_scalars(&self, entries: usize) -> bool {
        entries >= 1 << self.min_vars
    }

    fn signed_row_sums(
        &self,
        generators: &[G1Affine],
        scalars: &[u64],
        cols: usize,
        bits: u32,
    ) -> Option<Vec<G1Affine>> {
        if cols == 0 || scalars.is_empty() {
            return None;
        }
        Some(self.device_signed_row_sums(generators, scalars, cols, bits).unwrap_or_else(device_failed))
    }

    fn msm(&self, bases: &[G1Affine], scalars: &[u64], bits: u32) -> Option<G1Projective> {
        if bases.is_empty() || bases.len() < 1 << self.min_vars {
            return None;
        }
        Some(self.device_msm(bases, scalars, bits).unwrap_or_else(device_failed))
    }

    fn fold_generators(&self, low: &[G1Affine], high: &[G1Affine], x: Fr) -> Option<Vec<G1Affine>> {
        if low.len() < 1 << self.min_vars {
            return None;
        }
        Some(self.device_fold_generators(low, high, x).unwrap_or_else(device_failed))
    }

    fn bind_leading(&self, values: &[Fr], prefix: &[Fr]) -> Option<Vec<Fr>> {
        if values.len() < 1 << self.min_vars
            || prefix.is_empty()
            || prefix.len() > values.len().trailing_zeros() as usize
        {
            return None;
        }
        Some(self.device_bind_leading(values, prefix).unwrap_or_else(device_failed))
    }

    fn round_values_once(&self, shape: &RoundShape, tables: &[Vec<Fr>], eq: Option<&[Fr]>, need_one: bool) -> Vec<Fr> {
        if tables[0].len() < 1 << self.min_vars || !kernel_covers(shape) {
            return shape.host_round_values(tables, eq, need_one);
        }
        DeviceTables::new(self.device.clone(), shape, tables, eq)
            .and_then(|mut t| t.try_round_values(need_one))
            .unwrap_or_else(device_failed)
    }

    fn bit_round_tables(&self, bits: &BitVector, used: &PagedBits) -> Option<Box<dyn BitRoundTables>> {
        if bits.len() < 1 << self.min_vars {
            return None;
        }
        let device = DeviceBitRounds::new(self.device.clone(), bits, used).unwrap_or_else(device_failed);
        Some(Box::new(device))
    }

    fn round_tables(&self, shape: &RoundShape, tables: Vec<Vec<Fr>>, eq_rest: Option<Vec<Fr>>) -> Box<dyn RoundTables> {
        if tables[0].len() < 1 << self.min_vars || !kernel_covers(shape) {
            return Box::new(HostTables::new(shape, tables, eq_rest));
        }
        let device = self.device_round_tables(shape, &tables, eq_rest.as_deref()).unwrap_or_else(device_failed);
        Box::new(device)
    }
}

/// A sumcheck's tables on the device.
pub(crate) struct DeviceTables<D: Device> {
    device: Arc<D>,
    points: usize,
    num_factors: usize,
    /// The original table length: factor `f` starts at entry `f · stride`.
    stride: usize,
    /// The current table length.
    len: usize,
    tables: D::Buffer,
    eq: Option<(D::Buffer, usize)>,
    terms: D::Buffer,
    num_terms: usize,
    coefficients: D::Buffer,
    common: i32,
    partials: D::Buffer,
    values: D::Buffer,
}

impl<D: Device> DeviceTables<D> {
    fn new(
        device: Arc<D>,
        shape: &RoundShape,
        tables: &[Vec<Fr>],
        eq_rest: Option<&[Fr]>,
    ) -> Result<Self, BackendError> {
        let d = &*device;
        let stride = tables[0].len();
        let mut buffer = d.alloc(4 * stride * tables.len())?;
        for (f, table) in tables.iter().enumerate() {
            d.write(&mut buffer, 4 * f * stride, fr_words(table))?;
        }
        let eq = match eq_rest {
            Some(e) => {
                let b = upload(d, fr_words(e))?;
                Some((b, e.len()))
            }
            None => None,
        };
        let mut coefficients = Vec::new();
        let mut words = Vec::new();
        for (c, factors) in &shape.terms {
            let (kind, index) = match c {
                Coefficient::One => (0, 0),
                Coefficient::MinusOne => (1, 0),
                Coefficient::Other(c) => {
                    coefficients.push(*c);
                    (2, coefficients.len() as u32 - 1)
                }
            };
            let mut term = [kind, index, factors.len() as u32, 0, 0, 0];
            for (slot, f) in term[3..].iter_mut().zip(factors) {
                *slot = *f as u32;
            }
            words.extend_from_slice(&term);
        }
        // The u32 term words packed two to a 64-bit word, little-endian as the device reads them.
        let packed: Vec<u64> =
            words.chunks(2).map(|p| u64::from(p[0]) | (u64::from(*p.get(1).unwrap_or(&0)) << 32)).collect();
        let terms = upload(d, &packed)?;
        let mut coefficient_buffer = d.alloc(4 * coefficients.len())?;
        if !coefficients.is_empty() {
            d.write(&mut coefficient_buffer, 0, fr_words(&coefficients))?;
        }
        let partials = d.alloc(4 * shape.points * MAX_ROUND_GROUPS)?;
        let values = d.alloc(4 * shape.points)?;
        Ok(Self {
            points: shape.points,
            num_factors: tables.len(),
            stride,
            len: stride,
            tables: buffer,
            eq,
            terms,
            num_terms: shape.terms.len(),
            coefficients: coefficient_buffer,
            common: shape.common.map_or(-1, |c| c as i32),
            partials,
            values,
            device,
        })
    }

    fn try_round_values(&mut self, need_one: bool) -> Result<Vec<Fr>, BackendError> {
        let d = &*self.device;
        let half = self.len / 2;
        let groups = half.div_ceil(GROUP_SIZE).clamp(1, MAX_ROUND_GROUPS);
        let (eq, has_eq) = match &self.eq {
            Some((b, _)) => (b, 1),
            None => (&self.values, 0),
        };
        d.launch(
            Kernel::RoundValues,
            groups,
            &[
                Arg::Buffer(&self.tables),
                Arg::U64(self.stride as u64),
                Arg::U64(half as u64),
                Arg::U32(self.num_factors as u32),
                Arg::Buffer(eq),
                Arg::U32(has_eq),
                Arg::Buffer(&self.terms),
                Arg::U32(self.num_terms as u32),
                Arg::Buffer(&self.coefficients),
                Arg::I32(self.common),
                Arg::U32(self.points as u32),
                Arg::U32(u32::from(need_one)),
                Arg::Buffer(&self.partials),
            ],
        )?;
        d.launch(
            Kernel::ReducePartials,
            1,
            &[
                Arg::Buffer(&self.partials),
                Arg::U64(groups as u64),
                Arg::U32(self.points as u32),
                Arg::Buffer(&self.values),
            ],
        )?;
        let mut out = vec![0u64; 4 * self.points];
        d.read(&self.values, 0, &mut out)?;
        Ok(words_fr(&out))
    }

    fn try_bind(&mut self, r: Fr) -> Result<(), BackendError> {
        let d = &*self.device;
        let half = self.len / 2;
        let l = r.0 .0;
        let work = half * self.num_factors;
        d.launch(
            Kernel::FoldLeading,
            work.div_ceil(GROUP_SIZE),
            &[
                Arg::Buffer(&self.tables),
                Arg::U64(self.stride as u64),
                Arg::U64(half as u64),
                Arg::U32(self.num_factors as u32),
                Arg::U64(l[0]),
                Arg::U64(l[1]),
                Arg::U64(l[2]),
                Arg::U64(l[3]),
            ],
        )?;
        self.len = half;
        if let Some((e, len)) = self.eq.as_mut() {
            let half = *len / 2;
            if half > 0 {
                d.launch(Kernel::EqFoldSum, half.div_ceil(GROUP_SIZE), &[Arg::Buffer(e), Arg::U64(half as u64)])?;
                *len = half;
            }
        }
        Ok(())
    }

    fn try_first_entries(&self) -> Result<Vec<Fr>, BackendError> {
        let mut out = vec![0u64; 4];
        let mut values = Vec::with_capacity(self.num_factors);
        for f in 0..self.num_factors {
            self.device.read(&self.tables, 4 * f * self.stride, &mut out)?;
            values.extend(words_fr(&out));
        }
        Ok(values)
    }
}

impl<D: Device> RoundTables for DeviceTables<D> {
    fn table_len(&self) -> usize {
        self.len
    }

    fn round_values(&mut self, need_one: bool) -> Vec<Fr> {
        self.try_round_values(need_one).unwrap_or_else(device_failed)
    }

    fn bind(&mut self, r: Fr) {
        self.try_bind(r).unwrap_or_else(device_failed)
    }

    fn first_entries(&self) -> Vec<Fr> {
        self.try_first_entries().unwrap_or_else(device_failed)
    }
}
