//! Every kernel runs on a thread with a small stack. Inference engines run plans on their own
//! thread pools, whose threads get less stack than a main thread's 8 MiB: 2 MiB for a spawned
//! Rust thread (and for every libtest test), often less in C pools. Each case below builds its
//! plan and runs it on a thread of `STACK_BYTES`; a kernel that needs more runs into the
//! thread's guard page, the process aborts and the test fails.
//!
//! Unoptimized builds (opt-level 0, `cfg(conv1x1_unoptimized)` from build.rs: a dependent
//! crate's default `cargo build` and `cargo test`) keep every local of every inlined function
//! in a stack slot of its own, so they get `UNOPTIMIZED_STACK_BYTES`. The test profile
//! optimizes; CI runs this test at opt-level 0 too (`.ci/checks/unoptimized.sh`).
//!
//! Cases: every generic and specialized kernel this CPU runs, both layouts, stride 1 and 2,
//! channel counts with tails (and the thin last panels NHWC k-pairs), an image with full
//! tiles, tails and a 7×7 run (NCHW fused tails); each output is checked against the f64
//! reference as well.

mod common;

use common::*;
use conv1x1::{dispatch, Dims, KernelInfo, KernelKind, Plan};

/// Optimized, the cases below ran on 96 KiB and overflowed 64 KiB (thread start, `Plan::new`,
/// `Plan::run` and the kernels, whose deepest frame holds the 32 KiB gather buffer of strided
/// NCHW tiles): twice the need, so a kernel that grows its frames fails here.
const STACK_BYTES: usize = 192 << 10;
/// Unoptimized, they ran on 192 KiB and overflowed 128 KiB (tile functions of 100–130 KiB
/// frames each, one at a time below the block's).
const UNOPTIMIZED_STACK_BYTES: usize = 512 << 10;

/// `STACK_BYTES` or `UNOPTIMIZED_STACK_BYTES`, unless `CONV1X1_TEST_STACK_KIB` sets another
/// size: AddressSanitizer's red zones around every stack variable (the 32 KiB gather buffer
/// included) grow the frames, so `.ci/checks/asan.sh` runs this test on larger stacks.
fn stack_bytes() -> usize {
    if let Ok(kib) = std::env::var("CONV1X1_TEST_STACK_KIB") {
        return kib
            .parse::<usize>()
            .expect("CONV1X1_TEST_STACK_KIB is a number")
            << 10;
    }
    if cfg!(conv1x1_unoptimized) {
        UNOPTIMIZED_STACK_BYTES
    } else {
        STACK_BYTES
    }
}

/// Builds the plan and runs it on a fresh thread of `stack_bytes()`, then checks the output.
fn check_on_small_stack(case: Case, seed: u64) {
    let p = operands(&case, seed);
    let spec = case.spec();
    let out = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(stack_bytes())
            .spawn_scoped(s, || {
                let plan = Plan::new(&spec, &p.weights, p.bias.as_deref())
                    .unwrap_or_else(|e| panic!("{case:?}: {e}"));
                let mut out = vec![f32::NAN; p.out_len];
                plan.run(case.dims, &p.input, &mut out, p.residual.as_deref())
                    .unwrap_or_else(|e| panic!("{case:?}: {e}"));
                out
            })
            .expect("a thread")
            .join()
            .expect("the case ran")
    });
    let a = p.problem(&spec, case.dims).accuracy(&out).unwrap();
    assert!(a.passed(), "{case:?} (kernel {}): {a}", kernel_name(&case));
}

/// Every kernel this CPU runs, with the channel pairs to try it on: a generic kernel gets
/// channel counts with tails (Cout 24 and 40 end in a thin panel), a specialized one its own.
fn kernels_and_channels() -> Vec<(&'static KernelInfo, Vec<(usize, usize)>)> {
    conv1x1::kernels()
        .filter(|k| dispatch::is_supported(k.isa))
        .map(|k| match (k.cin, k.cout) {
            (Some(cin), Some(cout)) => (k, vec![(cin, cout)]),
            _ => (k, vec![(37, 24), (19, 70), (130, 40)]),
        })
        .collect()
}

#[test]
fn every_kernel_runs_on_a_small_stack() {
    let mut seed = 1;
    for (kernel, pairs) in kernels_and_channels() {
        for (cin, cout) in pairs {
            for (stride, (h, w)) in [(1, (7, 7)), (1, (3, 53)), (2, (5, 29))] {
                let case = Case {
                    isa: kernel.isa,
                    layout: kernel.layout,
                    cin,
                    cout,
                    dims: Dims::new(2, h, w),
                    stride: (stride, stride),
                    epi: EPILOGUES[seed as usize % EPILOGUES.len()],
                    kernel: KernelKind::Named(kernel.name),
                };
                check_on_small_stack(case, seed);
                seed += 1;
            }
        }
    }
}
