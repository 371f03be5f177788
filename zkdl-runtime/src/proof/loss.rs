//! L1, the gradient of the MSE loss `½‖Ŷ − Y‖²` summed over the batch (`PROTOCOL.md` §2, §4):
//!
//! ```text
//!     G^L = Z'^L − Y_t,
//! ```
//!
//! linear, checked at the merged claim `G^L(ρ) = y`: the prover sends `Z'^L(ρ)` and `Y(ρ)`, the verifier
//! checks `y = Z'^L(ρ) − Y(ρ)`, and both become claims (Y's on the committed or public data).

use zkdl_compiler::plan::AggregatedRelation;

use super::rescale::{prove_two_term, verify_two_term};
use super::{Prover, Verifier};
use crate::error::VerificationError;
use crate::Fr;

/// The prover's half.
pub fn prove(p: &mut Prover, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    prove_two_term(p, relation, coefficients())
}

/// `G^L = 1 · Z'^L − 1 · Y`.
fn coefficients() -> [Fr; 2] {
    [Fr::from(1u64), -Fr::from(1u64)]
}

/// The verifier's half.
pub fn verify(v: &mut Verifier, relation: &AggregatedRelation) -> Result<(), VerificationError> {
    verify_two_term(v, relation, coefficients(), "1")
}
