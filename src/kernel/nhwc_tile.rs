//! The NHWC microkernel, written once for every ISA (see `simd.rs`).
//!
//! Register tile: MR pixels × NV vectors of output channels. Per input channel the kernel
//! loads NV vectors of packed weights, broadcasts one input value per pixel straight from the
//! caller's buffer (any stride: each pixel has its own row pointer) and issues MR·NV FMAs.
//!
//! Every function here is `#[inline(always)]`, so that each ISA's `#[target_feature]` entry
//! compiles the whole block into one function with the tile's sums in registers. Unoptimized
//! builds (`cfg(conv1x1_unoptimized)`, see build.rs) instead keep them `#[inline(never)]`:
//! without optimization one inlined block kept every local in a slot of its own, a frame of
//! up to 2.9 MB, which overflowed a spawned thread's 2 MiB stack (tests/stack.rs).

use super::simd::Simd;
use super::unroll::unroll;
use super::NhwcBlock;

/// The block loop: panels outside (a panel's packed weights stay in L1 across pixel tiles),
/// pixel tiles inside. `k` is `b.k`, passed separately so that a specialized kernel can make
/// it constant.
///
/// # Safety
/// The CPU must support `S`'s instructions (call from the ISA's `#[target_feature]` entry);
/// `b` must describe buffers as documented on [`NhwcBlock`], with full panels NV·LANES wide.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
pub(crate) unsafe fn nhwc_block<S: Simd, const MR: usize, const NV: usize>(
    b: &NhwcBlock,
    k: usize,
) {
    panel_tiles::<S, MR, NV>(b, k)
}

