//! B, the bit relation over the whole stacked bit tensor b (`PROTOCOL.md` §3, §5):
//!
//! ```text
//!     0 = Σ_x eq(ρ, x) · b(x) · (b(x) − used(x))
//! ```
//!
//! at a fresh `ρ`, one degree-3 sumcheck for every bit of every layer, step and role. As a polynomial
//! identity it holds on the whole cube only if `b(x)² = b(x)` where `used(x) = 1` (every committed bit is
//! 0 or 1) and `b(x)² = 0` elsewhere (b is zero in padding, which makes every tensor recomposed from it
//! zero in padding too). `used` is the indicator of the real bits of every chunk, a sum of Kronecker
//! products of prefix indicators that the verifier evaluates in `O(chunks · layers · log |b|)`.
//! The sumcheck ends in the claim `b(r)`, merged with the claims routed into b and opened once.
//!
//! **Bit-aware prover.** b has `2^n` entries (`n = 30` for the paper network: 32 GiB as field
//! elements), so the prover reads b as packed bits ([`BitVector`]) and `used` as paged bits
//! ([`PagedBits`]: pages of all zeros or all ones are a tag, so `used` takes a few MiB where packed it
//! took as much as b) in the first `k` rounds (8 to 12, leaving `2^22` entries or fewer) and builds field tables only of the `2^(n−k)` entries left after them. Its messages,
//! challenges and claims are those of the generic prover ([`sumcheck::prove_with_public_tables`]) bit
//! for bit: the round values are determined by the tables, however they are computed.
//!
//! Round `j` (variables `x_1 … x_(j−1)` bound to `r_1 … r_(j−1)`, most significant first) needs, for
//! every `y ∈ {0,1}^(n−j)` and `t ∈ {0, 1}`,
//!
//! ```text
//!     b_j(t, y) = Σ_{p ∈ {0,1}^(j−1)} eq(r_<j, p) · b(p, t, y),
//! ```
//!
//! a *subset sum* of the `2^(j−1)` weights `eq(r_<j, p)`, selected by the bits `b(p, t, y)` (entry
//! `p·2^(n−j+1) + t·2^(n−j) + y`); likewise `used_j`. One table per byte of the selecting mask
//! (`2^(2^(j−1))` entries up to 256) turns each into one lookup per byte, and a word of ones into one
//! addition. The bits of 64 consecutive `y` are gathered a word per `(p, t)` and transposed 64 rows at
//! a time, so that each `y` gets its `4·2^(j−1)` selecting bits in one word (rounds up to 5) or in
//! `2^(j−5)` words. With `b_t = b_j(t, y)` linear in `t`, the summand is
//!
//! ```text
//!     b_t (b_t − u_t) = c_0 + t·(c_1 − c_0 − c_2) + t²·c_2,
//!     c_0 = b_0(b_0 − u_0),   c_1 = b_1(b_1 − u_1),   c_2 = (b_1 − b_0)(b_1 − b_0 − u_1 + u_0),
//! ```
//!
//! so Gruen's `q_j(t) = Σ_y eq(ρ_{>j}, y) · b_t(b_t − u_t)` (see [`sumcheck`]) follows from the three
//! sums `A_i = Σ_y eq(ρ_{>j}, y) · c_i(y)`. The eq table over `y` is never built: it is split as
//! `eq(ρ_hi, y_hi) · eq(ρ_lo, y_lo)`, sums run over blocks of one `y_hi` with the `y_lo` factor and are
//! multiplied by the `y_hi` factor once per block. Four ways to get the `A_i`, cheapest first:
//!
//! - *Round 1, masked sums*: the `b_t`, `u_t` are bits, so `c_0 = b_0 ∧ ¬u_0`, `c_1 = b_1 ∧ ¬u_1` and
//!   `c_2 = (b_0 ⊕ b_1) − s·d` (`s = b_1 − b_0`, `d = u_1 − u_0`) are signed sums of bit masks over the 64
//!   lanes of a word; `Σ_{lane ∈ mask} eq(ρ_lane, lane)` over the last six variables is eight byte
//!   lookups, and the word's own eq factor one multiplication per word and mask (one for honest bits).
//! - *Pattern buckets* (rounds 2, 3): the `c_i` of a `y` depend only on its `4·2^(j−1)` selecting bits
//!   (256 or 65536 patterns), so the prover adds `eq(ρ_lo, y_lo)` into the bucket of that pattern
//!   (additions only; patterns without a set bit of b contribute nothing) and combines
//!   `A_i = Σ_pattern bucket · c_i(pattern)` at the end.
//! - *Pair buckets* (round 4, 8-bit masks): `c_0` depends only on the pair (mask of b, mask of used) at
//!   `t = 0`, `c_1` on the pair at `t = 1`, and `c_2 = s² − s·d` only on the two masks of b where the
//!   masks of used agree (`d = 0`): three bucket additions per `y`, and two multiplications where
//!   `d ≠ 0`.
//! - *Lookups* (rounds 5 to 12): `c_i(y)` from four subset sums, weighted directly in five
//!   multiplications. A round costs about `2^(n−j) · 4 · 2^(j−1)/8 = 2^n/4` table additions whatever
//!   `j`, the work of one generic round on the tables of `k = 5`, so rounds on bits past the fifth
//!   trade little time for an 8× smaller remainder.
//!
//! After `k` rounds the prover builds `b_(k+1)` and `used_(k+1)` (`2^(n−k)` entries, by subset sums of
//! `eq(r_≤k, ·)` over `2^k`-bit masks) and `eq(ρ_{>k+1}, ·)`, and hands them to
//! [`sumcheck::prove_remaining_rounds`], the generic round loop. At `n = 33` (the paper network at
//! T = 64), `k = 11`: two tables of 128 MiB and an eq table of 64 MiB, next to the 1 GiB of packed b
//! (`k = 8` held 2.5 GiB of tables, and `k = 5` would have held 24 GiB). The prover never assumes that b
//! is binary where used or zero elsewhere: a violating b gets the generic prover's (rejected) proof.
//! Every gathered word spans 64 consecutive `y`, so the bit rounds need `n − k ≥ 6`; below `n = 7`
//! the generic prover runs on field tables.
//!
//! **On a device.** The backend may take the bit rounds ([`device::Backend::bit_round_tables`]): a GPU
//! holds packed b and the pages of `used` across them and computes, per `y`, the four subset sums
//! `b_0, b_1, u_0, u_1` (byte tables of `eq(r_<j, ·)`) and the weighted `c_i` directly — the lookups
//! way, with `eq(ρ_{>j}, y)` as the product of a high and a low half — then `b(r, ·)`, `used(r, ·)`
//! after `k` rounds. The sums are the same field elements however they are computed, so the proof is
//! the host's byte for byte; the host's way is the fallback (and the cpu backend's).

use std::time::Instant;

use ark_ff::{Field, One, Zero};
use rayon::prelude::*;
use zkdl_compiler::plan::AggregatedRelation;
use zkdl_compiler::Plan;

use super::routing::{bit_tensor_used_boxes, bit_tensor_used_region, bit_tensor_used_table, relation_name};
use super::{BitTable, Prover, Verifier};
use crate::crypto::bits::{fill_byte_subset_sums, BitVector, PagedBits, PAGE_WORDS};
use crate::crypto::device;
use crate::crypto::ranks::{self, Communicator};
use crate::crypto::sumcheck::{
    self, Factor, ProductTerm, PublicTensor, SumcheckProverOutput, SumcheckProverState, SumcheckStatement,
};
use crate::crypto::tensor::eq_table;
use crate::crypto::zk::{Secret, Sent};
use crate::error::VerificationError;
use crate::{Claim, Fr, TensorId, Transcript};

fn statement(relation: &AggregatedRelation, plan: &Plan, rho: Vec<Fr>) -> SumcheckStatement {
    bit_statement(relation_name(relation), TensorId(plan.tensors.len() as u32 - 1), bit_tensor_used_region(plan), rho)
}

