//! Register-only FMA loop at the NEON core limit (see `crate::peak`).

use std::arch::aarch64::*;

/// Independent accumulator chains: covers FMA latency (4) × up to 4 FMA pipes with margin and
/// fits in 32 q registers next to the two operands.
const CHAINS: usize = 24;
/// FLOPs per loop iteration: CHAINS FMAs × 4 lanes × 2.
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * 4 * 2) as f64;

/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn fma_loop(iters: u64) -> f32 {
    let a = vdupq_n_f32(std::hint::black_box(0.999_999));
    let b = vdupq_n_f32(std::hint::black_box(1e-7));
    let mut acc = [vdupq_n_f32(1.0); CHAINS];
    for _ in 0..iters {
        for c in acc.iter_mut() {
            // c·a + b: each chain waits only on itself (vfmaq_f32(x, y, z) = x + y·z).
            *c = vfmaq_f32(b, *c, a);
        }
    }
    let mut sum = vdupq_n_f32(0.0);
    for c in acc {
        sum = vaddq_f32(sum, c);
    }
    vaddvq_f32(sum)
}