#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn panel_tiles<S: Simd, const MR: usize, const NV: usize>(b: &NhwcBlock, k: usize) {
    let nr = NV * S::LANES;
    // The next panel's packed weights (k·NR floats, k·NR/16 cache lines), prefetched during
    // this panel's first tiles, one line per input channel: else the first tile of every panel
    // waits for its weights, from L3 when they do not fit L2 (7×7 layers). Past the block's
    // last panel this is the next panel group's first one (panels are stored in order); at
    // the end of the buffer only a hint to nowhere (prefetches never fault).
    let lines = k * nr / 16;
    let tail = (b.p1 - b.p0) % MR;
    // The run's last `short` tiles of full panels compute MR − 1 pixels each, so that no tile
    // computes fewer (see `short_tiles`).
    let short = short_tiles::<S, MR>(b.p1 - b.p0);
    // Tile index of the first short tile: the whole tiles before them.
    let first_short = ((b.p1 - b.p0) / MR + 1).saturating_sub(short);
    // Otherwise a pixel tail of one or two pixels (49 = 8 × 6 + 1) is a few FMA chains, k long:
    // too few to cover the FMA latency. Two full panels then run their tails together, in one
    // tile of twice the vectors, once the second one's other tiles are done.
    let pair_tails =
        short == 0 && tail > 0 && tail <= 2 && tail * NV < 8 && matches!(NV, 1..=4 | 6);
    let p_pairs = b.p1 - tail;
    let streamed = streamed_inputs::<MR>(b, k);
    // A full panel whose tail waits for the next one.
    let mut waiting = None;
    for j in 0..b.panels {
        let n = if j + 1 == b.panels { b.n_last } else { nr };
        if S::K_PAIRS && b.kpair && j + 1 == b.panels {
            S::kpair_panel(b, nr, k, j, n);
            continue;
        }
        let next_panel = b.w.wrapping_add((j + 1) * k * nr);
        let pairing = pair_tails && n == nr;
        let end = if pairing { p_pairs } else { b.p1 };
        let mut p = b.p0;
        let mut t = 0;
        while p < end {
            let shortened = short > 0 && n == nr && t >= first_short;
            let m = if shortened { MR - 1 } else { MR.min(b.p1 - p) };
            // One cache line per input channel is prefetched from `pf`. The first tiles of
            // the panel prefetch the next panel's weights. In the first pass over these pixels
            // (panel 0) later tiles prefetch the input that follows their own (the next
            // tiles' pixels) where it is one run (`streamed_inputs`): a steady line per input
            // channel rather than a burst of the next tile's lines before the k loop, which
            // measured up to 16 % faster on layers whose input comes from L3
            // (benches/README.md, note 21). Otherwise they touch their own weights (in L1:
            // one cheap load per input channel, against a second copy of the tile's code
            // without the prefetch).
            let stream = j == 0 && streamed && t * k >= lines;
            let pf = if t * k < lines {
                next_panel.wrapping_add(t * k * 16)
            } else if stream {
                b.x.wrapping_add(b.map.input_pixel(p + m) * b.x_ps)
            } else {
                b.w.wrapping_add(j * k * nr)
            };
            t += 1;
            if j == 0 && !stream {
                // First pass over these pixels, input not streamed: prefetch the next tile's
                // inputs while this tile computes.
                prefetch_inputs::<S>(b, k, p + m, (p + m + MR).min(b.p1));
            }
            if shortened {
                short_tile::<S, MR, NV>(b, nr, k, j, p, pf);
            } else if n == nr {
                tile::<S, MR, NV, true, true, NV>(b, nr, k, j, p, m, n, pf);
            } else {
                // The channel tail's panel is stored only as wide as whole vectors need.
                match n.div_ceil(S::LANES) {
                    1 => tile::<S, MR, 1, false, true, 1>(b, nr, k, j, p, m, n, pf),
                    2 => tile::<S, MR, 2, false, true, 2>(b, nr, k, j, p, m, n, pf),
                    3 => tile::<S, MR, 3, false, true, 3>(b, nr, k, j, p, m, n, pf),
                    _ => tile::<S, MR, NV, false, true, NV>(b, nr, k, j, p, m, n, pf),
                }
            }
            p += m;
        }
        if pairing {
            match waiting.take() {
                Some(first) => tail_pair::<S, MR, NV>(b, nr, k, first, p_pairs, tail),
                None => waiting = Some(j),
            }
        }
    }
    if let Some(j) = waiting {
        tile::<S, MR, NV, true, false, NV>(b, nr, k, j, p_pairs, tail, nr, b.w);
    }
}

/// How many tiles of MR − 1 pixels a run of `n` pixels ends with, instead of a tail tile of
/// `t = n % MR` pixels. A tile of fewer than MR pixels computes all MR rows (the extra rows
/// repeat the last pixel), so a 4-pixel tail costs a whole tile; a tail of one or two pixels
/// (paired over two panels, see `tail_pair`) reads the panels' weights again for few FMAs. With
/// MR − t tiles of MR − 1 pixels in place of the last MR − 1 − t whole tiles and the tail, every
/// tile computes only pixels it stores: a 7×7 image on 6-pixel tiles runs as 4 × 6 + 5 × 5
/// instead of 8 × 6 + 1. 0 where the ISA does not (`Simd::SHORT_TILES`), the run has no tail
/// or too few whole tiles, or MR is not 6 (the only NHWC tile with short tiles here).
/// Measured (AVX-512): 7×7 layers 1.02–1.05×, 14×14 layers 1.01× (benches/README.md, note 49).
pub(crate) const fn short_tiles<S: Simd, const MR: usize>(n: usize) -> usize {
    let tail = n % MR;
    if S::SHORT_TILES && MR == 6 && tail > 0 && n / MR + 1 >= MR - tail {
        MR - tail
    } else {
        0
    }
}

/// A tile of MR − 1 pixels of a full panel (see `short_tiles`).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn short_tile<S: Simd, const MR: usize, const NV: usize>(
    b: &NhwcBlock,
    nr: usize,
    k: usize,
    j: usize,
    p: usize,
    pf: *const f32,
) {
    debug_assert_eq!(MR, 6, "short tiles of 6-pixel tiles only");
    tile::<S, 5, NV, true, true, NV>(b, nr, k, j, p, 5, nr, pf)
}