/// `Σ_x eq(ρ, x) · (b(x)·b(x) − b(x)·used(x))`: factor 0 is b, factor 1 the public `used`.
fn bit_statement(relation: String, bits: TensorId, used: PublicTensor, rho: Vec<Fr>) -> SumcheckStatement {
    SumcheckStatement {
        relation,
        num_vars: rho.len(),
        eq_weight: Some(rho),
        factors: vec![Factor::Committed(bits), Factor::Public(used)],
        terms: vec![ProductTerm::new(Fr::one(), [0, 0]), ProductTerm::new(-Fr::one(), [0, 1])],
    }
}

/// Whether `statement` has the shape of [`bit_statement`] (the shape [`prove_packed`] proves).
fn is_bit_statement(statement: &SumcheckStatement) -> bool {
    let terms = [(Fr::one(), [0, 0]), (-Fr::one(), [0, 1])];
    statement.eq_weight.is_some()
        && matches!(statement.factors[..], [Factor::Committed(_), Factor::Public(_)])
        && statement.terms.len() == 2
        && statement.terms.iter().zip(terms).all(|(t, (c, f))| t.coefficient == c && t.factors == f)
}

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let rho = p.transcript.challenge_fields(b"relation-point", p.plan.bit_tensor_vars as usize);
    let statement = statement(relation, p.plan, rho);
    let plan = p.plan;
    let (state, transcript, tables, ranks) = p.sumcheck_state(&statement, Secret::public(Fr::zero()));
    let output = match &tables.bits {
        BitTable::Packed(bits) => prove_packed_on(ranks, &statement, state, bits, &used_bits(plan), transcript),
        BitTable::Field(values) => sumcheck::prove_from(
            &statement,
            state,
            vec![values.clone()],
            vec![None, Some(bit_tensor_used_table(plan))],
            transcript,
        ),
    };
    p.current.sumcheck = Some(output.proof);
    p.bit_tensor_claim(Claim {
        tensor: statement_tensor(&statement),
        point: output.point,
        value: output.evaluations[0],
    });
    Ok(())
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    let rho = v.transcript.challenge_fields(b"relation-point", v.plan.bit_tensor_vars as usize);
    let statement = statement(relation, v.plan, rho);
    let (point, values) = v.verify_sumcheck(&statement, Sent::Clear(Fr::zero()))?;
    v.bit_tensor_claim(Claim { tensor: statement_tensor(&statement), point, value: values[0] });
    Ok(())
}

/// The committed tensor of the bit relation's statement: b.
fn statement_tensor(statement: &SumcheckStatement) -> TensorId {
    match statement.factors[0] {
        Factor::Committed(id) => id,
        Factor::Public(_) => unreachable!("the bit relation's first factor is b"),
    }
}

/// The used indicator of b as paged bits ([`PagedBits`]): entry for entry [`bit_tensor_used_table`].
/// The used region of each chunk of b is a box per (layer, step, plane): `rows` rows of `cols`
/// consecutive bits at a stride of `2^col_bits`. Groups of pages are filled in parallel from the boxes
/// that meet them (the boxes' spans are disjoint, found by binary search), then paged; only one
/// group's words per thread are ever held packed.
pub fn used_bits(plan: &Plan) -> PagedBits {
    used_bits_in_groups(plan, GROUP_PAGES)
}

/// [`used_bits`], filled `group_pages` pages at a time.
fn used_bits_in_groups(plan: &Plan, group_pages: usize) -> PagedBits {
    let len = 1usize << plan.bit_tensor_vars;
    let mut boxes = bit_tensor_used_boxes(plan);
    boxes.sort_unstable_by_key(|b| b.0);
    let group_bits = (group_pages * PAGE_WORDS * 64).min(len.next_multiple_of(64 * PAGE_WORDS));
    let groups: Vec<PagedBits> = (0..len.div_ceil(group_bits))
        .into_par_iter()
        .map(|g| {
            let (lo, hi) = (g * group_bits, ((g + 1) * group_bits).min(len));
            let mut words = vec![0u64; group_bits / 64];
            // The first box whose span ends after `lo`.
            let first = boxes.partition_point(|&(start, rows, stride, _)| start + rows * stride <= lo);
            for &(start, rows, stride, cols) in boxes[first..].iter().take_while(|b| b.0 < hi) {
                set_box_clipped(&mut words, lo, hi, start, rows, stride, cols);
            }
            let pages = words.chunks_exact(PAGE_WORDS).map(|c| <[u64; PAGE_WORDS]>::try_from(c).expect("a page"));
            PagedBits::from_pages(pages.take((hi - lo).div_ceil(64 * PAGE_WORDS)), hi - lo)
        })
        .collect();
    let mut used = PagedBits::default();
    for group in groups {
        used.append(group);
    }
    used
}

/// Pages per group that [`used_bits`] fills at once: 2^18 words, 2 MiB.
const GROUP_PAGES: usize = 4096;

/// Sets, in `words` (bits `lo … hi` of b, `lo` a multiple of 64), the bits `start + row · stride + col`
/// for `row < rows`, `col < cols` that lie in `[lo, hi)`.
fn set_box_clipped(words: &mut [u64], lo: usize, hi: usize, start: usize, rows: usize, stride: usize, cols: usize) {
    let clip = |from: usize, len: usize| {
        let (a, b) = (from.max(lo), (from + len).min(hi));
        (a < b).then(|| (a - lo, b - a))
    };
    if cols == stride || (cols < stride && stride < 64 && start % stride == 0) {
        // A contiguous run, or rows several to a word with every word alike.
        let pattern = if cols == stride {
            !0
        } else {
            let row = (1u64 << cols) - 1;
            (0..64 / stride).fold(0u64, |p, k| p | (row << (k * stride)))
        };
        if let Some((from, len)) = clip(start, rows * stride) {
            or_range(words, from, len, pattern);
        }
        return;
    }
    let first_row = lo.saturating_sub(start) / stride;
    let last_row = rows.min((hi - start).div_ceil(stride));
    for r in first_row..last_row {
        if let Some((from, len)) = clip(start + r * stride, cols) {
            or_range(words, from, len, !0);
        }
    }
}

/// ORs `pattern & mask` into every word overlapping the bits `[start, start + len)`, `mask` the part
/// of the word inside that range.
fn or_range(words: &mut [u64], start: usize, len: usize, pattern: u64) {
    if len == 0 {
        return;
    }
    let end = start + len;
    let (first, last) = (start / 64, (end - 1) / 64);
    for (w, word) in words[first..=last].iter_mut().enumerate() {
        let w = first + w;
        let low = if w == first { start % 64 } else { 0 };
        let high = if w == last { (end - 1) % 64 + 1 } else { 64 };
        *word |= pattern & ((!0u64 >> (64 - (high - low))) << low);
    }
}

/// The fewest rounds run on bits (where b has enough entries). After `k` of them the prover holds
/// `b_(k+1)`, `used_(k+1)` and an eq table, `2^(n−k)·(2 + 1/2)` field elements of 32 bytes. Each round
/// on bits costs about `2^n / 4` additions of subset sums, as many as one generic round on the tables
/// of `k = 5`.
const MIN_BIT_ROUNDS: usize = 8;

/// The most rounds run on bits.
const MAX_BIT_ROUNDS: usize = 12;

/// The variables left after the rounds on bits when b is large: the remainder tables stay at
/// `2.5 · 32 · 2^22` bytes (320 MiB) however many steps b holds. At the paper network's T = 64
/// (`n = 33`) that takes 11 rounds instead of 8 (2.5 GiB of tables), each extra round about 7% of the
/// bit rounds' time.
const REMAINDER_VARS: usize = 22;

/// The last round that can bucket whole patterns: round 3's `4 · 4` selecting bits make `2^16` buckets.
const MAX_PATTERN_ROUNDS: usize = 3;

