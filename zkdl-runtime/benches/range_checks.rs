//! The same `2^24` bits of range checked two ways, in one process (`docs/range-checks.md`):
//!
//! - **bits** (what proofs do): `2^24` bits committed with byte tables (`2^12` columns), then the
//!   binary relation `Σ_x eq(ρ, x)·(b(x)² − b(x)·used(x)) = 0` proven by the bit-aware prover;
//! - **limbs** (logUp): `2^20` 16-bit limbs committed by signed digits (`2^10` columns), their
//!   multiplicities in `[0, 2^16)` committed, and the fraction sum proven by logUp-GKR
//!   ([`zkdl_runtime::crypto::logup`]).
//!
//! Both commit with fresh blinds; both arguments are proven in the clear (zero-knowledge adds the same
//! kind of cost to both). Rounds alternate; the summary gives each phase's median and the ratio of the
//! totals. `cargo bench -p zkdl-runtime --bench range_checks [-- ROUNDS]` (5 rounds by default).

use ark_ff::One;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Instant;
use zkdl_runtime::crypto::bits::{BitVector, PagedBits};
use zkdl_runtime::crypto::commitment::CommitmentKey;
use zkdl_runtime::crypto::logup::{self, SmallLeaves};
use zkdl_runtime::crypto::sumcheck::{Factor, ProductTerm, PublicTensor, SumcheckStatement};
use zkdl_runtime::proof::binary::prove_packed;
use zkdl_runtime::{Fr, TensorId, Transcript};

const BITS: usize = 24;
const LIMB_BITS: usize = 16;

fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args().filter_map(|a| a.parse().ok()).next().unwrap_or(5);
    let key = CommitmentKey::new(12);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    // Half the bits set, as in remainders; the limbs uniform in [0, 2^16).
    let bits = BitVector::from_fn(1 << BITS, |i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) & 1 == 1);
    let used = PagedBits::from_bit_vector(&BitVector::from_fn(1 << BITS, |_| true));
    let limbs: Vec<u32> = (0..1usize << (BITS - 4)).map(|_| rng.gen_range(0..1u32 << LIMB_BITS)).collect();
    let limb_values: Vec<i32> = limbs.iter().map(|&v| v as i32).collect();
    let multiplicities = logup::multiplicities(&limbs, LIMB_BITS);
    let leaves = SmallLeaves(limbs);
    let rho: Vec<Fr> = (0..BITS).map(|_| Fr::from(rng.gen::<u64>())).collect();
    let alpha = Fr::from(rng.gen::<u64>()) + Fr::from(1u64 << 63);
    let statement = SumcheckStatement {
        relation: "B".into(),
        num_vars: BITS,
        eq_weight: Some(rho),
        factors: vec![
            Factor::Committed(TensorId(0)),
            Factor::Public(PublicTensor::Prefix { num_vars: BITS, count: 1 << BITS }),
        ],
        terms: vec![ProductTerm::new(Fr::one(), [0, 0]), ProductTerm::new(-Fr::one(), [0, 1])],
    };

    let mut phases: [Vec<f64>; 5] = Default::default();
    for round in 0..rounds {
        let t = [
            seconds(|| drop(key.commit(&bits, 12, &mut rng))),
            seconds(|| drop(prove_packed(&statement, &bits, &used, &mut Transcript::new(b"bench")))),
            seconds(|| drop(key.commit(&limb_values[..], 10, &mut rng))),
            seconds(|| drop(key.commit(&multiplicities[..], 8, &mut rng))),
            seconds(|| {
                let mut transcript = Transcript::new(b"bench");
                drop(logup::prove(&leaves, &multiplicities, alpha, &mut transcript, None, 30, 22))
            }),
        ];
        println!(
            "round {round}: bits: commit {:.3} s + binary {:.3} s | limbs: commit {:.3} s + multiplicities {:.3} s \
             + logUp-GKR {:.3} s",
            t[0], t[1], t[2], t[3], t[4]
        );
        for (phase, value) in phases.iter_mut().zip(t) {
            phase.push(value);
        }
    }
    let totals = |from: usize, to: usize| {
        (0..rounds).map(|r| phases[from..to].iter().map(|p| p[r]).sum::<f64>()).collect::<Vec<_>>()
    };
    let (bits_total, limbs_total) = (median(totals(0, 2)), median(totals(2, 5)));
    let m: Vec<f64> = phases.iter().map(|p| median(p.clone())).collect();
    println!(
        "median of {rounds}: 2^{BITS} bits: commit {:.3} s + binary relation {:.3} s = {bits_total:.3} s; \
         2^{} {LIMB_BITS}-bit limbs: commit {:.3} s + multiplicities {:.3} s + logUp-GKR {:.3} s = {limbs_total:.3} s; \
         limbs / bits = {:.2}",
        m[0],
        m[1],
        BITS - 4,
        m[2],
        m[3],
        m[4],
        limbs_total / bits_total
    );
}
