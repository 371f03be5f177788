//! The cost model of a distributed proof (`zkdl inspect --ranks N`): the prover time of `N` ranks,
//! each a machine like the one a single-process run was measured on, joined by a network of a stated
//! bandwidth and per-operation latency.
//!
//! ```text
//!     time(N) = replicated + split / N + received(N) / bandwidth + collectives · latency · ⌈log2 N⌉
//! ```
//!
//! - `split`: the prover's phases (statement commitments, commit b, every relation, the openings),
//!   which the ranks divide (`zkdl_runtime::crypto::ranks`); `replicated`: training, the witness
//!   tables and the commitment key, which every rank does whole. Both come from a measured
//!   `zkdl prove --json` (scaled linearly from its T to the plan's: time per step is flat in T; the
//!   commitment key, which depends on the widths only, unscaled) or,
//!   without one, from the plan's own estimate (`Cost::prover_seconds`, all of it split).
//! - `received(N)`: the bytes a rank receives, from the plan's commitment shapes. Per committed
//!   tensor of `2^r` rows and `2^c` columns: the commitment's partial row points, `(N − 1) · 2^r · 64`
//!   (uncompressed points); its opening's row combination, `(N − 1) · 2^c · 32`, and the inner-product
//!   argument's folded generators, `(N − 1)/N · 2^c · 64`. b's opening all-gathers one column window
//!   per split term of its claims, `(N − 1)/N · terms · 2^c · 32`, with `terms` from the measured run
//!   (`b_opening_terms` of `zkdl prove --json`, at its T: on digits the terms fall as T grows, 106 at
//!   T = 4, 66 at 16, 38 at 64, so a run at a smaller T overestimates) or, without one, the number of
//!   claims on b (a lower estimate: a claim splits into one term or more). A sumcheck round is an all-reduce of a few field elements: latency, not bandwidth.
//! - `collectives`: one per sumcheck round, and per committed tensor one for the commitment, one per
//!   variable for its merge, one for the row combination and two per column variable for the
//!   inner-product rounds; each costs `⌈log2 N⌉` latencies (a tree).

use serde::Serialize;
use zkdl_compiler::plan::ValueKind;
use zkdl_compiler::Cost;

/// The network the ranks share.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Network {
    /// Bytes per second a rank receives.
    pub bandwidth_bytes: f64,
    /// Seconds per step of a collective operation.
    pub latency_seconds: f64,
}

/// The single-process times the model divides: seconds at the plan's T.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SingleRank {
    /// Work every rank does whole (training, witness tables, commitment key).
    pub replicated_seconds: f64,
    /// Work the ranks divide (the prover's phases).
    pub split_seconds: f64,
    /// The terms b's claims split into (`b_opening_terms` of a measured run), if known.
    pub b_opening_terms: Option<u64>,
}

/// The model's estimate for one number of ranks.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RanksEstimate {
    pub ranks: u64,
    pub replicated_seconds: f64,
    pub split_seconds: f64,
    pub bytes_received_per_rank: f64,
    pub collectives: u64,
    pub communication_seconds: f64,
    pub total_seconds: f64,
    /// `time(1) / time(N)`.
    pub speedup: f64,
}

/// Bytes of an uncompressed G1 point and of a field element on the wire.
const POINT_BYTES: f64 = 64.0;
const FIELD_BYTES: f64 = 32.0;

/// `(bytes received per rank, collective operations)` of a proof of `cost` on `ranks` ranks, b's
/// claims splitting into `b_terms` terms (unknown: as many as there are claims).
pub fn communication(cost: &Cost, ranks: u64, b_terms: Option<u64>) -> (f64, u64) {
    if ranks <= 1 {
        return (0.0, 0);
    }
    let n = ranks as f64;
    let mut bytes = 0.0;
    let mut collectives = cost.sumcheck_rounds;
    for c in &cost.commitments {
        let (rows, cols) = ((c.row_vars as f64).exp2(), (c.col_vars as f64).exp2());
        bytes += (n - 1.0) * rows * POINT_BYTES;
        collectives += 1;
        if c.claims == 0 {
            continue;
        }
        let combination = match c.values {
            ValueKind::Bits => (n - 1.0) / n * b_terms.unwrap_or(c.claims) as f64 * cols * FIELD_BYTES,
            _ => (n - 1.0) * cols * FIELD_BYTES,
        };
        bytes += combination + (n - 1.0) / n * cols * POINT_BYTES;
        collectives += u64::from(c.row_vars + c.col_vars) + 1 + 2 * u64::from(c.col_vars);
    }
    (bytes, collectives)
}

/// The model's estimates for each number of ranks in `ranks`.
pub fn estimate(cost: &Cost, single: SingleRank, network: Network, ranks: &[u64]) -> Vec<RanksEstimate> {
    let time = |n: u64| {
        let (bytes, collectives) = communication(cost, n, single.b_opening_terms);
        let steps = (n as f64).log2().ceil();
        let communication = bytes / network.bandwidth_bytes + collectives as f64 * network.latency_seconds * steps;
        let split = single.split_seconds / n as f64;
        (split, bytes, collectives, communication, single.replicated_seconds + split + communication)
    };
    let one = time(1).4;
    ranks
        .iter()
        .map(|&n| {
            let (split, bytes, collectives, communication, total) = time(n);
            RanksEstimate {
                ranks: n,
                replicated_seconds: single.replicated_seconds,
                split_seconds: split,
                bytes_received_per_rank: bytes,
                collectives,
                communication_seconds: communication,
                total_seconds: total,
                speedup: one / total,
            }
        })
        .collect()
}

