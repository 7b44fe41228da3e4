//! What cutting a convolution into work items costs by itself, without a second thread: the
//! whole `Plan::run` against its `Plan::work_items` run one after another on the calling
//! thread, alternating call by call, printed as a markdown table.
//!
//! ```text
//! cargo run --release --example split_cost [-- [SHAPE...] [--items N] [--isa ISA]
//!                                              [--layout L] [--seconds S] [--passes P]]
//! ```
//! SHAPE is a suite shape string (`192x64@14`); without shapes, every shape of the `all`
//! suite. `--items` (default 2) is the `max_items` of the split, as `conv1x1 bench --threads N`
//! uses it. The ISA defaults to what dispatch picks; both layouts unless `--layout`.
//!
//! With N threads a convolution can run at most N × (whole time / sequential items time)
//! faster; what a multi-thread run loses beyond that is concurrency (shared caches, memory,
//! clock), not the split. Each call reads the next of several inputs and writes the next of
//! several outputs, each set larger than L2, all 64-byte aligned. The shape list is measured P
//! times (default 3, S seconds per shape and pass, default 0.3); printed per row: the median
//! GFLOP/s of each way over the passes, the median ratio (whole time / items time, below 1
//! where the split costs time) and its lowest and highest pass.

use clap::Parser;
use conv1x1::suite::Shape;
use conv1x1::{Isa, Layout, Plan};

mod common;
use common::median;

/// What cutting a convolution into work items costs on one thread.
#[derive(Parser)]
struct Args {
    /// Suite shape strings (`192x64@14`); default: every shape of the `all` suite.
    shapes: Vec<Shape>,
    /// The `max_items` of the split, as `conv1x1 bench --threads N` uses it.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    items: u32,
    #[command(flatten)]
    measure: common::Measure,
}

/// One pass over one shape: the kernel, the number of items, and the median time of each way.
struct Sample {
    kernel: &'static str,
    items: usize,
    t_whole: f64,
    t_items: f64,
}

fn compare(shape: &Shape, isa: Isa, layout: Layout, items: usize, seconds: f64) -> Sample {
    let spec = shape.spec().layout(layout).isa(isa);
    let plan = Plan::new(&spec, &common::weights(shape.cin * shape.cout), None).expect("plan");
    let dims = shape.dims();
    let in_len = plan.input_len(dims).expect("input size");
    let out_len = plan.output_len(dims).expect("output size");
    let split = plan.work_item_count(dims, items).expect("item count");
    let [t_whole, t_items] = common::alternate(in_len, out_len, seconds, |way, input, output| {
        if way == 0 {
            plan.run(dims, input, output, None).expect("run");
        } else {
            for item in plan
                .work_items(dims, input, output, None, items)
                .expect("work items")
            {
                item.run();
            }
        }
    });
    Sample {
        kernel: plan.kernel().name,
        items: split,
        t_whole,
        t_items,
    }
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let shapes = common::shapes_or_all(&args.shapes);
    let isa = m.isa();
    let rows = m.rows(&shapes);
    let samples: Vec<Vec<Sample>> = common::over_passes(&rows, m.passes, |&(shape, layout)| {
        compare(&shape, isa, layout, args.items as usize, m.seconds)
    });
    println!(
        "| shape | ISA | layout | kernel | items | whole GFLOP/s | items GFLOP/s | ratio | pass range |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|---|");
    for (i, &(shape, layout)) in rows.iter().enumerate() {
        let s = &samples[i];
        let gflops = |t: f64| shape.flops() / t / 1e9;
        let ratios: Vec<f64> = s.iter().map(|x| x.t_whole / x.t_items).collect();
        println!(
            "| {shape} | {isa} | {layout} | {} | {} | {:.1} | {:.1} | {} |",
            s[0].kernel,
            s[0].items,
            median(s.iter().map(|x| gflops(x.t_whole)).collect()),
            median(s.iter().map(|x| gflops(x.t_items)).collect()),
            common::ratio_cells(ratios, ""),
        );
    }
}
