//! Floating-point matrix products C = A·B through `matrixmultiply` (AVX2/FMA kernels chosen at run
//! time), behind bounds-checked safe wrappers: the only `unsafe` of the crate.
//!
//! Matrices are given as slices with (row, column) strides; C is row-major with row stride `rsc`.

/// The last element index a strided `rows × cols` matrix touches.
fn last_index(rows: usize, cols: usize, rs: isize, cs: isize) -> usize {
    ((rows - 1) as isize * rs + (cols - 1) as isize * cs) as usize
}

#[allow(clippy::too_many_arguments)]
fn check_bounds(m: usize, k: usize, n: usize, a: (usize, isize, isize), b: (usize, isize, isize), c: (usize, isize)) {
    assert!(m > 0 && k > 0 && n > 0, "gemm: empty dimension");
    assert!(a.1 >= 0 && a.2 >= 0 && b.1 >= 0 && b.2 >= 0 && c.1 >= n as isize, "gemm: strides");
    assert!(last_index(m, k, a.1, a.2) < a.0, "gemm: A out of bounds");
    assert!(last_index(k, n, b.1, b.2) < b.0, "gemm: B out of bounds");
    assert!(last_index(m, n, c.1, 1) < c.0, "gemm: C out of bounds");
}

/// C = A·B in f64.
#[allow(clippy::too_many_arguments)]
pub fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    rsa: isize,
    csa: isize,
    b: &[f64],
    rsb: isize,
    csb: isize,
    c: &mut [f64],
    rsc: isize,
) {
    check_bounds(m, k, n, (a.len(), rsa, csa), (b.len(), rsb, csb), (c.len(), rsc));
    // SAFETY: every element read or written lies within the slices (checked above); strides are
    // non-negative; C is a distinct mutable borrow, so it aliases neither A nor B.
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::dgemm(m, k, n, 1.0, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, 0.0, c.as_mut_ptr(), rsc, 1);
    }
}

/// C = A·B in f32.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: isize,
    csa: isize,
    b: &[f32],
    rsb: isize,
    csb: isize,
    c: &mut [f32],
    rsc: isize,
) {
    check_bounds(m, k, n, (a.len(), rsa, csa), (b.len(), rsb, csb), (c.len(), rsc));
    // SAFETY: as in `dgemm`.
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::sgemm(m, k, n, 1.0, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, 0.0, c.as_mut_ptr(), rsc, 1);
    }
}
