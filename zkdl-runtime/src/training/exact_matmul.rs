//! Exact integer matrix products, fast: C = A · B over the integers, for the trainer's M1, M2 and M3.
//!
//! Training computes Z = A·W, H = G·Wᵀ and G_W = Aᵀ·G exactly (`PROTOCOL.md` §2): the products are
//! integer identities that the proof checks, so no rounding is allowed. The entries reach 2^70 and more,
//! beyond i64, and a 128-bit multiply-accumulate is slow. This module computes them with f64 arithmetic,
//! which is exact on integers: every integer of magnitude at most 2^53 is an f64, and a product or sum of
//! such integers whose exact result is at most 2^53 in magnitude is computed without rounding, in any
//! order and with fused multiply-adds.
//!
//! **Limbs.** With |a| < 2^α, |b| < 2^β and inner dimension K ≤ 2^κ, every partial sum of Σ_k a_k·b_k is
//! below 2^(α+β+κ). When α + β + κ > 53, the operands are split into limbs: v = sign(v)·Σ_j d_j·2^(w·j)
//! with 0 ≤ d_j < 2^w, each limb carrying v's sign, so |limb| < 2^w. Then
//! A·B = Σ_(i,j) 2^(w_a·i + w_b·j) · (A_i · B_j), and each limb product is exact in f64 when
//! w_a + w_b + κ ≤ 53. The limb counts (ℓ_a, ℓ_b) minimize the number of limb products ℓ_a·ℓ_b; the
//! products are recombined in i128 with checked arithmetic. Typical training operands (activations of
//! ~18 bits, weights of ~42 bits at K = 1024) need two limb products.
//!
//! **Fallback.** Operands too wide for limbs of useful size (more than 8 × 8 limb products) are
//! multiplied in i128 with checked arithmetic; an overflow is an error, never a wrap.
//!
//! The f64 products run through [`crate::training::gemm::dgemm`] (AVX2/FMA kernels chosen at run time), one block
//! of output rows or columns per rayon task — or, where the backend in use has a BLAS (cuBLAS on
//! CUDA), through it, a whole limb product at a time. Exactness does not depend on the order of
//! summation, so both give the same integers.

use crate::training::integers::IntVec;
use rayon::prelude::*;

/// A logical matrix read from a row-major stored one: the stored `rows × cols` matrix, or its transpose.
#[derive(Clone, Copy, Debug)]
pub struct MatrixRef<'a> {
    pub values: &'a IntVec,
    /// Rows of the stored matrix.
    pub rows: usize,
    /// Columns of the stored matrix.
    pub cols: usize,
    /// Whether the logical matrix is the transpose of the stored one.
    pub transposed: bool,
}

impl<'a> MatrixRef<'a> {
    pub fn new(values: &'a IntVec, rows: usize, cols: usize) -> MatrixRef<'a> {
        MatrixRef { values, rows, cols, transposed: false }
    }
    pub fn t(self) -> MatrixRef<'a> {
        MatrixRef { transposed: !self.transposed, ..self }
    }
    /// Logical (rows, cols).
    pub fn dims(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }
    /// Strides (row, column) of the logical matrix in the stored one.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (1, self.cols as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

/// Why an exact product could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatMulError {
    #[error("matrix product of a {a_rows}×{a_cols} by a {b_rows}×{b_cols} matrix: inner dimensions differ")]
    Shape { a_rows: usize, a_cols: usize, b_rows: usize, b_cols: usize },
    #[error("matrix product: entry ({row}, {col}) exceeds the 128-bit integers of the trainer")]
    Overflow { row: usize, col: usize },
}

/// Bits of |v|: the least n with |v| < 2^n.
fn magnitude_bits(max_abs: u128) -> u32 {
    128 - max_abs.leading_zeros()
}

/// f64 mantissa: integers up to 2^53 are exact.
const F64_EXACT_BITS: u32 = 53;
const MAX_LIMB_PRODUCTS: u32 = 64;

/// The limb split of a product: limb counts and widths of both operands, or `None` for the i128 path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimbSplit {
    pub a_limbs: u32,
    pub a_width: u32,
    pub b_limbs: u32,
    pub b_width: u32,
}

