//! Throughput of one 1x1 convolution per suite shape, per ISA and layout, beside two GEMM
//! libraries computing the same matrix product.
//!
//! Each criterion group is one shape (`resnet50/256x64@56`); its ids are `<isa>/<layout>`
//! for this library and `<peer>/<layout>` for the peers. The group's throughput is the
//! shape's FLOP count (2·N·Cin·Cout·Hout·Wout) given as `Throughput::Elements`, so the
//! "elem/s" criterion prints is FLOP/s.
//!
//! Timed call: one `Plan::run` (no bias, residual or activation), the plan and its packed
//! weights built before timing. Inputs and outputs rotate among buffer sets larger than the
//! L2 cache (see `common::ROTATION_BYTES`), so operands come from L3 as in a network.
//!
//! Environment:
//! - `CONV1X1_BENCH_THREADS=N`: run the convolution as N work items on a persistent team of
//!   N threads (ids get a `/tN` suffix); the `gemm` crate then also uses N threads.
//! - `CONV1X1_BENCH_BATCH=N`: batch N for every shape (group names get a `bN` suffix).

mod common;

use std::ptr;

use common::peers::{ConvGemm, Peer};
use common::team::with_team;
use common::{Rotation, SuiteShape};
use conv1x1::suite::Shape;
use conv1x1::{AlignedBuf, Dims, Isa, Layout, Plan};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, Bencher, BenchmarkGroup, Criterion, Throughput};

/// Seeds shared by every case of a shape, so all of them compute the same product on their
/// first buffer and can be checked against each other.
const WEIGHT_SEED: u64 = 1;
const INPUT_SEED: u64 = 1000;

/// Largest relative L2 distance accepted between two implementations' outputs (f32 sums in
/// different orders over up to 2048 terms land near 1e-6).
const AGREEMENT: f64 = 1e-4;

fn throughput(c: &mut Criterion) {
    let threads = common::threads();
    for case in common::suite_shapes() {
        let mut group = c.benchmark_group(case.group_name());
        // Elements = FLOPs: criterion's elem/s column reads as FLOP/s.
        group.throughput(Throughput::Elements(case.shape.flops() as u64));
        for layout in common::LAYOUTS {
            for isa in common::isas_for(&case.shape) {
                bench_conv(&mut group, &case, layout, isa, threads);
            }
            for peer in Peer::ALL {
                bench_peer(&mut group, &case, layout, peer, threads);
            }
        }
        group.finish();
    }
}

/// `base` with a `/tN` suffix when running on N > 1 threads.
fn bench_id(base: String, threads: usize) -> String {
    if threads > 1 {
        format!("{base}/t{threads}")
    } else {
        base
    }
}

fn bench_conv(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &SuiteShape,
    layout: Layout,
    isa: Isa,
    threads: usize,
) {
    let id = bench_id(format!("{isa}/{layout}"), threads);
    let label = format!("{}/{id}", case.group_name());
    let shape = case.shape;
    // Built on first use: criterion calls the closure only when the id passes the filter,
    // and then once per sample.
    let mut state: Option<ConvCase> = None;
    group.bench_function(id, |b| {
        state
            .get_or_insert_with(|| ConvCase::new(&shape, layout, isa, &label))
            .time(b, threads)
    });
}

fn bench_peer(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &SuiteShape,
    layout: Layout,
    peer: Peer,
    threads: usize,
) {
    // matrixmultiply is built without its threading feature: always one thread.
    let peer_threads = if peer == Peer::Gemm { threads } else { 1 };
    let id = bench_id(format!("{}/{layout}", peer.name()), peer_threads);
    let shape = case.shape;
    let mut state: Option<PeerCase> = None;
    group.bench_function(id, |b| {
        let case = state.get_or_insert_with(|| PeerCase::new(&shape, layout, peer));
        let mut call = 0;
        b.iter(|| {
            let (i, o) = (case.inputs.index(call), case.outputs.index(call));
            call += 1;
            case.gemm.run(
                peer,
                &case.weights,
                &case.inputs.bufs[i],
                &mut case.outputs.bufs[o],
                peer_threads,
            );
        });
    });
}

