//! Dense multilinear tensors over `F` and their multilinear extensions.
//!
//! A tensor `P` with `2^n` entries is a function `{0,1}^n → F`, identified with its multilinear
//! extension
//!
//! ```text
//!     P(u) = Σ_{i < 2^n} P[i] · eq(u, bits(i)),      eq(u, x) = Π_k (u_k x_k + (1 − u_k)(1 − x_k)).
//! ```
//!
//! **Variable order.** Variable `k = 0` is the *most significant* bit of the entry index `i`:
//! `bits(i) = (i_{n−1}, …, i_1, i_0)`. A tensor of shape `(instances, rows, cols)` is stored row-major,
//! so its leading variables index the instance, then the row, and its trailing variables the column.
//! A point is written `u = (u_instance, u_row, u_col)` in that order, and the Hyrax commitment of
//! `commitment` splits it as `(u_r, u_c)` = (leading, trailing) variables.
//!
//! **Partial evaluation.** Binding the leading `k` variables to `r` gives the tensor of `2^(n−k)`
//! entries `Q[j] = P(r, bits(j))`, computed by `k` folds `P'[j] = P[j] + r_k (P[j + half] − P[j])`
//! (about `2^n` multiplications in all). Binding the trailing `k` variables to `s` gives
//! `Q[i] = Σ_j eq(s, j) · P[i · 2^k + j]` (`2^n` multiplications). Both run in parallel.

use ark_ff::{Field, One, Zero};
use rayon::prelude::*;
use std::fmt;

use crate::Fr;

/// Below this many entries a loop runs on one thread: splitting costs more than it saves.
pub(crate) const PARALLEL_MIN: usize = 1 << 12;

/// The padded shape `(instances, rows, cols)` of a stacked tensor; every dimension is a power of two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// `log2` of the number of stacked instances (the aggregation index of `PROTOCOL.md` §5).
    pub log_instances: u32,
    /// `log2` of the number of rows of each instance.
    pub log_rows: u32,
    /// `log2` of the number of columns of each instance.
    pub log_cols: u32,
}

impl Shape {
    /// A shape from its logarithmic dimensions.
    pub const fn from_log(log_instances: u32, log_rows: u32, log_cols: u32) -> Self {
        Self { log_instances, log_rows, log_cols }
    }

    /// The smallest padded shape holding `instances × rows × cols` entries (each rounded up to a
    /// power of two).
    pub fn padded(instances: usize, rows: usize, cols: usize) -> Self {
        let log = |d: usize| d.max(1).next_power_of_two().trailing_zeros();
        Self::from_log(log(instances), log(rows), log(cols))
    }

    /// A flat vector of `2^log_len` entries.
    pub const fn vector(log_len: u32) -> Self {
        Self::from_log(0, 0, log_len)
    }

    /// The number of variables `n` of the multilinear extension.
    pub const fn num_vars(&self) -> usize {
        (self.log_instances + self.log_rows + self.log_cols) as usize
    }

    /// The number of entries `2^n`.
    pub const fn len(&self) -> usize {
        1 << self.num_vars()
    }

    /// Whether the shape holds no entry (never: the smallest shape holds one).
    pub const fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}×{}", 1u64 << self.log_instances, 1u64 << self.log_rows, 1u64 << self.log_cols)
    }
}

/// A dense tensor of field elements in the stacked layout of its [`Shape`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
    shape: Shape,
    values: Vec<Fr>,
}

impl Tensor {
    /// A tensor from field elements; `values.len()` must equal `shape.len()`.
    ///
    /// # Panics
    /// If the number of values does not match the shape (a programming error of the caller).
    pub fn new(shape: Shape, values: Vec<Fr>) -> Self {
        assert_eq!(values.len(), shape.len(), "tensor of shape {shape} needs {} values", shape.len());
        Self { shape, values }
    }

    /// The all-zero tensor.
    pub fn zeros(shape: Shape) -> Self {
        Self { shape, values: vec![Fr::zero(); shape.len()] }
    }

