//! Hiding Hyrax-style commitments to tensors (`PROTOCOL.md` §6).
//!
//! A tensor of `2^n` entries is laid out as a `2^{n_r} × 2^{n_c}` matrix `M` (leading variables
//! index rows, trailing variables columns), and row `i` is committed with a Pedersen vector
//! commitment on G1:
//!
//! ```text
//!     C_i = Σ_j M[i][j] · g_j + β_i · h,        β_i uniformly random (hiding).
//! ```
//!
//! **Generators.** `g_j = H("g" ‖ j)`, `h = H("h")` and the inner-product generator `U = H("u")`,
//! where `H` is the IETF hash-to-curve suite `BLS12381G1_XMD:SHA-256_SSWU_RO_` (ark-ec's
//! `MapToCurveBasedHasher` with the WB map and `DefaultFieldHasher<Sha256, 128>`) under the domain
//! tag [`GENERATOR_DOMAIN`], and `j` is encoded as 8 little-endian bytes. Nobody knows a discrete-log
//! relation among them; a key for `2^c` columns is a prefix of every larger key.
//!
//! **Commit by value kind.** The cost of committing is the floor of the prover, so each kind of
//! value takes its own path (all in batch-affine arithmetic, see `group_sum`):
//! - bits: `C_i` is a subset sum of generators. With [`BYTE_TABLE_MIN_ROWS`] rows or more, a table of
//!   the 256 subset sums of every group of eight generators is built once (255 additions a group),
//!   and each nonzero byte of a row adds one table point: about one addition per eight bits against
//!   four for dense random bits (paper T = 1: committing b 2.3× faster). Fewer rows add one
//!   generator per set bit;
//! - small signed integers: signed base-256 digits `|v| = Σ_w d_w 256^w`, `d_w ∈ [−127, 128]`; a
//!   table `T_w[j][k] = k · 256^w · g_j` (`k ≤ 128`) is built once per window for all rows (and
//!   dropped before the next), and each nonzero digit adds one table point, negated where the digit
//!   times the sign of `v` is negative — one addition per nonzero digit. For fewer than
//!   [`TABLE_MIN_ROWS`] rows the tables do not pay, and arkworks' MSM runs on the magnitudes with the
//!   bases negated for negative values;
//! - field elements: the same digit tables on the signed representative (`v` or `v − p`, magnitude
//!   `≤ (p − 1)/2`): up to 32 windows for values that are really full width, and only as many as
//!   needed for field elements that hold small integers.
//!
//! The blinding term `β_i · h` comes from a fixed-base table of `h` (`k · 256^w · h` for 32 byte
//! windows), so it costs at most 32 additions per row instead of a scalar multiplication.
//!
//! Openings are in `opening`. The generators are derived in batches by `hash_to_curve` (the same
//! points as the reference hasher, faster), and [`CommitmentKey::cached`] keeps them in an on-disk
//! cache checked against digests compiled into the binary ([`cache`]).

pub mod cache;
mod group_sum;
mod hash_to_curve;
mod opening;

pub use cache::KeySource;
pub use opening::{fold_generators, multi_scalar_multiplication, row_blocks, row_combination_blocks, OpeningProof};

use ark_bls12_381::g1;
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurveBasedHasher;
use ark_ec::hashing::HashToCurve;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::field_hashers::DefaultFieldHasher;
use ark_ff::{AdditiveGroup, BigInt, BigInteger, PrimeField, UniformRand};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Read, SerializationError, Valid, Validate};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use sha2::Sha256;

use std::ops::Range;

use crate::crypto::tensor::log2_exact;
use crate::{Fr, G1Affine, G1Projective, Transcript};
use group_sum::{add_pairs, GroupSums, Scratch};

/// The domain-separation tag of the generators' hash to curve.
pub const GENERATOR_DOMAIN: &[u8] = b"zkdl-v0-pedersen-generators-BLS12381G1_XMD:SHA-256_SSWU_RO_";

/// Below this many rows a signed commitment uses a plain MSM per row: the digit tables cost
/// `128 · columns` additions per window, which only pays over many rows.
pub const TABLE_MIN_ROWS: usize = 64;

/// Digits are signed base-256: `d ∈ [−127, 128]`, so the tables hold `k · 256^w · g` for `k ≤ 128`.
const DIGIT_MAX: usize = 128;

/// The 8-bit windows of a 255-bit blinding scalar.
const BLINDING_WINDOWS: usize = 32;

