//! How a convolution scales, measured two ways alternately, call by call, so that the host's
//! noise hits both: N threads against one (`--threads N`), or one batch-N call against a
//! batch-1 call, per image (`--batch N`). Printed as a markdown table.
//!
//! ```text
//! cargo run --release -p conv1x1-cli --example scaling -- (--threads N | --batch N)
//!     [SHAPE...] [--isa ISA] [--layout L] [--seconds S] [--passes P]
//! ```
//! SHAPE is a suite shape string (`192x64@14`); without shapes, every shape of the `all`
//! suite. The ISA defaults to what dispatch picks; both layouts unless `--layout`.
//!
//! - `--threads N`: way 1 is one `Plan::run` on the calling thread, way 2 the same
//!   convolution split by `Plan::work_items` into N items run on a pool of N persistent
//!   threads, as `conv1x1 bench --threads N` times it. An untimed empty pooled run right before
//!   each timed one wakes the workers, so the timed run finds them spinning, as back-to-back
//!   pooled runs do; during the single-thread calls they sleep. The ratio is the speed-up:
//!   one-thread time ÷ N-thread time.
//! - `--batch N`: way 1 is a batch-1 call, way 2 a batch-N call of the same layer. The ratio
//!   is the batch-N call's efficiency relative to batch 1: batch-1 time ÷ (batch-N time / N);
//!   1 means as efficient per image.
//!
//! Each call reads the next of several inputs and writes the next of several outputs, each set
//! spanning more than L2, all 64-byte aligned (`examples/common`). The shape list is measured
//! P times (default 3, S seconds per shape and pass, default 0.3); printed per row: each way's
//! median GFLOP/s over the passes, the median ratio and its lowest and highest pass.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser;
use conv1x1::suite::Shape;
use conv1x1::{AlignedBuf, Isa, Layout, Plan};
use conv1x1_cli::pool;

#[path = "../../examples/common/mod.rs"]
mod common;
use common::median;

/// Two threads against one, or batch N against batch 1, alternately call by call.
#[derive(Parser)]
#[command(group(clap::ArgGroup::new("way").required(true).args(["threads", "batch"])))]
struct Args {
    /// Suite shape strings (`192x64@14`); default: every shape of the `all` suite.
    shapes: Vec<Shape>,
    /// Compare N threads per convolution with one.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    threads: Option<u32>,
    /// Compare a batch-N call with a batch-1 call, per image.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    batch: Option<u32>,
    #[command(flatten)]
    measure: common::Measure,
}

/// How long the workers spin after a run before they sleep. Each timed pooled run follows an
/// untimed empty one (`WAKE`), so it finds the workers spinning, as back-to-back runs do;
/// during the single-thread calls they sleep rather than spin beside them (on a VM two vCPUs
/// may share a core).
const SPIN_AFTER_RUN: Duration = Duration::from_micros(10);
/// `Pool::run` arguments: run the items, or return at once.
const RUN: usize = 0;
const WAKE: usize = 1;

/// One thread against `threads` on the same convolution: each way's median time.
fn threads(shape: &Shape, plan: &Plan, threads: usize, seconds: f64) -> [f64; 2] {
    let dims = shape.dims();
    let in_len = plan.input_len(dims).expect("input size");
    let out_len = plan.output_len(dims).expect("output size");
    // The buffers of the current pooled run, published before `Pool::run` (whose start
    // releases them to the workers).
    let input = AtomicPtr::new(std::ptr::null_mut::<f32>());
    let output = AtomicPtr::new(std::ptr::null_mut::<f32>());
    let failure: OnceLock<conv1x1::Error> = OnceLock::new();
    let task = |item: usize, what: usize| {
        if what == WAKE {
            return;
        }
        // SAFETY: both pointers come from live slices of `in_len` and `out_len` floats that
        // stay borrowed until `Pool::run` returns; thread `item` runs only item `item`, so
        // concurrent calls write disjoint parts of the output; input and output are separate
        // allocations; there is no residual.
        let r = unsafe {
            plan.run_item_raw(
                dims,
                input.load(Ordering::Relaxed),
                in_len,
                output.load(Ordering::Relaxed),
                out_len,
                std::ptr::null(),
                0,
                item,
                threads,
            )
        };
        if let Err(e) = r {
            let _ = failure.set(e);
        }
    };
    let times = pool::with_pool_spinning(threads, SPIN_AFTER_RUN, &task, |pool| {
        // Once before timing: the pooled run must give `run`'s result, bit for bit.
        let x = common::weights(in_len);
        let (mut whole, mut pooled) = (vec![0.0; out_len], vec![f32::NAN; out_len]);
        plan.run(dims, &x, &mut whole, None).expect("run");
        input.store(x.as_ptr().cast_mut(), Ordering::Relaxed);
        output.store(pooled.as_mut_ptr(), Ordering::Relaxed);
        pool.run(RUN).expect("no worker panicked");
        assert!(
            whole
                .iter()
                .zip(&pooled)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{shape}: {threads} work items differ from one run"
        );
        let mut sets = [common::Buffers::new(in_len, out_len, AlignedBuf::zeroed)];
        let wake = |way: usize| {
            if way == 1 {
                pool.run(WAKE).expect("no worker panicked");
            }
        };
        common::alternate_prepared(&mut sets, [0, 0], seconds, wake, |way, x, y| {
            if way == 0 {
                plan.run(dims, x, y, None).expect("run");
            } else {
                input.store(x.as_ptr().cast_mut(), Ordering::Relaxed);
                output.store(y.as_mut_ptr(), Ordering::Relaxed);
                pool.run(RUN).expect("no worker panicked");
            }
        })
    });
    if let Some(e) = failure.get() {
        panic!("a work item failed: {e}");
    }
    times
}

