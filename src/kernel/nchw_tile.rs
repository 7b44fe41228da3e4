//! The NCHW microkernel, written once for every ISA (see `simd.rs`).
//!
//! Register tile: MR output channels × NV vectors of pixels. Per input channel the kernel
//! loads NV vectors of pixels straight from the caller's input plane (masked in the tail),
//! broadcasts MR packed weights and issues MR·NV FMAs into accumulators that stay in
//! registers for the whole `k` loop. Strided convolutions first copy each pixel tile's
//! inputs into a contiguous buffer (`gathered_tiles`) and run the same tiles from it.
//!
//! Every function here is `#[inline(always)]`, so that each ISA's `#[target_feature]` entry
//! compiles the whole block into one function with the tile's sums in registers. Unoptimized
//! builds (`cfg(conv1x1_unoptimized)`, see build.rs) instead keep them `#[inline(never)]`:
//! without optimization one inlined block kept every local in a slot of its own, a frame of
//! up to 2.9 MB, which overflowed a spawned thread's 2 MiB stack (tests/stack.rs).

use std::mem::MaybeUninit;

use super::simd::Simd;
use super::unroll::unroll;
use super::{gather_row, NchwBlock, GATHER_FLOATS};

/// The block loop: pixel tiles outside (their input stays in L1 across panels), panels
/// inside. `k` is `b.k`, passed separately so that a specialized kernel can make it constant.
///
/// # Safety
/// The CPU must support `S`'s instructions (call from the ISA's `#[target_feature]` entry);
/// `b` must describe buffers as documented on [`NchwBlock`], with panels MR wide.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
pub(crate) unsafe fn nchw_block<S: Simd, const MR: usize, const NV: usize>(
    b: &NchwBlock,
    k: usize,
) {
    if b.gather {
        gathered_tiles::<S, MR, NV>(b, k)
    } else {
        // Blocks that are not gathered are unstrided (the driver gathers every strided one).
        debug_assert_eq!(b.x_ps, 1);
        pixel_tiles::<S, MR, NV>(b, k)
    }
}

#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn pixel_tiles<S: Simd, const MR: usize, const NV: usize>(b: &NchwBlock, k: usize) {
    if panel_major(b.y_cs, b.panels * MR) {
        return panel_major_tiles::<S, MR, NV>(b, k);
    }
    let nr = NV * S::LANES;
    let spread = spread_tail::<S, MR, NV>(b.n);
    let mut p = 0;
    let mut t = 0;
    while p < b.n {
        let n = nr.min(b.n - p);
        let rest = b.n - p - n;
        if spread > 0 && t >= b.n / nr - spread {
            // One of the last `spread` full tiles, each computing `each` leftover pixels too.
            let each = spread_each::<S, MR>(b.n % nr);
            match (each, p == 0) {
                (2, true) => full_tile_panels::<S, MR, NV, 2, true>(b, k, p),
                (2, false) => full_tile_panels::<S, MR, NV, 2, false>(b, k, p),
                (_, true) => full_tile_panels::<S, MR, NV, 1, true>(b, k, p),
                (_, false) => full_tile_panels::<S, MR, NV, 1, false>(b, k, p),
            }
            p += n + each;
            t += 1;
            continue;
        }
        if spread == 0 && fuses::<S, MR, NV>(n, rest) {
            // The last full tile and the few pixels after it, in one pass over the weights.
            if p == 0 {
                fused_tiles::<S, MR, NV, true>(b, k, k, p, rest);
            } else {
                fused_tiles::<S, MR, NV, false>(b, k, k, p, rest);
            }
            break;
        }
        if n == nr && p == 0 {
            full_tile_panels::<S, MR, NV, 0, true>(b, k, p);
        } else if n == nr {
            full_tile_panels::<S, MR, NV, 0, false>(b, k, p);
        } else {
            tail_tiles::<S, MR, NV>(b, k, k, p, n);
        }
        p += n;
        t += 1;
    }
}

/// Every panel's full tile at pixels `p..p + NR` (and the `T` pixels after it, see `tile`),
/// prefetching the inputs of a later tile.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn full_tile_panels<
    S: Simd,
    const MR: usize,
    const NV: usize,
    const T: usize,
    const W: bool,
>(
    b: &NchwBlock,
    k: usize,
    p: usize,
) {
    let nr = NV * S::LANES;
    let n = nr;
    let (ahead, next) = prefetch_target(b, p, nr);
    // Those are `lines` cache lines per channel, prefetched one line per input channel
    // by several panels rather than all by the first: thin projections (`96x24`,
    // `144x24`) ran 8 % faster from L3 with panel j taking line j of every channel
    // (benches/README.md, note 23). Where a block has `ROTATION` panels or more and a
    // tile spans several lines, the first `ROTATION` panels take the lines in turn
    // instead (`PF_TURNS`): the same prefetches, spread evenly over those panels
    // rather than packed into the first few. In some hours that ran the 56×56
    // layers 3–8 % faster and batch 8 9–17 %; in others it made no difference; no
    // layer measured slower (note 38). One-line tiles (AVX2) lost up to 8 % that way.
    let lines = next.div_ceil(16);
    let rotate = const { NV * S::LANES > 16 } && b.panels >= ROTATION && lines > 0;
    let spread = b.panels >= lines;
    for j in 0..b.panels {
        let m = if j + 1 == b.panels { b.m_last } else { MR };
        match (rotate, spread, j) {
            (true, _, j) if j < ROTATION => {
                let pf = Prefetch { lines, phase: j };
                tile::<S, MR, NV, true, PF_TURNS, T, false, W>(b, k, k, j, p, m, n, ahead, pf);
            }
            (false, true, j) if j < lines => {
                // Line j only: its prefetches start there.
                let from = ahead.wrapping_add(j * 16);
                let pf = Prefetch::all(1);
                tile::<S, MR, NV, true, PF_ALL, T, false, W>(b, k, k, j, p, m, n, from, pf);
            }
            (false, false, 0) => {
                let pf = Prefetch::all(lines);
                tile::<S, MR, NV, true, PF_ALL, T, false, W>(b, k, k, j, p, m, n, ahead, pf);
            }
            _ => tile::<S, MR, NV, true, PF_NONE, T, false, W>(b, k, k, j, p, m, n, ahead, NO_PF),
        }
    }
}

