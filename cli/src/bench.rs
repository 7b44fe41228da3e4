//! `conv1x1 bench`: tables (or JSON) of GFLOP/s, % of peak and median time per shape, with
//! `--peers` the GEMM peers beside them and "× peer" ratio columns.

use std::io::Write;

use anyhow::Result;
use conv1x1::suite::Shape;
use conv1x1::KernelKind;

use crate::args::BenchArgs;
use crate::engine::{Engine, Job, Subject, Workload};
use crate::format;
use crate::peers::Peer;
use crate::results::{self, Document, Row, Total};

pub fn run(args: &BenchArgs, out: &mut dyn Write) -> Result<()> {
    let workload = Workload::from_args(&args.workload)?;
    let isas = args.isa.resolve()?;
    let kind: KernelKind = args.kernel;
    let mut subjects = Vec::new();
    for layout in args.layout.layouts() {
        for &isa in &isas {
            subjects.push(Subject::Conv { layout, isa, kind });
        }
        if args.peers {
            for peer in Peer::ALL {
                subjects.push(Subject::Peer { layout, peer });
            }
        }
    }
    let threads = args.workload.threads as usize;
    let jobs: Vec<Job> = workload
        .shapes()
        .flat_map(|(suite, shape)| subjects.iter().map(move |&s| (suite, shape, s)))
        .collect();
    let mut engine = Engine::new(&args.workload, args.min_time, jobs.len());
    let doc_head = |engine: &Engine| engine.document(args.min_time, Vec::new(), Vec::new());
    if !args.json {
        let doc = doc_head(&engine);
        engine.suspend(|| write!(out, "{}", header(&doc, threads)))?;
    }

    // A shape's table prints as its last configuration is done (in the last pass).
    let mut rows = Vec::new();
    let mut shape_rows = Vec::new();
    engine.measure_passes(&jobs, |engine, i, row| {
        let (suite, shape, subject) = jobs[i];
        match row {
            Some(row) => shape_rows.push(row),
            None => engine.suspend(|| skipped_note(shape, subject)),
        }
        if (i + 1) % subjects.len() == 0 {
            if !args.json && !shape_rows.is_empty() {
                engine.suspend(|| write!(out, "{}", shape_table(suite, shape, &shape_rows)))?;
            }
            rows.append(&mut shape_rows);
        }
        Ok(())
    })?;
    engine.finish();

    let totals = results::totals(&rows, &workload.suite_sizes());
    if args.json {
        let mut doc = doc_head(&engine);
        doc.results = rows;
        doc.totals = totals;
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        if totals.iter().any(|t| t.layers > 1) {
            // A total over one layer would repeat its shape's table.
            writeln!(out, "{}", totals_table(&totals))?;
        }
        write!(out, "{}", peak_summary(&doc_head(&engine)))?;
    }
    Ok(())
}

fn skipped_note(shape: &Shape, subject: Subject) {
    if let Subject::Conv { layout, isa, kind } = subject {
        let what = match kind {
            KernelKind::Specialized => "no specialized kernel".to_string(),
            other => format!("kernel {other} does not fit"),
        };
        eprintln!("note: {what} for {shape} ({layout}, {isa}); skipped");
    }
}

/// CPU, how peaks are measured, threads, passes.
pub fn header(doc: &Document, threads: usize) -> String {
    let mut s = format!(
        "CPU: {} ({})\nPeak GFLOP/s per core: register-only FMA loop per ISA, best of 100 runs of 2.5 ms, \
         measured in this process before each shape (on the shape's line)\n\
         Threads per convolution: {threads}; % peak = GFLOP/s / (that peak of the row's ISA × threads)\n",
        doc.cpu, doc.arch,
    );
    if doc.passes > 1 {
        s += &format!("Passes: {}\n", results::passes_note(doc.passes, doc.keep));
    }
    s.push('\n');
    s
}

/// The peaks measured over the run: median and range per ISA (nothing when none was), and
/// with `--huge-pages` what the system granted.
pub fn peak_summary(doc: &Document) -> String {
    let mut text = String::new();
    if !doc.peak_gflops.is_empty() {
        text += &format!(
            "Peak GFLOP/s per core over this run, median (range): {}\n",
            results::peak_list(doc)
        );
    }
    if !doc.peak_floor.is_empty() {
        text += &format!(
            "Noise floor, a peak measurement's median run ÷ its best, median over this run: {}\n",
            results::floor_list(doc)
        );
    }
    if let Some(h) = &doc.huge_pages {
        text += &format!("Buffers: {}\n", h.describe());
    }
    text
}

