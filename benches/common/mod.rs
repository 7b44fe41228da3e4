//! Pieces shared by the bench binaries: the shapes and ISAs to run, settings read from the
//! environment, random data and rotating buffer sets.

// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod peers;
pub mod team;

use std::time::Duration;

use conv1x1::suite::{Shape, MOBILENETV2, RESNET50};
use conv1x1::{dispatch, AlignedBuf, Isa, Layout};
use criterion::Criterion;

/// Threads one convolution runs on (default 1).
pub const THREADS_ENV: &str = "CONV1X1_BENCH_THREADS";
/// Batch size of every shape (default 1, the suites' own batch).
pub const BATCH_ENV: &str = "CONV1X1_BENCH_BATCH";

/// Both layouts, in the order the benches list them.
pub const LAYOUTS: [Layout; 2] = [Layout::Nchw, Layout::Nhwc];

/// The portable path is an order of magnitude slower than the SIMD ones, so it runs only on
/// these two small shapes (one per suite) to keep it on the chart without dominating the run.
const SCALAR_SHAPES: [&str; 2] = ["64x64@56", "576x160@7"];

/// Every buffer set the timed calls rotate through totals at least this much, well above
/// the 2 MiB L2 per core, so each call reads its operands from L3 as a layer in a network
/// does rather than from a cache the previous iteration warmed.
pub const ROTATION_BYTES: usize = 12 << 20;

/// Criterion settings that keep a full suite run to minutes; the usual command-line options
/// (`--measurement-time`, `--sample-size`, a filter) still override them.
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300))
        .sample_size(10)
}

/// A suite shape with the name of its suite.
#[derive(Debug, Clone, Copy)]
pub struct SuiteShape {
    pub suite: &'static str,
    pub shape: Shape,
}

impl SuiteShape {
    /// Criterion group name: `resnet50/256x64@56` (`…b8` with a batch).
    pub fn group_name(&self) -> String {
        format!("{}/{}", self.suite, self.shape)
    }
}

/// Every shape of both suites, with the batch from `CONV1X1_BENCH_BATCH`.
pub fn suite_shapes() -> Vec<SuiteShape> {
    let batch = env_count(BATCH_ENV, 1);
    let tag = |suite: &'static str, shapes: &[Shape]| -> Vec<SuiteShape> {
        shapes
            .iter()
            .map(|s| SuiteShape {
                suite,
                shape: s.with_batch(batch),
            })
            .collect()
    };
    let mut all = tag("resnet50", &RESNET50);
    all.extend(tag("mobilenetv2", &MOBILENETV2));
    all
}

/// The ISAs to time on `shape`: every SIMD path this CPU supports, plus the scalar path on
/// the few shapes listed in `SCALAR_SHAPES`.
pub fn isas_for(shape: &Shape) -> Vec<Isa> {
    let unbatched = shape.with_batch(1).to_string();
    dispatch::supported_isas()
        .into_iter()
        .filter(|&isa| isa != Isa::Scalar || SCALAR_SHAPES.contains(&unbatched.as_str()))
        .collect()
}

/// Every ISA this CPU supports (packing is cheap on all of them).
pub fn all_isas() -> Vec<Isa> {
    dispatch::supported_isas()
}

/// Threads from `CONV1X1_BENCH_THREADS` (default 1).
pub fn threads() -> usize {
    env_count(THREADS_ENV, 1)
}

/// A positive count from the environment; `default` when unset. A malformed value stops the
/// run with a message naming the variable, rather than silently timing something else.
fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{name} must be a positive integer, got {v:?}"),
        },
        _ => default,
    }
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift64*): benches need varied,
/// reproducible data, not statistical quality.
pub fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 random bits
            bits as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// How many buffers of `len` f32 make a set of at least `ROTATION_BYTES` (and at least 2).
pub fn rotation_count(len: usize) -> usize {
    ROTATION_BYTES.div_ceil(4 * len.max(1)).max(2)
}

/// A set of equally sized buffers used in turn, so consecutive timed calls touch different
/// memory. Each starts on a 64-byte boundary, as a framework's tensors do.
#[derive(Debug)]
pub struct Rotation {
    pub bufs: Vec<AlignedBuf>,
}

impl Rotation {
    /// Enough random buffers of `len` f32 to exceed `ROTATION_BYTES`.
    pub fn random(len: usize, seed: u64) -> Rotation {
        Rotation {
            bufs: (0..rotation_count(len))
                .map(|i| AlignedBuf::from_slice(&random_vec(len, seed + i as u64)))
                .collect(),
        }
    }
    /// Enough buffers of `len` f32, filled with NaN so an unwritten element shows.
    pub fn poisoned(len: usize) -> Rotation {
        Rotation {
            bufs: (0..rotation_count(len))
                .map(|_| AlignedBuf::filled(len, f32::NAN))
                .collect(),
        }
    }
    /// Buffer for call number `call`.
    pub fn index(&self, call: usize) -> usize {
        call % self.bufs.len()
    }
    pub fn len(&self) -> usize {
        self.bufs.len()
    }
}

/// The strided input pixels a stride-`stride` 1x1 convolution reads, gathered densely:
/// `[N][Cin][Hout][Wout]` (NCHW) or `[N][Hout][Wout][Cin]` (NHWC). The GEMM peers have no
/// stride, so they get this already-subsampled input.
pub fn subsample(input: &[f32], shape: &Shape, layout: Layout) -> Vec<f32> {
    let (s, cin) = (shape.stride, shape.cin);
    let (h, w, ho, wo) = (shape.h, shape.w, shape.hout(), shape.wout());
    let mut out = Vec::with_capacity(shape.batch * cin * ho * wo);
    for n in 0..shape.batch {
        let image = &input[n * cin * h * w..(n + 1) * cin * h * w];
        match layout {
            Layout::Nchw => {
                for c in 0..cin {
                    for y in 0..ho {
                        for x in 0..wo {
                            out.push(image[(c * h + y * s) * w + x * s]);
                        }
                    }
                }
            }
            Layout::Nhwc => {
                for y in 0..ho {
                    for x in 0..wo {
                        let px = ((y * s) * w + x * s) * cin;
                        out.extend_from_slice(&image[px..px + cin]);
                    }
                }
            }
        }
    }
    out
}

/// Relative L2 distance between two results of the same computation.
pub fn relative_distance(got: &[f32], want: &[f32]) -> f64 {
    let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
    conv1x1::reference::relative_l2_error(got, &want)
}
