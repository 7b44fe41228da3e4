//! `conv1x1 report`: every ISA × layout (generic and specialized kernels) plus two GEMM peers
//! (matrixmultiply and the gemm crate) over a suite, written as Markdown, JSON and one
//! self-contained HTML file with inline SVG charts.

mod charts;
mod html;
mod markdown;
pub mod tables;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use conv1x1::{dispatch, KernelKind, Layout};

use crate::args::ReportArgs;
use crate::engine::PEER_AGREEMENT;
use crate::engine::{has_specialized, Engine, Subject, Workload};
use crate::format;
use crate::peers::Peer;
use crate::results::{self, Document};

/// The facts every rendering states next to the numbers.
pub struct ReportData {
    pub doc: Document,
    pub features: Vec<&'static str>,
    pub threads: usize,
    /// The ISA whose peak peer rows are compared with; also the ISA whose GFLOP/s the
    /// per-shape "× peer" columns divide (the one automatic dispatch picks).
    pub peer_peak_isa: String,
    pub generated: String,
}

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<()> {
    let workload = Workload::from_args(&args.workload)?;
    let dir = &args.out;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;

    let isas = dispatch::supported_isas();
    let threads = args.workload.threads as usize;
    let mut jobs = Vec::new();
    for (suite, shape) in workload.shapes() {
        for layout in [Layout::Nchw, Layout::Nhwc] {
            for &isa in &isas {
                jobs.push((
                    suite,
                    shape,
                    Subject::Conv {
                        layout,
                        isa,
                        kind: KernelKind::Generic,
                    },
                ));
                if has_specialized(isa, layout, shape) {
                    let kind = KernelKind::Specialized;
                    jobs.push((suite, shape, Subject::Conv { layout, isa, kind }));
                }
            }
            for peer in Peer::ALL {
                jobs.push((suite, shape, Subject::Peer { layout, peer }));
            }
        }
    }
    let mut engine = Engine::new(&args.workload, args.min_time, jobs.len());
    let mut rows = Vec::new();
    engine.measure_passes(&jobs, |_, _, row| {
        rows.extend(row);
        Ok(())
    })?;
    engine.finish();

    let totals = results::totals(&rows, &workload.suite_sizes());
    let ctx = ReportData {
        doc: engine.document(args.min_time, rows, totals),
        features: crate::cpu::features(),
        threads,
        peer_peak_isa: engine.peer_peak_isa().name().to_string(),
        generated: format::utc_now(),
    };

    let json = serde_json::to_string_pretty(&ctx.doc)? + "\n";
    write_file(dir, "report.json", &json)?;
    write_file(dir, "report.md", &markdown::render(&ctx))?;
    write_file(dir, "report.html", &html::render(&ctx)?)?;

    write!(out, "{}", crate::bench::totals_table(&ctx.doc.totals))?;
    writeln!(
        out,
        "\nwrote {0}/report.html, {0}/report.md and {0}/report.json",
        dir.display()
    )?;
    Ok(())
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The introductory facts as (label, text) pairs, shared by both renderings.
pub fn facts(ctx: &ReportData) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("CPU", format!("{} ({})", ctx.doc.cpu, ctx.doc.arch)),
        ("SIMD features", ctx.features.join(" ")),
        (
            "Measured peak (GFLOP/s, one core)",
            format!(
                "{} — median (range) over the run; register-only FMA loop per ISA, best of 100 \
                 runs of 2.5 ms, measured in this process before each shape, and each row's % of \
                 peak uses the peak measured before its shape",
                results::peak_list(&ctx.doc)
            ),
        ),
        ("Command", ctx.doc.command.clone()),
        ("Generated", ctx.generated.clone()),
        (
            "Threads per convolution",
            format!(
                "{}; % of peak = GFLOP/s / (peak of the same ISA × threads)",
                ctx.threads
            ),
        ),
        ("What is timed", ctx.doc.timed_call.clone()),
    ];
    // Documents written before the floor was recorded have none.
    if !ctx.doc.peak_floor.is_empty() {
        facts.insert(
            3,
            (
                "Noise floor",
                format!(
                    "{} — per ISA, a peak measurement's median run as a share of its best run, \
                     median over the run: about what a kernel at the peak every cycle would read as \
                     its % of peak in a median here, as interrupts, other tenants and the clock \
                     slow any one run of the loop as they slow a call",
                    results::floor_list(&ctx.doc)
                ),
            ),
        );
    }
    if ctx.doc.passes > 1 {
        facts.push(("Passes", results::passes_note(ctx.doc.passes, ctx.doc.keep)));
    }
    if let Some(h) = &ctx.doc.huge_pages {
        facts.push(("Buffers", h.describe()));
    }
    facts.extend([
        (
            "Peers",
            format!(
                "matrixmultiply's sgemm and the gemm crate's gemm::gemm (Parallelism::None) on \
                 the same GEMM (NCHW: Y[Cout×P] = W·X, NHWC: Y[P×Cout] = X·Wᵀ; one call per \
                 image, or per output row when strided), single thread, no epilogue, timed \
                 like the kernels; each checked against conv1x1's output once per shape and \
                 layout (relative L2 < {PEER_AGREEMENT:.0e}); their % of peak uses the {0} peak",
                ctx.peer_peak_isa
            ),
        ),
        (
            "× peer columns",
            format!(
                "GFLOP/s ÷ the peer's GFLOP/s on the same shapes and layout in this run (above \
                 1: faster than the peer); per shape for the {} generic kernel, in the totals \
                 for each configuration",
                ctx.peer_peak_isa
            ),
        ),
    ]);
    facts
}
