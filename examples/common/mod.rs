//! What the measuring examples share: buffers rotated beyond L2, and two ways of computing
//! the same convolution (or the same computation on two kinds of buffers) timed alternately,
//! call by call, so that machine noise hits both.
// Each example uses part of this module.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use conv1x1::suite::Shape;
use conv1x1::{dispatch, AlignedBuf, Isa, Layout};

/// The options the examples share.
#[derive(clap::Args)]
pub struct Measure {
    /// Only this ISA.
    #[arg(long)]
    pub isa: Option<Isa>,
    /// Only this layout (default: both).
    #[arg(long)]
    pub layout: Option<Layout>,
    /// Seconds per row and pass.
    #[arg(long, default_value_t = 0.3)]
    pub seconds: f64,
    /// Passes over the whole list: a burst of load from other processes spoils one pass only.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub passes: u32,
}

impl Measure {
    pub fn layouts(&self) -> Vec<Layout> {
        match self.layout {
            Some(l) => vec![l],
            None => vec![Layout::Nchw, Layout::Nhwc],
        }
    }

    /// `--isa`, or what dispatch picks; exits with status 2 when this CPU cannot run it.
    pub fn isa(&self) -> Isa {
        match self.isa {
            Some(isa) if dispatch::is_supported(isa) => isa,
            Some(isa) => {
                eprintln!("error: this CPU cannot run {isa}");
                std::process::exit(2);
            }
            None => dispatch::auto_isa().expect("an ISA this CPU runs"),
        }
    }

    /// `rows` of the shapes given on the command line, or of `default` (suite shape strings)
    /// when none were.
    pub fn rows_or(&self, given: &[Shape], default: &[&str]) -> Vec<(Shape, Layout)> {
        let shapes: Vec<Shape> = if given.is_empty() {
            default
                .iter()
                .map(|s| s.parse().expect("a shape"))
                .collect()
        } else {
            given.to_vec()
        };
        self.rows(&shapes)
    }

    /// Every shape in every layout measured, shape by shape.
    pub fn rows(&self, shapes: &[Shape]) -> Vec<(Shape, Layout)> {
        let layouts = self.layouts();
        shapes
            .iter()
            .flat_map(|&s| layouts.iter().map(move |&l| (s, l)))
            .collect()
    }
}

/// The shapes given on the command line, or every shape of the `all` suite when none were.
pub fn shapes_or_all(given: &[Shape]) -> Vec<Shape> {
    if given.is_empty() {
        conv1x1::suite::suite("all").expect("the `all` suite exists")
    } else {
        given.to_vec()
    }
}

/// Inputs and outputs each rotate through at least this many bytes, well above the 2 MiB L2
/// per core (as in benches/common), so every call reads its operands from L3.
pub const ROTATE_BYTES: usize = 12 << 20;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median of per-pass ratios (followed by `unit`), then the lowest and the highest, as
/// the tables print them: `1.02× | 0.99–1.04`.
pub fn ratio_cells(ratios: Vec<f64>, unit: &str) -> String {
    let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = ratios.iter().copied().fold(0.0, f64::max);
    format!("{:.2}{unit} | {lowest:.2}–{highest:.2}", median(ratios))
}

/// Runs `call(way, input, output)` for way 0 and way 1 alternately, for at least `seconds`
/// and 21 rounds, and returns each way's median time in seconds. Inputs (`in_len` floats,
/// deterministic values) and outputs (`out_len`) are 64-byte aligned, as a framework's tensors
/// are, and rotate over at least `ROTATE_BYTES` each; both ways use the same buffers.
pub fn alternate(
    in_len: usize,
    out_len: usize,
    seconds: f64,
    call: impl FnMut(usize, &[f32], &mut [f32]),
) -> [f64; 2] {
    let mut sets = [Buffers::new(in_len, out_len, AlignedBuf::zeroed)];
    alternate_over(&mut sets, [0, 0], seconds, call)
}

/// Inputs and outputs, each set spanning at least `ROTATE_BYTES`, from `alloc` (which
/// returns zeros).
pub struct Buffers {
    inputs: Vec<AlignedBuf>,
    outputs: Vec<AlignedBuf>,
}

/// Buffers of `len` floats spanning at least `ROTATE_BYTES` (at least two), each holding
/// deterministic input values, from `alloc` (which returns zeros).
pub fn rotating_inputs(len: usize, alloc: fn(usize) -> AlignedBuf) -> Vec<AlignedBuf> {
    (0..rotation_count(len))
        .map(|b| {
            // Filled after allocation, so that `alloc`'s pages are first touched here.
            let mut x = alloc(len);
            for (i, v) in x.iter_mut().enumerate() {
                *v = ((i + b) % 17) as f32 / 17.0;
            }
            x
        })
        .collect()
}

