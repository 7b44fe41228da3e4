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

use conv1x1::suite::{suite, Shape};
use conv1x1::{dispatch, Isa, Layout, Plan};

mod common;
use common::median;

struct Args {
    shapes: Vec<Shape>,
    items: usize,
    isa: Option<Isa>,
    layouts: Vec<Layout>,
    seconds: f64,
    passes: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        shapes: Vec::new(),
        items: 2,
        isa: None,
        layouts: vec![Layout::Nchw, Layout::Nhwc],
        seconds: 0.3,
        passes: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--items" => {
                let n: usize = value()?.parse().map_err(|e| format!("--items: {e}"))?;
                args.items = n.max(1);
            }
            "--isa" => args.isa = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--layout" => args.layouts = vec![value()?.parse().map_err(|e| format!("{e}"))?],
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--passes" => {
                let passes: usize = value()?.parse().map_err(|e| format!("--passes: {e}"))?;
                args.passes = passes.max(1);
            }
            shape => args
                .shapes
                .push(shape.parse().map_err(|e| format!("`{shape}`: {e}"))?),
        }
    }
    if args.shapes.is_empty() {
        args.shapes = suite("all").expect("the `all` suite exists");
    }
    Ok(args)
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
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let isa = match args.isa {
        Some(isa) if dispatch::is_supported(isa) => isa,
        Some(isa) => {
            eprintln!("error: this CPU cannot run {isa}");
            std::process::exit(2);
        }
        None => dispatch::auto_isa().expect("an ISA this CPU runs"),
    };
    let rows: Vec<(Shape, Layout)> = args
        .shapes
        .iter()
        .flat_map(|&s| args.layouts.iter().map(move |&l| (s, l)))
        .collect();
    let mut samples: Vec<Vec<Sample>> = rows.iter().map(|_| Vec::new()).collect();
    for pass in 0..args.passes {
        eprintln!("pass {} of {}", pass + 1, args.passes);
        for (i, &(shape, layout)) in rows.iter().enumerate() {
            samples[i].push(compare(&shape, isa, layout, args.items, args.seconds));
        }
    }
    println!(
        "| shape | ISA | layout | kernel | items | whole GFLOP/s | items GFLOP/s | ratio | pass range |"
    );
    println!("|---|---|---|---|---:|---:|---:|---:|---|");
    for (i, &(shape, layout)) in rows.iter().enumerate() {
        let s = &samples[i];
        let gflops = |t: f64| shape.flops() / t / 1e9;
        let ratios: Vec<f64> = s.iter().map(|x| x.t_whole / x.t_items).collect();
        let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "| {shape} | {isa} | {layout} | {} | {} | {:.1} | {:.1} | {:.2} | {lowest:.2}–{highest:.2} |",
            s[0].kernel,
            s[0].items,
            median(s.iter().map(|x| gflops(x.t_whole)).collect()),
            median(s.iter().map(|x| gflops(x.t_items)).collect()),
            median(ratios),
        );
    }
}
