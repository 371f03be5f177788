//! The Fiat–Shamir transcript (`PROTOCOL.md` §7).
//!
//! A thin layer over merlin's STROBE-based transcript. Every message is absorbed under a byte label;
//! field elements and G1 points are absorbed in their canonical compressed encoding, lengths first,
//! so that no two different message sequences absorb the same bytes. A challenge is a full field
//! element: 64 squeezed bytes reduced modulo `p` (wide reduction, statistical distance `2^−257`
//! from uniform), never a 128-bit value and never from a seeded PRNG.
//!
//! The prover and the verifier build the same transcript from the same domain label and absorb the
//! same messages in the same order; any difference (another plan, another commitment, another
//! round polynomial) changes every later challenge.

use ark_ff::{PrimeField, Zero};
use ark_serialize::CanonicalSerialize;

use crate::{Fr, G1Affine};

/// The Fiat–Shamir transcript of one proof.
#[derive(Clone)]
pub struct Transcript {
    inner: merlin::Transcript,
    /// Tests of honest-verifier zero-knowledge fix the verifier's challenges in advance.
    #[cfg(test)]
    script: Option<std::collections::VecDeque<Fr>>,
}

impl Transcript {
    /// A fresh transcript for the protocol named by `domain` (domain separation).
    pub fn new(domain: &'static [u8]) -> Self {
        let mut inner = merlin::Transcript::new(b"zkdl");
        inner.append_message(b"domain", domain);
        Self {
            inner,
            #[cfg(test)]
            script: None,
        }
    }

    /// A transcript whose challenges are `challenges`, in order, whatever is absorbed: the
    /// interactive protocol with an honest verifier whose coins are fixed in advance, as a
    /// simulator of honest-verifier zero-knowledge is given them.
    #[cfg(test)]
    pub(crate) fn scripted(challenges: Vec<Fr>) -> Self {
        let mut transcript = Self::new(b"scripted");
        transcript.script = Some(challenges.into());
        transcript
    }

    /// Absorbs raw bytes under a label.
    pub fn append_message(&mut self, label: &'static [u8], message: &[u8]) {
        self.inner.append_message(label, message);
    }

    /// Absorbs an unsigned integer (little-endian, 8 bytes).
    pub fn append_u64(&mut self, label: &'static [u8], value: u64) {
        self.inner.append_u64(label, value);
    }

    /// Absorbs a field element.
    pub fn append_field(&mut self, label: &'static [u8], value: &Fr) {
        self.append_serializable(label, value);
    }

    /// Absorbs a sequence of field elements (its length first): the bytes of its canonical
    /// serialization, the length as a `u64` (little-endian) then each element's 32 bytes. Only short
    /// sequences come here (round messages, points); public tensors are absorbed by digest
    /// (`proof::public_value_digests`).
    pub fn append_fields(&mut self, label: &'static [u8], values: &[Fr]) {
        self.append_serializable(label, values);
    }

    /// Absorbs a G1 point.
    pub fn append_point(&mut self, label: &'static [u8], point: &G1Affine) {
        self.append_serializable(label, point);
    }

    /// Absorbs a sequence of G1 points (its length first).
    pub fn append_points(&mut self, label: &'static [u8], points: &[G1Affine]) {
        self.append_serializable(label, points);
    }

    fn append_serializable<T: CanonicalSerialize + ?Sized>(&mut self, label: &'static [u8], value: &T) {
        let mut bytes = Vec::with_capacity(value.compressed_size());
        value.serialize_compressed(&mut bytes).expect("serializing into a Vec cannot fail");
        self.inner.append_message(label, &bytes);
    }

    /// Squeezes a uniformly distributed field element (64 bytes, reduced modulo `p`).
    pub fn challenge_field(&mut self, label: &'static [u8]) -> Fr {
        #[cfg(test)]
        if let Some(script) = self.script.as_mut() {
            return script.pop_front().expect("the script has a challenge for every draw");
        }
        let mut bytes = [0u8; 64];
        self.inner.challenge_bytes(label, &mut bytes);
        Fr::from_le_bytes_mod_order(&bytes)
    }

    /// Squeezes a nonzero field element (squeezing again in the negligible case of zero), for
    /// challenges that are inverted.
    pub fn challenge_nonzero(&mut self, label: &'static [u8]) -> Fr {
        loop {
            let x = self.challenge_field(label);
            if !x.is_zero() {
                return x;
            }
        }
    }

    /// Squeezes `count` field elements.
    pub fn challenge_fields(&mut self, label: &'static [u8], count: usize) -> Vec<Fr> {
        (0..count).map(|_| self.challenge_field(label)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;
    use ark_ff::BigInteger;

    #[test]
    fn same_messages_give_same_challenges_and_any_change_changes_them() {
        let run = |domain: &'static [u8], value: u64, label: &'static [u8]| {
            let mut t = Transcript::new(domain);
            t.append_field(label, &Fr::from(value));
            t.append_point(b"point", &G1Affine::generator());
            t.challenge_field(b"challenge")
        };
        let base = run(b"test", 5, b"value");
        assert_eq!(base, run(b"test", 5, b"value"));
        assert_ne!(base, run(b"other", 5, b"value"), "domain separation");
        assert_ne!(base, run(b"test", 6, b"value"), "message binding");
        assert_ne!(base, run(b"test", 5, b"label"), "label binding");
    }

    #[test]
    fn challenges_are_full_width_and_distinct() {
        let mut t = Transcript::new(b"test");
        let challenges = t.challenge_fields(b"c", 16);
        // A 128-bit challenge would have its top 127 bits zero; a full-width one almost never does.
        let wide = challenges.iter().filter(|c| c.into_bigint().num_bits() > 200).count();
        assert!(wide >= 15, "only {wide} of 16 challenges exceed 200 bits");
        for (i, a) in challenges.iter().enumerate() {
            assert!(challenges[i + 1..].iter().all(|b| a != b));
        }
        assert!(!t.challenge_nonzero(b"x").is_zero());
    }

    #[test]
    fn long_sequences_absorb_their_canonical_serialization() {
        let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(3);
        let values: Vec<Fr> = (0..3 * crate::crypto::tensor::PARALLEL_MIN + 5)
            .map(|_| <Fr as ark_std::UniformRand>::rand(&mut rng))
            .collect();
        let mut a = Transcript::new(b"test");
        a.append_fields(b"v", &values);
        let mut b = Transcript::new(b"test");
        b.append_serializable(b"v", &values[..]);
        assert_eq!(a.challenge_field(b"c"), b.challenge_field(b"c"));
    }

    #[test]
    fn sequence_lengths_are_bound() {
        let mut a = Transcript::new(b"test");
        a.append_fields(b"v", &[Fr::from(1u64), Fr::from(2u64)]);
        let mut b = Transcript::new(b"test");
        b.append_fields(b"v", &[Fr::from(1u64)]);
        b.append_fields(b"v", &[Fr::from(2u64)]);
        assert_ne!(a.challenge_field(b"c"), b.challenge_field(b"c"));
    }
}
