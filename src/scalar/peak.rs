//! Register-only multiply-add loop at the scalar path's limit (see `crate::peak`). The
//! scalar kernels multiply then add (no fused FMA), so the peak loop does the same. Like the
//! kernels, it is portable Rust compiled for the baseline target: the compiler may pack the
//! independent chains into the baseline's vector lanes (SSE2 on x86-64), and so it may
//! for the kernels.

/// Independent accumulator chains.
const CHAINS: usize = 12;
/// FLOPs per loop iteration: CHAINS × (multiply + add).
pub(crate) const FLOPS_PER_ITER: f64 = (CHAINS * 2) as f64;

pub(crate) fn fma_loop(iters: u64) -> f32 {
    let a = std::hint::black_box(0.999_999f32);
    let b = std::hint::black_box(1e-7f32);
    let mut acc = [1.0f32; CHAINS];
    for _ in 0..iters {
        for c in acc.iter_mut() {
            *c = *c * a + b;
        }
    }
    acc.iter().sum()
}