/// Rows per parallel task: enough points per task to amortize each level's inversion.
fn rows_per_task(cols: usize) -> usize {
    (1usize << 14).div_ceil(cols).max(1)
}

/// The public parameters: column generators `g_j`, the blinding generator `h` and the
/// inner-product generator `U`, all derived by hashing to the curve.
pub struct CommitmentKey {
    generators: Vec<G1Affine>,
    blinding_generator: G1Affine,
    inner_product_generator: G1Affine,
    /// `blinding_table[w · 255 + k − 1] = k · 256^w · h`.
    blinding_table: Vec<G1Affine>,
}

type GeneratorHasher = MapToCurveBasedHasher<G1Projective, DefaultFieldHasher<Sha256, 128>, WBMap<g1::Config>>;

/// `(U, h)`: the inner-product generator `U = H("u")` and the blinding generator `h = H("h")` of
/// every key, which are also the generators of the scalar commitments `y · U + β · h` that carry
/// hidden values in zero-knowledge proofs (`crate::crypto::zk`).
pub fn scalar_generators() -> (G1Affine, G1Affine) {
    static GENERATORS: std::sync::OnceLock<(G1Affine, G1Affine)> = std::sync::OnceLock::new();
    *GENERATORS.get_or_init(|| {
        let hasher = GeneratorHasher::new(GENERATOR_DOMAIN).expect("the WB map of BLS12-381 G1 is valid");
        let hash = |message: &[u8]| hasher.hash(message).expect("hashing to G1 cannot fail for BLS12-381");
        (hash(b"u"), hash(b"h"))
    })
}

/// Fixed-base tables of `U` and `h` ([`fixed_base_table`]): a scalar commitment `y · U + β · h`
/// costs at most 64 additions instead of a two-point multi-scalar multiplication.
fn scalar_tables() -> &'static (Vec<G1Affine>, Vec<G1Affine>) {
    static TABLES: std::sync::OnceLock<(Vec<G1Affine>, Vec<G1Affine>)> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let (u, h) = scalar_generators();
        (fixed_base_table(u), fixed_base_table(h))
    })
}

/// `y · U + β · h` from the fixed-base tables.
pub fn commit_scalar(value: Fr, blind: Fr) -> G1Projective {
    let (u, h) = scalar_tables();
    fixed_base_mul(u, &value) + fixed_base_mul(h, &blind)
}

/// `s · base` for the [`fixed_base_table`] of `base`: one mixed addition per nonzero byte of `s`.
fn fixed_base_mul(table: &[G1Affine], scalar: &Fr) -> G1Projective {
    let bytes = scalar.into_bigint().to_bytes_le();
    let mut sum = G1Projective::ZERO;
    for (w, byte) in bytes.into_iter().enumerate().filter(|(_, byte)| *byte != 0) {
        sum += table[w * 255 + usize::from(byte) - 1];
    }
    sum
}

impl CommitmentKey {
    /// The key for matrices of up to `2^max_log_cols` columns, derived by hashing to the curve.
    pub fn new(max_log_cols: u32) -> Self {
        Self::from_generators(hash_to_curve::derive_generators(0, 1 << max_log_cols))
    }

    /// The key for `2^max_log_cols` columns through the generator cache in [`cache::cache_dir`]
    /// (the same key as [`new`](Self::new); see [`cache`]).
    pub fn cached(max_log_cols: u32) -> Self {
        Self::cached_in(cache::cache_dir().as_deref(), max_log_cols).0
    }

    /// The key for `2^max_log_cols` columns through the generator cache in `dir` (none: derive), and
    /// where its generators came from.
    pub fn cached_in(dir: Option<&std::path::Path>, max_log_cols: u32) -> (Self, KeySource) {
        let (generators, source) = cache::load_or_derive(dir, max_log_cols);
        (Self::from_generators(generators), source)
    }

    /// The key with column generators `generators` (a power of two of them).
    fn from_generators(generators: Vec<G1Affine>) -> Self {
        debug_assert!(generators.len().is_power_of_two());
        let (inner_product_generator, blinding_generator) = scalar_generators();
        let blinding_table = fixed_base_table(blinding_generator);
        Self { generators, blinding_generator, inner_product_generator, blinding_table }
    }

    /// `log2` of the largest number of columns this key commits to.
    pub fn max_log_cols(&self) -> u32 {
        self.generators.len().trailing_zeros()
    }

    /// The column generators `g_0 … g_{2^c − 1}`.
    pub fn generators(&self) -> &[G1Affine] {
        &self.generators
    }

