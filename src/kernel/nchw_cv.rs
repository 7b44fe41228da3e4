//! The NCHW kernel vectorized along output channels, written once for every ISA (see
//! `simd.rs`). Dispatch picks it where it measured faster than the pixel-vectorized kernel
//! (`registry::channel_vectors`: AVX-512, unstrided, at least 1024 input channels); any ISA
//! runs it when named.
//!
//! The pixel-vectorized NCHW tile fills its vectors only where a plane holds whole vectors of
//! pixels: a 7×7 plane is 3 vectors and 1 pixel, and 15 of 16 such planes start off a cache
//! line, so most tile loads straddle two. This kernel instead keeps MR pixels × NV vectors of
//! output channels in registers, as the NHWC tile does: per input channel it loads NV vectors
//! of packed weights and broadcasts each pixel's input value from its plane. No lane is idle
//! whatever the plane's size; the cost is a new input line per input channel (the plane
//! stride), which a prefetch one line ahead keeps coming in from L3.
//!
//! Its sums are vectors of output channels, which lie a plane apart in an NCHW output. So each
//! panel's sums for the block's pixels stay in a stack buffer (`[pixel][channel]`) across
//! every k block of the panel, and are written to the output once, a vector of pixels at a
//! time, by reading the buffer down its columns (`store_panel`); residual and activation are
//! applied there. Hence the loop order: panels outside, k blocks, then pixel tiles. A panel's
//! weights for one k block stream from L2 once per tile; the block's inputs (pixels × k block)
//! stay in L2 across the panels.
//!
//! Every output element is the same FMA chain as in the pixel-vectorized tile (input channels
//! in order, from zero; then bias, residual, clamp), so results do not depend on the kernel,
//! the tile an element falls in, or the split into work items.
//!
//! Every function here is `#[inline(always)]`, so that each ISA's `#[target_feature]` entry
//! compiles the whole block into one function with the tile's sums in registers (unoptimized
//! builds: `#[inline(never)]`, see `nhwc_tile.rs`).

use std::mem::MaybeUninit;

use super::nhwc_tile::short_tiles;
use super::simd::Simd;
use super::unroll::unroll;
use super::PixelMap;

/// Floats in a block's stack buffer of sums: one panel's NR channels for every pixel of the
/// block. 32 KiB; plans cap the block's pixels at `CV_FLOATS / NR` (`KernelInfo::nc`).
pub(crate) const CV_FLOATS: usize = 8192;

/// One block of the NCHW channel-vectorized kernel: output pixels `p0..p1` of one image ×
/// panels `j0..j0 + panels`, over every input channel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CvBlock {
    /// Input channels (all of them: the kernel runs the k blocks itself).
    pub cin: usize,
    /// Input channels per k block of the packed weights (the last block may be shorter).
    pub kc: usize,
    /// Packed floats per input channel (all panels, padded): k block `k0` starts at
    /// `w + k0·padded`, its panel `j` `j·kb·NR` after that.
    pub padded: usize,
    /// The plan's packed weights.
    pub w: *const f32,
    /// The plan's packed bias (index = output channel, zero padded), or null.
    pub bias: *const f32,
    /// First panel and number of panels of this block.
    pub j0: usize,
    pub panels: usize,
    /// Channels per full panel (the kernel's NR).
    pub nr: usize,
    /// Panels of the plan, and the valid channels of its last one.
    pub count: usize,
    pub n_last: usize,
    /// Input image at channel 0, pixel 0; channel `c` of input pixel `q` at `x + c·x_cs + q`.
    pub x: *const f32,
    pub x_cs: usize,
    pub map: PixelMap,
    pub p0: usize,
    pub p1: usize,
    /// Output image at channel 0, pixel 0; channel `c` of output pixel `p` at `y + c·y_cs + p`.
    pub y: *mut f32,
    pub y_cs: usize,
    /// Residual, same indexing as `y`, or null.
    pub r: *const f32,
    pub clamp: bool,
    pub lo: f32,
    pub hi: f32,
}

#[repr(C, align(64))]
struct Sums([MaybeUninit<f32>; CV_FLOATS]);

