//! `conv1x1 bench` on one tiny shape with a tiny time budget: output schema and behaviour.

mod common;
use common::*;

use serde_json::Value;

const ROW_KEYS: [&str; 17] = [
    "shape",
    "cin",
    "cout",
    "h",
    "w",
    "stride",
    "batch",
    "layout",
    "isa",
    "kernel",
    "kernel_name",
    "threads",
    "median_s",
    "gflops",
    "peak_gflops",
    "efficiency",
    "pass_gflops",
];

fn bench_json(args: &[&str]) -> Value {
    let mut all = vec!["bench", "--min-time", "0.002", "--json"];
    all.extend(args);
    serde_json::from_str(&ok(&all)).expect("bench --json prints JSON")
}

/// The text tables for one tiny shape, with `extra` options.
fn bench_text(extra: &[&str]) -> String {
    let args = ["bench", "--min-time", "0.002", "--shape", "8x8@4", "-q"];
    ok(&[&args[..], extra].concat())
}

#[test]
fn json_schema_on_a_tiny_shape() {
    let v = bench_json(&["--shape", "24x40@9s2b2", "--layout", "both"]);
    assert!(v["cpu"].is_string());
    let best = conv1x1::dispatch::best_isa().name();
    let peak = v["peak_gflops"][best].as_f64().unwrap();
    assert!(peak > 0.0);
    let range = &v["peak_range_gflops"][best];
    assert_eq!(range[0].as_f64(), Some(peak), "one shape, one measurement");
    assert_eq!(range[1].as_f64(), Some(peak));
    // A median run is no faster than the best, and noise does not halve a run of the loop.
    let floor = v["peak_floor"][best].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&floor), "peak_floor {floor}");
    assert_eq!((&v["passes"], &v["keep"]), (&1.into(), &"median".into()));
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one row per layout");
    for (r, layout) in results.iter().zip(["nchw", "nhwc"]) {
        for key in ROW_KEYS {
            assert!(!r[key].is_null(), "missing {key} in {r}");
        }
        assert_eq!(r["shape"], "24x40@9s2b2");
        assert_eq!(
            (r["cin"].as_u64(), r["cout"].as_u64()),
            (Some(24), Some(40))
        );
        assert_eq!((r["h"].as_u64(), r["w"].as_u64()), (Some(9), Some(9)));
        assert_eq!(
            (r["stride"].as_u64(), r["batch"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(r["layout"], layout);
        assert_eq!(r["isa"], best);
        assert_eq!(r["kernel"], "auto");
        assert_eq!(r["threads"], 1);
        let (t, g, e) = (
            r["median_s"].as_f64().unwrap(),
            r["gflops"].as_f64().unwrap(),
            r["efficiency"].as_f64().unwrap(),
        );
        let flops = 2.0 * 2.0 * 24.0 * 40.0 * 5.0 * 5.0;
        assert!(t > 0.0 && (g - flops / t / 1e9).abs() <= 1e-9 * g.max(1.0));
        // One shape: the run measured one peak per ISA, and the rows used it.
        assert_eq!(r["peak_gflops"].as_f64().unwrap(), peak);
        assert_eq!(r["pass_gflops"], serde_json::json!([g]), "one pass");
        assert!((e - g / peak).abs() <= 1e-9);
        let name = r["kernel_name"].as_str().unwrap();
        assert!(conv1x1::kernels().any(|k| k.name == name), "{name}");
    }
    let totals = v["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 2);
    for t in totals {
        for key in [
            "suite",
            "layout",
            "isa",
            "kernel",
            "threads",
            "total_s",
            "gflops",
            "efficiency",
        ] {
            assert!(!t[key].is_null(), "missing {key} in {t}");
        }
        assert_eq!(t["suite"], "custom");
        assert_eq!(t["complete"], true);
    }
}

/// With `--passes 3` each row is the pass with the median time and lists every pass's
/// GFLOP/s; it is compared with the highest of the passes' peaks, and the text tables show
/// the range.
#[test]
fn passes_keep_the_median_pass_and_list_every_pass() {
    let v = bench_json(&["--shape", "24x40@9", "--layout", "both", "--passes", "3"]);
    assert_eq!(v["passes"], 3);
    let best = conv1x1::dispatch::best_isa().name();
    let range = &v["peak_range_gflops"][best];
    let (lo, hi) = (range[0].as_f64().unwrap(), range[1].as_f64().unwrap());
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one row per layout, not per pass");
    for r in results {
        let mut passes: Vec<f64> = r["pass_gflops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_f64().unwrap())
            .collect();
        assert_eq!(passes.len(), 3, "{r}");
        passes.sort_by(f64::total_cmp);
        // The median time is the middle GFLOP/s: the same division of the same numbers.
        assert_eq!(r["gflops"].as_f64().unwrap(), passes[1], "{r}");
        // One shape, so the run's highest peak is the highest of the three measured before
        // it, which the row is compared with.
        let peak = r["peak_gflops"].as_f64().unwrap();
        assert_eq!(peak, hi, "{peak} against the run's {lo}–{hi}");
        let e = r["efficiency"].as_f64().unwrap();
        assert!((e - passes[1] / peak).abs() <= 1e-9);
    }
    let totals = v["totals"].as_array().unwrap();
    let t0 = totals[0]["total_s"].as_f64().unwrap();
    assert_eq!(
        t0,
        results[0]["median_s"].as_f64().unwrap(),
        "totals sum the kept rows"
    );

    // The fastest pass instead: the highest GFLOP/s of the three.
    let v = bench_json(&["--shape", "24x40@9", "--passes", "3", "--keep", "fastest"]);
    assert_eq!(v["keep"], "fastest");
    for r in v["results"].as_array().unwrap() {
        let best = r["pass_gflops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(r["gflops"].as_f64().unwrap(), best, "{r}");
    }

    let text = bench_text(&["--passes", "2"]);
    assert!(
        text.contains("Passes: 2 passes over every configuration"),
        "{text}"
    );
    assert!(text.contains("passes (GFLOP/s)"), "{text}");
    let single = bench_text(&[]);
    assert!(!single.contains("passes"), "{single}");
    fails(&["bench", "--shape", "8x8@4", "--passes", "0"], 2);
}

#[test]
fn huge_pages_are_reported_only_when_asked_for() {
    let plain = bench_json(&["--shape", "24x40@9", "--layout", "nhwc"]);
    assert!(plain.get("huge_pages").is_none(), "{plain}");
    assert!(!plain["timed_call"]
        .as_str()
        .unwrap()
        .contains("--huge-pages"));

    // A shape whose input ring spans several 2 MiB pages.
    let v = bench_json(&["--shape", "64x64@64b2", "--layout", "nchw", "--huge-pages"]);
    let h = &v["huge_pages"];
    let mode = h["thp_mode"].as_str().unwrap();
    assert!(
        ["always", "madvise", "never", "unavailable"].contains(&mode),
        "{mode}"
    );
    assert!(h["max_granted_mib"].as_f64().unwrap() >= 0.0);
    assert!(v["timed_call"].as_str().unwrap().contains("--huge-pages"));
    assert_eq!(v["results"].as_array().unwrap().len(), 1);

    let text = bench_text(&["--huge-pages"]);
    assert!(
        text.contains("Buffers: inputs and outputs mapped for transparent huge pages"),
        "{text}"
    );
}

#[test]
fn all_isas_threads_and_batch_override() {
    let v = bench_json(&[
        "--shape",
        "16x24@8,8x8@5",
        "--isa",
        "all",
        "--layout",
        "nhwc",
        "--threads",
        "2",
        "--batch",
        "3",
    ]);
    let isas = conv1x1::dispatch::supported_isas();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2 * isas.len());
    for isa in &isas {
        assert!(v["peak_gflops"][isa.name()].as_f64().unwrap() > 0.0);
        assert!(results.iter().any(|r| r["isa"] == isa.name()));
    }
    for r in results {
        assert_eq!(r["threads"], 2);
        assert_eq!(r["batch"], 3);
        assert!(r["shape"].as_str().unwrap().ends_with("b3"));
    }
}

#[test]
fn text_tables_and_suite_totals() {
    let out = ok(&[
        "bench",
        "--min-time",
        "0.002",
        "--shape",
        "32x16@6,8x8@4",
        "--layout",
        "nchw",
    ]);
    for needle in [
        "CPU:",
        "Peak GFLOP/s",
        "32x16@6",
        "GFLOP/s",
        "% peak",
        "median",
        "Suite totals",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    // The ratio columns belong to --peers.
    assert!(
        !out.contains("× matrixmultiply") && !out.contains("gemm"),
        "{out}"
    );
    // One shape: its table only, no total repeating it.
    let out = ok(&[
        "bench",
        "--min-time",
        "0.002",
        "--shape",
        "32x16@6",
        "--layout",
        "nchw",
    ]);
    assert!(
        out.contains("32x16@6") && !out.contains("Suite totals"),
        "{out}"
    );
}

#[test]
fn peers_add_their_rows_and_ratio_columns() {
    let args = ["--shape", "20x12@7,16x8@6s2", "--layout", "both", "--peers"];
    let v = bench_json(&args);
    let best = conv1x1::dispatch::best_isa().name();
    let results = v["results"].as_array().unwrap();
    // Per shape and layout: ours, matrixmultiply, gemm.
    assert_eq!(results.len(), 2 * 2 * 3);
    for (peer, kernel, function) in [
        ("matrixmultiply", "sgemm", "matrixmultiply::sgemm"),
        ("gemm", "gemm", "gemm::gemm"),
    ] {
        let rows: Vec<_> = results.iter().filter(|r| r["isa"] == peer).collect();
        assert_eq!(rows.len(), 4, "{peer}");
        for r in &rows {
            assert_eq!(r["kernel"], kernel);
            assert_eq!(r["kernel_name"], function);
            assert!(r["gflops"].as_f64().unwrap() > 0.0);
            // Peers are compared with the best ISA's peak, measured before the same shape.
            let ours = results
                .iter()
                .find(|o| o["isa"] == best && o["shape"] == r["shape"])
                .unwrap();
            let peak = r["peak_gflops"].as_f64().unwrap();
            assert_eq!(peak, ours["peak_gflops"].as_f64().unwrap());
            let e = r["efficiency"].as_f64().unwrap();
            assert!((e - r["gflops"].as_f64().unwrap() / peak).abs() <= 1e-9);
        }
        for t in v["totals"].as_array().unwrap() {
            let p = v["totals"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["isa"] == peer && p["layout"] == t["layout"])
                .unwrap();
            let want = t["gflops"].as_f64().unwrap() / p["gflops"].as_f64().unwrap();
            let got = t["vs_peers"][peer].as_f64().unwrap();
            assert!((got - want).abs() <= 1e-9 * want, "{t}");
        }
    }

    let mut text_args = vec!["bench", "--min-time", "0.002"];
    text_args.extend(args);
    let out = ok(&text_args);
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("GFLOP/s  % peak"))
        .collect();
    // Two shape tables and the totals.
    assert_eq!(headers.len(), 3, "{out}");
    for h in headers {
        assert!(h.ends_with("% peak  × matrixmultiply  × gemm"), "{h}");
    }
    for needle in ["matrixmultiply::sgemm", "gemm::gemm"] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    // Each peer's own row reads 1.00 in its own column; the gemm row's last cell is it.
    let gemm_row = out
        .lines()
        .find(|l| l.contains("gemm::gemm"))
        .unwrap_or_default();
    assert!(gemm_row.ends_with(" 1.00"), "{gemm_row}");
}

#[test]
fn specialized_without_a_kernel_is_skipped_with_a_note() {
    // No kernel is specialized to 7 -> 5 channels.
    let out = conv1x1(&[
        "bench",
        "--min-time",
        "0.002",
        "--shape",
        "7x5@4",
        "--kernel",
        "specialized",
        "--json",
    ]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["results"].as_array().unwrap().is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: no specialized kernel for 7x5@4"),
        "{err}"
    );
}

#[test]
fn a_kernel_by_name_runs_where_it_fits_and_is_skipped_elsewhere() {
    let k = conv1x1::kernels()
        .find(|k| !k.specialized() && k.isa == conv1x1::dispatch::best_isa())
        .unwrap();
    let out = conv1x1(&[
        "bench",
        "--min-time",
        "0.002",
        "--shape",
        "12x20@6",
        "--kernel",
        k.name,
        "--json",
    ]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the kernel's own layout fits");
    assert_eq!(rows[0]["kernel_name"], k.name);
    assert_eq!(rows[0]["layout"], k.layout.name());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not fit"), "{err}");
    fails(&["bench", "--kernel", "f32_no_such_kernel"], 2);
}

#[test]
fn unsupported_isa_is_a_runtime_error() {
    if let Some(isa) = unsupported_isa() {
        let e = fails(&["bench", "--shape", "4x4@4", "--isa", isa], 1);
        assert!(e.contains("not supported"), "{e}");
    }
}

#[test]
fn shapes_too_large_for_memory_are_refused() {
    let e = fails(
        &[
            "bench",
            "--shape",
            "2048x2048@224b64",
            "--min-time",
            "0.001",
        ],
        1,
    );
    assert!(e.contains("GiB"), "{e}");
}
