//! The NCHW microkernel, written once for every ISA (see `simd.rs`).
//!
//! Register tile: MR output channels × NV vectors of pixels. Per input channel the kernel
//! loads NV vectors of pixels straight from the caller's input plane (masked in the tail,
//! stride-2 by load-and-compact, other strides lane by lane), broadcasts MR packed weights
//! and issues MR·NV FMAs into accumulators that stay in registers for the whole `k` loop.

use super::simd::Simd;
use super::unroll::unroll;
use super::NchwBlock;

/// The block loop: pixel tiles outside (their input stays in L1 across panels), panels
/// inside. `k` is `b.k`, passed separately so that a specialized kernel can make it constant.
///
/// # Safety
/// The CPU must support `S`'s instructions (call from the ISA's `#[target_feature]` entry);
/// `b` must describe buffers as documented on [`NchwBlock`], with panels MR wide.
#[inline(always)]
pub(crate) unsafe fn nchw_block<S: Simd, const MR: usize, const NV: usize>(
    b: &NchwBlock,
    k: usize,
) {
    match b.x_ps {
        1 => pixel_tiles::<S, MR, NV, 1>(b, k),
        2 => pixel_tiles::<S, MR, NV, 2>(b, k),
        _ => pixel_tiles::<S, MR, NV, 0>(b, k),
    }
}

#[inline(always)]
unsafe fn pixel_tiles<S: Simd, const MR: usize, const NV: usize, const PS: usize>(
    b: &NchwBlock,
    k: usize,
) {
    let nr = NV * S::LANES;
    let mut p = 0;
    while p < b.n {
        let n = nr.min(b.n - p);
        // The input channels of this run are separate streams H·W apart, too many for the
        // hardware prefetcher: while the first panel of this tile computes, prefetch the next
        // tile's pixels of every channel so the later panels' loads hit in cache.
        // After the last tile, prefetch the start of the next block (the next output row when
        // strided).
        let (ahead, next) = if p + n < b.n {
            (b.x.wrapping_add((p + n) * b.x_ps), nr.min(b.n - p - n))
        } else {
            (b.x_next, b.n_next)
        };
        for j in 0..b.panels {
            let m = if j + 1 == b.panels { b.m_last } else { MR };
            if n == nr {
                if j == 0 && next > 0 {
                    tile::<S, MR, NV, PS, true, true>(b, k, j, p, m, n, ahead, next);
                } else {
                    tile::<S, MR, NV, PS, true, false>(b, k, j, p, m, n, ahead, 0);
                }
            } else {
                // A narrower tile for the pixel tail: 17 leftover pixels cost 2 vectors, not NV.
                match n.div_ceil(S::LANES) {
                    1 => tile::<S, MR, 1, PS, false, false>(b, k, j, p, m, n, ahead, 0),
                    2 => tile::<S, MR, 2, PS, false, false>(b, k, j, p, m, n, ahead, 0),
                    3 => tile::<S, MR, 3, PS, false, false>(b, k, j, p, m, n, ahead, 0),
                    _ => tile::<S, MR, NV, PS, false, false>(b, k, j, p, m, n, ahead, 0),
                }
            }
        }
        p += n;
    }
}

/// One MR × NV-vector tile: panel `j` (`m` valid channels), pixels `p..p+n` of the run.
/// `FULL`: all NV vectors are whole (no masks). `PREFETCH`: also prefetch `next` pixels from
/// `ahead` (same channel as the block's first) in every input channel. Every loop over the tile is `unroll!`ed so the
/// accumulators stay in registers (see `unroll.rs`).
#[inline(always)]
unsafe fn tile<
    S: Simd,
    const MR: usize,
    const NV: usize,
    const PS: usize,
    const FULL: bool,
    const PREFETCH: bool,
>(
    b: &NchwBlock,
    k: usize,
    j: usize,
    p: usize,
    m: usize,
    n: usize,
    ahead: *const f32,
    next: usize,
) {
    let lanes = S::LANES;
    let mut valid = [0usize; NV];
    let mut masks = [S::mask(0); NV];
    unroll!(v in NV => {
        valid[v] = n.saturating_sub(v * lanes).min(lanes);
        masks[v] = S::mask(valid[v]);
    });
    // SAFETY (all pointer arithmetic below): channel rows i < m of panel j exist in the output
    // and residual; pixel lanes below valid[v] are pixels of this run; packed panels hold MR
    // weights per input channel for every kk < k. A tail tile may have vectors with no valid
    // lane (a 5-pixel tail in an 8-vector scalar tile): their addresses can lie past the end
    // of the caller's buffer, so per-vector offsets use `wrapping_add` (forming such an
    // address with `add` is undefined behaviour even unread) and masked accesses never touch
    // them.
    let y = b.y.add(j * MR * b.y_cs + p);
    let mut acc = [[S::zero(); NV]; MR];
    if b.ep.load_c {
        unroll!(i in MR => {
            if i < m {
                unroll!(v in NV => {
                    let src = y.wrapping_add(i * b.y_cs + v * lanes);
                    acc[i][v] = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
                });
            }
        });
    }
    let w = b.w.add(j * k * MR);
    let x = b.x.add(p * b.x_ps);
    // Cache lines of the next tile's pixels per input channel (PREFETCH only).
    let next_lines = (next * b.x_ps).div_ceil(64 / 4);
    for kk in 0..k {
        let xk = x.add(kk * b.x_cs);
        if PREFETCH {
            let ahead_k = ahead.wrapping_add(kk * b.x_cs);
            for line in 0..next_lines {
                S::prefetch(ahead_k.wrapping_add(line * 16));
            }
        }
        let mut xv = [S::zero(); NV];
        unroll!(v in NV => {
            let src = xk.wrapping_add(v * lanes * b.x_ps);
            let count = if FULL { lanes } else { valid[v] };
            xv[v] = match PS {
                1 if FULL => S::load(src),
                1 => S::load_masked(src, masks[v]),
                2 => S::load_stride2(src, count),
                _ => S::load_strided(src, b.x_ps, count),
            };
        });
        let wk = w.add(kk * MR);
        unroll!(i in MR => {
            let wi = S::splat(*wk.add(i));
            unroll!(v in NV => {
                acc[i][v] = S::fma(wi, xv[v], acc[i][v]);
            });
        });
    }
    let lo = S::splat(b.ep.lo);
    let hi = S::splat(b.ep.hi);
    unroll!(i in MR => {
        if i < m {
            let bias = if b.ep.finish && !b.bias.is_null() {
                Some(S::splat(*b.bias.add(j * MR + i)))
            } else {
                None
            };
            unroll!(v in NV => {
                let off = i * b.y_cs + v * lanes;
                let mut a = acc[i][v];
                if b.ep.finish {
                    if let Some(bv) = bias {
                        a = S::add(a, bv);
                    }
                    if !b.r.is_null() {
                        let src = b.r.wrapping_add(j * MR * b.y_cs + p + off);
                        let r = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
                        a = S::add(a, r);
                    }
                    if b.ep.clamp {
                        a = S::clamp(a, lo, hi);
                    }
                }
                if FULL {
                    S::store(y.wrapping_add(off), a);
                } else {
                    S::store_masked(y.wrapping_add(off), masks[v], a);
                }
            });
        }
    });
}
