//! A committed dataset: the training set a data owner publishes once, before anyone trains on it.
//!
//! **Commitment.** The N training examples, in the fixed-point form training uses (features
//! `round(x · 2^R)`, targets `2^R` at the label, zero elsewhere), form two matrices with one row per
//! example: `D_X` (N × d_0) and `D_Y` (N × d_L), rows padded to `2^⌈log N⌉`, columns to powers of
//! two, zero in padding. Each is committed row by row, Hyrax-style, with the key's hash-to-curve
//! generators: `C_e = Σ_j D[e][j] · g_j + β_e · h` — one commitment per example, hiding by the
//! blinds `β_e`, which the data owner keeps in the secrets file. The public [`DatasetCommitment`]
//! (what `zkdl data commit` writes) holds the row commitments and the header (example count, widths,
//! R, how the training split was drawn); its SHA-256 ([`DatasetCommitment::digest`]) names it.
//!
//! **Batches drawn from it** (`proof::dataset_link`). A run on a committed dataset samples step t's
//! batch as examples `idx_t[0 … B−1]` of the public rule `EpochBatches(N, B, sampling seed)`, so
//! `X_t[b] = D_X[idx_t[b]]`. For a point `(ρ_t, ρ_b, ρ_c)` of the stacked X,
//!
//! ```text
//!     X(ρ_t, ρ_b, ρ_c) = Σ_{t<T, b<B} eq(ρ_t, t) eq(ρ_b, b) D_X(idx_t[b], ρ_c) = Σ_e S(e) · D_X(e, ρ_c),
//!     S(e) = Σ_{t<T, b<B : idx_t[b] = e} eq(ρ_t, t) eq(ρ_b, b),
//! ```
//!
//! a public row weight the verifier computes in `O(T·B)` (plus the epochs' permutations). So the
//! claim is an opening of `Σ_e S(e) C_e` — a row combination of the dataset commitment — at the
//! column point `ρ_c`, with no sumcheck at all, and the prover's row combination
//! `Σ_{t,b} eq(ρ_t, t) eq(ρ_b, b) X_t[b]` comes from the batches it already holds.

use std::path::Path;

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zkdl_compiler::spec::ceil_log2;
use zkdl_compiler::NetworkSpec;

use crate::crypto::commitment::{CommitmentBlinds, CommitmentKey, TensorCommitment};
use crate::crypto::serialization::{decode, encode};
use crate::statement::StatementError;
use crate::training::data::{Dataset, EpochBatches};
use crate::training::trainer::Trainer;
use crate::{Fr, G1Affine};

/// The magic bytes of a dataset commitment file (`.zkdd`).
pub const DATASET_MAGIC: &[u8; 8] = b"ZKDLDAT\0";
/// The magic bytes of a dataset's secrets file.
pub const DATASET_SECRETS_MAGIC: &[u8; 8] = b"ZKDLDSC\0";
/// The version of both layouts.
pub const DATASET_FILE_VERSION: u32 = 1;

/// What a dataset commitment says about the data, in the clear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetHeader {
    /// The source: `digits`, or the file name.
    pub source: String,
    /// N, the training examples committed.
    pub examples: u64,
    /// d_0, the features per example.
    pub features: u32,
    /// d_L, the target width (the network's outputs).
    pub outputs: u32,
    /// The classes of the labels.
    pub classes: u32,
    /// R: features and targets are at scale 2^R.
    pub scale_bits: u32,
    /// How the training split was drawn from the source: the test fraction and the split seed
    /// (`Dataset::split`), so a prover can rebuild exactly these N examples.
    pub test_fraction: f64,
    pub split_seed: u64,
}

/// The public commitment to a training set.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetCommitment {
    pub header: DatasetHeader,
    /// One row commitment per example (rows padded to a power of two) of D_X and of D_Y.
    pub features: TensorCommitment,
    pub targets: TensorCommitment,
}