/// The block loop (see the module docs).
///
/// # Safety
/// The CPU must support `S`'s instructions (call from the ISA's `#[target_feature]` entry);
/// `b` must describe the plan's buffers, with at most `CV_FLOATS / (NV·LANES)` pixels.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
pub(crate) unsafe fn nchw_cv_block<S: Simd, const MR: usize, const NV: usize>(b: &CvBlock) {
    let nr = NV * S::LANES;
    debug_assert_eq!(b.nr, nr);
    assert!(
        (b.p1 - b.p0) * nr <= CV_FLOATS,
        "too many pixels for the sums buffer"
    );
    let mut storage = Sums([MaybeUninit::uninit(); CV_FLOATS]);
    let sums = storage.0.as_mut_ptr().cast::<f32>();
    let unstrided = b.map.sh == 1 && b.map.sw == 1;
    for j in b.j0..b.j0 + b.panels {
        let n = if j + 1 == b.count { b.n_last } else { nr };
        // The last panel is stored only as wide as its whole vectors (see `pack.rs`): tiles
        // of fewer vectors where that is fewer than NV.
        macro_rules! run {
            ($v:literal, $full:literal) => {
                if unstrided {
                    panel::<S, MR, $v, $full, true>(b, j, n, sums)
                } else {
                    panel::<S, MR, $v, $full, false>(b, j, n, sums)
                }
            };
            ($full:literal) => {
                if unstrided {
                    panel::<S, MR, NV, $full, true>(b, j, n, sums)
                } else {
                    panel::<S, MR, NV, $full, false>(b, j, n, sums)
                }
            };
        }
        if n == nr {
            run!(true);
        } else {
            match n.div_ceil(S::LANES) {
                1 if NV > 1 => run!(1, false),
                2 if NV > 2 => run!(2, false),
                3 if NV > 3 => run!(3, false),
                _ => run!(false),
            }
        }
        store_panel::<S>(b, j, n, nr, sums);
    }
}

/// Panel `j` (`n` valid channels) over every k block, in tiles of V vectors, sums into
/// `sums` (rows `nr` = the plan's NR apart). `FULL`: a full panel, V·LANES = NR. `U`:
/// unstrided (an output pixel's input is the same pixel).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn panel<S: Simd, const MR: usize, const V: usize, const FULL: bool, const U: bool>(
    b: &CvBlock,
    j: usize,
    n_valid: usize,
    sums: *mut f32,
) {
    let nr = b.nr;
    // Floats per input channel of this panel's packed rows.
    let stored = if FULL {
        nr
    } else {
        n_valid.next_multiple_of(S::LANES)
    };
    let n = b.p1 - b.p0;
    // As in the NHWC kernel, a run ends in tiles of MR − 1 pixels rather than a short tail
    // tile where the ISA does that (`nhwc_tile::short_tiles`).
    let short = short_tiles::<S, MR>(n);
    let first_short = (n / MR + 1).saturating_sub(short);
    let mut k0 = 0;
    while k0 < b.cin {
        let kb = b.kc.min(b.cin - k0);
        let w = b.w.add(k0 * b.padded + j * kb * nr);
        let x = b.x.add(k0 * b.x_cs);
        let first = k0 == 0;
        let bias = if k0 + kb == b.cin && !b.bias.is_null() {
            b.bias.add(j * nr)
        } else {
            std::ptr::null()
        };
        let mut p = b.p0;
        let mut t = 0;
        while p < b.p1 {
            let shortened = short > 0 && t >= first_short;
            let m = if shortened { MR - 1 } else { MR.min(b.p1 - p) };
            let at = sums.add((p - b.p0) * nr);
            if shortened {
                debug_assert_eq!(MR, 6, "short tiles of 6-pixel tiles only");
                tile::<S, 5, V, FULL, U>(b, x, w, kb, nr, stored, p, 5, at, first, bias);
            } else {
                tile::<S, MR, V, FULL, U>(b, x, w, kb, nr, stored, p, m, at, first, bias);
            }
            p += m;
            t += 1;
        }
        k0 += kb;
    }
}

