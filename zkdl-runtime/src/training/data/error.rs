//! [`DataError`]: why a data set could not be loaded, split, batched or fed to a network.
//!
//! Every variant carries where the problem is — the file, a 1-based line and column for text files,
//! a byte offset or a record for binary files, a 0-based example and feature index for values — and
//! its message says, where there is something to do, what to do about it.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why a data set could not be loaded, split, batched or checked against a network.
///
/// Lines and columns of text files are 1-based and count every line of the file (header and blank
/// lines included); example, feature and record indices are 0-based.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file starts with the gzip magic `1f 8b` but does not decompress.
    #[error("{}: the file starts like a gzip file but does not decompress: {source}", .path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: io::Error,
    },
    /// Neither the file's name nor its content tells which format it is in.
    #[error(
        "{}: cannot tell the data format ({reason}); name it explicitly (--format csv|idx|npy|cifar10)",
        .path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was looked at.
        reason: String,
    },
    /// A binary file does not start with the magic number of its format.
    #[error("{}: not {what}: expected the magic {expected} at byte 0, found {found}", .path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// What the file was expected to be (with a hint if the magic looks like a related format).
        what: String,
        /// The expected magic, as text (hexadecimal for IDX, escaped bytes for npy).
        expected: String,
        /// The bytes found, in the same notation.
        found: String,
    },
    /// A header is malformed: unparsable, or describing an impossible array.
    #[error("{}: malformed header: {what}", .path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The file is shorter than its header says (sizes of compressed files are after decompression).
    #[error("{}: truncated {what}: expected {expected_bytes} bytes, found {found_bytes}", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read, and what the header announced.
        what: String,
        /// The bytes the header announces (header included).
        expected_bytes: u64,
        /// The bytes present.
        found_bytes: u64,
    },
    /// The file is longer than its header says.
    #[error(
        "{}: {what}: expected {expected_bytes} bytes but the file has {found_bytes}; \
         its header does not describe all of its content",
        .path.display()
    )]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// What was being read, and what the header announced.
        what: String,
        /// The bytes the header announces (header included).
        expected_bytes: u64,
        /// The bytes present.
        found_bytes: u64,
    },
    /// The last fixed-size record of a CIFAR-10 batch file is incomplete.
    #[error(
        "{}: truncated record {record} at byte offset {offset}: a CIFAR-10 record is {record_bytes} bytes \
         (1 label byte and 3072 pixel bytes), only {found_bytes} remain",
        .path.display()
    )]
    TruncatedRecord {
        /// The file.
        path: PathBuf,
        /// The index of the incomplete record (0-based).
        record: usize,
        /// The byte offset where it starts.
        offset: u64,
        /// The size of a complete record.
        record_bytes: u64,
        /// The bytes of it present.
        found_bytes: u64,
    },
    /// A text file is not valid UTF-8.
    #[error("{}: not a text file: invalid UTF-8 at byte offset {offset}", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The byte offset of the first invalid byte (after decompression).
        offset: u64,
    },
    /// A CSV cell is not a number.
    #[error("{}: line {line}, column {column}: `{text}` is not a number", .path.display())]
    NonNumeric {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the file.
        line: usize,
        /// The 1-based column.
        column: usize,
        /// The cell's text.
        text: String,
    },
    /// A CSV row has a different number of cells than the first data row.
    #[error("{}: line {line} has {found} columns, but the first data row has {expected}", .path.display())]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the file.
        line: usize,
        /// The number of columns of the first data row.
        expected: usize,
        /// The number of columns of this line.
        found: usize,
    },
    /// A CSV file has fewer than two columns: no room for a label and a feature.
    #[error(
        "{}: line {line} has {found} column(s); a data row needs at least one feature and a label",
        .path.display()
    )]
    TooFewColumns {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the file.
        line: usize,
        /// The number of columns found.
        found: usize,
    },
    /// The label column asked for does not exist.
    #[error(
        "{}: the label column index {index} (0-based) is out of range: the data has {columns} columns",
        .path.display()
    )]
    LabelColumnOutOfRange {
        /// The file.
        path: PathBuf,
        /// The 0-based column index asked for.
        index: usize,
        /// The number of columns.
        columns: usize,
    },
    /// A label is not a non-negative integer (negative, fractional, not finite, or too large).
    #[error("{name}: {location}: the label `{value}` is {reason}; labels must be integers 0, 1, …, classes − 1")]
    InvalidLabel {
        /// The file or data set.
        name: String,
        /// Where: `line L, column C`, or `example i`.
        location: String,
        /// The label as found.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A label is not below the class count.
    #[error(
        "{name}: {location}: label {label} is out of range for {class_count} classes (labels must be < {class_count}); \
         fix the label or raise the class count"
    )]
    LabelOutOfRange {
        /// The file or data set.
        name: String,
        /// Where: `line L, column C`, `example i (byte offset o)` or `record r (byte offset o)`.
        location: String,
        /// The label.
        label: u64,
        /// The class count it was checked against.
        class_count: usize,
    },
    /// An IDX image file's label file was neither given nor found beside it.
    #[error(
        "{}: no label file: {}; pass the label file explicitly (--labels)",
        .path.display(),
        tried_text(.tried)
    )]
    MissingLabels {
        /// The feature (image) file.
        path: PathBuf,
        /// The candidate label files looked for.
        tried: Vec<PathBuf>,
    },
    /// The feature and label files hold different numbers of examples.
    #[error(
        "{} holds {examples} examples but {} holds {labels} labels; they must match one to one",
        .features_path.display(),
        .labels_path.display()
    )]
    CountMismatch {
        /// The feature (image) file.
        features_path: PathBuf,
        /// The number of examples in it.
        examples: u64,
        /// The label file.
        labels_path: PathBuf,
        /// The number of labels in it.
        labels: u64,
    },
    /// A `.npy` file holds a dtype this loader does not read.
    #[error(
        "{}: unsupported npy dtype `{dtype}`: supported are booleans, integers of 1, 2, 4, 8 bytes and floats of \
         4 and 8 bytes (e.g. '<f4', '<f8', '|u1', '<i8'); convert the array with numpy's astype",
        .path.display()
    )]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The `descr` of its header.
        dtype: String,
    },
    /// A `.npy` file stores its array in Fortran (column-major) order.
    #[error(
        "{}: the array is stored in Fortran (column-major) order; save it in C order \
         (numpy.save(path, numpy.ascontiguousarray(a)))",
        .path.display()
    )]
    FortranOrder {
        /// The file.
        path: PathBuf,
    },
    /// An array has a shape this loader cannot use.
    #[error("{}: the {what} array has shape {shape:?}, expected {expected}", .path.display())]
    BadShape {
        /// The file.
        path: PathBuf,
        /// Which array (`features` or `labels`).
        what: &'static str,
        /// Its shape.
        shape: Vec<u64>,
        /// The shapes accepted.
        expected: &'static str,
    },
    /// A feature value is NaN or infinite.
    #[error("{name}: {location}, feature {feature}: the value {value} is not finite")]
    NonFinite {
        /// The file or data set.
        name: String,
        /// Where: `line L`, `example i` or `record r`.
        location: String,
        /// The 0-based feature index.
        feature: usize,
        /// The value.
        value: f64,
    },
    /// A feature, after normalization, lies outside the protocol's fixed-point input range `[−2, 2)`.
    #[error(
        "{name}: example {example}, feature {feature}: the value {value} (after normalization) is outside the \
         input range [-2, 2) (inputs are range-checked to R + 2 bits, two's complement); normalize the data \
         (--normalize minmax) or divide it (e.g. --normalize divide:255)"
    )]
    OutOfInputRange {
        /// The file or data set.
        name: String,
        /// The 0-based example index.
        example: usize,
        /// The 0-based feature index.
        feature: usize,
        /// The normalized value.
        value: f32,
    },
    /// The data set has no examples (or no features).
    #[error("{name}: the data set is empty ({what})")]
    Empty {
        /// The file or data set.
        name: String,
        /// What is missing.
        what: &'static str,
    },
    /// The feature buffer's length is not examples × features.
    #[error(
        "{name}: {features_len} feature values for {examples} examples of {feature_count} features \
         (expected {})",
        .examples.saturating_mul(*.feature_count)
    )]
    LengthMismatch {
        /// The data set.
        name: String,
        /// The length of the feature buffer.
        features_len: usize,
        /// The number of examples (labels).
        examples: usize,
        /// The features per example.
        feature_count: usize,
    },
    /// A load option is invalid or does not apply to the format.
    #[error("invalid data option: {what}")]
    InvalidOption {
        /// What is wrong.
        what: String,
    },
    /// The test fraction of a split is not usable.
    #[error("{name}: cannot split {examples} examples with test fraction {fraction}: {reason}")]
    BadSplit {
        /// The data set.
        name: String,
        /// Its number of examples.
        examples: usize,
        /// The test fraction asked for.
        fraction: f64,
        /// What is wrong.
        reason: &'static str,
    },
    /// Batches cannot be formed.
    #[error("cannot batch {examples} examples into batches of {batch_size}: both must be positive")]
    BadBatching {
        /// The number of examples.
        examples: usize,
        /// The batch size.
        batch_size: usize,
    },
    /// The examples' width is not the network's input width.
    #[error(
        "{name}: the data has {features} features but the network's input width is {input_width}; use a data set \
         with {input_width} features per example or a network whose input width is {features}"
    )]
    FeatureCountMismatch {
        /// The data set.
        name: String,
        /// Its features per example.
        features: usize,
        /// The network's input width.
        input_width: usize,
    },
    /// The data set has more classes than the network has outputs.
    #[error(
        "{name}: the data has {classes} classes but the network's output width is {output_width}; use a network \
         with at least {classes} outputs"
    )]
    ClassCountMismatch {
        /// The data set.
        name: String,
        /// Its class count.
        classes: usize,
        /// The network's output width.
        output_width: usize,
    },
}

fn tried_text(tried: &[PathBuf]) -> String {
    if tried.is_empty() {
        return "its name does not follow the `*-images-idx3-ubyte` → `*-labels-idx1-ubyte` convention".to_string();
    }
    let names: Vec<String> = tried.iter().map(|p| format!("`{}`", p.display())).collect();
    format!("none of {} exists", names.join(", "))
}
