//! Encoding proof objects, and decoding them from untrusted bytes.
//!
//! Every proof object has a canonical compressed encoding (ark-serialize: little-endian integers,
//! `u64` lengths before sequences, field elements in 32 bytes, G1 points compressed to 48 bytes).
//! Decoding validates everything it reads — field elements below `p`, points on the curve and in
//! the prime-order subgroup — rejects trailing bytes, and reports the byte offset at which the
//! input stopped making sense. It never panics and never allocates more than the input can fill:
//! sequences grow as their elements are read, so a forged length fails at the end of the input.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate};
use std::io::Read;
use thiserror::Error;

/// Why bytes could not be decoded, and where.
#[derive(Debug, Error)]
#[error("cannot decode {what} at byte {offset}: {reason}")]
pub struct DecodeError {
    /// What was being decoded (a type name).
    pub what: &'static str,
    /// The byte offset at which decoding failed.
    pub offset: usize,
    /// The reason.
    pub reason: String,
}

/// The canonical compressed encoding of `value`.
pub fn encode<T: CanonicalSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.compressed_size());
    value.serialize_compressed(&mut bytes).expect("serializing into a Vec cannot fail");
    bytes
}

struct CountingReader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.bytes.len() - self.position);
        buf[..n].copy_from_slice(&self.bytes[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// Decodes a `T` that must fill `bytes` exactly.
pub fn decode<T: CanonicalDeserialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    let what = std::any::type_name::<T>().rsplit("::").next().unwrap_or("value");
    let mut reader = CountingReader { bytes, position: 0 };
    let value = T::deserialize_with_mode(&mut reader, Compress::Yes, Validate::Yes).map_err(|e| DecodeError {
        what,
        offset: reader.position,
        reason: match e {
            SerializationError::IoError(_) => "the input ends too early".to_string(),
            SerializationError::InvalidData => "invalid data (not a field element, curve point or flag)".to_string(),
            other => other.to_string(),
        },
    })?;
    if reader.position != bytes.len() {
        return Err(DecodeError {
            what,
            offset: reader.position,
            reason: format!("{} trailing bytes after the end", bytes.len() - reader.position),
        });
    }
    Ok(value)
}
