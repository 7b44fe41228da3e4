//! The NHWC microkernel, written once for every ISA (see `simd.rs`).
//!
//! Register tile: MR pixels × NV vectors of output channels. Per input channel the kernel
//! loads NV vectors of packed weights, broadcasts one input value per pixel straight from the
//! caller's buffer (any stride: each pixel has its own row pointer) and issues MR·NV FMAs.

use super::simd::Simd;
use super::NhwcBlock;

/// The block loop: panels outside (a panel's packed weights stay in L1 across pixel tiles),
/// pixel tiles inside. `k` is `b.k`, passed separately so that a specialized kernel can make
/// it constant.
///
/// # Safety
/// The CPU must support `S`'s instructions (call from the ISA's `#[target_feature]` entry);
/// `b` must describe buffers as documented on [`NhwcBlock`], with full panels NV·LANES wide.
#[inline(always)]
pub(crate) unsafe fn nhwc_block<S: Simd, const MR: usize, const NV: usize>(b: &NhwcBlock, k: usize) {
    let nr = NV * S::LANES;
    for j in 0..b.panels {
        let n = if j + 1 == b.panels { b.n_last } else { nr };
        let mut p = b.p0;
        while p < b.p1 {
            let m = MR.min(b.p1 - p);
            if n == nr {
                tile::<S, MR, NV, true>(b, nr, k, j, p, m, n);
            } else {
                // The channel tail's panel is stored only as wide as whole vectors need.
                match n.div_ceil(S::LANES) {
                    1 => tile::<S, MR, 1, false>(b, nr, k, j, p, m, n),
                    2 => tile::<S, MR, 2, false>(b, nr, k, j, p, m, n),
                    3 => tile::<S, MR, 3, false>(b, nr, k, j, p, m, n),
                    _ => tile::<S, MR, NV, false>(b, nr, k, j, p, m, n),
                }
            }
            p += m;
        }
    }
}

/// One MR × NV-vector tile: pixels `p..p+m`, panel `j` with `n` valid channels. Full panels are
/// `nr_full` wide, so panel `j` starts at channel `j·nr_full`; this one is stored NV vectors
/// wide (`n` rounded up to whole vectors). `FULL`: all NV vectors are whole (no masks).
#[inline(always)]
unsafe fn tile<S: Simd, const MR: usize, const NV: usize, const FULL: bool>(
    b: &NhwcBlock,
    nr_full: usize,
    k: usize,
    j: usize,
    p: usize,
    m: usize,
    n: usize,
) {
    let lanes = S::LANES;
    let mut masks = [S::mask(0); NV];
    for (v, mask) in masks.iter_mut().enumerate() {
        *mask = S::mask(n.saturating_sub(v * lanes).min(lanes));
    }
    // Rows past `m` repeat the last valid pixel: their reads stay in bounds and their sums are
    // never stored.
    // SAFETY (all pointer arithmetic below): pixels p..p+m exist in this image's output and
    // residual; their input pixels (via the map) exist with k channels from `b.x`; channel
    // lanes are masked below n; the packed panel holds NV vectors per input channel kk < k.
    // A tail tile may have vectors with no valid lane (a 5-channel tail in an 8-vector scalar
    // tile) whose addresses lie past the caller's buffer: their offsets use `wrapping_add`
    // (forming them with `add` is undefined behaviour even unread) and masked accesses never
    // touch them.
    let mut xs = [b.x; MR];
    let mut ys = [b.y; MR];
    let mut rs = [b.r; MR];
    for i in 0..MR {
        let q = p + i.min(m - 1);
        xs[i] = b.x.add(b.map.input_pixel(q) * b.x_ps);
        ys[i] = b.y.add(q * b.y_ps + j * nr_full);
        if !b.r.is_null() {
            rs[i] = b.r.add(q * b.y_ps + j * nr_full);
        }
    }
    let mut acc = [[S::zero(); NV]; MR];
    if b.ep.load_c {
        for (i, row) in acc.iter_mut().enumerate().take(m) {
            for v in 0..NV {
                let src = ys[i].wrapping_add(v * lanes);
                row[v] = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
            }
        }
    }
    // The last panel is stored only as wide as its whole vectors (see `pack.rs`).
    let stored = if FULL { NV * lanes } else { n.next_multiple_of(lanes) };
    let w = b.w.add(j * k * nr_full);
    for kk in 0..k {
        let wk = w.add(kk * stored);
        let mut wv = [S::zero(); NV];
        for (v, wvv) in wv.iter_mut().enumerate() {
            // A tail tile wider than its stored panel (a scalar 5-channel tail in an 8-wide
            // tile) must not read the next row's weights: those vectors stay zero.
            if FULL || v * lanes < stored {
                *wvv = S::load(wk.add(v * lanes));
            }
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let xi = S::splat(*xs[i].add(kk));
            for v in 0..NV {
                row[v] = S::fma(xi, wv[v], row[v]);
            }
        }
    }
    let lo = S::splat(b.ep.lo);
    let hi = S::splat(b.ep.hi);
    for (i, row) in acc.iter().enumerate().take(m) {
        for v in 0..NV {
            let mut a = row[v];
            if b.ep.finish {
                if !b.bias.is_null() && (FULL || v * lanes < stored) {
                    // The packed bias is zero padded to the panel's stored width.
                    a = S::add(a, S::load(b.bias.add(j * nr_full + v * lanes)));
                }
                if !b.r.is_null() {
                    let src = rs[i].wrapping_add(v * lanes);
                    let r = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
                    a = S::add(a, r);
                }
                if b.ep.clamp {
                    a = S::clamp(a, lo, hi);
                }
            }
            let dst = ys[i].wrapping_add(v * lanes);
            if FULL {
                S::store(dst, a);
            } else {
                S::store_masked(dst, masks[v], a);
            }
        }
    }
}