    /// The blinding generator `h`.
    pub fn blinding_generator(&self) -> G1Affine {
        self.blinding_generator
    }

    /// The inner-product generator `U`.
    pub fn inner_product_generator(&self) -> G1Affine {
        self.inner_product_generator
    }

    /// Commits to `values` as a matrix of `2^log_cols` columns with fresh row blinds.
    ///
    /// # Panics
    /// If the number of values is not a power of two of at least `2^log_cols`, or the key is too
    /// small for `2^log_cols` columns (programming errors of the caller).
    pub fn commit<V: CommitValues + ?Sized, R: RngCore + CryptoRng>(
        &self,
        values: &V,
        log_cols: u32,
        rng: &mut R,
    ) -> (TensorCommitment, CommitmentBlinds) {
        let rows = self.check_layout(values.len(), log_cols);
        let blinds = CommitmentBlinds::random(rows, rng);
        (self.commit_with_blinds(values, log_cols, &blinds), blinds)
    }

    /// Commits to `values` with the given row blinds (one per row).
    ///
    /// # Panics
    /// As [`commit`](Self::commit), and if the number of blinds is not the number of rows.
    pub fn commit_with_blinds<V: CommitValues + ?Sized>(
        &self,
        values: &V,
        log_cols: u32,
        blinds: &CommitmentBlinds,
    ) -> TensorCommitment {
        let rows = self.check_layout(values.len(), log_cols);
        assert_eq!(blinds.blinds.len(), rows, "one blind per row");
        TensorCommitment { log_cols, rows: values.commit_rows(self, log_cols as usize, &blinds.blinds) }
    }

    fn check_layout(&self, len: usize, log_cols: u32) -> usize {
        let n = log2_exact(len);
        assert!(log_cols as usize <= n, "{log_cols} column variables of a {n}-variable tensor");
        assert!(log_cols <= self.max_log_cols(), "the key has 2^{} generators, not 2^{log_cols}", self.max_log_cols());
        len >> log_cols
    }

    /// The points summing to `β · h`: one table entry per nonzero byte of `β`.
    fn blinding_points(&self, blind: &Fr) -> impl Iterator<Item = G1Affine> + '_ {
        let bytes = blind.into_bigint().to_bytes_le();
        bytes
            .into_iter()
            .enumerate()
            .filter(|(_, byte)| *byte != 0)
            .map(|(w, byte)| self.blinding_table[w * 255 + usize::from(byte) - 1])
    }

    /// The key of the column window `cols`: its generators, no blinding table (for unblinded partial
    /// sums, [`CommitValues::commit_column_window`]).
    fn window(&self, cols: Range<usize>) -> Self {
        Self {
            generators: self.generators[cols].to_vec(),
            blinding_generator: self.blinding_generator,
            inner_product_generator: self.inner_product_generator,
            blinding_table: Vec::new(),
        }
    }

    /// The row commitments `S_i + β_i · h` of row sums `S_i` computed elsewhere (a device, or ranks).
    pub(crate) fn blinded(&self, sums: &[G1Affine], blinds: &[Fr]) -> Vec<G1Affine> {
        let rows: Vec<G1Projective> =
            sums.par_iter().zip(blinds.par_iter()).map(|(s, blind)| *s + self.blinding_term(blind)).collect();
        G1Projective::normalize_batch(&rows)
    }

    /// `β · h` from the fixed-base table.
    fn blinding_term(&self, blind: &Fr) -> G1Projective {
        self.blinding_points(blind).map(|p| p.into_group()).sum()
    }
}

/// `table[w · 255 + k − 1] = k · 256^w · base` for `w < 32`, `1 ≤ k ≤ 255`.
fn fixed_base_table(base: G1Affine) -> Vec<G1Affine> {
    let mut window_base = base.into_group();
    let mut table = Vec::with_capacity(BLINDING_WINDOWS * 255);
    for _ in 0..BLINDING_WINDOWS {
        let mut multiple = window_base;
        for _ in 0..255 {
            table.push(multiple);
            multiple += window_base;
        }
        window_base = multiple; // 256 · window_base
    }
    G1Projective::normalize_batch(&table)
}

/// Per-column tables `T_j[k] = v_{j,k} · g_j` of the distinct values `v_{j,·}` (sorted) that column `j`
/// of a matrix takes ([`CommitmentKey::value_tables`]).
pub struct ValueTables {
    log_cols: u32,
    values: Vec<Vec<i64>>,
    points: Vec<Vec<G1Affine>>,
}

