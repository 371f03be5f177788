//! The statement's public inputs as the proof carries them ([`PublicInputs`]): the commitments
//! made in the statement (C_X, C_Y, C_W0, C_WT) and the values of the tensors that are public, and the
//! prover's blinds of those commitments ([`StatementSecrets`]). The transcript absorbs a public
//! tensor by the SHA-256 digests of its values in chunks ([`public_value_digests`]), so that hashing
//! half a gigabyte of a paper network's W_0 runs on every core.

use std::borrow::Cow;

use ark_ff::Zero;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::crypto::commitment::{CommitmentBlinds, TensorCommitment};
use crate::statement::dataset::DatasetStatement;
use crate::Fr;

/// The statement's public inputs: commitments to the private tensors X, Y, W_0 and W_T, and the
/// values of the tensors chosen public, each under its stacked tensor id.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct PublicInputs {
    pub commitments: Vec<(u32, TensorCommitment)>,
    pub public_values: Vec<(u32, PublicValues)>,
    /// The committed dataset the batches are drawn from, and the sampling rule (`crate::statement::dataset`).
    pub dataset: Option<DatasetStatement>,
}

impl PublicInputs {
    /// The commitment of stacked tensor `id`.
    pub fn commitment(&self, id: u32) -> Option<&TensorCommitment> {
        self.commitments.iter().find(|(i, _)| *i == id).map(|(_, c)| c)
    }

    /// The public values of stacked tensor `id`.
    pub fn values(&self, id: u32) -> Option<&PublicValues> {
        self.public_values.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }
}

/// A public tensor's values: field elements, as a proof file carries them, or signed integers, as a
/// verifier regenerates W_0 from its seed. The verifier range-checks, hashes and evaluates integers
/// without converting them (10.5M for the paper network's W_0). Both forms mean the same field elements:
/// they compare equal and encode alike (as the `Vec<Fr>` of those elements), and a decoded one is
/// always `Field`.
#[derive(Clone, Debug)]
pub enum PublicValues {
    Field(Vec<Fr>),
    Small(Vec<i64>),
}

impl PublicValues {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Self::Field(v) => v.len(),
            Self::Small(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as a field element.
    pub fn get(&self, i: usize) -> Option<Fr> {
        match self {
            Self::Field(v) => v.get(i).copied(),
            Self::Small(v) => v.get(i).map(|&x| Fr::from(x)),
        }
    }

    /// The values as field elements.
    pub fn field(&self) -> Cow<'_, [Fr]> {
        match self {
            Self::Field(v) => Cow::Borrowed(v),
            Self::Small(v) => Cow::Owned(
                v.par_iter().with_min_len(crate::crypto::tensor::PARALLEL_MIN).map(|&x| Fr::from(x)).collect(),
            ),
        }
    }

    /// The values as field elements to change (tests forge public inputs through this).
    pub fn field_mut(&mut self) -> &mut Vec<Fr> {
        if let Self::Small(v) = self {
            *self = Self::Field(v.iter().map(|&x| Fr::from(x)).collect());
        }
        match self {
            Self::Field(v) => v,
            Self::Small(_) => unreachable!("converted above"),
        }
    }

    /// [`public_value_digests`] of the values (from the integers without conversion).
    pub fn digests(&self) -> Vec<u8> {
        match self {
            Self::Field(v) => public_value_digests(v),
            Self::Small(v) => small_value_digests(v),
        }
    }
}

impl PartialEq for PublicValues {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Field(a), Self::Field(b)) => a == b,
            (Self::Small(a), Self::Small(b)) => a == b,
            _ => self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i)),
        }
    }
}

impl Eq for PublicValues {}

impl CanonicalSerialize for PublicValues {
    fn serialize_with_mode<W: std::io::Write>(
        &self,
        mut writer: W,
        compress: ark_serialize::Compress,
    ) -> Result<(), ark_serialize::SerializationError> {
        match self {
            Self::Field(v) => v.serialize_with_mode(writer, compress),
            Self::Small(v) => {
                (v.len() as u64).serialize_with_mode(&mut writer, compress)?;
                v.iter().try_for_each(|&x| Fr::from(x).serialize_with_mode(&mut writer, compress))
            }
        }
    }

    fn serialized_size(&self, compress: ark_serialize::Compress) -> usize {
        8 + self.len() * Fr::zero().serialized_size(compress)
    }
}

impl ark_serialize::Valid for PublicValues {
    fn check(&self) -> Result<(), ark_serialize::SerializationError> {
        Ok(()) // field elements are validated as they are decoded
    }
}

impl CanonicalDeserialize for PublicValues {
    fn deserialize_with_mode<R: std::io::Read>(
        reader: R,
        compress: ark_serialize::Compress,
        validate: ark_serialize::Validate,
    ) -> Result<Self, ark_serialize::SerializationError> {
        Vec::<Fr>::deserialize_with_mode(reader, compress, validate).map(Self::Field)
    }
}

/// The prover's secrets of the statement: the blinds of its commitments.
#[derive(Clone, Debug)]
pub struct StatementSecrets {
    pub(crate) blinds: Vec<(u32, CommitmentBlinds)>,
}

impl StatementSecrets {
    /// The blinds of the commitment to stacked tensor `id`.
    pub fn blinds(&self, id: u32) -> Option<&CommitmentBlinds> {
        self.blinds.iter().find(|(i, _)| *i == id).map(|(_, b)| b)
    }

    /// Replaces the blinds of stacked tensor `id` (a commitment published before the run replaces the
    /// run's own).
    pub fn set_blinds(&mut self, id: u32, blinds: CommitmentBlinds) {
        for (i, b) in self.blinds.iter_mut() {
            if *i == id {
                *b = blinds.clone();
            }
        }
    }
}

/// Values per chunk of a public tensor's digest ([`public_value_digests`]).
pub const PUBLIC_DIGEST_CHUNK: usize = 1 << 16;

/// What the transcript absorbs for a public tensor's values: the SHA-256 of each chunk of
/// [`PUBLIC_DIGEST_CHUNK`] consecutive values, each value in its canonical encoding (32 bytes,
/// little-endian, in `[0, p)`), the digests concatenated in order. Chunks hash in parallel, where one
/// absorption of every value (half a gigabyte for the paper network's W_0) would run on one thread.
pub fn public_value_digests(values: &[Fr]) -> Vec<u8> {
    values
        .par_chunks(PUBLIC_DIGEST_CHUNK)
        .flat_map_iter(|chunk| {
            let mut hasher = Sha256::new();
            let mut bytes = [0u8; 32];
            for v in chunk {
                v.serialize_compressed(&mut bytes[..]).expect("a field element fills 32 bytes");
                hasher.update(bytes);
            }
            hasher.finalize()
        })
        .collect()
}

/// [`public_value_digests`] of the field elements `values` stand for, from the integers (no field
/// arithmetic: a negative `v` is encoded as `p − |v|`).
pub(crate) fn small_value_digests(values: &[i64]) -> Vec<u8> {
    use ark_ff::{BigInteger, PrimeField};
    values
        .par_chunks(PUBLIC_DIGEST_CHUNK)
        .flat_map_iter(|chunk| {
            let mut hasher = Sha256::new();
            for &v in chunk {
                let mut limbs = <Fr as PrimeField>::BigInt::from(v.unsigned_abs());
                if v < 0 {
                    let mut modulus = Fr::MODULUS;
                    modulus.sub_with_borrow(&limbs);
                    limbs = modulus;
                }
                hasher.update(limbs.to_bytes_le());
            }
            hasher.finalize()
        })
        .collect()
}
