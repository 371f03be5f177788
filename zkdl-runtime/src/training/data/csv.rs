//! CSV (and whitespace-separated text) reading: one example per line, one label column.
//!
//! Choices: the delimiter is taken from the first non-empty line — `,` if it has one, else `;`, else a
//! tab, else runs of whitespace. Cells are trimmed and a pair of surrounding double quotes removed
//! (quoted cells with embedded delimiters are not supported: the data is numeric). Blank lines are
//! skipped but counted, so line numbers in errors are the file's. A UTF-8 byte-order mark is ignored.
//! The header, when not stated in the options, is detected: a first non-empty line with a non-numeric
//! cell is a header. Every data row must have as many cells as the first one. Labels must be
//! non-negative integers (`3` and `3.0` are accepted; `-1`, `2.5` are not). Defaults: min–max
//! normalization, class count = largest label + 1.

use std::path::Path;

use super::{label_from_f64, DataError, Dataset, LabelColumn, LoadOptions, Normalization, RawData};

/// Parses CSV `bytes` (already decompressed) read from `path`.
pub(super) fn load(path: &Path, bytes: &[u8], options: &LoadOptions) -> Result<Dataset, DataError> {
    let name = super::display_name(path);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| DataError::NotUtf8 { path: path.to_path_buf(), offset: e.valid_up_to() as u64 })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    // (1-based line number, line) of every non-blank line.
    let mut lines =
        text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().filter(|(_, l)| !l.trim().is_empty());

    let Some((first_index, first_line)) = lines.next() else {
        return Err(DataError::Empty { name: path.display().to_string(), what: "the file has no non-blank line" });
    };
    let delimiter = detect_delimiter(first_line);
    let mut cells: Vec<&str> = Vec::new();
    split_cells(first_line, delimiter, &mut cells);
    let has_header = options.has_header.unwrap_or_else(|| cells.iter().any(|c| c.parse::<f64>().is_err()));
    let first_data = if has_header { lines.next() } else { Some((first_index, first_line)) };
    let Some((first_data_index, first_data_line)) = first_data else {
        return Err(DataError::Empty {
            name: path.display().to_string(),
            what: "the file has a header but no data row",
        });
    };

    split_cells(first_data_line, delimiter, &mut cells);
    let columns = cells.len();
    let line_of = |index: usize| index + 1;
    let unlabelled = options.label_column == Some(LabelColumn::None);
    if columns < 2 - usize::from(unlabelled) {
        return Err(DataError::TooFewColumns {
            path: path.to_path_buf(),
            line: line_of(first_data_index),
            found: columns,
        });
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

    let feature_count = columns - usize::from(!unlabelled);
    let mut features: Vec<f32> = Vec::new();
    let mut labels: Vec<u32> = Vec::new();
    let mut example_lines: Vec<usize> = Vec::new();
    for (index, line) in std::iter::once((first_data_index, first_data_line)).chain(lines) {
        let line_number = line_of(index);
        split_cells(line, delimiter, &mut cells);
        if cells.len() != columns {
            return Err(DataError::RaggedRow {
                path: path.to_path_buf(),
                line: line_number,
                expected: columns,
                found: cells.len(),
            });
        }
        for (column, cell) in cells.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| DataError::NonNumeric {
                path: path.to_path_buf(),
                line: line_number,
                column: column + 1,
                text: (*cell).to_string(),
            })?;
            if column == label_column {
                let label = label_from_f64(value).map_err(|reason| DataError::InvalidLabel {
                    name: path.display().to_string(),
                    location: format!("line {line_number}, column {}", column + 1),
                    value: (*cell).to_string(),
                    reason,
                })?;
                labels.push(label);
            } else {
                let feature = value as f32;
                if !feature.is_finite() {
                    return Err(DataError::NonFinite {
                        name: path.display().to_string(),
                        location: format!("line {line_number}, column {}", column + 1),
                        feature: if column < label_column { column } else { column - 1 },
                        value,
                    });
                }
                features.push(feature);
            }
        }
        if unlabelled {
            labels.push(0);
        }
        example_lines.push(line_number);
    }

    let label_cell = label_column + 1;
    let locate = |example: usize| format!("line {}, column {label_cell}", example_lines[example]);
    RawData::new(name, feature_count, features, labels, locate).with_origin(path).finish(
        Normalization::MinMax,
        None,
        options,
    )
}

/// `Some(c)` for a one-character delimiter, `None` for runs of whitespace.
fn detect_delimiter(line: &str) -> Option<char> {
    [',', ';', '\t'].into_iter().find(|&c| line.contains(c))
}

/// Splits `line` into trimmed, unquoted cells, reusing `out`.
fn split_cells<'a>(line: &'a str, delimiter: Option<char>, out: &mut Vec<&'a str>) {
    out.clear();
    match delimiter {
        Some(c) => out.extend(line.split(c).map(clean_cell)),
        None => out.extend(line.split_whitespace().map(clean_cell)),
    }
}

fn clean_cell(cell: &str) -> &str {
    let cell = cell.trim();
    cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')).map(str::trim).unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_cells() {
        assert_eq!(detect_delimiter("1,2;3"), Some(','));
        assert_eq!(detect_delimiter("1;2"), Some(';'));
        assert_eq!(detect_delimiter("1\t2"), Some('\t'));
        assert_eq!(detect_delimiter("1  2"), None);
        let mut cells = Vec::new();
        split_cells(" \"a\" , 2 ,3", Some(','), &mut cells);
        assert_eq!(cells, vec!["a", "2", "3"]);
        split_cells("  1 2\t 3 ", None, &mut cells);
        assert_eq!(cells, vec!["1", "2", "3"]);
    }

    #[test]
    fn semicolons_with_crlf_bom_and_blank_lines() {
        let text = "\u{feff}a;b;label\r\n\r\n1;2;0\r\n3;4;1\r\n";
        let data = load(Path::new("t.csv"), text.as_bytes(), &LoadOptions::default()).expect("parses");
        assert_eq!(data.len(), 2);
        assert_eq!(data.labels, vec![0, 1]);
        // Raw until min–max is fitted (on the training split, or here on all rows).
        assert_eq!(data.features, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(data.fitted_on_all().features, vec![0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn a_file_without_a_label_column_reads_every_column_as_a_feature() {
        let options = LoadOptions { label_column: Some(LabelColumn::None), ..LoadOptions::default() };
        let data = load(Path::new("t.csv"), b"a,b\n1,2\n3,4\n", &options).expect("parses");
        assert_eq!((data.feature_count, data.len(), data.class_count), (2, 2, 1));
        assert_eq!(data.labels, vec![0, 0]);
        let one = load(Path::new("t.csv"), b"7\n8\n", &options).expect("one column");
        assert_eq!(one.feature_count, 1);
    }
}