/// How many of a run's last full tiles each compute `spread_each` of the `n % NR` leftover
/// pixels (`tile` with `T` = `spread_each`), or 0 where the leftovers run otherwise (fused
/// into the last tile, see `fuses`, or as tail tiles). With one pixel per tile, the tail's sum
/// fits in a free register; four on one tile left one sum on the stack, a load and a store per
/// input channel: a 14×14 image (4 · 48 + 4 pixels) ran at 90 % of peak against 96 % for
/// 12×16 (192 pixels, no tail; benches/README.md, note 45). Where two pixels share a vector
/// (`tail_per_vector`), each tile takes two: the 14×14 image's 4 in 2 tiles (note 54).
const fn spread_tail<S: Simd, const MR: usize, const NV: usize>(n: usize) -> usize {
    let nr = NV * S::LANES;
    let (full, rest) = (n / nr, n % nr);
    let each = spread_each::<S, MR>(rest);
    if fused_tail::<S, MR, NV>() > 0
        && rest > 1
        && rest <= fused_tail::<S, MR, NV>()
        && rest / each <= full
    {
        rest / each
    } else {
        0
    }
}

/// Leftover pixels each tile of a spread tail computes (`spread_tail`): as many as share a
/// vector of sums where that divides the `rest` leftovers, else one.
const fn spread_each<S: Simd, const MR: usize>(rest: usize) -> usize {
    let per = tail_per_vector::<S, MR>();
    if rest.is_multiple_of(per) {
        per
    } else {
        1
    }
}

/// What the full tile at pixel `p` prefetches: the address of the first pixel (in the block's
/// first channel; the same pixels follow in every channel) and the number of pixels.
/// The input channels of a block are separate streams H·W apart, too many for the hardware
/// prefetcher: while a tile computes, it prefetches the pixels of the tile after the next one
/// in every channel (the first tile also covers the next one), so later loads hit in cache
/// even when the input comes from memory. Near the end it prefetches the start of the next
/// block instead. Two tiles ahead measured better than one or four (benches/README.md).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
fn prefetch_target(b: &NchwBlock, p: usize, nr: usize) -> (*const f32, usize) {
    let (start, count) = if p == 0 {
        (nr, 2 * nr)
    } else {
        (p + 2 * nr, nr)
    };
    if start < b.n {
        (b.x.wrapping_add(start), count.min(b.n - start))
    } else {
        (b.x_next, b.n_next)
    }
}

/// Rows per 4 KiB offset from which a block runs panel by panel (see `panel_major`).
const PANEL_MAJOR_ROWS: usize = 16;

/// Whether a block of `rows` output channels, `y_cs` floats apart, runs panel by panel
/// (`panel_major_tiles`) instead of pixel tile by pixel tile.
///
/// Tile by tile, each pixel tile writes its pixels in every output row of the block before the
/// next tile starts. Rows a plane apart start at only `4096 / gcd(4096, plane bytes)` distinct
/// offsets within 4 KiB, i.e. in that many groups of L1 sets: 16 for 56×56 planes (12 544
/// bytes), 4 for 112×112, 64 for 28×28, 256 for 14×14. With many rows per offset, the lines a
/// tile writes crowd the sets that also hold the tile's inputs. Panel by panel, each panel
/// writes its MR rows as long runs instead, and the inputs come from L2. Measured (AVX-512,
/// inputs from L3): `64x256@56` +5 %, `32x256@56` +12 %, `16x96@112` (generic kernel) +40 %
/// at 16-24 rows per offset; at 12 (`64x192@56`) no change, and -8 % for the specialized
/// `16x96` kernel, whose blocks of 48 channels already bound the rows; `24x144@56` (9 rows
/// per offset), `256x128@56` (8) and the 28×28 layers (≤ 8) ran 2-6 % slower panel by panel
/// (benches/README.md, note 27).
fn panel_major(y_cs: usize, rows: usize) -> bool {
    let plane = (y_cs * 4) % 4096;
    let offsets = if plane == 0 {
        1
    } else {
        4096 >> plane.trailing_zeros().min(12)
    };
    rows >= PANEL_MAJOR_ROWS * offsets
}

/// An unstrided block panel by panel (see `panel_major`): every full pixel tile of panel 0,
/// then of panel 1, and so on; then the pixels after the last full tile, as in `pixel_tiles`
/// (fused into that tile, or as tail tiles). Panel 0 reads the inputs first (from L3 or
/// memory): it prefetches as `pixel_tiles` does (`prefetch_target`), all lines at once.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn panel_major_tiles<S: Simd, const MR: usize, const NV: usize>(b: &NchwBlock, k: usize) {
    let nr = NV * S::LANES;
    let mut full = b.n / nr * nr;
    let rest = b.n - full;
    // The last full tile computes the leftover pixels too where it can (see `fused_tail`);
    // it then runs after the panel loop, over every panel.
    let fused = full > 0 && fuses::<S, MR, NV>(nr, rest);
    if fused {
        full -= nr;
    }
    for j in 0..b.panels {
        let m = if j + 1 == b.panels { b.m_last } else { MR };
        let mut p = 0;
        while p < full {
            let (ahead, next) = if j == 0 {
                prefetch_target(b, p, nr)
            } else {
                (b.x, 0)
            };
            if next > 0 {
                let pf = Prefetch::all(next.div_ceil(16));
                tile::<S, MR, NV, true, PF_ALL, 0, false, false>(b, k, k, j, p, m, nr, ahead, pf);
            } else {
                tile::<S, MR, NV, true, PF_NONE, 0, false, false>(b, k, k, j, p, m, nr, b.x, NO_PF);
            }
            p += nr;
        }
    }
    if fused {
        fused_tiles::<S, MR, NV, false>(b, k, k, full, rest);
    } else if rest > 0 {
        tail_tiles::<S, MR, NV>(b, k, k, full, rest);
    }
}

