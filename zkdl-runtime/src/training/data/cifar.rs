//! CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).
//!
//! A batch is a sequence of 3073-byte records: 1 label byte (0–9), then a 32×32 colour image as 3072
//! pixel bytes, channel-major (1024 red, 1024 green, 1024 blue, each row-major). The pixel layout is
//! kept as is: it is the layout the paper network's 3072 inputs expect. The file must be a whole
//! number of records (an incomplete last record is an error naming its index and byte offset).
//! CIFAR-100's two-label-byte records are not read. Defaults: pixels divided by 255, 10 classes.

use std::path::Path;

use super::{DataError, Dataset, LoadOptions, Normalization, RawData};

/// The pixel bytes of a record: 32 × 32 pixels × 3 channels.
pub(super) const PIXELS: usize = 3072;
/// The bytes of a record: a label byte and the pixels.
pub(super) const RECORD_BYTES: usize = 1 + PIXELS;

/// Reads a CIFAR-10 batch `path` (content `bytes`, decompressed).
pub(super) fn load(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DataError> {
    let records = bytes.len() / RECORD_BYTES;
    let remainder = bytes.len() % RECORD_BYTES;
    if remainder != 0 {
        return Err(DataError::TruncatedRecord {
            path: path.to_path_buf(),
            record: records,
            offset: (records * RECORD_BYTES) as u64,
            record_bytes: RECORD_BYTES as u64,
            found_bytes: remainder as u64,
        });
    }
    let mut features = Vec::with_capacity(records * PIXELS);
    let mut labels = Vec::with_capacity(records);
    for record in bytes.chunks_exact(RECORD_BYTES) {
        labels.push(u32::from(record[0]));
        features.extend(record[1..].iter().map(|&b| f32::from(b)));
    }
    let locate = |record: usize| format!("record {record} (byte offset {})", record * RECORD_BYTES);
    RawData::new(super::display_name(path), PIXELS, features, labels, locate).with_origin(path).finish(
        Normalization::Divide(255.0),
        Some(10),
        options,
    )
}