/// The last round that can bucket pairs of masks: round 4's pairs of 8-bit masks make `2^16` buckets.
const MAX_PAIR_ROUNDS: usize = 4;

/// How the bit-aware prover computes its rounds: `rounds` rounds on bits, round `j` by pattern buckets
/// when `j ≤ pattern_rounds`, else by pair buckets when `j ≤ pair_rounds`, else by lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BitRounds {
    rounds: usize,
    pattern_rounds: usize,
    pair_rounds: usize,
}

impl BitRounds {
    /// The split for `n` variables: `n − 22` rounds on bits, at least eight and at most twelve, fewer
    /// when `n < 14` (a gathered word spans 64 entries, so `n − k ≥ 6`); `2^16` buckets (pattern buckets in round 3, pair buckets in
    /// round 4) only when about `2^20` entries or more fill them.
    fn for_vars(n: usize) -> Self {
        let rounds = n.saturating_sub(REMAINDER_VARS).clamp(MIN_BIT_ROUNDS, MAX_BIT_ROUNDS).min(n.saturating_sub(6));
        let pattern_rounds = if n >= 23 { MAX_PATTERN_ROUNDS } else { 2 }.min(rounds);
        let pair_rounds = if n >= 24 { MAX_PAIR_ROUNDS } else { pattern_rounds }.min(rounds);
        Self { rounds, pattern_rounds, pair_rounds }
    }

    fn fits(&self, n: usize) -> bool {
        self.rounds <= MAX_BIT_ROUNDS
            && self.pattern_rounds <= self.rounds.min(MAX_PATTERN_ROUNDS)
            && self.pair_rounds <= self.rounds.min(MAX_PAIR_ROUNDS)
            && n >= self.rounds + 6
    }
}

/// Bytes of the field tables the prover of a bit relation over `2^n` entries holds at once: `b_(k+1)`,
/// `used_(k+1)` and the eq table over the variables after its `k` bit rounds (the packed b and used
/// not counted).
pub fn remainder_table_bytes(n: usize) -> u64 {
    table_bytes_after(n, BitRounds::for_vars(n).rounds)
}

/// [`remainder_table_bytes`] after `k` bit rounds: two tables of `2^(n−k)` entries and an eq table
/// of half as many.
fn table_bytes_after(n: usize, k: usize) -> u64 {
    32 * ((2u64 << (n - k)) + (1u64 << (n - k).saturating_sub(1)))
}

/// Seconds spent in each phase of the bit-aware prover.
#[derive(Clone, Debug, Default)]
struct PhaseSeconds {
    /// Each bit round.
    bit_rounds: Vec<f64>,
    materialize: f64,
    remaining_rounds: f64,
}

/// Proves the bit relation `statement` (the shape the binary relation builds: eq weight, factor 0 the
/// committed b, factor 1 the public `used`) with b and `used` as packed bits. The output and the
/// transcript's state afterwards are those of
/// [`sumcheck::prove_with_public_tables`]`(statement, [b], [None, Some(used)], transcript)` on the same
/// entries as field elements, bit for bit; see the module docs for how.
///
/// # Panics
/// If `statement` does not have that shape, or b or `used` does not have `2^n` entries (programming
/// errors of the caller).
pub fn prove_packed(
    statement: &SumcheckStatement,
    bits: &BitVector,
    used: &PagedBits,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    prove_packed_from(statement, SumcheckProverState::new(statement), bits, used, transcript)
}

/// As [`prove_packed`], from a fresh `state` (clear or zero-knowledge).
///
/// # Panics
/// As [`prove_packed`].
pub fn prove_packed_from(
    statement: &SumcheckStatement,
    state: SumcheckProverState,
    bits: &BitVector,
    used: &PagedBits,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    let n = statement.num_vars;
    assert!(is_bit_statement(statement), "{}: not the bit relation", statement.relation);
    assert!(bits.len() == 1 << n && used.len() == 1 << n, "{}: b and used need 2^{n} entries", statement.relation);
    let split = BitRounds::for_vars(n);
    if split.rounds == 0 {
        let b = (0..bits.len()).map(|i| Fr::from(u64::from(bits.get(i)))).collect();
        let u = (0..used.len()).map(|i| Fr::from(u64::from(used.get(i)))).collect();
        return sumcheck::prove_from(statement, state, vec![b], vec![None, Some(u)], transcript);
    }
    prove_bit_aware(statement, state, bits, used, transcript, split).0
}