/// The phases of a run every rank repeats whole.
pub const REPLICATED_PHASES: [&str; 3] = ["training", "witness tables", "commitment key"];

/// The phase that does not grow with T (the generators depend on the widths): not scaled.
const UNSCALED_PHASE: &str = "commitment key";

/// The single-rank times of a measured `zkdl prove --json` document, scaled from its T to `steps`
/// (all but the commitment key).
///
/// # Errors
/// A document without `steps` or `phases`.
pub fn single_rank_from_run(doc: &serde_json::Value, steps: u32) -> Result<(SingleRank, u64), String> {
    let measured = doc.get("steps").and_then(serde_json::Value::as_u64).filter(|&t| t > 0).ok_or("no \"steps\"")?;
    let phases = doc.get("phases").and_then(serde_json::Value::as_array).ok_or("no \"phases\"")?;
    let scale = f64::from(steps) / measured as f64;
    let b_opening_terms = doc.get("b_opening_terms").and_then(serde_json::Value::as_u64);
    let mut single = SingleRank { replicated_seconds: 0.0, split_seconds: 0.0, b_opening_terms };
    for (i, p) in phases.iter().enumerate() {
        let name = p.get("phase").and_then(serde_json::Value::as_str).ok_or(format!("phase {i} has no name"))?;
        let seconds =
            p.get("seconds").and_then(serde_json::Value::as_f64).ok_or(format!("phase {name}: no seconds"))?;
        if name == UNSCALED_PHASE {
            single.replicated_seconds += seconds;
        } else if REPLICATED_PHASES.contains(&name) {
            single.replicated_seconds += seconds * scale;
        } else {
            single.split_seconds += seconds * scale;
        }
    }
    Ok((single, measured))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkdl_compiler::{compile, CompileOptions, NetworkSpec};

    fn paper_cost(steps: u32) -> Cost {
        let spec = NetworkSpec::builder("p").input(64).dense(32).relu().dense(10).sgd(3).batch(8).build().unwrap();
        compile(&spec, CompileOptions::steps(steps)).unwrap().cost()
    }

    /// One rank communicates nothing; more ranks receive more bytes and take at least as many
    /// collective operations; with a free network the split work divides exactly.
    #[test]
    fn communication_grows_with_ranks_and_the_split_work_divides() {
        let cost = paper_cost(4);
        assert_eq!(communication(&cost, 1, None), (0.0, 0));
        let (b2, c2) = communication(&cost, 2, None);
        let (b8, c8) = communication(&cost, 8, None);
        assert!(b2 > 0.0 && b8 > b2 && c2 > cost.sumcheck_rounds && c8 == c2);
        let claims = cost.commitments.last().map(|c| c.claims).unwrap();
        assert_eq!(communication(&cost, 2, Some(claims)).0, b2, "terms default to the claims on b");
        assert!(communication(&cost, 2, Some(claims + 10)).0 > b2, "more terms, more bytes");
        let single = SingleRank { replicated_seconds: 3.0, split_seconds: 80.0, b_opening_terms: None };
        let free = Network { bandwidth_bytes: f64::INFINITY, latency_seconds: 0.0 };
        let e = estimate(&cost, single, free, &[1, 2, 8]);
        assert_eq!(e.iter().map(|e| e.total_seconds).collect::<Vec<_>>(), vec![83.0, 43.0, 13.0]);
        assert_eq!(e[0].speedup, 1.0);
        let slow = Network { bandwidth_bytes: 1e3, latency_seconds: 1e-3 };
        let e = estimate(&cost, single, slow, &[2]);
        assert!(e[0].communication_seconds > 1.0 && e[0].total_seconds > 43.0, "{e:?}");
    }

    /// Measured phases split into replicated and split work, scaled to the plan's T.
    #[test]
    fn measured_phases_are_classified_and_scaled() {
        let doc = serde_json::json!({
            "steps": 4,
            "b_opening_terms": 23,
            "phases": [
                {"phase": "training", "seconds": 1.0},
                {"phase": "witness tables", "seconds": 2.0},
                {"phase": "commitment key", "seconds": 0.5},
                {"phase": "commit b", "seconds": 3.0},
                {"phase": "openings", "seconds": 5.0},
            ]
        });
        let (single, measured) = single_rank_from_run(&doc, 8).unwrap();
        assert_eq!(measured, 4);
        assert_eq!((single.replicated_seconds, single.split_seconds), (6.5, 16.0));
        assert_eq!(single.b_opening_terms, Some(23));
        assert!(single_rank_from_run(&serde_json::json!({"steps": 4}), 8).is_err());
        assert!(single_rank_from_run(&serde_json::json!({"phases": []}), 8).is_err());
    }
}
