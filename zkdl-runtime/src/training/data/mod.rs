//! Labelled classification data: loading, normalizing, splitting and batching.
//!
//! A [`Dataset`] holds `n` examples of `feature_count` real features (row-major `f32`) and a class
//! label each. The trainer quantizes the features to the fixed-point input scale `2^R`, so every
//! feature must lie in `[−2, 2)` — the range the protocol range-checks inputs to (`R + 2` bits, two's
//! complement). Loading therefore always ends with the same three steps, whatever the format:
//! non-finite values are rejected, the features are normalized ([`Normalization`]; the default depends
//! on the format), and values outside `[−2, 2)` are rejected with their example and feature index.
//!
//! **Normalization is fitted on the training split.** A fixed map (divide by 255, or none) is applied
//! when the file is read. Min–max needs statistics, and statistics taken over every row would let the
//! test rows shape the inputs the model trains on: a file read with min–max keeps its raw values
//! ([`Dataset::scaler`] `None`) until [`Dataset::split`] fits per-feature minima and maxima on the
//! training rows alone and applies them to both halves. Either way the map applied is a [`Scaler`],
//! with its statistics, which is printed, written to the JSON output and saved with the model
//! (`zkdl predict` applies it to new data). A feature constant over the training rows keeps its value
//! (clipped to `[−1, 1]`): a constant-1 column stays a column of ones. A test or new value that the map
//! sends past `±INPUT_CLIP` is clipped there and counted ([`Dataset::clipped`]).
//!
//! Sources:
//! - [`Dataset::digits`] / [`Dataset::digits_rgb32`]: the UCI handwritten digits set embedded in the
//!   binary (see [`digits`] for the attribution and the upscaling).
//! - [`Dataset::load`]: a file in one of four formats ([`DataFormat`]) — CSV (one example per line,
//!   label in a chosen column), IDX (the MNIST / Fashion-MNIST image + label file pair), NumPy `.npy`
//!   (a 2-D or higher feature array, labels in a column or a companion 1-D file), CIFAR-10 binary
//!   batches. Any file may be gzip-compressed: compression is detected by the magic `1f 8b`, not by
//!   the extension, and sizes in error messages are of the decompressed content.
//!
//! Format detection, when [`LoadOptions::format`] is not given: the extension first (after removing a
//! `.gz`): `.npy` → npy, `.bin` → CIFAR-10, `.csv`/`.txt`/`.tsv` → CSV, a name containing `idx` and
//! `ubyte` → IDX; then the content: the npy magic, an IDX magic (`00 00 08 0k`), valid UTF-8 text → CSV,
//! a length that is a multiple of 3073 → CIFAR-10. Otherwise the file is rejected.
//!
//! Randomness is seeded only: [`Dataset::split`] and [`EpochBatches`] draw their permutations from
//! `ChaCha8Rng::seed_from_u64(seed)`, the split on stream `u64::MAX` and epoch `e` on stream `e`, so
//! the two never share a permutation and everything is reproducible from the seed.
//!
//! Indices: examples, features and label columns are 0-based; lines and columns of text files are
//! 1-based (as an editor shows them).

mod batches;
mod cifar;
mod csv;
pub mod digits;
mod error;
mod idx;
mod npy;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use batches::EpochBatches;
pub use error::DataError;

/// The fixed-point input range of the protocol: normalized features must lie in `[−INPUT_BOUND, INPUT_BOUND)`.
pub const INPUT_BOUND: f32 = 2.0;

/// The bound normalized inputs are clipped to when a fitted map sends a new value beyond it (a test
/// example outside the training range, say): inside the protocol's input range `[−2, 2)` with room for
/// the rounding to `2^R`.
pub const INPUT_CLIP: f32 = 1.99;