/// The `m`-pixel tails (m ≤ 2) of full panels `j` and `j + 1` in one tile: 2·NV vectors per
/// pixel, each panel's sums the same FMA chains as in a single-panel tile.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn tail_pair<S: Simd, const MR: usize, const NV: usize>(
    b: &NhwcBlock,
    nr: usize,
    k: usize,
    j: usize,
    p: usize,
    m: usize,
) {
    // The vector count of a pair must be a literal; the match is on constants, so only the
    // caller's arm is compiled.
    macro_rules! pair {
        ($vp:literal, $nv:literal) => {
            if m == 1 {
                tile::<S, 1, $nv, true, false, $vp>(b, nr, k, j, p, 1, nr, b.w)
            } else {
                tile::<S, 2, $nv, true, false, $vp>(b, nr, k, j, p, 2, nr, b.w)
            }
        };
    }
    match NV {
        1 => pair!(1, 2),
        2 => pair!(2, 4),
        3 => pair!(3, 6),
        4 => pair!(4, 8),
        6 => pair!(6, 12),
        _ => unreachable!("pair_tails admits NV 1-4 and 6"),
    }
}

/// Whether the tiles of the block's first pass stream the input that follows their pixels, a
/// line per input channel from the next tile's first input pixel (see `panel_tiles`): the k
/// block all of a pixel's channels, so that the input from that pixel on is one run, contiguous
/// at stride 1. At horizontal stride 2 the run also holds the odd input pixels, which no output
/// pixel reads: its k lines still cover the next 8 output pixels of the row, the next tile when
/// the output rows are at least two tiles long. There the stream measured 1.01-1.02× the
/// prefetch of the next tile's inputs before the k loop (`256x512@56s2` and `512x1024@28s2`,
/// AVX-512; AVX2 1.00), and 0.99-1.00 on 7-pixel rows (`1024x2048@14s2`), which keep that
/// prefetch (benches/README.md, note 51).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
fn streamed_inputs<const MR: usize>(b: &NhwcBlock, k: usize) -> bool {
    let unstrided = b.map.sh == 1 && b.map.sw == 1;
    let long_rows = b.map.sw == 2 && b.map.wout >= 2 * MR;
    b.x_ps == k && (unstrided || long_rows)
}

/// Prefetches the `k` input channels of output pixels `q0..q1`.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn prefetch_inputs<S: Simd>(b: &NhwcBlock, k: usize, q0: usize, q1: usize) {
    for q in q0..q1 {
        let row = b.x.wrapping_add(b.map.input_pixel(q) * b.x_ps);
        for line in 0..k.div_ceil(16) {
            S::prefetch(row.wrapping_add(line * 16));
        }
    }
}

/// Input, output and residual rows of a tile's pixels `p..p+m` (MR rows; rows past `m` repeat
/// the last valid pixel, so their reads stay in bounds). Output and residual rows start
/// `y_off` elements into the pixel (the panel's first channel).
///
/// # Safety
/// Pixels `p..p+m` exist in the block's output (and residual), their input pixels in its input.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn pixel_rows<const MR: usize>(
    b: &NhwcBlock,
    p: usize,
    m: usize,
    y_off: usize,
) -> ([*const f32; MR], [*mut f32; MR], [*const f32; MR]) {
    let mut xs = [b.x; MR];
    let mut ys = [b.y; MR];
    let mut rs = [b.r; MR];
    unroll!(i in MR => {
        let q = p + i.min(m - 1);
        xs[i] = b.x.add(b.map.input_pixel(q) * b.x_ps);
        ys[i] = b.y.add(q * b.y_ps + y_off);
        if !b.r.is_null() {
            rs[i] = b.r.add(q * b.y_ps + y_off);
        }
    });
    (xs, ys, rs)
}

