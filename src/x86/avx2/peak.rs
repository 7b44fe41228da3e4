//! Register-only FMA loop at the AVX2 core limit (see `crate::peak`).

use std::arch::x86_64::*;

/// Independent accumulator chains: 12 of the 16 ymm registers.
const CHAINS: usize = 12;
/// FLOPs per loop iteration: CHAINS FMAs × 8 lanes × 2.
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * 8 * 2) as f64;

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fma_loop(iters: u64) -> f32 {
    let a = _mm256_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm256_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..iters {
        for c in acc.iter_mut() {
            *c = _mm256_fmadd_ps(*c, a, b);
        }
    }
    let mut sum = _mm256_setzero_ps();
    for c in acc {
        sum = _mm256_add_ps(sum, c);
    }
    let mut lanes = [0.0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), sum);
    lanes.iter().sum()
}
