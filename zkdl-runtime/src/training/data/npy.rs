//! NumPy `.npy` reading (format versions 1, 2 and 3).
//!
//! A file is the magic `\x93NUMPY`, a major and a minor version byte, the header length (`u16` for
//! version 1, `u32` for 2 and 3, little-endian), a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`, then the raw array.
//!
//! Choices: only C-order arrays of plain numbers are read — booleans, integers of 1, 2, 4 and 8 bytes
//! and floats of 4 and 8 bytes, in either byte order (`'<f4'`, `'>i8'`, `'|u1'`, …); Fortran order,
//! structured, complex, half-precision and object arrays are rejected. The feature array has at least
//! two dimensions, `(n, …)`, and every example is its trailing dimensions flattened in C order (so a
//! `(n, 28, 28)` image array gives 784 features). The labels come from [`LoadOptions::labels_path`] — a
//! `(n,)` or `(n, 1)` array of integer-valued numbers — or, when no label file is given, from a column
//! of a 2-D feature array ([`LoadOptions::label_column`], default the last). The data size must match
//! the header exactly. Defaults: min–max normalization, class count = largest label + 1.

use std::path::Path;

use super::{label_from_f64, read_maybe_gz, DataError, Dataset, LabelColumn, LoadOptions, Normalization, RawData};