impl CommitmentKey {
    /// The value tables of a matrix whose column `j` takes only the values `distinct[j]` (sorted,
    /// without duplicates; zero need not be listed).
    ///
    /// # Panics
    /// If there are more columns than `2^log_cols` or than the key has generators.
    pub fn value_tables(&self, distinct: Vec<Vec<i64>>, log_cols: u32) -> ValueTables {
        assert!(distinct.len() <= 1 << log_cols && log_cols <= self.max_log_cols(), "columns do not fit the key");
        let points = distinct
            .par_iter()
            .zip(&self.generators)
            .map(|(values, g)| {
                let g = g.into_group();
                let multiples: Vec<G1Projective> = values
                    .iter()
                    .map(|&v| {
                        let m = g * Fr::from(v.unsigned_abs());
                        if v < 0 {
                            -m
                        } else {
                            m
                        }
                    })
                    .collect();
                G1Projective::normalize_batch(&multiples)
            })
            .collect();
        ValueTables { log_cols, values: distinct, points }
    }

    /// Row commitments `C_i = Σ_j M[i][j] · g_j + β_i · h` of a matrix of `2^log_cols` columns whose
    /// every entry is listed in its column's value table: one addition per nonzero entry (one
    /// lookup) instead of one per signed digit. The same commitments as
    /// [`commit_with_blinds`](Self::commit_with_blinds); `None` if an entry is not in its table.
    pub fn commit_rows_with_tables(
        &self,
        tables: &ValueTables,
        values: &[i64],
        blinds: &[Fr],
    ) -> Option<Vec<G1Affine>> {
        let cols = 1usize << tables.log_cols;
        if values.len() != cols * blinds.len() {
            return None;
        }
        let task_rows = rows_per_task(cols);
        let sums: Option<Vec<Vec<G1Affine>>> = values
            .par_chunks(cols * task_rows)
            .zip(blinds.par_chunks(task_rows))
            .map(|(rows, blinds)| {
                let mut group = GroupSums::default();
                for (row, blind) in rows.chunks(cols).zip(blinds) {
                    group.begin_group();
                    for (j, v) in row.iter().enumerate().filter(|(_, v)| **v != 0) {
                        let k = tables.values.get(j)?.binary_search(v).ok()?;
                        group.push(tables.points[j][k]);
                    }
                    self.blinding_points(blind).for_each(|p| group.push(p));
                }
                Some(group.finish())
            })
            .collect();
        sums.map(|chunks| chunks.into_iter().flatten().collect())
    }
}

/// The private row blinds `β_i` of a commitment (kept by the prover for the opening).
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct CommitmentBlinds {
    blinds: Vec<Fr>,
}

impl CommitmentBlinds {
    /// Fresh uniformly random blinds for `rows` rows.
    pub fn random<R: RngCore + CryptoRng>(rows: usize, rng: &mut R) -> Self {
        Self { blinds: (0..rows).map(|_| Fr::rand(rng)).collect() }
    }

    /// Blinds given explicitly (all zero makes the commitment non-hiding; tests use this).
    pub fn from_values(blinds: Vec<Fr>) -> Self {
        Self { blinds }
    }

    /// The blinds, one per row.
    pub fn values(&self) -> &[Fr] {
        &self.blinds
    }
}

/// The public commitment to a tensor: one G1 point per row of its matrix layout.
///
/// Serialized as ark-serialize derives it (`log_cols`, then the rows as a `Vec`); decoding reads the
/// rows' bytes first and decompresses and checks the points in parallel (a square root and a subgroup
/// check each: `2^15` rows of b at the paper network's T = 64 took seconds on one thread).
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize)]
pub struct TensorCommitment {
    /// `log2` of the number of columns `n_c` (the trailing variables).
    pub log_cols: u32,
    /// `C_i` for each row `i` (`2^{n_r}` of them).
    pub rows: Vec<G1Affine>,
}

impl Valid for TensorCommitment {
    fn check(&self) -> Result<(), SerializationError> {
        self.rows.par_iter().with_min_len(64).try_for_each(Valid::check)
    }
}