/// The pixel tail (`n` < NR pixels) of every panel: a narrower tile (17 leftover pixels cost 2
/// vectors, not NV), or for very few pixels vectors along output channels.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn tail_tiles<S: Simd, const MR: usize, const NV: usize>(
    b: &NchwBlock,
    k: usize,
    k_stride: usize,
    p: usize,
    n: usize,
) {
    // Few pixels: vectors along the panels' output channels instead (see `channel_tile`),
    // when that takes fewer FMAs per input channel (n·⌈MR/LANES⌉ against MR).
    let vpm = MR.div_ceil(S::LANES);
    // A channel tile holds at most 16 sums: its pixel count NT (the bucket of n below: 1, 4
    // or 8) times vpm must fit, else the narrower pixel tile runs (as it does for n > 8, which
    // no kernel's MR reaches: one more bucket would only add build time).
    if S::LANES > 1 && n * vpm < MR && n <= 8 && n.next_power_of_two().max(4) * vpm <= 16 {
        let mut j = 0;
        while j < b.panels {
            j += match n {
                1 => channel_tile::<S, MR, 1>(b, k, k_stride, j, p, n),
                2..=4 => channel_tile::<S, MR, 4>(b, k, k_stride, j, p, n),
                _ => channel_tile::<S, MR, 8>(b, k, k_stride, j, p, n),
            };
        }
        return;
    }
    let none = std::ptr::null();
    for j in 0..b.panels {
        let m = if j + 1 == b.panels { b.m_last } else { MR };
        match n.div_ceil(S::LANES) {
            1 => tile::<S, MR, 1, false, PF_NONE, 0, false, false>(
                b, k, k_stride, j, p, m, n, none, NO_PF,
            ),
            2 => tile::<S, MR, 2, false, PF_NONE, 0, false, false>(
                b, k, k_stride, j, p, m, n, none, NO_PF,
            ),
            3 => tile::<S, MR, 3, false, PF_NONE, 0, false, false>(
                b, k, k_stride, j, p, m, n, none, NO_PF,
            ),
            _ => tile::<S, MR, NV, false, PF_NONE, 0, false, false>(
                b, k, k_stride, j, p, m, n, none, NO_PF,
            ),
        }
    }
}

/// Leftover pixels (fewer than a tile) that the last full tile of a run computes as well, at
/// most: one accumulator per pixel or per two (a vector along the panel's MR ≤ LANES output
/// channels, see `tail_per_vector`) and one weight vector beside the tile's MR·NV
/// accumulators and NV input vectors, within the ISA's registers, at most 4; none where
/// `S::FUSES_TAIL` is false or a panel is wider than a vector. Computed on their own, those
/// pixels read every weight of the block once more (from L2): a 7×7 image (48 + 1 pixels)
/// spent 15 % of its time on its 49th pixel, a 14×14 one (4 · 48 + 4) 6 % on its last 4
/// (benches/README.md, note 24). The budget assumes the tile's weight broadcasts take no
/// register; LLVM keeps two, so at 8 × 3 with 4 leftover pixels, one per vector, one sum
/// lived on the stack (a load and a store per input channel), which still measured faster
/// than the separate tail; in pairs (note 54) they take two vectors.
pub(crate) const fn fused_tail<S: Simd, const MR: usize, const NV: usize>() -> usize {
    let used = MR * NV + NV + 1;
    if !S::FUSES_TAIL || MR > S::LANES || used >= S::REGISTERS {
        0
    } else if S::REGISTERS - used > 4 {
        4
    } else {
        S::REGISTERS - used
    }
}

/// Fused tail pixels per vector of sums: two where the ISA pairs them (`Simd::TAIL_PAIRS`)
/// and a panel's MR channels fill at most half a vector, else one. Each pixel's sums are MR
/// lanes of a vector along output channels; with one pixel per vector, an 8 × 3 AVX-512 tile
/// with one tail pixel spends 25 FMAs per input channel on 24.5 FMAs' worth of sums. Two
/// pixels per vector take one FMA between them: a 14×14 image (4 · 48 + 4 pixels) then takes
/// 2 such tiles instead of 4 (`spread_tail`; benches/README.md, note 54).
const fn tail_per_vector<S: Simd, const MR: usize>() -> usize {
    if S::TAIL_PAIRS && 2 * MR <= S::LANES {
        2
    } else {
        1
    }
}

/// Whether a tile of `n` pixels followed by the run's last `rest` pixels computes them too.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
fn fuses<S: Simd, const MR: usize, const NV: usize>(n: usize, rest: usize) -> bool {
    // The constant test first: on other ISAs the tile variants with a tail are never used.
    let max = const { fused_tail::<S, MR, NV>() };
    max > 0 && n == NV * S::LANES && rest > 0 && rest <= max
}

/// Every panel's full tile at pixels `p..p + NR` together with the `rest` pixels after it
/// (`0 < rest ≤ fused_tail`), the last pixels of the run.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn fused_tiles<S: Simd, const MR: usize, const NV: usize, const W: bool>(
    b: &NchwBlock,
    k: usize,
    k_stride: usize,
    p: usize,
    rest: usize,
) {
    let nr = NV * S::LANES;
    let none = std::ptr::null();
    if rest == 1 && const { tail_per_vector::<S, MR>() == 2 } {
        // One tail pixel fills half a vector of sums: panels in pairs, the first tile of a
        // pair computing the pixel for both (`tile` with `NEXT`). Panel 0 stays alone: its
        // tile reads the block's input first (from L3 in a network), and with a second
        // weight stream it ran `576x160@7` and `960x160@7` 2 % slower (benches/README.md,
        // note 55).
        let mut j = 0;
        while j < b.panels {
            let m = if j + 1 == b.panels { b.m_last } else { MR };
            if j > 0 && j + 1 < b.panels {
                tile::<S, MR, NV, true, PF_NONE, 1, true, W>(
                    b, k, k_stride, j, p, m, nr, none, NO_PF,
                );
                let m = if j + 2 == b.panels { b.m_last } else { MR };
                tile::<S, MR, NV, true, PF_NONE, 0, false, W>(
                    b,
                    k,
                    k_stride,
                    j + 1,
                    p,
                    m,
                    nr,
                    none,
                    NO_PF,
                );
                j += 2;
            } else {
                tile::<S, MR, NV, true, PF_NONE, 1, false, W>(
                    b, k, k_stride, j, p, m, nr, none, NO_PF,
                );
                j += 1;
            }
        }
        return;
    }
    for j in 0..b.panels {
        let m = if j + 1 == b.panels { b.m_last } else { MR };
        match rest {
            1 => tile::<S, MR, NV, true, PF_NONE, 1, false, W>(
                b, k, k_stride, j, p, m, nr, none, NO_PF,
            ),
            2 => tile::<S, MR, NV, true, PF_NONE, 2, false, W>(
                b, k, k_stride, j, p, m, nr, none, NO_PF,
            ),
            3 if const { fused_tail::<S, MR, NV>() >= 3 } => {
                tile::<S, MR, NV, true, PF_NONE, 3, false, W>(
                    b, k, k_stride, j, p, m, nr, none, NO_PF,
                )
            }
            4 if const { fused_tail::<S, MR, NV>() >= 4 } => {
                tile::<S, MR, NV, true, PF_NONE, 4, false, W>(
                    b, k, k_stride, j, p, m, nr, none, NO_PF,
                )
            }
            _ => unreachable!("fused tail of {rest} pixels"),
        }
    }
}