/// [`prove_packed_from`] over the ranks of `ranks` when the statement splits
/// ([`ranks::sumcheck::splits`]), else by this process alone: the same output either way.
/// Rank `r` packs its restrictions `b_r(y) = b(y, r)` and `used_r`, runs the bit rounds on them with
/// the eq weight of the local variables, scaled by its share `eq(ρ_lo, r)`; the ranks all-reduce each
/// round's `[A_0, A_1, A_2]` (the round polynomial is linear in them), and the field rounds continue
/// in [`ranks::sumcheck::prove_distributed`].
pub fn prove_packed_on(
    ranks: Option<&mut (dyn Communicator + '_)>,
    statement: &SumcheckStatement,
    mut state: SumcheckProverState,
    bits: &BitVector,
    used: &PagedBits,
    transcript: &mut Transcript,
) -> SumcheckProverOutput {
    let comm = match ranks {
        Some(comm) if ranks::sumcheck::splits(statement, comm) => comm,
        _ => return prove_packed_from(statement, state, bits, used, transcript),
    };
    let n = statement.num_vars;
    assert!(is_bit_statement(statement), "{}: not the bit relation", statement.relation);
    assert!(bits.len() == 1 << n && used.len() == 1 << n, "{}: b and used need 2^{n} entries", statement.relation);
    let (rank, size) = (comm.rank(), comm.size());
    let local = n - size.trailing_zeros() as usize;
    let own_bits = BitVector::from_fn(1 << local, |i| bits.get(i * size + rank));
    let own_used = PagedBits::from_bit_vector(&BitVector::from_fn(1 << local, |i| used.get(i * size + rank)));
    let share = ranks::sumcheck::eq_share(statement, rank, size);
    let rho = statement.eq_weight.as_deref().expect("the bit relation has an eq weight");
    let split = BitRounds::for_vars(local);
    let tables = if split.rounds == 0 {
        let field = |get: &dyn Fn(usize) -> bool| (0..1usize << local).map(|i| Fr::from(u64::from(get(i)))).collect();
        vec![field(&|i| own_bits.get(i)), field(&|i| own_used.get(i))]
    } else {
        let combine = |sums: [Fr; 3]| {
            let mut sums = sums.map(|a| a * share);
            comm.all_reduce_sum(&mut sums);
            sums
        };
        let mut seconds = PhaseSeconds::default();
        let bits = (&own_bits, &own_used);
        run_bit_rounds(statement, &mut state, bits, &rho[..local], split, transcript, combine, &mut seconds)
    };
    ranks::sumcheck::prove_distributed(comm, statement, state, transcript, tables)
}

/// [`prove_packed`] with a given split (`split.fits(n)`), and the time of each phase.
fn prove_bit_aware(
    statement: &SumcheckStatement,
    mut state: SumcheckProverState,
    bits: &BitVector,
    used: &PagedBits,
    transcript: &mut Transcript,
    split: BitRounds,
) -> (SumcheckProverOutput, PhaseSeconds) {
    let n = statement.num_vars;
    assert!(split.fits(n), "{split:?} over {n} variables");
    let rho = statement.eq_weight.as_deref().expect("the bit relation has an eq weight");
    let mut seconds = PhaseSeconds::default();
    let tables = run_bit_rounds(statement, &mut state, (bits, used), rho, split, transcript, |s| s, &mut seconds);
    let eq_rest = eq_table(&rho[split.rounds + 1..]);

    let started = Instant::now();
    let output = sumcheck::prove_remaining_rounds(statement, state, tables, Some(eq_rest), transcript);
    seconds.remaining_rounds = started.elapsed().as_secs_f64();
    (output, seconds)
}

/// The first `split.rounds` rounds of the bit relation on packed `(b, used)` over `rho.len()` variables
/// (the eq weight's coordinates over them), on the backend if it takes them, else on the host (the
/// same sums either way); each round's `[A_0, A_1, A_2]` passes through `combine` (the identity on one
/// process; scaled by the rank's eq share and all-reduced on ranks) before it is sent. Returns the
/// tables of b and `used` bound to the rounds' challenges; records each round's and the binding's
/// seconds.
#[allow(clippy::too_many_arguments)]
fn run_bit_rounds(
    statement: &SumcheckStatement,
    state: &mut SumcheckProverState,
    (bits, used): (&BitVector, &PagedBits),
    rho: &[Fr],
    split: BitRounds,
    transcript: &mut Transcript,
    mut combine: impl FnMut([Fr; 3]) -> [Fr; 3],
    seconds: &mut PhaseSeconds,
) -> Vec<Vec<Fr>> {
    let n = rho.len();
    // The backend's bit rounds, if it takes them (the same sums, wherever they are computed).
    let mut on_backend = device::current().bit_round_tables(bits, used);
    for j in 1..=split.rounds {
        let started = Instant::now();
        let tail = &rho[j..];
        let sums = match on_backend.as_mut() {
            Some(tables) => tables.sums(state.point(), tail),
            None => host_round_sums(bits, used, n, j, state.point(), tail, split),
        };
        state.send_round(statement, &round_values(combine(sums)), transcript);
        seconds.bit_rounds.push(started.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    let tables = match on_backend {
        Some(tables) => tables.bind(state.point()).into(),
        None => bind_leading_bits(bits, used, n, state.point()),
    };
    seconds.materialize = started.elapsed().as_secs_f64();
    tables
}

/// `[A_0, A_1, A_2]` of round `j` on the host, by the way `split` gives it.
fn host_round_sums(
    bits: &BitVector,
    used: &PagedBits,
    n: usize,
    j: usize,
    point: &[Fr],
    tail: &[Fr],
    split: BitRounds,
) -> [Fr; 3] {
    if j == 1 && split.pattern_rounds >= 1 {
        return first_round_sums(bits, used, tail);
    }
    let round = BitRound::new(bits, used, n, j, point);
    if j <= split.pattern_rounds {
        round.pattern_sums(tail)
    } else if j <= split.pair_rounds {
        round.pair_sums(tail)
    } else {
        round.lookup_sums(tail)
    }
}

/// `q(0), …, q(3)` for `q(t) = A_0 + t·(A_1 − A_0 − A_2) + t²·A_2`.
fn round_values([a0, a1, a2]: [Fr; 3]) -> [Fr; 4] {
    let linear = a1 - a0 - a2;
    let (two, three) = (Fr::from(2u64), Fr::from(3u64));
    [a0, a1, a0 + two * linear + Fr::from(4u64) * a2, a0 + three * linear + Fr::from(9u64) * a2]
}

/// Subset sums of weights `w_0 … w_(K−1)`: `Σ_{i ∈ mask} w_i` by one lookup per byte of the mask.
struct SubsetSums {
    /// Per byte `g` of the mask, the sums over the subsets of `w_(8g) … w_(8g+7)`.
    bytes: Vec<Vec<Fr>>,
    /// Per word `c` of the mask, `w_(64c) + … + w_(64c+63)`: the sum of a word of ones.
    words: Vec<Fr>,
}

impl SubsetSums {
    fn new(weights: &[Fr]) -> Self {
        let bytes = weights
            .chunks(8)
            .map(|group| {
                let mut table = vec![Fr::zero(); 1 << group.len()];
                fill_byte_subset_sums(group, &mut table);
                table
            })
            .collect();
        let words = weights.chunks(64).map(|group| group.iter().sum()).collect();
        Self { bytes, words }
    }

    /// `Σ w_i` over the set bits `i` of the `width`-bit mask that starts at bit `start` of lane `lane`
    /// of `chunks` (see [`gather_wide`]); `start` is a multiple of `width`, and `width` a power of two no
    /// larger than the number of weights. Whole words of zeros cost nothing and words of ones one
    /// addition.
    #[inline]
    fn sum_lane(&self, chunks: &[[u64; 64]], lane: usize, start: usize, width: usize) -> Fr {
        if width < 64 {
            let word = chunks[start / 64][lane] >> (start % 64);
            return self.sum(word & ((1u64 << width) - 1));
        }
        let first = start / 64;
        let mut total = Fr::zero();
        for c in 0..width / 64 {
            match chunks[first + c][lane] {
                0 => {}
                u64::MAX => total += self.words[c],
                word => {
                    for (g, table) in self.bytes[8 * c..8 * c + 8].iter().enumerate() {
                        total += table[((word >> (8 * g)) & 0xff) as usize];
                    }
                }
            }
        }
        total
    }

    /// `Σ_{i : bit i of mask set} w_i`; `mask` has no bit at or past `K`.
    #[inline]
    fn sum(&self, mask: u64) -> Fr {
        let mut total = self.bytes[0][(mask & 0xff) as usize];
        for (g, table) in self.bytes.iter().enumerate().skip(1) {
            total += table[((mask >> (8 * g)) & 0xff) as usize];
        }
        total
    }
}

/// Transposes a 64 × 64 bit matrix held as 64 words: bit `c` of `a[r]` moves to bit `r` of `a[c]`
/// (swapping off-diagonal blocks of halving size).
fn transpose64(a: &mut [u64; 64]) {
    let mut width = 32;
    let mut mask: u64 = 0x0000_0000_FFFF_FFFF;
    while width != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> width) ^ a[k + width]) & mask;
            a[k] ^= t << width;
            a[k + width] ^= t;
            k = (k + width + 1) & !width;
        }
        width >>= 1;
        mask ^= mask << width;
    }
}

/// `SPREAD[v]` holds bit `i` of `v` at bit `8i`: one byte of a row spread over the bytes of eight lanes.
const SPREAD: [u64; 256] = spread_table();

const fn spread_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut v = 0;
    while v < 256 {
        let mut i = 0;
        while i < 8 {
            table[v] |= ((v as u64 >> i) & 1) << (8 * i);
            i += 1;
        }
        v += 1;
    }
    table
}

/// The selecting bits of 64 consecutive entries: rows `h < H` are word `offsets[h] + word` of b, rows
/// `H + h` the same word of used (`H = offsets.len() ≤ 32`); lane `i`'s word holds row `r`'s bit `i`
/// at bit `r`. Up to 16 rows are spread a byte at a time, more are transposed.
#[inline]
fn gather_lanes(bits: &[u64], used: &PagedBits, offsets: &[usize], word: usize) -> [u64; 64] {
    let half = offsets.len();
    let mut rows = [0u64; 64];
    for (h, &offset) in offsets.iter().enumerate() {
        rows[h] = bits[offset + word];
        rows[half + h] = used.word(offset + word);
    }
    if half > 8 {
        transpose64(&mut rows);
        return rows;
    }
    let mut lanes = [0u64; 64];
    for (g, group) in lanes.chunks_exact_mut(8).enumerate() {
        for (plane, eight_rows) in rows[..2 * half].chunks(8).enumerate() {
            // Byte i of `packed`: these rows' bits of lane 8g + i.
            let packed = eight_rows
                .iter()
                .enumerate()
                .fold(0u64, |packed, (r, row)| packed | (SPREAD[((row >> (8 * g)) & 0xff) as usize] << r));
            for (i, lane) in group.iter_mut().enumerate() {
                *lane |= ((packed >> (8 * i)) & 0xff) << (8 * plane);
            }
        }
    }
    lanes
}