impl CanonicalDeserialize for TensorCommitment {
    fn deserialize_with_mode<R: Read>(
        mut reader: R,
        compress: Compress,
        validate: Validate,
    ) -> Result<Self, SerializationError> {
        let log_cols = u32::deserialize_with_mode(&mut reader, compress, validate)?;
        let count = u64::deserialize_with_mode(&mut reader, compress, validate)?;
        let size = G1Affine::zero().serialized_size(compress);
        let total =
            usize::try_from(count).ok().and_then(|c| c.checked_mul(size)).ok_or(SerializationError::InvalidData)?;
        // Read in bounded pieces: a forged count fails at the end of the input, not at an allocation.
        let mut bytes = Vec::new();
        while bytes.len() < total {
            let start = bytes.len();
            bytes.resize(start + (total - start).min(1 << 20), 0);
            reader.read_exact(&mut bytes[start..])?;
        }
        let rows = bytes
            .par_chunks(size)
            .with_min_len(64)
            .map(|point| G1Affine::deserialize_with_mode(point, compress, validate))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { log_cols, rows })
    }
}

impl TensorCommitment {
    /// The number of variables of the committed tensor, if the commitment is well formed.
    pub fn num_vars(&self) -> Option<usize> {
        self.rows.len().is_power_of_two().then(|| self.rows.len().trailing_zeros() as usize + self.log_cols as usize)
    }

    /// Absorbs the commitment into a transcript.
    pub fn absorb_into(&self, transcript: &mut Transcript) {
        transcript.append_u64(b"commitment-log-cols", u64::from(self.log_cols));
        transcript.append_points(b"commitment-rows", &self.rows);
    }
}

/// Values that can be committed: bits, small signed integers or field elements.
pub trait CommitValues: Sync {
    /// The number of values.
    fn len(&self) -> usize;

    /// Whether there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row commitments `C_i` with the given blinds.
    #[doc(hidden)]
    fn commit_rows(&self, key: &CommitmentKey, log_cols: usize, blinds: &[Fr]) -> Vec<G1Affine>;

    /// Every row's partial sum `Σ_{j ∈ cols} M[i][j] · g_j` over a window of `2^k` columns starting at
    /// a multiple of `2^k`, unblinded: the row commitments are the sums of the windows' partial sums,
    /// plus the blinding terms ([`CommitmentKey::blinded`]).
    #[doc(hidden)]
    fn commit_column_window(&self, key: &CommitmentKey, log_cols: usize, cols: Range<usize>) -> Vec<G1Affine>;
}

/// [`CommitValues::commit_column_window`] of a slice: the window's entries copied out, committed
/// with the window's generators.
macro_rules! commit_slice_window {
    () => {
        fn commit_column_window(&self, key: &CommitmentKey, log_cols: usize, cols: Range<usize>) -> Vec<G1Affine> {
            let window: Vec<_> = self.chunks(1 << log_cols).flat_map(|row| row[cols.clone()].iter().copied()).collect();
            let rows = self.len() >> log_cols;
            window.commit_rows(&key.window(cols.clone()), cols.len().trailing_zeros() as usize, &vec![Fr::ZERO; rows])
        }
    };
}

impl CommitValues for [bool] {
    fn len(&self) -> usize {
        <[bool]>::len(self)
    }

    commit_slice_window!();

    /// Subset sums: row `i` adds `g_j` for every set bit, plus the blinding points.
    fn commit_rows(&self, key: &CommitmentKey, log_cols: usize, blinds: &[Fr]) -> Vec<G1Affine> {
        let cols = 1 << log_cols;
        let task_rows = rows_per_task(cols);
        self.par_chunks(cols * task_rows)
            .zip(blinds.par_chunks(task_rows))
            .flat_map_iter(|(rows, blinds)| {
                let mut sums = GroupSums::default();
                for (row, blind) in rows.chunks(cols).zip(blinds) {
                    sums.begin_group();
                    for (bit, g) in row.iter().zip(&key.generators) {
                        if *bit {
                            sums.push(*g);
                        }
                    }
                    key.blinding_points(blind).for_each(|p| sums.push(p));
                }
                sums.finish()
            })
            .collect()
    }
}

impl CommitValues for crate::crypto::bits::BitVector {
    fn len(&self) -> usize {
        crate::crypto::bits::BitVector::len(self)
    }

    /// The window's bits as a vector of their own (whole words when the window is whole words).
    fn commit_column_window(&self, key: &CommitmentKey, log_cols: usize, cols: Range<usize>) -> Vec<G1Affine> {
        use crate::crypto::bits::BitVector;
        let (rows, width) = (self.len() >> log_cols, cols.len());
        let window = if width % 64 == 0 {
            let words = (0..rows)
                .flat_map(|i| {
                    let start = ((i << log_cols) + cols.start) / 64;
                    self.words()[start..start + width / 64].iter().copied()
                })
                .collect();
            BitVector::from_words(words, rows * width)
        } else {
            BitVector::from_fn(rows * width, |k| self.get(((k / width) << log_cols) + cols.start + k % width))
        };
        window.commit_rows(&key.window(cols.clone()), width.trailing_zeros() as usize, &vec![Fr::ZERO; rows])
    }

