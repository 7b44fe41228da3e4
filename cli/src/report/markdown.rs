//! `report.md`: the facts, the totals, one table per layout and every measurement.

use super::{facts, tables, ReportData};

pub fn render(ctx: &ReportData) -> String {
    let doc = &ctx.doc;
    let mut s = String::from("# conv1x1 benchmark report\n\n");
    for (label, text) in facts(ctx) {
        if label == "Command" {
            s.push_str(&format!("- **{label}:** `{text}`\n"));
        } else {
            s.push_str(&format!("- **{label}:** {text}\n"));
        }
    }
    s.push_str("\n## Suite totals\n\nOne forward pass of the suite's 1x1 layers: Σ count × median time.\n\n");
    s.push_str(&tables::totals_table(doc).to_markdown());
    for layout in tables::layouts(doc) {
        s.push_str(&format!(
            "\n## {} — GFLOP/s (% of peak) per shape\n\n{}\n\n",
            layout.to_uppercase(),
            tables::ratio_note(&ctx.peer_peak_isa)
        ));
        s.push_str(&tables::layout_table(doc, &layout, &ctx.peer_peak_isa).to_markdown());
    }
    if let Some(t) = tables::specialized_table(doc) {
        s.push_str("\n## Specialized vs generic kernels\n\n");
        s.push_str(&t.to_markdown());
    }
    s.push_str("\n## All measurements\n\n");
    s.push_str(&tables::all_rows_table(doc).to_markdown());
    s
}
