//! SVG pictures of a run (`zkdl train --plot`, `zkdl bench --plot`), drawn with plotters' SVG
//! backend (pure Rust: no fonts or system libraries; text is left to the SVG viewer) into a string and
//! written atomically.
//!
//! - Training curves: per epoch, the mean training batch loss and the test loss (left), the training
//!   and test accuracy (right), of the fixed-point run (solid) and its float reference (dashed).
//! - Prover phases: one horizontal bar per benchmark run, its prover seconds stacked by phase, the
//!   aggregated relations grouped by kind (M1 … B, PROTOCOL.md §4) and the setup (training, witness
//!   tables, key) first.

use plotters::prelude::*;
use std::path::Path;
use zkdl::runtime::training::session::EpochReport;

/// The colours of the series and phase groups, in order (Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Turns a plotters error into the message of a CLI error.
fn drawing<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing the plot: {e:?}")
}

/// Writes `svg` to `path` atomically.
fn write_svg(path: &Path, svg: &str) -> Result<(), String> {
    zkdl::runtime::files::write_atomically(path, svg.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}

/// One curve: its label, colour, whether dashed, and its (epoch, value) points.
struct Curve {
    label: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

/// Draws `curves` on `area` with a y range of `[0, top]`.
fn draw_curves(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    y_desc: &str,
    epochs: f64,
    top: f64,
    curves: &[Curve],
    legend: SeriesLabelPosition,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(1f64..epochs.max(2.0), 0f64..top)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(drawing)?;
    for curve in curves.iter().filter(|c| !c.points.is_empty()) {
        let style = curve.color.stroke_width(2);
        let series = if curve.dashed {
            // Dashes: every other segment of the polyline, on points doubled in between.
            let mut dense = Vec::new();
            for w in curve.points.windows(2) {
                for k in 0..8 {
                    let t = k as f64 / 8.0;
                    dense.push((w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1)));
                }
            }
            dense.extend(curve.points.last().copied());
            let dashes: Vec<PathElement<(f64, f64)>> =
                dense.chunks(2).filter(|c| c.len() == 2).map(|c| PathElement::new(c.to_vec(), style)).collect();
            chart.draw_series(dashes).map_err(drawing)?
        } else {
            chart.draw_series(LineSeries::new(curve.points.clone(), style)).map_err(drawing)?
        };
        let (color, dashed) = (curve.color, curve.dashed);
        series.label(curve.label.clone()).legend(move |(x, y)| {
            let ends = if dashed { vec![(x, y), (x + 6, y)] } else { vec![(x, y), (x + 18, y)] };
            let second = if dashed { vec![(x + 12, y), (x + 18, y)] } else { Vec::new() };
            EmptyElement::at((0, 0))
                + PathElement::new(ends.iter().map(|&(a, b)| (a, b)).collect::<Vec<_>>(), color.stroke_width(2))
                + PathElement::new(second, color.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(drawing)?;
    Ok(())
}

/// `zkdl train --plot`: loss and accuracy per epoch of the fixed-point run and its float reference.
pub fn training_curves(path: &Path, title: &str, epochs: &[EpochReport]) -> Result<(), String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(drawing)?;
        let (left, right) = root.split_horizontally(500);
        let x = |e: &EpochReport| e.epoch as f64;
        let finite = |p: &(f64, f64)| p.1.is_finite();
        let curve = |label: &str, color: usize, dashed: bool, value: &dyn Fn(&EpochReport) -> Option<f64>| Curve {
            label: label.to_string(),
            color: PALETTE[color],
            dashed,
            points: epochs.iter().filter_map(|e| value(e).map(|v| (x(e), v))).filter(finite).collect(),
        };
        let losses = [
            curve("fixed point, train", 0, false, &|e| Some(e.fixed.loss)),
            curve("fixed point, test", 1, false, &|e| Some(e.fixed.test_loss)),
            curve("float reference, train", 4, true, &|e| e.float.map(|f| f.loss)),
            curve("float reference, test", 5, true, &|e| e.float.map(|f| f.test_loss)),
        ];
        let accuracies = [
            curve("fixed point, train", 2, false, &|e| Some(100.0 * e.fixed.train_accuracy)),
            curve("fixed point, test", 3, false, &|e| Some(100.0 * e.fixed.test_accuracy)),
            curve("float reference, train", 8, true, &|e| e.float.map(|f| 100.0 * f.train_accuracy)),
            curve("float reference, test", 9, true, &|e| e.float.map(|f| 100.0 * f.test_accuracy)),
        ];
        let top = losses.iter().flat_map(|c| c.points.iter().map(|p| p.1)).fold(0f64, f64::max);
        let span = epochs.last().map_or(1.0, x);
        let upper = SeriesLabelPosition::UpperRight;
        draw_curves(&left, "loss (mean per epoch)", "½‖ŷ − y‖²", span, (top * 1.1).max(1e-6), &losses, upper)?;
        draw_curves(&right, "accuracy", "%", span, 100.0, &accuracies, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(drawing)?;
    }
    write_svg(path, &svg)
}

/// The groups prover phases are drawn in, in bar order, with their colours.
const PHASE_GROUPS: [(&str, RGBColor); 12] = [
    ("training", RGBColor(199, 199, 199)),
    ("setup (witness tables, key)", RGBColor(127, 127, 127)),
    ("statement commitments", RGBColor(23, 190, 207)),
    ("commit b", RGBColor(31, 119, 180)),
    ("matmuls (M1 M2 M3)", RGBColor(255, 127, 14)),
    ("SGD update (U1)", RGBColor(188, 189, 34)),
    ("ReLU (H1 H2)", RGBColor(44, 160, 44)),
    ("rescaling (S1 S2)", RGBColor(152, 223, 138)),
    ("recompositions (§3)", RGBColor(148, 103, 189)),
    ("bit relation (B)", RGBColor(214, 39, 40)),
    ("openings", RGBColor(140, 86, 75)),
    ("other (L1, dataset link)", RGBColor(227, 119, 194)),
];

/// The index in [`PHASE_GROUPS`] of a prover phase: by the relation kind of `R<k> <kind> …` phases.
fn phase_group(phase: &str) -> usize {
    let mut words = phase.split_whitespace();
    let relation = match (words.next(), words.next()) {
        (Some(r), Some(kind)) if r.starts_with('R') && r[1..].parse::<u32>().is_ok() => Some(kind),
        _ => None,
    };
    match (phase, relation) {
        ("training", _) => 0,
        ("witness tables" | "commitment key", _) => 1,
        ("statement commitments", _) => 2,
        ("commit b", _) => 3,
        (_, Some("M1" | "M2" | "M3")) => 4,
        (_, Some("U1")) => 5,
        (_, Some("H1" | "H2")) => 6,
        (_, Some("S1" | "S2")) => 7,
        (_, Some("§3")) => 8,
        (_, Some("B")) => 9,
        ("openings", _) => 10,
        _ => 11,
    }
}

/// `zkdl bench --plot`: one bar per run (`label`, its (phase, seconds)), stacked by phase group.
pub fn prover_phases(path: &Path, runs: &[(String, Vec<(String, f64)>)]) -> Result<(), String> {
    let totals: Vec<[f64; PHASE_GROUPS.len()]> = runs
        .iter()
        .map(|(_, phases)| {
            let mut t = [0.0; PHASE_GROUPS.len()];
            phases.iter().for_each(|(p, s)| t[phase_group(p)] += s);
            t
        })
        .collect();
    let used: Vec<usize> = (0..PHASE_GROUPS.len()).filter(|&g| totals.iter().any(|t| t[g] > 0.0)).collect();
    let widest = totals.iter().map(|t| t.iter().sum::<f64>()).fold(0f64, f64::max).max(1e-3);
    let mut svg = String::new();
    {
        let height = (120 + 46 * runs.len() as u32).max(90 + 19 * used.len() as u32);
        let root = SVGBackend::with_string(&mut svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let labels: Vec<String> = runs.iter().map(|(l, _)| l.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption("prover time by phase", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(120)
            .build_cartesian_2d(0f64..widest * 1.45, 0f64..runs.len().max(1) as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_labels(runs.len().max(1) * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (*y - 0.5).round();
                if (*y - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()
            .map_err(drawing)?;
        for &g in &used {
            let (group, color) = PHASE_GROUPS[g];
            let bars: Vec<Rectangle<(f64, f64)>> = totals
                .iter()
                .enumerate()
                .filter(|(_, t)| t[g] > 0.0)
                .map(|(i, t)| {
                    let start: f64 = t[..g].iter().sum();
                    Rectangle::new([(start, i as f64 + 0.2), (start + t[g], i as f64 + 0.8)], color.filled())
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(drawing)?
                .label(group)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    write_svg(path, &svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_group_by_relation_kind() {
        let group = |phase: &str| PHASE_GROUPS[phase_group(phase)].0;
        assert_eq!(group("R3 M2 MatMulBackward (layers 2..8)"), "matmuls (M1 M2 M3)");
        assert_eq!(group("R17 §3 Recompose(sign + 32 magnitude bits) (layers 1..8)"), "recompositions (§3)");
        assert_eq!(group("R25 B Binary"), "bit relation (B)");
        assert_eq!(group("R11 L1 MseGrad (layer 9)"), "other (L1, dataset link)");
        assert_eq!(group("commit b"), "commit b");
        assert_eq!(group("commitment key"), "setup (witness tables, key)");
        assert_eq!(group("Resolve"), "other (L1, dataset link)");
    }
}
