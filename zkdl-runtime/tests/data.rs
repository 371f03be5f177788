//! Data loading: the embedded digits, every file format (written to a temporary directory, raw and
//! gzipped), their error reports, splitting and epoch batching.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use zkdl_runtime::training::data::{
    DataError, DataFormat, Dataset, EpochBatches, LabelColumn, LoadOptions, Normalization,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh directory under the system temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("zkdl-data-test-{}-{tag}-{unique}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        TempDir(dir)
    }

    /// Writes `bytes` to `name` in the directory and returns its path.
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

fn load(path: &Path, options: &LoadOptions) -> Result<Dataset, DataError> {
    Dataset::load(path, options)
}

fn raw() -> LoadOptions {
    LoadOptions { normalization: Some(Normalization::None), ..LoadOptions::default() }
}

fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0000_0803u32, count, rows, cols] {
        bytes.extend_from_slice(&word.to_be_bytes());
    }
    bytes.extend_from_slice(pixels);
    bytes
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0x0000_0801u32.to_be_bytes());
    bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    bytes.extend_from_slice(labels);
    bytes
}

/// A version-1 `.npy` file, its header padded to a multiple of 64 bytes as numpy writes it.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if shape.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f4(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn i8s(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A CIFAR-10 record: the label, then pixel `j` = `(seed + j) mod 256`.
fn cifar_record(label: u8, seed: usize) -> Vec<u8> {
    let mut record = vec![label];
    record.extend((0..3072).map(|j| ((seed + j) % 256) as u8));
    record
}

