/* Fq, the base field of BLS12-381 (p = 0x1a0111ea…ffffaaab, 381 bits), in the layout of ark-ff's
 * Fp384<MontBackend>: six 64-bit limbs, least significant first, in Montgomery form (the element
 * a is stored as a·R mod p with R = 2^384). A buffer of ark `Fq`s is a buffer of these, byte for
 * byte.
 *
 * fq_mul is Montgomery multiplication by CIOS (coarsely integrated operand scanning):
 * a·b·R^-1 mod p, one limb of b at a time, with the reduction by m = t_0·(−p^-1) mod 2^64
 * interleaved; the running value stays below 2p, and one conditional subtraction of p makes it
 * canonical. Since p < 2^381, a + b < 2p < 2^384 never carries out of the six limbs. Every
 * function takes and returns canonical values (< p).
 */
typedef struct { u64 l[6]; } fq;

#define FQ_P0 0xb9feffffffffaaabULL
#define FQ_P1 0x1eabfffeb153ffffULL
#define FQ_P2 0x6730d2a0f6b0f624ULL
#define FQ_P3 0x64774b84f38512bfULL
#define FQ_P4 0x4b1ba7b6434bacd7ULL
#define FQ_P5 0x1a0111ea397fe69aULL
/* −p^-1 mod 2^64 */
#define FQ_INV 0x89f3fffcfffcfffdULL

DEVICE fq fq_zero(void) {
  fq z;
  for (int i = 0; i < 6; i++) z.l[i] = 0;
  return z;
}

/* R mod p: the Montgomery form of 1. */
DEVICE fq fq_one(void) {
  fq o;
  o.l[0] = 0x760900000002fffdULL; o.l[1] = 0xebf4000bc40c0002ULL;
  o.l[2] = 0x5f48985753c758baULL; o.l[3] = 0x77ce585370525745ULL;
  o.l[4] = 0x5c071a97a256ec6dULL; o.l[5] = 0x15f65ec3fa80e493ULL;
  return o;
}

DEVICE fq fq_modulus(void) {
  fq p;
  p.l[0] = FQ_P0; p.l[1] = FQ_P1; p.l[2] = FQ_P2;
  p.l[3] = FQ_P3; p.l[4] = FQ_P4; p.l[5] = FQ_P5;
  return p;
}

DEVICE int fq_is_zero(fq a) {
  return (a.l[0] | a.l[1] | a.l[2] | a.l[3] | a.l[4] | a.l[5]) == 0;
}

DEVICE int fq_eq(fq a, fq b) {
  return ((a.l[0] ^ b.l[0]) | (a.l[1] ^ b.l[1]) | (a.l[2] ^ b.l[2]) | (a.l[3] ^ b.l[3]) |
          (a.l[4] ^ b.l[4]) | (a.l[5] ^ b.l[5])) == 0;
}

/* a ≥ b as 384-bit integers. */
DEVICE int fq_geq(fq a, fq b) {
  for (int i = 5; i >= 0; i--) {
    if (a.l[i] != b.l[i]) return a.l[i] > b.l[i];
  }
  return 1;
}

/* a − b as 384-bit integers, with the borrow out in *borrow. */
DEVICE fq fq_sub_raw(fq a, fq b, u64 *borrow) {
  fq d; u64 bw = 0;
  for (int i = 0; i < 6; i++) {
    u64 t = a.l[i] - b.l[i];
    u64 b1 = a.l[i] < b.l[i];
    d.l[i] = t - bw;
    u64 b2 = t < bw;
    bw = b1 | b2;
  }
  *borrow = bw;
  return d;
}

/* a + b as 384-bit integers (the callers' sums stay below 2^384). */
DEVICE fq fq_add_raw(fq a, fq b) {
  fq s; u64 c = 0;
  for (int i = 0; i < 6; i++) {
    u64 t = a.l[i] + c;
    u64 c1 = t < c;
    s.l[i] = t + b.l[i];
    c = c1 | (s.l[i] < t);
  }
  return s;
}

