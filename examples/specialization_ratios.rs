//! Generic vs specialized kernel, per channel pair, ISA and layout, measured in one run and
//! printed as a markdown table of speed ratios (generic time / specialized time).
//!
//! ```text
//! cargo run --release --example specialization_ratios [-- [PAIR...] [--isa ISA] [--layout L]
//!                                                        [--seconds S] [--passes P]]
//! ```
//! PAIR is `CinxCout` (e.g. `96x24`); without pairs, every pair with a specialized kernel.
//! Each pair runs on its suite shape (ResNet-50 / MobileNetV2 at 224×224, batch 1). The two
//! plans alternate call by call, so machine noise hits both alike; each call reads the next
//! of several inputs and writes the next of several outputs, each set larger than L2. The
//! whole list of cells is measured P times (default 3, S seconds per cell and pass, default
//! 0.3), so a burst of load from other processes spoils one pass only.
//!
//! Printed per cell: the median throughput of each plan over the passes (each pass: the
//! median call), the median ratio over the passes and the lowest and highest pass ratio.

use clap::Parser;
use conv1x1::suite::{suite, Shape};
use conv1x1::{dispatch, Isa, KernelKind, Layout, Plan};

mod common;
use common::median;

/// Generic vs specialized kernel, per channel pair, ISA and layout.
#[derive(Parser)]
struct Args {
    /// Channel pairs `CinxCout` (e.g. `96x24`); default: every pair with a specialized kernel.
    #[arg(value_parser = parse_pair)]
    pairs: Vec<(usize, usize)>,
    #[command(flatten)]
    measure: common::Measure,
}

fn parse_pair(pair: &str) -> Result<(usize, usize), String> {
    pair.split_once('x')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or(format!("`{pair}` is not CinxCout"))
}

/// The suite shape of a pair (its first occurrence), or a 28×28 image if no suite has it.
fn shape_of(cin: usize, cout: usize) -> Shape {
    suite("all")
        .expect("the `all` suite exists")
        .into_iter()
        .find(|s| s.cin == cin && s.cout == cout)
        .unwrap_or(Shape::new(cin, cout, 28, 28))
}

/// One pass over one cell: the kernels and the median time of each plan.
struct Sample {
    generic: &'static str,
    specialized: &'static str,
    t_generic: f64,
    t_specialized: f64,
}

/// Times both plans on `shape`, alternating, for about `seconds`.
fn compare(shape: Shape, isa: Isa, layout: Layout, seconds: f64) -> Sample {
    // The suite's spec (stride, pixel-count hint), so "generic" is the kernel the library
    // would pick without the specialized one.
    let spec = shape.spec().layout(layout).isa(isa);
    let weights = common::weights(shape.cin * shape.cout);
    let generic =
        Plan::new(&spec.kernel(KernelKind::Generic), &weights, None).expect("generic plan");
    let special =
        Plan::new(&spec.kernel(KernelKind::Specialized), &weights, None).expect("specialized plan");
    let dims = shape.dims();
    let in_len = generic.input_len(dims).expect("input size");
    let out_len = generic.output_len(dims).expect("output size");
    let plans = [&generic, &special];
    let times = common::alternate(in_len, out_len, seconds, |way, input, output| {
        plans[way].run(dims, input, output, None).expect("run")
    });
    let [tg, ts] = times;
    Sample {
        generic: generic.kernel().name,
        specialized: special.kernel().name,
        t_generic: tg,
        t_specialized: ts,
    }
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let layouts = m.layouts();
    // Every (pair, ISA, layout) that has a specialized kernel (one each) and runs here.
    let mut cells: Vec<(usize, usize, Isa, Layout)> = conv1x1::kernels()
        .filter(|k| k.specialized() && dispatch::is_supported(k.isa))
        .filter(|k| m.isa.is_none_or(|isa| isa == k.isa) && layouts.contains(&k.layout))
        .map(|k| (k.cin.unwrap_or(0), k.cout.unwrap_or(0), k.isa, k.layout))
        .filter(|&(ci, co, ..)| args.pairs.is_empty() || args.pairs.contains(&(ci, co)))
        .collect();
    let order = |c: &(usize, usize, Isa, Layout)| {
        let pos = suite("all")
            .expect("the `all` suite exists")
            .iter()
            .position(|s| (s.cin, s.cout) == (c.0, c.1))
            .unwrap_or(usize::MAX);
        (c.2.name(), c.3.name(), pos)
    };
    cells.sort_by_key(order);
    let shapes: Vec<Shape> = cells.iter().map(|c| shape_of(c.0, c.1)).collect();
    let rows: Vec<_> = cells.iter().zip(&shapes).collect();
    let samples: Vec<Vec<Sample>> =
        common::over_passes(&rows, m.passes, |&(&(_, _, isa, layout), &shape)| {
            compare(shape, isa, layout, m.seconds)
        });
    println!(
        "| pair | shape | ISA | layout | generic kernel | GFLOP/s | specialized kernel | GFLOP/s \
         | ratio | pass range |"
    );
    println!("|---|---|---|---|---|---:|---|---:|---:|---|");
    for (i, &(cin, cout, isa, layout)) in cells.iter().enumerate() {
        let s = &samples[i];
        let flops = shapes[i].flops();
        let gflops = |t: f64| flops / t / 1e9;
        let ratios: Vec<f64> = s.iter().map(|x| x.t_generic / x.t_specialized).collect();
        println!(
            "| {cin}→{cout} | {} | {isa} | {layout} | {} | {:.1} | {} | {:.1} | {} |",
            shapes[i],
            s[0].generic,
            median(s.iter().map(|x| gflops(x.t_generic)).collect()),
            s[0].specialized,
            median(s.iter().map(|x| gflops(x.t_specialized)).collect()),
            common::ratio_cells(ratios, "×"),
        );
    }
}
