//! `conv1x1 report` on tiny shapes: the three files, their charts and their schema.

mod common;
use common::*;

use serde_json::Value;

#[test]
fn writes_markdown_json_and_self_contained_html() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("rep");
    let out_dir_s = out_dir.to_string_lossy().into_owned();
    let stdout = ok(&[
        "report",
        "--shape",
        "16x24@8",
        "--shape",
        "24x8@6s2",
        "--min-time",
        "0.002",
        "--out",
        &out_dir_s,
    ]);
    assert!(stdout.contains("report.html"), "{stdout}");

    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();

    // Every supported ISA × both layouts, plus one baseline row per layout, per shape.
    let isas = conv1x1::dispatch::supported_isas();
    let results = json["results"].as_array().unwrap();
    let generic = results.iter().filter(|r| r["kernel"] == "generic").count();
    assert_eq!(generic, 2 * 2 * isas.len());
    let baseline: Vec<_> = results
        .iter()
        .filter(|r| r["isa"] == "matrixmultiply")
        .collect();
    assert_eq!(baseline.len(), 2 * 2);
    for r in results {
        assert!(r["gflops"].as_f64().unwrap() > 0.0);
        assert!(r["efficiency"].as_f64().unwrap() > 0.0);
    }
    for isa in &isas {
        assert!(json["peak_gflops"][isa.name()].as_f64().unwrap() > 0.0);
    }
    assert!(!json["totals"].as_array().unwrap().is_empty());

    // The HTML states what it measured and carries its charts inline.
    for needle in [
        "conv1x1 benchmark report",
        "Measured peak",
        "What is timed",
        "report --shape",
        "Plan::run",
    ] {
        assert!(html.contains(needle), "html lacks {needle}");
        assert!(md.contains(needle), "md lacks {needle}");
    }
    assert!(html.contains(&json["cpu"].as_str().unwrap().replace('&', "&amp;")));
    let charts = html.matches("<svg").count();
    assert!(
        charts >= 4,
        "expected GFLOP/s and % of peak charts per layout, got {charts}"
    );
    assert!(html.contains("16x24@8") && html.contains("matrixmultiply"));
    // Nothing to fetch: no scripts, external styles, fonts or images.
    for banned in ["<script", "<link", "@import", "url(", "src="] {
        assert!(!html.contains(banned), "html contains {banned}");
    }
}

#[test]
fn unwritable_output_folder_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let target = file.join("sub").to_string_lossy().into_owned();
    let e = fails(
        &[
            "report",
            "--shape",
            "4x4@4",
            "--min-time",
            "0.001",
            "--out",
            &target,
        ],
        1,
    );
    assert!(e.contains("cannot create the output folder"), "{e}");
}