/// Panels a channel tile of `NT` pixels computes at once: enough independent FMA chains to
/// cover the FMA latency (a 1-pixel tail of one panel is a single chain of k dependent FMAs,
/// 4 cycles each), at most 8 panels and 12 accumulators, and few enough that the accumulators,
/// the NT broadcast inputs and one weight vector fit in all but one of the ISA's registers. On
/// AVX2 (16 registers) 4 pixels of 3 panels did not: LLVM kept three sums on the stack and
/// the tail of a 14×14 image took 5 % of the time (benches/README.md, note 53); 2 panels fit.
const fn channel_group<S: Simd, const MR: usize, const NT: usize>() -> usize {
    let vpm = MR.div_ceil(S::LANES);
    let per_panel = NT * vpm;
    let mut g = 12 / per_panel;
    if g > 8 {
        g = 8;
    }
    while g > 1 && g * per_panel + NT + vpm > S::REGISTERS - 1 {
        g -= 1;
    }
    if g < 1 {
        1
    } else {
        g
    }
}

/// `n` capped at 16: callers never exceed it, the cap keeps instantiations that are never run
/// (the scalar ones) within `unroll!`'s limit.
const fn capped(n: usize) -> usize {
    if n > 16 {
        16
    } else {
        n
    }
}

/// A tail of `n` < MR pixels with vectors along output channels: per input channel, each
/// panel's MR packed weights as ⌈MR/LANES⌉ vectors times a broadcast of each pixel's input.
/// A 49-pixel image (48 + 1) then spends one FMA per input channel on its last pixel instead
/// of MR (one per broadcast weight on a vector with one valid lane). The sums of a pixel are
/// channel vectors, read and written a plane apart lane by lane; that costs once per k block,
/// not per input channel. `NT` ≥ n pixels are computed: pixels past `n` repeat the last one
/// (their reads stay in bounds) and are not stored. Panels `j0..` are computed together
/// (`channel_group`), so that their independent FMA chains overlap; past the block's last
/// panel the group repeats it (reads in bounds, nothing stored). Every element gets the same
/// FMA chain (same order, same operands) as in the pixel-vectorized tile, so results do not
/// depend on which tile an element falls in. Returns the number of panels done.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn channel_tile<S: Simd, const MR: usize, const NT: usize>(
    b: &NchwBlock,
    k: usize,
    k_stride: usize,
    j0: usize,
    p: usize,
    n: usize,
) -> usize {
    const {
        assert!(
            MR.div_ceil(S::LANES) <= 4,
            "channel_tile: at most 4 vectors per pixel"
        )
    };
    let lanes = S::LANES;
    let done = const { channel_group::<S, MR, NT>() }.min(b.panels - j0);
    // Valid channels of vector `v` among panel g's outputs.
    let valid = |g: usize, v: usize| {
        let m = if j0 + g + 1 == b.panels { b.m_last } else { MR };
        m.saturating_sub(v * lanes).min(lanes)
    };
    // SAFETY (all pointer arithmetic below): pixels p..p+n of the run exist (pixels past n
    // repeat pixel p+n−1); panels j0..j0+done exist (later group members repeat the last
    // one); channel rows below `valid` of each exist in the output and residual, and strided
    // accesses touch only those lanes; packed panels hold MR weights per input channel, and
    // the packed buffer has at least one vector of slack after its last row, so whole-vector
    // loads of a row stay in the allocation; the packed bias holds MR values per panel, and
    // masked loads read only those.
    let mut xs = [b.x; NT];
    unroll!(i in NT => {
        xs[i] = b.x.add(p + i.min(n - 1));
    });
    // 16 entries so that every index `unroll!` can form is in bounds (at most 12 are used).
    let mut ws = [b.w; 16];
    let mut ys = [b.y; 16];
    unroll!(g in channel_group::<S, MR, NT>() => {
        let j = j0 + g.min(done - 1);
        ws[g] = b.w.add(j * k_stride * MR);
        ys[g] = b.y.add(j * MR * b.y_cs + p);
    });
    // The group's sums, flat: sum `s` is panel g = s / (NT·vpm), pixel i = s / vpm mod NT,
    // vector v = s mod vpm (at most 16). Loops run over the flat index, unrolled: nesting
    // three unrolled loops would expand 16³ copies before dead-code removal.
    let vpm = const { MR.div_ceil(S::LANES) };
    let decode = |s: usize| (s / (NT * vpm), (s / vpm) % NT, s % vpm);
    let mut acc = [S::zero(); 16];
    if b.ep.load_c {
        unroll!(s in capped(channel_group::<S, MR, NT>() * NT * MR.div_ceil(S::LANES)) => {
            let (g, i, v) = decode(s);
            if g < done && i < n {
                let src = ys[g].add(i).wrapping_add(v * lanes * b.y_cs);
                acc[s] = S::load_strided(src, b.y_cs, valid(g, v));
            }
        });
    }
    for kk in 0..k {
        let mut xv = [S::zero(); NT];
        unroll!(i in NT => {
            xv[i] = S::splat(*xs[i].add(kk * b.x_cs));
        });
        // Weight vector v of panel g at `g·vpm + v`.
        let mut wv = [S::zero(); 16];
        // Whole vectors even where a panel ends within one: the lanes past it read the next
        // row (or the packed buffer's slack, see `pack_weights`) into sums never stored.
        unroll!(gv in capped(channel_group::<S, MR, NT>() * MR.div_ceil(S::LANES)) => {
            let (g, v) = (gv / vpm, gv % vpm);
            wv[gv] = S::load(ws[g].add(kk * MR + v * lanes));
        });
        unroll!(s in capped(channel_group::<S, MR, NT>() * NT * MR.div_ceil(S::LANES)) => {
            let (g, i, v) = decode(s);
            acc[s] = S::fma(xv[i], wv[g * vpm + v], acc[s]);
        });
    }
    let lo = S::splat(b.ep.lo);
    let hi = S::splat(b.ep.hi);
    unroll!(s in capped(channel_group::<S, MR, NT>() * NT * MR.div_ceil(S::LANES)) => {
        let (g, i, v) = decode(s);
        let count = if g < done && i < n { valid(g, v) } else { 0 };
        if count > 0 {
            let j = j0 + g;
            let mut a = acc[s];
            if b.ep.finish {
                if !b.bias.is_null() {
                    let bias = b.bias.add(j * MR + v * lanes);
                    a = S::add(a, S::load_masked(bias, S::mask(count)));
                }
                if !b.r.is_null() {
                    let src = b.r.add(j * MR * b.y_cs + p + i);
                    let src = src.wrapping_add(v * lanes * b.y_cs);
                    a = S::add(a, S::load_strided(src, b.y_cs, count));
                }
                if b.ep.clamp {
                    a = S::clamp(a, lo, hi);
                }
            }
            let dst = ys[g].add(i).wrapping_add(v * lanes * b.y_cs);
            S::store_strided(dst, b.y_cs, count, a);
        }
    });
    done
}