DEVICE fq fq_add(fq a, fq b) {
  /* a + b < 2p < 2^384: no carry out; subtract p once if needed. */
  fq s = fq_add_raw(a, b);
  fq p = fq_modulus();
  if (fq_geq(s, p)) { u64 bw; s = fq_sub_raw(s, p, &bw); }
  return s;
}

DEVICE fq fq_sub(fq a, fq b) {
  u64 bw;
  fq d = fq_sub_raw(a, b, &bw);
  if (bw) d = fq_add_raw(d, fq_modulus());
  return d;
}

DEVICE fq fq_neg(fq a) { return fq_sub(fq_zero(), a); }

DEVICE fq fq_dbl(fq a) { return fq_add(a, a); }

/* lo + a·b + carry → the low word; the high word into *carry (never overflows). */
DEVICE u64 fq_mac(u64 lo, u64 a, u64 b, u64 *carry) {
  u64 p_lo = a * b;
  u64 p_hi = MULHI64(a, b);
  u64 s = p_lo + lo;
  p_hi += s < lo;
  u64 s2 = s + *carry;
  p_hi += s2 < s;
  *carry = p_hi;
  return s2;
}

/* On CUDA fq_mul is a real function, not inlined: the G1 formulas call it a dozen times each, and
 * inlining every call made commit_bit_rows a 1 MB cubin of 254 registers that ptxas took 8.5 s
 * to build; out of line it is about 0.1 MB, 188 registers and 0.5 s (NVRTC 13.0, sm_90), at
 * the price of a call per multiplication. OpenCL C keeps DEVICE (inline). */
#ifdef __CUDACC_RTC__
#define FQ_MUL_FN __device__ __noinline__
#else
#define FQ_MUL_FN DEVICE
#endif

FQ_MUL_FN fq fq_mul(fq a, fq b) {
  u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5 = 0, t6 = 0;
  fq p = fq_modulus();
  for (int i = 0; i < 6; i++) {
    u64 bi = b.l[i];
    u64 c = 0;
    t0 = fq_mac(t0, a.l[0], bi, &c);
    t1 = fq_mac(t1, a.l[1], bi, &c);
    t2 = fq_mac(t2, a.l[2], bi, &c);
    t3 = fq_mac(t3, a.l[3], bi, &c);
    t4 = fq_mac(t4, a.l[4], bi, &c);
    t5 = fq_mac(t5, a.l[5], bi, &c);
    u64 t7;
    t6 = t6 + c; t7 = t6 < c;
    u64 m = t0 * FQ_INV;
    c = 0;
    (void)fq_mac(t0, m, p.l[0], &c);
    t0 = fq_mac(t1, m, p.l[1], &c);
    t1 = fq_mac(t2, m, p.l[2], &c);
    t2 = fq_mac(t3, m, p.l[3], &c);
    t3 = fq_mac(t4, m, p.l[4], &c);
    t4 = fq_mac(t5, m, p.l[5], &c);
    t5 = t6 + c;
    t6 = t7 + (t5 < c);
  }
  fq r;
  r.l[0] = t0; r.l[1] = t1; r.l[2] = t2; r.l[3] = t3; r.l[4] = t4; r.l[5] = t5;
  if (t6 || fq_geq(r, p)) { u64 bw; r = fq_sub_raw(r, p, &bw); }
  return r;
}

DEVICE fq fq_sqr(fq a) { return fq_mul(a, a); }

DEVICE fq fq_load(GLOBAL const u64 *buffer, u64 index) {
  fq a;
  for (int i = 0; i < 6; i++) a.l[i] = buffer[6 * index + i];
  return a;
}

DEVICE void fq_store(GLOBAL u64 *buffer, u64 index, fq a) {
  for (int i = 0; i < 6; i++) buffer[6 * index + i] = a.l[i];
}
