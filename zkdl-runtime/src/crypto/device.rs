//! The seam between the protocol and the hardware that runs its heavy kernels.
//!
//! A [`Backend`] computes the field kernels of the sumcheck prover — eq tables
//! `E[i] = eq(u, bits(i))`, the round values `q(t) = Σ_j E[j] · Σ_terms c · Π_f P_f(t, j)` for
//! `t = 0 … D` (with `P_f(t, j) = P_f[j] + t·(P_f[j + half] − P_f[j])`), and binding the leading
//! variable `P'[j] = P[j] + r·(P[j + half] − P[j])` — over tables it may hold in its own memory across
//! a relation's rounds ([`RoundTables`]): only the `D + 1` round values and, at the end, one value per
//! factor come back — and two group kernels: the subset sums of generators that commit rows of bits
//! ([`Backend::bit_row_sums`]) and the generator fold of the opening's inner-product argument
//! ([`Backend::fold_generators`]), with the multi-scalar multiplications of its rounds
//! ([`Backend::msm`]) — the bit relation's rounds on packed bits ([`Backend::bit_round_tables`]) and
//! the trainer's f64 matrix products ([`Backend::dgemm`]). Field arithmetic is exact, so every backend's messages, and hence every proof, are
//! the host's bit for bit; the choice of backend changes speed, never bytes.
//!
//! The host implementation (today's rayon code) is the default of every method and the reference
//! the device backends (`zkdl_runtime::backend`) are tested against. The backend in use is the one
//! installed for the process ([`install`]), or for the calling thread for the duration of a closure
//! ([`with_backend`]), or else the host.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use ark_ff::{One, Zero};
use rayon::prelude::*;

use crate::crypto::bits::{BitVector, PagedBits};
use crate::crypto::tensor::{eq_table, fold_leading_in_place, PARALLEL_MIN};
use crate::{Fr, G1Affine, G1Projective};

/// Where a backend runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// The CPU, with rayon (the reference).
    Cpu,
    /// An OpenCL device (PoCL on a CPU in CI).
    OpenCl,
    /// An NVIDIA GPU through the CUDA driver and NVRTC.
    Cuda,
}

impl BackendKind {
    /// The name used on the command line: `cpu`, `opencl`, `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::OpenCl => "opencl",
            BackendKind::Cuda => "cuda",
        }
    }
}

/// The heavy kernels of the prover. Every method has the host's implementation as its default, so a
/// device backend overrides what it accelerates and leaves the rest (and tables too small to be worth
/// a transfer) to the host.
pub trait Backend: Send + Sync {
    /// Where it runs.
    fn kind(&self) -> BackendKind;

    /// The device, in words, for logs (`"cpu (2 threads)"`, the OpenCL or CUDA device name).
    fn description(&self) -> String;

    /// `E[i] = eq(point, bits(i))` over all `2^n` indices, `point[0]` the most significant bit.
    fn eq_table(&self, point: &[Fr]) -> Vec<Fr> {
        eq_table(point)
    }

    /// Takes a sumcheck's factor tables (each of the same power-of-two length) and, with an eq weight,
    /// the eq table of the variables after the current one (half that length, one entry when the
    /// tables have one), for the rounds that follow of a summand of shape `shape`.
    fn round_tables(&self, shape: &RoundShape, tables: Vec<Vec<Fr>>, eq_rest: Option<Vec<Fr>>) -> Box<dyn RoundTables> {
        Box::new(HostTables::new(shape, tables, eq_rest))
    }

    /// `P(prefix, ·)`: the tensor `values` (`2^n` entries) with its leading `prefix.len()` variables
    /// bound, one fold `P'[j] = P[j] + r·(P[j + h] − P[j])` per coordinate — an opening's row
    /// combination `Σ_i eq(u_r, i)·M[i]`. `None` leaves it to the host (the default).
    fn bind_leading(&self, values: &[Fr], prefix: &[Fr]) -> Option<Vec<Fr>> {
        let _ = (values, prefix);
        None
    }

    /// One round's values `q(0) … q(D)` over tables held by the caller (a chunk of blocks of a relation
    /// read in blocks, `sumcheck::prove_blocks_from`): as [`RoundTables::round_values`] on
    /// `round_tables(shape, tables, eq)`, without taking the tables.
    fn round_values_once(&self, shape: &RoundShape, tables: &[Vec<Fr>], eq: Option<&[Fr]>, need_one: bool) -> Vec<Fr> {
        shape.host_round_values(tables, eq, need_one)
    }