/// The map from a file's raw feature values to the network's inputs, with the statistics it was
/// fitted with; what a model must be given new data through.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scaler {
    /// The values as they are.
    None,
    /// Every value divided by `divisor`.
    Divide { divisor: f32 },
    /// Feature j to `(v − min[j]) / (max[j] − min[j])`, fitted on the training rows; a feature with
    /// `min[j] = max[j]` keeps its value, clipped to `[−1, 1]`.
    #[serde(rename = "minmax")]
    MinMax { min: Vec<f32>, max: Vec<f32> },
}

impl Scaler {
    /// Maps row-major `features` in place without clipping (a data file's own values, whose range is
    /// then checked, not clipped).
    fn apply_unclipped(&self, features: &mut [f32], feature_count: usize) {
        for row in features.chunks_exact_mut(feature_count.max(1)) {
            for (j, value) in row.iter_mut().enumerate() {
                *value = self.map(j, *value);
            }
        }
    }

    /// Min–max statistics of row-major `features` of `feature_count` columns (rows with no
    /// features give an empty map; callers fit on at least one row).
    pub fn fit_min_max(features: &[f32], feature_count: usize) -> Scaler {
        let mut min = vec![f32::INFINITY; feature_count];
        let mut max = vec![f32::NEG_INFINITY; feature_count];
        for row in features.chunks_exact(feature_count.max(1)) {
            for (j, &value) in row.iter().enumerate() {
                min[j] = min[j].min(value);
                max[j] = max[j].max(value);
            }
        }
        Scaler::MinMax { min, max }
    }

    /// The input for raw value `v` of feature `j`, before clipping.
    pub fn map(&self, j: usize, v: f32) -> f32 {
        match self {
            Scaler::None => v,
            Scaler::Divide { divisor } => (f64::from(v) / f64::from(*divisor)) as f32,
            Scaler::MinMax { min, max } => {
                let (lo, hi) = (f64::from(min[j]), f64::from(max[j]));
                if hi > lo {
                    ((f64::from(v) - lo) / (hi - lo)) as f32
                } else {
                    v.clamp(-1.0, 1.0)
                }
            }
        }
    }

    /// Maps row-major raw `features` in place, clipping to `±INPUT_CLIP`; returns how many values were
    /// clipped.
    pub fn apply(&self, features: &mut [f32], feature_count: usize) -> usize {
        let mut clipped = 0;
        for row in features.chunks_exact_mut(feature_count.max(1)) {
            for (j, value) in row.iter_mut().enumerate() {
                let mapped = self.map(j, *value);
                *value = mapped.clamp(-INPUT_CLIP, INPUT_CLIP);
                clipped += usize::from(*value != mapped);
            }
        }
        clipped
    }

    /// The number of features a fitted map is for (`None` for a map of any width).
    pub fn width(&self) -> Option<usize> {
        match self {
            Scaler::MinMax { min, .. } => Some(min.len()),
            _ => None,
        }
    }

    /// The features a min–max map keeps as they are (constant over the rows it was fitted on).
    pub fn constant_features(&self) -> Vec<usize> {
        match self {
            Scaler::MinMax { min, max } => (0..min.len()).filter(|&j| min[j] >= max[j]).collect(),
            _ => Vec::new(),
        }
    }

    /// One line for humans: `min–max per feature over 1438 rows (2 constant features kept: 0, 5)`.
    pub fn describe(&self) -> String {
        match self {
            Scaler::None => "none (values as given)".to_string(),
            Scaler::Divide { divisor } => format!("divide by {divisor}"),
            Scaler::MinMax { min, .. } => {
                let constant = self.constant_features();
                let kept = match constant.len() {
                    0 => String::new(),
                    n => {
                        let shown: Vec<String> = constant.iter().take(8).map(usize::to_string).collect();
                        let more = if n > 8 { ", …" } else { "" };
                        let (s, is) = if n == 1 { ("", "is") } else { ("s", "are") };
                        format!("; constant, so kept as {is}: feature{s} {}{more}", shown.join(", "))
                    }
                };
                format!("min–max per feature, fitted on the training split ({} features{kept})", min.len())
            }
        }
    }
}

