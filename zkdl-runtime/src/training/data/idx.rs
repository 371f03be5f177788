//! IDX reading: the MNIST / Fashion-MNIST pair of an image file and a label file.
//!
//! An image file is the big-endian magic `0x00000803` (unsigned bytes, 3 dimensions), the dimensions
//! `n`, `rows`, `cols` as big-endian `u32`, then `n · rows · cols` pixel bytes; a label file is the magic
//! `0x00000801`, `n`, then `n` label bytes. Only these two (the formats of MNIST, Fashion-MNIST and
//! EMNIST) are read; the sizes must match the headers exactly. Each file may be gzip-compressed.
//!
//! The label file is [`LoadOptions::labels_path`] when given; otherwise it is looked for beside the
//! image file by the standard naming — `images-idx3-ubyte` → `labels-idx1-ubyte` (also with `.` for
//! the first `-`, as some unpacked copies are named), the `.gz` variant tried second.
//! Defaults: pixels divided by 255, 10 classes.

use std::path::{Path, PathBuf};

use super::{read_maybe_gz, DataError, Dataset, LoadOptions, Normalization, RawData};

/// The magic of an IDX file of unsigned bytes with three dimensions (images).
pub(super) const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic of an IDX file of unsigned bytes with one dimension (labels).
pub(super) const LABELS_MAGIC: u32 = 0x0000_0801;
const IMAGES_HEADER: u64 = 16;
const LABELS_HEADER: u64 = 8;

/// Reads the image file `path` (content `bytes`, decompressed) and its label file.
pub(super) fn load(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DataError> {
    let magic = read_magic(path, bytes, "IDX image file header")?;
    if magic != IMAGES_MAGIC {
        let what = if magic == LABELS_MAGIC {
            "an IDX image file (this is an IDX label file: load the `*-images-idx3-ubyte` file, its labels are \
             found beside it)"
        } else {
            "an IDX image file of unsigned bytes"
        };
        return Err(bad_magic(path, what, IMAGES_MAGIC, magic));
    }
    let header = |what: &str| truncated(path, what, IMAGES_HEADER, bytes.len());
    if (bytes.len() as u64) < IMAGES_HEADER {
        return Err(header("IDX image header (magic and three u32 dimensions)"));
    }
    let count = be_u32(bytes, 4);
    let (rows, cols) = (be_u32(bytes, 8), be_u32(bytes, 12));
    let pixels = u64::from(rows) * u64::from(cols);
    if pixels == 0 {
        return Err(DataError::BadHeader {
            path: path.to_path_buf(),
            what: format!("the images are {rows} × {cols}: no pixels"),
        });
    }
    let expected = u64::from(count).checked_mul(pixels).and_then(|b| b.checked_add(IMAGES_HEADER));
    let what = format!("IDX image file (the header announces {count} images of {rows} × {cols} pixels)");
    let expected = expected.ok_or_else(|| DataError::BadHeader { path: path.to_path_buf(), what: what.clone() })?;
    check_size(path, &what, expected, bytes.len())?;

    let (labels_path, label_bytes) = read_labels(path, options)?;
    let label_magic = read_magic(&labels_path, &label_bytes, "IDX label file header")?;
    if label_magic != LABELS_MAGIC {
        return Err(bad_magic(&labels_path, "an IDX label file of unsigned bytes", LABELS_MAGIC, label_magic));
    }
    if (label_bytes.len() as u64) < LABELS_HEADER {
        return Err(truncated(
            &labels_path,
            "IDX label header (magic and one u32 count)",
            LABELS_HEADER,
            label_bytes.len(),
        ));
    }
    let label_count = be_u32(&label_bytes, 4);
    let label_what = format!("IDX label file (the header announces {label_count} labels)");
    check_size(&labels_path, &label_what, LABELS_HEADER + u64::from(label_count), label_bytes.len())?;
    if label_count != count {
        return Err(DataError::CountMismatch {
            features_path: path.to_path_buf(),
            examples: u64::from(count),
            labels_path,
            labels: u64::from(label_count),
        });
    }

    let features: Vec<f32> = bytes[IMAGES_HEADER as usize..].iter().map(|&b| f32::from(b)).collect();
    let labels: Vec<u32> = label_bytes[LABELS_HEADER as usize..].iter().map(|&b| u32::from(b)).collect();
    let labels_name = super::display_name(&labels_path);
    let locate =
        |example: usize| format!("example {example} ({labels_name} byte offset {})", LABELS_HEADER as usize + example);
    // Both fit in memory, so the pixel count fits in usize.
    RawData::new(super::display_name(path), pixels as usize, features, labels, locate).with_origin(path).finish(
        Normalization::Divide(255.0),
        Some(10),
        options,
    )
}

/// The label file: the one given, or the first existing candidate beside the image file.
fn read_labels(images: &Path, options: &LoadOptions) -> Result<(PathBuf, Vec<u8>), DataError> {
    if let Some(labels) = &options.labels_path {
        return Ok((labels.clone(), read_maybe_gz(labels)?));
    }
    let candidates = label_candidates(images);
    match candidates.iter().find(|c| c.is_file()) {
        Some(found) => Ok((found.clone(), read_maybe_gz(found)?)),
        None => Err(DataError::MissingLabels { path: images.to_path_buf(), tried: candidates }),
    }
}

/// The label files that by the standard naming belong to the image file `images`, most likely first.
pub(super) fn label_candidates(images: &Path) -> Vec<PathBuf> {
    let Some(file_name) = images.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let (stem, gzipped) = match file_name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (file_name, false),
    };
    let replaced = ["images-idx3-ubyte", "images.idx3-ubyte"]
        .iter()
        .zip(["labels-idx1-ubyte", "labels.idx1-ubyte"])
        .find_map(|(from, to)| stem.contains(from).then(|| stem.replace(from, to)));
    let Some(label_stem) = replaced else {
        return Vec::new();
    };
    let plain = images.with_file_name(&label_stem);
    let compressed = images.with_file_name(format!("{label_stem}.gz"));
    if gzipped {
        vec![compressed, plain]
    } else {
        vec![plain, compressed]
    }
}