/// The selecting bits of 64 consecutive entries for any number of rows: rows `h < H` are word
/// `offsets[h] + word` of b, rows `H + h` the same word of used (`H = offsets.len()`); row `r`'s bit `i`
/// lands at bit `r mod 64` of `chunks[r / 64][i]`, so lane `i`'s selecting bits are
/// `chunks[0][i], chunks[1][i], …` from bit 0 (rows past `2H` are zero).
#[inline]
fn gather_wide(bits: &[u64], used: &PagedBits, offsets: &[usize], word: usize, chunks: &mut Vec<[u64; 64]>) {
    let half = offsets.len();
    chunks.clear();
    chunks.resize((2 * half).div_ceil(64), [0; 64]);
    for (h, &offset) in offsets.iter().enumerate() {
        chunks[h / 64][h % 64] = bits[offset + word];
        let r = half + h;
        chunks[r / 64][r % 64] = used.word(offset + word);
    }
    for chunk in chunks.iter_mut() {
        transpose64(chunk);
    }
}

/// `eq(ρ_tail, y) = hi[y_hi] · lo[y_lo]` with `y_lo` the low `log2 |lo|` bits of `y` (at least 6 where
/// `y` indexes entries, so that a block of `y_lo` is whole words).
struct EqSplit {
    hi: Vec<Fr>,
    lo: Vec<Fr>,
}

impl EqSplit {
    /// The split with at most `max_lo` and at least `min_lo` low variables, leaving a few blocks to
    /// share out when it can.
    fn new(tail: &[Fr], max_lo: usize, min_lo: usize) -> Self {
        let m = tail.len();
        let lo_vars = max_lo.min(m.saturating_sub(3)).max(min_lo).min(m);
        let (hi, lo) = tail.split_at(m - lo_vars);
        Self { hi: eq_table(hi), lo: eq_table(lo) }
    }
}

/// `total[i] += weight · block[i]` and `block[i] = 0` (a block's buckets, weighted by its `eq(ρ_hi, y_hi)`).
fn flush(total: &mut [Fr], block: &mut [Fr], weight: Fr) {
    for (t, b) in total.iter_mut().zip(block.iter_mut()) {
        if !b.is_zero() {
            *t += weight * *b;
            *b = Fr::zero();
        }
    }
}

/// The buckets of a pair round: `Σ eq` per key of `c_0`, of `c_1`, and of `c_2` where `d = 0`; and the
/// rest of `A_2`, weighted directly.
#[derive(Clone)]
struct PairBuckets {
    first: Vec<Fr>,
    second: Vec<Fr>,
    slope: Vec<Fr>,
    direct: Fr,
}

impl PairBuckets {
    fn new(keys: usize) -> Self {
        Self {
            first: vec![Fr::zero(); keys],
            second: vec![Fr::zero(); keys],
            slope: vec![Fr::zero(); keys],
            direct: Fr::zero(),
        }
    }

    fn flush_into(&mut self, total: &mut Self, weight: Fr) {
        flush(&mut total.first, &mut self.first, weight);
        flush(&mut total.second, &mut self.second, weight);
        flush(&mut total.slope, &mut self.slope, weight);
        total.direct += weight * self.direct;
        self.direct = Fr::zero();
    }

    fn merge(mut self, other: Self) -> Self {
        for (a, b) in
            [(&mut self.first, &other.first), (&mut self.second, &other.second), (&mut self.slope, &other.slope)]
        {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        self.direct += other.direct;
        self
    }
}

/// Round `j` on bits: `w = 2^(j−1)` bound patterns; the selecting word of a `y` holds, from bit 0,
/// the `w`-bit masks of b at `t = 0`, of b at `t = 1`, of used at `t = 0` and of used at `t = 1`.
struct BitRound<'a> {
    bits: &'a [u64],
    used: &'a PagedBits,
    /// Word offset of each `(t, p)`, index `t·w + p`: entry `p·2^(n−j+1) + t·2^(n−j)` over 64.
    offsets: Vec<usize>,
    width: usize,
    /// Subset sums of `eq(r_<j, ·)`.
    sums: SubsetSums,
}

impl<'a> BitRound<'a> {
    fn new(bits: &'a BitVector, used: &'a PagedBits, n: usize, j: usize, point: &[Fr]) -> Self {
        debug_assert_eq!(point.len(), j - 1);
        let (m, width) = (n - j, 1usize << (j - 1));
        let offsets = (0..2 * width).map(|h| (((h % width) << (m + 1)) | ((h / width) << m)) >> 6).collect();
        Self { bits: bits.words(), used, offsets, width, sums: SubsetSums::new(&eq_table(point)) }
    }

    /// The four masks `(b at t = 0, b at t = 1, used at t = 0, used at t = 1)` of a selecting word.
    #[inline]
    fn masks(&self, x: u64) -> [u64; 4] {
        let (w, mask) = (self.width, (1u64 << self.width) - 1);
        [x & mask, (x >> w) & mask, (x >> (2 * w)) & mask, (x >> (3 * w)) & mask]
    }

    /// `[b_0, b_1, u_0, u_1]` of a selecting word.
    #[inline]
    fn values(&self, x: u64) -> [Fr; 4] {
        self.masks(x).map(|m| self.sums.sum(m))
    }

    /// Calls `f(lanes, eq_lo)` for every word of block `block` (64 consecutive `y`: their selecting
    /// words and their `eq(ρ_lo, y_lo)`).
    #[inline]
    fn for_each_word(&self, eq: &EqSplit, block: usize, mut f: impl FnMut(&[u64; 64], &[Fr])) {
        let words = eq.lo.len() / 64;
        for (k, weights) in eq.lo.chunks_exact(64).enumerate() {
            f(&gather_lanes(self.bits, self.used, &self.offsets, block * words + k), weights);
        }
    }