/// One MR × NV-vector tile: pixels `p..p+m`, panel `j` with `n` valid channels. Full panels are
/// `nr_full` wide, so panel `j` starts at channel `j·nr_full`; this one is stored NV vectors
/// wide (`n` rounded up to whole vectors). `FULL`: all NV vectors are whole (no masks). `PF`:
/// also prefetch one cache line per input channel from `pf` on (the next panel's weights, or
/// the input after this tile's). `VP`: vectors per panel; NV = 2·VP runs panels j and j + 1
/// (both full) in one tile, vector v from panel j + v / VP. Every loop over the tile is
/// `unroll!`ed so the accumulators stay in registers (see `unroll.rs`).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<
    S: Simd,
    const MR: usize,
    const NV: usize,
    const FULL: bool,
    const PF: bool,
    const VP: usize,
>(
    b: &NhwcBlock,
    nr_full: usize,
    k: usize,
    j: usize,
    p: usize,
    m: usize,
    n: usize,
    pf: *const f32,
) {
    let lanes = S::LANES;
    debug_assert!(VP == NV || (FULL && NV == 2 * VP));
    // Offsets of vector v: in a packed weight row (panels are k rows apart) and in an output
    // pixel's channels (elements). Single-panel tiles (VP = NV): v·lanes.
    let w_off = |v: usize| (v / VP) * k * nr_full + (v % VP) * lanes;
    let y_off = |v: usize| (v / VP) * nr_full + (v % VP) * lanes;
    let mut masks = [S::mask(0); NV];
    unroll!(v in NV => {
        masks[v] = S::mask(n.saturating_sub(v * lanes).min(lanes));
    });
    // Rows past `m` repeat the last valid pixel: their reads stay in bounds and their sums are
    // never stored.
    // SAFETY (all pointer arithmetic below): pixels p..p+m exist in this image's output and
    // residual; their input pixels (via the map) exist with k channels from `b.x`; channel
    // lanes are masked below n; the packed panel holds the stored vectors for every kk < k.
    // A tail tile may have vectors with no valid lane (a 5-channel tail in an 8-vector scalar
    // tile) whose addresses lie past the caller's buffer: their offsets use `wrapping_add`
    // (forming them with `add` is undefined behaviour even unread) and masked accesses never
    // touch them.
    let (xs, ys, rs) = pixel_rows::<MR>(b, p, m, j * nr_full);
    // Loads channel vector `v` of the output-shaped row at `base` (previous sums, residual).
    let load_c = |base: *const f32, v: usize| {
        let src = base.wrapping_add(y_off(v));
        if FULL {
            S::load(src)
        } else {
            S::load_masked(src, masks[v])
        }
    };
    // Rows past `m` read the last valid pixel's values (in bounds), so loads and prefetches
    // need no per-row test; only the stores at the end do. Every test here is one per tile,
    // not one per vector: a test per vector (several taken branches each) cost a thin layer
    // up to a fifth of its time (benches/README.md, note 20).
    let mut acc = [[S::zero(); NV]; MR];
    if b.ep.load_c {
        unroll!(i in MR => {
            unroll!(v in NV => {
                acc[i][v] = load_c(ys[i], v);
            });
        });
    }
    // The last panel is stored only as wide as its whole vectors (see `pack.rs`).
    let stored = if FULL {
        VP * lanes
    } else {
        n.next_multiple_of(lanes)
    };
    if !b.ep.load_c {
        // The first k block writes output lines that may not be in any cache: fetch them for
        // writing now, so the stores after the k loop find them (see `nchw_tile.rs`).
        unroll!(i in MR => {
            unroll!(v in NV => {
                S::prefetch_write(ys[i].wrapping_add(y_off(v)));
            });
        });
    }
    let w = b.w.add(j * k * nr_full);
    for kk in 0..k {
        let wk = w.add(kk * stored);
        if PF {
            S::prefetch(pf.wrapping_add(kk * 16));
        }
        let mut wv = [S::zero(); NV];
        unroll!(v in NV => {
            // A tail tile wider than its stored panel (a scalar 5-channel tail in an 8-wide
            // tile) must not read the next row's weights: those vectors stay zero.
            if FULL || v * lanes < stored {
                wv[v] = S::load(wk.add(w_off(v)));
            }
        });
        unroll!(i in MR => {
            let xi = S::splat(*xs[i].add(kk));
            unroll!(v in NV => {
                acc[i][v] = S::fma(xi, wv[v], acc[i][v]);
            });
        });
    }
    if b.ep.finish {
        if !b.bias.is_null() {
            // The packed bias is zero padded to the panel's stored width.
            let mut bias = [S::zero(); NV];
            unroll!(v in NV => {
                if FULL || v * lanes < stored {
                    bias[v] = S::load(b.bias.add(j * nr_full + v * lanes));
                }
            });
            unroll!(i in MR => {
                unroll!(v in NV => {
                    acc[i][v] = S::add(acc[i][v], bias[v]);
                });
            });
        }
        if !b.r.is_null() {
            unroll!(i in MR => {
                unroll!(v in NV => {
                    acc[i][v] = S::add(acc[i][v], load_c(rs[i], v));
                });
            });
        }
        if b.ep.clamp {
            let (lo, hi) = (S::splat(b.ep.lo), S::splat(b.ep.hi));
            unroll!(i in MR => {
                unroll!(v in NV => {
                    acc[i][v] = S::clamp(acc[i][v], lo, hi);
                });
            });
        }
    }
    unroll!(i in MR => {
        if i < m {
            unroll!(v in NV => {
                let a = acc[i][v];
                let dst = ys[i].wrapping_add(y_off(v));
                if FULL {
                    S::store(dst, a);
                } else {
                    S::store_masked(dst, masks[v], a);
                }
            });
        }
    });
}

