/* Commitments to rows of bits (needs fq.h and g1.h).
 *
 * commit_bit_rows(generators, bits, words_per_row, out): for each row i of a bit matrix with
 * 64·words_per_row columns, the subset sum
 *
 *     out[i] = Σ_{j : bit j of row i is set} g_j    (in G1; infinity for an all-zero row)
 *
 * - generators: 64·words_per_row affine points g_j, 12 limbs each (x then y, Fq Montgomery
 *   limbs as in fq.h); none at infinity (x = y = 0 would be read as infinity and skipped).
 * - bits: row-major packed bits; row i is words [i·words_per_row, (i+1)·words_per_row), and
 *   column j of a row is bit (j mod 64), least significant first, of its word ⌊j/64⌋.
 * - out: one XYZZ point per row, 24 limbs (X, Y, ZZ, ZZZ; infinity has ZZ = ZZZ = 0).
 *
 * Launch: one work-group per row (the row is GROUP_ID()), work-group size COMMIT_GROUP_SIZE,
 * global size rows × COMMIT_GROUP_SIZE. (Any local size up to COMMIT_GROUP_SIZE computes the
 * same sums; a larger one would overrun the local array.) Thread t of the group accumulates the
 * columns j ≡ t (mod local size), that is bit t of every word when the local size is 64, by mixed
 * additions into an XYZZ point; the group's partial sums are then added pairwise in a tree in
 * local memory.
 *
 * COMMIT_GROUP_SIZE is 64 (unless defined before this file, e.g. by a compiler option): an XYZZ
 * point is 192 bytes, so the local array is 12 KiB, well inside CUDA's 48 KiB of static shared
 * memory and PoCL's local memory, and a row of one word keeps every thread busy.
 */
#ifndef COMMIT_GROUP_SIZE
#define COMMIT_GROUP_SIZE 64
#endif

/* Adds the work-group's points `acc` into partial[0] (partial: a LOCAL array of `size` points
 * declared by the kernel; a macro because CUDA's __shared__ cannot qualify a parameter).
 * Sequential-addressing tree: step starts at the largest power of two below size (1 if size
 * is 1). (Not named `half`: that is a type in OpenCL C.) */
#define GROUP_POINT_SUM(partial, acc, lid, size)                                              \
  partial[lid] = acc;                                                                        \
  BARRIER();                                                                                 \
  {                                                                                          \
    u64 step = 1;                                                                            \
    while (2 * step < (size)) step <<= 1;                                                    \
    for (u64 s = step; s > 0; s >>= 1) {                                                     \
      if ((lid) < s && (lid) + s < (size)) partial[lid] = g1_add(partial[lid], partial[(lid) + s]); \
      BARRIER();                                                                             \
    }                                                                                        \
  }

KERNEL void commit_bit_rows(GLOBAL const u64 *generators, GLOBAL const u64 *bits,
                            u64 words_per_row, GLOBAL u64 *out) {
  LOCAL g1_xyzz partial[COMMIT_GROUP_SIZE];
  u64 row = GROUP_ID();
  u64 lid = LOCAL_ID();
  u64 size = LOCAL_SIZE();
  u64 columns = 64 * words_per_row;
  GLOBAL const u64 *row_bits = bits + row * words_per_row;

  g1_xyzz acc = g1_infinity();
  for (u64 j = lid; j < columns; j += size) {
    u64 word = row_bits[j >> 6];
    if ((word >> (j & 63)) & 1) acc = g1_add_affine(acc, g1_load_affine(generators, j));
  }
  GROUP_POINT_SUM(partial, acc, lid, size)
  if (lid == 0) g1_store_xyzz(out, row, partial[0]);
}

