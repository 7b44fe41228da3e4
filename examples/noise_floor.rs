//! How far below the peak a median falls on this machine by its noise alone. The report puts
//! each layer's median call against the peak, which is the best of many runs of the
//! register-only FMA loop (`conv1x1::peak`): nothing makes that loop faster than the hardware,
//! but interrupts, other tenants and the clock slow any one run of it as they slow a call.
//! Here calls alternate with runs of that loop lasting as long as one call, inputs rotating
//! through more than L2 and the output reused, as the report measures, and the table gives
//! for each row:
//!
//! - the loop's median run as a share of its best run: the noise floor, what a kernel that
//!   ran at the peak would read in a median against a best;
//! - the call's median against the loop's best run (the report's efficiency);
//! - the call's median against the loop's median run;
//! - the call's best against the loop's best.
//!
//! ```text
//! cargo run --release --example noise_floor -- [--shape S,...] [--isa I] [--layout L]
//!     [--seconds T] [--passes P]
//! ```
//! Without `--shape`, the ResNet-50 suite. Each column is the median over the passes.

use std::time::Instant;

use clap::Parser;
use conv1x1::suite::Shape;
use conv1x1::{peak, AlignedBuf, Isa, Layout, Plan};

mod common;

#[derive(Parser)]
struct Args {
    /// Shapes to measure (repeat, or separate with commas); default the ResNet-50 suite.
    #[arg(long = "shape", value_delimiter = ',')]
    shapes: Vec<Shape>,
    #[command(flatten)]
    measure: common::Measure,
}

fn main() {
    let args = Args::parse();
    let isa = args.measure.isa();
    let shapes = if args.shapes.is_empty() {
        conv1x1::suite::suite("resnet50").expect("the resnet50 suite")
    } else {
        args.shapes.clone()
    };
    let rows = args.measure.rows(&shapes);
    let samples = common::over_passes(&rows, args.measure.passes, |&(shape, layout)| {
        measure(shape, layout, isa, args.measure.seconds)
    });
    println!(
        "| {isa} | loop median ÷ loop best | call median ÷ loop best | call median ÷ loop median \
         | call best ÷ loop best |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for ((shape, layout), passes) in rows.iter().zip(samples) {
        let column = |i: usize| 100.0 * common::median(passes.iter().map(|p| p[i]).collect());
        println!(
            "| {layout} `{shape}` | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
            column(0),
            column(1),
            column(2),
            column(3)
        );
    }
}

/// One pass of one row: the four shares of the table, as fractions.
fn measure(shape: Shape, layout: Layout, isa: Isa, seconds: f64) -> [f64; 4] {
    let spec = shape.spec().layout(layout).isa(isa);
    let plan = Plan::new(&spec, &common::weights(shape.cin * shape.cout), None).expect("a plan");
    let dims = shape.dims();
    let in_len = plan.input_len(dims).expect("input size");
    let inputs = common::rotating_inputs(in_len, AlignedBuf::zeroed);
    let count = inputs.len();
    let mut y = AlignedBuf::zeroed(plan.output_len(dims).expect("output size"));
    let mut round = 0;
    let mut call = || {
        let t = Instant::now();
        plan.run(dims, &inputs[round % count], &mut y, None)
            .expect("run");
        round += 1;
        t.elapsed().as_secs_f64()
    };
    // Warm-up, which also gives the length of a call.
    let mut warm: Vec<f64> = (0..count.max(20)).map(|_| call()).collect();
    let call_seconds = common::median(std::mem::take(&mut warm));
    let iters = loop_iterations(isa, call_seconds);
    let run_loop = || {
        let t = Instant::now();
        let flops = peak::fma_loop(isa, iters).expect("the ISA's loop");
        flops / t.elapsed().as_secs_f64() / 1e9
    };
    let (mut loop_gflops, mut call_gflops) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut n = 0;
    while n < 21 || start.elapsed().as_secs_f64() < seconds {
        // Alternate which goes first, so that neither always follows the other.
        if n % 2 == 0 {
            loop_gflops.push(run_loop());
            call_gflops.push(shape.flops() / call() / 1e9);
        } else {
            call_gflops.push(shape.flops() / call() / 1e9);
            loop_gflops.push(run_loop());
        }
        n += 1;
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (loop_best, call_best) = (best(&loop_gflops), best(&call_gflops));
    let (loop_median, call_median) = (common::median(loop_gflops), common::median(call_gflops));
    [
        loop_median / loop_best,
        call_median / loop_best,
        call_median / loop_median,
        call_best / loop_best,
    ]
}

/// Iterations of `isa`'s FMA loop that take about `seconds`.
fn loop_iterations(isa: Isa, seconds: f64) -> u64 {
    let mut iters = 1u64 << 10;
    loop {
        let t = Instant::now();
        peak::fma_loop(isa, iters).expect("the ISA's loop");
        let dt = t.elapsed().as_secs_f64();
        if dt >= 1e-3 || iters >= 1 << 40 {
            return ((iters as f64) * seconds / dt).max(1.0) as u64;
        }
        iters *= 2;
    }
}
