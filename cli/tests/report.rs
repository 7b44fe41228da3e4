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
    // The printed totals compare with both peers.
    let header = stdout.lines().nth(1).unwrap_or_default();
    assert!(
        header.ends_with("× matrixmultiply  × gemm"),
        "totals header: {header}"
    );

    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();

    // Every supported ISA × both layouts, plus one row per peer and layout, per shape.
    let isas = conv1x1::dispatch::supported_isas();
    let results = json["results"].as_array().unwrap();
    let generic = results.iter().filter(|r| r["kernel"] == "generic").count();
    assert_eq!(generic, 2 * 2 * isas.len());
    for (peer, kernel, function) in PEERS {
        let rows: Vec<_> = results.iter().filter(|r| r["isa"] == peer).collect();
        assert_eq!(rows.len(), 2 * 2, "{peer} rows");
        for r in rows {
            assert_eq!(
                (&r["kernel"], &r["kernel_name"]),
                (&kernel.into(), &function.into())
            );
            assert_eq!(r["threads"], 1);
        }
    }
    for r in results {
        assert!(r["gflops"].as_f64().unwrap() > 0.0);
        assert!(r["efficiency"].as_f64().unwrap() > 0.0);
    }
    for isa in &isas {
        assert!(json["peak_gflops"][isa.name()].as_f64().unwrap() > 0.0);
    }
    let totals = json["totals"].as_array().unwrap();
    assert!(!totals.is_empty());
    check_total_ratios(totals);
    check_shape_ratios(&md, results);

    // The HTML states what it measured and carries its charts inline.
    for needle in [
        "conv1x1 benchmark report",
        "Measured peak",
        "Noise floor",
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
    // Peers in the charts' legends and the tables' ratio columns.
    let charts_with = |series: &str| {
        html.split("<svg")
            .skip(1)
            .filter(|svg| {
                let svg = svg.split("</svg>").next().unwrap_or_default();
                svg.lines().any(|l| l.trim() == series)
            })
            .count()
    };
    for (peer, _, _) in PEERS {
        assert_eq!(charts_with(peer), 4, "{peer} in the per-layout charts");
    }
    for needle in ["× matrixmultiply", "× gemm", "gemm::gemm"] {
        assert!(html.contains(needle), "html lacks {needle}");
        assert!(md.contains(needle), "md lacks {needle}");
    }
    // Nothing to fetch: no scripts, external styles, fonts or images.
    for banned in ["<script", "<link", "@import", "url(", "src="] {
        assert!(!html.contains(banned), "html contains {banned}");
    }
}

/// (isa, kernel, kernel_name) of the peer rows.
const PEERS: [(&str, &str, &str); 2] = [
    ("matrixmultiply", "sgemm", "matrixmultiply::sgemm"),
    ("gemm", "gemm", "gemm::gemm"),
];

/// Every total carries its GFLOP/s over each peer's total on the same suite and layout.
fn check_total_ratios(totals: &[Value]) {
    for t in totals {
        for (peer, _, _) in PEERS {
            let p = totals
                .iter()
                .find(|p| {
                    p["isa"] == peer && (&p["suite"], &p["layout"]) == (&t["suite"], &t["layout"])
                })
                .unwrap_or_else(|| panic!("no {peer} total for {t}"));
            let ratio = t["vs_peers"][peer]
                .as_f64()
                .unwrap_or_else(|| panic!("{t}"));
            let want = t["gflops"].as_f64().unwrap() / p["gflops"].as_f64().unwrap();
            assert!(
                (ratio - want).abs() <= 1e-9 * want,
                "{t}: {ratio} vs {want}"
            );
        }
    }
}

/// The per-shape Markdown tables end with "× matrixmultiply" and "× gemm": the best ISA's
/// generic GFLOP/s over the peer's.
fn check_shape_ratios(md: &str, results: &[Value]) {
    let ours = conv1x1::dispatch::best_isa().name();
    for layout in ["nchw", "nhwc"] {
        let section = md
            .split(&format!("## {} — GFLOP/s", layout.to_uppercase()))
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_else(|| panic!("no {layout} table"));
        let mut lines = section.lines().filter(|l| l.starts_with('|'));
        let cells = |l: &str| -> Vec<String> {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        };
        let header = cells(lines.next().unwrap());
        let column = |name: &str| header.iter().position(|h| h == name);
        let (mm, gm) = (column("× matrixmultiply"), column("× gemm"));
        assert_eq!(
            (mm, gm),
            (Some(header.len() - 2), Some(header.len() - 1)),
            "{header:?}"
        );
        let mut shapes = 0;
        for line in lines.skip(1) {
            let row = cells(line);
            let gflops = |isa: &str| {
                results
                    .iter()
                    .find(|r| {
                        r["shape"] == row[0].as_str()
                            && r["layout"] == layout
                            && r["isa"] == isa
                            && r["kernel"] != "specialized"
                    })
                    .and_then(|r| r["gflops"].as_f64())
                    .unwrap_or_else(|| panic!("no {isa} row for {}", row[0]))
            };
            for ((peer, _, _), col) in PEERS.iter().zip([mm, gm]) {
                let shown: f64 = row[col.unwrap()].parse().unwrap();
                let want = gflops(ours) / gflops(peer);
                assert!(
                    (shown - want).abs() <= 0.006,
                    "{layout} {}: × {peer} {shown} vs {want}",
                    row[0]
                );
            }
            shapes += 1;
        }
        assert_eq!(shapes, 2, "{layout}");
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

/// The three files of a report on one tiny shape, with `extra` options.
struct TinyReport {
    md: String,
    html: String,
    json: Value,
}

fn tiny_report(extra: &[&str]) -> TinyReport {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep").to_string_lossy().into_owned();
    let args = [
        "report",
        "--shape",
        "8x8@4",
        "--min-time",
        "0.001",
        "--out",
        &out,
    ];
    ok(&[&args[..], extra].concat());
    let read = |name: &str| std::fs::read_to_string(dir.path().join("rep").join(name)).unwrap();
    TinyReport {
        md: read("report.md"),
        html: read("report.html"),
        json: serde_json::from_str(&read("report.json")).unwrap(),
    }
}

#[test]
fn huge_pages_are_stated_in_the_report() {
    let plain = tiny_report(&[]);
    assert!(!plain.md.contains("Buffers"), "{}", plain.md);
    assert!(!plain.md.contains("Passes"), "{}", plain.md);
    let huge = tiny_report(&["--huge-pages"]);
    assert!(
        huge.md
            .contains("**Buffers:** inputs and outputs mapped for transparent huge pages"),
        "{}",
        huge.md
    );
    assert!(
        huge.json["huge_pages"]["thp_mode"].is_string(),
        "{}",
        huge.json
    );
}

#[test]
fn passes_are_stated_in_the_report() {
    let r = tiny_report(&["--passes", "2"]);
    assert!(
        r.md.contains("**Passes:** 2 passes over every configuration"),
        "{}",
        r.md
    );
    assert!(r.md.contains("| passes (GFLOP/s) |"), "{}", r.md);
    assert!(r.html.contains("passes (GFLOP/s)"));
    assert_eq!(r.json["passes"], 2);
    for row in r.json["results"].as_array().unwrap() {
        assert_eq!(row["pass_gflops"].as_array().unwrap().len(), 2, "{row}");
    }
}
