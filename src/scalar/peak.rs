//! Register-only multiply and add loop at the portable path's limit (see `crate::peak`).
//!
//! The portable kernels are plain Rust compiled for the baseline target; the compiler packs
//! their independent sums into the baseline's vector registers (SSE2 on x86-64, 4 lanes;
//! Advanced SIMD on aarch64) and issues one multiply and one add per product (no fused FMA).
//! Their multiplies are off the accumulation chains, so the limit is the throughput of
//! multiplies and adds, not their latency. This loop does the same: 8 chains of 4 lanes, each
//! iteration one add into the sum and one multiply of an independent chain (by 1.0, hidden
//! from the compiler, so values stay normal and nothing folds away).

/// Independent chains.
const CHAINS: usize = 8;
/// Lanes per chain: the baseline vector width for f32 on x86-64 (SSE2) and aarch64.
const LANES: usize = 4;
/// FLOPs per loop iteration: CHAINS × LANES × (one add + one multiply).
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * LANES * 2) as f64;

pub(crate) fn fma_loop(iters: u64) -> f32 {
    let one = std::hint::black_box(1.0f32);
    let mut sums = [[0.0f32; LANES]; CHAINS];
    let mut terms = [[1.0f32; LANES]; CHAINS];
    for _ in 0..iters {
        for (sum, term) in sums.iter_mut().zip(terms.iter_mut()) {
            for (s, t) in sum.iter_mut().zip(term.iter_mut()) {
                *s += *t;
                *t *= one;
            }
        }
    }
    sums.iter().flatten().sum::<f32>() + terms.iter().flatten().sum::<f32>()
}