fn be_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]])
}

fn read_magic(path: &Path, bytes: &[u8], what: &str) -> Result<u32, DataError> {
    if bytes.len() < 4 {
        return Err(truncated(path, what, 4, bytes.len()));
    }
    Ok(be_u32(bytes, 0))
}

fn bad_magic(path: &Path, what: &str, expected: u32, found: u32) -> DataError {
    DataError::BadMagic {
        path: path.to_path_buf(),
        what: what.to_string(),
        expected: format!("0x{expected:08x}"),
        found: format!("0x{found:08x}"),
    }
}

fn truncated(path: &Path, what: &str, expected: u64, found: usize) -> DataError {
    DataError::Truncated {
        path: path.to_path_buf(),
        what: what.to_string(),
        expected_bytes: expected,
        found_bytes: found as u64,
    }
}

fn check_size(path: &Path, what: &str, expected: u64, found: usize) -> Result<(), DataError> {
    let found = found as u64;
    if found < expected {
        Err(truncated(path, what, expected, found as usize))
    } else if found > expected {
        Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            what: what.to_string(),
            expected_bytes: expected,
            found_bytes: found,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_file_names_follow_the_convention() {
        let c = label_candidates(Path::new("/d/train-images-idx3-ubyte.gz"));
        assert_eq!(
            c,
            vec![PathBuf::from("/d/train-labels-idx1-ubyte.gz"), PathBuf::from("/d/train-labels-idx1-ubyte")]
        );
        let c = label_candidates(Path::new("t10k-images.idx3-ubyte"));
        assert_eq!(c[0], PathBuf::from("t10k-labels.idx1-ubyte"));
        assert!(label_candidates(Path::new("pixels.bin")).is_empty());
    }
}
