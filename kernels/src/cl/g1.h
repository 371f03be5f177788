/* G1 of BLS12-381: the points of y^2 = x^3 + 4 over Fq (a = 0, b = 4), in XYZZ coordinates
 * (needs fq.h).
 *
 * A point (X, Y, ZZ, ZZZ) with ZZ ≠ 0 stands for the affine point (x, y) = (X/ZZ, Y/ZZZ), where
 * ZZ^3 = ZZZ^2; the point at infinity is any XYZZ with ZZ = ZZZ = 0 (g1_infinity returns all
 * zeros; g1_is_infinity looks at ZZ only). The formulas are those of the Explicit-Formulas
 * Database, "Short Weierstrass curves, XYZZ coordinates"
 * (https://hyperelliptic.org/EFD/g1p/auto-shortw-xyzz.html), specialised to a = 0:
 *
 * - g1_double: dbl-2008-s-1 (Sutherland 2008)
 *     U = 2Y1, V = U^2, W = U·V, S = X1·V, M = 3·X1^2
 *     X3 = M^2 − 2S, Y3 = M·(S − X3) − W·Y1, ZZ3 = V·ZZ1, ZZZ3 = W·ZZZ1
 *   (a point with Y = 0 or at infinity doubles to infinity through ZZ3 = ZZZ3 = 0).
 * - g1_double_affine: mdbl-2008-s-1, the same with ZZ1 = ZZZ1 = 1: ZZ3 = V, ZZZ3 = W.
 * - g1_add: add-2008-s
 *     U1 = X1·ZZ2, U2 = X2·ZZ1, S1 = Y1·ZZZ2, S2 = Y2·ZZZ1, P = U2 − U1, R = S2 − S1,
 *     PP = P^2, PPP = P·PP, Q = U1·PP,
 *     X3 = R^2 − PPP − 2Q, Y3 = R·(Q − X3) − S1·PPP, ZZ3 = ZZ1·ZZ2·PP, ZZZ3 = ZZZ1·ZZZ2·PPP.
 *   The formula is incomplete, so the exceptional cases are branches: either input at infinity
 *   returns the other; P = 0 means the same x, and then R = 0 (the same point) doubles and
 *   R ≠ 0 (inverse points) gives infinity.
 * - g1_add_affine: madd-2008-s, add-2008-s with ZZ2 = ZZZ2 = 1 (U1 = X1, S1 = Y1,
 *   ZZ3 = ZZ1·PP, ZZZ3 = ZZZ1·PPP), with the same branches (doubling by mdbl-2008-s-1).
 *
 * An affine point is g1_affine (x, y), Montgomery form like fq. Its point at infinity is
 * x = y = 0, which is not on the curve (0 ≠ 0 + 4) and is what ark-ec's `Affine::identity()`
 * holds in x and y; ark's separate `infinity` flag is not part of this layout.
 *
 * In buffers of u64 limbs: an affine point is 12 limbs (x then y, six limbs each); an XYZZ point
 * is 24 limbs (X, Y, ZZ, ZZZ).
 */
/* On CUDA the group operations are real functions, like fq_mul: a kernel holding two XYZZ points
 * (acc and a scalar multiple) with the formulas inlined spilled past 255 registers
 * (commit_scalar_rows); out of line the call sites keep only their own points live. OpenCL C keeps
 * DEVICE (inline). */
#ifdef __CUDACC_RTC__
#define G1_FN __device__ __noinline__
#else
#define G1_FN DEVICE
#endif

typedef struct { fq x; fq y; } g1_affine;
typedef struct { fq x; fq y; fq zz; fq zzz; } g1_xyzz;

DEVICE g1_xyzz g1_infinity(void) {
  g1_xyzz r;
  r.x = fq_zero(); r.y = fq_zero(); r.zz = fq_zero(); r.zzz = fq_zero();
  return r;
}

DEVICE int g1_is_infinity(g1_xyzz a) { return fq_is_zero(a.zz); }

DEVICE int g1_affine_is_infinity(g1_affine a) { return fq_is_zero(a.x) && fq_is_zero(a.y); }

/* The affine point as XYZZ (ZZ = ZZZ = 1), or infinity. */
DEVICE g1_xyzz g1_from_affine(g1_affine a) {
  if (g1_affine_is_infinity(a)) return g1_infinity();
  g1_xyzz r;
  r.x = a.x; r.y = a.y; r.zz = fq_one(); r.zzz = fq_one();
  return r;
}

DEVICE g1_xyzz g1_neg(g1_xyzz a) { a.y = fq_neg(a.y); return a; }

