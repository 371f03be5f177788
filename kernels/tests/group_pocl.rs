//! The group kernels (`cl/fq.h`, `cl/g1.h`, `cl/commit.cl`) run through OpenCL (PoCL on the CPU
//! in CI) and compared with ark-bls12-381.
//!
//! The program is [`Program::Group`]'s source plus [`TEST_KERNELS`], small kernels that apply the
//! Fq and G1 helpers to buffers of inputs. With no OpenCL platform the tests print a line and
//! pass, unless `ZKDL_REQUIRE_OPENCL=1`, when they fail.

use std::ffi::c_void;
use std::sync::OnceLock;

use ark_bls12_381::{Fq, FqConfig, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{AdditiveGroup, BigInt, Field, MontConfig, PrimeField, UniformRand, Zero};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{Device, CL_DEVICE_TYPE_ALL};
use opencl3::kernel::{ExecuteKernel, Kernel};
use opencl3::memory::{Buffer, CL_MEM_COPY_HOST_PTR, CL_MEM_READ_ONLY, CL_MEM_WRITE_ONLY};
use opencl3::platform::get_platforms;
use opencl3::program::Program as ClProgram;
use opencl3::types::CL_BLOCKING;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkdl_kernels::Program;

/// The work-group size `commit_bit_rows` is launched with (`COMMIT_GROUP_SIZE` in commit.cl).
const COMMIT_GROUP_SIZE: usize = 64;

/// Test-only kernels over the helpers of fq.h and g1.h.
const TEST_KERNELS: &str = r#"
/* For each i: out[6i .. 6i+6) = a·b, a + b, a − b, a^2, −a, 2a; flags[2i] = a == 0,
 * flags[2i+1] = a == b. */
KERNEL void test_fq_ops(GLOBAL const u64 *a, GLOBAL const u64 *b, u64 n, GLOBAL u64 *out,
                        GLOBAL u64 *flags) {
  u64 i = GLOBAL_ID();
  if (i >= n) return;
  fq x = fq_load(a, i);
  fq y = fq_load(b, i);
  fq_store(out, 6 * i + 0, fq_mul(x, y));
  fq_store(out, 6 * i + 1, fq_add(x, y));
  fq_store(out, 6 * i + 2, fq_sub(x, y));
  fq_store(out, 6 * i + 3, fq_sqr(x));
  fq_store(out, 6 * i + 4, fq_neg(x));
  fq_store(out, 6 * i + 5, fq_dbl(x));
  flags[2 * i] = (u64)fq_is_zero(x);
  flags[2 * i + 1] = (u64)fq_eq(x, y);
}

/* out = zero, one, the modulus (6 limbs each), then FQ_INV. */
KERNEL void test_fq_constants(GLOBAL u64 *out) {
  if (GLOBAL_ID() != 0) return;
  fq_store(out, 0, fq_zero());
  fq_store(out, 1, fq_one());
  fq_store(out, 2, fq_modulus());
  out[18] = FQ_INV;
}

/* a, b: XYZZ points; c: affine points. For each i, XYZZ results at out[4i .. 4i+4):
 * a + b, 2a, a + c (mixed), 2c (mdbl; infinity when c is). */
KERNEL void test_g1_ops(GLOBAL const u64 *a, GLOBAL const u64 *b, GLOBAL const u64 *c, u64 n,
                        GLOBAL u64 *out) {
  u64 i = GLOBAL_ID();
  if (i >= n) return;
  g1_xyzz p = g1_load_xyzz(a, i);
  g1_xyzz q = g1_load_xyzz(b, i);
  g1_affine r = g1_load_affine(c, i);
  g1_store_xyzz(out, 4 * i + 0, g1_add(p, q));
  g1_store_xyzz(out, 4 * i + 1, g1_double(p));
  g1_store_xyzz(out, 4 * i + 2, g1_add_affine(p, r));
  g1_store_xyzz(out, 4 * i + 3,
                g1_affine_is_infinity(r) ? g1_infinity() : g1_double_affine(r));
}
"#;

struct Cl {
    context: Context,
    queue: CommandQueue,
    program: ClProgram,
}

static CL: OnceLock<Result<Option<Cl>, String>> = OnceLock::new();

fn init() -> Result<Option<Cl>, String> {
    let Ok(platforms) = get_platforms() else {
        return Ok(None);
    };
    let Some(device) = platforms.iter().filter_map(|p| p.get_devices(CL_DEVICE_TYPE_ALL).ok()).flatten().next() else {
        return Ok(None);
    };
    let device = Device::new(device);
    let context = Context::from_device(&device).map_err(|e| format!("context: {e}"))?;
    #[allow(deprecated)]
    let queue = CommandQueue::create_default(&context, 0).map_err(|e| format!("queue: {e}"))?;
    let source = format!("{}\n{}", Program::Group.source(), TEST_KERNELS);
    let program = ClProgram::create_and_build_from_source(&context, &source, "-cl-std=CL1.2")
        .map_err(|e| format!("building the group program: {e}"))?;
    Ok(Some(Cl { context, queue, program }))
}

/// The shared OpenCL context and program, or None (after saying so) when there is no platform.
fn cl() -> Option<&'static Cl> {
    match CL.get_or_init(init) {
        Ok(Some(cl)) => Some(cl),
        Ok(None) => {
            if std::env::var("ZKDL_REQUIRE_OPENCL").as_deref() == Ok("1") {
                panic!("no OpenCL platform, and ZKDL_REQUIRE_OPENCL=1");
            }
            println!("no OpenCL platform: skipping the group kernel test");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

impl Cl {
    fn input(&self, data: &[u64]) -> Buffer<u64> {
        assert!(!data.is_empty());
        unsafe {
            Buffer::<u64>::create(
                &self.context,
                CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                data.len(),
                data.as_ptr() as *mut c_void,
            )
            .expect("input buffer")
        }
    }

    fn output(&self, len: usize) -> Buffer<u64> {
        unsafe {
            Buffer::<u64>::create(&self.context, CL_MEM_WRITE_ONLY, len, std::ptr::null_mut()).expect("output buffer")
        }
    }

    fn read(&self, buffer: &Buffer<u64>, len: usize) -> Vec<u64> {
        let mut data = vec![0u64; len];
        unsafe {
            self.queue.enqueue_read_buffer(buffer, CL_BLOCKING, 0, &mut data, &[]).expect("read buffer");
        }
        data
    }

    fn kernel(&self, name: &str) -> Kernel {
        Kernel::create(&self.program, name).expect(name)
    }
}

// ---- conversions between ark and limbs ----

fn fq_limbs(f: Fq) -> [u64; 6] {
    f.0 .0
}

/// A field element from kernel output, which must be canonical (< p).
fn fq_from_limbs(limbs: &[u64]) -> Fq {
    let big = BigInt::<6>(limbs.try_into().unwrap());
    assert!(big < Fq::MODULUS, "non-canonical output {limbs:x?}");
    Fq::new_unchecked(big)
}

/// An affine point as 12 limbs (x then y), infinity as x = y = 0.
fn affine_limbs(p: &G1Affine) -> [u64; 12] {
    let mut out = [0u64; 12];
    if !p.is_zero() {
        out[..6].copy_from_slice(&fq_limbs(p.x));
        out[6..].copy_from_slice(&fq_limbs(p.y));
    }
    out
}

/// An XYZZ representation of p scaled by λ ≠ 0: (x·λ^2, y·λ^3, λ^2, λ^3); infinity as
/// ZZ = ZZZ = 0 with X and Y set to λ and λ^2 (arbitrary, to check nothing reads them).
fn xyzz_limbs(p: &G1Affine, lambda: Fq) -> [u64; 24] {
    assert!(!lambda.is_zero());
    let l2 = lambda.square();
    let l3 = l2 * lambda;
    let (x, y, zz, zzz) = if p.is_zero() { (lambda, l2, Fq::ZERO, Fq::ZERO) } else { (p.x * l2, p.y * l3, l2, l3) };
    let mut out = [0u64; 24];
    for (k, f) in [x, y, zz, zzz].into_iter().enumerate() {
        out[6 * k..6 * k + 6].copy_from_slice(&fq_limbs(f));
    }
    out
}

/// An XYZZ point from kernel output (24 limbs), checking the invariants: canonical limbs,
/// ZZ = 0 ⇔ ZZZ = 0, ZZ^3 = ZZZ^2, and the point on the curve and in the subgroup.
fn xyzz_to_projective(limbs: &[u64]) -> G1Projective {
    let x = fq_from_limbs(&limbs[0..6]);
    let y = fq_from_limbs(&limbs[6..12]);
    let zz = fq_from_limbs(&limbs[12..18]);
    let zzz = fq_from_limbs(&limbs[18..24]);
    if zz.is_zero() {
        assert!(zzz.is_zero(), "ZZ = 0 but ZZZ ≠ 0");
        return G1Projective::ZERO;
    }
    assert!(!zzz.is_zero(), "ZZZ = 0 but ZZ ≠ 0");
    assert_eq!(zz.square() * zz, zzz.square(), "ZZ^3 ≠ ZZZ^2");
    let p = G1Affine::new_unchecked(x / zz, y / zzz);
    assert!(p.is_on_curve(), "result not on the curve");
    assert!(p.is_in_correct_subgroup_assuming_on_curve(), "result not in G1");
    p.into()
}

fn nonzero_fq(rng: &mut ChaCha20Rng) -> Fq {
    loop {
        let f = Fq::rand(rng);
        if !f.is_zero() {
            return f;
        }
    }
}

fn random_point(rng: &mut ChaCha20Rng) -> G1Affine {
    G1Projective::rand(rng).into_affine()
}

// ---- Fq ----

#[test]
fn fq_constants_match_ark() {
    let Some(cl) = cl() else { return };
    let out = cl.output(19);
    let kernel = cl.kernel("test_fq_constants");
    unsafe {
        ExecuteKernel::new(&kernel).set_arg(&out).set_global_work_size(1).enqueue_nd_range(&cl.queue).expect("enqueue");
    }
    let got = cl.read(&out, 19);
    assert_eq!(got[0..6], [0u64; 6], "fq_zero");
    assert_eq!(got[6..12], fq_limbs(Fq::ONE), "fq_one is R mod p");
    assert_eq!(got[12..18], Fq::MODULUS.0, "the modulus");
    // −p^-1 mod 2^64 by Newton's iteration, and as ark has it.
    let p0 = Fq::MODULUS.0[0];
    let mut inv = 1u64;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p0.wrapping_mul(inv)));
    }
    assert_eq!(p0.wrapping_mul(inv), 1);
    assert_eq!(got[18], inv.wrapping_neg(), "FQ_INV");
    assert_eq!(got[18], <FqConfig as MontConfig<6>>::INV, "FQ_INV as ark has it");
}

