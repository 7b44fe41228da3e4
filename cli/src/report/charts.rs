//! Grouped bar charts as standalone SVG text (plotters' SVG backend), for inlining in HTML.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar series: a name for the legend and a value per category (`None`: no bar).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A grouped bar chart: one group of bars per category, one bar per series.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Draw a dashed horizontal line here (e.g. 100 % of peak).
    pub reference: Option<f64>,
}

/// Fixed colours by series name so that an ISA looks the same in every chart.
fn color_of(name: &str, index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let base = name.split_whitespace().next().unwrap_or("");
    match base {
        "scalar" => RGBColor(150, 150, 150),
        "avx2" => RGBColor(31, 119, 180),
        "avx512" => RGBColor(214, 39, 40),
        "neon" => RGBColor(44, 160, 44),
        "matrixmultiply" => RGBColor(90, 60, 140),
        "gemm" => RGBColor(23, 160, 175),
        "generic" => RGBColor(31, 119, 180),
        "specialized" => RGBColor(255, 127, 14),
        _ => PALETTE[index % PALETTE.len()],
    }
}

/// An x axis of named categories: category `i` spans `[i, i + 1)`, its tick and label sit at
/// `i + 0.5`.
struct CategoryAxis {
    names: Vec<String>,
}

impl CategoryAxis {
    fn len(&self) -> f64 {
        self.names.len().max(1) as f64
    }
}

impl Ranged for CategoryAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1 - limit.0);
        limit.0 + (value / self.len() * span).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        (0..self.names.len()).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.len()
    }
}

impl ValueFormatter<f64> for CategoryAxis {
    /// Blank: the category names are drawn separately, rotated, below the axis.
    fn format_ext(&self, _value: &f64) -> String {
        String::new()
    }
}

impl BarChart {
    /// Renders the chart as an `<svg>` element sized to its number of bars.
    pub fn to_svg(&self) -> Result<String, String> {
        let groups = self.categories.len().max(1);
        let bars = self.series.len().max(1);
        let longest = self
            .categories
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(1);
        let width = (120 + groups * (bars * 12 + 18)).clamp(900, 2400) as u32;
        let label_area = (longest * 8 + 20).clamp(40, 200) as u32;
        let height = 380 + label_area;
        let mut svg = String::new();
        self.draw(&mut svg, (width, height), label_area)
            .map_err(|e| format!("drawing chart '{}': {e}", self.title))?;
        Ok(svg)
    }

    fn draw(
        &self,
        svg: &mut String,
        size: (u32, u32),
        label_area: u32,
    ) -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let n = self.categories.len();
        let y_max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .copied()
            .chain(self.reference)
            .fold(0.0f64, f64::max);
        // Headroom so that the legend (about 18 px per series in a plot about 320 px high)
        // sits above the tallest bar.
        let legend = (self.series.len() * 18 + 24) as f64 / 320.0;
        let y_max = if y_max > 0.0 {
            y_max / (1.0 - legend.min(0.6))
        } else {
            1.0
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(label_area)
            .y_label_area_size(70)
            .build_cartesian_2d(
                CategoryAxis {
                    names: self.categories.clone(),
                },
                0f64..y_max,
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .y_desc(self.y_label.as_str())
            .axis_desc_style(("sans-serif", 16))
            .y_label_style(("sans-serif", 14))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;

        // Category names, rotated to read downwards from just below each group's tick.
        let label_style = TextStyle::from(
            ("sans-serif", 14)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, name) in self.categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(name.as_str(), (x, y + 8), label_style.clone()))?;
        }

        // Bars of one group fill 80 % of the category's width.
        let bar_w = 0.8 / self.series.len().max(1) as f64;
        for (si, series) in self.series.iter().enumerate() {
            let color = color_of(&series.name, si);
            let rects = series.values.iter().enumerate().filter_map(|(ci, v)| {
                let v = (*v)?;
                let x0 = ci as f64 + 0.1 + si as f64 * bar_w;
                Some(Rectangle::new([(x0, 0.0), (x0 + bar_w, v)], color.filled()))
            });
            chart
                .draw_series(rects)?
                .label(series.name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
                });
        }
        if let Some(r) = self.reference {
            let dashed = RGBColor(60, 60, 60).stroke_width(1);
            let steps = (n.max(1) * 8) as f64;
            let n_f = n.max(1) as f64;
            // Plotters has no dashed style in every backend: draw short segments.
            let segments = (0..steps as usize).step_by(2).map(|k| {
                let x0 = k as f64 / steps * n_f;
                PathElement::new(vec![(x0, r), (x0 + n_f / steps, r)], dashed)
            });
            chart.draw_series(segments)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 15))
            .draw()?;
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_svg_with_labels_and_legend() {
        let chart = BarChart {
            title: "GFLOP/s".into(),
            y_label: "GFLOP/s".into(),
            categories: vec!["256x64@56".into(), "64x256@56".into()],
            series: vec![
                Series {
                    name: "avx2".into(),
                    values: vec![Some(100.0), Some(120.0)],
                },
                Series {
                    name: "avx512".into(),
                    values: vec![Some(200.0), None],
                },
            ],
            reference: Some(250.0),
        };
        let svg = chart.to_svg().unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("256x64@56") && svg.contains("avx512"));
        assert!(svg.matches("<rect").count() >= 3);
    }
}
