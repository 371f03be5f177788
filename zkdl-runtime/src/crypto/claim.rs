//! A claim on a committed tensor: "tensor `P` at point `u` equals `y`", the statement every sumcheck
//! ends in ([`crate::crypto::sumcheck`]) and every opening checks. Merging several claims on one
//! tensor is [`crate::crypto::claims`].

use std::fmt;

use crate::Fr;

/// Names a committed tensor within a proof (the plan assigns the numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u32);

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor#{}", self.0)
    }
}

/// "Tensor `tensor` at `point` equals `value`." The value is a field element, or, inside a proof of
/// training, a [`Secret`](crate::crypto::zk::Secret) (the prover's) or a [`Sent`](crate::crypto::zk::Sent) value (the verifier's: clear or committed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim<V = Fr> {
    /// The tensor the claim is about.
    pub tensor: TensorId,
    /// The evaluation point (most significant variable first).
    pub point: Vec<Fr>,
    /// The claimed value of the multilinear extension there.
    pub value: V,
}