    /// A tensor from signed integers, each mapped to `v mod p`.
    ///
    /// # Panics
    /// If the number of values does not match the shape.
    pub fn from_signed<T: Copy + Into<i128> + Sync>(shape: Shape, values: &[T]) -> Self {
        Self::new(shape, values.par_iter().with_min_len(PARALLEL_MIN).map(|&v| Fr::from(v.into())).collect())
    }

    /// A tensor from bits (`false ↦ 0`, `true ↦ 1`).
    ///
    /// # Panics
    /// If the number of values does not match the shape.
    pub fn from_bits(shape: Shape, bits: &[bool]) -> Self {
        Self::new(shape, bits.par_iter().with_min_len(PARALLEL_MIN).map(|&b| Fr::from(b)).collect())
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The number of variables of the multilinear extension.
    pub fn num_vars(&self) -> usize {
        self.shape.num_vars()
    }

    /// The entries in the stacked row-major layout.
    pub fn values(&self) -> &[Fr] {
        &self.values
    }

    /// The entries, by value.
    pub fn into_values(self) -> Vec<Fr> {
        self.values
    }

    /// `P(point)`, the multilinear extension at a point of `n` coordinates.
    pub fn evaluate(&self, point: &[Fr]) -> Fr {
        evaluate(&self.values, point)
    }

    /// The entries of `P(prefix, ·)`: the leading `prefix.len()` variables bound.
    pub fn bind_leading(&self, prefix: &[Fr]) -> Vec<Fr> {
        bind_leading(&self.values, prefix)
    }

    /// The entries of `P(·, suffix)`: the trailing `suffix.len()` variables bound.
    pub fn bind_trailing(&self, suffix: &[Fr]) -> Vec<Fr> {
        bind_trailing(&self.values, suffix)
    }
}

/// `log2(len)`, checking that `len` is a power of two.
///
/// # Panics
/// If `len` is not a power of two.
pub(crate) fn log2_exact(len: usize) -> usize {
    assert!(len.is_power_of_two(), "a multilinear tensor needs a power-of-two length, not {len}");
    len.trailing_zeros() as usize
}

/// `eq(a, b) = Π_k (a_k b_k + (1 − a_k)(1 − b_k))`.
///
/// # Panics
/// If the points have different lengths.
pub fn eq_eval(a: &[Fr], b: &[Fr]) -> Fr {
    assert_eq!(a.len(), b.len(), "eq of points of different lengths");
    a.iter().zip(b).map(|(x, y)| *x * y + (Fr::one() - x) * (Fr::one() - y)).product()
}

/// The table `E[i] = eq(point, bits(i))` over all `2^n` indices (`point[0]` is the most
/// significant bit), in about `2^n` multiplications.
pub fn eq_table(point: &[Fr]) -> Vec<Fr> {
    weighted_product_table(point.iter().map(|u| (Fr::one() - u, *u)))
}

/// The table `T[i] = Π_k w_k(bit k of i)` for per-variable weights `(w_k(0), w_k(1))`, the most
/// significant bit first; `eq_table` is the case `w_k = (1 − u_k, u_k)`.
pub(crate) fn weighted_product_table(weights: impl IntoIterator<Item = (Fr, Fr)>) -> Vec<Fr> {
    let weights: Vec<(Fr, Fr)> = weights.into_iter().collect();
    let n = weights.len();
    if n > 12 {
        // The outer product of two half tables: every entry is one multiplication, in parallel.
        let (high, low) = weights.split_at(n / 2);
        let high = weighted_product_table(high.iter().copied());
        let low = weighted_product_table(low.iter().copied());
        let mut table = vec![Fr::zero(); 1 << n];
        table.par_chunks_mut(low.len()).zip(high.par_iter()).for_each(|(chunk, h)| {
            for (t, l) in chunk.iter_mut().zip(&low) {
                *t = *h * l;
            }
        });
        return table;
    }
    let mut table = Vec::with_capacity(1 << n);
    table.push(Fr::one());
    for (w0, w1) in weights {
        // Doubling from the back keeps the first-processed variable as the most significant bit.
        let len = table.len();
        table.resize(2 * len, Fr::zero());
        for i in (0..len).rev() {
            let t = table[i];
            table[2 * i + 1] = t * w1;
            table[2 * i] = t * w0;
        }
    }
    table
}

/// Binds the leading variable to `r` in place: `P'[j] = P[j] + r (P[j + half] − P[j])`.
pub(crate) fn fold_leading_in_place(values: &mut Vec<Fr>, r: Fr) {
    let half = values.len() / 2;
    let (low, high) = values.split_at_mut(half);
    low.par_iter_mut().zip(high.par_iter()).with_min_len(PARALLEL_MIN).for_each(|(a, b)| *a += r * (*b - *a));
    values.truncate(half);
}

/// The entries of `P(prefix, ·)`.
///
/// # Panics
/// If the tensor length is not a power of two or the prefix is longer than the number of variables.
pub fn bind_leading(values: &[Fr], prefix: &[Fr]) -> Vec<Fr> {
    let n = log2_exact(values.len());
    assert!(prefix.len() <= n, "binding {} leading variables of a {n}-variable tensor", prefix.len());
    let Some((first, rest)) = prefix.split_first() else {
        return values.to_vec();
    };
    let half = values.len() / 2;
    let (low, high) = values.split_at(half);
    let mut folded: Vec<Fr> =
        low.par_iter().zip(high.par_iter()).with_min_len(PARALLEL_MIN).map(|(a, b)| *a + *first * (*b - a)).collect();
    for r in rest {
        fold_leading_in_place(&mut folded, *r);
    }
    folded
}

/// The entries of `P(·, suffix)`.
///
/// # Panics
/// If the tensor length is not a power of two or the suffix is longer than the number of variables.
pub fn bind_trailing(values: &[Fr], suffix: &[Fr]) -> Vec<Fr> {
    let n = log2_exact(values.len());
    assert!(suffix.len() <= n, "binding {} trailing variables of a {n}-variable tensor", suffix.len());
    let weights = eq_table(suffix);
    let outputs = values.len() / weights.len();
    if outputs >= rayon::current_num_threads() * 4 {
        values
            .par_chunks(weights.len())
            .with_min_len((PARALLEL_MIN / weights.len()).max(1))
            .map(|chunk| inner_product(chunk, &weights))
            .collect()
    } else {
        values.chunks(weights.len()).map(|chunk| inner_product(chunk, &weights)).collect()
    }
}

/// `Σ_i a_i b_i`, in parallel for long vectors.
pub fn inner_product(a: &[Fr], b: &[Fr]) -> Fr {
    assert_eq!(a.len(), b.len(), "inner product of vectors of different lengths");
    let sequential = |a: &[Fr], b: &[Fr]| a.iter().zip(b).map(|(x, y)| *x * y).sum();
    if a.len() <= PARALLEL_MIN {
        return sequential(a, b);
    }
    a.par_chunks(PARALLEL_MIN).zip(b.par_chunks(PARALLEL_MIN)).map(|(x, y)| sequential(x, y)).sum()
}

/// `Σ_i a_i·v_i` for field elements `a` and signed integers `v`, with one modular reduction in all.
///
/// Each `a_i` is held in Montgomery form `a_i·R mod p` (`R = 2^256`); its four limbs times `|v_i|`
/// (< 2^255 · 2^63) are added as integers into a 384-bit sum of the positive and one of the negative
/// terms (room for 2^64 terms), so a term costs four word multiplications, not a field
/// multiplication. The difference of the sums, reduced mod p, is `R·Σ a_i v_i`; multiplying by
/// `R^(−1)` gives the inner product. In parallel for long vectors.
///
/// # Panics
/// If the vectors have different lengths.
pub fn inner_product_small(a: &[Fr], v: &[i64]) -> Fr {
    assert_eq!(a.len(), v.len(), "inner product of vectors of different lengths");
    let sums = if a.len() <= PARALLEL_MIN {
        WideSums::of(a, v)
    } else {
        a.par_chunks(PARALLEL_MIN)
            .zip(v.par_chunks(PARALLEL_MIN))
            .map(|(a, v)| WideSums::of(a, v))
            .reduce(WideSums::default, WideSums::add)
    };
    sums.to_field()
}

/// The positive and the negative terms of [`inner_product_small`] as 384-bit integers (six limbs,
/// least significant first).
#[derive(Clone, Copy, Default)]
struct WideSums {
    positive: [u64; 6],
    negative: [u64; 6],
}

impl WideSums {
    fn of(a: &[Fr], v: &[i64]) -> WideSums {
        let mut sums = WideSums::default();
        for (a, &v) in a.iter().zip(v) {
            let limbs = &(a.0).0;
            let target = if v < 0 { &mut sums.negative } else { &mut sums.positive };
            multiply_add(target, limbs, v.unsigned_abs());
        }
        sums
    }