/// The magic every `.npy` file starts with.
pub(super) const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads the feature array `path` (content `bytes`, decompressed) and its labels.
pub(super) fn load(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DataError> {
    let array = Array::parse(path, bytes)?;
    let name = super::display_name(path);
    let locate = |example: usize| format!("example {example}");
    let n = array.shape[0];
    if let Some(labels_path) = &options.labels_path {
        if array.shape.len() < 2 {
            return Err(bad_shape(path, "features", &array.shape, "(examples, features, …): at least 2 dimensions"));
        }
        let label_bytes = read_maybe_gz(labels_path)?;
        let label_array = Array::parse(labels_path, &label_bytes)?;
        if !matches!(label_array.shape.as_slice(), [_] | [_, 1]) {
            return Err(bad_shape(labels_path, "labels", &label_array.shape, "(examples,) or (examples, 1)"));
        }
        if label_array.shape[0] != n {
            return Err(DataError::CountMismatch {
                features_path: path.to_path_buf(),
                examples: n as u64,
                labels_path: labels_path.clone(),
                labels: label_array.shape[0] as u64,
            });
        }
        let labels = (0..label_array.len())
            .map(|i| {
                let value = label_array.value(i);
                label_from_f64(value).map_err(|reason| DataError::InvalidLabel {
                    name: labels_path.display().to_string(),
                    location: format!("example {i}"),
                    value: value.to_string(),
                    reason,
                })
            })
            .collect::<Result<Vec<u32>, DataError>>()?;
        let features: Vec<f32> = (0..array.len()).map(|i| array.value(i) as f32).collect();
        let feature_count = array.shape[1..].iter().product();
        return RawData::new(name, feature_count, features, labels, locate).with_origin(path).finish(
            Normalization::MinMax,
            None,
            options,
        );
    }

    let [_, columns] = array.shape[..] else {
        return Err(bad_shape(
            path,
            "features",
            &array.shape,
            "(examples, columns) with the label in a column, or give a separate label file",
        ));
    };
    let unlabelled = options.label_column == Some(LabelColumn::None);
    if columns < 2 - usize::from(unlabelled) {
        return Err(bad_shape(path, "features", &array.shape, "at least 2 columns: features and a label"));
    }
    // `columns` (no column) for unlabelled data.
    let label_column = match options.label_column.unwrap_or(LabelColumn::Last) {
        LabelColumn::First => 0,
        LabelColumn::Last => columns - 1,
        LabelColumn::None => columns,
        LabelColumn::Index(index) if index < columns => index,
        LabelColumn::Index(index) => {
            return Err(DataError::LabelColumnOutOfRange { path: path.to_path_buf(), index, columns });
        }
    };
    let mut features = Vec::with_capacity(n * (columns - 1));
    let mut labels = Vec::with_capacity(n);
    for example in 0..n {
        for column in 0..columns {
            let value = array.value(example * columns + column);
            if column == label_column {
                let label = label_from_f64(value).map_err(|reason| DataError::InvalidLabel {
                    name: path.display().to_string(),
                    location: format!("example {example}, column {column} (0-based)"),
                    value: value.to_string(),
                    reason,
                })?;
                labels.push(label);
            } else {
                features.push(value as f32);
            }
        }
        if unlabelled {
            labels.push(0);
        }
    }
    RawData::new(name, columns - usize::from(!unlabelled), features, labels, locate).with_origin(path).finish(
        Normalization::MinMax,
        None,
        options,
    )
}

fn bad_shape(path: &Path, what: &'static str, shape: &[usize], expected: &'static str) -> DataError {
    DataError::BadShape { path: path.to_path_buf(), what, shape: shape.iter().map(|&d| d as u64).collect(), expected }
}

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dtype {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Dtype {
    /// Parses a simple `descr` such as `<f4`, `|u1`, `>i8`; `None` if unsupported.
    fn parse(descr: &str) -> Option<Dtype> {
        let (big_endian, rest) = match descr.as_bytes().first()? {
            b'<' | b'|' => (false, &descr[1..]),
            b'>' => (true, &descr[1..]),
            b'=' => (cfg!(target_endian = "big"), &descr[1..]),
            _ => (false, descr),
        };
        let mut chars = rest.chars();
        let kind = match chars.next()? {
            'b' => Kind::Bool,
            'i' => Kind::Int,
            'u' => Kind::Uint,
            'f' => Kind::Float,
            _ => return None,
        };
        let size: usize = chars.as_str().parse().ok()?;
        let supported = match kind {
            Kind::Bool => size == 1,
            Kind::Int | Kind::Uint => matches!(size, 1 | 2 | 4 | 8),
            Kind::Float => matches!(size, 4 | 8),
        };
        supported.then_some(Dtype { kind, size, big_endian })
    }
}

/// A parsed array: header fields and the raw data bytes.
struct Array<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: &'a [u8],
}

impl<'a> Array<'a> {
    fn parse(path: &Path, bytes: &'a [u8]) -> Result<Array<'a>, DataError> {
        if !bytes.starts_with(MAGIC) {
            let found: String =
                bytes.iter().take(MAGIC.len()).map(|b| std::ascii::escape_default(*b).to_string()).collect();
            return Err(DataError::BadMagic {
                path: path.to_path_buf(),
                what: "a NumPy .npy file".to_string(),
                expected: "\\x93NUMPY".to_string(),
                found: format!("`{found}`"),
            });
        }
        let bad_header = |what: String| DataError::BadHeader { path: path.to_path_buf(), what };
        let truncated = |what: &str, expected: u64| DataError::Truncated {
            path: path.to_path_buf(),
            what: what.to_string(),
            expected_bytes: expected,
            found_bytes: bytes.len() as u64,
        };
        if bytes.len() < 10 {
            return Err(truncated("npy preamble (magic, version, header length)", 10));
        }
        let major = bytes[6];
        let (header_start, header_len) = match major {
            1 => (10usize, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
            2 | 3 => {
                if bytes.len() < 12 {
                    return Err(truncated("npy preamble (magic, version, header length)", 12));
                }
                (12usize, u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize)
            }
            _ => {
                let version = format!("{major}.{}", bytes[7]);
                return Err(bad_header(format!("npy format version {version} is not supported (1–3 are)")));
            }
        };
        let data_start = header_start + header_len;
        if bytes.len() < data_start {
            return Err(truncated("npy header", data_start as u64));
        }
        let header = std::str::from_utf8(&bytes[header_start..data_start])
            .map_err(|e| bad_header(format!("the header is not text (byte {} of it)", e.valid_up_to())))?;

        let descr =
            dict_value(header, "descr").ok_or_else(|| bad_header(format!("no 'descr' in `{}`", header.trim())))?;
        let descr_text = quoted(descr).ok_or_else(|| DataError::UnsupportedDtype {
            path: path.to_path_buf(),
            dtype: leading_value(descr).to_string(),
        })?;
        let dtype = Dtype::parse(descr_text)
            .ok_or_else(|| DataError::UnsupportedDtype { path: path.to_path_buf(), dtype: descr_text.to_string() })?;

        let order = dict_value(header, "fortran_order")
            .ok_or_else(|| bad_header(format!("no 'fortran_order' in `{}`", header.trim())))?;
        if order.starts_with("True") {
            return Err(DataError::FortranOrder { path: path.to_path_buf() });
        } else if !order.starts_with("False") {
            return Err(bad_header(format!("'fortran_order' is neither True nor False in `{}`", header.trim())));
        }

        let shape_text = dict_value(header, "shape")
            .and_then(|s| s.strip_prefix('('))
            .and_then(|s| s.split_once(')'))
            .map(|(inside, _)| inside)
            .ok_or_else(|| bad_header(format!("no 'shape' tuple in `{}`", header.trim())))?;
        let shape = shape_text
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| d.trim_end_matches('L').parse::<usize>())
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| bad_header(format!("the shape `({shape_text})` is not a tuple of sizes")))?;
        if shape.is_empty() {
            return Err(bad_shape(path, "stored", &shape, "at least one dimension (this is a scalar)"));
        }
        let elements = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let data_bytes = elements.and_then(|e| e.checked_mul(dtype.size));
        let expected = data_bytes
            .and_then(|d| d.checked_add(data_start))
            .ok_or_else(|| bad_header(format!("the shape {shape:?} is too large")))?;
        let what = format!("npy array (the header announces shape {shape:?} of `{descr_text}`)");
        if bytes.len() < expected {
            return Err(truncated(&what, expected as u64));
        }
        if bytes.len() > expected {
            return Err(DataError::TrailingBytes {
                path: path.to_path_buf(),
                what,
                expected_bytes: expected as u64,
                found_bytes: bytes.len() as u64,
            });
        }
        if shape[0] == 0 {
            return Err(DataError::Empty { name: path.display().to_string(), what: "the array has no rows" });
        }
        Ok(Array { dtype, shape, data: &bytes[data_start..] })
    }

    /// The number of elements.
    fn len(&self) -> usize {
        self.data.len() / self.dtype.size
    }

    /// Element `i` (C order) as `f64`; integers beyond 2^53 are rounded.
    fn value(&self, i: usize) -> f64 {
        let Dtype { kind, size, big_endian } = self.dtype;
        let raw = &self.data[i * size..(i + 1) * size];
        let mut buffer = [0u8; 8];
        if big_endian {
            // Right-align, so that the big-endian u64 of the buffer is the value's bits.
            buffer[8 - size..].copy_from_slice(raw);
        } else {
            buffer[..size].copy_from_slice(raw);
        }
        let bits = if big_endian { u64::from_be_bytes(buffer) } else { u64::from_le_bytes(buffer) };
        match (kind, size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Bool, _) => f64::from(u8::from(bits != 0)),
            (Kind::Uint, _) => bits as f64,
            (Kind::Int, _) => {
                // Sign-extend from `size` bytes.
                let shift = 64 - 8 * size as u32;
                (((bits << shift) as i64) >> shift) as f64
            }
        }
    }
}