/* g1_fold(low, high, count, glv, bits, out): out[i] = x·low[i] + high[i] for i < count, the
 * generator fold of the inner-product argument (zkdl_runtime::crypto::commitment::opening:
 * g ← x·g_L + g_R), by the GLV endomorphism of BLS12-381's G1.
 *
 * φ(x, y) = (β·x, y), β a cube root of unity in Fq, acts on G1 (the points of order r) as
 * multiplication by λ (a cube root of unity mod r). The host splits x = s_1·k_1 + λ·s_2·k_2 (mod r)
 * with |k_1|, |k_2| < 2^bits, bits about 128 (ark-ec's GLVConfig::scalar_decomposition), so
 *
 *     x·P = k_1·(s_1·P) + k_2·(s_2·φ(P)),
 *
 * one double-and-add over `bits` bits for both halves: about 128 doublings and 128 mixed additions
 * against 255 and 128 over x itself. Valid for points of G1, which every generator and every fold of
 * generators is; the identity (x = y = 0) maps to itself.
 *
 * - low, high: count affine points each, 12 limbs (as commit_bit_rows' generators);
 * - glv: 16 words: k_1 (four little-endian words), k_2 (four), 1 if s_1 = −1, 1 if s_2 = −1, then β
 *   in Fq Montgomery limbs (six);
 * - out: count XYZZ points, 24 limbs.
 *
 * One work-item per point, with the complete branches of g1_add_affine (equal and inverse points,
 * infinity). Launch: any work-group size, global size ≥ count.
 */
KERNEL void g1_fold(GLOBAL const u64 *low, GLOBAL const u64 *high, u64 count, GLOBAL const u64 *glv, u32 bits,
                    GLOBAL u64 *out) {
  u64 i = GLOBAL_ID();
  if (i >= count) return;
  g1_affine p = g1_load_affine(low, i);
  g1_affine endo;
  endo.x = fq_mul(fq_load(glv + 10, 0), p.x);
  endo.y = glv[9] ? fq_neg(p.y) : p.y;
  if (glv[8]) p.y = fq_neg(p.y);
  g1_xyzz acc = g1_infinity();
  for (int bit = (int)bits - 1; bit >= 0; bit--) {
    acc = g1_double(acc);
    if ((glv[bit >> 6] >> (bit & 63)) & 1) acc = g1_add_affine(acc, p);
    if ((glv[4 + (bit >> 6)] >> (bit & 63)) & 1) acc = g1_add_affine(acc, endo);
  }
  acc = g1_add_affine(acc, g1_load_affine(high, i));
  g1_store_xyzz(out, i, acc);
}

/* Subset sums by byte tables, for many rows of bits over the same generators.
 *
 * bit_byte_tables(generators, groups, tables): tables[256·g + m] = Σ_{i : bit i of m is set} g_{8g+i}
 * for every group g < groups of eight generators and every byte m (an XYZZ point, 24 limbs;
 * infinity for m = 0). One work-item per entry, at most eight mixed additions; launch: any
 * work-group size, global size ≥ 256 · groups.
 *
 * commit_bit_rows_by_bytes(tables, bits, words_per_row, first_word, slice_words, accumulate, out):
 * the subset sums of commit_bit_rows over the columns of words [first_word, first_word +
 * slice_words) of every row, with `tables` built from the generators of those columns (so byte b of
 * the slice selects from group b):
 *
 *     out[i] (+)= Σ_{bytes b of the slice} tables[256·b + byte b of row i]
 *
 * one XYZZ addition per nonzero byte instead of one mixed addition per set bit (about four per
 * byte of random bits). With accumulate ≠ 0 the sum is added to out[i]; else it replaces it, so a
 * wide row is committed slice by slice, each slice's table bounded. Launch as commit_bit_rows.
 */
KERNEL void bit_byte_tables(GLOBAL const u64 *generators, u64 groups, GLOBAL u64 *tables) {
  u64 i = GLOBAL_ID();
  if (i >= 256 * groups) return;
  u64 group = i >> 8;
  u32 mask = (u32)(i & 255);
  g1_xyzz acc = g1_infinity();
  for (u32 bit = 0; bit < 8; bit++) {
    if ((mask >> bit) & 1) acc = g1_add_affine(acc, g1_load_affine(generators, 8 * group + bit));
  }
  g1_store_xyzz(tables, i, acc);
}

