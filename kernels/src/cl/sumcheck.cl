/* The sumcheck kernels (zkdl_runtime::crypto::sumcheck): tables of Fr entries (fr.h) held on the
 * device across a relation's rounds; only round messages and final evaluations leave it.
 *
 * eq_double     one doubling step of T[i] = Π_k w_k(bit k of i), the most significant bit first:
 *               from the table of the first k weights (len entries) to the first k + 1:
 *               dst[2i] = src[i]·w_k(0), dst[2i + 1] = src[i]·w_k(1). eq(u, ·) has w_k = (1 − u_k, u_k).
 * fold_leading  binds the leading variable of every factor table to r:
 *               P'[j] = P[j] + r·(P[j + half_len] − P[j]) for j < half_len; factor f's table starts at f·stride.
 * eq_fold_sum   E'[j] = E[j] + E[j + half_len]: the eq table of the variables after the current one,
 *               summed over the current one (the Gruen-factored round drops it).
 * round_values  per work-group, the partial sums over j of
 *                   q(t) = Σ_j E[j] · common(t, j) · Σ_terms c · Π_{f ∈ term} P_f(t, j),  t = 0 … D,
 *               where P_f(t, j) = P_f[j] + t·(P_f[j + half_len] − P_f[j]) is the table on the line
 *               through the current variable and common is a factor of every term (or 1).
 *               q(1) is left zero unless need_one (only round 1 reads it).
 * reduce_partials  one work-group sums round_values' partials into the D + 1 values of q.
 *
 * Terms are given as TERM_WORDS u32 words each: kind (0: c = 1, 1: c = −1, 2: c = coefficients[index]),
 * the coefficient index, the number of factors (0 … MAX_TERM_FACTORS) and the factor indices.
 */
#define MAX_FACTORS 8
#define MAX_POINTS 6
#define MAX_TERM_FACTORS 3
#define TERM_WORDS 6

KERNEL void eq_double(GLOBAL const u64 *src, GLOBAL u64 *dst, u64 len, GLOBAL const u64 *weights, u32 k) {
  u64 i = GLOBAL_ID();
  if (i >= len) return;
  fr t = fr_load(src, i);
  fr_store(dst, 2 * i, fr_mul(t, fr_load(weights, 2 * (u64)k)));
  fr_store(dst, 2 * i + 1, fr_mul(t, fr_load(weights, 2 * (u64)k + 1)));
}

KERNEL void fold_leading(GLOBAL u64 *tables, u64 stride, u64 half_len, u32 num_factors, u64 r0, u64 r1, u64 r2, u64 r3) {
  u64 i = GLOBAL_ID();
  if (i >= half_len * (u64)num_factors) return;
  u64 f = i / half_len, j = i - f * half_len;
  u64 low = f * stride + j;
  fr r; r.l[0] = r0; r.l[1] = r1; r.l[2] = r2; r.l[3] = r3;
  fr a = fr_load(tables, low);
  fr b = fr_load(tables, low + half_len);
  fr_store(tables, low, fr_add(a, fr_mul(r, fr_sub(b, a))));
}

KERNEL void eq_fold_sum(GLOBAL u64 *values, u64 half_len) {
  u64 j = GLOBAL_ID();
  if (j >= half_len) return;
  fr_store(values, j, fr_add(fr_load(values, j), fr_load(values, j + half_len)));
}

/* Sums GROUP_SIZE values in LOCAL scratch; thread 0 gets the total. */
#define GROUP_TREE_SUM(scratch, lid)                                        \
  for (u64 width = GROUP_SIZE / 2; width > 0; width /= 2) {                 \
    if ((lid) < width) scratch[lid] = fr_add(scratch[lid], scratch[(lid) + width]); \
    BARRIER();                                                              \
  }

KERNEL void round_values(GLOBAL const u64 *tables, u64 stride, u64 half_len, u32 num_factors,
                         GLOBAL const u64 *eq, u32 has_eq, GLOBAL const u32 *terms, u32 num_terms,
                         GLOBAL const u64 *coefficients, int common, u32 points, u32 need_one,
                         GLOBAL u64 *partials) {
  LOCAL fr scratch[GROUP_SIZE];
  u64 lid = LOCAL_ID();
  fr acc[MAX_POINTS];
  for (u32 t = 0; t < MAX_POINTS; t++) acc[t] = fr_zero();
  fr cur[MAX_FACTORS];
  fr step[MAX_FACTORS];
  u64 threads = LOCAL_SIZE() * NUM_GROUPS();
  for (u64 j = GLOBAL_ID(); j < half_len; j += threads) {
    for (u32 f = 0; f < num_factors; f++) {
      fr low = fr_load(tables, (u64)f * stride + j);
      cur[f] = low;
      step[f] = fr_sub(fr_load(tables, (u64)f * stride + j + half_len), low);
    }
    fr w = has_eq ? fr_load(eq, j) : fr_one();
    for (u32 t = 0; t < points; t++) {
      if (t > 0) {
        for (u32 f = 0; f < num_factors; f++) cur[f] = fr_add(cur[f], step[f]);
      }
      if (t == 1 && !need_one) continue;
      fr summand = fr_zero();
      for (u32 k = 0; k < num_terms; k++) {
        GLOBAL const u32 *term = terms + TERM_WORDS * k;
        u32 count = term[2];
        fr product = count == 0 ? fr_one() : cur[term[3]];
        for (u32 m = 1; m < count; m++) product = fr_mul(product, cur[term[3 + m]]);
        if (term[0] == 0) summand = fr_add(summand, product);
        else if (term[0] == 1) summand = fr_sub(summand, product);
        else summand = fr_add(summand, fr_mul(product, fr_load(coefficients, term[1])));
      }
      if (common >= 0) summand = fr_mul(summand, cur[common]);
      if (has_eq) summand = fr_mul(summand, w);
      acc[t] = fr_add(acc[t], summand);
    }
  }
  for (u32 t = 0; t < points; t++) {
    scratch[lid] = acc[t];
    BARRIER();
    GROUP_TREE_SUM(scratch, lid)
    if (lid == 0) fr_store(partials, GROUP_ID() * points + t, scratch[0]);
    BARRIER();
  }
}

KERNEL void reduce_partials(GLOBAL const u64 *partials, u64 count, u32 points, GLOBAL u64 *out) {
  LOCAL fr scratch[GROUP_SIZE];
  u64 lid = LOCAL_ID();
  for (u32 t = 0; t < points; t++) {
    fr sum = fr_zero();
    for (u64 g = lid; g < count; g += GROUP_SIZE) sum = fr_add(sum, fr_load(partials, g * points + t));
    scratch[lid] = sum;
    BARRIER();
    GROUP_TREE_SUM(scratch, lid)
    if (lid == 0) fr_store(out, t, scratch[0]);
    BARRIER();
  }
}