/// A plan and the buffers its timed calls rotate through.
struct ConvCase {
    plan: Plan,
    dims: Dims,
    inputs: Rotation,
    outputs: Rotation,
    /// The single-threaded result for input 0, checked at setup.
    first_output: Vec<f32>,
}

impl ConvCase {
    fn new(shape: &Shape, layout: Layout, isa: Isa, label: &str) -> ConvCase {
        let spec = shape.spec().layout(layout).isa(isa);
        let weights = common::random_vec(shape.cout * shape.cin, WEIGHT_SEED);
        let plan = Plan::new(&spec, &weights, None)
            .unwrap_or_else(|e| panic!("{label}: building the plan failed: {e}"));
        let dims = shape.dims();
        let input_len = plan.input_len(dims).expect("suite shapes are valid");
        let output_len = plan.output_len(dims).expect("suite shapes are valid");
        let mut inputs = Rotation::random(input_len, INPUT_SEED + 1);
        inputs.bufs[0] = AlignedBuf::from_slice(&common::random_vec(input_len, INPUT_SEED));
        let mut outputs = Rotation::poisoned(output_len);

        // One untimed, checked call: a setup that computes the wrong thing fails here
        // instead of producing a number.
        plan.run(dims, &inputs.bufs[0], &mut outputs.bufs[0], None)
            .unwrap_or_else(|e| panic!("{label}: run failed: {e}"));
        let want = peer_output(shape, layout, &weights, &inputs.bufs[0]);
        let distance = common::relative_distance(&outputs.bufs[0], &want);
        assert!(
            distance < AGREEMENT,
            "{label}: output differs from the gemm crate's (relative L2 {distance:e})"
        );
        eprintln!("{label}: kernel {}", plan.kernel().name);
        let first_output = outputs.bufs[0].to_vec();
        ConvCase {
            plan,
            dims,
            inputs,
            outputs,
            first_output,
        }
    }

    fn time(&mut self, b: &mut Bencher<'_>, threads: usize) {
        if threads == 1 {
            self.time_single(b)
        } else {
            self.time_team(b, threads)
        }
    }

    /// One `Plan::run` per iteration on the calling thread.
    fn time_single(&mut self, b: &mut Bencher<'_>) {
        let ConvCase {
            plan,
            dims,
            inputs,
            outputs,
            ..
        } = self;
        let mut call = 0;
        b.iter(|| {
            let (i, o) = (inputs.index(call), outputs.index(call));
            call += 1;
            plan.run(*dims, &inputs.bufs[i], &mut outputs.bufs[o], None)
                .expect("checked at setup")
        });
    }

    /// One convolution per iteration, cut into `threads` work items, item k run by team
    /// member k. Items use the split of `Plan::work_items`, addressed by index through
    /// `run_item_raw`, since the team outlives any one call's borrow of its buffers.
    fn time_team(&mut self, b: &mut Bencher<'_>, threads: usize) {
        let ConvCase {
            plan,
            dims,
            inputs,
            outputs,
            first_output,
        } = self;
        let dims = *dims;
        let output_len = outputs.bufs[0].len();
        // The team's first call must reproduce the single-threaded result bit for bit.
        outputs.bufs[0].fill(f32::NAN);
        let targets: Vec<OutputPtr> = outputs
            .bufs
            .iter_mut()
            .map(|buf| OutputPtr(buf.as_mut_ptr()))
            .collect();
        let inputs = &*inputs;
        let plan = &*plan;
        let job = |member: usize, call: usize| {
            let x = &inputs.bufs[inputs.index(call)];
            let y = targets[call % targets.len()].0;
            // SAFETY: `x` is a live input buffer of `x.len()` elements; `y` points to an
            // output buffer of `output_len` elements, exclusively borrowed by this function
            // for as long as the team runs and touched through these pointers only; no
            // input or residual overlaps it; each member runs a distinct item index, and
            // items write disjoint parts of the output.
            unsafe {
                plan.run_item_raw(
                    dims,
                    x.as_ptr(),
                    x.len(),
                    y,
                    output_len,
                    ptr::null(),
                    0,
                    member,
                    threads,
                )
            }
            .expect("buffer sizes checked at setup");
        };
        with_team(threads, &job, |team| {
            team.run(0);
            // SAFETY: `targets[0]` points to output 0 (`output_len` elements); `run`
            // returned, so no member is writing it.
            let first = unsafe { std::slice::from_raw_parts(targets[0].0, output_len) };
            assert!(
                first
                    .iter()
                    .zip(&*first_output)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{threads} threads: result differs from the single-threaded run"
            );
            let mut call = 1;
            b.iter(|| {
                team.run(call);
                call += 1;
            });
        });
    }
}

