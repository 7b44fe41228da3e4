//! `report.html`: one self-contained page (inline CSS and SVG; no scripts, fonts or links to
//! fetch) that opens offline in any browser.

use anyhow::{anyhow, Result};

use super::charts::BarChart;
use super::tables::{self, escape_html};
use super::{facts, ReportData};

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;\
max-width:1400px;padding:0 1em;color:#222;line-height:1.4}\
h1{font-size:1.7em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}dt{font-weight:600}dd{margin:0}\
code{background:#f4f4f4;padding:.1em .3em;border-radius:3px}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}\
th{background:#f4f4f4}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
tbody tr:nth-child(even){background:#fafafa}\
figure{margin:1em 0;overflow-x:auto}svg{max-width:100%;height:auto}\
details summary{cursor:pointer;font-weight:600}";

pub fn render(ctx: &ReportData) -> Result<String> {
    let doc = &ctx.doc;
    let svg = |chart: BarChart| -> Result<String> {
        let svg = chart.to_svg().map_err(|e| anyhow!(e))?;
        Ok(format!("<figure>\n{svg}</figure>\n"))
    };
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>conv1x1 report — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>conv1x1 benchmark report</h1>\n<dl>\n",
        escape_html(&doc.cpu)
    );
    for (label, text) in facts(ctx) {
        let text = escape_html(&text);
        let text = if label == "Command" {
            format!("<code>{text}</code>")
        } else {
            text
        };
        s.push_str(&format!("<dt>{label}</dt><dd>{text}</dd>\n"));
    }
    s.push_str(
        "</dl>\n<h2>Suite totals</h2>\n<p>One forward pass of the suite's 1x1 layers: \
                Σ count × median time.</p>\n",
    );
    s.push_str(&tables::totals_table(doc).to_html());

    let layouts = tables::layouts(doc);
    s.push_str("<h2>GFLOP/s per shape</h2>\n");
    for layout in &layouts {
        s.push_str(&svg(tables::gflops_chart(doc, layout))?);
    }
    s.push_str("<h2>% of peak per shape</h2>\n");
    for layout in &layouts {
        s.push_str(&svg(tables::efficiency_chart(doc, layout))?);
    }
    if let (Some(chart), Some(table)) = (
        tables::specialized_chart(doc),
        tables::specialized_table(doc),
    ) {
        s.push_str("<h2>Specialized vs generic kernels</h2>\n");
        s.push_str(&svg(chart)?);
        s.push_str(&table.to_html());
    }
    for layout in &layouts {
        s.push_str(&format!(
            "<h2>{} — GFLOP/s (% of peak) per shape</h2>\n<p>{}</p>\n",
            escape_html(&layout.to_uppercase()),
            escape_html(&tables::ratio_note(&ctx.peer_peak_isa))
        ));
        s.push_str(&tables::layout_table(doc, layout, &ctx.peer_peak_isa).to_html());
    }
    s.push_str("<h2>All measurements</h2>\n<details><summary>Show every row</summary>\n");
    s.push_str(&tables::all_rows_table(doc).to_html());
    s.push_str("</details>\n</body>\n</html>\n");
    Ok(s)
}