/// The text after `'key':` in a header dict, leading whitespace removed.
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    ["'", "\""].iter().find_map(|q| {
        let pattern = format!("{q}{key}{q}");
        let after = &header[header.find(&pattern)? + pattern.len()..];
        Some(after.trim_start().strip_prefix(':')?.trim_start())
    })
}

/// A dict value that is not a string (a structured dtype's list): the text up to the next key.
fn leading_value(text: &str) -> &str {
    let end = [", 'fortran_order'", ", 'shape'", ", \"fortran_order\"", ", \"shape\"", "}"]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
        .unwrap_or(text.len());
    text[..end].trim()
}

/// The content of a leading quoted string (`'…'` or `"…"`).
fn quoted(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|&c| c == '\'' || c == '"')?;
    let rest = &text[1..];
    rest.find(quote).map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtypes() {
        let le = |kind, size| Some(Dtype { kind, size, big_endian: false });
        assert_eq!(Dtype::parse("<f4"), le(Kind::Float, 4));
        assert_eq!(Dtype::parse("|u1"), le(Kind::Uint, 1));
        assert_eq!(Dtype::parse(">i2"), Some(Dtype { kind: Kind::Int, size: 2, big_endian: true }));
        assert_eq!(Dtype::parse("|b1"), le(Kind::Bool, 1));
        for unsupported in ["<f2", "<c8", "<U10", "|O", "<i3", "<M8[ns]", ""] {
            assert_eq!(Dtype::parse(unsupported), None, "{unsupported}");
        }
    }

    #[test]
    fn values_in_both_byte_orders_and_signs() {
        let array = |descr, data: &'static [u8]| Array {
            dtype: Dtype::parse(descr).expect("supported"),
            shape: vec![data.len()],
            data,
        };
        assert_eq!(array("<i2", &[0xfe, 0xff]).value(0), -2.0);
        assert_eq!(array(">i2", &[0xff, 0xfe]).value(0), -2.0);
        assert_eq!(array(">u2", &[0x01, 0x00]).value(0), 256.0);
        assert_eq!(array("<f4", &[0, 0, 0xc0, 0x3f]).value(0), 1.5);
        assert_eq!(array(">f8", &[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).value(0), 1.5);
        assert_eq!(array("|i1", &[0x80]).value(0), -128.0);
    }

    #[test]
    fn header_dict_values() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        assert_eq!(dict_value(header, "descr").and_then(quoted), Some("<f4"));
        assert!(dict_value(header, "fortran_order").is_some_and(|v| v.starts_with("False")));
        assert!(dict_value(header, "shape").is_some_and(|v| v.starts_with("(3, 4)")));
        assert_eq!(dict_value(header, "missing"), None);
    }
}
