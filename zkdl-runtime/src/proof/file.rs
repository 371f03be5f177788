//! The proof file: everything a verifier needs, and nothing else.
//!
//! ```text
//!     offset  size  field
//!     0       8     magic "ZKDLPRF\0"
//!     8       4     format version (u32 LE) = FORMAT_VERSION
//!     12      4     protocol version (u32 LE) = PROTOCOL_VERSION
//!     16      4     length L of the spec (u32 LE)
//!     20      L     the network spec, JSON (the same as `--network FILE` accepts)
//!     20+L    4     T, the number of steps (u32 LE)
//!     24+L    1     visibility flags: bit 0 public data, bit 1 public initial weights
//!     25+L    32    the plan digest (SHA-256, `Plan::digest`)
//!     57+L    8     length P of the public inputs (u64 LE)
//!     65+L    P     public inputs: commitments C_X, C_Y, C_W0, C_WT, public values (ark-serialize, compressed)
//!     …       rest  the proof body (ark-serialize, compressed), to the end of the file; its first
//!                   byte says whether the proof is zero-knowledge (1) or NOT (0, `--no-zero-knowledge`)
//! ```
//!
//! Reading recompiles the plan from the spec, T and the visibility and requires its digest to be
//! the one written, so a file cannot pair a proof with a plan it was not made for. Decoding never
//! panics: every failure names the field and its byte offset.

use std::path::Path;

use zkdl_compiler::{compile, CompileOptions, NetworkSpec, Plan, Visibility};

use super::{ProofBody, PublicInputs, PROTOCOL_VERSION};
use crate::files::write_atomically;
use crate::serialization::{decode, encode, DecodeError};

/// The file's magic bytes.
pub const MAGIC: &[u8; 8] = b"ZKDLPRF\0";

/// The version of the file layout.
pub const FORMAT_VERSION: u32 = 3;

/// The most steps a proof file may claim: the verifier unrolls T steps when it compiles the plan,
/// so an untrusted T is bounded before anything is allocated for it.
pub const MAX_STEPS: u32 = 1 << 16;

/// A proof with its statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    pub spec: NetworkSpec,
    pub steps: u32,
    pub visibility: Visibility,
    pub plan_digest: [u8; 32],
    pub public: PublicInputs,
    pub body: ProofBody,
}

/// Why a proof file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProofFileError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("byte {offset}: {what}")]
    Format { offset: usize, what: String },
    #[error("the {what} (from byte {offset}): {source}")]
    Decode { what: &'static str, offset: usize, source: DecodeError },
    #[error("the spec in the file does not compile: {0}")]
    Plan(String),
    #[error("the plan digest in the file is {written}, but its spec, T and visibility compile to {computed}")]
    Digest { written: String, computed: String },
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ProofFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let spec = serde_json::to_vec(&self.spec).expect("a spec serializes to JSON");
        let public = encode(&self.public);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(spec.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&spec);
        bytes.extend_from_slice(&self.steps.to_le_bytes());
        bytes.push(u8::from(self.visibility.public_data) | (u8::from(self.visibility.public_initial_weights) << 1));
        bytes.extend_from_slice(&self.plan_digest);
        bytes.extend_from_slice(&(public.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&public);
        bytes.extend_from_slice(&encode(&self.body));
        bytes
    }

    /// Decodes a file and recompiles its plan, checking the digest.
    pub fn from_bytes(bytes: &[u8]) -> Result<(ProofFile, Plan), ProofFileError> {
        let mut reader = Reader { bytes, offset: 0 };
        if reader.take(8, "the magic bytes")? != MAGIC {
            return Err(ProofFileError::Format { offset: 0, what: "not a zkdl proof file (bad magic bytes)".into() });
        }
        let format = reader.u32("the format version")?;
        if format != FORMAT_VERSION {
            return Err(ProofFileError::Format {
                offset: 8,
                what: format!("format version {format}; this zkdl reads version {FORMAT_VERSION}"),
            });
        }
        let protocol = reader.u32("the protocol version")?;
        if protocol != PROTOCOL_VERSION {
            return Err(ProofFileError::Format {
                offset: 12,
                what: format!("protocol version {protocol}; this zkdl verifies version {PROTOCOL_VERSION}"),
            });
        }
        let spec_len = reader.u32("the spec length")? as usize;
        let spec_offset = reader.offset;
        let spec_bytes = reader.take(spec_len, "the spec")?;
        let spec: NetworkSpec = serde_json::from_slice(spec_bytes)
            .map_err(|e| ProofFileError::Format { offset: spec_offset, what: format!("the spec is not valid: {e}") })?;
        let steps_offset = reader.offset;
        let steps = reader.u32("T")?;
        if steps == 0 || steps > MAX_STEPS {
            return Err(ProofFileError::Format {
                offset: steps_offset,
                what: format!("T = {steps}; a proof file holds between 1 and {MAX_STEPS} steps"),
            });
        }
        let flags_offset = reader.offset;
        let flags = reader.take(1, "the visibility flags")?[0];
        if flags > 3 {
            return Err(ProofFileError::Format {
                offset: flags_offset,
                what: format!("unknown visibility flags {flags}"),
            });
        }
        let visibility = Visibility { public_data: flags & 1 != 0, public_initial_weights: flags & 2 != 0 };
        let mut plan_digest = [0u8; 32];
        plan_digest.copy_from_slice(reader.take(32, "the plan digest")?);
        let public_len = reader.u64("the length of the public inputs")?;
        let public_offset = reader.offset;
        let public_bytes = reader.take(usize::try_from(public_len).unwrap_or(usize::MAX), "the public inputs")?;
        let public: PublicInputs = decode(public_bytes).map_err(|source| ProofFileError::Decode {
            what: "public inputs",
            offset: public_offset,
            source,
        })?;
        let body_offset = reader.offset;
        let body: ProofBody = decode(&bytes[body_offset..]).map_err(|source| ProofFileError::Decode {
            what: "proof body",
            offset: body_offset,
            source,
        })?;
        let plan =
            compile(&spec, CompileOptions { steps, visibility }).map_err(|e| ProofFileError::Plan(e.to_string()))?;
        let computed = plan.digest();
        if computed != plan_digest {
            return Err(ProofFileError::Digest { written: hex(&plan_digest), computed: hex(&computed) });
        }
        Ok((ProofFile { spec, steps, visibility, plan_digest, public, body }, plan))
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_atomically(path, &self.to_bytes())
    }

    /// Reads and decodes a file.
    pub fn read(path: &Path) -> Result<(ProofFile, Plan), ProofFileError> {
        let bytes =
            std::fs::read(path).map_err(|source| ProofFileError::Io { path: path.display().to_string(), source })?;
        Self::from_bytes(&bytes)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], ProofFileError> {
        let end = self.offset.checked_add(len).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            ProofFileError::Format { offset: self.offset, what: format!("the file ends inside {what}") }
        })?;
        let slice = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(slice)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ProofFileError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, ProofFileError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}