#[test]
fn fq_arithmetic_matches_ark_on_edge_and_random_inputs() {
    let Some(cl) = cl() else { return };
    let mut rng = ChaCha20Rng::seed_from_u64(0xf9);
    let p_minus_1 = {
        let mut m = Fq::MODULUS;
        m.0[0] -= 1;
        m
    };
    let edges = [
        Fq::ZERO,
        Fq::ONE,
        -Fq::ONE, // p − 1
        Fq::from(2u64),
        -Fq::from(2u64),
        Fq::from(4u64),
        // Raw Montgomery representations at the extremes: 1 and p − 1.
        Fq::new_unchecked(BigInt([1, 0, 0, 0, 0, 0])),
        Fq::new_unchecked(p_minus_1),
        // Half of p rounded either way (p − 1)/2 and (p + 1)/2.
        Fq::from(Fq::MODULUS_MINUS_ONE_DIV_TWO),
        Fq::from(Fq::MODULUS_MINUS_ONE_DIV_TWO) + Fq::ONE,
        Fq::rand(&mut rng),
    ];
    let mut a = Vec::new();
    let mut b = Vec::new();
    for x in edges {
        for y in edges {
            a.push(x);
            b.push(y);
        }
    }
    for _ in 0..4000 {
        a.push(Fq::rand(&mut rng));
        b.push(if rng.gen_bool(0.05) { *a.last().unwrap() } else { Fq::rand(&mut rng) });
    }
    let n = a.len();
    let a_limbs: Vec<u64> = a.iter().flat_map(|f| fq_limbs(*f)).collect();
    let b_limbs: Vec<u64> = b.iter().flat_map(|f| fq_limbs(*f)).collect();
    let (a_buf, b_buf) = (cl.input(&a_limbs), cl.input(&b_limbs));
    let out = cl.output(36 * n);
    let flags = cl.output(2 * n);
    let kernel = cl.kernel("test_fq_ops");
    unsafe {
        ExecuteKernel::new(&kernel)
            .set_arg(&a_buf)
            .set_arg(&b_buf)
            .set_arg(&(n as u64))
            .set_arg(&out)
            .set_arg(&flags)
            .set_global_work_size(n)
            .enqueue_nd_range(&cl.queue)
            .expect("enqueue");
    }
    let got = cl.read(&out, 36 * n);
    let got_flags = cl.read(&flags, 2 * n);
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let expected = [x * y, x + y, x - y, x.square(), -x, x.double()];
        for (k, (name, want)) in ["mul", "add", "sub", "sqr", "neg", "dbl"].into_iter().zip(expected).enumerate() {
            let limbs = &got[36 * i + 6 * k..36 * i + 6 * k + 6];
            assert_eq!(fq_from_limbs(limbs), want, "fq_{name} at {i}: {x} and {y}");
        }
        assert_eq!(got_flags[2 * i], x.is_zero() as u64, "fq_is_zero at {i}: {x}");
        assert_eq!(got_flags[2 * i + 1], (x == y) as u64, "fq_eq at {i}: {x}, {y}");
    }
}