KERNEL void commit_bit_rows_by_bytes(GLOBAL const u64 *tables, GLOBAL const u64 *bits, u64 words_per_row,
                                     u64 first_word, u64 slice_words, u32 accumulate, GLOBAL u64 *out) {
  LOCAL g1_xyzz partial[COMMIT_GROUP_SIZE];
  u64 row = GROUP_ID();
  u64 lid = LOCAL_ID();
  u64 size = LOCAL_SIZE();
  GLOBAL const u64 *slice = bits + row * words_per_row + first_word;
  g1_xyzz acc = g1_infinity();
  for (u64 b = lid; b < 8 * slice_words; b += size) {
    u64 byte = (slice[b >> 3] >> (8 * (b & 7))) & 255;
    if (byte != 0) acc = g1_add(acc, g1_load_xyzz(tables, 256 * b + byte));
  }
  GROUP_POINT_SUM(partial, acc, lid, size)
  if (lid == 0) g1_store_xyzz(out, row, accumulate ? g1_add(partial[0], g1_load_xyzz(out, row)) : partial[0]);
}

/* Multi-scalar multiplications by signed-digit buckets (Pippenger's method), for many segments at
 * once: segment s is the sum
 *
 *     S_s = Σ_{j < cols} v_{s,j} · P_{s,j},     P_{s,j} = bases[s · base_stride + j],
 *
 * over signed scalars v (5 words each, as below): with base_stride = 0 the segments are the rows of
 * a commitment to a matrix (every row over the same generators); with base_stride = cols they are
 * consecutive pieces of one long MSM, added up on the host.
 *
 * Scalars: the magnitude |v| in four little-endian 64-bit words, then 1 if v < 0 else 0 (values of
 * the field by their signed representatives, |v| ≤ (r − 1)/2), every |v| < 2^bits.
 *
 * Digits: |v| = Σ_{w < W} d_w · 256^w with W = ⌊bits/8⌋ + 1 windows and
 *
 *     d_w = byte_w(|v|) − 256 · bit_{8w+7}(|v|) + bit_{8w−1}(|v|)   ∈ [−128, 128]
 *
 * (each byte read as signed, plus the carry of the byte below; the sum telescopes to |v|), negated
 * for v < 0; signed_digit computes d_w from nine bits, so no digits are stored. A digit d ≠ 0 puts
 * ±P in bucket |d| of its (segment, window), the region s·W + w, and
 *
 *     S_s = Σ_w 256^w · Σ_{k=1}^{128} k · B_{s,w,k},    B_{s,w,k} = Σ_{j : d_w(v_{s,j}) = ±k} ±P_{s,j}.
 *
 * The kernels, in order (counts and cursors: 128 32-bit words per region, lists: cols 32-bit words
 * per region):
 * 1. bucket_digits with scatter = 0: one work-item per entry; slots (the counts, zeroed first) += 1
 *    for each nonzero digit.
 * 2. bucket_starts: one work-item per region; the exclusive prefix sums of its 128 counts, written
 *    over the counts (the bucket starts) and into cursors.
 * 3. bucket_digits with scatter = 1 and slots = cursors: each nonzero digit claims the next slot of
 *    its bucket (an atomic increment of its cursor) and writes there j, with bit 31 set for −P. The
 *    order within a bucket depends on scheduling, which changes no sum; afterwards cursors hold the
 *    ends.
 * 4. bucket_accumulate: one work-item per bucket; B_k by mixed additions of its list's points.
 * 5. bucket_window_sums: one work-group of 128 per region; work-item k − 1 multiplies B_k by k
 *    (double-and-add over k's bits), and the group's tree sum gives the window sum Σ_k k · B_k.
 * 6. window_combine: one work-item per segment; Horner's rule over the windows, most significant
 *    first: S = 256 · S + (window sum), eight doublings a window.
 *
 * An entry costs one mixed addition per nonzero digit (W at most, fewer for small values), against
 * about 1.5 · bits group operations by double-and-add; a region costs about 12 · 128 more for the
 * bucket weights, which a row of a few hundred nonzero digits or more repays.
 */
#define BUCKETS 128