/// A batch-1 call against a batch-`batch` call of the same layer: each way's median time.
fn batch(shape: &Shape, plan: &Plan, batch: usize, seconds: f64) -> [f64; 2] {
    let dims = [shape.dims(), shape.with_batch(batch).dims()];
    let lens = dims.map(|d| {
        let i = plan.input_len(d).expect("input size");
        let o = plan.output_len(d).expect("output size");
        (i, o)
    });
    let mut sets = lens.map(|(i, o)| common::Buffers::new(i, o, AlignedBuf::zeroed));
    common::alternate_over(&mut sets, [0, 1], seconds, |way, x, y| {
        plan.run(dims[way], x, y, None).expect("run");
    })
}

fn main() {
    let args = Args::parse();
    let m = &args.measure;
    let shapes = common::shapes_or_all(&args.shapes);
    // Every row is measured at batch 1; `--batch` adds its own batch.
    let shapes: Vec<Shape> = shapes.iter().map(|s| s.with_batch(1)).collect();
    let isa: Isa = m.isa();
    let rows: Vec<(Shape, Layout)> = m.rows(&shapes);
    let samples: Vec<Vec<[f64; 2]>> = common::over_passes(&rows, m.passes, |&(shape, layout)| {
        let spec = shape.spec().layout(layout).isa(isa);
        let plan = Plan::new(&spec, &common::weights(shape.cin * shape.cout), None).expect("plan");
        match (args.threads, args.batch) {
            (Some(n), _) => threads(&shape, &plan, n as usize, m.seconds),
            (None, Some(n)) => {
                let [t1, tn] = batch(&shape, &plan, n as usize, m.seconds);
                // Per image, so both ways' GFLOP/s and the ratio compare the same work.
                [t1, tn / n as f64]
            }
            (None, None) => unreachable!("clap requires --threads or --batch"),
        }
    });
    let ways = match (args.threads, args.batch) {
        (Some(n), _) => ["1 thread".to_string(), format!("{n} threads")],
        (None, Some(n)) => ["batch 1".to_string(), format!("batch {n}, per image")],
        (None, None) => unreachable!("clap requires --threads or --batch"),
    };
    common::print_two_way_table([&ways[0], &ways[1]], isa, &rows, &samples);
    print_summary(&rows, &samples);
}

/// The median of the rows' ratios and the lowest row, after the table, so that a long list
/// reads at a glance.
fn print_summary(rows: &[(Shape, Layout)], samples: &[Vec<[f64; 2]>]) {
    let ratios: Vec<(String, f64)> = rows
        .iter()
        .zip(samples)
        .map(|(&(shape, layout), s)| {
            let r = median(s.iter().map(|[a, b]| a / b).collect());
            (format!("{shape} {layout}"), r)
        })
        .collect();
    let all: Vec<f64> = ratios.iter().map(|(_, r)| *r).collect();
    let (low_name, low) = ratios
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least one row");
    println!();
    println!(
        "{} rows: median ratio {:.2}×, lowest {low:.2}× ({low_name})",
        rows.len(),
        median(all)
    );
}