/// The data owner's secrets: the row blinds of both commitments.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct DatasetSecrets {
    /// The digest of the commitment these blinds belong to.
    pub dataset: Vec<u8>,
    pub features: CommitmentBlinds,
    pub targets: CommitmentBlinds,
}

#[derive(CanonicalSerialize, CanonicalDeserialize)]
struct Commitments {
    features: TensorCommitment,
    targets: TensorCommitment,
}

/// log2 of the columns of D_X and D_Y: the padded widths.
pub fn dataset_log_cols(features: u32, outputs: u32) -> (u32, u32) {
    (ceil_log2(features as u64), ceil_log2(outputs as u64))
}

/// The most examples a dataset commitment may hold (2^32; a file of that many row commitments is
/// hundreds of gigabytes).
pub const MAX_EXAMPLES: u64 = 1 << 32;

/// Rows committed per batch of work (bounds the memory of a large dataset's commitment).
const ROWS_PER_CHUNK: usize = 1024;

/// The fixed-point rows `first … first + count − 1` of D_X (or D_Y), `2^log_cols` columns each, zero
/// past the last example.
fn fixed_rows(
    trainer: &Trainer,
    data: &Dataset,
    first: usize,
    count: usize,
    log_cols: u32,
    targets: bool,
) -> Result<Vec<i64>, StatementError> {
    let cols = 1usize << log_cols;
    let mut values = vec![0i64; count * cols];
    let end = (first + count).min(data.len());
    if first >= end {
        return Ok(values);
    }
    let indices: Vec<usize> = (first..end).collect();
    let batch = trainer
        .batch(data, &indices, 0)
        .map_err(|e| StatementError::Format(format!("the data cannot be committed: {e}")))?;
    let source = if targets { &batch.y } else { &batch.x };
    let width = source.len() / indices.len();
    for (i, v) in source.iter().enumerate() {
        values[(i / width) * cols + i % width] = v as i64;
    }
    Ok(values)
}