/// Chooses limb counts minimizing ℓ_a·ℓ_b with w_a + w_b + κ ≤ 53.
pub fn limb_split(a_bits: u32, b_bits: u32, inner: usize) -> Option<LimbSplit> {
    let kappa = usize::BITS - inner.saturating_sub(1).leading_zeros();
    let budget = F64_EXACT_BITS.checked_sub(kappa)?;
    let mut best: Option<LimbSplit> = None;
    for a_limbs in 1..=8u32 {
        for b_limbs in 1..=8u32 {
            let a_width = a_bits.div_ceil(a_limbs).max(1);
            let b_width = b_bits.div_ceil(b_limbs).max(1);
            let products = a_limbs * b_limbs;
            if a_width + b_width <= budget
                && products <= MAX_LIMB_PRODUCTS
                && best.is_none_or(|s| products < s.a_limbs * s.b_limbs)
            {
                best = Some(LimbSplit { a_limbs, a_width, b_limbs, b_width });
            }
        }
    }
    best
}

/// C = A · B exactly, row-major `m × n`, in the narrowest width holding it.
pub fn exact_matmul(a: MatrixRef<'_>, b: MatrixRef<'_>) -> Result<IntVec, MatMulError> {
    let (m, k) = a.dims();
    let (k2, n) = b.dims();
    if k != k2 {
        return Err(MatMulError::Shape { a_rows: m, a_cols: k, b_rows: k2, b_cols: n });
    }
    let a_bits = magnitude_bits(a.values.max_abs());
    let b_bits = magnitude_bits(b.values.max_abs());
    let kappa = usize::BITS - k.saturating_sub(1).leading_zeros();
    // Recombination in i128 is safe when every true entry is below 2^126.
    // Every entry of C is below 2^(α+β+κ): accumulate in i64 when that is at most 2^63.
    match limb_split(a_bits, b_bits, k) {
        Some(split) if a_bits + b_bits + kappa <= 63 => Ok(IntVec::from_i64(limb_matmul::<i64>(a, b, split))),
        Some(split) if a_bits + b_bits + kappa <= 126 => Ok(IntVec::from_i128(&limb_matmul::<i128>(a, b, split))),
        _ => naive_matmul(a, b).map(|c| IntVec::from_i128(&c)),
    }
}