/// Strided (gathered) blocks, see [`NchwBlock::gather`]: for each pixel tile, copy its inputs
/// of every channel into a contiguous buffer once, then run every panel's tile from that
/// buffer as a stride-1 tile. Compared with strided loads in the tile itself this spends one
/// copy per tile instead of a load-and-permute per vector per panel, lets a tile cross output
/// rows (a 28-pixel output row no longer leaves lanes of a 32-pixel vector pair empty), and
/// keeps the tile's inputs in L1 across the panels.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
unsafe fn gathered_tiles<S: Simd, const MR: usize, const NV: usize>(b: &NchwBlock, k: usize) {
    #[repr(C, align(64))]
    struct Buffer([MaybeUninit<f32>; GATHER_FLOATS]);
    let nr = NV * S::LANES;
    let mut storage = Buffer([MaybeUninit::uninit(); GATHER_FLOATS]);
    let buf = storage.0.as_mut_ptr().cast::<f32>();
    // Floats per channel in the buffer: a tile and the pixels a last tile may fuse; channels
    // per slice of the buffer (plans size their k blocks to one slice).
    let row = gather_row(nr, S::LANES);
    let cap = (GATHER_FLOATS / row).max(1);
    let spread = spread_tail::<S, MR, NV>(b.n);
    let mut p = 0;
    let mut t = 0;
    while p < b.n {
        let n = nr.min(b.n - p);
        // Pixels after the tile that it computes too: one or two (spread over the last
        // tiles) or all of the few left.
        let rest = if spread > 0 {
            if t >= b.n / nr - spread {
                spread_each::<S, MR>(b.n % nr)
            } else {
                0
            }
        } else {
            b.n - p - n
        };
        let fuse = rest > 0 && (spread > 0 || fuses::<S, MR, NV>(n, rest));
        t += 1;
        // Pixels gathered: the tile's, and the fused ones after it.
        let ng = if fuse { n + rest } else { n };
        let mut k0 = 0;
        while k0 < k {
            let kk = cap.min(k - k0);
            gather_tile::<S>(b, k0, kk, p, ng, row, buf);
            // The tile as a stride-1 block over the buffer: input channel c of the slice at
            // `buf + c·row`, pixel `i` of the tile at lane `i`; outputs at the tile's pixels.
            // Slices after the first add to the sums stored by the previous one; only the last
            // applies the epilogue.
            let mut ep = b.ep;
            ep.load_c = b.ep.load_c || k0 > 0;
            ep.finish = b.ep.finish && k0 + kk == k;
            let sub = NchwBlock {
                k: kk,
                w: b.w.add(k0 * MR),
                x: buf,
                x_cs: row,
                x_ps: 1,
                n: ng,
                y: b.y.add(p),
                r: if b.r.is_null() { b.r } else { b.r.add(p) },
                gather: false,
                ep,
                ..*b
            };
            if fuse {
                fused_tiles::<S, MR, NV, true>(&sub, kk, k, 0, rest);
            } else if n == nr {
                for j in 0..b.panels {
                    let m = if j + 1 == b.panels { b.m_last } else { MR };
                    tile::<S, MR, NV, true, PF_NONE, 0, false, true>(
                        &sub, kk, k, j, 0, m, n, buf, NO_PF,
                    );
                }
            } else {
                tail_tiles::<S, MR, NV>(&sub, kk, k, 0, n);
            }
            k0 += kk;
        }
        p += ng;
    }
}

/// Copies input channels `k0..k0 + kk` of the block's output pixels `p..p + n` into `buf`:
/// channel `c` at `buf + c·row`, pixel `i` at lane `i`. Pixels are copied in row segments
/// (consecutive output pixels of one output row are equally spaced in the input), a vector
/// at a time.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn gather_tile<S: Simd>(
    b: &NchwBlock,
    k0: usize,
    kk: usize,
    p: usize,
    n: usize,
    row: usize,
    buf: *mut f32,
) {
    let map = b.map;
    let lanes = S::LANES;
    let mut i = 0;
    while i < n {
        let q = b.p0 + p + i;
        let len = (map.wout - q % map.wout).min(n - i);
        // SAFETY: output pixels q..q+len exist (the block's), so their inputs exist in every
        // channel of the block; `buf` holds kk·row floats (kk ≤ GATHER_FLOATS / row).
        let segment = b.x.add(k0 * b.x_cs + map.input_pixel(q));
        let mut c = 0;
        while c < len {
            let count = lanes.min(len - c);
            let src = segment.add(c * map.sw);
            let dst = buf.add(i + c);
            // One loop per case, each a run of independent loads a plane apart (written out:
            // the compiler does not split a loop with the cases inside). Whole vectors load
            // without masks, and stores go without one where the vector ends inside the
            // channel's row: its lanes past `count` (zeros) are overwritten by a later segment
            // or lie past the tile's pixels. AVX2's masked loads and stores (VMASKMOVPS) are
            // several micro-ops each on AMD cores (benches/README.md, note 64).
            let mask = S::mask(count);
            let store_mask = (i + c + lanes > row).then_some(mask);
            let cs = b.x_cs;
            match (map.sw, count == lanes) {
                (1, true) => copy_rows::<S>(kk, src, cs, dst, row, None, |s| S::load(s)),
                (1, false) => copy_rows::<S>(kk, src, cs, dst, row, store_mask, |s| {
                    S::load_masked(s, mask)
                }),
                (2, true) => {
                    copy_rows::<S>(kk, src, cs, dst, row, None, |s| S::load_stride2_whole(s))
                }
                (2, false) => copy_rows::<S>(kk, src, cs, dst, row, store_mask, |s| {
                    S::load_stride2(s, count)
                }),
                (sw, _) => copy_rows::<S>(kk, src, cs, dst, row, store_mask, |s| {
                    S::load_strided(s, sw, count)
                }),
            }
            c += count;
        }
        i += len;
    }
}