/// The last panel `j`, k-paired (`n` channels, an odd number V of half vectors or exactly one
/// vector, V = 2; see `pack.rs`), in tiles of pixels × V vectors. A pixel's `n` channels, each
/// with two sums (even and odd input channels), are 2n = V·LANES lanes: whole vectors, where
/// plain channel vectors would leave a half vector empty (AVX-512, 24 channels: 3 zmm for 24
/// sums instead of 2 zmm for 24 of 32 lanes; benches/README.md, note 19). For one vector the
/// gain is in loads: a plain tile loads one input value per FMA, a k-paired one per two
/// (note 20).
///
/// Each ISA with `Simd::K_PAIRS` compiles this once, in a `#[target_feature]` function of its
/// own that `Simd::kpair_panel` calls, rather than inside every kernel: the tiles for every
/// panel width would otherwise be built again for each specialized kernel.
///
/// # Safety
/// As for [`nhwc_block`], from the ISA's `#[target_feature]` function; `b.kpair` is set.
// Only the x86 ISAs have `Simd::K_PAIRS`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
pub(crate) unsafe fn kpair_panel<S: Simd>(b: &NhwcBlock, nr: usize, k: usize, j: usize, n: usize) {
    debug_assert!((n % S::LANES == S::LANES / 2 && n < nr) || n == S::LANES);
    // Pixels per tile: MR·V accumulators, at most 24 of the 32 zmm or 12 of the 16 ymm.
    // `pack::KPAIR_MAX_HALVES` is 7. One zmm (V = 2): 8 pixels measured faster than 12.
    let zmm = S::LANES >= 16;
    match n / (S::LANES / 2) {
        1 => kpair_tiles::<S, 1, 12>(b, nr, k, j),
        2 if zmm => kpair_tiles::<S, 2, 8>(b, nr, k, j),
        2 => kpair_tiles::<S, 2, 6>(b, nr, k, j),
        3 if zmm => kpair_tiles::<S, 3, 8>(b, nr, k, j),
        3 => kpair_tiles::<S, 3, 4>(b, nr, k, j),
        5 if zmm => kpair_tiles::<S, 5, 4>(b, nr, k, j),
        5 => kpair_tiles::<S, 5, 2>(b, nr, k, j),
        7 if zmm => kpair_tiles::<S, 7, 3>(b, nr, k, j),
        7 => kpair_tiles::<S, 7, 1>(b, nr, k, j),
        _ => unreachable!("k-paired panels have 1, 2, 3, 5 or 7 half vectors"),
    }
}

