/* The bit relation's rounds on bits (zkdl_runtime::proof::binary): 0 = Σ_x eq(ρ, x)·b(x)·(b(x) − used(x))
 * over n variables, with b held as packed bits (entry e at bit e mod 64 of word ⌊e/64⌋) and used as
 * pages of PAGE_WORDS words (zkdl_runtime::crypto::bits::PagedBits): pages[i] is ZERO_PAGE, ONE_PAGE
 * or the index of the page's words in mixed (one tag per 64-bit word of pages).
 *
 * A subset sum Σ_{p < width} w_p·bit(first + p·stride) of weights w_p is read from byte tables:
 * subsets[256·g + v] = Σ_{i : bit i of v} w_(8g + i), one lookup per byte of selecting bits
 * (built on the host; a width below 8 uses the first 2^width entries of table 0).
 *
 * bit_round_sums  round j (variables x_1 … x_(j−1) bound to r_<j, m = n − j variables y after x_j),
 *                 subsets the byte tables of eq(r_<j, ·) (width = 2^(j−1)); per work-group, the
 *                 partial sums of
 *                     A_i = Σ_y eq(ρ_{>j}, y) · c_i(y),   i = 0, 1, 2,
 *                     c_0 = b_0(b_0 − u_0),  c_1 = b_1(b_1 − u_1),  c_2 = (b_1 − b_0)(b_1 − b_0 − u_1 + u_0),
 *                 where b_t = Σ_p eq(r_<j, p)·b(p, t, y) (entry p·2^(m+1) + t·2^m + y), u_t likewise of
 *                 used, and eq(ρ_{>j}, y) = eq_hi[y >> lo_vars] · eq_lo[y mod 2^lo_vars]. A y with
 *                 b_0 = b_1 = 0 adds nothing. reduce_partials (sumcheck.cl, 3 points) adds them up.
 * bind_bits       after k rounds, subsets the byte tables of eq(r, ·) (width = 2^k, m = n − k): the
 *                 tables b(r, ·) and used(r, ·), out[z] = Σ_p eq(r, p)·b(p·2^m + z) and
 *                 out[2^m + z] = Σ_p eq(r, p)·used(p·2^m + z) for z < 2^m.
 */
#define PAGE_WORDS 64
#define ZERO_PAGE 0xffffffffULL
#define ONE_PAGE 0xfffffffeULL
#define BIT_ROUND_SUMS 3

/* Word i of used. */
DEVICE u64 used_word(GLOBAL const u64 *pages, GLOBAL const u64 *mixed, u64 i) {
  u64 tag = pages[i / PAGE_WORDS];
  if (tag == ZERO_PAGE) return 0;
  if (tag == ONE_PAGE) return ~(u64)0;
  return mixed[tag * PAGE_WORDS + i % PAGE_WORDS];
}

/* Σ_{p < width} w_p · bit(first + p·stride) of b (paged = 0) or used (paged = 1). */
DEVICE fr bit_subset_sum(GLOBAL const u64 *bits, GLOBAL const u64 *pages, GLOBAL const u64 *mixed, int paged,
                         GLOBAL const u64 *subsets, u64 width, u64 first, u64 stride) {
  fr total = fr_zero();
  u64 per_byte = width < 8 ? width : 8;
  for (u64 g = 0; g * 8 < width; g++) {
    u64 byte = 0;
    for (u64 i = 0; i < per_byte; i++) {
      u64 e = first + (8 * g + i) * stride;
      u64 word = paged ? used_word(pages, mixed, e / 64) : bits[e / 64];
      byte |= ((word >> (e % 64)) & 1) << i;
    }
    if (byte != 0) total = fr_add(total, fr_load(subsets, 256 * g + byte));
  }
  return total;
}

KERNEL void bit_round_sums(GLOBAL const u64 *bits, GLOBAL const u64 *pages, GLOBAL const u64 *mixed,
                           GLOBAL const u64 *subsets, u64 width, u32 m, GLOBAL const u64 *eq_hi,
                           GLOBAL const u64 *eq_lo, u32 lo_vars, GLOBAL u64 *partials) {
  LOCAL fr scratch[GROUP_SIZE];
  u64 lid = LOCAL_ID();
  fr acc[BIT_ROUND_SUMS];
  for (u32 i = 0; i < BIT_ROUND_SUMS; i++) acc[i] = fr_zero();
  u64 count = (u64)1 << m, stride = count << 1, lo_mask = ((u64)1 << lo_vars) - 1;
  u64 threads = LOCAL_SIZE() * NUM_GROUPS();
  for (u64 y = GLOBAL_ID(); y < count; y += threads) {
    fr b0 = bit_subset_sum(bits, pages, mixed, 0, subsets, width, y, stride);
    fr b1 = bit_subset_sum(bits, pages, mixed, 0, subsets, width, count + y, stride);
    if (fr_is_zero(b0) && fr_is_zero(b1)) continue;
    fr u0 = bit_subset_sum(bits, pages, mixed, 1, subsets, width, y, stride);
    fr u1 = bit_subset_sum(bits, pages, mixed, 1, subsets, width, count + y, stride);
    fr e = fr_mul(fr_load(eq_hi, y >> lo_vars), fr_load(eq_lo, y & lo_mask));
    /* e·c_0 = (e·b_0)(b_0 − u_0), e·c_1 = (e·b_1)(b_1 − u_1), e·c_2 = (e·b_1 − e·b_0)(s − d). */
    fr e0 = fr_mul(e, b0), e1 = fr_mul(e, b1);
    acc[0] = fr_add(acc[0], fr_mul(e0, fr_sub(b0, u0)));
    acc[1] = fr_add(acc[1], fr_mul(e1, fr_sub(b1, u1)));
    acc[2] = fr_add(acc[2], fr_mul(fr_sub(e1, e0), fr_sub(fr_sub(b1, b0), fr_sub(u1, u0))));
  }
  for (u32 i = 0; i < BIT_ROUND_SUMS; i++) {
    scratch[lid] = acc[i];
    BARRIER();
    GROUP_TREE_SUM(scratch, lid)
    if (lid == 0) fr_store(partials, GROUP_ID() * BIT_ROUND_SUMS + i, scratch[0]);
    BARRIER();
  }
}

KERNEL void bind_bits(GLOBAL const u64 *bits, GLOBAL const u64 *pages, GLOBAL const u64 *mixed,
                      GLOBAL const u64 *subsets, u64 width, u32 m, GLOBAL u64 *out) {
  u64 i = GLOBAL_ID();
  u64 count = (u64)1 << m;
  if (i >= 2 * count) return;
  int paged = i >= count;
  fr value = bit_subset_sum(bits, pages, mixed, paged, subsets, width, i & (count - 1), count);
  fr_store(out, i, value);
}
