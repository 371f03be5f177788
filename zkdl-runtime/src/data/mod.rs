//! Labelled classification data: loading, normalizing, splitting and batching.
//!
//! A [`Dataset`] holds `n` examples of `feature_count` real features (row-major `f32`) and a class
//! label each. The trainer quantizes the features to the fixed-point input scale `2^R`, so every
//! feature must lie in `[−2, 2)` — the range the protocol range-checks inputs to (`R + 2` bits, two's
//! complement). Loading therefore always ends with the same three steps, whatever the format:
//! non-finite values are rejected, the features are normalized ([`Normalization`]; the default depends
//! on the format), and values outside `[−2, 2)` are rejected with their example and feature index.
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

/// A labelled classification data set, features already normalized to real values (the trainer
/// quantizes them to the fixed-point input scale `2^R`).
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
}

/// How raw feature values are mapped to the real inputs of the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalization {
    /// Divide every feature by this (pixels: 255; digits: 16). Must be positive and finite.
    Divide(f32),
    /// Per-feature min–max to `[0, 1]` over the data set (a constant feature becomes 0).
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
        let permutation = shuffled(n, &mut rng);
        let (train, test) = permutation.split_at(train_count);
        Ok((self.subset(train), self.subset(test)))
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
        }
    }

    /// Checks that the data set fits a network: `feature_count == input_width` and
    /// `class_count <= output_width`.
    pub fn check_fits(&self, input_width: usize, output_width: usize) -> Result<(), DataError> {
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
            other => other.parse().map(LabelColumn::Index).map_err(|_| DataError::InvalidOption {
                what: format!("unknown label column `{s}`: expected first, last or a 0-based column index"),
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
        normalize(&mut features, feature_count, normalization);
        if let Some(position) = features.iter().position(|v| !(-INPUT_BOUND..INPUT_BOUND).contains(v)) {
            return Err(DataError::OutOfInputRange {
                name: origin,
                example: position / feature_count,
                feature: position % feature_count,
                value: features[position],
            });
        }
        Ok(Dataset { name, feature_count, class_count, features, labels })
    }
}

/// Applies `normalization` in place to row-major `features` of `feature_count` columns.
fn normalize(features: &mut [f32], feature_count: usize, normalization: Normalization) {
    match normalization {
        Normalization::None => {}
        Normalization::Divide(divisor) => {
            let divisor = f64::from(divisor);
            for value in features.iter_mut() {
                *value = (f64::from(*value) / divisor) as f32;
            }
        }
        Normalization::MinMax => {
            let mut min = vec![f32::INFINITY; feature_count];
            let mut max = vec![f32::NEG_INFINITY; feature_count];
            for row in features.chunks_exact(feature_count) {
                for (j, &value) in row.iter().enumerate() {
                    min[j] = min[j].min(value);
                    max[j] = max[j].max(value);
                }
            }
            for row in features.chunks_exact_mut(feature_count) {
                for (j, value) in row.iter_mut().enumerate() {
                    let (lo, hi) = (f64::from(min[j]), f64::from(max[j]));
                    // In [0, 1] up to rounding; the clamp keeps a rounding of 1 + ε inside the range.
                    *value = if hi > lo { ((f64::from(*value) - lo) / (hi - lo)).clamp(0.0, 1.0) as f32 } else { 0.0 };
                }
            }
        }
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
    fn minmax_maps_each_feature_to_unit_interval_and_constants_to_zero() {
        let mut features = vec![1.0, 7.0, -3.0, 3.0, 7.0, 5.0];
        normalize(&mut features, 3, Normalization::MinMax);
        assert_eq!(features, vec![0.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
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