/// `load(src + ch·src_cs)` to `dst + ch·dst_cs` for `kk` channels, stored under `mask` if
/// there is one.
#[inline(always)]
unsafe fn copy_rows<S: Simd>(
    kk: usize,
    src: *const f32,
    src_cs: usize,
    dst: *mut f32,
    dst_cs: usize,
    mask: Option<S::M>,
    load: impl Fn(*const f32) -> S::V,
) {
    match mask {
        Some(m) => {
            for ch in 0..kk {
                S::store_masked(dst.add(ch * dst_cs), m, load(src.add(ch * src_cs)));
            }
        }
        None => {
            for ch in 0..kk {
                S::store(dst.add(ch * dst_cs), load(src.add(ch * src_cs)));
            }
        }
    }
}

/// What a prefetching tile prefetches per input channel, of the `lines` cache lines from its
/// `ahead` address: all of them (`PF_ALL`), or line `(phase + kk) % ROTATION` of input channel
/// kk when that is below `lines` (`PF_TURNS`), so that panels 0 to ROTATION − 1, with phases 0
/// to ROTATION − 1, prefetch every line of every channel once between them.
#[derive(Clone, Copy)]
struct Prefetch {
    lines: usize,
    phase: usize,
}

impl Prefetch {
    const fn all(lines: usize) -> Prefetch {
        Prefetch { lines, phase: 0 }
    }
}

/// No prefetch (for tiles whose `PF` is `PF_NONE`).
const NO_PF: Prefetch = Prefetch::all(0);

/// A tile's prefetch code (its `PF`), chosen at compile time so that each kind of k loop
/// carries only its own: none, every line, or lines in turn (see `Prefetch`).
const PF_NONE: u8 = 0;
const PF_ALL: u8 = 1;
const PF_TURNS: u8 = 2;

/// Panels that take turns at a tile's prefetches (`PF_TURNS`): at least the most
/// lines a tile prefetches (6 on AVX-512), a power of two so that the turn wraps with a mask.
/// 16 measured the same within ±2 % (note 38).
const ROTATION: usize = 8;

/// How far ahead of its k step a weight-streaming tile (`W`) prefetches the packed weights, in
/// floats: 4 KiB, 128 k steps of an AVX-512 panel (about 1600 cycles). A tile reads its panel's
/// weights a k step (MR floats, half a line on AVX-512) at a time; consecutive panels of a
/// block follow one another, so the prefetches run on into the next panel's weights, which the
/// same pixel tile reads next. In a block's first pixel tile those weights come from L3, or
/// from memory as in a whole network (ResNet-50's weights take about 100 MB), and the hardware
/// prefetchers did not keep up with a stream that slow: with every call's weights from memory
/// (`compare/run.sh --cold-weights`), in an hour when memory was slow, the 7×7 layers ran
/// 1.44-1.50× and the 14×14 ones 1.13-1.21× faster with a prefetch 2 KiB ahead in every tile;
/// 4 KiB ran 1-4 % faster than 2 KiB, 8 and 16 KiB no faster. This form (a block's first tile,
/// 4 KiB) measured 1.01-1.02 with cold weights once memory was fast again, and 0.99-1.02 with
/// the weights cached (benches/README.md, note 50).
const WEIGHTS_AHEAD: usize = 1024;

/// The most cache lines per channel a tile prefetches: two tiles' pixels (`prefetch_target`).
const fn max_lines<S: Simd, const NV: usize>() -> usize {
    (2 * NV * S::LANES).div_ceil(16)
}

/// One MR × NV-vector tile: panel `j` (`m` valid channels), pixels `p..p+n` of the run.
/// `FULL`: all NV vectors are whole (no masks). `PF`: also prefetch, as `pf` says, from the
/// `pf.lines` cache lines at `ahead` (same channel as the block's first) in every input
/// channel (`PF_ALL`: all of them; `PF_TURNS`: one in turn with the other panels). `k` input
/// channels are summed; panels of the packed weights are `k_stride` channels long (more than
/// `k` for a slice of a gathered block). `T` > 0: also the `T` pixels after the tile's `n`
/// (see `fused_tail`) as vectors along the panel's channels, one pixel per vector or two
/// (`tail_per_vector`), summed from one load of the weights the tile broadcasts; every
/// element gets the same FMA chain and epilogue as in the pixel-vectorized tile, so the
/// result does not depend on which tile computes it. `NEXT` (with `T` = 1, two pixels per
/// vector): the tail pixel of panel j + 1 too, in the upper half (see `fused_tiles`).
/// `W`: also prefetch the weights `WEIGHTS_AHEAD` floats ahead, once per cache line (the
/// tiles that stream them: a block's first pixel tile, every gathered tile).
/// Every loop over the tile is `unroll!`ed so the accumulators stay in registers (see
/// `unroll.rs`).
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<
    S: Simd,
    const MR: usize,
    const NV: usize,
    const FULL: bool,
    const PF: u8,
    const T: usize,
    const NEXT: bool,
    const W: bool,