// ---- G1 ----

#[test]
fn g1_add_double_and_mixed_add_match_ark() {
    let Some(cl) = cl() else { return };
    let mut rng = ChaCha20Rng::seed_from_u64(0x61);
    let inf = G1Affine::identity();
    let g = G1Affine::generator();
    let p = random_point(&mut rng);
    let q = random_point(&mut rng);
    let neg_p = -p;
    // (a, b, c): the kernel computes a + b, 2a, a + c (c affine), 2c.
    let mut cases: Vec<(G1Affine, G1Affine, G1Affine)> = vec![
        (p, q, q),                                         // generic
        (p, p, p),                                         // equal points: add doubles, madd doubles
        (p, neg_p, neg_p),                                 // inverse points: infinity
        (neg_p, p, p),                                     // the same the other way
        (inf, p, p),                                       // infinity on the left
        (p, inf, inf),                                     // infinity on the right
        (inf, inf, inf),                                   // both at infinity
        (g, g, g),                                         // the generator
        (g, (g + g).into_affine(), (g + g).into_affine()), // G + 2G
        ((g + g).into_affine(), g, neg_p),
        (q, -q, p),
    ];
    for _ in 0..100 {
        let a = if rng.gen_bool(0.05) { inf } else { random_point(&mut rng) };
        let b = match rng.gen_range(0..10) {
            0 => a,
            1 => -a,
            2 => inf,
            _ => random_point(&mut rng),
        };
        let c = match rng.gen_range(0..10) {
            0 => a,
            1 => -a,
            2 => inf,
            _ => random_point(&mut rng),
        };
        cases.push((a, b, c));
    }
    let n = cases.len();
    let mut a_limbs = Vec::new();
    let mut b_limbs = Vec::new();
    let mut c_limbs = Vec::new();
    for (i, (a, b, c)) in cases.iter().enumerate() {
        // The first cases use ZZ = 1 for a, so equal points are also equal representations for
        // some; the rest scale both sides by independent λ (equal points, different limbs).
        let la = if i % 3 == 0 { Fq::ONE } else { nonzero_fq(&mut rng) };
        let lb = if i % 4 == 0 { la } else { nonzero_fq(&mut rng) };
        a_limbs.extend_from_slice(&xyzz_limbs(a, la));
        b_limbs.extend_from_slice(&xyzz_limbs(b, lb));
        c_limbs.extend_from_slice(&affine_limbs(c));
    }
    let (a_buf, b_buf, c_buf) = (cl.input(&a_limbs), cl.input(&b_limbs), cl.input(&c_limbs));
    let out = cl.output(96 * n);
    let kernel = cl.kernel("test_g1_ops");
    unsafe {
        ExecuteKernel::new(&kernel)
            .set_arg(&a_buf)
            .set_arg(&b_buf)
            .set_arg(&c_buf)
            .set_arg(&(n as u64))
            .set_arg(&out)
            .set_global_work_size(n)
            .enqueue_nd_range(&cl.queue)
            .expect("enqueue");
    }
    let got = cl.read(&out, 96 * n);
    for (i, (a, b, c)) in cases.iter().enumerate() {
        let (a, b, c) = (G1Projective::from(*a), G1Projective::from(*b), G1Projective::from(*c));
        let expected = [a + b, a.double(), a + c, c.double()];
        for (k, (name, want)) in
            ["g1_add", "g1_double", "g1_add_affine", "g1_double_affine"].into_iter().zip(expected).enumerate()
        {
            let limbs = &got[96 * i + 24 * k..96 * i + 24 * k + 24];
            assert_eq!(xyzz_to_projective(limbs), want, "{name} in case {i}");
        }
    }
}

