//! The portable (scalar) path on small shapes that still reach every branch of the driver and
//! the microkernels: pixel and channel tails, strides 1, 2 and 3, batch 2, every epilogue,
//! more than one input-channel block (Cin > kc), more than one output-channel block
//! (Cout > mc), more than one pixel block (> nc pixels) and work-item splits.
//!
//! Small enough to run under Miri (`.ci/miri.sh`), which checks every pointer the kernels
//! form and dereference against the bounds of the caller's buffers. Natively it takes
//! milliseconds.

mod common;

use common::{Case, Epi, Operands, EPILOGUES};
use conv1x1::{Dims, Isa, KernelInfo, KernelKind, Plan};

/// Every generic kernel of the portable path: NCHW vectorized along pixels, NCHW vectorized
/// along output channels, NHWC.
fn scalar_kernels() -> Vec<&'static KernelInfo> {
    let all: Vec<_> = conv1x1::kernels()
        .filter(|k| k.isa == Isa::Scalar && !k.specialized())
        .collect();
    assert!(all.len() >= 2, "a generic scalar kernel for each layout");
    all
}

fn case(
    kernel: &'static KernelInfo,
    (cin, cout): (usize, usize),
    dims: Dims,
    stride: (usize, usize),
    epi: Epi,
) -> Case {
    Case {
        isa: Isa::Scalar,
        layout: kernel.layout,
        cin,
        cout,
        dims,
        stride,
        epi,
        kernel: KernelKind::Named(kernel.name),
    }
}

/// Tails on both sides of the 4×8 scalar tile (5 channels = 4 + 1, 9 pixels = 8 + 1, 3
/// pixels < 8), strides 1, 2, (1, 3) and (3, 2), batch 1 and 2; the epilogues take turns so
/// that each meets every kernel, stride and batch.
#[test]
fn tails_strides_batches_and_epilogues() {
    let mut seed = 1;
    for kernel in scalar_kernels() {
        for &(cin, cout, h, w) in &[(3, 5, 3, 3), (2, 9, 1, 3), (5, 3, 5, 4)] {
            for stride in [(1, 1), (2, 2), (1, 3), (3, 2)] {
                seed += 1;
                let epi = EPILOGUES[seed as usize % EPILOGUES.len()];
                let batch = 1 + seed as usize / EPILOGUES.len() % 2;
                let dims = Dims::new(batch, h, w);
                check_case(&case(kernel, (cin, cout), dims, stride, epi), seed);
            }
        }
    }
}

/// Cin = kc + 1: the second input-channel block accumulates onto the stored partial sums and
/// only it applies the epilogue; tiny images keep this cheap. (Strided NCHW plans use smaller
/// blocks, which Cin = kc + 1 crosses too.)
#[test]
fn input_channel_blocks() {
    for kernel in scalar_kernels() {
        let cin = kernel.kc + 1;
        let epi = Epi::BiasResidualClamp;
        check_case(&case(kernel, (cin, 5), Dims::new(2, 1, 2), (1, 1), epi), 10);
        let epi = Epi::ResidualRelu6;
        check_case(&case(kernel, (cin, 2), Dims::new(1, 2, 3), (2, 2), epi), 11);
    }
}

/// Cout = mc + 1 (a second output-channel block) and nc + 1 output pixels (a second pixel
/// block).
#[test]
fn output_channel_and_pixel_blocks() {
    for kernel in scalar_kernels() {
        let epi = Epi::BiasResidualClamp;
        check_case(
            &case(kernel, (1, kernel.mc + 1), Dims::new(1, 1, 1), (1, 1), epi),
            30,
        );
        let epi = Epi::ResidualRelu6;
        check_case(
            &case(kernel, (1, 1), Dims::new(1, 1, kernel.nc + 1), (1, 1), epi),
            31,
        );
    }
}

/// Splits into 1..=5 work items, through both the safe iterator and the raw-pointer entry,
/// give bitwise the result of `run`.
#[test]
fn work_items_match_run() {
    for kernel in scalar_kernels() {
        let name = kernel.name;
        let epi = Epi::BiasResidualClamp;
        let c = case(kernel, (3, 9), Dims::new(2, 4, 5), (1, 1), epi);
        let p = operands(&c, 40);
        let plan = Plan::new(&c.spec(), &p.weights, p.bias.as_deref()).unwrap();
        let mut whole = vec![f32::NAN; p.out_len];
        plan.run(c.dims, &p.input, &mut whole, p.residual.as_deref())
            .unwrap();
        for max_items in 1..=5 {
            let mut out = vec![f32::NAN; p.out_len];
            let items = plan
                .work_items(c.dims, &p.input, &mut out, p.residual.as_deref(), max_items)
                .unwrap();
            assert_eq!(
                items.len(),
                plan.work_item_count(c.dims, max_items).unwrap()
            );
            // Last item first: the order must not matter.
            let mut items: Vec<_> = items.collect();
            while let Some(item) = items.pop() {
                item.run();
            }
            assert_eq!(bits(&out), bits(&whole), "{name} max_items {max_items}");

            let mut raw = vec![f32::NAN; p.out_len];
            let r = p.residual.as_deref().unwrap();
            for index in (0..max_items).rev() {
                // SAFETY: every pointer comes from a live slice with its true length, the
                // output overlaps nothing, and the items run one after another.
                unsafe {
                    plan.run_item_raw(
                        c.dims,
                        p.input.as_ptr(),
                        p.input.len(),
                        raw.as_mut_ptr(),
                        raw.len(),
                        r.as_ptr(),
                        r.len(),
                        index,
                        max_items,
                    )
                }
                .unwrap();
            }
            assert_eq!(
                bits(&raw),
                bits(&whole),
                "{name} raw, max_items {max_items}"
            );
        }
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Random data in [-1, 1) from a xorshift generator: `common::operands` draws from ChaCha,
/// which under Miri costs more than the convolution itself.
fn operands(case: &Case, seed: u64) -> Operands {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut random_vec = |len: usize| -> Vec<f32> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    };
    let spec = case.spec();
    let d = case.dims;
    let hout = (d.height - 1) / spec.stride_h + 1;
    let wout = (d.width - 1) / spec.stride_w + 1;
    let out_len = d.batch * case.cout * hout * wout;
    Operands {
        weights: random_vec(case.cin * case.cout),
        bias: case.epi.bias().then(|| random_vec(case.cout)),
        input: random_vec(d.batch * case.cin * d.height * d.width),
        residual: case.epi.residual().then(|| random_vec(out_len)),
        out_len,
    }
}

/// Runs `case` on a NaN-poisoned output and compares with the f64 reference.
fn check_case(case: &Case, seed: u64) {
    let p = operands(case, seed);
    let spec = case.spec();
    let plan = Plan::new(&spec, &p.weights, p.bias.as_deref()).unwrap();
    let mut out = vec![f32::NAN; p.out_len];
    plan.run(case.dims, &p.input, &mut out, p.residual.as_deref())
        .unwrap();
    let a = p.problem(&spec, case.dims).accuracy(&out).unwrap();
    assert!(a.passed(), "{case:?}: {a}");
}