    /// `[A_0, A_1, A_2]` by pattern buckets: `Σ_y eq(ρ_{>j}, y)` per selecting word, then
    /// `A_i = Σ_x bucket[x] · c_i(x)`.
    fn pattern_sums(&self, tail: &[Fr]) -> [Fr; 3] {
        let patterns = 1usize << (4 * self.width);
        let eq = EqSplit::new(tail, if patterns > 256 { 20 } else { 16 }, 6);
        let b_mask = (1u64 << (2 * self.width)) - 1;
        let init = || (vec![Fr::zero(); patterns], vec![Fr::zero(); patterns]);
        let buckets = (0..eq.hi.len())
            .into_par_iter()
            .fold(init, |(mut total, mut block_buckets), block| {
                self.for_each_word(&eq, block, |lanes, weights| {
                    for (&x, e) in lanes.iter().zip(weights) {
                        if x & b_mask != 0 {
                            block_buckets[x as usize] += e;
                        }
                    }
                });
                flush(&mut total, &mut block_buckets, eq.hi[block]);
                (total, block_buckets)
            })
            .map(|(total, _)| total)
            .reduce(
                || vec![Fr::zero(); patterns],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        let mut sums = [Fr::zero(); 3];
        for (x, bucket) in buckets.iter().enumerate() {
            if !bucket.is_zero() {
                let [b0, b1, u0, u1] = self.values(x as u64);
                let slope = b1 - b0;
                let coefficients = [b0 * (b0 - u0), b1 * (b1 - u1), slope * (slope - (u1 - u0))];
                for (s, c) in sums.iter_mut().zip(coefficients) {
                    *s += *bucket * c;
                }
            }
        }
        sums
    }

    /// `[A_0, A_1, A_2]` by pair buckets (`w ≤ 8`): `c_0` depends only on the pair (b mask, used mask)
    /// at `t = 0` and `c_1` on the pair at `t = 1`, so each takes a bucket per pair; `c_2 = s(s − d)`
    /// (`s = b_1 − b_0`, `d = u_1 − u_0`) is `s²`, a function of the two masks of b, where the used masks
    /// agree, and is weighted directly elsewhere.
    fn pair_sums(&self, tail: &[Fr]) -> [Fr; 3] {
        let w = self.width;
        let keys = 1usize << (2 * w);
        let eq = EqSplit::new(tail, 20, 6);
        let buckets = (0..eq.hi.len())
            .into_par_iter()
            .fold(
                || (PairBuckets::new(keys), PairBuckets::new(keys)),
                |(mut total, mut block_buckets), block| {
                    self.for_each_word(&eq, block, |lanes, weights| {
                        for (&x, e) in lanes.iter().zip(weights) {
                            let [mb0, mb1, mu0, mu1] = self.masks(x);
                            if mb0 | mb1 == 0 {
                                continue;
                            }
                            if mb0 != 0 {
                                block_buckets.first[(mb0 | (mu0 << w)) as usize] += e;
                            }
                            if mb1 != 0 {
                                block_buckets.second[(mb1 | (mu1 << w)) as usize] += e;
                            }
                            if mu0 == mu1 {
                                block_buckets.slope[(mb0 | (mb1 << w)) as usize] += e;
                            } else {
                                let [b0, b1, u0, u1] = self.values(x);
                                let slope = b1 - b0;
                                block_buckets.direct += (*e * slope) * (slope - (u1 - u0));
                            }
                        }
                    });
                    block_buckets.flush_into(&mut total, eq.hi[block]);
                    (total, block_buckets)
                },
            )
            .map(|(total, _)| total)
            .reduce(|| PairBuckets::new(keys), PairBuckets::merge);
        let mask = (1u64 << w) - 1;
        let value = |key: usize, shift: usize| self.sums.sum((key as u64 >> shift) & mask);
        let mut sums = [Fr::zero(), Fr::zero(), buckets.direct];
        for key in 0..keys {
            let (first, second, slope) = (buckets.first[key], buckets.second[key], buckets.slope[key]);
            if first.is_zero() && second.is_zero() && slope.is_zero() {
                continue;
            }
            let (low, high) = (value(key, 0), value(key, w));
            let pair = low * (low - high);
            sums[0] += first * pair;
            sums[1] += second * pair;
            sums[2] += slope * (high - low).square();
        }
        sums
    }

    /// `[A_0, A_1, A_2]` by subset-sum lookups per `y` on selecting bits gathered by [`gather_wide`]
    /// (`4w` of them, any `w`): with `e = eq(ρ_lo, y_lo)`, `e·c_0 = (e·b_0)(b_0 − u_0)`,
    /// `e·c_1 = (e·b_1)(b_1 − u_1)`, `e·c_2 = (e·b_1 − e·b_0)(s − d)`; a `y` with `b_0 = b_1 = 0`
    /// contributes nothing.
    fn lookup_sums(&self, tail: &[Fr]) -> [Fr; 3] {
        let eq = EqSplit::new(tail, 16, 6);
        let (w, words) = (self.width, eq.lo.len() / 64);
        (0..eq.hi.len())
            .into_par_iter()
            .map(|block| {
                let mut sums = [Fr::zero(); 3];
                let mut chunks = Vec::new();
                for (k, weights) in eq.lo.chunks_exact(64).enumerate() {
                    gather_wide(self.bits, self.used, &self.offsets, block * words + k, &mut chunks);
                    for (lane, e) in weights.iter().enumerate() {
                        let [b0, b1] = [0, w].map(|start| self.sums.sum_lane(&chunks, lane, start, w));
                        if b0.is_zero() && b1.is_zero() {
                            continue;
                        }
                        let [u0, u1] = [2 * w, 3 * w].map(|start| self.sums.sum_lane(&chunks, lane, start, w));
                        let (e0, e1) = (*e * b0, *e * b1);
                        sums[0] += e0 * (b0 - u0);
                        sums[1] += e1 * (b1 - u1);
                        sums[2] += (e1 - e0) * ((b1 - b0) - (u1 - u0));
                    }
                }
                sums.map(|s| s * eq.hi[block])
            })
            .reduce(|| [Fr::zero(); 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]])
    }
}

/// `[A_0, A_1, A_2]` of round 1, where `b_t = b(t, y)` and `u_t = used(t, y)` are bits:
/// `c_0 = b_0 ∧ ¬u_0`, `c_1 = b_1 ∧ ¬u_1` and `c_2 = s² − s·d = (b_0 ⊕ b_1) − s·d` with
/// `s = b_1 − b_0`, `d = u_1 − u_0` in `{−1, 0, 1}`, so each is a signed sum of masks over the 64 lanes of
/// a word. With `eq(ρ_{>1}, y) = eq(ρ_word, word) · eq(ρ_lane, lane)` (the last six variables index the
/// lane), a masked sum costs byte lookups into the subset sums of `eq(ρ_lane, ·)` and one
/// multiplication per word.
fn first_round_sums(bits: &BitVector, used: &PagedBits, tail: &[Fr]) -> [Fr; 3] {
    let (word_vars, lane_vars) = tail.split_at(tail.len() - 6);
    let lanes = SubsetSums::new(&eq_table(lane_vars));
    let eq = EqSplit::new(word_vars, 16, 0);
    // Words of each half of b (t = 0, t = 1).
    let half = 1usize << word_vars.len();
    let b = bits.words();
    (0..eq.hi.len())
        .into_par_iter()
        .map(|block| {
            let mut sums = [Fr::zero(); 3];
            for (k, e) in eq.lo.iter().enumerate() {
                let word = block * eq.lo.len() + k;
                let (b0, b1, u0, u1) = (b[word], b[half + word], used.word(word), used.word(half + word));
                let (first, second) = (b0 & !u0, b1 & !u1);
                if first != 0 {
                    sums[0] += *e * lanes.sum(first);
                }
                if second != 0 {
                    sums[1] += *e * lanes.sum(second);
                }
                let (up, down) = (b1 & !b0, b0 & !b1);
                if up | down != 0 {
                    let (rise, fall) = (u1 & !u0, u0 & !u1);
                    let (plus, minus) = ((up & rise) | (down & fall), (up & fall) | (down & rise));
                    let mut c2 = lanes.sum(up | down);
                    if plus | minus != 0 {
                        c2 = c2 - lanes.sum(plus) + lanes.sum(minus);
                    }
                    sums[2] += *e * c2;
                }
            }
            sums.map(|s| s * eq.hi[block])
        })
        .reduce(|| [Fr::zero(); 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]])
}