    /// Takes b and `used` of the bit relation `0 = Σ_x eq(ρ, x)·b(x)·(b(x) − used(x))` (`proof::binary`,
    /// `2^n` entries each) as bits, for its first rounds ([`BitRoundTables`]): packed b stays where the
    /// backend holds it across those rounds. `None` leaves them to the host (the default), which runs
    /// them on bits by buckets and lookups.
    fn bit_round_tables(&self, bits: &BitVector, used: &PagedBits) -> Option<Box<dyn BitRoundTables>> {
        let _ = (bits, used);
        None
    }

    /// The subset sums `S_i = Σ_{j : bit j of row i set} g_j` of rows of packed bits: row `i` is
    /// `words[i·w … (i+1)·w]` (`w = words_per_row`, column `j` bit `j mod 64` of word `⌊j/64⌋`) over
    /// the generators `g_0 … g_(64w − 1)`. `None` leaves them to the host (the default), which
    /// commits by byte tables (`crypto::commitment`).
    fn bit_row_sums(&self, generators: &[G1Affine], words: &[u64], words_per_row: usize) -> Option<Vec<G1Affine>> {
        let _ = (generators, words, words_per_row);
        None
    }

    /// Whether `entries` signed scalars go to [`Self::signed_row_sums`] or [`Self::msm`] (the host's
    /// never do: the caller skips preparing the scalars).
    fn takes_signed_scalars(&self, entries: usize) -> bool {
        let _ = entries;
        false
    }

    /// The row sums `S_i = Σ_j v_ij · g_j` of signed scalars: `scalars` holds five words per value
    /// (the magnitude `|v|` in four little-endian words, then 1 for `v < 0`), row-major with `cols`
    /// columns over the generators `g_0 … g_(cols − 1)`; every magnitude is below `2^bits`. `None`
    /// leaves them to the host (the default), which commits by signed-digit tables
    /// (`crypto::commitment`).
    fn signed_row_sums(
        &self,
        generators: &[G1Affine],
        scalars: &[u64],
        cols: usize,
        bits: u32,
    ) -> Option<Vec<G1Affine>> {
        let _ = (generators, scalars, cols, bits);
        None
    }

    /// `C = A·B` in f64 for row-major `A` (`m × k`), `B` (`k × n`) and `C` (`m × n`): the limb
    /// products of the trainer's exact matrix products (`training::exact_matmul`), whose every partial
    /// sum is an integer below `2^53`, so any order of summation gives the same bits. `None` leaves it
    /// to the host (the default).
    fn dgemm(&self, m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
        let _ = (m, k, n, a, b);
        None
    }

    /// Whether [`Self::dgemm`] takes an `m × k` by `k × n` product (the caller skips preparing the
    /// operands otherwise).
    fn takes_dgemm(&self, m: usize, k: usize, n: usize) -> bool {
        let _ = (m, k, n);
        false
    }

    /// The multi-scalar multiplication `Σ_i v_i · P_i` of signed scalars in the five-word form of
    /// [`Self::signed_row_sums`] (`|v| < 2^bits`). `None` leaves it to the host (the default).
    fn msm(&self, bases: &[G1Affine], scalars: &[u64], bits: u32) -> Option<G1Projective> {
        let _ = (bases, scalars, bits);
        None
    }

    /// The inner-product argument's generator fold `g'_i = x·low_i + high_i` (`low` and `high` of
    /// the same length), as affine points. `None` leaves it to the host (the default).
    fn fold_generators(&self, low: &[G1Affine], high: &[G1Affine], x: Fr) -> Option<Vec<G1Affine>> {
        let _ = (low, high, x);
        None
    }
}

/// A sumcheck's factor tables between rounds, wherever they are held.
pub trait RoundTables: Send {
    /// The current length of every factor table.
    fn table_len(&self) -> usize;

    /// `q(t)` for `t = 0 … D` ([`RoundShape::points`] values) of the current round; `q(1)` is zero
    /// unless `need_one`.
    fn round_values(&mut self, need_one: bool) -> Vec<Fr>;