    fn add(mut self, other: WideSums) -> WideSums {
        add_wide(&mut self.positive, &other.positive);
        add_wide(&mut self.negative, &other.negative);
        self
    }

    /// `(positive − negative) · R^(−1) mod p`.
    fn to_field(self) -> Fr {
        use ark_ff::PrimeField;
        let reduce = |limbs: [u64; 6]| {
            let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
            Fr::from_le_bytes_mod_order(&bytes)
        };
        static R_INVERSE: std::sync::OnceLock<Fr> = std::sync::OnceLock::new();
        let r_inverse = R_INVERSE.get_or_init(|| power_of_two(256).inverse().expect("2^256 is invertible mod p"));
        (reduce(self.positive) - reduce(self.negative)) * r_inverse
    }
}

/// `acc += a · m` for a 256-bit `a` and a word `m` (the sum stays below 2^384).
#[inline]
fn multiply_add(acc: &mut [u64; 6], a: &[u64; 4], m: u64) {
    let mut carry = 0u128;
    for (acc, &a) in acc.iter_mut().zip(a) {
        // At most (2^64 − 1)^2 + 2(2^64 − 1) = 2^128 − 1: no overflow.
        let t = u128::from(a) * u128::from(m) + u128::from(*acc) + carry;
        *acc = t as u64;
        carry = t >> 64;
    }
    let t = u128::from(acc[4]) + carry;
    acc[4] = t as u64;
    acc[5] = acc[5].wrapping_add((t >> 64) as u64);
}

/// `acc += other` on 384-bit integers.
fn add_wide(acc: &mut [u64; 6], other: &[u64; 6]) {
    let mut carry = 0u128;
    for (acc, &o) in acc.iter_mut().zip(other) {
        let t = u128::from(*acc) + u128::from(o) + carry;
        *acc = t as u64;
        carry = t >> 64;
    }
}

/// `P(point)` for a tensor given by its entries.
///
/// # Panics
/// If the tensor length is not a power of two or does not match the point.
pub fn evaluate(values: &[Fr], point: &[Fr]) -> Fr {
    let n = log2_exact(values.len());
    assert_eq!(point.len(), n, "evaluating a {n}-variable tensor at a point of {} coordinates", point.len());
    if n == 0 {
        return values[0];
    }
    bind_leading(values, point)[0]
}

/// Powers `1, x, x², …` of length `count` (a helper for random linear combinations).
pub fn powers(x: Fr, count: usize) -> Vec<Fr> {
    std::iter::successors(Some(Fr::one()), |p| Some(*p * x)).take(count).collect()
}

/// `2^k` as a field element (a public coefficient of the rescale and bit-recomposition relations).
pub fn power_of_two(k: u32) -> Fr {
    Fr::from(2u64).pow([u64::from(k)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// `Σ_i P[i] Π_k eq(u_k, bit_k(i))`, straight from the definition.
    fn naive_evaluate(values: &[Fr], point: &[Fr]) -> Fr {
        let n = point.len();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let weight: Fr =
                    (0..n).map(|k| if (i >> (n - 1 - k)) & 1 == 1 { point[k] } else { Fr::one() - point[k] }).product();
                *v * weight
            })
            .sum()
    }

    fn random_vec(rng: &mut ChaCha20Rng, len: usize) -> Vec<Fr> {
        (0..len).map(|_| Fr::rand(rng)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn evaluation_matches_the_definition(n in 0usize..9, seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let values = random_vec(&mut rng, 1 << n);
            let point = random_vec(&mut rng, n);
            prop_assert_eq!(evaluate(&values, &point), naive_evaluate(&values, &point));
            prop_assert_eq!(inner_product(&values, &eq_table(&point)), naive_evaluate(&values, &point));
        }

        #[test]
        fn partial_evaluations_compose(n in 0usize..9, k in 0usize..9, seed in any::<u64>()) {
            let k = k.min(n);
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let values = random_vec(&mut rng, 1 << n);
            let point = random_vec(&mut rng, n);
            let full = naive_evaluate(&values, &point);
            let leading = bind_leading(&values, &point[..k]);
            prop_assert_eq!(naive_evaluate(&leading, &point[k..]), full);
            let trailing = bind_trailing(&values, &point[n - k..]);
            prop_assert_eq!(naive_evaluate(&trailing, &point[..n - k]), full);
        }

        #[test]
        fn small_inner_products_match_the_field_ones(len in 0usize..(3 * PARALLEL_MIN), seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let a = random_vec(&mut rng, len);
            let extremes = [i64::MIN, i64::MAX, -1, 0, 1];
            let v: Vec<i64> = (0..len)
                .map(|i| if i % 7 == 0 { extremes[i % extremes.len()] } else { rand::Rng::gen(&mut rng) })
                .collect();
            let field: Vec<Fr> = v.iter().map(|&x| Fr::from(x)).collect();
            prop_assert_eq!(inner_product_small(&a, &v), inner_product(&a, &field));
        }

        #[test]
        fn signed_integers_map_to_their_residues(values in proptest::collection::vec(any::<i64>(), 16)) {
            let tensor = Tensor::from_signed(Shape::vector(4), &values);
            for (v, f) in values.iter().zip(tensor.values()) {
                let expected = if *v < 0 { -Fr::from(v.unsigned_abs()) } else { Fr::from(*v as u64) };
                prop_assert_eq!(*f, expected);
            }
        }
    }

    #[test]
    fn eq_table_is_the_indicator_on_the_hypercube_and_sums_to_one() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let point = random_vec(&mut rng, 13); // above the threshold of the outer-product split
        let table = eq_table(&point);
        assert_eq!(table.iter().sum::<Fr>(), Fr::one());
        let corner = [Fr::one(), Fr::zero(), Fr::one()];
        assert_eq!(eq_table(&corner), (0..8).map(|i| Fr::from(u64::from(i == 0b101))).collect::<Vec<_>>());
        assert_eq!(
            eq_table(&point)[77],
            naive_evaluate(&(0..1 << 13).map(|i| Fr::from(u64::from(i == 77))).collect::<Vec<_>>(), &point)
        );
    }

    #[test]
    fn edge_cases_zero_variables_zero_tensor_and_one_entry() {
        let one_entry = Tensor::from_signed(Shape::vector(0), &[-7i64]);
        assert_eq!(one_entry.evaluate(&[]), -Fr::from(7u64));
        assert_eq!(eq_table(&[]), vec![Fr::one()]);
        let zeros = Tensor::zeros(Shape::from_log(1, 2, 3));
        let point: Vec<Fr> = (0..6).map(|i| Fr::from(i as u64 + 2)).collect();
        assert_eq!(zeros.evaluate(&point), Fr::zero());
        // A tensor with one nonzero entry evaluates to that entry times its eq weight.
        let mut values = vec![Fr::zero(); 32];
        values[19] = Fr::from(5u64);
        let point: Vec<Fr> = (0..5).map(|i| Fr::from(i as u64 * 3 + 1)).collect();
        assert_eq!(evaluate(&values, &point), Fr::from(5u64) * eq_table(&point)[19]);
    }

    #[test]
    fn bits_and_shapes() {
        let shape = Shape::padded(3, 5, 1);
        assert_eq!((shape.log_instances, shape.log_rows, shape.log_cols), (2, 3, 0));
        assert_eq!(shape.len(), 32);
        assert_eq!(shape.to_string(), "4×8×1");
        let bits = Tensor::from_bits(Shape::vector(2), &[true, false, false, true]);
        assert_eq!(bits.values(), &[Fr::one(), Fr::zero(), Fr::zero(), Fr::one()]);
        assert_eq!(power_of_two(10), Fr::from(1024u64));
        assert_eq!(powers(Fr::from(3u64), 3), vec![Fr::one(), Fr::from(3u64), Fr::from(9u64)]);
    }
}