/// An output buffer shared with the team's threads.
struct OutputPtr(*mut f32);

// SAFETY: the pointer targets a buffer that outlives the team; concurrent users write
// disjoint regions of it (distinct work items), so sharing it between threads cannot race.
unsafe impl Sync for OutputPtr {}
unsafe impl Send for OutputPtr {}

/// Weights and (subsampled) inputs for one peer and the buffers its calls rotate through.
struct PeerCase {
    gemm: ConvGemm,
    weights: Vec<f32>,
    inputs: Rotation,
    outputs: Rotation,
}

impl PeerCase {
    fn new(shape: &Shape, layout: Layout, peer: Peer) -> PeerCase {
        let gemm = conv_gemm(shape, layout);
        let weights = common::random_vec(shape.cout * shape.cin, WEIGHT_SEED);
        // The peers have no stride: they get the input already subsampled (outside the
        // timed call), which also spares them reading the skipped pixels.
        let full = common::random_vec(shape.batch * shape.cin * shape.h * shape.w, INPUT_SEED);
        let mut inputs = Rotation::random(gemm.input_len(), INPUT_SEED + 1);
        inputs.bufs[0] = AlignedBuf::from_slice(&common::subsample(&full, shape, layout));
        let mut outputs = Rotation::poisoned(gemm.output_len());

        gemm.run(peer, &weights, &inputs.bufs[0], &mut outputs.bufs[0], 1);
        let want = conv_output(shape, layout, &weights, &full);
        let distance = common::relative_distance(&outputs.bufs[0], &want);
        assert!(
            distance < AGREEMENT,
            "{shape} {layout}: {} differs from conv1x1 (relative L2 {distance:e})",
            peer.name()
        );
        PeerCase {
            gemm,
            weights,
            inputs,
            outputs,
        }
    }
}

fn conv_gemm(shape: &Shape, layout: Layout) -> ConvGemm {
    ConvGemm {
        layout,
        batch: shape.batch,
        cin: shape.cin,
        cout: shape.cout,
        pixels: shape.hout() * shape.wout(),
    }
}

/// The convolution of `input` computed by the `gemm` crate (single thread).
fn peer_output(shape: &Shape, layout: Layout, weights: &[f32], input: &[f32]) -> Vec<f32> {
    let gemm = conv_gemm(shape, layout);
    let mut out = vec![f32::NAN; gemm.output_len()];
    gemm.run(
        Peer::Gemm,
        weights,
        &common::subsample(input, shape, layout),
        &mut out,
        1,
    );
    out
}

/// The convolution of `input` computed by this library (automatic ISA).
fn conv_output(shape: &Shape, layout: Layout, weights: &[f32], input: &[f32]) -> Vec<f32> {
    let plan = Plan::new(&shape.spec().layout(layout), weights, None).expect("valid spec");
    let dims = shape.dims();
    let mut out = vec![f32::NAN; plan.output_len(dims).expect("valid dims")];
    plan.run(dims, input, &mut out, None)
        .expect("valid buffers");
    out
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = throughput
}
criterion_main!(benches);