    /// Binds the current (leading) variable of every table to `r`, and sums the eq table over the
    /// next one.
    fn bind(&mut self, r: Fr);

    /// Entry 0 of every factor table: after the last round, the factors' values at the final point.
    fn first_entries(&self) -> Vec<Fr>;
}

/// The bit relation's b and `used` as bits (`2^n` entries each), wherever they are held, for its rounds
/// on bits (`proof::binary`, whose module docs derive the sums).
pub trait BitRoundTables: Send {
    /// `[A_0, A_1, A_2]` of round `j = point.len() + 1` (`point` = `r_<j`, `tail` = `ρ_{>j}`, so
    /// `point.len() + 1 + tail.len() = n`): `A_i = Σ_y eq(ρ_{>j}, y) · c_i(y)` over `y ∈ {0,1}^(n−j)`
    /// with `c_0 = b_0(b_0 − u_0)`, `c_1 = b_1(b_1 − u_1)`, `c_2 = (b_1 − b_0)(b_1 − b_0 − u_1 + u_0)`,
    /// `b_t = Σ_p eq(r_<j, p)·b(p, t, y)` and `u_t` likewise of `used`.
    fn sums(&mut self, point: &[Fr], tail: &[Fr]) -> [Fr; 3];

    /// `[b(r, ·), used(r, ·)]`: the leading `k = r.len()` variables bound, `2^(n−k)` entries each,
    /// `Σ_p eq(r, p)·b(p, z)`.
    fn bind(self: Box<Self>, r: &[Fr]) -> [Vec<Fr>; 2];
}

/// A sumcheck's tables held on the host.
pub(crate) struct HostTables {
    shape: RoundShape,
    tables: Vec<Vec<Fr>>,
    eq_rest: Option<Vec<Fr>>,
}

impl HostTables {
    pub(crate) fn new(shape: &RoundShape, tables: Vec<Vec<Fr>>, eq_rest: Option<Vec<Fr>>) -> Self {
        Self { shape: shape.clone(), tables, eq_rest }
    }
}

impl RoundTables for HostTables {
    fn table_len(&self) -> usize {
        self.tables[0].len()
    }

    fn round_values(&mut self, need_one: bool) -> Vec<Fr> {
        self.shape.host_round_values(&self.tables, self.eq_rest.as_deref(), need_one)
    }

    fn bind(&mut self, r: Fr) {
        for table in &mut self.tables {
            fold_leading_in_place(table, r);
        }
        if let Some(e) = self.eq_rest.as_mut() {
            sum_leading_in_place(e);
        }
    }

    fn first_entries(&self) -> Vec<Fr> {
        self.tables.iter().map(|t| t[0]).collect()
    }
}

/// `E'[j] = E[j] + E[j + half]`: an eq table summed over its leading variable (one entry stays one).
fn sum_leading_in_place(e: &mut Vec<Fr>) {
    let half = e.len() / 2;
    let (low, high) = e.split_at_mut(half);
    low.par_iter_mut().zip(high.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(a, b)| *a += b);
    e.truncate(half.max(1));
}

/// The host's backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Host;

impl Backend for Host {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn description(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }
}

static INSTALLED: RwLock<Option<Arc<dyn Backend>>> = RwLock::new(None);

thread_local! {
    static SCOPED: RefCell<Option<Arc<dyn Backend>>> = const { RefCell::new(None) };
}

/// Makes `backend` the process's backend (until another is installed).
pub fn install(backend: Arc<dyn Backend>) {
    *INSTALLED.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(backend);
}

/// Runs `f` with `backend` as the calling thread's backend, whatever the process's is.
pub fn with_backend<T>(backend: Arc<dyn Backend>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<dyn Backend>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SCOPED.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.borrow_mut().replace(backend)));
    f()
}

/// The backend in use on this thread: the scoped one, else the installed one, else the host.
pub fn current() -> Arc<dyn Backend> {
    if let Some(scoped) = SCOPED.with(|s| s.borrow().clone()) {
        return scoped;
    }
    INSTALLED.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone().unwrap_or_else(|| Arc::new(Host))
}

/// A term's coefficient, classified: ±1 need no multiplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coefficient {
    /// `c = 1`.
    One,
    /// `c = −1`.
    MinusOne,
    /// Any other `c`.
    Other(Fr),
}