// ---- commit_bit_rows ----

/// Runs commit_bit_rows over `rows` (each `words_per_row` words) with the given work-group size
/// and compares every row with Σ g_j over its set bits, computed by ark.
fn check_commit(cl: &Cl, generators: &[G1Affine], rows: &[Vec<u64>], local_size: usize) {
    let words_per_row = generators.len() / 64;
    assert_eq!(generators.len(), 64 * words_per_row);
    let gen_limbs: Vec<u64> = generators.iter().flat_map(affine_limbs).collect();
    let bits: Vec<u64> = rows
        .iter()
        .flat_map(|r| {
            assert_eq!(r.len(), words_per_row);
            r.iter().copied()
        })
        .collect();
    let (gen_buf, bits_buf) = (cl.input(&gen_limbs), cl.input(&bits));
    let out = cl.output(24 * rows.len());
    let kernel = cl.kernel("commit_bit_rows");
    unsafe {
        ExecuteKernel::new(&kernel)
            .set_arg(&gen_buf)
            .set_arg(&bits_buf)
            .set_arg(&(words_per_row as u64))
            .set_arg(&out)
            .set_global_work_size(rows.len() * local_size)
            .set_local_work_size(local_size)
            .enqueue_nd_range(&cl.queue)
            .expect("enqueue");
    }
    let got = cl.read(&out, 24 * rows.len());
    for (i, row) in rows.iter().enumerate() {
        let mut want = G1Projective::ZERO;
        for j in 0..64 * words_per_row {
            if (row[j / 64] >> (j % 64)) & 1 == 1 {
                want += generators[j];
            }
        }
        assert_eq!(
            xyzz_to_projective(&got[24 * i..24 * i + 24]),
            want,
            "row {i} ({row:x?}), words_per_row {words_per_row}, local size {local_size}"
        );
    }
}

