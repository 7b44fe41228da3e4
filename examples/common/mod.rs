//! What the measuring examples share: buffers rotated beyond L2, and two ways of computing
//! the same convolution timed alternately, call by call, so that machine noise hits both.

use std::time::{Duration, Instant};

use conv1x1::AlignedBuf;

/// Inputs and outputs each rotate through at least this many bytes, well above the 2 MiB L2
/// per core (as in benches/common), so every call reads its operands from L3.
pub const ROTATE_BYTES: usize = 12 << 20;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
