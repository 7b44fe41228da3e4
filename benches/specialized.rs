//! Generic vs specialized kernel for every channel pair of `kernels/pairs.spec`, per ISA this
//! CPU supports and layout, on the suite shape where the pair occurs.
//!
//! Each criterion group is one pair, ISA and layout (`specialized/96x24@56/avx512/nhwc`) with
//! two ids, `generic` and `specialized`, so criterion's report puts them side by side. The
//! throughput is the shape's FLOP count (2·N·Cin·Cout·Hout·Wout) given as
//! `Throughput::Elements`: criterion's "elem/s" reads as FLOP/s.
//!
//! Timed call: one `Plan::run` (no epilogue), the plan built before timing; inputs and outputs
//! rotate among buffer sets larger than L2 (`common::ROTATION_BYTES`). For the ratio table in
//! kernels/README.md (both plans interleaved in one loop, several passes), see
//! `examples/specialization_ratios.rs`.

mod common;

use common::Rotation;
use conv1x1::suite::{suite, Shape};
use conv1x1::{dispatch, AlignedBuf, Dims, Isa, KernelKind, Layout, Plan};
use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};

const WEIGHT_SEED: u64 = 7;
const INPUT_SEED: u64 = 700;

/// Largest relative L2 distance accepted between the two plans' outputs (the k blocks may
/// differ, so the f32 sums may be ordered differently).
const AGREEMENT: f64 = 1e-5;

/// The (pair, ISA, layout) cells with a specialized kernel this CPU runs, in spec order.
fn cells() -> Vec<(usize, usize, Isa, Layout)> {
    conv1x1::kernels()
        .filter(|k| k.specialized() && dispatch::is_supported(k.isa))
        .map(|k| (k.cin.unwrap_or(0), k.cout.unwrap_or(0), k.isa, k.layout))
        .collect()
}

/// The suite shape of a pair (first occurrence), with the batch from `CONV1X1_BENCH_BATCH`;
/// a 28×28 image for a pair no suite has.
fn shape_of(cin: usize, cout: usize) -> Shape {
    let batch = common::suite_shapes()[0].shape.batch;
    suite("all")
        .expect("the `all` suite exists")
        .into_iter()
        .find(|s| (s.cin, s.cout) == (cin, cout))
        .unwrap_or(Shape::new(cin, cout, 28, 28))
        .with_batch(batch)
}

/// One plan with the buffers its calls rotate through.
struct Case {
    plan: Plan,
    dims: Dims,
    inputs: Rotation,
    outputs: Rotation,
}

impl Case {
    /// Builds the plan and its buffers and runs it once, untimed. The specialized plan's
    /// result is checked against the generic plan's: both must compute the same convolution
    /// before their times mean anything.
    fn new(shape: &Shape, layout: Layout, isa: Isa, kind: KernelKind) -> Case {
        let label = format!("{shape} {isa} {layout} {kind:?}");
        let spec = shape.spec().layout(layout).isa(isa);
        let weights = common::random_vec(shape.cout * shape.cin, WEIGHT_SEED);
        let plan = Plan::new(&spec.kernel(kind), &weights, None)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let dims = shape.dims();
        let input_len = plan.input_len(dims).expect("suite shapes are valid");
        let output_len = plan.output_len(dims).expect("suite shapes are valid");
        let mut inputs = Rotation::random(input_len, INPUT_SEED + 1);
        inputs.bufs[0] = AlignedBuf::from_slice(&common::random_vec(input_len, INPUT_SEED));
        let mut outputs = Rotation::poisoned(output_len);
        plan.run(dims, &inputs.bufs[0], &mut outputs.bufs[0], None)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        if kind == KernelKind::Specialized {
            let generic = Plan::new(&spec.kernel(KernelKind::Generic), &weights, None)
                .unwrap_or_else(|e| panic!("{label}: generic plan: {e}"));
            let mut want = vec![f32::NAN; output_len];
            generic
                .run(dims, &inputs.bufs[0], &mut want, None)
                .unwrap_or_else(|e| panic!("{label}: generic run: {e}"));
            let distance = common::relative_distance(&outputs.bufs[0], &want);
            assert!(
                distance < AGREEMENT,
                "{label}: output differs from the generic kernel's (relative L2 {distance:e})"
            );
        }
        eprintln!("{label}: kernel {}", plan.kernel().name);
        Case {
            plan,
            dims,
            inputs,
            outputs,
        }
    }

    /// One `Plan::run` per iteration.
    fn time(&mut self, b: &mut Bencher<'_>) {
        let Case {
            plan,
            dims,
            inputs,
            outputs,
        } = self;
        let mut call = 0;
        b.iter(|| {
            let (i, o) = (inputs.index(call), outputs.index(call));
            call += 1;
            plan.run(*dims, &inputs.bufs[i], &mut outputs.bufs[o], None)
                .expect("checked at setup")
        });
    }
}

fn generic_vs_specialized(c: &mut Criterion) {
    for (cin, cout, isa, layout) in cells() {
        let shape = shape_of(cin, cout);
        let mut group = c.benchmark_group(format!("specialized/{shape}/{isa}/{layout}"));
        group.throughput(Throughput::Elements(shape.flops() as u64));
        for (id, kind) in [
            ("generic", KernelKind::Generic),
            ("specialized", KernelKind::Specialized),
        ] {
            // Built on first use: criterion calls the closure only for ids that pass the
            // filter, and then once per sample.
            let mut state: Option<Case> = None;
            group.bench_function(id, |b| {
                state
                    .get_or_insert_with(|| Case::new(&shape, layout, isa, kind))
                    .time(b)
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = generic_vs_specialized
}
criterion_main!(benches);