/// A sumcheck's summand as the round kernels read it: a factor common to every term, pulled out and
/// multiplied once (the bit relation's `b·b − b·used` becomes `b·(b − used)`), and each term's
/// coefficient and remaining factors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundShape {
    /// The number of factor tables.
    pub num_factors: usize,
    /// `D + 1`: the round values computed, `q(0) … q(D)`.
    pub points: usize,
    /// The factor common to every term, if any.
    pub common: Option<usize>,
    /// Each term's coefficient and factors other than `common`.
    pub terms: Vec<(Coefficient, Vec<usize>)>,
}

impl RoundShape {
    /// The shape of a summand `Σ_t c_t Π_{f ∈ t} P_f` over `num_factors` tables (terms as
    /// `(c_t, factors of t)`), whose round polynomials have degree `degree`.
    pub fn new<'a>(num_factors: usize, degree: usize, terms: impl IntoIterator<Item = (Fr, &'a [usize])>) -> Self {
        let terms: Vec<(Fr, &[usize])> = terms.into_iter().collect();
        let common = (0..num_factors).find(|f| terms.iter().all(|(_, factors)| factors.contains(f)));
        let terms = terms
            .into_iter()
            .map(|(c, factors)| {
                let coefficient = match c {
                    c if c.is_one() => Coefficient::One,
                    c if (-c).is_one() => Coefficient::MinusOne,
                    c => Coefficient::Other(c),
                };
                let mut rest = factors.to_vec();
                if let Some(position) = common.and_then(|c| rest.iter().position(|&f| f == c)) {
                    rest.remove(position);
                }
                (coefficient, rest)
            })
            .collect();
        Self { num_factors, points: degree + 1, common, terms }
    }

    /// `q(t)` for `t = 0 … D` on the host: `Σ_j E[j] · Σ_t c_t Π_f P_f(t, j)` over `j < half`, with
    /// `E = 1` without an eq table. Without `need_one`, `q(1)` is left zero.
    pub fn host_round_values(&self, tables: &[Vec<Fr>], eq_rest: Option<&[Fr]>, need_one: bool) -> Vec<Fr> {
        let half = tables[0].len() / 2;
        let points = self.points;
        let num_factors = tables.len();
        let accumulate = |(mut acc, mut scratch): (Vec<Fr>, Vec<Fr>), j: usize| {
            // scratch[f * points + t] = P_f(t, j), by repeated addition of the difference.
            for (f, table) in tables.iter().enumerate() {
                let (low, high) = (table[j], table[j + half]);
                let step = high - low;
                let row = &mut scratch[f * points..(f + 1) * points];
                row[0] = low;
                row[1] = high;
                for t in 2..points {
                    row[t] = row[t - 1] + step;
                }
            }
            let weight = eq_rest.map(|e| e[j]);
            for (t, slot) in acc.iter_mut().enumerate() {
                if t == 1 && !need_one {
                    continue;
                }
                let mut summand = Fr::zero();
                for (coefficient, rest) in &self.terms {
                    let product = match rest.split_first() {
                        Some((&first, others)) => {
                            others.iter().fold(scratch[first * points + t], |p, &f| p * scratch[f * points + t])
                        }
                        None => Fr::one(),
                    };
                    match coefficient {
                        Coefficient::One => summand += product,
                        Coefficient::MinusOne => summand -= product,
                        Coefficient::Other(c) => summand += product * c,
                    }
                }
                if let Some(c) = self.common {
                    summand *= scratch[c * points + t];
                }
                *slot += match weight {
                    Some(w) => summand * w,
                    None => summand,
                };
            }
            (acc, scratch)
        };
        let init = || (vec![Fr::zero(); points], vec![Fr::zero(); num_factors * points]);
        if half < PARALLEL_MIN {
            (0..half).fold(init(), accumulate).0
        } else {
            (0..half)
                .into_par_iter()
                .with_min_len(PARALLEL_MIN / 4)
                .fold(init, accumulate)
                .map(|(acc, _)| acc)
                .reduce(|| vec![Fr::zero(); points], |a, b| a.iter().zip(&b).map(|(x, y)| *x + y).collect())
        }
    }
}
