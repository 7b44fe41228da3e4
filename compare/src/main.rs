//! This tree's kernels against an earlier revision's, call by call in one process. Both
//! builds are linked in (`conv1x1` and `base`, see run.sh); each row packs one plan per build
//! from the same weights, checks that both give the same bits on the same input, then runs the
//! two alternately on the same buffers (inputs and outputs rotating over sets larger than L2,
//! 64-byte aligned), so that the load from other processes hits both alike. Printed as a
//! markdown table: each build's median GFLOP/s over the passes, the median ratio of times
//! (base / this tree, above 1 where this tree is faster) and its lowest and highest pass.
//!
//! ```text
//! compare/run.sh REV [SHAPE...] [--isa ISA] [--layout L] [--seconds S] [--passes P]
//! ```
//! SHAPE is a suite shape string (`256x64@56`, `256x64@56b8`); without shapes, every shape of
//! both suites. The ISA defaults to what dispatch picks; both layouts unless `--layout`.
//! `--cold-weights`: each build rotates among copies of its plan whose packed weights together
//! take at least `COLD_WEIGHT_BYTES`, twice this machine's L3, so that every call reads its
//! weights from memory, as each layer of a whole network does (ResNet-50's weights take about
//! 100 MB).

use clap::Parser;
use conv1x1::suite::{self, Shape};
use conv1x1::{Isa, Layout};

#[path = "../../examples/common/mod.rs"]
mod common;

/// This tree's kernels against those of the revision run.sh exported.
#[derive(Parser)]
struct Args {
    /// Suite shape strings (`256x64@56b8`); default: every shape of both suites.
    shapes: Vec<Shape>,
    #[command(flatten)]
    measure: common::Measure,
    /// Rotate among copies of each plan so that every call reads its weights from memory.
    #[arg(long)]
    cold_weights: bool,
}

/// What the copies of one build's plan take together with `--cold-weights`: twice the 32 MiB
/// L3 of this machine's core complex.
const COLD_WEIGHT_BYTES: usize = 64 << 20;

/// A value of this build's type as the base build's type of the same name, through its text.
fn to_base<A: ToString, B: std::str::FromStr>(a: A) -> B
where
    B::Err: std::fmt::Debug,
{
    a.to_string()
        .parse()
        .expect("the base build parses what this one prints")
}

/// One pass over one row: the median time of the base build, then of this tree. Panics if
/// the two builds disagree in any bit of the output: a change meant to be faster only.
fn compare(shape: &Shape, isa: Isa, layout: Layout, seconds: f64, cold: bool) -> [f64; 2] {
    let weights = common::weights(shape.cin * shape.cout);
    let plan = conv1x1::Plan::new(&shape.spec().layout(layout).isa(isa), &weights, None)
        .expect("plan (this tree)");
    let base_shape: base::suite::Shape = to_base(shape);
    let base_spec = base_shape.spec().layout(to_base(layout)).isa(to_base(isa));
    let base_plan = base::Plan::new(&base_spec, &weights, None).expect("plan (base)");
    let (dims, base_dims) = (shape.dims(), base_shape.dims());
    let in_len = plan.input_len(dims).expect("input size");
    let out_len = plan.output_len(dims).expect("output size");
    assert_eq!(base_plan.input_len(base_dims).ok(), Some(in_len));
    assert_eq!(base_plan.output_len(base_dims).ok(), Some(out_len));

    let input: Vec<f32> = (0..in_len).map(|i| (i % 23) as f32 / 23.0 - 0.5).collect();
    let (mut y, mut y_base) = (vec![0.0; out_len], vec![0.0; out_len]);
    plan.run(dims, &input, &mut y, None)
        .expect("run (this tree)");
    base_plan
        .run(base_dims, &input, &mut y_base, None)
        .expect("run (base)");
    let same = y
        .iter()
        .zip(&y_base)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(
        same,
        "{shape} {isa} {layout}: the two builds give different results"
    );

    // With cold weights, copies packed from the same weights; each call takes the next copy.
    let copies = if cold {
        COLD_WEIGHT_BYTES.div_ceil(plan.packed_bytes()).max(2)
    } else {
        1
    };
    let mut plans = vec![plan];
    let mut base_plans = vec![base_plan];
    for _ in 1..copies {
        plans.push(conv1x1::Plan::new(plans[0].spec(), &weights, None).expect("plan copy"));
        base_plans.push(base::Plan::new(&base_spec, &weights, None).expect("plan copy (base)"));
    }
    let mut calls = [0usize; 2];
    common::alternate(in_len, out_len, seconds, |way, x, y| {
        let at = calls[way] % copies;
        calls[way] += 1;
        if way == 0 {
            base_plans[at].run(base_dims, x, y, None).expect("run (base)");
        } else {
            plans[at].run(dims, x, y, None).expect("run (this tree)");
        }
    })
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let shapes = if args.shapes.is_empty() {
        suite::suite("all").expect("the suites")
    } else {
        args.shapes.clone()
    };
    let isa = m.isa();
    let rows = m.rows(&shapes);
    let samples = common::over_passes(&rows, m.passes, |&(shape, layout)| {
        compare(&shape, isa, layout, m.seconds, args.cold_weights)
    });
    common::print_two_way_table(["base", "this tree"], isa, &rows, &samples);
}