/// Commits rows of `data` (D_X, or D_Y with `targets`) with the given blinds, chunk by chunk.
fn commit_rows(
    key: &CommitmentKey,
    trainer: &Trainer,
    data: &Dataset,
    log_cols: u32,
    blinds: &CommitmentBlinds,
    targets: bool,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<TensorCommitment, StatementError> {
    let rows = blinds.values().len();
    let tables = distinct_column_values(trainer, data, rows, log_cols, targets)?
        .map(|distinct| key.value_tables(distinct, log_cols));
    let mut commitments: Vec<G1Affine> = Vec::with_capacity(rows);
    for first in (0..rows).step_by(ROWS_PER_CHUNK) {
        let count = ROWS_PER_CHUNK.min(rows - first);
        let values = fixed_rows(trainer, data, first, count, log_cols, targets)?;
        let chunk_blinds = &blinds.values()[first..first + count];
        let by_tables = tables.as_ref().and_then(|t| key.commit_rows_with_tables(t, &values, chunk_blinds));
        match by_tables {
            Some(rows) => commitments.extend(rows),
            None => {
                let chunk_blinds = CommitmentBlinds::from_values(chunk_blinds.to_vec());
                commitments.extend(key.commit_with_blinds(&values[..], log_cols, &chunk_blinds).rows);
            }
        }
        progress(first + count);
    }
    Ok(TensorCommitment { log_cols, rows: commitments })
}

/// The most distinct values per column for which [`commit_rows`] commits by value tables (one
/// addition per entry; 8-bit sources such as images and one-hot targets have at most 256).
const MAX_DISTINCT_PER_COLUMN: usize = 256;

/// The sorted distinct nonzero values of each column of D_X (or D_Y), or `None` when some column has
/// more than [`MAX_DISTINCT_PER_COLUMN`].
fn distinct_column_values(
    trainer: &Trainer,
    data: &Dataset,
    rows: usize,
    log_cols: u32,
    targets: bool,
) -> Result<Option<Vec<Vec<i64>>>, StatementError> {
    let cols = 1usize << log_cols;
    let mut distinct = vec![Vec::<i64>::new(); cols];
    for first in (0..rows.min(data.len())).step_by(ROWS_PER_CHUNK) {
        let count = ROWS_PER_CHUNK.min(rows - first);
        let values = fixed_rows(trainer, data, first, count, log_cols, targets)?;
        let full = distinct.par_iter_mut().enumerate().any(|(j, column)| {
            for v in values.iter().skip(j).step_by(cols).filter(|v| **v != 0) {
                if let Err(at) = column.binary_search(v) {
                    column.insert(at, *v);
                }
                if column.len() > MAX_DISTINCT_PER_COLUMN {
                    return true;
                }
            }
            false
        });
        if full {
            return Ok(None);
        }
    }
    Ok(Some(distinct))
}

impl DatasetCommitment {
    /// Commits the training set `train` (drawn from `source` by `test_fraction` and `split_seed`) in
    /// the fixed-point form `spec` trains on. `progress` gets the rows committed so far (of both
    /// matrices: 2 · 2^⌈log N⌉ in all).
    #[allow(clippy::too_many_arguments)]
    pub fn commit<R: RngCore + CryptoRng>(
        key: &CommitmentKey,
        spec: &NetworkSpec,
        train: &Dataset,
        source: &str,
        test_fraction: f64,
        split_seed: u64,
        rng: &mut R,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<(DatasetCommitment, DatasetSecrets), StatementError> {
        let header = DatasetHeader {
            source: source.to_string(),
            examples: train.len() as u64,
            features: spec.input,
            outputs: spec.widths().last().copied().unwrap_or(0),
            classes: train.class_count as u32,
            scale_bits: spec.fixed_point.scale_bits,
            test_fraction,
            split_seed,
        };
        let rows = 1usize << ceil_log2(train.len() as u64);
        let blinds = (CommitmentBlinds::random(rows, rng), CommitmentBlinds::random(rows, rng));
        let commitment = Self::recommit(key, spec, train, header, &blinds.0, &blinds.1, progress)?;
        let secrets = DatasetSecrets { dataset: commitment.digest().to_vec(), features: blinds.0, targets: blinds.1 };
        Ok((commitment, secrets))
    }

    /// The commitment of `train` with the given blinds.
    fn recommit(
        key: &CommitmentKey,
        spec: &NetworkSpec,
        train: &Dataset,
        header: DatasetHeader,
        feature_blinds: &CommitmentBlinds,
        target_blinds: &CommitmentBlinds,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<DatasetCommitment, StatementError> {
        let trainer = Trainer::new(spec, 1).map_err(|e| StatementError::Format(e.to_string()))?;
        let (x_cols, y_cols) = dataset_log_cols(header.features, header.outputs);
        let rows = feature_blinds.values().len();
        let features = commit_rows(key, &trainer, train, x_cols, feature_blinds, false, progress)?;
        let targets = commit_rows(key, &trainer, train, y_cols, target_blinds, true, &|r| progress(rows + r))?;
        Ok(DatasetCommitment { header, features, targets })
    }

    /// Checks that `train` and `secrets` are what this commitment commits to, for a run of `spec`:
    /// the widths and scale fit the network, the secrets belong to this commitment, and the data
    /// recommits to the same rows.
    pub fn check_training_set(
        &self,
        key: &CommitmentKey,
        spec: &NetworkSpec,
        train: &Dataset,
        secrets: &DatasetSecrets,
    ) -> Result<(), StatementError> {
        self.check_network(spec)?;
        if secrets.dataset != self.digest() {
            return Err(StatementError::Format(
                "the secrets file belongs to another dataset commitment (its digest differs)".into(),
            ));
        }
        if train.len() as u64 != self.header.examples {
            return Err(StatementError::Format(format!(
                "the training set has {} examples; the dataset commitment has {}",
                train.len(),
                self.header.examples
            )));
        }
        let rows = self.features.rows.len();
        if secrets.features.values().len() != rows || secrets.targets.values().len() != self.targets.rows.len() {
            return Err(StatementError::Format("the secrets file has blinds for another number of rows".into()));
        }
        let again =
            Self::recommit(key, spec, train, self.header.clone(), &secrets.features, &secrets.targets, &|_| {})?;
        for (what, a, b) in [("features", &again.features, &self.features), ("targets", &again.targets, &self.targets)]
        {
            if let Some(row) = a.rows.iter().zip(&b.rows).position(|(x, y)| x != y) {
                return Err(StatementError::Format(format!(
                    "the data does not match the dataset commitment: the {what} of example {row} differ (another \
                     data file, split, normalization, or secrets file)"
                )));
            }
        }
        Ok(())
    }

    /// Checks that the dataset fits the network: input and output widths and the scale R.
    pub fn check_network(&self, spec: &NetworkSpec) -> Result<(), StatementError> {
        let h = &self.header;
        let outputs = spec.widths().last().copied().unwrap_or(0);
        if h.features != spec.input || h.outputs != outputs || h.scale_bits != spec.fixed_point.scale_bits {
            return Err(StatementError::Format(format!(
                "the dataset commits {} features and {} targets at scale 2^{}; network {} takes {} inputs, has {} \
                 outputs and R = {}",
                h.features, h.outputs, h.scale_bits, spec.name, spec.input, outputs, spec.fixed_point.scale_bits
            )));
        }
        let (x_cols, y_cols) = dataset_log_cols(h.features, h.outputs);
        let rows = 1usize << ceil_log2(h.examples);
        if self.features.log_cols != x_cols
            || self.targets.log_cols != y_cols
            || self.features.rows.len() != rows
            || self.targets.rows.len() != rows
        {
            return Err(StatementError::Format("the dataset commitment does not have the layout of its header".into()));
        }
        Ok(())
    }

    /// The file bytes: magic, version, the header as JSON (length-prefixed), the commitments.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("a header serializes");
        let mut bytes = DATASET_MAGIC.to_vec();
        bytes.extend_from_slice(&DATASET_FILE_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&encode(&Commitments {
            features: self.features.clone(),
            targets: self.targets.clone(),
        }));
        bytes
    }

    /// SHA-256 of the file bytes: the name the statement of a proof uses.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }

    /// Decodes a dataset commitment; errors name the byte offset.
    pub fn from_bytes(bytes: &[u8]) -> Result<DatasetCommitment, StatementError> {
        let bad = |offset: usize, what: String| StatementError::Format(format!("byte {offset}: {what}"));
        if bytes.len() < 16 || &bytes[..8] != DATASET_MAGIC {
            return Err(bad(0, "not a zkdl dataset commitment (bad magic bytes)".into()));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != DATASET_FILE_VERSION {
            return Err(bad(8, format!("version {version}; this zkdl reads version {DATASET_FILE_VERSION}")));
        }
        let len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let header_bytes = bytes
            .get(16..16usize.saturating_add(len))
            .ok_or_else(|| bad(16, "the file ends inside the header".into()))?;
        let header: DatasetHeader =
            serde_json::from_slice(header_bytes).map_err(|e| bad(16, format!("the header is not valid: {e}")))?;
        let offset = 16 + len;
        let commitments: Commitments =
            decode(&bytes[offset..]).map_err(|e| bad(offset, format!("the commitments: {e}")))?;
        if header.examples == 0 || header.examples > MAX_EXAMPLES {
            return Err(bad(16, format!("{} examples; a dataset holds between 1 and {MAX_EXAMPLES}", header.examples)));
        }
        let rows = 1usize << ceil_log2(header.examples);
        if commitments.features.rows.len() != rows || commitments.targets.rows.len() != rows {
            return Err(bad(offset, format!("{} examples need {rows} row commitments each", header.examples)));
        }
        Ok(DatasetCommitment { header, features: commitments.features, targets: commitments.targets })
    }

    /// Reads a `.zkdd` file.
    pub fn read(path: &Path) -> Result<DatasetCommitment, StatementError> {
        let bytes = std::fs::read(path).map_err(|e| StatementError::Format(format!("{}: {e}", path.display())))?;
        Self::from_bytes(&bytes).map_err(|e| StatementError::Format(format!("{}: {e}", path.display())))
    }
}

impl DatasetSecrets {
    /// The file bytes: magic, version, the blinds.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::statement::file_bytes(DATASET_SECRETS_MAGIC, self)
    }

    /// Decodes a dataset secrets file.
    pub fn from_bytes(bytes: &[u8]) -> Result<DatasetSecrets, StatementError> {
        crate::statement::from_file_bytes(bytes, DATASET_SECRETS_MAGIC, "dataset secrets file")
    }
}

/// The statement's part about the data: which dataset, and the public sampling rule.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct DatasetStatement {
    /// [`DatasetCommitment::digest`] (32 bytes).
    pub digest: Vec<u8>,
    /// N.
    pub examples: u64,
    /// The seed of the epoch permutations (`EpochBatches`).
    pub sampling_seed: u64,
}

impl DatasetStatement {
    /// The example indices of steps `0 … steps − 1`, by the public rule.
    pub fn batches(&self, batch: usize, steps: u32) -> Result<Vec<Vec<usize>>, String> {
        self.batches_from(0, batch, steps)
    }

    /// The example indices of steps `first … first + steps − 1` of the rule: the batches of a chain
    /// segment that `first` steps precede (`docs/chains.md`).
    pub fn batches_from(&self, first: u64, batch: usize, steps: u32) -> Result<Vec<Vec<usize>>, String> {
        let examples = usize::try_from(self.examples).map_err(|_| "the example count does not fit".to_string())?;
        let order = EpochBatches::new(examples, batch, self.sampling_seed).map_err(|e| e.to_string())?;
        let end = first.checked_add(steps as u64).ok_or_else(|| "the steps overflow".to_string())?;
        Ok((first..end).map(|t| order.batch(t)).collect())
    }
}

/// The row weights `S(e)` of the module docs at `(ρ_t, ρ_b)`, over `rows` dataset rows.
pub fn selection_weights(batches: &[Vec<usize>], rho_t: &[Fr], rho_b: &[Fr], rows: usize) -> Vec<Fr> {
    let (e_t, e_b) = (crate::crypto::tensor::eq_table(rho_t), crate::crypto::tensor::eq_table(rho_b));
    let mut weights = vec![Fr::from(0u64); rows];
    for (t, batch) in batches.iter().enumerate() {
        for (b, &example) in batch.iter().enumerate() {
            if let (Some(w), Some(et), Some(eb)) = (weights.get_mut(example), e_t.get(t), e_b.get(b)) {
                *w += *et * eb;
            }
        }
    }
    weights
}

/// `Σ_{t,b} eq(ρ_t, t) eq(ρ_b, b) · row(t, b)` for the stacked rows of a batch tensor (index
/// (t, b, c), `2^log_cols` columns): the prover's row combination of the dataset.
pub fn combined_batch_row(stacked: &[Fr], rho_t: &[Fr], rho_b: &[Fr], log_cols: u32) -> Vec<Fr> {
    let (e_t, e_b) = (crate::crypto::tensor::eq_table(rho_t), crate::crypto::tensor::eq_table(rho_b));
    let cols = 1usize << log_cols;
    let rows_per_step = e_b.len();
    stacked
        .par_chunks(cols)
        .enumerate()
        .map(|(row, values)| {
            let weight = e_t[row / rows_per_step] * e_b[row % rows_per_step];
            values.iter().map(|v| weight * v).collect::<Vec<Fr>>()
        })
        .reduce(|| vec![Fr::from(0u64); cols], |a, b| a.iter().zip(&b).map(|(x, y)| *x + y).collect())
}
