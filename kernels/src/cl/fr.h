/* Fr, the scalar field of BLS12-381 (r = 0x73eda753…00000001, 255 bits), in the layout of
 * ark-ff's Fp256<MontBackend>: four 64-bit limbs, least significant first, in Montgomery form
 * (the element a is stored as a·R mod r with R = 2^256). A buffer of ark `Fr`s is a buffer of
 * these, byte for byte.
 *
 * fr_mul is Montgomery multiplication by CIOS (coarsely integrated operand scanning):
 * a·b·R^-1 mod r, one limb of b at a time, with the reduction by m = t_0·(−r^-1) mod 2^64
 * interleaved. Every function takes and returns canonical values (< r).
 */
typedef struct { u64 l[4]; } fr;

#define FR_P0 0xffffffff00000001ULL
#define FR_P1 0x53bda402fffe5bfeULL
#define FR_P2 0x3339d80809a1d805ULL
#define FR_P3 0x73eda753299d7d48ULL
/* −r^-1 mod 2^64 */
#define FR_INV 0xfffffffeffffffffULL

DEVICE fr fr_zero(void) { fr z; z.l[0] = 0; z.l[1] = 0; z.l[2] = 0; z.l[3] = 0; return z; }

/* R mod r: the Montgomery form of 1. */
DEVICE fr fr_one(void) {
  fr o;
  o.l[0] = 0x00000001fffffffeULL; o.l[1] = 0x5884b7fa00034802ULL;
  o.l[2] = 0x998c4fefecbc4ff5ULL; o.l[3] = 0x1824b159acc5056fULL;
  return o;
}

DEVICE fr fr_modulus(void) {
  fr p; p.l[0] = FR_P0; p.l[1] = FR_P1; p.l[2] = FR_P2; p.l[3] = FR_P3; return p;
}

DEVICE int fr_is_zero(fr a) { return (a.l[0] | a.l[1] | a.l[2] | a.l[3]) == 0; }

/* a ≥ b as 256-bit integers. */
DEVICE int fr_geq(fr a, fr b) {
  for (int i = 3; i >= 0; i--) {
    if (a.l[i] != b.l[i]) return a.l[i] > b.l[i];
  }
  return 1;
}

/* a − b as 256-bit integers, with the borrow out in *borrow. */
DEVICE fr fr_sub_raw(fr a, fr b, u64 *borrow) {
  fr d; u64 bw = 0;
  for (int i = 0; i < 4; i++) {
    u64 t = a.l[i] - b.l[i];
    u64 b1 = a.l[i] < b.l[i];
    d.l[i] = t - bw;
    u64 b2 = t < bw;
    bw = b1 | b2;
  }
  *borrow = bw;
  return d;
}

DEVICE fr fr_add(fr a, fr b) {
  fr s; u64 c = 0;
  for (int i = 0; i < 4; i++) {
    u64 t = a.l[i] + c;
    u64 c1 = t < c;
    s.l[i] = t + b.l[i];
    c = c1 | (s.l[i] < t);
  }
  /* a + b < 2r < 2^256: no carry out; subtract r once if needed. */
  fr p = fr_modulus();
  if (fr_geq(s, p)) { u64 bw; s = fr_sub_raw(s, p, &bw); }
  return s;
}

DEVICE fr fr_sub(fr a, fr b) {
  u64 bw;
  fr d = fr_sub_raw(a, b, &bw);
  if (bw) {
    fr p = fr_modulus(); u64 c = 0;
    for (int i = 0; i < 4; i++) {
      u64 t = d.l[i] + c;
      u64 c1 = t < c;
      d.l[i] = t + p.l[i];
      c = c1 | (d.l[i] < t);
    }
  }
  return d;
}

DEVICE fr fr_neg(fr a) { return fr_sub(fr_zero(), a); }

/* lo + a·b + carry → the low word; the high word into *carry (never overflows). */
DEVICE u64 fr_mac(u64 lo, u64 a, u64 b, u64 *carry) {
  u64 p_lo = a * b;
  u64 p_hi = MULHI64(a, b);
  u64 s = p_lo + lo;
  p_hi += s < lo;
  u64 s2 = s + *carry;
  p_hi += s2 < s;
  *carry = p_hi;
  return s2;
}

DEVICE fr fr_mul(fr a, fr b) {
  u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  fr p = fr_modulus();
  for (int i = 0; i < 4; i++) {
    u64 bi = b.l[i];
    u64 c = 0;
    t0 = fr_mac(t0, a.l[0], bi, &c);
    t1 = fr_mac(t1, a.l[1], bi, &c);
    t2 = fr_mac(t2, a.l[2], bi, &c);
    t3 = fr_mac(t3, a.l[3], bi, &c);
    u64 t5;
    t4 = t4 + c; t5 = t4 < c;
    u64 m = t0 * FR_INV;
    c = 0;
    (void)fr_mac(t0, m, p.l[0], &c);
    t0 = fr_mac(t1, m, p.l[1], &c);
    t1 = fr_mac(t2, m, p.l[2], &c);
    t2 = fr_mac(t3, m, p.l[3], &c);
    t3 = t4 + c;
    t4 = t5 + (t3 < c);
  }
  fr r; r.l[0] = t0; r.l[1] = t1; r.l[2] = t2; r.l[3] = t3;
  if (t4 || fr_geq(r, p)) { u64 bw; r = fr_sub_raw(r, p, &bw); }
  return r;
}

DEVICE fr fr_load(GLOBAL const u64 *buffer, u64 index) {
  fr a;
  for (int i = 0; i < 4; i++) a.l[i] = buffer[4 * index + i];
  return a;
}

DEVICE void fr_store(GLOBAL u64 *buffer, u64 index, fr a) {
  for (int i = 0; i < 4; i++) buffer[4 * index + i] = a.l[i];
}
