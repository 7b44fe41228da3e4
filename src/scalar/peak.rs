//! Register-only multiply and add loop at the portable path's limit (see `crate::peak`).
//!
//! The portable kernels are plain Rust compiled for the baseline target; the compiler packs
//! their independent sums into the baseline's vector registers (SSE2 on x86-64, 4 lanes;
//! Advanced SIMD on aarch64) and issues one multiply and one add per product (no fused FMA).
//! Their multiplies are off the accumulation chains, so the limit is the throughput of
//! multiplies and adds, not their latency. This loop does the same: 12 chains of 4 lanes, each
//! iteration one multiply (of a constant by 1.0, hidden from the compiler, so nothing folds
//! away) and one add of its product into the chain's sum.
//!
//! It is written with the baseline's vector intrinsics: the same loop in plain Rust compiled
//! to shuffles and stack spills and ran at 20 GFLOP/s on this machine's x86-64, which the
//! portable kernels exceeded once their epilogues stopped branching per vector; the
//! intrinsics loop measures 46.

/// Independent chains.
const CHAINS: usize = 12;
/// Lanes per chain: the baseline vector width for f32 on x86-64 (SSE2) and aarch64.
const LANES: usize = 4;
/// FLOPs per loop iteration: CHAINS × LANES × (one add + one multiply).
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * LANES * 2) as f64;

#[cfg(target_arch = "x86_64")]
pub(crate) fn fma_loop(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always available.
    unsafe {
        let one = _mm_set1_ps(std::hint::black_box(1.0f32));
        let mut terms = [_mm_setzero_ps(); CHAINS];
        for (i, t) in terms.iter_mut().enumerate() {
            *t = _mm_set1_ps(std::hint::black_box(1.0 + i as f32));
        }
        let mut sums = [_mm_setzero_ps(); CHAINS];
        for _ in 0..iters {
            for (s, t) in sums.iter_mut().zip(terms.iter()) {
                *s = _mm_add_ps(*s, _mm_mul_ps(*t, one));
            }
        }
        let mut total = _mm_setzero_ps();
        for s in sums {
            total = _mm_add_ps(total, s);
        }
        _mm_cvtss_f32(total)
    }
}

#[cfg(target_arch = "aarch64")]
pub(crate) fn fma_loop(iters: u64) -> f32 {
    use std::arch::aarch64::*;
    // SAFETY: Advanced SIMD is part of the aarch64 baseline, so these intrinsics are always
    // available.
    unsafe {
        let one = vdupq_n_f32(std::hint::black_box(1.0f32));
        let mut terms = [vdupq_n_f32(0.0); CHAINS];
        for (i, t) in terms.iter_mut().enumerate() {
            *t = vdupq_n_f32(std::hint::black_box(1.0 + i as f32));
        }
        let mut sums = [vdupq_n_f32(0.0); CHAINS];
        for _ in 0..iters {
            for (s, t) in sums.iter_mut().zip(terms.iter()) {
                *s = vaddq_f32(*s, vmulq_f32(*t, one));
            }
        }
        let mut total = vdupq_n_f32(0.0);
        for s in sums {
            total = vaddq_f32(total, s);
        }
        vgetq_lane_f32::<0>(total)
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn fma_loop(iters: u64) -> f32 {
    let one = std::hint::black_box(1.0f32);
    let terms: [[f32; LANES]; CHAINS] = std::array::from_fn(|i| [1.0 + i as f32; LANES]);
    let mut sums = [[0.0f32; LANES]; CHAINS];
    for _ in 0..iters {
        for (sum, term) in sums.iter_mut().zip(terms.iter()) {
            for (s, t) in sum.iter_mut().zip(term.iter()) {
                *s += *t * one;
            }
        }
    }
    sums.iter().flatten().sum::<f32>()
}