/// Edge rows (zero, single bits at the ends, full, alternating) and random rows.
fn test_rows(words_per_row: usize, rng: &mut ChaCha20Rng) -> Vec<Vec<u64>> {
    let columns = 64 * words_per_row;
    let one_bit = |j: usize| {
        let mut r = vec![0u64; words_per_row];
        r[j / 64] |= 1 << (j % 64);
        r
    };
    let mut rows = vec![
        vec![0u64; words_per_row],
        one_bit(0),
        one_bit(63),
        one_bit(columns - 1),
        one_bit(columns / 2 + 5),
        vec![u64::MAX; words_per_row],
        vec![0x5555_5555_5555_5555; words_per_row],
        vec![1u64 << 63; words_per_row],
    ];
    for _ in 0..8 {
        rows.push((0..words_per_row).map(|_| rng.gen()).collect());
    }
    // Sparse rows: a few bits each.
    for _ in 0..4 {
        let mut r = vec![0u64; words_per_row];
        for _ in 0..3 {
            let j = rng.gen_range(0..columns);
            r[j / 64] |= 1 << (j % 64);
        }
        rows.push(r);
    }
    rows
}

#[test]
fn commit_bit_rows_one_word_per_row_matches_ark() {
    let Some(cl) = cl() else { return };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let generators: Vec<G1Affine> = (0..64).map(|_| random_point(&mut rng)).collect();
    let rows = test_rows(1, &mut rng);
    check_commit(cl, &generators, &rows, COMMIT_GROUP_SIZE);
    // A single all-zero row, alone in the launch.
    check_commit(cl, &generators, &[vec![0]], COMMIT_GROUP_SIZE);
}

