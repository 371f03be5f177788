//! The embedded UCI handwritten digits set, as 8×8 grey images or upscaled to CIFAR-10's 32×32×3 layout.
//!
//! Attribution: "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998), UCI Machine
//! Learning Repository, CC BY 4.0 — see `zkdl-runtime/data/README.md`.
//!
//! `data/digits.csv.gz` is the layout scikit-learn distributes: 1797 lines of 64 integer pixels 0–16 (an
//! 8×8 image, row-major) and the class label 0–9, no header. [`Dataset::digits`] divides the pixels by 16
//! (so they lie in `[0, 1]`; min–max would stretch each pixel position differently and is not used).
//!
//! [`Dataset::digits_rgb32`] gives the same images as 32×32 colour images so that a network with
//! CIFAR-10's 3072 inputs (the paper network) trains on real pictures: each pixel becomes a 4×4 block
//! (nearest-neighbour upscaling — exact, it invents no intermediate values and every upscaled pixel is
//! one of the original ones), and the grey image is repeated in the three channels, channel-major like
//! CIFAR-10 (1024 red, then 1024 green, then 1024 blue values, each row-major).

use std::path::Path;
use std::sync::OnceLock;

use super::{csv, gunzip_if_compressed, DataError, Dataset, LabelColumn, LoadOptions, Normalization};

/// The number of examples of the digits set.
pub const EXAMPLES: usize = 1797;
/// The side of a digits image.
pub const SIDE: usize = 8;
/// The side of an upscaled image ([`Dataset::digits_rgb32`]).
pub const RGB32_SIDE: usize = 32;
/// The channels of an upscaled image.
pub const RGB32_CHANNELS: usize = 3;
/// The number of classes.
pub const CLASSES: usize = 10;

const FILE_NAME: &str = "digits.csv.gz";
static DIGITS_CSV_GZ: &[u8] = include_bytes!("../../../data/digits.csv.gz");

/// Decompresses and parses the embedded file.
fn parse() -> Result<Dataset, DataError> {
    let path = Path::new(FILE_NAME);
    let bytes = gunzip_if_compressed(path, DIGITS_CSV_GZ.to_vec())?;
    let options = LoadOptions {
        has_header: Some(false),
        label_column: Some(LabelColumn::Last),
        normalization: Some(Normalization::Divide(16.0)),
        class_count: Some(CLASSES),
        ..LoadOptions::default()
    };
    let mut data = csv::load(path, &bytes, &options)?;
    data.name = "digits".to_string();
    Ok(data)
}

/// The 8×8 image `pixels` as a 32×32×3 channel-major image (nearest neighbour, grey in every channel).
fn upscale(pixels: &[f32], out: &mut Vec<f32>) {
    let factor = RGB32_SIDE / SIDE;
    for _channel in 0..RGB32_CHANNELS {
        for y in 0..RGB32_SIDE {
            for x in 0..RGB32_SIDE {
                out.push(pixels[(y / factor) * SIDE + x / factor]);
            }
        }
    }
}

impl Dataset {
    /// The embedded UCI digits set: 1797 examples, 64 features (8×8 pixels 0–16, divided by 16 →
    /// `[0, 1]`), 10 classes.
    pub fn digits() -> Dataset {
        static DIGITS: OnceLock<Dataset> = OnceLock::new();
        DIGITS
            .get_or_init(|| {
                // Our own file, fixed at compile time; the unit test `embedded_digits_parse` proves it parses.
                parse().expect("the embedded digits.csv.gz is a valid digits file")
            })
            .clone()
    }

    /// The digits images upscaled to 32×32 (nearest neighbour, each pixel a 4×4 block) and replicated
    /// over 3 channels in CIFAR-10's layout (channel-major: 1024 R, 1024 G, 1024 B): 3072 features, so
    /// the paper network (3072 inputs) trains on real images. Named `digits-rgb32`.
    pub fn digits_rgb32() -> Dataset {
        let digits = Dataset::digits();
        let feature_count = RGB32_CHANNELS * RGB32_SIDE * RGB32_SIDE;
        let mut features = Vec::with_capacity(digits.len() * feature_count);
        for i in 0..digits.len() {
            upscale(digits.example(i), &mut features);
        }
        Dataset {
            name: "digits-rgb32".to_string(),
            feature_count,
            class_count: digits.class_count,
            features,
            labels: digits.labels,
            // Pixels 0–16 divided by 16, then each repeated over a 4×4 block and 3 channels.
            scaler: digits.scaler,
            clipped: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_digits_parse() {
        let data = parse().expect("the embedded file parses");
        assert_eq!((data.len(), data.feature_count, data.class_count), (EXAMPLES, SIDE * SIDE, CLASSES));
        // The first image of the file (a zero): row 0 is 0,0,5,13,9,1,0,0.
        assert_eq!(&data.example(0)[..8], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0, 9.0 / 16.0, 1.0 / 16.0, 0.0, 0.0]);
        assert_eq!(data.labels[..3], [0, 1, 2]);
    }

    #[test]
    fn upscaling_is_blockwise_and_channel_major() {
        let pixels: Vec<f32> = (0..64).map(|v| v as f32).collect();
        let mut out = Vec::new();
        upscale(&pixels, &mut out);
        assert_eq!(out.len(), 3072);
        // Pixel (row 2, col 5) = 21 covers rows 8..12, columns 20..24 of every channel.
        for channel in 0..3 {
            for y in 8..12 {
                for x in 20..24 {
                    assert_eq!(out[channel * 1024 + y * 32 + x], 21.0);
                }
            }
        }
        assert_eq!(out[1024 + 7 * 32 + 20], 13.0);
    }
}