/// Limb j (0-based, width w ≤ 53) of every entry, as f64: sign(v)·((|v| >> w·j) mod 2^w).
fn limbs(values: &IntVec, limbs: u32, width: u32) -> Vec<Vec<f64>> {
    (0..limbs)
        .map(|j| {
            let shift = width * j;
            let mask = (1u64 << width) - 1;
            let narrow = |magnitude: u64, negative: bool| {
                let d = (magnitude.checked_shr(shift).unwrap_or(0) & mask) as f64;
                if negative {
                    -d
                } else {
                    d
                }
            };
            match values {
                IntVec::I32(v) => v.par_iter().map(|&x| narrow(x.unsigned_abs() as u64, x < 0)).collect(),
                IntVec::I64(v) => v.par_iter().map(|&x| narrow(x.unsigned_abs(), x < 0)).collect(),
                IntVec::I128(v) => v
                    .par_iter()
                    .map(|&x| {
                        let d = (x.unsigned_abs().checked_shr(shift).unwrap_or(0) as u64) & mask;
                        if x < 0 {
                            -(d as f64)
                        } else {
                            d as f64
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Rows (or columns) of output computed by one task.
const BLOCK: usize = 64;

/// An accumulator entry type of the recombined product: i64 when the product's bound allows, else i128.
trait Accumulator: Copy + Default + Send + Sync + std::ops::AddAssign {
    fn shifted(limb_product: f64, shift: u32) -> Self;
}
impl Accumulator for i64 {
    #[inline]
    fn shifted(v: f64, shift: u32) -> i64 {
        (v as i64) << shift
    }
}
impl Accumulator for i128 {
    #[inline]
    fn shifted(v: f64, shift: u32) -> i128 {
        (v as i64 as i128) << shift
    }
}

/// A limb of a logical matrix as a row-major `rows × cols` buffer (copied only when transposed).
fn row_major<'v>(values: &'v [f64], m: MatrixRef<'_>) -> std::borrow::Cow<'v, [f64]> {
    let (rows, cols) = m.dims();
    if !m.transposed {
        return std::borrow::Cow::Borrowed(&values[..rows * cols]);
    }
    let (rs, cs) = m.strides();
    let mut out = vec![0f64; rows * cols];
    out.par_chunks_mut(cols).enumerate().for_each(|(r, row)| {
        for (c, v) in row.iter_mut().enumerate() {
            *v = values[(r as isize * rs + c as isize * cs) as usize];
        }
    });
    std::borrow::Cow::Owned(out)
}

/// The limb products on the backend in use ([`crate::crypto::device::Backend::dgemm`]), whole
/// matrices at a time, recombined as on the host; `None` if the backend leaves them to the host.
fn device_limb_matmul<T: Accumulator>(
    a: MatrixRef<'_>,
    b: MatrixRef<'_>,
    split: LimbSplit,
    a_limbs: &[Vec<f64>],
    b_limbs: &[Vec<f64>],
) -> Option<Vec<T>> {
    let backend = crate::crypto::device::current();
    let (m, k) = a.dims();
    let (_, n) = b.dims();
    if !backend.takes_dgemm(m, k, n) {
        return None;
    }
    let a_rows: Vec<_> = a_limbs.iter().map(|l| row_major(l, a)).collect();
    let b_rows: Vec<_> = b_limbs.iter().map(|l| row_major(l, b)).collect();
    let mut out = vec![T::default(); m * n];
    for (i, al) in a_rows.iter().enumerate() {
        for (j, bl) in b_rows.iter().enumerate() {
            let c = backend.dgemm(m, k, n, al, bl)?;
            let shift = split.a_width * i as u32 + split.b_width * j as u32;
            out.par_iter_mut().zip(c.par_iter()).for_each(|(acc, &v)| *acc += T::shifted(v, shift));
        }
    }
    Some(out)
}

fn limb_matmul<T: Accumulator>(a: MatrixRef<'_>, b: MatrixRef<'_>, split: LimbSplit) -> Vec<T> {
    let (m, k) = a.dims();
    let (_, n) = b.dims();
    let a_limbs = limbs(a.values, split.a_limbs, split.a_width);
    let b_limbs = limbs(b.values, split.b_limbs, split.b_width);
    if let Some(out) = device_limb_matmul(a, b, split, &a_limbs, &b_limbs) {
        return out;
    }
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    // One output block: rows r0..r0+mr, columns c0..c0+nc, accumulated over the limb products. Each limb
    // product entry is an integer of magnitude ≤ 2^53, exact as i64; the shifted sum is the true entry.
    let block = |r0: usize, mr: usize, c0: usize, nc: usize, acc: &mut [T]| {
        let mut c = vec![0f64; mr * nc];
        for (i, al) in a_limbs.iter().enumerate() {
            for (j, bl) in b_limbs.iter().enumerate() {
                let a_off = r0 as isize * rsa;
                let b_off = c0 as isize * csb;
                crate::training::gemm::dgemm(
                    mr,
                    k,
                    nc,
                    &al[a_off as usize..],
                    rsa,
                    csa,
                    &bl[b_off as usize..],
                    rsb,
                    csb,
                    &mut c,
                    nc as isize,
                );
                let shift = split.a_width * i as u32 + split.b_width * j as u32;
                for (acc, &v) in acc.iter_mut().zip(&c) {
                    *acc += T::shifted(v, shift);
                }
            }
        }
    };
    let mut out = vec![T::default(); m * n];
    if m >= n {
        out.par_chunks_mut(BLOCK * n).enumerate().for_each(|(blk, chunk)| {
            let mr = chunk.len() / n;
            block(blk * BLOCK, mr, 0, n, chunk);
        });
    } else {
        let blocks: Vec<(usize, Vec<T>)> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|blk| {
                let c0 = blk * BLOCK;
                let nc = BLOCK.min(n - c0);
                let mut acc = vec![T::default(); m * nc];
                block(0, m, c0, nc, &mut acc);
                (c0, acc)
            })
            .collect();
        for (c0, values) in blocks {
            let nc = values.len() / m;
            for r in 0..m {
                out[r * n + c0..r * n + c0 + nc].copy_from_slice(&values[r * nc..(r + 1) * nc]);
            }
        }
    }
    out
}

/// C = A·B in i128 with checked arithmetic, one entry at a time: the fallback for operands too wide for
/// limbs, and the reference that tests and relation checks compare against.
pub fn naive_matmul(a: MatrixRef<'_>, b: MatrixRef<'_>) -> Result<Vec<i128>, MatMulError> {
    let (m, k) = a.dims();
    let (_, n) = b.dims();
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    let mut out = vec![0i128; m * n];
    out.par_chunks_mut(n).enumerate().try_for_each(|(row, out_row)| {
        for (col, out) in out_row.iter_mut().enumerate() {
            let mut sum = 0i128;
            for i in 0..k {
                let x = a.values.get(row * rsa as usize + i * csa as usize);
                let y = b.values.get(i * rsb as usize + col * csb as usize);
                sum = x.checked_mul(y).and_then(|p| sum.checked_add(p)).ok_or(MatMulError::Overflow { row, col })?;
            }
            *out = sum;
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rng: &mut ChaCha8Rng, len: usize, bits: u32) -> IntVec {
        let bound = 1i128 << bits;
        IntVec::from_i128(&(0..len).map(|_| rng.gen_range(-bound + 1..bound)).collect::<Vec<_>>())
    }

    /// A backend whose BLAS is the host's dgemm, taking every product: the whole-matrix limb path
    /// ([`device_limb_matmul`]: transposed operands copied row-major, products recombined) against
    /// the naive product, as cuBLAS would run it.
    #[test]
    fn whole_matrix_limb_products_on_a_blas_backend_are_exact() {
        use crate::crypto::device::{with_backend, Backend, BackendKind};
        struct HostBlas;
        impl Backend for HostBlas {
            fn kind(&self) -> BackendKind {
                BackendKind::Cpu
            }
            fn description(&self) -> String {
                "host dgemm as a BLAS".into()
            }
            fn takes_dgemm(&self, _: usize, _: usize, _: usize) -> bool {
                true
            }
            fn dgemm(&self, m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
                let mut c = vec![0f64; m * n];
                crate::training::gemm::dgemm(m, k, n, a, k as isize, 1, b, n as isize, 1, &mut c, n as isize);
                Some(c)
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let (m, k, n) = (7, 33, 5);
        let a = random(&mut rng, m * k, 40);
        let b = random(&mut rng, k * n, 30);
        let at = random(&mut rng, k * m, 40);
        let bt = random(&mut rng, n * k, 30);
        for (x, y) in [
            (MatrixRef::new(&a, m, k), MatrixRef::new(&b, k, n)),
            (MatrixRef::new(&at, k, m).t(), MatrixRef::new(&bt, n, k).t()),
        ] {
            let on_blas = with_backend(std::sync::Arc::new(HostBlas), || exact_matmul(x, y).unwrap());
            assert_eq!(on_blas.to_i128(), naive_matmul(x, y).unwrap());
        }
    }

    #[test]
    fn limb_split_minimizes_products() {
        // 18-bit activations by 42-bit weights over K = 1024: 18 + 42 + 10 = 70 > 53, two limbs of 21 bits.
        let s = limb_split(18, 42, 1024).unwrap();
        assert_eq!(s.a_limbs * s.b_limbs, 2);
        assert!(s.a_width + s.b_width + 10 <= 53);
        assert_eq!(limb_split(18, 20, 64).unwrap().a_limbs * limb_split(18, 20, 64).unwrap().b_limbs, 1);
        assert_eq!(limb_split(127, 127, 1 << 40), None);
    }

    #[test]
    fn limb_products_equal_the_i128_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // (m, k, n, bits of A, bits of B, transpose A, transpose B)
        let cases = [
            (5, 7, 3, 10, 10, false, false),
            (64, 300, 17, 18, 45, false, false),
            (70, 65, 9, 33, 60, true, false),
            (3, 129, 130, 34, 34, false, true),
            (130, 4, 66, 62, 62, true, true),
        ];
        for (m, k, n, abits, bbits, ta, tb) in cases {
            let a_vals = random(&mut rng, m * k, abits);
            let b_vals = random(&mut rng, k * n, bbits);
            let a = if ta { MatrixRef::new(&a_vals, k, m).t() } else { MatrixRef::new(&a_vals, m, k) };
            let b = if tb { MatrixRef::new(&b_vals, n, k).t() } else { MatrixRef::new(&b_vals, k, n) };
            let fast = exact_matmul(a, b).unwrap().to_i128();
            let reference = naive_matmul(a, b).unwrap();
            assert_eq!(fast, reference, "m={m} k={k} n={n} bits {abits}+{bbits}");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let a = IntVec::from_i128(&[i128::MAX / 2, i128::MAX / 2]);
        let b = IntVec::from_i128(&[3, 3]);
        let err = exact_matmul(MatrixRef::new(&a, 1, 2), MatrixRef::new(&b, 2, 1)).unwrap_err();
        assert_eq!(err, MatMulError::Overflow { row: 0, col: 0 });
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let a = IntVec::zeros(6);
        let err = exact_matmul(MatrixRef::new(&a, 2, 3), MatrixRef::new(&a, 2, 3)).unwrap_err();
        assert!(matches!(err, MatMulError::Shape { .. }));
    }
}
