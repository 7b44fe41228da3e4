//! Thread safety and determinism: one plan shared by many threads at once, and one
//! convolution split into work items run on threads in any order, give bit for bit what a
//! single thread gives, on every ISA and in both layouts.
//!
//! Under Miri (scalar only, smaller shapes) this also runs Miri's data-race detector over the
//! shared plan and the work items' disjoint writes.

mod common;

use std::sync::Barrier;

use common::{generic_kernels, isas, quick};
use conv1x1::reference::Problem;
use conv1x1::{Activation, ConvSpec, Dims, Isa, KernelKind, Layout, Plan, WorkItem};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Threads sharing a plan, and the largest work-item count tried: fewer under Miri and
/// emulators (`CONV1X1_TEST_QUICK`), where each run costs far more.
fn threads() -> usize {
    if cfg!(miri) {
        3
    } else if quick() {
        4
    } else {
        8
    }
}
fn max_items() -> usize {
    if cfg!(miri) || quick() {
        4
    } else {
        8
    }
}

/// (Cin, Cout, dims, stride): many pixel units; few pixel units (the split also cuts the
/// output channels); a strided one with tails everywhere; NCHW images with too few whole
/// tiles for the items, cut at single pixels (14×14, and 14×15 strided); an NCHW layer wide
/// enough in input channels for the kernel vectorized along output channels (AVX-512).
fn shapes() -> Vec<(usize, usize, Dims, usize)> {
    if cfg!(miri) {
        vec![(3, 9, Dims::new(2, 4, 5), 1), (2, 5, Dims::new(1, 5, 3), 2)]
    } else {
        vec![
            (16, 24, Dims::new(2, if quick() { 14 } else { 28 }, 28), 1),
            (64, 200, Dims::new(1, 7, 7), 1),
            (37, 70, Dims::new(3, 9, 13), 2),
            (40, 30, Dims::new(1, 14, 14), 1),
            (24, 20, Dims::new(1, 27, 29), 2),
            (1030, 140, Dims::new(2, 7, 7), 1),
        ]
    }
}

/// A plan with bias, residual and clamp, and its data.
struct Setup {
    plan: Plan,
    spec: ConvSpec,
    dims: Dims,
    weights: Vec<f32>,
    bias: Vec<f32>,
    out_len: usize,
}

fn setup(
    (isa, kernel): (Isa, KernelKind),
    layout: Layout,
    shape: (usize, usize, Dims, usize),
    seed: u64,
) -> Setup {
    let (cin, cout, dims, stride) = shape;
    let mut rng = SmallRng::seed_from_u64(seed);
    let spec = ConvSpec::new(cin, cout)
        .layout(layout)
        .stride(stride)
        .activation(Activation::Clamp {
            min: -0.75,
            max: 0.75,
        })
        .residual(true)
        .isa(isa)
        .kernel(kernel);
    let weights = random_vec(&mut rng, cin * cout);
    let bias = random_vec(&mut rng, cout);
    let plan = Plan::new(&spec, &weights, Some(&bias)).unwrap();
    let out_len = plan.output_len(dims).unwrap();
    Setup {
        plan,
        spec,
        dims,
        weights,
        bias,
        out_len,
    }
}

/// Values in [-1, 1). (A small generator: ChaCha is slow under Miri.)
fn random_vec(rng: &mut SmallRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every generic kernel of every ISA this CPU has × both layouts × shape, with a fresh seed
/// each (plus the automatic choice, which may be a specialized kernel).
fn for_each_setup(mut f: impl FnMut(&Setup, &str)) {
    let mut seed = 0;
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let mut kernels = generic_kernels(layout);
        if !cfg!(miri) {
            kernels.extend(isas().into_iter().map(|isa| (isa, KernelKind::Auto)));
        }
        for &kernel in &kernels {
            for shape in shapes() {
                seed += 1;
                let s = setup(kernel, layout, shape, seed);
                let name = format!(
                    "{} {}x{} {:?} stride {}",
                    s.plan.kernel().name,
                    shape.0,
                    shape.1,
                    shape.2,
                    shape.3
                );
                f(&s, &name);
            }
        }
    }
}

