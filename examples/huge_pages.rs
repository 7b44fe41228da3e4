//! What transparent huge pages change: the same plan run alternately, call by call, on
//! buffers from `AlignedBuf::zeroed` (ordinary pages) and from `AlignedBuf::huge_zeroed`
//! (mapped for huge pages), printed as a markdown table.
//!
//! ```text
//! cargo run --release --example huge_pages [-- [SHAPE...] [--isa ISA] [--layout L]
//!                                              [--seconds S] [--passes P]]
//! ```
//! SHAPE is a suite shape string (`256x64@56b8`); without shapes, ResNet-50's 56×56, 28×28
//! and 14×14 layers that benches/README.md note 33 measured, at batch 8. The ISA defaults to
//! what dispatch picks; both layouts unless `--layout`. Inputs and outputs of each way rotate
//! over sets larger than L2, all 64-byte aligned. The list is measured P times (default 3,
//! S seconds per row and pass, default 0.3). Printed per row: the median GFLOP/s of each way
//! over the passes, the median ratio (ordinary time / huge-page time, above 1 where huge pages
//! are faster) and its lowest and highest pass. The last line gives the most memory this
//! process held on huge pages at the end of a row's timing (the kernel's THP setting decides
//! whether any is granted).

use clap::Parser;
use conv1x1::suite::Shape;
use conv1x1::{AlignedBuf, Isa, Layout, Plan};

mod common;
use common::Buffers;

const DEFAULT_SHAPES: [&str; 5] = [
    "256x64@56b8",
    "256x128@56b8",
    "64x256@56b8",
    "128x512@28b8",
    "1024x256@14b8",
];

/// The same plan on ordinary pages and on pages mapped for huge pages.
#[derive(Parser)]
struct Args {
    /// Suite shape strings (`256x64@56b8`); default: five ResNet-50 layers at batch 8.
    shapes: Vec<Shape>,
    #[command(flatten)]
    measure: common::Measure,
}

/// One pass over one row: the median time on ordinary pages, then on huge pages, and the MiB
/// of this process on huge pages while the buffers were alive.
fn compare(shape: &Shape, isa: Isa, layout: Layout, seconds: f64) -> ([f64; 2], u64) {
    let spec = shape.spec().layout(layout).isa(isa);
    let plan = Plan::new(&spec, &common::weights(shape.cin * shape.cout), None).expect("plan");
    let dims = shape.dims();
    let in_len = plan.input_len(dims).expect("input size");
    let out_len = plan.output_len(dims).expect("output size");
    let mut sets =
        [AlignedBuf::zeroed, AlignedBuf::huge_zeroed].map(|a| Buffers::new(in_len, out_len, a));
    let times = common::alternate_over(&mut sets, [0, 1], seconds, |_, input, output| {
        plan.run(dims, input, output, None).expect("run");
    });
    (times, anon_huge_mib().unwrap_or(0))
}

/// `AnonHugePages` of this process, in MiB (Linux).
fn anon_huge_mib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = text.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let isa = m.isa();
    let rows = m.rows_or(&args.shapes, &DEFAULT_SHAPES);
    let mut huge_mib = 0;
    let samples = common::over_passes(&rows, m.passes, |&(shape, layout)| {
        let (times, mib) = compare(&shape, isa, layout, m.seconds);
        huge_mib = huge_mib.max(mib);
        times
    });
    common::print_two_way_table(["4 KiB pages", "huge pages"], isa, &rows, &samples);
    println!("\nOn huge pages at the end of a row (most): {huge_mib} MiB");
}