    /// Subset sums over packed bits, as for `[bool]`. With many rows (at least
    /// [`BYTE_TABLE_MIN_ROWS`]) of at least 64 columns, each byte of a row is one point of
    /// [`byte_subset_sums`] (one addition per nonzero byte, where a dense row of random bits has
    /// about four set bits a byte); otherwise one addition per set bit.
    fn commit_rows(&self, key: &CommitmentKey, log_cols: usize, blinds: &[Fr]) -> Vec<G1Affine> {
        let cols = 1usize << log_cols;
        if cols >= 64 {
            let backend = crate::crypto::device::current();
            if let Some(sums) =
                backend.bit_row_sums(&key.generators[..cols], &self.words()[..blinds.len() * cols / 64], cols / 64)
            {
                return key.blinded(&sums, blinds);
            }
        }
        let task_rows = rows_per_task(cols);
        let table =
            (cols >= 64 && blinds.len() >= BYTE_TABLE_MIN_ROWS).then(|| byte_subset_sums(&key.generators[..cols]));
        blinds
            .par_chunks(task_rows)
            .enumerate()
            .flat_map_iter(|(task, blinds)| {
                let mut sums = GroupSums::default();
                for (k, blind) in blinds.iter().enumerate() {
                    let row = task * task_rows + k;
                    sums.begin_group();
                    match &table {
                        Some(table) => {
                            let words = &self.words()[row * cols / 64..(row + 1) * cols / 64];
                            for (w, &word) in words.iter().enumerate() {
                                for byte in 0..8 {
                                    let v = ((word >> (8 * byte)) & 0xff) as usize;
                                    if v != 0 {
                                        sums.push(table[(8 * w + byte) * 256 + v]);
                                    }
                                }
                            }
                        }
                        None => self.for_each_one(row * cols, cols, |j| sums.push(key.generators[j])),
                    }
                    key.blinding_points(blind).for_each(|p| sums.push(p));
                }
                sums.finish()
            })
            .collect()
    }
}

/// The fewest rows for which packed bits are committed by byte tables: building the tables costs
/// 255 additions per eight columns, and each row then saves about three additions per eight columns.
const BYTE_TABLE_MIN_ROWS: usize = 128;

/// For each group of eight consecutive generators `g_(8q) … g_(8q+7)` (`generators.len()` a multiple
/// of 8), the 256 sums of its subsets: entry `256·q + v` is `Σ g_(8q+i)` over the set bits `i` of `v`
/// (the identity at `v = 0`). 255 additions a group, then one normalization.
fn byte_subset_sums(generators: &[G1Affine]) -> Vec<G1Affine> {
    let mut table = vec![G1Affine::zero(); generators.len() / 8 * 256];
    table.par_chunks_mut(256).zip(generators.par_chunks(8)).for_each(|(sums, group)| {
        let mut projective = [G1Projective::ZERO; 256];
        for v in 1..256usize {
            projective[v] = projective[v & (v - 1)] + group[v.trailing_zeros() as usize];
        }
        sums.copy_from_slice(&G1Projective::normalize_batch(&projective));
    });
    table
}

impl CommitValues for [Fr] {
    fn len(&self) -> usize {
        <[Fr]>::len(self)
    }

    commit_slice_window!();

    /// Signed-digit tables on the signed representative `v` or `v − p` (magnitude `≤ (p − 1)/2`),
    /// so a field element that is really a small integer costs only its few digits.
    fn commit_rows(&self, key: &CommitmentKey, log_cols: usize, blinds: &[Fr]) -> Vec<G1Affine> {
        commit_by_digits(self, key, log_cols, blinds)
    }
}

macro_rules! commit_signed_integers {
    ($($t:ty),*) => {$(
        impl CommitValues for [$t] {
            fn len(&self) -> usize {
                <[$t]>::len(self)
            }

            commit_slice_window!();

            fn commit_rows(&self, key: &CommitmentKey, log_cols: usize, blinds: &[Fr]) -> Vec<G1Affine> {
                commit_by_digits(self, key, log_cols, blinds)
            }
        }

        impl SignedValue for $t {
            fn sign_and_magnitude(&self) -> (bool, [u64; 4]) {
                let m = i128::from(*self).unsigned_abs();
                (*self < 0, [m as u64, (m >> 64) as u64, 0, 0])
            }
        }
    )*};
}
commit_signed_integers!(i8, i16, i32, i64, i128);

