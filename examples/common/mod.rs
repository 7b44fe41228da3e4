//! What the measuring examples share: buffers rotated beyond L2, and two ways of computing
//! the same convolution timed alternately, call by call, so that machine noise hits both.

use std::time::{Duration, Instant};

use conv1x1::{AlignedBuf, Isa, Layout};

/// The options both examples take.
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
/// are, and rotate over at least `ROTATE_BYTES` each.
pub fn alternate(
    in_len: usize,
    out_len: usize,
    seconds: f64,
    mut call: impl FnMut(usize, &[f32], &mut [f32]),
) -> [f64; 2] {
    let count = |len: usize| ROTATE_BYTES.div_ceil(4 * len).max(2);
    let inputs: Vec<AlignedBuf> = (0..count(in_len))
        .map(|b| {
            let x: Vec<f32> = (0..in_len).map(|i| ((i + b) % 17) as f32 / 17.0).collect();
            AlignedBuf::from_slice(&x)
        })
        .collect();
    let mut outputs: Vec<AlignedBuf> = (0..count(out_len))
        .map(|_| AlignedBuf::zeroed(out_len))
        .collect();
    let mut times = [Vec::new(), Vec::new()];
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut round = 0;
    while round < 21 || start.elapsed() < budget {
        // Alternate which way goes first so neither always runs on a warmer cache.
        for step in 0..2 {
            let way = (round + step) % 2;
            // Each way walks through every buffer in turn, the two half a rotation apart: a
            // buffer was last touched half a rotation (over 6 MiB) ago, and neither way is
            // tied to a subset of buffers (whose placement in memory could favour it).
            let at = |count: usize| (round + way * count / 2) % count;
            let (input, output) = (&inputs[at(inputs.len())], at(outputs.len()));
            let output = &mut outputs[output];
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