/* Digit w of the signed base-256 recoding of the 5-word signed scalar v (see above). */
DEVICE int signed_digit(GLOBAL const u64 *v, u32 w) {
  u32 bit = 8 * w;
  int d = 0;
  if (bit < 256) {
    d = (int)((v[bit >> 6] >> (bit & 63)) & 255);
    if (d >= 128) d -= 256;
  }
  if (w > 0) d += (int)((v[(bit - 1) >> 6] >> ((bit - 1) & 63)) & 1);
  return v[4] ? -d : d;
}

KERNEL void bucket_digits(GLOBAL const u64 *scalars, u64 count, u64 cols, u32 windows, GLOBAL u32 *slots,
                          u32 scatter, GLOBAL u32 *lists) {
  u64 e = GLOBAL_ID();
  if (e >= count) return;
  GLOBAL const u64 *v = scalars + 5 * e;
  if ((v[0] | v[1] | v[2] | v[3]) == 0) return;
  u64 first_region = (e / cols) * windows;
  u32 j = (u32)(e % cols);
  for (u32 w = 0; w < windows; w++) {
    int d = signed_digit(v, w);
    if (d == 0) continue;
    u64 region = first_region + w;
    u32 slot = ATOMIC_INC(&slots[region * BUCKETS + (u64)(d < 0 ? -d : d) - 1]);
    if (scatter) lists[region * cols + slot] = d < 0 ? (j | 0x80000000u) : j;
  }
}

KERNEL void bucket_starts(GLOBAL u32 *counts, u64 regions, GLOBAL u32 *cursors) {
  u64 region = GLOBAL_ID();
  if (region >= regions) return;
  u32 total = 0;
  for (u64 i = region * BUCKETS; i < (region + 1) * BUCKETS; i++) {
    u32 c = counts[i];
    counts[i] = total;
    cursors[i] = total;
    total += c;
  }
}

KERNEL void bucket_accumulate(GLOBAL const u64 *bases, u64 base_stride, u64 cols, u32 windows,
                              GLOBAL const u32 *lists, GLOBAL const u32 *starts, GLOBAL const u32 *ends,
                              u64 buckets, GLOBAL u64 *out) {
  u64 bucket = GLOBAL_ID();
  if (bucket >= buckets) return;
  u64 region = bucket / BUCKETS;
  u64 first_base = (region / windows) * base_stride;
  GLOBAL const u32 *list = lists + region * cols;
  g1_xyzz sum = g1_infinity();
  for (u32 i = starts[bucket]; i < ends[bucket]; i++) {
    u32 entry = list[i];
    g1_affine p = g1_load_affine(bases, first_base + (entry & 0x7fffffffu));
    if (entry >> 31) p.y = fq_neg(p.y);
    sum = g1_add_affine(sum, p);
  }
  g1_store_xyzz(out, bucket, sum);
}

/* The bucket is read from memory at each addition rather than held: with it and its multiple both
 * live, g1_add spilled 120 bytes on CUDA. */
KERNEL void bucket_window_sums(GLOBAL const u64 *bucket_sums, GLOBAL u64 *out) {
  LOCAL g1_xyzz partial[BUCKETS];
  u64 region = GROUP_ID();
  u64 lid = LOCAL_ID();
  u64 bucket = region * BUCKETS + lid;
  u32 k = (u32)lid + 1;
  g1_xyzz weighted = g1_infinity();
  for (int bit = 7; bit >= 0; bit--) {
    weighted = g1_double(weighted);
    if ((k >> bit) & 1) weighted = g1_add(weighted, g1_load_xyzz(bucket_sums, bucket));
  }
  GROUP_POINT_SUM(partial, weighted, lid, BUCKETS)
  if (lid == 0) g1_store_xyzz(out, region, partial[0]);
}

KERNEL void window_combine(GLOBAL const u64 *window_sums, u64 segments, u32 windows, GLOBAL u64 *out) {
  u64 s = GLOBAL_ID();
  if (s >= segments) return;
  g1_xyzz acc = g1_infinity();
  for (int w = (int)windows - 1; w >= 0; w--) {
    for (int i = 0; i < 8; i++) acc = g1_double(acc);
    acc = g1_add(acc, g1_load_xyzz(window_sums, s * windows + (u64)w));
  }
  g1_store_xyzz(out, s, acc);
}
