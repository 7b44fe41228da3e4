//! The report's tables and chart data, derived from a [`Document`], and their Markdown and
//! HTML renderings.

use crate::format;
use crate::peers::Peer;
use crate::results::{self, Document, Row};

use super::charts::{BarChart, Series};

/// A table of text cells.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    /// Right-align this column (numbers).
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(headers: &[(&str, bool)]) -> Table {
        Table {
            headers: headers.iter().map(|(h, _)| h.to_string()).collect(),
            right: headers.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut s = format!(
            "| {} |\n|",
            self.headers
                .iter()
                .map(|h| esc(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        for &r in &self.right {
            s.push_str(if r { " ---: |" } else { " --- |" });
        }
        s.push('\n');
        for row in &self.rows {
            s.push_str(&format!(
                "| {} |\n",
                row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        s
    }

    pub fn to_html(&self) -> String {
        let cell = |tag: &str, text: &str, right: bool| {
            let class = if right { " class=\"num\"" } else { "" };
            format!("<{tag}{class}>{}</{tag}>", escape_html(text))
        };
        let mut s = String::from("<table>\n<thead><tr>");
        for (h, &r) in self.headers.iter().zip(&self.right) {
            s.push_str(&cell("th", h, r));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            s.push_str("<tr>");
            for (c, &r) in row.iter().zip(&self.right) {
                s.push_str(&cell("td", c, r));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        s
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The series name of a row: its ISA, `"<isa> specialized"` for specialized kernels.
fn series_name(r: &Row) -> String {
    if r.kernel == "specialized" {
        format!("{} specialized", r.isa)
    } else {
        r.isa.clone()
    }
}

/// Rows of one layout arranged as shapes × series (generic kernels and the peers).
struct Grid<'a> {
    shapes: Vec<(String, String)>,
    series: Vec<String>,
    cells: Vec<Vec<Option<&'a Row>>>,
}

impl<'a> Grid<'a> {
    fn new(doc: &'a Document, layout: &str) -> Grid<'a> {
        let rows: Vec<&Row> = doc
            .results
            .iter()
            .filter(|r| r.layout == layout && r.kernel != "specialized")
            .collect();
        let mut shapes: Vec<(String, String)> = Vec::new();
        let mut series: Vec<String> = Vec::new();
        for r in &rows {
            let key = (r.suite.clone(), r.shape.clone());
            if !shapes.contains(&key) {
                shapes.push(key);
            }
            let name = series_name(r);
            if !series.contains(&name) {
                series.push(name);
            }
        }
        // The peers go last, whatever order they were measured in.
        for peer in Peer::ALL {
            if let Some(i) = series.iter().position(|s| s == peer.name()) {
                let p = series.remove(i);
                series.push(p);
            }
        }
        let mut cells = vec![vec![None; series.len()]; shapes.len()];
        for r in rows {
            let si = shapes
                .iter()
                .position(|(s, n)| *s == r.suite && *n == r.shape);
            let ci = series.iter().position(|s| *s == series_name(r));
            if let (Some(si), Some(ci)) = (si, ci) {
                cells[si][ci] = Some(r);
            }
        }
        Grid {
            shapes,
            series,
            cells,
        }
    }

    fn chart(&self, title: String, y_label: &str, value: impl Fn(&Row) -> f64) -> BarChart {
        BarChart {
            title,
            y_label: y_label.to_string(),
            categories: self.shapes.iter().map(|(_, s)| s.clone()).collect(),
            series: self
                .series
                .iter()
                .enumerate()
                .map(|(ci, name)| Series {
                    name: name.clone(),
                    values: self.cells.iter().map(|row| row[ci].map(&value)).collect(),
                })
                .collect(),
            reference: None,
        }
    }
}

/// Layouts present in the document, in order of appearance.
pub fn layouts(doc: &Document) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in &doc.results {
        if !out.contains(&r.layout) {
            out.push(r.layout.clone());
        }
    }
    out
}

/// GFLOP/s per shape grouped by ISA (generic kernels and the peers) for `layout`.
pub fn gflops_chart(doc: &Document, layout: &str) -> BarChart {
    Grid::new(doc, layout).chart(
        format!("GFLOP/s per shape, {layout} (higher is better)"),
        "GFLOP/s",
        |r| r.gflops,
    )
}

/// % of the ISA's peak per shape for `layout`, with a line at 100 %.
pub fn efficiency_chart(doc: &Document, layout: &str) -> BarChart {
    let mut c = Grid::new(doc, layout).chart(
        format!("% of peak per shape, {layout} (peak of the same ISA × threads)"),
        "% of peak",
        |r| 100.0 * r.efficiency,
    );
    c.reference = Some(100.0);
    c
}

/// Pairs (generic row, specialized row) measured on the same shape, layout and ISA.
fn specialized_pairs(doc: &Document) -> Vec<(&Row, &Row)> {
    doc.results
        .iter()
        .filter(|r| r.kernel == "specialized")
        .filter_map(|s| {
            doc.results
                .iter()
                .find(|g| {
                    g.kernel == "generic"
                        && (&g.suite, &g.shape, &g.layout, &g.isa)
                            == (&s.suite, &s.shape, &s.layout, &s.isa)
                })
                .map(|g| (g, s))
        })
        .collect()
}

/// Specialized vs generic GFLOP/s, when the document has specialized rows.
pub fn specialized_chart(doc: &Document) -> Option<BarChart> {
    let pairs = specialized_pairs(doc);
    if pairs.is_empty() {
        return None;
    }
    Some(BarChart {
        title: "Specialized vs generic kernels: GFLOP/s".to_string(),
        y_label: "GFLOP/s".to_string(),
        categories: pairs
            .iter()
            .map(|(g, _)| format!("{} {} {}", g.shape, g.layout, g.isa))
            .collect(),
        series: vec![
            Series {
                name: "generic".into(),
                values: pairs.iter().map(|(g, _)| Some(g.gflops)).collect(),
            },
            Series {
                name: "specialized".into(),
                values: pairs.iter().map(|(_, s)| Some(s.gflops)).collect(),
            },
        ],
        reference: None,
    })
}

pub fn specialized_table(doc: &Document) -> Option<Table> {
    let pairs = specialized_pairs(doc);
    if pairs.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("shape", false),
        ("layout", false),
        ("isa", false),
        ("specialized kernel", false),
        ("generic GFLOP/s", true),
        ("specialized GFLOP/s", true),
        ("speedup", true),
    ]);
    for (g, s) in pairs {
        t.rows.push(vec![
            g.shape.clone(),
            g.layout.clone(),
            g.isa.clone(),
            s.kernel_name.clone(),
            format!("{:.1}", g.gflops),
            format!("{:.1}", s.gflops),
            format!("{:.2}x", g.median_s / s.median_s),
        ]);
    }
    Some(t)
}

/// What the per-shape "× peer" columns divide.
pub fn ratio_note(ours: &str) -> String {
    format!(
        "× peer: {ours} generic GFLOP/s ÷ the peer's GFLOP/s on the same shape, same run \
         (above 1: faster than the peer)."
    )
}

/// Shapes × series for `layout`: "GFLOP/s (% peak)" per cell, then per peer a "× peer"
/// column: the GFLOP/s of `ours` (an ISA's generic kernel) over the peer's.
pub fn layout_table(doc: &Document, layout: &str, ours: &str) -> Table {
    let grid = Grid::new(doc, layout);
    let peers: Vec<Peer> = Peer::ALL
        .into_iter()
        .filter(|p| grid.series.iter().any(|s| s == p.name()))
        .collect();
    let ratio_headers: Vec<String> = peers.iter().map(|p| format!("× {}", p.name())).collect();
    let mut headers: Vec<(&str, bool)> = vec![("shape", false), ("count", true), ("GFLOP", true)];
    headers.extend(grid.series.iter().map(|s| (s.as_str(), true)));
    headers.extend(ratio_headers.iter().map(|h| (h.as_str(), true)));
    let column = |name: &str| grid.series.iter().position(|s| s == name);
    let mut t = Table::new(&headers);
    for (i, (_, shape)) in grid.shapes.iter().enumerate() {
        let any = grid.cells[i].iter().flatten().next();
        let mut row = vec![
            shape.clone(),
            any.map_or(String::new(), |r| r.count.to_string()),
            any.map_or(String::new(), |r| format::gflop(r.flops)),
        ];
        for cell in &grid.cells[i] {
            row.push(cell.map_or("-".to_string(), |r| {
                format!("{:.1} ({}%)", r.gflops, format::percent(r.efficiency))
            }));
        }
        let ours_row = column(ours).and_then(|c| grid.cells[i][c]);
        for peer in &peers {
            let peer_row = column(peer.name()).and_then(|c| grid.cells[i][c]);
            let ratio = ours_row.zip(peer_row).map(|(o, p)| o.gflops / p.gflops);
            row.push(results::ratio_cell(ratio));
        }
        t.rows.push(row);
    }
    t
}

/// One row per total, with a "× peer" column per peer the totals were compared with.
pub fn totals_table(doc: &Document) -> Table {
    let peers = results::peers_in_totals(&doc.totals);
    let ratio_headers: Vec<String> = peers.iter().map(|p| format!("× {}", p.name())).collect();
    let mut headers = vec![
        ("suite", false),
        ("layout", false),
        ("isa", false),
        ("kernel", false),
        ("threads", true),
        ("layers", true),
        ("total time", true),
        ("GFLOP/s", true),
        ("% peak", true),
    ];
    headers.extend(ratio_headers.iter().map(|h| (h.as_str(), true)));
    let mut t = Table::new(&headers);
    for x in &doc.totals {
        let mut row = vec![
            x.suite.clone(),
            x.layout.clone(),
            x.isa.clone(),
            x.kernel.clone(),
            x.threads.to_string(),
            if x.complete {
                x.layers.to_string()
            } else {
                format!("{} (partial)", x.layers)
            },
            format::duration(x.total_s),
            format!("{:.1}", x.gflops),
            format::percent(x.efficiency),
        ];
        for peer in &peers {
            row.push(results::ratio_cell(x.vs_peers.get(peer.name()).copied()));
        }
        t.rows.push(row);
    }
    t
}

/// Every measurement; with several passes, the range of GFLOP/s over them.
pub fn all_rows_table(doc: &Document) -> Table {
    let mut headers = vec![
        ("suite", false),
        ("shape", false),
        ("layout", false),
        ("isa", false),
        ("kernel", false),
        ("kernel name", false),
        ("threads", true),
        ("median", true),
        ("runs", true),
        ("GFLOP/s", true),
        ("% peak", true),
    ];
    let passes = doc.passes > 1;
    if passes {
        headers.push(("passes (GFLOP/s)", true));
    }
    let mut t = Table::new(&headers);
    for r in &doc.results {
        let mut row = vec![
            r.suite.clone(),
            r.shape.clone(),
            r.layout.clone(),
            r.isa.clone(),
            r.kernel.clone(),
            r.kernel_name.clone(),
            r.threads.to_string(),
            format::duration(r.median_s),
            r.runs.to_string(),
            format!("{:.1}", r.gflops),
            format::percent(r.efficiency),
        ];
        if passes {
            row.push(results::pass_range_cell(r));
        }
        t.rows.push(row);
    }
    t
}