/// The most base-256 digits of a magnitude below `2^256`: 32 bytes and a final carry.
const MAX_DIGITS: usize = 33;

/// A value committed as `±magnitude`: a signed integer, or a field element by its signed
/// representative.
pub(crate) trait SignedValue: Sync {
    /// Whether the value is negative, and its magnitude as little-endian 64-bit limbs.
    fn sign_and_magnitude(&self) -> (bool, [u64; 4]);
}

impl SignedValue for Fr {
    fn sign_and_magnitude(&self) -> (bool, [u64; 4]) {
        let value = self.into_bigint();
        if value > Fr::MODULUS_MINUS_ONE_DIV_TWO {
            (true, (-*self).into_bigint().0)
        } else {
            (false, value.0)
        }
    }
}

/// Values as the device kernels read signed scalars: five words each (the magnitude's four limbs,
/// then 1 if negative), and the fewest bits (at least 1) that hold every magnitude.
pub(crate) fn signed_scalar_words<V: SignedValue>(values: &[V]) -> (Vec<u64>, u32) {
    let words: Vec<u64> = values
        .par_iter()
        .flat_map_iter(|v| {
            let (negative, m) = v.sign_and_magnitude();
            [m[0], m[1], m[2], m[3], u64::from(negative)]
        })
        .collect();
    let bits = words
        .par_chunks(5)
        .map(|v| v[..4].iter().rposition(|l| *l != 0).map_or(0, |top| 64 * top as u32 + 64 - v[top].leading_zeros()))
        .max()
        .unwrap_or(0)
        .max(1);
    (words, bits)
}

/// The number of bytes up to the most significant nonzero one.
fn significant_bytes(limbs: &[u64; 4]) -> usize {
    limbs.iter().rposition(|l| *l != 0).map_or(0, |top| 8 * top + 8 - limbs[top].leading_zeros() as usize / 8)
}

/// Signed base-256 digits of `value`, least significant first, each in `[−128, 128]`
/// (`[−127, 128]` times the sign); returns how many there are (no leading zero digit).
fn signed_digits<V: SignedValue + ?Sized>(value: &V, digits: &mut [i16; MAX_DIGITS]) -> usize {
    let (negative, limbs) = value.sign_and_magnitude();
    // Only the significant bytes, and one more for a final carry.
    let significant = significant_bytes(&limbs);
    let mut carry = 0i16;
    let mut count = 0;
    for (i, digit) in digits.iter_mut().enumerate().take(significant + 1) {
        let byte = if i < 32 { (limbs[i / 8] >> (8 * (i % 8))) as u8 } else { 0 };
        let mut d = i16::from(byte) + carry;
        carry = 0;
        if d > DIGIT_MAX as i16 {
            d -= 256;
            carry = 1;
        }
        *digit = if negative { -d } else { d };
        if d != 0 {
            count = i + 1;
        }
    }
    count
}