/// A labelled classification data set, features normalized to real values (the trainer quantizes
/// them to the fixed-point input scale `2^R`), or raw ones waiting for min–max statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// A name for messages: `digits`, or the file name.
    pub name: String,
    /// The features per example (`d_0`, the network's input width).
    pub feature_count: usize,
    /// The number of classes (the one-hot width); every label is `< class_count`.
    pub class_count: usize,
    /// The features, row-major: `len() * feature_count` values, normalized into `[−2, 2)`.
    pub features: Vec<f32>,
    /// The class label of each example.
    pub labels: Vec<u32>,
    /// The map applied to the features; `None` while they are raw values that min–max will be fitted
    /// on ([`split`](Self::split) fits it on the training rows).
    pub scaler: Option<Scaler>,
    /// Values the map sent beyond `±INPUT_CLIP` and that were clipped there.
    pub clipped: usize,
}

/// How to read a file; every field left `None` takes the format's default.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The file format; `None` detects it (see the [module documentation](self)).
    pub format: Option<DataFormat>,
    /// CSV and npy without a companion label file: the column holding the label (default: the last).
    pub label_column: Option<LabelColumn>,
    /// CSV: whether the first non-empty line is a header; `None` detects it (a non-numeric cell → header).
    pub has_header: Option<bool>,
    /// IDX and npy: the label file. IDX default: beside the image file by the standard naming
    /// (`*-images-idx3-ubyte[.gz]` → `*-labels-idx1-ubyte[.gz]`); npy default: a label column.
    pub labels_path: Option<PathBuf>,
    /// The normalization; `None` = divide by 255 for IDX and CIFAR-10, per-feature min–max for CSV and npy.
    pub normalization: Option<Normalization>,
    /// The number of classes; `None` = 10 for IDX and CIFAR-10, the largest label + 1 for CSV and npy.
    pub class_count: Option<usize>,
    /// Keep the raw values (no normalization, no range check; `scaler` `None`): new data that a
    /// model's saved normalization is applied to ([`Dataset::normalized_with`]).
    pub raw: bool,
}

/// A data file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    /// Comma-, semicolon-, tab- or whitespace-separated numbers, one example per line.
    Csv,
    /// The IDX format of MNIST and Fashion-MNIST: an `idx3-ubyte` image file and an `idx1-ubyte` label file.
    Idx,
    /// A NumPy `.npy` array (format versions 1–3, C order).
    Npy,
    /// A CIFAR-10 binary batch: records of 1 label byte and 3072 pixel bytes (1024 R, 1024 G, 1024 B).
    Cifar10,
}

/// Which column of a CSV row (or of a 2-D npy array) holds the label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The first column.
    First,
    /// The last column.
    Last,
    /// The column with this 0-based index.
    Index(usize),
    /// No label column: every column is a feature, and every example gets label 0 (data a model
    /// makes predictions for).
    None,
}

/// How raw feature values are mapped to the real inputs of the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalization {
    /// Divide every feature by this (pixels: 255; digits: 16). Must be positive and finite.
    Divide(f32),
    /// Per-feature min–max to `[0, 1]`, fitted on the training split ([`Scaler::MinMax`]).
    MinMax,
    /// Leave the values as they are.
    None,
}

