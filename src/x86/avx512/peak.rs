//! Register-only FMA loop at the AVX-512 core limit (see `crate::peak`).

use std::arch::x86_64::*;

/// Independent accumulator chains: enough to cover FMA latency (4) × 2 ports with margin.
const CHAINS: usize = 24;
/// FLOPs per loop iteration: CHAINS FMAs × 16 lanes × 2.
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * 16 * 2) as f64;

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn fma_loop(iters: u64) -> f32 {
    let a = _mm512_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm512_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..iters {
        for c in acc.iter_mut() {
            *c = _mm512_fmadd_ps(*c, a, b);
        }
    }
    let mut sum = _mm512_setzero_ps();
    for c in acc {
        sum = _mm512_add_ps(sum, c);
    }
    _mm512_reduce_add_ps(sum)
}