#[test]
fn commit_bit_rows_four_words_per_row_matches_ark() {
    let Some(cl) = cl() else { return };
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let generators: Vec<G1Affine> = (0..256).map(|_| random_point(&mut rng)).collect();
    let rows = test_rows(4, &mut rng);
    check_commit(cl, &generators, &rows, COMMIT_GROUP_SIZE);
    // Smaller work-groups (a power of two, not a power of two, one thread) give the same sums.
    check_commit(cl, &generators, &rows[..8], 48);
    check_commit(cl, &generators, &rows[..8], 1);
}

/// Generators that repeat or cancel, placed so that both the per-thread mixed additions and the
/// tree's additions meet equal and inverse points (thread t of 64 takes columns t, t + 64, …;
/// the tree's first step adds thread t + 32's sum to thread t's).
#[test]
fn commit_bit_rows_handles_equal_and_inverse_points() {
    let Some(cl) = cl() else { return };
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut g: Vec<G1Affine> = (0..256).map(|_| random_point(&mut rng)).collect();
    g[64] = g[0]; // thread 0: g0 + g0 by mixed addition (doubling)
    g[65] = -g[1]; // thread 1: g1 + (−g1) = infinity, then g129 onto infinity
    g[32] = g[0]; // tree: partial 0 (g0) + partial 32 (g0), both ZZ = 1
    g[35] = (g[3] + g[67]).into_affine(); // tree: equal points, ZZ ≠ 1 against ZZ = 1
    g[36] = (-(g[4] + g[68])).into_affine(); // tree: inverse points, ZZ ≠ 1 against ZZ = 1
    g[40] = g[8].into_group().double().into_affine(); // thread 8: g8 + 2g8 via column 72 = g8
    g[72] = g[8];
    let row = |cols: &[usize]| {
        let mut r = vec![0u64; 4];
        for &j in cols {
            r[j / 64] |= 1 << (j % 64);
        }
        r
    };
    let rows = vec![
        row(&[0, 64]),
        row(&[1, 65]),
        row(&[1, 65, 129]),
        row(&[0, 32]),
        row(&[0, 32, 64]),
        row(&[3, 67, 35]),
        row(&[4, 68, 36]),
        row(&[4, 68, 36, 100]),
        row(&[8, 72, 40]),
        row(&[0, 1, 3, 4, 8, 32, 35, 36, 40, 64, 65, 67, 68, 72]),
        vec![u64::MAX; 4],
    ];
    check_commit(cl, &g, &rows, COMMIT_GROUP_SIZE);
}