/// One shape's table: a row per configuration, and per peer measured a "× peer" column
/// (the row's GFLOP/s over the peer's on the same layout).
fn shape_table(suite: &str, shape: &Shape, rows: &[Row]) -> String {
    let origin = if shape.count > 1 || suite != crate::engine::CUSTOM_SUITE {
        format!(", ×{} in {suite}", shape.count)
    } else {
        String::new()
    };
    // The peak each ISA's rows were compared with (measured just before this shape; with
    // several passes, the highest of those measured before it in each pass).
    let mut peaks: Vec<(String, f64)> = Vec::new();
    for r in rows {
        if Peer::from_name(&r.isa).is_none() && !peaks.iter().any(|(isa, _)| *isa == r.isa) {
            peaks.push((r.isa.clone(), r.peak_gflops));
        }
    }
    let peaks: Vec<String> = peaks
        .iter()
        .map(|(isa, p)| format!("{isa} {p:.1}"))
        .collect();
    let peaks = if peaks.is_empty() {
        String::new()
    } else {
        format!("; peak GFLOP/s {}", peaks.join(", "))
    };
    let mut s = format!(
        "{shape}  ({} GFLOP per run{origin}{peaks})\n",
        format::gflop(shape.flops())
    );
    let peers = results::peers_in(rows);
    let passes = rows.iter().any(|r| r.pass_gflops.len() > 1);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.layout.clone(),
                r.isa.clone(),
                r.kernel.clone(),
                r.kernel_name.clone(),
                format::duration(r.median_s),
                format!("{:.1}", r.gflops),
                format::percent(r.efficiency),
            ];
            if passes {
                cells.push(results::pass_range_cell(r));
            }
            for &peer in &peers {
                let ratio = results::peer_row(rows, r, peer).map(|p| r.gflops / p.gflops);
                cells.push(results::ratio_cell(ratio));
            }
            cells
        })
        .collect();
    let ratio_headers: Vec<String> = peers.iter().map(|p| format!("× {}", p.name())).collect();
    let mut headers = vec![
        "layout",
        "isa",
        "kernel",
        "kernel name",
        "median",
        "GFLOP/s",
        "% peak",
    ];
    if passes {
        headers.push("passes (GFLOP/s)");
    }
    headers.extend(ratio_headers.iter().map(String::as_str));
    let mut right = vec![false, false, false, false, true, true, true];
    right.resize(headers.len(), true);
    s.push_str(&format::table("  ", &headers, &right, &cells));
    s.push('\n');
    s
}

/// Suite totals: one forward pass's 1x1 layers per configuration, and per peer compared a
/// "× peer" column.
pub fn totals_table(totals: &[Total]) -> String {
    let mut s =
        String::from("Suite totals (one forward pass of the 1x1 layers: Σ count × median)\n");
    let peers = results::peers_in_totals(totals);
    let cells: Vec<Vec<String>> = totals
        .iter()
        .map(|t| {
            let layers = if t.complete {
                t.layers.to_string()
            } else {
                format!("{} (partial)", t.layers)
            };
            let mut cells = vec![
                t.suite.clone(),
                t.layout.clone(),
                t.isa.clone(),
                t.kernel.clone(),
                t.threads.to_string(),
                layers,
                format::duration(t.total_s),
                format!("{:.1}", t.gflops),
                format::percent(t.efficiency),
            ];
            for peer in &peers {
                cells.push(results::ratio_cell(t.vs_peers.get(peer.name()).copied()));
            }
            cells
        })
        .collect();
    let ratio_headers: Vec<String> = peers.iter().map(|p| format!("× {}", p.name())).collect();
    let mut headers = vec![
        "suite", "layout", "isa", "kernel", "threads", "layers", "total", "GFLOP/s", "% peak",
    ];
    headers.extend(ratio_headers.iter().map(String::as_str));
    let mut right = vec![false, false, false, false];
    right.resize(headers.len(), true);
    s.push_str(&format::table("  ", &headers, &right, &cells));
    s
}