/* dbl-2008-s-1 with a = 0. */
G1_FN g1_xyzz g1_double(g1_xyzz a) {
  if (g1_is_infinity(a)) return g1_infinity();
  fq u = fq_dbl(a.y);
  fq v = fq_sqr(u);
  fq w = fq_mul(u, v);
  fq s = fq_mul(a.x, v);
  fq x2 = fq_sqr(a.x);
  fq m = fq_add(fq_dbl(x2), x2);
  g1_xyzz r;
  r.x = fq_sub(fq_sqr(m), fq_dbl(s));
  r.y = fq_sub(fq_mul(m, fq_sub(s, r.x)), fq_mul(w, a.y));
  r.zz = fq_mul(v, a.zz);
  r.zzz = fq_mul(w, a.zzz);
  return r;
}

/* The double of an affine point (not at infinity): dbl-2008-s-1 from ZZ = ZZZ = 1 (mdbl-2008-s-1
 * would save the two multiplications by 1; doubling an affine point is the rare equal-points
 * branch of g1_add_affine). */
G1_FN g1_xyzz g1_double_affine(g1_affine a) { return g1_double(g1_from_affine(a)); }

/* add-2008-s, complete by branches. */
G1_FN g1_xyzz g1_add(g1_xyzz a, g1_xyzz b) {
  if (g1_is_infinity(a)) return b;
  if (g1_is_infinity(b)) return a;
  fq u1 = fq_mul(a.x, b.zz);
  fq u2 = fq_mul(b.x, a.zz);
  fq s1 = fq_mul(a.y, b.zzz);
  fq s2 = fq_mul(b.y, a.zzz);
  fq p = fq_sub(u2, u1);
  fq r = fq_sub(s2, s1);
  if (fq_is_zero(p)) {
    if (fq_is_zero(r)) return g1_double(a);
    return g1_infinity();
  }
  fq pp = fq_sqr(p);
  fq ppp = fq_mul(p, pp);
  fq q = fq_mul(u1, pp);
  g1_xyzz o;
  o.x = fq_sub(fq_sub(fq_sqr(r), ppp), fq_dbl(q));
  o.y = fq_sub(fq_mul(r, fq_sub(q, o.x)), fq_mul(s1, ppp));
  o.zz = fq_mul(fq_mul(a.zz, b.zz), pp);
  o.zzz = fq_mul(fq_mul(a.zzz, b.zzz), ppp);
  return o;
}

/* madd-2008-s: a + b for an affine b, complete by branches. */
G1_FN g1_xyzz g1_add_affine(g1_xyzz a, g1_affine b) {
  if (g1_affine_is_infinity(b)) return a;
  if (g1_is_infinity(a)) return g1_from_affine(b);
  fq u2 = fq_mul(b.x, a.zz);
  fq s2 = fq_mul(b.y, a.zzz);
  fq p = fq_sub(u2, a.x);
  fq r = fq_sub(s2, a.y);
  if (fq_is_zero(p)) {
    if (fq_is_zero(r)) return g1_double_affine(b);
    return g1_infinity();
  }
  fq pp = fq_sqr(p);
  fq ppp = fq_mul(p, pp);
  fq q = fq_mul(a.x, pp);
  g1_xyzz o;
  o.x = fq_sub(fq_sub(fq_sqr(r), ppp), fq_dbl(q));
  o.y = fq_sub(fq_mul(r, fq_sub(q, o.x)), fq_mul(a.y, ppp));
  o.zz = fq_mul(a.zz, pp);
  o.zzz = fq_mul(a.zzz, ppp);
  return o;
}

/* The affine point at `index` of a buffer of 12-limb points (x then y). */
DEVICE g1_affine g1_load_affine(GLOBAL const u64 *buffer, u64 index) {
  g1_affine a;
  a.x = fq_load(buffer, 2 * index);
  a.y = fq_load(buffer, 2 * index + 1);
  return a;
}

DEVICE void g1_store_affine(GLOBAL u64 *buffer, u64 index, g1_affine a) {
  fq_store(buffer, 2 * index, a.x);
  fq_store(buffer, 2 * index + 1, a.y);
}

/* The XYZZ point at `index` of a buffer of 24-limb points (X, Y, ZZ, ZZZ). */
DEVICE g1_xyzz g1_load_xyzz(GLOBAL const u64 *buffer, u64 index) {
  g1_xyzz a;
  a.x = fq_load(buffer, 4 * index);
  a.y = fq_load(buffer, 4 * index + 1);
  a.zz = fq_load(buffer, 4 * index + 2);
  a.zzz = fq_load(buffer, 4 * index + 3);
  return a;
}

DEVICE void g1_store_xyzz(GLOBAL u64 *buffer, u64 index, g1_xyzz a) {
  fq_store(buffer, 4 * index, a.x);
  fq_store(buffer, 4 * index + 1, a.y);
  fq_store(buffer, 4 * index + 2, a.zz);
  fq_store(buffer, 4 * index + 3, a.zzz);
}