fn assert_close(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Embedded digits

#[test]
fn digits_is_the_uci_set_scaled_to_unit_interval() {
    let digits = Dataset::digits();
    assert_eq!(digits.name, "digits");
    assert_eq!((digits.len(), digits.feature_count, digits.class_count), (1797, 64, 10));
    assert_eq!(digits.features.len(), 1797 * 64);
    assert!(digits.features.iter().all(|v| (0.0..=1.0).contains(v)));
    // Pixels are multiples of 1/16, and the full intensity 16 occurs.
    assert!(digits.features.iter().all(|v| (v * 16.0).fract() == 0.0));
    assert!(digits.features.contains(&1.0));
    let histogram = digits.class_histogram();
    assert_eq!(histogram.len(), 10);
    assert_eq!(histogram.iter().sum::<usize>(), 1797);
    // Every class has about 180 examples.
    assert!(histogram.iter().all(|&count| (170..=190).contains(&count)), "{histogram:?}");
    digits.check_fits(64, 10).expect("fits the digits network");
}

#[test]
fn digits_rgb32_upscales_each_pixel_to_a_block_in_three_equal_channels() {
    let digits = Dataset::digits();
    let rgb = Dataset::digits_rgb32();
    assert_eq!((rgb.len(), rgb.feature_count, rgb.class_count), (1797, 3072, 10));
    assert_eq!(rgb.labels, digits.labels);
    rgb.check_fits(3072, 10).expect("fits the paper network");
    for i in [0, 1, 500, 1796] {
        let small = digits.example(i);
        let big = rgb.example(i);
        let (red, rest) = big.split_at(1024);
        let (green, blue) = rest.split_at(1024);
        assert_eq!(red, green, "example {i}");
        assert_eq!(red, blue, "example {i}");
        for y in 0..32 {
            for x in 0..32 {
                assert_eq!(red[y * 32 + x], small[(y / 4) * 8 + x / 4], "example {i}, pixel ({y}, {x})");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

#[test]
fn csv_header_is_detected_and_values_are_min_max_normalized() {
    let dir = TempDir::new("csv-header");
    let with_header = dir.write("with.csv", b"width,height,class\n1,10,0\n3,30,1\n5,20,2\n");
    let without_header = dir.write("without.csv", b"1,10,0\n3,30,1\n5,20,2\n");
    let a = load(&with_header, &LoadOptions::default()).expect("loads");
    // Min–max waits for a split (fitted on the training rows); used whole, it is fitted on all rows.
    assert_eq!(a.scaler, None);
    assert_eq!(a.features, vec![1.0, 10.0, 3.0, 30.0, 5.0, 20.0]);
    assert!(a.check_fits(2, 3).is_err(), "raw values are not trained on");
    let a = a.fitted_on_all();
    let b = load(&without_header, &LoadOptions::default()).expect("loads").fitted_on_all();
    assert_eq!(a.name, "with.csv");
    assert_eq!((a.len(), a.feature_count, a.class_count), (3, 2, 3));
    assert_eq!(a.labels, vec![0, 1, 2]);
    assert_close(&a.features, &[0.0, 0.0, 0.5, 1.0, 1.0, 0.5]);
    assert_eq!((&a.features, &a.labels), (&b.features, &b.labels));

    // Saying there is no header makes the header line a non-numeric row.
    let options = LoadOptions { has_header: Some(false), ..LoadOptions::default() };
    let err = load(&with_header, &options).expect_err("header parsed as data");
    assert!(matches!(err, DataError::NonNumeric { line: 1, column: 1, .. }), "{err}");
}

/// Min–max statistics come from the training rows alone: a test row outside their range maps outside
/// [0, 1] (clipped at ±1.99 and counted), and a column constant over the training rows stays constant.
#[test]
fn minmax_is_fitted_on_the_training_split_only() {
    let dir = TempDir::new("csv-split");
    // Feature 0 ranges over 0..=98 in steps of 2 plus one outlier 1000; feature 1 is always 1.
    let mut text = String::new();
    for i in 0..50 {
        text += &format!("{},1,{}\n", 2 * i, i % 3);
    }
    text += "1000,1,0\n";
    let path = dir.write("split.csv", text.as_bytes());
    let data = load(&path, &LoadOptions::default()).expect("loads");
    let (train, test) = data.split(0.2, 9).expect("splits");
    let Some(zkdl_runtime::training::data::Scaler::MinMax { min, max }) = &train.scaler else {
        panic!("min–max fitted: {:?}", train.scaler)
    };
    assert_eq!(test.scaler, train.scaler, "the test rows get the training rows' map");
    // The statistics are the training rows' own.
    let raw_train: Vec<f32> = train.features.iter().step_by(2).map(|&v| v * (max[0] - min[0]) + min[0]).collect();
    let (lo, hi) = raw_train.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!((lo - min[0]).abs() < 1e-3 && (hi - max[0]).abs() < 1e-2, "{lo} {hi} vs {min:?} {max:?}");
    assert!(train.features.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(train.features.iter().skip(1).step_by(2).all(|&v| v == 1.0), "the constant column stays 1");
    assert!(test.features.iter().skip(1).step_by(2).all(|&v| v == 1.0));
    // The outlier is in the test rows or the training rows; either way nothing leaves ±1.99.
    assert!(train.features.iter().chain(&test.features).all(|v| v.abs() <= 1.99));
    if max[0] < 1000.0 {
        assert_eq!(test.clipped, 1, "the outlier 1000 maps far past 1 and is clipped");
    }
    assert_eq!(train.clipped, 0);
}

#[test]
fn csv_label_column_first_last_or_index() {
    let dir = TempDir::new("csv-label");
    let path = dir.write("cols.csv", b"0,0.25,1\n1,0.5,0\n1,0.75,1\n");
    let first = load(&path, &LoadOptions { label_column: Some(LabelColumn::First), ..raw() }).expect("loads");
    assert_eq!(first.labels, vec![0, 1, 1]);
    assert_eq!(first.features, vec![0.25, 1.0, 0.5, 0.0, 0.75, 1.0]);
    let last = load(&path, &LoadOptions { label_column: Some(LabelColumn::Last), ..raw() }).expect("loads");
    assert_eq!(last.labels, vec![1, 0, 1]);
    assert_eq!(last.class_count, 2);
    assert_eq!(last.features, vec![0.0, 0.25, 1.0, 0.5, 1.0, 0.75]);
    // The default is the last column.
    assert_eq!(load(&path, &raw()).expect("loads"), last);
    let middle = load(&path, &LoadOptions { label_column: Some(LabelColumn::Index(1)), ..raw() });
    let err = middle.expect_err("0.25 is not a label");
    assert!(err.to_string().contains("line 1, column 2"), "{err}");
    let beyond = load(&path, &LoadOptions { label_column: Some(LabelColumn::Index(3)), ..raw() });
    assert!(matches!(beyond, Err(DataError::LabelColumnOutOfRange { index: 3, columns: 3, .. })));
}

#[test]
fn csv_label_column_index_in_the_middle() {
    let dir = TempDir::new("csv-index");
    let path = dir.write("mid.tsv", b"0.5\t4\t-0.5\n1.5\t2\t-1.5\n");
    let data = load(&path, &LoadOptions { label_column: Some(LabelColumn::Index(1)), ..raw() }).expect("loads");
    assert_eq!(data.labels, vec![4, 2]);
    assert_eq!(data.class_count, 5);
    assert_eq!(data.features, vec![0.5, -0.5, 1.5, -1.5]);
}

#[test]
fn csv_gzip_is_detected_by_content_not_extension() {
    let dir = TempDir::new("csv-gz");
    let text = b"a,b,label\n0,4,1\n2,8,0\n";
    let plain = load(&dir.write("plain.csv", text), &LoadOptions::default()).expect("loads");
    let compressed = gzip(text);
    assert_eq!(compressed[..2], [0x1f, 0x8b]);
    let gz = load(&dir.write("data.csv.gz", &compressed), &LoadOptions::default()).expect("loads");
    let disguised = load(&dir.write("disguised.txt", &compressed), &LoadOptions::default()).expect("loads");
    assert_eq!((&gz.features, &gz.labels), (&plain.features, &plain.labels));
    assert_eq!((&disguised.features, &disguised.labels), (&plain.features, &plain.labels));
    assert_eq!(plain.labels, vec![1, 0]);
}

#[test]
fn csv_non_numeric_cell_names_line_and_column() {
    let dir = TempDir::new("csv-nonnumeric");
    let path = dir.write("bad.csv", b"x,y,label\n1,2,0\n\n3,oops,1\n");
    let err = load(&path, &LoadOptions::default()).expect_err("non-numeric cell");
    match &err {
        DataError::NonNumeric { line, column, text, .. } => {
            assert_eq!((*line, *column, text.as_str()), (4, 2, "oops"));
        }
        other => panic!("unexpected error {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("bad.csv") && message.contains("line 4, column 2") && message.contains("oops"),
        "{message}"
    );
}

#[test]
fn csv_ragged_row() {
    let dir = TempDir::new("csv-ragged");
    let path = dir.write("ragged.csv", b"1,2,0\n3,4,1\n5,1\n");
    let err = load(&path, &LoadOptions::default()).expect_err("ragged");
    assert!(matches!(err, DataError::RaggedRow { line: 3, expected: 3, found: 2, .. }), "{err}");
    assert!(err.to_string().contains("line 3 has 2 columns"), "{err}");
}

#[test]
fn csv_label_out_of_range_for_given_class_count() {
    let dir = TempDir::new("csv-range");
    let path = dir.write("labels.csv", b"0.5,0\n0.25,1\n0.75,2\n");
    let data = load(&path, &LoadOptions::default()).expect("class count from the labels");
    assert_eq!(data.class_count, 3);
    let wide = load(&path, &LoadOptions { class_count: Some(7), ..LoadOptions::default() }).expect("loads");
    assert_eq!(wide.class_count, 7);
    let err = load(&path, &LoadOptions { class_count: Some(2), ..LoadOptions::default() }).expect_err("label 2");
    assert!(matches!(err, DataError::LabelOutOfRange { label: 2, class_count: 2, .. }), "{err}");
    assert!(err.to_string().contains("line 3, column 2"), "{err}");
}

#[test]
fn csv_negative_fractional_and_non_finite_labels_and_values_are_rejected() {
    let dir = TempDir::new("csv-labels");
    let negative = load(&dir.write("neg.csv", b"0.5,1\n0.5,-1\n"), &LoadOptions::default()).expect_err("negative");
    assert!(matches!(negative, DataError::InvalidLabel { reason: "negative", .. }), "{negative}");
    assert!(negative.to_string().contains("line 2, column 2"), "{negative}");
    let fractional = load(&dir.write("frac.csv", b"0.5,1.5\n"), &LoadOptions::default()).expect_err("fraction");
    assert!(matches!(fractional, DataError::InvalidLabel { reason: "not an integer", .. }), "{fractional}");
    // An integer written as a float is a label.
    let float = load(&dir.write("float.csv", b"0.5,3.0\n"), &LoadOptions::default()).expect("3.0 is 3");
    assert_eq!(float.labels, vec![3]);
    let nan = load(&dir.write("nan.csv", b"1,0\nNaN,1\n"), &LoadOptions::default()).expect_err("NaN");
    assert!(matches!(nan, DataError::NonFinite { feature: 0, .. }), "{nan}");
    assert!(nan.to_string().contains("line 2, column 1"), "{nan}");
}

#[test]
fn out_of_range_features_are_rejected_with_example_and_feature() {
    let dir = TempDir::new("csv-input-range");
    let path = dir.write("big.csv", b"0.5,1.0,0\n0.5,5.0,1\n");
    let err = load(&path, &raw()).expect_err("5.0 is outside [-2, 2)");
    match &err {
        DataError::OutOfInputRange { example, feature, value, .. } => {
            assert_eq!((*example, *feature, *value), (1, 1, 5.0));
        }
        other => panic!("unexpected error {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("example 1, feature 1") && message.contains("--normalize minmax"), "{message}");
    // The default (min–max) and a division bring the same file into range.
    assert!(load(&path, &LoadOptions::default()).is_ok());
    let divided = load(&path, &LoadOptions { normalization: Some(Normalization::Divide(5.0)), ..raw() });
    assert_close(&divided.expect("loads").features, &[0.1, 0.2, 0.1, 1.0]);
    // The range is half-open: −2 is in, 2 is out.
    assert!(load(&dir.write("low.csv", b"-2,0\n"), &raw()).is_ok());
    let two = load(&dir.write("two.csv", b"2,0\n"), &raw()).expect_err("2 is out");
    assert!(matches!(two, DataError::OutOfInputRange { example: 0, feature: 0, .. }), "{two}");
    // from_parts checks the same range.
    let parts = Dataset::from_parts("parts", 2, 2, vec![0.0, 1.0, -3.0, 0.0], vec![0, 1]);
    assert!(matches!(parts, Err(DataError::OutOfInputRange { example: 1, feature: 0, .. })));
}

#[test]
fn options_that_do_not_apply_are_rejected() {
    let dir = TempDir::new("options");
    let path = dir.write("a.csv", b"0,1\n");
    let options = LoadOptions { labels_path: Some(path.clone()), ..LoadOptions::default() };
    assert!(matches!(load(&path, &options), Err(DataError::InvalidOption { .. })));
    let options = LoadOptions { normalization: Some(Normalization::Divide(0.0)), ..LoadOptions::default() };
    assert!(matches!(load(&path, &options), Err(DataError::InvalidOption { .. })));
    let missing = load(&dir.0.join("missing.csv"), &LoadOptions::default()).expect_err("no such file");
    assert!(matches!(missing, DataError::Io { .. }) && missing.to_string().contains("missing.csv"), "{missing}");
}

// ---------------------------------------------------------------------------------------------
// IDX

const IDX_PIXELS: [u8; 18] = [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60];

#[test]
fn idx_pair_found_beside_the_images_raw_and_gzipped() {
    let dir = TempDir::new("idx");
    let images = idx_images(3, 2, 3, &IDX_PIXELS);
    let labels = idx_labels(&[7, 0, 9]);
    let raw_path = dir.write("train-images-idx3-ubyte", &images);
    dir.write("train-labels-idx1-ubyte", &labels);
    let gz_path = dir.write("t10k-images-idx3-ubyte.gz", &gzip(&images));
    dir.write("t10k-labels-idx1-ubyte.gz", &gzip(&labels));
    for path in [&raw_path, &gz_path] {
        let data = load(path, &LoadOptions::default()).expect("loads");
        assert_eq!((data.len(), data.feature_count, data.class_count), (3, 6, 10), "{}", path.display());
        assert_eq!(data.labels, vec![7, 0, 9]);
        let expected: Vec<f32> = IDX_PIXELS.iter().map(|&p| f32::from(p) / 255.0).collect();
        assert_close(&data.features, &expected);
    }
    // An explicit label file with any name, and the format named explicitly.
    let other = dir.write("my-labels", &labels);
    let renamed = dir.write("pixels.dat", &images);
    let options = LoadOptions { format: Some(DataFormat::Idx), labels_path: Some(other), ..LoadOptions::default() };
    assert_eq!(load(&renamed, &options).expect("loads").labels, vec![7, 0, 9]);
}

#[test]
fn idx_bad_magic() {
    let dir = TempDir::new("idx-magic");
    let mut images = idx_images(3, 2, 3, &IDX_PIXELS);
    images[3] = 0x04;
    let path = dir.write("a-images-idx3-ubyte", &images);
    dir.write("a-labels-idx1-ubyte", &idx_labels(&[1, 2, 3]));
    let err = load(&path, &LoadOptions::default()).expect_err("bad magic");
    assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("0x00000803") && message.contains("0x00000804"), "{message}");

    // The label file given in place of the images: the message says so.
    let labels_path = dir.write("b-labels-idx1-ubyte", &idx_labels(&[1]));
    let err = load(&labels_path, &LoadOptions::default()).expect_err("label file");
    assert!(err.to_string().contains("this is an IDX label file"), "{err}");

    // A bad label magic.
    let images_path = dir.write("c-images-idx3-ubyte", &idx_images(3, 2, 3, &IDX_PIXELS));
    let mut labels = idx_labels(&[1, 2, 3]);
    labels[3] = 0x03;
    dir.write("c-labels-idx1-ubyte", &labels);
    let err = load(&images_path, &LoadOptions::default()).expect_err("bad label magic");
    assert!(err.to_string().contains("c-labels-idx1-ubyte") && err.to_string().contains("0x00000801"), "{err}");
}

#[test]
fn idx_truncated_files_report_byte_counts() {
    let dir = TempDir::new("idx-truncated");
    let path = dir.write("t-images-idx3-ubyte", &idx_images(3, 2, 3, &IDX_PIXELS[..12]));
    dir.write("t-labels-idx1-ubyte", &idx_labels(&[1, 2, 3]));
    let err = load(&path, &LoadOptions::default()).expect_err("truncated");
    assert!(matches!(err, DataError::Truncated { expected_bytes: 34, found_bytes: 28, .. }), "{err}");
    assert!(err.to_string().contains("expected 34 bytes, found 28"), "{err}");

    // A header cut short.
    let short = dir.write("s-images-idx3-ubyte", &idx_images(3, 2, 3, &[])[..10]);
    let err = load(&short, &LoadOptions::default()).expect_err("short header");
    assert!(matches!(err, DataError::Truncated { expected_bytes: 16, found_bytes: 10, .. }), "{err}");

    // A truncated gzipped label file: sizes are of the decompressed content.
    let gz = dir.write("g-images-idx3-ubyte.gz", &gzip(&idx_images(3, 2, 3, &IDX_PIXELS)));
    let mut labels = idx_labels(&[1, 2, 3]);
    labels.truncate(10);
    dir.write("g-labels-idx1-ubyte.gz", &gzip(&labels));
    let err = load(&gz, &LoadOptions::default()).expect_err("truncated labels");
    assert!(matches!(err, DataError::Truncated { expected_bytes: 11, found_bytes: 10, .. }), "{err}");
}

#[test]
fn idx_count_mismatch_and_label_out_of_range() {
    let dir = TempDir::new("idx-count");
    let path = dir.write("m-images-idx3-ubyte", &idx_images(3, 2, 3, &IDX_PIXELS));
    dir.write("m-labels-idx1-ubyte", &idx_labels(&[1, 2]));
    let err = load(&path, &LoadOptions::default()).expect_err("3 images, 2 labels");
    assert!(matches!(err, DataError::CountMismatch { examples: 3, labels: 2, .. }), "{err}");
    assert!(err.to_string().contains("3 examples") && err.to_string().contains("2 labels"), "{err}");

    let path = dir.write("r-images-idx3-ubyte", &idx_images(3, 2, 3, &IDX_PIXELS));
    dir.write("r-labels-idx1-ubyte", &idx_labels(&[1, 12, 3]));
    let err = load(&path, &LoadOptions::default()).expect_err("label 12 of 10 classes");
    assert!(matches!(err, DataError::LabelOutOfRange { label: 12, class_count: 10, .. }), "{err}");
    assert!(err.to_string().contains("example 1"), "{err}");
    // With more classes it loads.
    let data = load(&path, &LoadOptions { class_count: Some(13), ..LoadOptions::default() }).expect("loads");
    assert_eq!(data.class_count, 13);
}

#[test]
fn idx_missing_label_file_lists_what_was_tried() {
    let dir = TempDir::new("idx-missing");
    let path = dir.write("x-images-idx3-ubyte", &idx_images(3, 2, 3, &IDX_PIXELS));
    let err = load(&path, &LoadOptions::default()).expect_err("no labels");
    assert!(matches!(&err, DataError::MissingLabels { tried, .. } if tried.len() == 2), "{err}");
    assert!(err.to_string().contains("x-labels-idx1-ubyte"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// npy

#[test]
fn npy_features_with_companion_labels() {
    let dir = TempDir::new("npy");
    let values = [0.0, 0.5, -1.0, 1.0, 1.5, 0.25, -0.5, 0.0, 1.0, 1.75, 1.0, -2.0];
    let features = dir.write("x.npy", &npy("<f4", false, &[4, 3], &f4(&values)));
    let labels_i8 = dir.write("y.npy", &npy("<i8", false, &[4], &i8s(&[3, 0, 1, 3])));
    let options = LoadOptions { labels_path: Some(labels_i8), ..raw() };
    let data = load(&features, &options).expect("loads");
    assert_eq!((data.len(), data.feature_count, data.class_count), (4, 3, 4));
    assert_eq!(data.labels, vec![3, 0, 1, 3]);
    assert_eq!(data.features, values.to_vec());

    // `|u1` labels of shape (n, 1), gzipped, and the default min–max normalization.
    let labels_u1 = dir.write("y_u1.npy.gz", &gzip(&npy("|u1", false, &[4, 1], &[2, 2, 0, 1])));
    let options = LoadOptions { labels_path: Some(labels_u1), ..LoadOptions::default() };
    let data = load(&features, &options).expect("loads").fitted_on_all();
    assert_eq!(data.labels, vec![2, 2, 0, 1]);
    assert_eq!(data.class_count, 3);
    // Columns range over [-0.5, 1.75], [0, 1.5], [-2, 1].
    assert_close(data.example(0), &[0.5 / 2.25, 0.5 / 1.5, 1.0 / 3.0]);
    assert_close(data.example(2), &[0.0, 0.0, 1.0]);
    assert_close(data.example(3), &[1.0, 1.0 / 1.5, 0.0]);
}

#[test]
fn npy_higher_dimensional_features_are_flattened() {
    let dir = TempDir::new("npy-3d");
    let values: Vec<f32> = (0..12).map(|v| v as f32 / 8.0).collect();
    let features = dir.write("images.npy", &npy("<f4", false, &[2, 2, 3], &f4(&values)));
    let labels = dir.write("labels.npy", &npy("|u1", false, &[2], &[1, 0]));
    let data = load(&features, &LoadOptions { labels_path: Some(labels), ..raw() }).expect("loads");
    assert_eq!((data.len(), data.feature_count), (2, 6));
    assert_eq!(data.example(1), &values[6..]);
}

#[test]
fn npy_label_in_the_last_column() {
    let dir = TempDir::new("npy-column");
    let values: [f64; 6] = [0.5, 0.25, 1.0, 1.5, 0.75, 0.0];
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.write("table.npy", &npy("<f8", false, &[2, 3], &bytes));
    let data = load(&path, &raw()).expect("loads");
    assert_eq!(data.labels, vec![1, 0]);
    assert_eq!(data.features, vec![0.5, 0.25, 1.5, 0.75]);
    let first = load(&path, &LoadOptions { label_column: Some(LabelColumn::Index(2)), ..raw() }).expect("loads");
    assert_eq!(first, data);
    // The first column holds 0.5: not a label.
    let err = load(&path, &LoadOptions { label_column: Some(LabelColumn::First), ..raw() }).expect_err("0.5");
    assert!(matches!(err, DataError::InvalidLabel { reason: "not an integer", .. }), "{err}");
}

#[test]
fn npy_wrong_magic_fortran_order_and_unsupported_dtype() {
    let dir = TempDir::new("npy-errors");
    let mut bytes = npy("<f4", false, &[1, 2], &f4(&[0.0, 1.0]));
    bytes[1] = b'X';
    let err = load(&dir.write("bad.npy", &bytes), &LoadOptions::default()).expect_err("magic");
    assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("\\x93NUMPY"), "{err}");

    let fortran = dir.write("f.npy", &npy("<f4", true, &[1, 2], &f4(&[0.0, 1.0])));
    let err = load(&fortran, &LoadOptions::default()).expect_err("fortran order");
    assert!(matches!(err, DataError::FortranOrder { .. }), "{err}");
    assert!(err.to_string().contains("ascontiguousarray"), "{err}");

    let complex = dir.write("c.npy", &npy("<c8", false, &[1, 2], &[0; 16]));
    let err = load(&complex, &LoadOptions::default()).expect_err("complex");
    assert!(matches!(&err, DataError::UnsupportedDtype { dtype, .. } if dtype == "<c8"), "{err}");

    let truncated = dir.write("t.npy", &npy("<f4", false, &[2, 2], &f4(&[0.0, 1.0, 0.5])));
    let err = load(&truncated, &LoadOptions::default()).expect_err("truncated");
    assert!(matches!(err, DataError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("(2, 2)") || err.to_string().contains("[2, 2]"), "{err}");
}

#[test]
fn npy_shape_mismatches() {
    let dir = TempDir::new("npy-shape");
    let features = dir.write("x.npy", &npy("<f4", false, &[3, 2], &f4(&[0.0; 6])));
    let fewer = dir.write("y2.npy", &npy("<i8", false, &[2], &i8s(&[0, 1])));
    let err = load(&features, &LoadOptions { labels_path: Some(fewer), ..LoadOptions::default() })
        .expect_err("3 rows, 2 labels");
    assert!(matches!(err, DataError::CountMismatch { examples: 3, labels: 2, .. }), "{err}");

    let matrix = dir.write("y32.npy", &npy("<i8", false, &[3, 2], &i8s(&[0; 6])));
    let err =
        load(&features, &LoadOptions { labels_path: Some(matrix), ..LoadOptions::default() }).expect_err("2-D labels");
    assert!(matches!(&err, DataError::BadShape { what: "labels", shape, .. } if shape == &[3, 2]), "{err}");

    let vector = dir.write("v.npy", &npy("<f4", false, &[4], &f4(&[0.0; 4])));
    let err = load(&vector, &LoadOptions::default()).expect_err("1-D features");
    assert!(matches!(err, DataError::BadShape { what: "features", .. }), "{err}");

    let negative = dir.write("neg.npy", &npy("<i8", false, &[3], &i8s(&[0, -1, 1])));
    let err = load(&features, &LoadOptions { labels_path: Some(negative), ..LoadOptions::default() })
        .expect_err("negative label");
    assert!(matches!(err, DataError::InvalidLabel { reason: "negative", .. }), "{err}");
    assert!(err.to_string().contains("example 1"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10

#[test]
fn cifar10_records() {
    let dir = TempDir::new("cifar");
    let mut bytes = Vec::new();
    for (label, seed) in [(3u8, 0usize), (0, 100), (9, 7)] {
        bytes.extend(cifar_record(label, seed));
    }
    let path = dir.write("data_batch_1.bin", &bytes);
    let data = load(&path, &LoadOptions::default()).expect("loads");
    assert_eq!((data.len(), data.feature_count, data.class_count), (3, 3072, 10));
    assert_eq!(data.labels, vec![3, 0, 9]);
    assert_eq!(data.example(1)[0], 100.0 / 255.0);
    assert_eq!(data.example(1)[1024], ((100 + 1024) % 256) as f32 / 255.0);
    assert_eq!(data.example(2)[3071], ((7 + 3071) % 256) as f32 / 255.0);
    data.check_fits(3072, 10).expect("fits the paper network");

    // Gzipped, under another name, with the format named.
    let other = dir.write("batch.gz", &gzip(&bytes));
    let options = LoadOptions { format: Some(DataFormat::Cifar10), ..LoadOptions::default() };
    assert_eq!(load(&other, &options).expect("loads"), Dataset { name: "batch.gz".to_string(), ..data });
}

#[test]
fn cifar10_truncated_record_and_bad_label() {
    let dir = TempDir::new("cifar-errors");
    let mut bytes: Vec<u8> = [1u8, 2, 3].iter().flat_map(|&l| cifar_record(l, 0)).collect();
    bytes.extend(&cifar_record(4, 0)[..100]);
    let err = load(&dir.write("test_batch.bin", &bytes), &LoadOptions::default()).expect_err("truncated");
    assert!(matches!(err, DataError::TruncatedRecord { record: 3, offset: 9219, found_bytes: 100, .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("record 3") && message.contains("byte offset 9219"), "{message}");

    let bad: Vec<u8> = [1u8, 10].iter().flat_map(|&l| cifar_record(l, 0)).collect();
    let err = load(&dir.write("bad.bin", &bad), &LoadOptions::default()).expect_err("label 10");
    assert!(matches!(err, DataError::LabelOutOfRange { label: 10, class_count: 10, .. }), "{err}");
    assert!(err.to_string().contains("record 1 (byte offset 3073)"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Split, subset, batching, fit

/// A data set whose single feature encodes the example index, to follow examples through a split.
fn indexed(n: usize) -> Dataset {
    let features = (0..n).map(|i| i as f32 / n as f32).collect();
    let labels = (0..n).map(|i| (i % 3) as u32).collect();
    Dataset::from_parts("indexed", 1, 3, features, labels).expect("valid")
}

fn indices(data: &Dataset, n: usize) -> Vec<usize> {
    data.features.iter().map(|v| (v * n as f32).round() as usize).collect()
}

#[test]
fn split_is_seeded_disjoint_and_covering() {
    let n = 101;
    let data = indexed(n);
    let (train, test) = data.split(0.2, 42).expect("splits");
    assert_eq!((train.len(), test.len()), (81, 20));
    let (train_ids, test_ids) = (indices(&train, n), indices(&test, n));
    let train_set: BTreeSet<usize> = train_ids.iter().copied().collect();
    let test_set: BTreeSet<usize> = test_ids.iter().copied().collect();
    assert_eq!(train_set.len(), train.len(), "no duplicates");
    assert!(train_set.is_disjoint(&test_set));
    assert_eq!(train_set.union(&test_set).copied().collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
    // Labels travel with their features.
    for (i, &id) in train_ids.iter().enumerate() {
        assert_eq!(train.labels[i], (id % 3) as u32);
    }
    // Deterministic for the seed, shuffled, and different for another seed.
    assert_eq!(data.split(0.2, 42).expect("splits"), (train.clone(), test.clone()));
    assert_ne!(train_ids, (0..81).collect::<Vec<_>>());
    assert_ne!(data.split(0.2, 43).expect("splits").0, train);
    // A zero fraction keeps everything for training.
    let (all, none) = data.split(0.0, 1).expect("splits");
    assert_eq!((all.len(), none.len()), (n, 0));
    for fraction in [1.0, -0.1, f64::NAN, 1.5] {
        assert!(matches!(data.split(fraction, 1), Err(DataError::BadSplit { .. })), "{fraction}");
    }
}

#[test]
fn subset_takes_examples_in_order() {
    let data = indexed(10);
    let subset = data.subset(&[7, 2, 7]);
    assert_eq!(indices(&subset, 10), vec![7, 2, 7]);
    assert_eq!(subset.labels, vec![1, 2, 1]);
    assert_eq!((subset.feature_count, subset.class_count), (1, 3));
}

#[test]
fn epoch_batches_cover_each_epoch_with_full_batches() {
    let (n, b) = (10, 4);
    let batches = EpochBatches::new(n, b, 9).expect("valid");
    assert_eq!(batches.batches_per_epoch(), 3);
    let mut epochs = Vec::new();
    for epoch in 0..4u64 {
        let mut seen = Vec::new();
        for k in 0..3u64 {
            let batch = batches.batch(epoch * 3 + k);
            assert_eq!(batch.len(), b);
            assert!(batch.iter().all(|&i| i < n));
            seen.extend(batch);
        }
        // The epoch is the permutation followed by its first two examples.
        let distinct: BTreeSet<usize> = seen.iter().copied().collect();
        assert_eq!(distinct, (0..n).collect::<BTreeSet<_>>(), "epoch {epoch}");
        assert_eq!(seen[10..], seen[..2], "epoch {epoch}");
        epochs.push(seen);
    }
    // Different across epochs, deterministic for the seed, different for another seed.
    assert!(epochs.windows(2).all(|w| w[0] != w[1]));
    let again = EpochBatches::new(n, b, 9).expect("valid");
    for step in (0..12u64).rev() {
        assert_eq!(again.batch(step), batches.batch(step));
    }
    let other = EpochBatches::new(n, b, 10).expect("valid");
    assert_ne!(
        (0..12).map(|s| other.batch(s)).collect::<Vec<_>>(),
        (0..12).map(|s| batches.batch(s)).collect::<Vec<_>>()
    );
}

#[test]
fn epoch_batches_edge_cases() {
    // B divides n: each epoch is exactly the permutation.
    let exact = EpochBatches::new(6, 3, 1).expect("valid");
    let mut epoch: Vec<usize> = (0..2).flat_map(|k| exact.batch(k)).collect();
    epoch.sort_unstable();
    assert_eq!(epoch, (0..6).collect::<Vec<_>>());
    // B > n: one batch per epoch, repeating examples.
    let big = EpochBatches::new(3, 5, 1).expect("valid");
    assert_eq!(big.batches_per_epoch(), 1);
    let batch = big.batch(0);
    assert_eq!(batch.len(), 5);
    assert_eq!(batch.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([0, 1, 2]));
    assert!(matches!(EpochBatches::new(0, 4, 1), Err(DataError::BadBatching { .. })));
    assert!(matches!(EpochBatches::new(4, 0, 1), Err(DataError::BadBatching { .. })));
}

#[test]
fn check_fits_names_both_widths() {
    let digits = Dataset::digits();
    let err = digits.check_fits(3072, 10).expect_err("64 ≠ 3072");
    assert!(matches!(err, DataError::FeatureCountMismatch { features: 64, input_width: 3072, .. }), "{err}");
    assert!(err.to_string().contains("the data has 64 features but the network's input width is 3072"), "{err}");
    let err = digits.check_fits(64, 5).expect_err("10 classes, 5 outputs");
    let message = err.to_string();
    assert!(message.contains("10 classes") && message.contains("output width is 5"), "{message}");
    assert!(digits.check_fits(64, 16).is_ok());
}

#[test]
fn unknown_format_is_reported() {
    let dir = TempDir::new("unknown");
    let path = dir.write("blob.dat", &[0xff, 0xfe, 0x00, 0x01, 0x80]);
    let err = load(&path, &LoadOptions::default()).expect_err("unknown");
    assert!(matches!(err, DataError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("--format"), "{err}");
}