impl Dataset {
    /// Builds a data set from its parts, checking that the buffer has `labels.len() × feature_count`
    /// values, that every label is `< class_count` and that every feature is finite and in `[−2, 2)`.
    /// The features are taken as already normalized.
    pub fn from_parts(
        name: impl Into<String>,
        feature_count: usize,
        class_count: usize,
        features: Vec<f32>,
        labels: Vec<u32>,
    ) -> Result<Dataset, DataError> {
        let raw = RawData::new(name.into(), feature_count, features, labels, |i| format!("example {i}"));
        raw.finish(Normalization::None, Some(class_count), &LoadOptions::default())
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the data set has no examples (a loaded data set never is empty).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features of example `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn example(&self, i: usize) -> &[f32] {
        &self.features[i * self.feature_count..(i + 1) * self.feature_count]
    }

    /// The number of examples of each class: a vector of `class_count` counts summing to `len()`.
    pub fn class_histogram(&self) -> Vec<usize> {
        let mut counts = vec![0; self.class_count];
        for &label in &self.labels {
            if let Some(count) = counts.get_mut(label as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// Loads a file, detecting its format unless `options.format` names it (see the
    /// [module documentation](self) for the formats, the detection and the defaults).
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Dataset, DataError> {
        let bytes = read_maybe_gz(path)?;
        let format = match options.format {
            Some(format) => format,
            None => detect_format(path, &bytes)?,
        };
        check_options(path, format, options)?;
        match format {
            DataFormat::Csv => csv::load(path, &bytes, options),
            DataFormat::Idx => idx::load(path, &bytes, options),
            DataFormat::Npy => npy::load(path, &bytes, options),
            DataFormat::Cifar10 => cifar::load(path, &bytes, options),
        }
    }

    /// A seeded shuffle, then a split: the test set gets `round(n · test_fraction)` examples, the
    /// training set the other (first) ones of the permutation. No stratification.
    ///
    /// `test_fraction` must lie in `[0, 1)`, and the training set must not be empty; the test set may be
    /// (with `test_fraction = 0`, or a fraction too small for one example). Both halves keep the name
    /// and the class count of `self`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        let (train, test) = self.split_indices(test_fraction, seed)?;
        let (mut train, mut test) = (self.subset(&train), self.subset(&test));
        if self.scaler.is_none() {
            // Min–max statistics of the training rows only, applied to both halves.
            let scaler = Scaler::fit_min_max(&train.features, self.feature_count);
            for half in [&mut train, &mut test] {
                half.clipped = scaler.apply(&mut half.features, self.feature_count);
                half.scaler = Some(scaler.clone());
            }
        }
        Ok((train, test))
    }

    /// The example indices of [`split`](Self::split)'s halves: (training, test), each in the order of
    /// the permutation.
    pub fn split_indices(&self, test_fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>), DataError> {
        let bad = |reason| DataError::BadSplit {
            name: self.name.clone(),
            examples: self.len(),
            fraction: test_fraction,
            reason,
        };
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(bad("the test fraction must be at least 0 and below 1"));
        }
        let n = self.len();
        // The product is in [0, n), so the conversion back is exact enough and cannot overflow.
        let test_count = ((n as f64) * test_fraction).round() as usize;
        let train_count = n.saturating_sub(test_count);
        if train_count == 0 {
            return Err(bad("the training set would be empty"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(SPLIT_STREAM);
        let mut permutation = shuffled(n, &mut rng);
        let test = permutation.split_off(train_count);
        Ok((permutation, test))
    }

    /// The data set with min–max fitted on all its examples, if it still holds raw values (for a data
    /// set used whole, with no test split); otherwise itself.
    pub fn fitted_on_all(mut self) -> Dataset {
        if self.scaler.is_none() {
            let scaler = Scaler::fit_min_max(&self.features, self.feature_count);
            self.clipped = scaler.apply(&mut self.features, self.feature_count);
            self.scaler = Some(scaler);
        }
        self
    }

    /// Raw values ([`Scaler::None`], or `scaler` `None`) mapped through a model's `scaler`, clipped to
    /// `±INPUT_CLIP` ([`clipped`](Self::clipped) counts them): new data prepared as the model's training
    /// data was.
    pub fn normalized_with(mut self, scaler: &Scaler) -> Result<Dataset, DataError> {
        if !matches!(self.scaler, None | Some(Scaler::None)) {
            return Err(DataError::InvalidOption {
                what: format!("{} is already normalized; read it with no normalization to apply a model's", self.name),
            });
        }
        if let Some(width) = scaler.width().filter(|&w| w != self.feature_count) {
            return Err(DataError::InvalidOption {
                what: format!("the normalization is for {width} features; {} has {}", self.name, self.feature_count),
            });
        }
        self.clipped = scaler.apply(&mut self.features, self.feature_count);
        self.scaler = Some(scaler.clone());
        Ok(self)
    }

    /// The examples at `indices`, in that order (repetitions allowed); same name and class count.
    ///
    /// # Panics
    /// If an index is `>= self.len()`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.feature_count);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            features.extend_from_slice(self.example(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            name: self.name.clone(),
            feature_count: self.feature_count,
            class_count: self.class_count,
            features,
            labels,
            scaler: self.scaler.clone(),
            clipped: 0,
        }
    }

    /// Checks that the data set fits a network: `feature_count == input_width` and
    /// `class_count <= output_width`.
    pub fn check_fits(&self, input_width: usize, output_width: usize) -> Result<(), DataError> {
        if self.scaler.is_none() {
            return Err(DataError::InvalidOption {
                what: format!(
                    "{} holds raw values: min–max is fitted on a training split (Dataset::split) or on all of it \
                     (Dataset::fitted_on_all) before training",
                    self.name
                ),
            });
        }
        if self.feature_count != input_width {
            return Err(DataError::FeatureCountMismatch {
                name: self.name.clone(),
                features: self.feature_count,
                input_width,
            });
        }
        if self.class_count > output_width {
            return Err(DataError::ClassCountMismatch {
                name: self.name.clone(),
                classes: self.class_count,
                output_width,
            });
        }
        Ok(())
    }
}

/// The ChaCha stream of [`Dataset::split`]; epoch `e` of [`EpochBatches`] uses stream `e`.
const SPLIT_STREAM: u64 = u64::MAX;

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub(crate) fn shuffled(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut permutation: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.gen_range(0..=i);
        permutation.swap(i, j);
    }
    permutation
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataFormat::Csv => "csv",
            DataFormat::Idx => "idx",
            DataFormat::Npy => "npy",
            DataFormat::Cifar10 => "cifar10",
        })
    }
}

impl FromStr for DataFormat {
    type Err = DataError;

    /// `csv`, `idx`, `npy` or `cifar10` (case-insensitive; `mnist` and `cifar` are accepted too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(DataFormat::Csv),
            "idx" | "mnist" => Ok(DataFormat::Idx),
            "npy" => Ok(DataFormat::Npy),
            "cifar10" | "cifar-10" | "cifar" => Ok(DataFormat::Cifar10),
            _ => Err(DataError::InvalidOption {
                what: format!("unknown data format `{s}`: expected csv, idx, npy or cifar10"),
            }),
        }
    }
}

impl FromStr for LabelColumn {
    type Err = DataError;

    /// `first`, `last`, or a 0-based column index.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "first" => Ok(LabelColumn::First),
            "last" => Ok(LabelColumn::Last),
            "none" => Ok(LabelColumn::None),
            other => other.parse().map(LabelColumn::Index).map_err(|_| DataError::InvalidOption {
                what: format!("unknown label column `{s}`: expected first, last, none or a 0-based column index"),
            }),
        }
    }
}

impl FromStr for Normalization {
    type Err = DataError;

    /// `minmax`, `none`, `divide:D` (or just a number `D`) with `D` positive and finite.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let invalid = || DataError::InvalidOption {
            what: format!(
                "unknown normalization `{s}`: expected minmax, none or divide:D with D > 0 (e.g. divide:255)"
            ),
        };
        match lower.as_str() {
            "minmax" | "min-max" => Ok(Normalization::MinMax),
            "none" => Ok(Normalization::None),
            other => {
                let number = other.strip_prefix("divide:").or_else(|| other.strip_prefix("divide=")).unwrap_or(other);
                let divisor: f32 = number.trim().parse().map_err(|_| invalid())?;
                let normalization = Normalization::Divide(divisor);
                check_normalization(normalization)?;
                Ok(normalization)
            }
        }
    }
}

fn check_normalization(normalization: Normalization) -> Result<(), DataError> {
    match normalization {
        Normalization::Divide(d) if !(d.is_finite() && d > 0.0) => {
            Err(DataError::InvalidOption { what: format!("normalization divisor {d}: it must be positive and finite") })
        }
        _ => Ok(()),
    }
}

/// Rejects options that do not apply to the format (a silently ignored option is a surprise).
fn check_options(path: &Path, format: DataFormat, options: &LoadOptions) -> Result<(), DataError> {
    let not_for = |option: &str| DataError::InvalidOption {
        what: format!("{option} does not apply to the {format} format (loading {})", path.display()),
    };
    if options.labels_path.is_some() && !matches!(format, DataFormat::Idx | DataFormat::Npy) {
        return Err(not_for("a separate label file"));
    }
    if options.has_header.is_some() && format != DataFormat::Csv {
        return Err(not_for("a header setting"));
    }
    if options.label_column.is_some() && !matches!(format, DataFormat::Csv | DataFormat::Npy) {
        return Err(not_for("a label column"));
    }
    if options.label_column.is_some() && options.labels_path.is_some() {
        return Err(DataError::InvalidOption {
            what: "both a label column and a label file are given; give one".to_string(),
        });
    }
    if options.class_count == Some(0) {
        return Err(DataError::InvalidOption { what: "the class count must be at least 1".to_string() });
    }
    if let Some(normalization) = options.normalization {
        check_normalization(normalization)?;
    }
    Ok(())
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a whole file, decompressing it if it starts with the gzip magic.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    gunzip_if_compressed(path, bytes)
}

/// Decompresses `bytes` if they start with the gzip magic (all members of a multi-member file).
pub(crate) fn gunzip_if_compressed(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut decompressed = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut decompressed)
        .map_err(|source| DataError::Gzip { path: path.to_path_buf(), source })?;
    Ok(decompressed)
}

/// The file's name without a trailing `.gz`, lowercased: what the extension checks look at.
fn plain_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match name.strip_suffix(".gz") {
        Some(stripped) => stripped.to_string(),
        None => name,
    }
}

/// A name for a data set loaded from `path`: its file name.
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn detect_format(path: &Path, bytes: &[u8]) -> Result<DataFormat, DataError> {
    let name = plain_name(path);
    let extension = Path::new(&name).extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    match extension.as_str() {
        "npy" => return Ok(DataFormat::Npy),
        "bin" => return Ok(DataFormat::Cifar10),
        "csv" | "txt" | "tsv" => return Ok(DataFormat::Csv),
        _ => {}
    }
    if name.contains("idx") && name.contains("ubyte") {
        return Ok(DataFormat::Idx);
    }
    if bytes.starts_with(npy::MAGIC) {
        return Ok(DataFormat::Npy);
    }
    if bytes.len() >= 4 && bytes[..3] == [0, 0, 0x08] && (1..=4).contains(&bytes[3]) {
        return Ok(DataFormat::Idx);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(DataFormat::Csv);
    }
    if !bytes.is_empty() && bytes.len() % cifar::RECORD_BYTES == 0 {
        return Ok(DataFormat::Cifar10);
    }
    Err(DataError::UnknownFormat {
        path: path.to_path_buf(),
        reason: format!(
            "{}; the content is neither text nor a npy or IDX file, and its {} bytes are not whole CIFAR-10 records",
            if extension.is_empty() {
                "no extension".to_string()
            } else {
                format!("the extension `{extension}` is not one of csv, txt, tsv, npy, bin")
            },
            bytes.len()
        ),
    })
}

/// Decoded but unchecked examples: what each format's reader produces, before [`RawData::finish`]
/// applies the checks and the normalization shared by all formats.
pub(crate) struct RawData<L: Fn(usize) -> String> {
    /// The data set's name.
    pub name: String,
    /// What messages name as the source: the file's path, or the name.
    pub origin: String,
    /// The features per example.
    pub feature_count: usize,
    /// Raw feature values, row-major.
    pub features: Vec<f32>,
    /// The labels (not yet checked against the class count).
    pub labels: Vec<u32>,
    /// Where example `i` came from, for messages (`line 7`, `example 3 (byte offset 11)`, …).
    pub locate: L,
}

impl<L: Fn(usize) -> String> RawData<L> {
    pub(crate) fn new(name: String, feature_count: usize, features: Vec<f32>, labels: Vec<u32>, locate: L) -> Self {
        RawData { origin: name.clone(), name, feature_count, features, labels, locate }
    }

    /// Names `path` as the source in error messages.
    pub(crate) fn with_origin(self, path: &Path) -> Self {
        RawData { origin: path.display().to_string(), ..self }
    }

    /// Checks the shape, the labels and the values, normalizes, and checks the input range.
    ///
    /// `default_classes` is the format's class count (`None`: the largest label + 1); the options
    /// override it and the normalization `default_normalization`.
    pub(crate) fn finish(
        self,
        default_normalization: Normalization,
        default_classes: Option<usize>,
        options: &LoadOptions,
    ) -> Result<Dataset, DataError> {
        let RawData { name, origin, feature_count, mut features, labels, locate } = self;
        if labels.is_empty() {
            return Err(DataError::Empty { name: origin, what: "no examples" });
        }
        if feature_count == 0 {
            return Err(DataError::Empty { name: origin, what: "no features" });
        }
        if labels.len().checked_mul(feature_count) != Some(features.len()) {
            return Err(DataError::LengthMismatch {
                name: origin,
                features_len: features.len(),
                examples: labels.len(),
                feature_count,
            });
        }
        if let Some(position) = features.iter().position(|v| !v.is_finite()) {
            return Err(DataError::NonFinite {
                name: origin,
                location: locate(position / feature_count),
                feature: position % feature_count,
                value: f64::from(features[position]),
            });
        }
        let max_label = labels.iter().copied().max().unwrap_or(0);
        let class_count = match options.class_count.or(default_classes) {
            Some(0) => return Err(DataError::InvalidOption { what: "the class count must be at least 1".to_string() }),
            Some(count) => count,
            None => max_label as usize + 1,
        };
        if let Some(example) = labels.iter().position(|&l| l as usize >= class_count) {
            return Err(DataError::LabelOutOfRange {
                name: origin,
                location: locate(example),
                label: u64::from(labels[example]),
                class_count,
            });
        }
        let normalization = options.normalization.unwrap_or(default_normalization);
        check_normalization(normalization)?;
        let scaler = match normalization {
            // Fitted on the training rows when the data is split (module docs).
            Normalization::MinMax => {
                return Ok(Dataset { name, feature_count, class_count, features, labels, scaler: None, clipped: 0 })
            }
            Normalization::Divide(divisor) => Scaler::Divide { divisor },
            Normalization::None => Scaler::None,
        };
        if options.raw {
            return Ok(Dataset { name, feature_count, class_count, features, labels, scaler: None, clipped: 0 });
        }
        scaler.apply_unclipped(&mut features, feature_count);
        if let Some(position) = features.iter().position(|v| !(-INPUT_BOUND..INPUT_BOUND).contains(v)) {
            return Err(DataError::OutOfInputRange {
                name: origin,
                example: position / feature_count,
                feature: position % feature_count,
                value: features[position],
            });
        }
        Ok(Dataset { name, feature_count, class_count, features, labels, scaler: Some(scaler), clipped: 0 })
    }
}

/// Converts a label read as a number to `u32`, or says why it is not a label.
pub(crate) fn label_from_f64(value: f64) -> Result<u32, &'static str> {
    if !value.is_finite() {
        Err("not finite")
    } else if value < 0.0 {
        Err("negative")
    } else if value.fract() != 0.0 {
        Err("not an integer")
    } else if value > f64::from(u32::MAX) {
        Err("too large")
    } else {
        Ok(value as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minmax_maps_each_feature_to_unit_interval_and_keeps_constants() {
        let mut features = vec![1.0, 7.0, -3.0, 3.0, 7.0, 5.0, 2.0, 7.0, 1.0];
        let scaler = Scaler::fit_min_max(&features, 3);
        assert_eq!(scaler, Scaler::MinMax { min: vec![1.0, 7.0, -3.0], max: vec![3.0, 7.0, 5.0] });
        assert_eq!(scaler.apply(&mut features, 3), 0);
        // The constant 7 keeps its value, clipped to [−1, 1]: a constant column stays constant.
        assert_eq!(features, vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5, 1.0, 0.5]);
        assert_eq!(scaler.constant_features(), vec![1]);
        // New values beyond the fitted range map past [0, 1], and past ±1.99 are clipped and counted.
        let mut new = vec![5.0, 0.5, 13.0, -5.0, -2.0, -3.0];
        assert_eq!(scaler.apply(&mut new, 3), 3);
        assert_eq!(new, vec![1.99, 0.5, 1.99, -1.99, -1.0, 0.0]);
        let json = serde_json::to_string(&scaler).unwrap();
        assert_eq!(json, r#"{"kind":"minmax","min":[1.0,7.0,-3.0],"max":[3.0,7.0,5.0]}"#);
        assert_eq!(serde_json::from_str::<Scaler>(&json).unwrap(), scaler);
        assert_eq!(
            serde_json::to_string(&Scaler::Divide { divisor: 255.0 }).unwrap(),
            r#"{"kind":"divide","divisor":255.0}"#
        );
    }

    #[test]
    fn labels_from_numbers() {
        assert_eq!(label_from_f64(3.0), Ok(3));
        assert_eq!(label_from_f64(-1.0), Err("negative"));
        assert_eq!(label_from_f64(2.5), Err("not an integer"));
        assert_eq!(label_from_f64(f64::NAN), Err("not finite"));
        assert_eq!(label_from_f64(1e12), Err("too large"));
    }

    #[test]
    fn option_strings_parse() {
        assert_eq!("minmax".parse::<Normalization>().ok(), Some(Normalization::MinMax));
        assert_eq!("divide:255".parse::<Normalization>().ok(), Some(Normalization::Divide(255.0)));
        assert_eq!("16".parse::<Normalization>().ok(), Some(Normalization::Divide(16.0)));
        assert!("divide:0".parse::<Normalization>().is_err());
        assert!("divide:-3".parse::<Normalization>().is_err());
        assert_eq!("Last".parse::<LabelColumn>().ok(), Some(LabelColumn::Last));
        assert_eq!("4".parse::<LabelColumn>().ok(), Some(LabelColumn::Index(4)));
        assert_eq!("CIFAR10".parse::<DataFormat>().ok(), Some(DataFormat::Cifar10));
        assert!("parquet".parse::<DataFormat>().is_err());
    }

    #[test]
    fn format_detection_by_name_then_content() {
        let p = Path::new;
        assert_eq!(detect_format(p("a.csv.gz"), b"\x00\x01").ok(), Some(DataFormat::Csv));
        assert_eq!(detect_format(p("train-images-idx3-ubyte.gz"), b"1,2").ok(), Some(DataFormat::Idx));
        assert_eq!(detect_format(p("x"), b"\x93NUMPY\x01\x00").ok(), Some(DataFormat::Npy));
        assert_eq!(detect_format(p("x"), &[0, 0, 8, 3, 0, 0, 0, 0]).ok(), Some(DataFormat::Idx));
        assert_eq!(detect_format(p("x"), b"1,2\n3,4\n").ok(), Some(DataFormat::Csv));
        assert_eq!(detect_format(p("x"), &[0xff; 3073]).ok(), Some(DataFormat::Cifar10));
        assert!(matches!(detect_format(p("x"), &[0xff; 100]), Err(DataError::UnknownFormat { .. })));
    }
}