/// `[b(r, ·), used(r, ·)]`: the leading `k = r.len()` variables bound, `2^(n−k)` entries each, as subset
/// sums of `eq(r, ·)` over the `2^k` bits `b(p, z)` (entry `p·2^(n−k) + z`).
fn bind_leading_bits(bits: &BitVector, used: &PagedBits, n: usize, r: &[Fr]) -> Vec<Vec<Fr>> {
    let k = r.len();
    let (patterns, m) = (1usize << k, n - k);
    let sums = SubsetSums::new(&eq_table(r));
    let offsets: Vec<usize> = (0..patterns).map(|p| (p << m) >> 6).collect();
    let (mut b, mut u): (Vec<[Fr; 64]>, Vec<[Fr; 64]>) = (Vec::new(), Vec::new());
    (0..1usize << (m - 6))
        .into_par_iter()
        .with_min_len(16)
        .map_init(Vec::new, |chunks, word| {
            gather_wide(bits.words(), used, &offsets, word, chunks);
            let sum =
                |start: usize| -> [Fr; 64] { std::array::from_fn(|lane| sums.sum_lane(chunks, lane, start, patterns)) };
            (sum(0), sum(patterns))
        })
        .unzip_into_vecs(&mut b, &mut u);
    vec![b.into_flattened(), u.into_flattened()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;
    use zkdl_compiler::{compile, CompileOptions, NetworkSpec};

    fn field(v: &BitVector) -> Vec<Fr> {
        (0..v.len()).map(|i| Fr::from(u64::from(v.get(i)))).collect()
    }

    fn test_statement(rho: Vec<Fr>, used: &BitVector) -> SumcheckStatement {
        bit_statement("B test".into(), TensorId(0), PublicTensor::Dense(field(used)), rho)
    }

    /// The generic prover and the packed one (with `split`, or the default) give the same output from
    /// the same transcript, and leave it in the same state.
    fn assert_same_proof(
        statement: &SumcheckStatement,
        bits: &BitVector,
        used: &BitVector,
        split: Option<BitRounds>,
    ) -> SumcheckProverOutput {
        let (mut generic_transcript, mut packed_transcript) = (Transcript::new(b"x"), Transcript::new(b"x"));
        let generic = sumcheck::prove_with_public_tables(
            statement,
            vec![field(bits)],
            vec![None, Some(field(used))],
            &mut generic_transcript,
        );
        let paged = PagedBits::from_bit_vector(used);
        let packed = match split {
            Some(split) => {
                prove_bit_aware(
                    statement,
                    SumcheckProverState::new(statement),
                    bits,
                    &paged,
                    &mut packed_transcript,
                    split,
                )
                .0
            }
            None => prove_packed(statement, bits, &paged, &mut packed_transcript),
        };
        let context = format!("n = {}, split {split:?}", statement.num_vars);
        assert_eq!(packed.proof, generic.proof, "{context}");
        assert_eq!(packed.claimed_sum, generic.claimed_sum, "{context}");
        assert_eq!(packed.point, generic.point, "{context}");
        assert_eq!(packed.claims, generic.claims, "{context}");
        assert_eq!(
            generic_transcript.challenge_field(b"after"),
            packed_transcript.challenge_field(b"after"),
            "{context}"
        );
        packed
    }

    /// The bit patterns of one test: `(name, b, used)`, honest and not.
    fn cases(n: usize, rng: &mut ChaCha20Rng) -> Vec<(&'static str, BitVector, BitVector)> {
        let len = 1usize << n;
        let random = |rng: &mut ChaCha20Rng, density: f64| {
            let draws: Vec<bool> = (0..len).map(|_| rng.gen_bool(density)).collect();
            BitVector::from_fn(len, |i| draws[i])
        };
        let both = |a: &BitVector, b: &BitVector| BitVector::from_fn(len, |i| a.get(i) && b.get(i));
        // A used region of boxes: a prefix of each row of 2^(n/2) entries.
        let cols = rng.gen_range(0..=1usize << (n / 2));
        let boxes = BitVector::from_fn(len, |i| i % (1 << (n / 2)) < cols);
        let random_used = random(rng, 0.7);
        let sparse = random(rng, 0.05);
        let dense = random(rng, 0.5);
        vec![
            ("random b, random used", dense.clone(), random_used.clone()),
            ("honest b in random used", both(&dense, &random_used), random_used),
            ("honest b in boxes", both(&dense, &boxes), boxes.clone()),
            ("sparse b over boxes", sparse.clone(), boxes),
            ("sparse b, no used bit", sparse, BitVector::zeros(len)),
            ("all ones", BitVector::from_fn(len, |_| true), BitVector::from_fn(len, |_| true)),
            ("all zeros", BitVector::zeros(len), BitVector::zeros(len)),
            ("ones, nothing used", BitVector::from_fn(len, |_| true), BitVector::zeros(len)),
        ]
    }

    #[test]
    fn packed_prover_matches_the_generic_prover() {
        for n in [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14] {
            for seed in 0..3 {
                let mut rng = ChaCha20Rng::seed_from_u64(1000 * n as u64 + seed);
                let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
                for (name, bits, used) in cases(n, &mut rng) {
                    let statement = test_statement(rho.clone(), &used);
                    let output = assert_same_proof(&statement, &bits, &used, None);
                    let honest = (0..1 << n).all(|i| !bits.get(i) || used.get(i));
                    assert_eq!(output.claimed_sum.is_zero(), honest, "{name}, n = {n}");
                    let verified = sumcheck::verify(&statement, Fr::zero(), &output.proof, &mut Transcript::new(b"x"));
                    assert_eq!(verified.is_ok(), honest, "{name}, n = {n}");
                }
            }
        }
    }

    /// Every split of the bit rounds (lookups only, one to three bucket rounds, one to eight rounds on
    /// bits) gives the generic proof.
    #[test]
    fn every_split_of_the_bit_rounds_matches_the_generic_prover() {
        for n in [7, 9, 11, 12, 13, 14] {
            let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
            let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let cases = cases(n, &mut rng);
            for rounds in 1..=MAX_BIT_ROUNDS {
                for pattern_rounds in 0..=rounds.min(MAX_PATTERN_ROUNDS) {
                    for pair_rounds in [0, rounds.min(MAX_PAIR_ROUNDS)] {
                        let split = BitRounds { rounds, pattern_rounds, pair_rounds };
                        if !split.fits(n) {
                            continue;
                        }
                        for (_, bits, used) in &cases[..4] {
                            assert_same_proof(&test_statement(rho.clone(), used), bits, used, Some(split));
                        }
                    }
                }
            }
        }
    }

    /// Nine to twelve rounds on bits (b of more than 2^30 entries takes them) give the generic proof.
    #[test]
    fn many_bit_rounds_match_the_generic_prover() {
        let n = 18;
        let mut rng = ChaCha20Rng::seed_from_u64(18);
        let rho: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let cases = cases(n, &mut rng);
        for rounds in MIN_BIT_ROUNDS + 1..=MAX_BIT_ROUNDS {
            let split = BitRounds { rounds, ..BitRounds::for_vars(n) };
            assert!(split.fits(n));
            for (_, bits, used) in &cases[..4] {
                assert_same_proof(&test_statement(rho.clone(), used), bits, used, Some(split));
            }
        }
        assert_eq!(BitRounds::for_vars(30).rounds, 8, "the paper network at T = 1");
        assert_eq!(BitRounds::for_vars(33).rounds, 11, "the paper network at T = 64");
        assert_eq!(BitRounds::for_vars(40).rounds, 12);
        assert_eq!(BitRounds::for_vars(10).rounds, 4);
    }

    #[test]
    fn transpose_gather_and_subset_sums_agree_with_their_definitions() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let rows: [u64; 64] = std::array::from_fn(|_| rng.gen());
        let mut transposed = rows;
        transpose64(&mut transposed);
        for (r, row) in rows.iter().enumerate() {
            for (c, column) in transposed.iter().enumerate() {
                assert_eq!((row >> c) & 1, (column >> r) & 1, "row {r}, column {c}");
            }
        }
        let (bits, used): (Vec<u64>, Vec<u64>) = (0..100).map(|_| (rng.gen::<u64>(), rng.gen::<u64>())).unzip();
        let paged = PagedBits::from_bit_vector(&BitVector::from_words(used.clone(), 6400));
        for half in [1, 2, 4, 8, 16, 32] {
            let offsets: Vec<usize> = (0..half).map(|h| 3 * h).collect();
            let lanes = gather_lanes(&bits, &paged, &offsets, 2);
            for (i, lane) in lanes.iter().enumerate() {
                for (h, offset) in offsets.iter().enumerate() {
                    assert_eq!((lane >> h) & 1, (bits[offset + 2] >> i) & 1, "{half} rows of b, lane {i}");
                    assert_eq!((lane >> (half + h)) & 1, (used[offset + 2] >> i) & 1, "{half} rows of used, lane {i}");
                }
                assert!(2 * half == 64 || lane >> (2 * half) == 0, "{half} rows: bits past the rows in lane {i}");
            }
        }
        // Wide gathers: any number of rows, lane i's row r at bit r % 64 of chunk r / 64, zero past them.
        let mut chunks = Vec::new();
        for half in [1, 5, 32, 33, 64, 128, 512] {
            let offsets: Vec<usize> = (0..half).map(|h| h % 97).collect();
            gather_wide(&bits, &paged, &offsets, 1, &mut chunks);
            assert_eq!(chunks.len(), (2 * half).div_ceil(64), "{half} rows");
            for lane in 0..64 {
                for row in 0..64 * chunks.len() {
                    let expected = match row {
                        r if r < half => (bits[offsets[r] + 1] >> lane) & 1,
                        r if r < 2 * half => (used[offsets[r - half] + 1] >> lane) & 1,
                        _ => 0,
                    };
                    assert_eq!((chunks[row / 64][lane] >> (row % 64)) & 1, expected, "{half} rows, row {row}");
                }
            }
        }
        // Lane sums over masks of every width, with words of zeros and ones among them.
        for width in [1usize, 2, 4, 8, 16, 32, 64, 128, 256] {
            let weights: Vec<Fr> = (0..width).map(|_| Fr::rand(&mut rng)).collect();
            let sums = SubsetSums::new(&weights);
            let words = (4 * width).div_ceil(64);
            let chunks: Vec<[u64; 64]> =
                (0..words).map(|_| std::array::from_fn(|lane| [0, u64::MAX, rng.gen(), rng.gen()][lane % 4])).collect();
            for lane in 0..64 {
                for role in 0..4 {
                    let start = role * width;
                    let direct: Fr = (0..width)
                        .filter(|i| (chunks[(start + i) / 64][lane] >> ((start + i) % 64)) & 1 == 1)
                        .map(|i| weights[i])
                        .sum();
                    assert_eq!(sums.sum_lane(&chunks, lane, start, width), direct, "width {width}, lane {lane}");
                }
            }
        }
        for count in [1, 2, 4, 8, 16, 32] {
            let weights: Vec<Fr> = (0..count).map(|_| Fr::rand(&mut rng)).collect();
            let sums = SubsetSums::new(&weights);
            for _ in 0..20 {
                let mask = rng.gen::<u64>() & (u64::MAX >> (64 - count));
                let direct: Fr =
                    weights.iter().enumerate().filter(|(i, _)| (mask >> i) & 1 == 1).map(|(_, w)| *w).sum();
                assert_eq!(sums.sum(mask), direct, "{count} weights, mask {mask:#x}");
            }
        }
    }

    #[test]
    fn used_bits_equal_the_used_table() {
        let small = NetworkSpec::builder("small")
            .input(64)
            .dense(16)
            .relu()
            .dense(8)
            .relu()
            .dense(10)
            .sgd(3)
            .batch(8)
            .build()
            .unwrap();
        let wide = NetworkSpec::builder("wide").input(100).dense(70).relu().dense(3).sgd(2).batch(4).build().unwrap();
        for (spec, steps) in [(&small, 1), (&small, 3), (&wide, 2)] {
            let plan = compile(spec, CompileOptions::steps(steps)).unwrap();
            let table = bit_tensor_used_table(&plan);
            // One group, and groups of one page (boxes clipped at every page boundary).
            for bits in [used_bits(&plan), used_bits_in_groups(&plan, 1)] {
                assert_eq!(bits.len(), table.len());
                assert!(bits.count_ones() > 0);
                for (i, t) in table.iter().enumerate() {
                    assert_eq!(Fr::from(u64::from(bits.get(i))), *t, "{} T = {steps}: entry {i}", spec.name);
                }
            }
        }
    }

    /// Timing at scale (release build): `ZKDL_BINARY_N` variables (default 26) on random honest bits with
    /// each number of bit rounds in `ZKDL_BINARY_ROUNDS` (default 8; `5,8` compares, same proof), then the generic and the packed prover at `ZKDL_BINARY_COMPARE_N` (default 24, 0 to skip), and
    /// `used_bits` of the paper network. Run with
    /// `cargo test --release -p zkdl-runtime --lib binary_packed_scale -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn binary_packed_scale() {
        let var = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let n = var("ZKDL_BINARY_N", 26);
        let compare_n = var("ZKDL_BINARY_COMPARE_N", 24);
        let rounds_list: Vec<usize> = std::env::var("ZKDL_BINARY_ROUNDS")
            .unwrap_or_else(|_| format!("{MAX_BIT_ROUNDS}"))
            .split(',')
            .map(|r| r.trim().parse().expect("ZKDL_BINARY_ROUNDS: bit-round counts, comma-separated"))
            .collect();
        let threads = rayon::current_num_threads();

        let paper = NetworkSpec::builder("paper").input(3072);
        let paper = (0..8).fold(paper, |s, _| s.dense(1024).relu()).dense(10).sgd(7).batch(64).build().unwrap();
        let plan = compile(&paper, CompileOptions::steps(1)).unwrap();
        let started = Instant::now();
        let used = used_bits(&plan);
        println!(
            "used_bits(paper network, T = 1): n = {}, {} used of {}, {:.3} s",
            plan.bit_tensor_vars,
            used.count_ones(),
            used.len(),
            started.elapsed().as_secs_f64()
        );
        drop(used);

        let random_honest = |n: usize, seed: u64| {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            // Used: the first 1000 of every 1024 entries, as in rows of 1000 columns.
            let used = BitVector::from_fn(1 << n, |i| i % 1024 < 1000);
            let words = used.words().iter().map(|u| rng.gen::<u64>() & u).collect();
            (BitVector::from_words(words, 1 << n), used)
        };
        let random_rho = |n: usize| {
            let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
            (0..n).map(|_| Fr::rand(&mut rng)).collect::<Vec<Fr>>()
        };
        let dummy_used = PublicTensor::Prefix { num_vars: n, count: 0 };

        let (bits, used) = random_honest(n, 1);
        let statement = bit_statement("B scale".into(), TensorId(0), dummy_used, random_rho(n));
        let mut proofs = Vec::new();
        for rounds in rounds_list.iter().map(|&r| r.min(n - 6)) {
            let split = BitRounds { rounds, ..BitRounds::for_vars(n) };
            let started = Instant::now();
            let (output, seconds) = prove_bit_aware(
                &statement,
                SumcheckProverState::new(&statement),
                &bits,
                &PagedBits::from_bit_vector(&used),
                &mut Transcript::new(b"x"),
                split,
            );
            let total = started.elapsed().as_secs_f64();
            assert!(output.claimed_sum.is_zero());
            let k = split.rounds;
            let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
            let packed_bytes = 2 * (1usize << n) / 8;
            let table_bytes = table_bytes_after(n, k) as usize;
            println!(
                "packed prover, n = {n}, {threads} threads, {k} bit rounds ({} by pattern buckets, up to {} by \
                 pair buckets): bit rounds {:.2} s ({}), tables {:.2} s, remaining rounds {:.2} s, total \
                 {total:.2} s",
                split.pattern_rounds,
                split.pair_rounds,
                seconds.bit_rounds.iter().sum::<f64>(),
                seconds.bit_rounds.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(" + "),
                seconds.materialize,
                seconds.remaining_rounds
            );
            println!(
                "  memory: b and used packed {:.0} MiB, then b_(k+1), used_(k+1) and eq {:.0} MiB",
                mib(packed_bytes),
                mib(table_bytes)
            );
            proofs.push(output.proof);
        }
        assert!(proofs.windows(2).all(|p| p[0] == p[1]), "every split gives the same proof");
        drop(proofs);
        drop((bits, used));

        if compare_n > 0 {
            let n = compare_n;
            let (bits, used) = random_honest(n, 2);
            let statement = bit_statement(
                "B scale".into(),
                TensorId(0),
                PublicTensor::Prefix { num_vars: n, count: 0 },
                random_rho(n),
            );
            let started = Instant::now();
            let tables = (field(&bits), field(&used));
            let convert = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let generic = sumcheck::prove_with_public_tables(
                &statement,
                vec![tables.0],
                vec![None, Some(tables.1)],
                &mut Transcript::new(b"x"),
            );
            let generic_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let packed =
                prove_packed(&statement, &bits, &PagedBits::from_bit_vector(&used), &mut Transcript::new(b"x"));
            let packed_seconds = started.elapsed().as_secs_f64();
            assert_eq!(packed.proof, generic.proof);
            println!(
                "n = {n}: generic prover {generic_seconds:.2} s (plus {convert:.2} s building its field tables), \
                 packed prover {packed_seconds:.2} s: {:.1}× faster, same proof",
                generic_seconds / packed_seconds
            );
        }
    }
}