/// One tile: pixels `p..p + m` (m ≤ MR) × V vectors of one panel whose rows are `stored`
/// floats (vectors past that are not read and stay zero), over one k block of `kb` channels
/// (input `x` and weights `w` at the block's first channel). Sums start from zero
/// (`first`) or from `sums`, row `i` of the tile at `sums + i·nr`, and go back there, with the
/// bias added when `bias` is not null (the last k block). Rows past `m` repeat the last pixel
/// (reads in bounds, never stored).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<S: Simd, const MR: usize, const V: usize, const FULL: bool, const U: bool>(
    b: &CvBlock,
    x: *const f32,
    w: *const f32,
    kb: usize,
    nr: usize,
    stored: usize,
    p: usize,
    m: usize,
    sums: *mut f32,
    first: bool,
    bias: *const f32,
) {
    let lanes = S::LANES;
    let has = |v: usize| FULL || v * lanes < stored;
    // SAFETY (pointer arithmetic below): pixels p..p+m exist in the block's output, their
    // input pixels in every channel of the image; the panel holds kb rows of `stored`
    // weights; `sums` holds nr floats for each of the block's pixels, and the bias `stored`
    // values from the panel's first channel.
    let mut xs = [x; MR];
    unroll!(i in MR => {
        let q = p + i.min(m - 1);
        xs[i] = if U { x.add(q) } else { x.add(b.map.input_pixel(q)) };
    });
    let mut acc = [[S::zero(); V]; MR];
    if !first {
        unroll!(i in MR => {
            unroll!(v in V => {
                acc[i][v] = S::load(sums.add(i.min(m - 1) * nr + v * lanes));
            });
        });
    }
    let x_cs = b.x_cs;
    // The line after the first pixel's in every input plane: the tiles after this one read
    // it. In the first panel the input comes from L3, a plane apart per input channel, which
    // the hardware prefetchers do not follow.
    let pf = xs[0].wrapping_add(16);
    for kk in 0..kb {
        S::prefetch(pf.wrapping_add(kk * x_cs));
        let wk = w.add(kk * stored);
        let mut wv = [S::zero(); V];
        unroll!(v in V => {
            if has(v) {
                wv[v] = S::load(wk.add(v * lanes));
            }
        });
        unroll!(i in MR => {
            let xi = S::splat(*xs[i].add(kk * x_cs));
            unroll!(v in V => {
                acc[i][v] = S::fma(xi, wv[v], acc[i][v]);
            });
        });
    }
    if !bias.is_null() {
        unroll!(v in V => {
            if has(v) {
                let bv = S::load(bias.add(v * lanes));
                unroll!(i in MR => {
                    acc[i][v] = S::add(acc[i][v], bv);
                });
            }
        });
    }
    unroll!(i in MR => {
        if i < m {
            unroll!(v in V => {
                S::store(sums.add(i * nr + v * lanes), acc[i][v]);
            });
        }
    });
}

/// Writes panel `j`'s finished sums (`n` valid channels, bias added) from `sums` to the
/// output, plus the residual, clamped: squares of LANES pixels × LANES channels transposed in
/// registers (`Simd::transpose`), so that each channel's pixels are stored as one vector.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn store_panel<S: Simd>(b: &CvBlock, j: usize, n: usize, nr: usize, sums: *const f32) {
    let lanes = S::LANES;
    let (lo, hi) = (S::splat(b.lo), S::splat(b.hi));
    // SAFETY: channels j·nr + c (c < n) exist in the output and residual, pixels p0..p1 in
    // their planes; `sums` holds nr floats for each pixel of the block, written by the tiles
    // for every channel below n rounded up to whole vectors (only those rows are read).
    let mut p = b.p0;
    while p < b.p1 {
        let count = lanes.min(b.p1 - p);
        let mask = S::mask(count);
        let mut c0 = 0;
        while c0 < n {
            let square = sums.add((p - b.p0) * nr + c0);
            S::transpose(square, nr, count, |l, mut v| {
                let c = c0 + l;
                if c < n {
                    let at = (j * nr + c) * b.y_cs + p;
                    if !b.r.is_null() {
                        v = S::add(v, S::load_masked(b.r.add(at), mask));
                    }
                    if b.clamp {
                        v = S::clamp(v, lo, hi);
                    }
                    if count == lanes {
                        S::store(b.y.add(at), v);
                    } else {
                        S::store_masked(b.y.add(at), mask, v);
                    }
                }
            });
            c0 += lanes;
        }
        p += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `S::transpose` against the definition: column `l`, lane `i` is `src[i·stride + l]` for
    /// every row below `rows`, at every row count.
    unsafe fn check_transpose<S: Simd>() {
        let lanes = S::LANES;
        let stride = lanes + 3;
        let src: Vec<f32> = (0..lanes * stride).map(|v| v as f32).collect();
        for rows in 1..=lanes {
            let mut seen = vec![false; lanes];
            S::transpose(src.as_ptr(), stride, rows, |l, v| {
                let mut out = vec![0.0f32; lanes];
                S::store(out.as_mut_ptr(), v);
                for (i, x) in out.iter().enumerate().take(rows) {
                    assert_eq!(*x, src[i * stride + l], "rows {rows}, column {l}, lane {i}");
                }
                seen[l] = true;
            });
            assert!(seen.iter().all(|&s| s), "every column once");
        }
    }

    #[test]
    fn transpose_matches_its_definition_on_every_isa() {
        unsafe {
            check_transpose::<crate::scalar::Scalar>();
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    check_transpose::<crate::x86::avx2::Avx2>();
                }
                if std::is_x86_feature_detected!("avx512f") {
                    check_transpose::<crate::x86::avx512::Avx512>();
                }
            }
            #[cfg(target_arch = "aarch64")]
            if std::arch::is_aarch64_feature_detected!("neon") {
                check_transpose::<crate::aarch64::neon::Neon>();
            }
        }
    }
}
