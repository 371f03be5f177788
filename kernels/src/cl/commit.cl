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

/* g1_fold(low, high, count, x0, x1, x2, x3, out): out[i] = x·low[i] + high[i] for i < count, the
 * generator fold of the inner-product argument (zkdl_runtime::crypto::commitment::opening:
 * g ← x·g_L + g_R).
 *
 * - low, high: count affine points each, 12 limbs (as commit_bit_rows' generators);
 * - x0 … x3: the scalar x < r in standard form (not Montgomery), least significant word first;
 * - out: count XYZZ points, 24 limbs.
 *
 * One work-item per point: left-to-right double-and-add over bits 254 … 0 of x (x < r < 2^255),
 * with the complete branches of g1_add_affine (equal and inverse points, infinity). Launch: any
 * work-group size, global size ≥ count.
 */
KERNEL void g1_fold(GLOBAL const u64 *low, GLOBAL const u64 *high, u64 count, u64 x0, u64 x1, u64 x2, u64 x3,
                    GLOBAL u64 *out) {
  u64 i = GLOBAL_ID();
  if (i >= count) return;
  g1_affine p = g1_load_affine(low, i);
  u64 words[4];
  words[0] = x0; words[1] = x1; words[2] = x2; words[3] = x3;
  g1_xyzz acc = g1_infinity();
  for (int bit = 254; bit >= 0; bit--) {
    acc = g1_double(acc);
    if ((words[bit >> 6] >> (bit & 63)) & 1) acc = g1_add_affine(acc, p);
  }
  acc = g1_add_affine(acc, g1_load_affine(high, i));
  g1_store_xyzz(out, i, acc);
}

/* acc + v·p for a signed scalar v given as 5 words (|v| in four little-endian words, then 1 if
 * v < 0) with |v| < 2^bits: left-to-right double-and-add over bits − 1 … 0, negated for v < 0.
 * Inlined (DEVICE) and taking acc in: as a separate function returning the multiple, the kernels
 * spilled 64–112 bytes at 255 registers on CUDA; so they do not. */
DEVICE g1_xyzz g1_add_signed_multiple(g1_xyzz acc, GLOBAL const u64 *v, g1_affine p, u32 bits) {
  g1_xyzz term = g1_infinity();
  for (int bit = (int)bits - 1; bit >= 0; bit--) {
    term = g1_double(term);
    if ((v[bit >> 6] >> (bit & 63)) & 1) term = g1_add_affine(term, p);
  }
  return g1_add(acc, v[4] ? g1_neg(term) : term);
}

/* commit_scalar_rows(generators, scalars, cols, bits, out): for each row i of a matrix of signed
 * scalars with `cols` columns, out[i] = Σ_j v_ij · g_j — the commitment of small signed integers
 * and of field elements by their signed representatives (|v| ≤ (r − 1)/2).
 *
 * - generators: `cols` affine points, 12 limbs each (as commit_bit_rows');
 * - scalars: row-major, 5 words per value: the magnitude |v| in four little-endian 64-bit words,
 *   then 1 if v < 0 else 0;
 * - bits: every magnitude is below 2^bits (1 ≤ bits ≤ 256);
 * - out: one XYZZ point per row, 24 limbs.
 *
 * Launch: one work-group per row, work-group size COMMIT_GROUP_SIZE. Thread t takes the columns
 * j ≡ t (mod local size): |v|·g_j by left-to-right double-and-add over bits − 1 … 0, negated for
 * v < 0, accumulated; then the group's tree sum.
 */
KERNEL void commit_scalar_rows(GLOBAL const u64 *generators, GLOBAL const u64 *scalars, u64 cols, u32 bits,
                               GLOBAL u64 *out) {
  LOCAL g1_xyzz partial[COMMIT_GROUP_SIZE];
  u64 row = GROUP_ID();
  u64 lid = LOCAL_ID();
  u64 size = LOCAL_SIZE();
  g1_xyzz acc = g1_infinity();
  for (u64 j = lid; j < cols; j += size) {
    GLOBAL const u64 *v = scalars + 5 * (row * cols + j);
    if ((v[0] | v[1] | v[2] | v[3]) == 0) continue;
    acc = g1_add_signed_multiple(acc, v, g1_load_affine(generators, j), bits);
  }
  GROUP_POINT_SUM(partial, acc, lid, size)
  if (lid == 0) g1_store_xyzz(out, row, partial[0]);
}

/* msm_partials(bases, scalars, count, bits, out): one partial sum per work-group of the
 * multi-scalar multiplication Σ_{i < count} v_i · P_i, for the host to add up (at most a few
 * thousand points): work-item t of the launch takes the entries i ≡ t (mod global size).
 *
 * - bases: count affine points, 12 limbs each (as commit_bit_rows' generators);
 * - scalars: 5 words per entry, as commit_scalar_rows' (|v| in four words, then the sign);
 * - bits: every magnitude is below 2^bits;
 * - out: one XYZZ point per work-group, 24 limbs.
 *
 * Launch: work-group size COMMIT_GROUP_SIZE, any number of groups.
 */
KERNEL void msm_partials(GLOBAL const u64 *bases, GLOBAL const u64 *scalars, u64 count, u32 bits,
                         GLOBAL u64 *out) {
  LOCAL g1_xyzz partial[COMMIT_GROUP_SIZE];
  u64 lid = LOCAL_ID();
  u64 size = LOCAL_SIZE();
  u64 threads = size * NUM_GROUPS();
  g1_xyzz acc = g1_infinity();
  for (u64 i = GLOBAL_ID(); i < count; i += threads) {
    GLOBAL const u64 *v = scalars + 5 * i;
    if ((v[0] | v[1] | v[2] | v[3]) == 0) continue;
    acc = g1_add_signed_multiple(acc, v, g1_load_affine(bases, i), bits);
  }
  GROUP_POINT_SUM(partial, acc, lid, size)
  if (lid == 0) g1_store_xyzz(out, GROUP_ID(), partial[0]);
}