>(
    b: &NchwBlock,
    k: usize,
    k_stride: usize,
    j: usize,
    p: usize,
    m: usize,
    n: usize,
    ahead: *const f32,
    pf: Prefetch,
) {
    // A panel of fewer than MR valid rows (the last one, where MR does not divide Cout) sums
    // only as many rows as it needs, rounded up to 2 or 4, where the ISA does that
    // (`Simd::SHORT_PANELS`): with MR = 6 (AVX2) and Cout a multiple of 16 the last panel has
    // 2 or 4 rows, and summing all 6 spent 3 % of the FMAs of a layer with 64 or 128 output
    // channels on padding (benches/README.md, note 61).
    if const { S::SHORT_PANELS } && T == 0 && !NEXT && m < MR {
        match m {
            1 | 2 if MR > 2 => {
                return tile_rows::<S, MR, 2, NV, FULL, PF, T, NEXT, W>(
                    b, k, k_stride, j, p, m, n, ahead, pf,
                );
            }
            3 | 4 if MR > 4 => {
                return tile_rows::<S, MR, 4, NV, FULL, PF, T, NEXT, W>(
                    b, k, k_stride, j, p, m, n, ahead, pf,
                );
            }
            _ => {}
        }
    }
    tile_rows::<S, MR, MR, NV, FULL, PF, T, NEXT, W>(b, k, k_stride, j, p, m, n, ahead, pf)
}

/// The tile of `tile` summing its first R ≤ MR rows (`m` ≤ R valid): the panel's packed
/// weights stay MR per input channel.
#[cfg_attr(not(conv1x1_unoptimized), inline(always))]
#[cfg_attr(conv1x1_unoptimized, inline(never))]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_rows<
    S: Simd,
    const MR: usize,
    const R: usize,
    const NV: usize,
    const FULL: bool,
    const PF: u8,
    const T: usize,
    const NEXT: bool,
    const W: bool,