/// Panel `j` in k-paired tiles of `MR` pixels (see [`kpair_tile`]).
// Only the x86 ISAs have `Simd::K_PAIRS`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn kpair_tiles<S: Simd, const V: usize, const MR: usize>(
    b: &NhwcBlock,
    nr: usize,
    k: usize,
    j: usize,
) {
    // As in `panel_tiles`: in the first pass over these pixels each tile prefetches the
    // input that follows its own, a line or two per pair of input channels where it is one
    // run (`streamed_inputs`), else the next tile's inputs before its k loop. Otherwise the
    // prefetches touch the panel's own weights.
    let stream = j == 0 && streamed_inputs::<MR>(b, k);
    let mut p = b.p0;
    while p < b.p1 {
        let m = MR.min(b.p1 - p);
        if j == 0 && !stream {
            prefetch_inputs::<S>(b, k, p + m, (p + m + MR).min(b.p1));
        }
        let pf = if stream {
            b.x.wrapping_add(b.map.input_pixel(p + m) * b.x_ps)
        } else {
            b.w.wrapping_add(j * k * nr)
        };
        kpair_tile::<S, V, MR>(b, nr, k, j, p, m, pf);
        p += m;
    }
}

/// One k-paired tile: pixels `p..p+m` (m ≤ MR) × the `n = V·LANES/2` channels of the last
/// panel `j`. Vector t of a pixel holds channels t·LANES/2 .. (t+1)·LANES/2, two lanes each:
/// the sum over even input channels and the sum over odd ones. Per pair of input channels the
/// tile loads V weight vectors and one pair of input values per pixel (a 64-bit broadcast),
/// and issues MR·V FMAs, every lane useful; the two sums of each channel are added once, at
/// the end. A pixel's result therefore does not depend on which tile or thread computed it.
/// Cache lines from `pf` on are prefetched, one or two
/// per pair of input channels (see `kpair_tiles`).
// Only the x86 ISAs have `Simd::K_PAIRS`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn kpair_tile<S: Simd, const V: usize, const MR: usize>(
    b: &NhwcBlock,
    nr_full: usize,
    k: usize,
    j: usize,
    p: usize,
    m: usize,
    pf: *const f32,
) {
    let lanes = S::LANES;
    let h = lanes / 2;
    let n = V * h;
    // Pixels past `m` repeat the last valid one (reads in bounds, sums never stored).
    // SAFETY (pointer arithmetic below): pixels p..p+m exist in this image's output and
    // residual, their input pixels (via the map) with k channels from `b.x`; the packed panel
    // holds k·n floats from `w`, the bias n from the panel's start; output vectors are
    // stored whole only below n, the last half vector masked.
    let (xs, ys, rs) = pixel_rows::<MR>(b, p, m, j * nr_full);
    let mut acc = [[S::zero(); V]; MR];
    // Rows past `m` read the last valid pixel (in bounds); see `tile`.
    if b.ep.load_c {
        // Earlier blocks' sums join the even-channel sums.
        unroll!(i in MR => {
            unroll!(t in V => {
                acc[i][t] = S::load_even(ys[i].add(t * h));
            });
        });
    } else {
        // First k block: fetch the output lines for writing (see `tile`).
        unroll!(i in MR => {
            unroll!(t in V => {
                S::prefetch_write(ys[i].wrapping_add(t * h));
            });
        });
    }
    let w = b.w.add(j * k * nr_full);
    let pairs = k / 2;
    // Lines prefetched from `pf` per pair of input channels: k/2 pairs and k/16 lines per
    // pixel, so one line per pair covers 8 pixels; tiles of more pixels take two.
    let pf_lines = MR.div_ceil(8);
    for r in 0..pairs {
        for l in 0..pf_lines {
            S::prefetch(pf.wrapping_add((r * pf_lines + l) * 16));
        }
        let wk = w.add(r * 2 * n);
        let mut wv = [S::zero(); V];
        unroll!(t in V => {
            wv[t] = S::load(wk.add(t * lanes));
        });
        unroll!(i in MR => {
            let x = S::splat_pair(xs[i].add(2 * r));
            unroll!(t in V => {
                acc[i][t] = S::fma(x, wv[t], acc[i][t]);
            });
        });
    }
    if k % 2 == 1 {
        // The last input channel alone: its row is [n], into the even lanes (the odd lanes
        // add 0 · 0, so an infinite input cannot turn them into NaN).
        let wk = w.add(pairs * 2 * n);
        let mut wv = [S::zero(); V];
        unroll!(t in V => {
            wv[t] = S::load_even(wk.add(t * h));
        });
        unroll!(i in MR => {
            let x = S::splat_even(*xs[i].add(k - 1));
            unroll!(t in V => {
                acc[i][t] = S::fma(x, wv[t], acc[i][t]);
            });
        });
    }
    // Output vector u of a pixel (channels u·LANES..) is pair vectors 2u and 2u + 1 summed,
    // kept in acc[i][2u]; for odd V the last one has only its lower half (vector V − 1
    // summed with itself). As in `tile`, each epilogue test is once per tile and only the
    // stores skip rows past `m`.
    let half = S::mask(h);
    let whole = |t: usize| t + 1 < V;
    let load_out = |src: *const f32, t: usize| {
        if whole(t) {
            S::load(src)
        } else {
            S::load_masked(src, half)
        }
    };
    unroll!(i in MR => {
        unroll!(t in V => {
            if t.is_multiple_of(2) {
                acc[i][t] = S::sum_pairs(acc[i][t], acc[i][(t + 1).min(V - 1)]);
            }
        });
    });
    if b.ep.finish {
        if !b.bias.is_null() {
            let mut bias = [S::zero(); V];
            unroll!(t in V => {
                if t.is_multiple_of(2) {
                    bias[t] = load_out(b.bias.add(j * nr_full + t * h), t);
                }
            });
            unroll!(i in MR => {
                unroll!(t in V => {
                    if t.is_multiple_of(2) {
                        acc[i][t] = S::add(acc[i][t], bias[t]);
                    }
                });
            });
        }
        if !b.r.is_null() {
            unroll!(i in MR => {
                unroll!(t in V => {
                    if t.is_multiple_of(2) {
                        acc[i][t] = S::add(acc[i][t], load_out(rs[i].add(t * h), t));
                    }
                });
            });
        }
        if b.ep.clamp {
            let (lo, hi) = (S::splat(b.ep.lo), S::splat(b.ep.hi));
            unroll!(i in MR => {
                unroll!(t in V => {
                    if t.is_multiple_of(2) {
                        acc[i][t] = S::clamp(acc[i][t], lo, hi);
                    }
                });
            });
        }
    }
    unroll!(i in MR => {
        if i < m {
            unroll!(t in V => {
                if t.is_multiple_of(2) {
                    let dst = ys[i].add(t * h);
                    if whole(t) {
                        S::store(dst, acc[i][t]);
                    } else {
                        S::store_masked(dst, half, acc[i][t]);
                    }
                }
            });
        }
    });
}
