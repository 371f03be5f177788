//! Typed errors of verification: each names the relation (or object) that failed and why.

use thiserror::Error;

/// Why a proof, or a part of one, was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerificationError {
    /// A proof object has the wrong number of elements for the statement it claims to prove.
    #[error("{relation}: malformed proof: {what}")]
    Malformed {
        /// The relation or object whose proof is malformed.
        relation: String,
        /// What is wrong with it.
        what: String,
    },
    /// The final evaluations of a sumcheck do not reproduce its last running claim.
    #[error("{relation}: sumcheck final check: the claimed evaluations do not reproduce the last round")]
    SumcheckFinal {
        /// The relation proven by the sumcheck.
        relation: String,
    },
    /// An opening proof does not show that the committed tensor takes the claimed value.
    #[error("{relation}: opening proof rejected: the commitment does not open to the claimed value at the point")]
    Opening {
        /// The tensor (or relation) whose opening failed.
        relation: String,
    },
    /// A relation's check on the values sent fails (a linear identity, chunk sums, public values).
    #[error("{relation}: {what}")]
    Check {
        /// The relation whose check failed.
        relation: String,
        /// What does not hold.
        what: String,
    },
}