>(
    b: &NchwBlock,
    k: usize,
    k_stride: usize,
    j: usize,
    p: usize,
    m: usize,
    n: usize,
    ahead: *const f32,
    pf: Prefetch,
) {
    // Callers fuse a tail only where `fused_tail` allows one (a const assert would also fire
    // for the instantiations other ISAs never run).
    debug_assert!(T == 0 || T <= fused_tail::<S, MR, NV>());
    let lines = pf.lines;
    debug_assert!(PF == PF_NONE || (1..=max_lines::<S, NV>()).contains(&lines));
    debug_assert!(PF != PF_TURNS || (lines <= ROTATION && pf.phase < ROTATION));
    debug_assert!(R <= MR && m <= R && (R == MR || (T == 0 && !NEXT)));
    let lanes = S::LANES;
    let mut masks = [S::mask(0); NV];
    unroll!(v in NV => {
        masks[v] = S::mask(n.saturating_sub(v * lanes).min(lanes));
    });
    // SAFETY (all pointer arithmetic below): channel rows i < m of panel j exist in the output
    // and residual; pixel lanes within masks[v] are pixels of this run; packed panels hold MR
    // weights per input channel for every kk < k, and a whole-vector load of a row (the fused
    // tail's) reads at most the next row or the packed buffer's slack (`pack_weights`). A
    // tail tile may have vectors with no valid lane (a 5-pixel tail in an 8-vector scalar
    // tile): their addresses can lie past the end of the caller's buffer, so per-vector
    // offsets use `wrapping_add` (forming such an address with `add` is undefined behaviour
    // even unread) and masked accesses never touch them. Fused tail pixels n..n+T exist (the
    // run's last ones), with rows below m; with `NEXT`, panel j + 1 exists, with rows below
    // `m_next` and MR weights per input channel.
    let y = b.y.add(j * MR * b.y_cs + p);
    let mut acc = [[S::zero(); NV]; R];
    // The tail's sums, as entries e < `entries`: pixel t = e in vector t / PER, in its lower
    // or upper half when two pixels share one (`tail_per_vector`; an odd last pixel's
    // partner repeats it and is never stored); with `NEXT`, pixel 0 of panel j (lower half)
    // and of panel j + 1 (upper half), see `fused_tiles`. Entry e: (vector, upper half, panel
    // offset, pixel).
    let per = const { tail_per_vector::<S, MR>() };
    debug_assert!(!NEXT || (T == 1 && per == 2 && j + 1 < b.panels));
    let entries = if NEXT { 2 } else { T };
    let entry = |e: usize| {
        if NEXT {
            (0, e == 1, e, 0)
        } else {
            (e / per, e % per == 1, 0, e)
        }
    };
    let m_next = if j + 2 == b.panels { b.m_last } else { MR };
    let rows = |dj: usize| if dj == 0 { m } else { m_next };
    let mut tail = [S::zero(); T];
    if T > 0 && b.ep.load_c {
        unroll!(e in 2 * T => {
            if e < entries {
                let (u, upper, dj, t) = entry(e);
                let src = y.add(dj * MR * b.y_cs + n + t);
                let sums = S::load_strided(src, b.y_cs, rows(dj));
                tail[u] = if upper { S::join_low_halves(tail[u], sums) } else { sums };
            }
        });
    }
    if b.ep.load_c {
        unroll!(i in R => {
            if i < m {
                unroll!(v in NV => {
                    let src = y.wrapping_add(i * b.y_cs + v * lanes);
                    acc[i][v] = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
                });
            }
        });
    }
    if !b.ep.load_c {
        // The first k block writes output lines that may not be in any cache (a fresh output
        // buffer, or a batch larger than L2): fetch them for writing now, so the stores after
        // the k loop find them (measured: see benches/README.md).
        unroll!(i in R => {
            if i < m {
                unroll!(v in NV => {
                    S::prefetch_write(y.wrapping_add(i * b.y_cs + v * lanes));
                });
            }
        });
    }
    // The k loop walks the input, weight and prefetch rows by pointer. Indexing them with
    // `kk * x_cs` made LLVM recompute the products, reloading operands from the stack in the
    // prefetching tiles, and turn the line loop into a general unrolled loop: about a dozen
    // extra instructions per k step (benches/README.md, note 35). The last increments point
    // past the block, so they use `wrapping_add`; those addresses are never read.
    let mut xk = b.x.add(p);
    let mut wk = b.w.add(j * k_stride * MR);
    let mut ahead_k = ahead;
    let mut turn = pf.phase;
    for _ in 0..k {
        if PF == PF_TURNS {
            if turn < lines {
                S::prefetch(ahead_k.wrapping_add(turn * 16));
            }
            turn = (turn + 1) % ROTATION;
        } else if PF == PF_ALL {
            // `lines` is at least 1 here and at most two tiles' pixels (`prefetch_target`).
            unroll!(line in max_lines::<S, NV>() => {
                if line == 0 || line < lines {
                    S::prefetch(ahead_k.wrapping_add(line * 16));
                }
            });
        }
        if PF != PF_NONE {
            ahead_k = ahead_k.wrapping_add(b.x_cs);
        }
        // Once per line: of the steps MR floats apart, one per 64 bytes starts in its first
        // MR floats.
        if W && (wk as usize) % 64 < MR * 4 {
            S::prefetch(wk.wrapping_add(WEIGHTS_AHEAD));
            if NEXT {
                // This tile reads panel j + 1's weights now, ahead of the stream the prefetch
                // above runs on: fetch panel j + 3's rows too (j + 2's come from the next tile).
                S::prefetch(wk.wrapping_add(3 * k_stride * MR));
            }
        }
        let mut xv = [S::zero(); NV];
        unroll!(v in NV => {
            let src = xk.wrapping_add(v * lanes);
            xv[v] = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
        });
        unroll!(i in R => {
            let wi = S::splat(*wk.add(i));
            unroll!(v in NV => {
                acc[i][v] = S::fma(wi, xv[v], acc[i][v]);
            });
        });
        if NEXT {
            // Panel j's MR weights and panel j + 1's, in the two halves, times the tail pixel.
            let next = wk.add(k_stride * MR);
            let wv = S::join_low_halves(S::load_low(wk, MR), S::load_low(next, MR));
            tail[0] = S::fma(S::splat(*xk.add(n)), wv, tail[0]);
        } else if T > 0 && per == 2 {
            // The same MR weights in both halves of a vector, times two tail pixels.
            let wv = S::load_low_twice(wk, MR);
            unroll!(u in T => {
                if 2 * u < T {
                    let partner = (2 * u + 1).min(T - 1);
                    let xv = S::splat_halves(*xk.add(n + 2 * u), *xk.add(n + partner));
                    tail[u] = S::fma(xv, wv, tail[u]);
                }
            });
        } else if T > 0 {
            // The same MR weights as one vector, times each tail pixel; a whole-vector load
            // (the lanes past MR read the next row, or the packed buffer's slack, into sums
            // never stored): AVX2's masked loads ran at half rate (note 53).
            let wv = S::load(wk);
            unroll!(t in T => {
                tail[t] = S::fma(S::splat(*xk.add(n + t)), wv, tail[t]);
            });
        }
        xk = xk.wrapping_add(b.x_cs);
        wk = wk.wrapping_add(MR);
    }
    // Each epilogue test is once per tile, not once per vector (several taken branches each
    // cost thin layers a tenth or more of their time; benches/README.md, note 20). Rows past
    // `m` are output channels that do not exist: only their residual loads and stores skip
    // them.
    if b.ep.finish {
        if !b.bias.is_null() {
            unroll!(i in R => {
                // The packed bias is zero padded to MR channels per panel.
                let bias = S::splat(*b.bias.add(j * MR + i));
                unroll!(v in NV => {
                    acc[i][v] = S::add(acc[i][v], bias);
                });
            });
        }
        if !b.r.is_null() {
            let res = b.r.wrapping_add(j * MR * b.y_cs + p);
            unroll!(i in R => {
                if i < m {
                    unroll!(v in NV => {
                        let src = res.wrapping_add(i * b.y_cs + v * lanes);
                        let r = if FULL { S::load(src) } else { S::load_masked(src, masks[v]) };
                        acc[i][v] = S::add(acc[i][v], r);
                    });
                }
            });
        }
        if b.ep.clamp {
            let (lo, hi) = (S::splat(b.ep.lo), S::splat(b.ep.hi));
            unroll!(i in R => {
                unroll!(v in NV => {
                    acc[i][v] = S::clamp(acc[i][v], lo, hi);
                });
            });
        }
    }
    unroll!(i in R => {
        if i < m {
            unroll!(v in NV => {
                let dst = y.wrapping_add(i * b.y_cs + v * lanes);
                if FULL {
                    S::store(dst, acc[i][v]);
                } else {
                    S::store_masked(dst, masks[v], acc[i][v]);
                }
            });
        }
    });
    if T > 0 {
        // The tail's epilogue: the tile's operations in the tile's order, on channel vectors.
        unroll!(e in 2 * T => {
            if e < entries {
                let (u, upper, dj, t) = entry(e);
                let m = rows(dj);
                let mut a = if upper { S::upper_half(tail[u]) } else { tail[u] };
                if b.ep.finish {
                    if !b.bias.is_null() {
                        a = S::add(a, S::load_masked(b.bias.add((j + dj) * MR), S::mask(m)));
                    }
                    if !b.r.is_null() {
                        let src = b.r.add((j + dj) * MR * b.y_cs + p + n + t);
                        a = S::add(a, S::load_strided(src, b.y_cs, m));
                    }
                    if b.ep.clamp {
                        a = S::clamp(a, S::splat(b.ep.lo), S::splat(b.ep.hi));
                    }
                }
                S::store_strided(y.add(dj * MR * b.y_cs + n + t), b.y_cs, m, a);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::panel_major;

    #[test]
    fn panel_major_counts_rows_per_4k_offset() {
        // 56×56 planes (12 544 bytes): 16 offsets, so from 256 rows.
        assert!(!panel_major(56 * 56, 255));
        assert!(panel_major(56 * 56, 256));
        // 112×112 (50 176 bytes): 4 offsets.
        assert!(!panel_major(112 * 112, 63));
        assert!(panel_major(112 * 112, 96));
        // 28×28 (3136 bytes): 64 offsets; 14×14 (784): 256; 7×7 (196): 1024.
        assert!(!panel_major(28 * 28, 512));
        assert!(!panel_major(14 * 14, 2048));
        assert!(!panel_major(7 * 7, 2048));
        // Planes of whole pages: every row at the same offset.
        assert!(!panel_major(1024, 15));
        assert!(panel_major(1024, 16));
        assert!(panel_major(4096, 16));
    }
}