/// `threads()` threads share one plan, each with its own input, residual and output, released
/// together by a barrier and each running its convolution several times.
#[test]
fn one_plan_shared_by_many_threads() {
    for_each_setup(|s, name| {
        let mut rng = SmallRng::seed_from_u64(99);
        let in_len = s.plan.input_len(s.dims).unwrap();
        let inputs: Vec<Vec<f32>> = (0..threads())
            .map(|_| random_vec(&mut rng, in_len))
            .collect();
        let residuals: Vec<Vec<f32>> = (0..threads())
            .map(|_| random_vec(&mut rng, s.out_len))
            .collect();
        // Single-threaded results first, each checked against the reference.
        let expected: Vec<Vec<f32>> = (0..threads())
            .map(|t| {
                let mut out = vec![f32::NAN; s.out_len];
                s.plan
                    .run(s.dims, &inputs[t], &mut out, Some(&residuals[t]))
                    .unwrap();
                let a = Problem::new(&s.spec, s.dims, &s.weights, &inputs[t])
                    .bias(Some(&s.bias))
                    .residual(Some(&residuals[t]))
                    .accuracy(&out)
                    .unwrap();
                assert!(a.passed(), "{name}: {a}");
                out
            })
            .collect();
        let reps = if cfg!(miri) || quick() { 1 } else { 5 };
        let barrier = Barrier::new(threads());
        std::thread::scope(|scope| {
            for t in 0..threads() {
                let (plan, barrier) = (&s.plan, &barrier);
                let (input, residual, want) = (&inputs[t], &residuals[t], &expected[t]);
                scope.spawn(move || {
                    let mut out = vec![f32::NAN; want.len()];
                    barrier.wait();
                    for rep in 0..reps {
                        out.fill(f32::NAN);
                        plan.run(s.dims, input, &mut out, Some(residual)).unwrap();
                        assert_eq!(bits(&out), bits(want), "{name}: thread {t} rep {rep}");
                    }
                });
            }
        });
    });
}

/// Splits into 1..=`max_items()` work items, shuffled and dealt to threads, give bitwise the
/// result of `run`; through the safe iterator and through the raw entry point.
#[test]
fn work_items_in_any_order_on_any_thread() {
    for_each_setup(|s, name| {
        let mut rng = SmallRng::seed_from_u64(7);
        let input = random_vec(&mut rng, s.plan.input_len(s.dims).unwrap());
        let residual = random_vec(&mut rng, s.out_len);
        let mut whole = vec![f32::NAN; s.out_len];
        s.plan
            .run(s.dims, &input, &mut whole, Some(&residual))
            .unwrap();

        for max_items in 1..=max_items() {
            let mut out = vec![f32::NAN; s.out_len];
            let items = s
                .plan
                .work_items(s.dims, &input, &mut out, Some(&residual), max_items)
                .unwrap();
            let count = items.len();
            assert!((1..=max_items).contains(&count));
            assert_eq!(count, s.plan.work_item_count(s.dims, max_items).unwrap());
            let mut items: Vec<WorkItem> = items.collect();
            items.shuffle(&mut rng);
            let mut per_thread: Vec<Vec<WorkItem>> = (0..threads()).map(|_| Vec::new()).collect();
            for (i, item) in items.into_iter().enumerate() {
                per_thread[i % threads()].push(item);
            }
            std::thread::scope(|scope| {
                for mine in per_thread {
                    scope.spawn(move || mine.into_iter().for_each(WorkItem::run));
                }
            });
            assert_eq!(bits(&out), bits(&whole), "{name}: {max_items} items");

            let mut raw = vec![f32::NAN; s.out_len];
            let mut order: Vec<usize> = (0..max_items).collect();
            order.shuffle(&mut rng);
            run_raw_on_threads(s, &input, &mut raw, &residual, max_items, &order);
            assert_eq!(bits(&raw), bits(&whole), "{name}: {max_items} raw items");
        }
    });
}

/// The output pointer, sendable to the threads that write disjoint items of it.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: the threads it is sent to write disjoint work items only (see the caller).
unsafe impl Send for OutPtr {}

/// Runs items `order` of a split into `count` through `run_item_raw`, dealt to threads.
fn run_raw_on_threads(
    s: &Setup,
    input: &[f32],
    out: &mut [f32],
    residual: &[f32],
    count: usize,
    order: &[usize],
) {
    let out_len = out.len();
    let out_ptr = OutPtr(out.as_mut_ptr());
    std::thread::scope(|scope| {
        for t in 0..threads() {
            let mine: Vec<usize> = order.iter().copied().skip(t).step_by(threads()).collect();
            scope.spawn(move || {
                let out_ptr = out_ptr;
                for index in mine {
                    // SAFETY: input and residual are live shared slices of the given lengths,
                    // `out` is exclusively borrowed by this function for the whole scope and
                    // overlaps neither, and each index runs on exactly one thread.
                    unsafe {
                        s.plan.run_item_raw(
                            s.dims,
                            input.as_ptr(),
                            input.len(),
                            out_ptr.0,
                            out_len,
                            residual.as_ptr(),
                            residual.len(),
                            index,
                            count,
                        )
                    }
                    .unwrap();
                }
            });
        }
    });
}

/// Rayon's pool gives bitwise the result of `run`.
#[cfg(feature = "rayon")]
#[test]
fn run_parallel_matches_run() {
    for_each_setup(|s, name| {
        let mut rng = SmallRng::seed_from_u64(11);
        let input = random_vec(&mut rng, s.plan.input_len(s.dims).unwrap());
        let residual = random_vec(&mut rng, s.out_len);
        let mut whole = vec![f32::NAN; s.out_len];
        s.plan
            .run(s.dims, &input, &mut whole, Some(&residual))
            .unwrap();
        let mut par = vec![f32::NAN; s.out_len];
        s.plan
            .run_parallel(s.dims, &input, &mut par, Some(&residual))
            .unwrap();
        assert_eq!(bits(&par), bits(&whole), "{name}");
    });
}
