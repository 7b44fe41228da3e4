//! What an input off a cache-line boundary costs: the same plan run alternately, call by call,
//! on an input that starts on a 64-byte boundary and on one that starts `--offset` floats
//! after it (same values), printed as a markdown table.
//!
//! ```text
//! cargo run --release --example alignment [-- [SHAPE...] [--offset F] [--isa ISA]
//!                                            [--layout L] [--seconds S] [--passes P]]
//! ```
//! SHAPE is a suite shape string (`1024x256@14`); without shapes, two 14×14 ResNet-50 layers
//! and their 12×16 twins. `--offset` defaults to 4 floats (16 bytes). In NCHW every channel's
//! plane follows the one before, so a plane of H·W floats that is not a multiple of 16 (14×14:
//! 196, 7×7: 49) leaves most channel rows off a line boundary whatever the buffer's alignment,
//! while 12×16 (192) keeps them all on one or all off it: the 12×16 rows show what those
//! split loads cost, the 14×14 rows that the offset changes little there. The ISA defaults to
//! what dispatch picks; both layouts unless `--layout`. Inputs and outputs rotate over sets
//! larger than L2. The list is measured P times (default 3, S seconds per row and pass, default
//! 0.3). Printed per row: the median GFLOP/s of each way over the passes, the median ratio
//! (aligned time / offset time, below 1 where the aligned input is faster) and its lowest and
//! highest pass.

use clap::Parser;
use conv1x1::suite::Shape;
use conv1x1::{Isa, Layout, Plan};

mod common;

const DEFAULT_SHAPES: [&str; 4] = [
    "1024x256@14",
    "1024x256@12x16",
    "256x1024@14",
    "256x1024@12x16",
];

/// The same plan on an aligned input and on an input offset from a line boundary.
#[derive(Parser)]
struct Args {
    /// Suite shape strings (`1024x256@14`); default: two 14×14 layers and their 12×16 twins.
    shapes: Vec<Shape>,
    /// Floats between the 64-byte boundary and the offset input's first element.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..16))]
    offset: u32,
    #[command(flatten)]
    measure: common::Measure,
}

/// One pass over one row: the median time from the aligned input, then from the offset one.
fn compare(shape: &Shape, isa: Isa, layout: Layout, offset: usize, seconds: f64) -> [f64; 2] {
    let spec = shape.spec().layout(layout).isa(isa);
    let plan = Plan::new(&spec, &common::weights(shape.cin * shape.cout), None).expect("plan");
    let dims = shape.dims();
    let in_len = plan.input_len(dims).expect("input size");
    let out_len = plan.output_len(dims).expect("output size");
    // Both ways read the same rotating buffers (64-byte aligned, `offset` floats longer), from
    // their first element or from element `offset`.
    common::alternate(in_len + offset, out_len, seconds, |way, input, output| {
        let start = way * offset;
        let x = &input[start..start + in_len];
        plan.run(dims, x, output, None).expect("run");
    })
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let isa = m.isa();
    let rows = m.rows_or(&args.shapes, &DEFAULT_SHAPES);
    let offset = args.offset as usize;
    let samples = common::over_passes(&rows, m.passes, |&(shape, layout)| {
        compare(&shape, isa, layout, offset, m.seconds)
    });
    let offset_way = format!("offset {offset}");
    common::print_two_way_table(["aligned", &offset_way], isa, &rows, &samples);
}
