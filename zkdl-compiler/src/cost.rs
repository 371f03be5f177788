//! The cost model: what a plan costs before any training runs.
//!
//! - **Committed values** per kind: bits (used and padded in b) and signed integers by width.
//! - **Sumchecks**: one per relation sumcheck, plus one merge per committed tensor with several claims;
//!   rounds are variables, each round sends `degree` field elements (compressed, s(1) omitted). b's
//!   claims are reduced by a sumcheck over its column variables only, after one row combination of b
//!   per claim (bit-selected additions), and its values at the column point are sent.
//! - **Proof size**: 32 bytes per field element, 48 per compressed G1 point. Round polynomials, the final
//!   evaluations of every produced claim, the prover's value at every fresh point, the merges, one opening
//!   per committed tensor (Bulletproofs IPA: 2·n_c points and 4 scalars), and the row commitments of b
//!   (the other commitments are the statement's, counted apart).
//! - **Prover work**: commitment cost from the per-value costs of the cryptographic core (bits by subset
//!   sums, signed integers per significant byte) and sumcheck cost per table entry and degree, plus the
//!   partial evaluations (binding) of every operand table. Seconds are an estimate for the reference
//!   2-core machine, calibrated with `cargo bench -p zkdl-runtime --bench core` (commit bits 2^20: 93 ms,
//!   signed 16-bit 2^20: 463 ms, degree-2 sumcheck 2^20: 124 ms); the benchmark of the proof measures.

use crate::plan::{ClaimFlow, Plan, Storage, ValueKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FIELD_BYTES: u64 = 32;
const POINT_BYTES: u64 = 48;
/// Measured: committing 2^20 random bits takes 93 ms on the reference machine.
const NS_PER_COMMITTED_BIT: f64 = 89.0;
/// Measured: committing 2^20 signed 16-bit values takes 463 ms: about 220 ns per significant byte.
const NS_PER_COMMITTED_BYTE: f64 = 220.0;
/// Measured: a degree-2 sumcheck over 2^20 entries takes 124 ms: about 40 ns per entry and evaluation.
const NS_PER_SUMCHECK_ENTRY_EVAL: f64 = 40.0;
/// One field addition selected by a bit of b, per entry of b (about half the bits are set).
const NS_PER_BIT_ADDITION: f64 = 2.0;
/// Binding one variable of a table or summing an eq-weighted table: about one multiplication per entry.
const NS_PER_BOUND_ENTRY: f64 = 15.0;

/// The cost of one committed tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommitmentCost {
    pub tensor: String,
    pub values: ValueKind,
    pub used_entries: u64,
    pub padded_entries: u64,
    pub row_vars: u32,
    pub col_vars: u32,
    pub public_commitment: bool,
    /// Claims merged into its single opening.
    pub claims: u64,
}

/// The whole cost model of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub commitments: Vec<CommitmentCost>,
    pub bits_used: u64,
    pub bits_padded: u64,
    /// Signed values committed, by bit width.
    pub signed_values: BTreeMap<u32, u64>,
    pub sumchecks: u64,
    pub sumcheck_rounds: u64,
    pub proof_bytes: u64,
    pub statement_commitment_bytes: u64,
    pub commitment_seconds: f64,
    pub sumcheck_seconds: f64,
}

impl Cost {
    pub fn prover_seconds(&self) -> f64 {
        self.commitment_seconds + self.sumcheck_seconds
    }
}

/// Evaluates the cost model of a plan.
pub fn cost(plan: &Plan) -> Cost {
    let mut commitments = Vec::new();
    let mut signed_values = BTreeMap::new();
    let (mut bits_used, mut bits_padded) = (0, 0);
    let (mut sumchecks, mut rounds, mut proof_bytes, mut statement_bytes) = (0u64, 0u64, 0u64, 0u64);
    let (mut commit_ns, mut sumcheck_ns) = (0f64, 0f64);

    for t in plan.committed() {
        let Storage::Committed { values, public_commitment, row_vars, col_vars } = t.storage else { continue };
        let claims = plan.claims_landing_on(t.id);
        match values {
            ValueKind::Bits => {
                bits_used += t.used_entries;
                bits_padded += t.padded_entries();
                commit_ns += t.used_entries as f64 * NS_PER_COMMITTED_BIT;
            }
            ValueKind::Signed(width) => {
                *signed_values.entry(width).or_insert(0) += t.used_entries;
                commit_ns += t.used_entries as f64 * width.div_ceil(8) as f64 * NS_PER_COMMITTED_BYTE;
            }
        }
        let commitment_bytes = (1u64 << row_vars) * POINT_BYTES;
        if public_commitment {
            statement_bytes += commitment_bytes;
        } else {
            proof_bytes += commitment_bytes;
        }
        if values == ValueKind::Bits {
            // b's claims: a sumcheck over its column variables, one row combination of b per claim
            // (additions selected by bits), the combined values sent, one row-combination opening.
            sumchecks += 1;
            rounds += col_vars as u64;
            proof_bytes += (col_vars as u64 * 2 + claims) * FIELD_BYTES;
            sumcheck_ns += t.padded_entries() as f64 * (claims as f64 + 1.0) * NS_PER_BIT_ADDITION;
        } else if claims > 1 {
            sumchecks += 1;
            rounds += t.layout.num_vars() as u64;
            proof_bytes += (t.layout.num_vars() as u64 * 2 + 1) * FIELD_BYTES;
            sumcheck_ns +=
                t.padded_entries() as f64 * (3.0 * NS_PER_SUMCHECK_ENTRY_EVAL + claims as f64 * NS_PER_BOUND_ENTRY);
        }
        // Opening: the row combination, then the IPA over 2^col_vars.
        proof_bytes += 2 * col_vars as u64 * POINT_BYTES + POINT_BYTES + 4 * FIELD_BYTES;
        if values != ValueKind::Bits {
            sumcheck_ns += t.padded_entries() as f64 * NS_PER_BOUND_ENTRY;
        }
        commitments.push(CommitmentCost {
            tensor: t.name(),
            values,
            used_entries: t.used_entries,
            padded_entries: t.padded_entries(),
            row_vars,
            col_vars,
            public_commitment,
            claims,
        });
    }

    for r in &plan.relations {
        for s in &r.sumchecks {
            sumchecks += 1;
            rounds += s.rounds as u64;
            proof_bytes += s.rounds as u64 * s.degree as u64 * FIELD_BYTES;
            sumcheck_ns += (1u64 << s.rounds) as f64 * (s.degree + 1) as f64 * NS_PER_SUMCHECK_ENTRY_EVAL;
        }
        for op in &r.operands {
            let t = &plan.tensors[op.tensor.0 as usize];
            match op.flow {
                ClaimFlow::Produces => {
                    proof_bytes += FIELD_BYTES * r.sumchecks.len().max(1) as u64;
                    // The operand table is bound to the claimed point's row/column part.
                    sumcheck_ns += t.padded_entries() as f64 * NS_PER_BOUND_ENTRY;
                }
                ClaimFlow::Claims { fresh: true } => proof_bytes += FIELD_BYTES,
                ClaimFlow::Claims { fresh: false } => {}
            }
        }
    }

    Cost {
        commitments,
        bits_used,
        bits_padded,
        signed_values,
        sumchecks,
        sumcheck_rounds: rounds,
        proof_bytes,
        statement_commitment_bytes: statement_bytes,
        commitment_seconds: commit_ns * 1e-9,
        sumcheck_seconds: sumcheck_ns * 1e-9,
    }
}