/// Row commitments by signed-digit tables, one window at a time (each window's table is
/// `cols × 128` points, built once and shared by all rows).
fn commit_by_digits<V: SignedValue>(
    values: &[V],
    key: &CommitmentKey,
    log_cols: usize,
    blinds: &[Fr],
) -> Vec<G1Affine> {
    let cols = 1 << log_cols;
    let rows = values.len() / cols;
    let backend = crate::crypto::device::current();
    if backend.takes_signed_scalars(values.len()) {
        let (scalars, bits) = signed_scalar_words(values);
        if let Some(sums) = backend.signed_row_sums(&key.generators[..cols], &scalars, cols, bits) {
            return key.blinded(&sums, blinds);
        }
    }
    if rows < TABLE_MIN_ROWS {
        return commit_rows_by_msm(values, key, cols, blinds);
    }
    // Digits, value-major: digits[i · stride + w], with the stride a cheap upper bound on the count
    // (significant bytes plus a carry) so that each value is recoded once.
    let stride = values.par_iter().map(|v| significant_bytes(&v.sign_and_magnitude().1)).max().unwrap_or(0) + 1;
    let mut digits = vec![0i16; values.len() * stride];
    let windows = digits
        .par_chunks_mut(stride)
        .zip(values.par_iter())
        .with_min_len(1 << 12)
        .map(|(out, v)| {
            let mut buffer = [0i16; MAX_DIGITS];
            let count = signed_digits(v, &mut buffer);
            out[..count].copy_from_slice(&buffer[..count]);
            count
        })
        .max()
        .unwrap_or(0);
    if windows == 0 {
        // All values zero: only the blinds.
        return blinds.par_iter().map(|b| key.blinding_term(b).into_affine()).collect();
    }

    let task_rows = rows_per_task(cols);
    let mut sums = vec![G1Affine::identity(); rows];
    let mut window_bases: Vec<G1Affine> = key.generators[..cols].to_vec();
    for w in 0..windows {
        let table = digit_table(&window_bases);
        sums = digits
            .par_chunks(cols * task_rows * stride)
            .zip(sums.par_chunks(task_rows))
            .zip(blinds.par_chunks(task_rows))
            .flat_map_iter(|((rows, carried), blinds)| {
                let mut group = GroupSums::default();
                for ((row, carry), blind) in rows.chunks(cols * stride).zip(carried).zip(blinds) {
                    group.begin_group();
                    group.push(*carry);
                    for (j, value_digits) in row.chunks(stride).enumerate() {
                        let d = value_digits[w];
                        if d != 0 {
                            let point = table[j * DIGIT_MAX + usize::from(d.unsigned_abs()) - 1];
                            group.push(if d < 0 { -point } else { point });
                        }
                    }
                    if w == 0 {
                        key.blinding_points(blind).for_each(|p| group.push(p));
                    }
                }
                group.finish()
            })
            .collect();
        if w + 1 == windows {
            break;
        }
        // Next window's bases: 256 · B = 2 · (128 · B).
        let doubled: Vec<G1Projective> =
            (0..cols).into_par_iter().map(|j| table[j * DIGIT_MAX + DIGIT_MAX - 1].into_group().double()).collect();
        window_bases = G1Projective::normalize_batch(&doubled);
    }
    sums
}

/// `table[j · 128 + k − 1] = k · bases[j]` for `1 ≤ k ≤ 128`, by batched affine additions.
fn digit_table(bases: &[G1Affine]) -> Vec<G1Affine> {
    let cols = bases.len();
    let chunk = cols.div_ceil(rayon::current_num_threads() * 2).max(64);
    let mut table = vec![G1Affine::identity(); cols * DIGIT_MAX];
    table.par_chunks_mut(chunk * DIGIT_MAX).zip(bases.par_chunks(chunk)).for_each(|(table, bases)| {
        let mut scratch = Scratch::default();
        let doubled: Vec<G1Projective> = bases.iter().map(|b| b.into_group().double()).collect();
        let mut previous = G1Projective::normalize_batch(&doubled);
        let mut next = previous.clone();
        for (j, (b, d)) in bases.iter().zip(&previous).enumerate() {
            table[j * DIGIT_MAX] = *b;
            table[j * DIGIT_MAX + 1] = *d;
        }
        for k in 3..=DIGIT_MAX {
            add_pairs(&previous, bases, &mut next, &mut scratch);
            for (j, p) in next.iter().enumerate() {
                table[j * DIGIT_MAX + k - 1] = *p;
            }
            std::mem::swap(&mut previous, &mut next);
        }
    });
    table
}

/// Few rows: arkworks' MSM on magnitudes, with the base negated where the value is negative. Rows
/// run one after another: arkworks parallelizes each MSM with thread pools of its own, and nesting
/// those inside rayon tasks recurses on the workers' stacks.
fn commit_rows_by_msm<V: SignedValue>(values: &[V], key: &CommitmentKey, cols: usize, blinds: &[Fr]) -> Vec<G1Affine> {
    let rows: Vec<G1Projective> = values
        .chunks(cols)
        .zip(blinds)
        .map(|(row, blind)| {
            let (bases, scalars): (Vec<G1Affine>, Vec<BigInt<4>>) = row
                .par_iter()
                .zip(&key.generators[..cols])
                .map(|(v, g)| {
                    let (negative, magnitude) = v.sign_and_magnitude();
                    (if negative { -*g } else { *g }, BigInt::new(magnitude))
                })
                .unzip();
            G1Projective::msm_bigint(&bases, &scalars) + key.blinding_term(blind)
        })
        .collect();
    G1Projective::normalize_batch(&rows)
}

#[cfg(test)]
mod tests;