/// How many buffers of `len` floats span at least `ROTATE_BYTES` (at least two).
fn rotation_count(len: usize) -> usize {
    ROTATE_BYTES.div_ceil(4 * len).max(2)
}

impl Buffers {
    pub fn new(in_len: usize, out_len: usize, alloc: fn(usize) -> AlignedBuf) -> Buffers {
        let inputs = rotating_inputs(in_len, alloc);
        // Written once here: a page's first touch (a fault, and for a huge page zeroing
        // 2 MiB) belongs to no timed call.
        let outputs = (0..rotation_count(out_len))
            .map(|_| {
                let mut y = alloc(out_len);
                y.fill(0.0);
                y
            })
            .collect();
        Buffers { inputs, outputs }
    }
}

/// The timing loop of [`alternate`]; way `w` uses `sets[set_of[w]]`, so two ways can have
/// buffers of their own.
pub fn alternate_over(
    sets: &mut [Buffers],
    set_of: [usize; 2],
    seconds: f64,
    call: impl FnMut(usize, &[f32], &mut [f32]),
) -> [f64; 2] {
    alternate_prepared(sets, set_of, seconds, |_| {}, call)
}

/// [`alternate_over`] that runs `prepare(way)`, untimed, right before each timed call of
/// `way` (to wake a thread pool, say).
pub fn alternate_prepared(
    sets: &mut [Buffers],
    set_of: [usize; 2],
    seconds: f64,
    mut prepare: impl FnMut(usize),
    mut call: impl FnMut(usize, &[f32], &mut [f32]),
) -> [f64; 2] {
    let mut times = [Vec::new(), Vec::new()];
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut round = 0;
    while round < 21 || start.elapsed() < budget {
        // Alternate which way goes first so neither always runs on a warmer cache.
        for step in 0..2 {
            let way = (round + step) % 2;
            let set = &mut sets[set_of[way]];
            // Each way walks through every buffer in turn, the two half a rotation apart: a
            // buffer was last touched half a rotation (over 6 MiB) ago, and where the ways
            // share buffers, neither is tied to a subset of them (whose placement in memory
            // could favour it).
            let at = |count: usize| (round + way * count / 2) % count;
            let input = &set.inputs[at(set.inputs.len())];
            let output = at(set.outputs.len());
            let output = &mut set.outputs[output];
            prepare(way);
            let t = Instant::now();
            call(way, input, output);
            times[way].push(t.elapsed().as_secs_f64());
        }
        round += 1;
    }
    times.map(median)
}

/// Deterministic, non-trivial weights (values do not change the timing).
pub fn weights(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

/// Runs `measure(row)` on every row, `passes` times over the whole list (a burst of load from
/// other processes spoils one pass only), and returns each row's samples in pass order.
pub fn over_passes<R, T>(rows: &[R], passes: u32, mut measure: impl FnMut(&R) -> T) -> Vec<Vec<T>> {
    let mut samples: Vec<Vec<T>> = rows.iter().map(|_| Vec::new()).collect();
    for pass in 0..passes {
        eprintln!("pass {} of {passes}", pass + 1);
        for (row, s) in rows.iter().zip(&mut samples) {
            s.push(measure(row));
        }
    }
    samples
}

/// The markdown table of a two-way comparison: per row, each way's median GFLOP/s over the
/// passes, then the median ratio of times (way 0 / way 1, above 1 where way 1 is faster) and
/// its lowest and highest pass. `ways` names the two GFLOP/s columns.
pub fn print_two_way_table(
    ways: [&str; 2],
    isa: Isa,
    rows: &[(Shape, Layout)],
    samples: &[Vec<[f64; 2]>],
) {
    println!(
        "| shape | ISA | layout | {} GFLOP/s | {} GFLOP/s | ratio | pass range |",
        ways[0], ways[1]
    );
    println!("|---|---|---|---:|---:|---:|---|");
    for (&(shape, layout), s) in rows.iter().zip(samples) {
        let gflops = |t: f64| shape.flops() / t / 1e9;
        let ratios: Vec<f64> = s.iter().map(|[a, b]| a / b).collect();
        println!(
            "| {shape} | {isa} | {layout} | {:.1} | {:.1} | {} |",
            median(s.iter().map(|x| gflops(x[0])).collect()),
            median(s.iter().map(|x| gflops(x[1])).collect()),
            ratio_cells(ratios, "×"),
        );
    }
}
