//! The vector primitives a block kernel needs, one implementation per ISA (in that ISA's
//! folder). The microkernels in `nchw_tile.rs` / `nhwc_tile.rs` are written once against this
//! trait and instantiated inside each ISA's `#[target_feature]` entry points, where every
//! `#[inline(always)]` primitive compiles to the ISA's instructions.
//!
//! Tails: `mask(valid)` describes the lanes below `valid`; masked loads must not touch memory
//! of lanes at or past `valid` (that is what keeps every kernel inside the caller's buffers),
//! and masked stores must write only those lanes.

/// One ISA's f32 vector operations.
pub(crate) trait Simd {
    /// f32 lanes per vector.
    const LANES: usize;
    /// Vector registers the ISA has (what a tile's sums and operands must fit in).
    const REGISTERS: usize;
    /// A vector of `LANES` f32.
    type V: Copy;
    /// Which lanes of a tail vector are valid.
    type M: Copy;

    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: f32) -> Self::V;
    /// The lanes below `valid` (`valid ≤ LANES`).
    unsafe fn mask(valid: usize) -> Self::M;
    /// All lanes, unaligned.
    unsafe fn load(p: *const f32) -> Self::V;
    unsafe fn store(p: *mut f32, v: Self::V);
    /// Lanes below the mask's count from `p`, zero elsewhere; reads nothing past them.
    unsafe fn load_masked(p: *const f32, m: Self::M) -> Self::V;
    /// Writes only the mask's lanes.
    unsafe fn store_masked(p: *mut f32, m: Self::M, v: Self::V);
    /// Lanes below `count` (a constant where it is called) from `p`, zero elsewhere, like
    /// `load_masked(p, mask(count))`; an ISA may load a half vector without a mask instead.
    #[inline(always)]
    unsafe fn load_low(p: *const f32, count: usize) -> Self::V {
        Self::load_masked(p, Self::mask(count))
    }
    /// Lanes `l < valid` from `p + 2l`, zero elsewhere; reads nothing past `p + 2(valid − 1)`.
    unsafe fn load_stride2(p: *const f32, valid: usize) -> Self::V;
    /// `load_stride2(p, LANES)`, for ISAs where a whole vector has a cheaper way.
    #[inline(always)]
    unsafe fn load_stride2_whole(p: *const f32) -> Self::V {
        Self::load_stride2(p, Self::LANES)
    }
    /// `a · b + c` (fused where the ISA has FMA).
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `min(max(v, lo), hi)`, NaN lanes stay NaN.
    unsafe fn clamp(v: Self::V, lo: Self::V, hi: Self::V) -> Self::V;

    /// Whether the ISA implements the four k-pair operations below, which the k-paired tiles
    /// of `nhwc_tile.rs` use: a thin last panel (Cout = 24 on AVX-512, 1.5 vectors) then holds
    /// each output channel's sums of even and odd input channels side by side, 2 lanes per
    /// channel, in whole vectors. Only called when true.
    const K_PAIRS: bool = false;
    /// `[p[0], p[1], p[0], p[1], …]`: two consecutive values, repeated.
    #[inline(always)]
    unsafe fn splat_pair(_p: *const f32) -> Self::V {
        unreachable!("splat_pair without K_PAIRS")
    }
    /// `x` in the even lanes, zero in the odd ones.
    #[inline(always)]
    unsafe fn splat_even(_x: f32) -> Self::V {
        unreachable!("splat_even without K_PAIRS")
    }
    /// Lane `2l` from `p + l` (l < LANES / 2), zero in the odd lanes; reads `p[..LANES / 2]`
    /// only.
    #[inline(always)]
    unsafe fn load_even(_p: *const f32) -> Self::V {
        unreachable!("load_even without K_PAIRS")
    }
    /// Lane `l < LANES / 2`: `a[2l] + a[2l + 1]`; lane `LANES / 2 + l`: `b[2l] + b[2l + 1]`.
    #[inline(always)]
    unsafe fn sum_pairs(_a: Self::V, _b: Self::V) -> Self::V {
        unreachable!("sum_pairs without K_PAIRS")
    }
    /// Runs `nhwc_tile::kpair_panel::<Self>` (the k-paired last panel `j` of `b`, `n`
    /// channels) from this ISA's `#[target_feature]` function, compiled once per ISA.
    ///
    /// # Safety
    /// The CPU must support the ISA; `b` as for `nhwc_tile::kpair_panel`.
    #[inline(always)]
    unsafe fn kpair_panel(
        _b: &crate::kernel::NhwcBlock,
        _nr: usize,
        _k: usize,
        _j: usize,
        _n: usize,
    ) {
        unreachable!("kpair_panel without K_PAIRS")
    }

    /// Whether the last full NCHW pixel tile of a run also computes the run's last few pixels
    /// (`nchw_tile::fused_tail`, as many as the registers left beside the tile hold). AVX-512
    /// (32 registers): up to 4. AVX2: one, its sums in the one register the 6 × 16 tile leaves
    /// (12 sums, 2 input vectors, a weight broadcast) and its weights the FMA's memory operand;
    /// 7×7 layers ran 1.01–1.03× faster than with the pixel as a separate tail (note 56).
    const FUSES_TAIL: bool = false;

    /// Whether an NCHW panel of fewer than MR output channels sums only its rows (2 or 4,
    /// `nchw_tile::tile`) instead of all MR over zero padding. AVX2 (MR = 6, so a Cout that is
    /// a multiple of 16 leaves 2 or 4): `512x128@28` and `256x64@56` 2–3 points faster (note
    /// 61). Off elsewhere: the ISAs with MR = 8 have no such panel in the suites, and the
    /// portable kernels, built with the extra tiles, ran their panel-by-panel and gathered
    /// NCHW blocks at half speed.
    const SHORT_PANELS: bool = false;

    /// Whether fused tail pixels share vectors two at a time (`nchw_tile::tail_per_vector`):
    /// with a panel half a vector wide (AVX-512, MR = 8), one FMA then serves two pixels' sums.
    /// The ISA implements the four operations below; they are only called when true.
    const TAIL_PAIRS: bool = false;
    /// `lo` in the lower half of the lanes, `hi` in the upper half.
    #[inline(always)]
    unsafe fn splat_halves(_lo: f32, _hi: f32) -> Self::V {
        unreachable!("splat_halves without TAIL_PAIRS")
    }
    /// `p[..count]` (`count ≤ LANES / 2`, a constant where it is called) at the start of both
    /// halves, zero in their other lanes; reads `p[..count]` only.
    #[inline(always)]
    unsafe fn load_low_twice(_p: *const f32, _count: usize) -> Self::V {
        unreachable!("load_low_twice without TAIL_PAIRS")
    }
    /// The lower half of `lo`, then the lower half of `hi`.
    #[inline(always)]
    unsafe fn join_low_halves(_lo: Self::V, _hi: Self::V) -> Self::V {
        unreachable!("join_low_halves without TAIL_PAIRS")
    }
    /// The upper half of `v` in the lower half (the upper half unspecified).
    #[inline(always)]
    unsafe fn upper_half(_v: Self::V) -> Self::V {
        unreachable!("upper_half without TAIL_PAIRS")
    }

    /// Whether NHWC runs end in tiles of one pixel fewer instead of a tail tile
    /// (`nhwc_tile::short_tiles`). Measured, call by call: AVX-512 7×7 layers 1.02–1.05×,
    /// 14×14 1.01×; AVX2 7×7 layers 0.97–0.98× (benches/README.md, note 49).
    const SHORT_TILES: bool = false;

    /// Hints that the cache line holding `p` will be read soon (into L2). Never faults, so
    /// `p` may point anywhere; callers form it with `wrapping_add`. Default: no hint.
    #[inline(always)]
    unsafe fn prefetch(_p: *const f32) {}

    /// Hints that the cache line holding `p` will be written soon (fetch it into L1), so that
    /// stores to output lines that are not in cache do not wait for them. Never faults; `p`
    /// may point anywhere. Default: no hint.
    #[inline(always)]
    unsafe fn prefetch_write(_p: *mut f32) {}

    /// Lanes `l < valid` from `p + l·stride`, zero elsewhere (any stride; used for stride ≥ 3).
    #[inline(always)]
    unsafe fn load_strided(p: *const f32, stride: usize, valid: usize) -> Self::V {
        let mut lanes = [0.0f32; 64];
        for (l, v) in lanes.iter_mut().enumerate().take(valid) {
            *v = *p.add(l * stride);
        }
        Self::load(lanes.as_ptr())
    }

    /// Transposes a square of LANES × LANES floats: row `i` at `src + i·stride` for `i < rows`
    /// (`rows ≤ LANES`; later rows are not read, their lanes are unspecified). Calls `f(l, c)`
    /// for every `l < LANES` with `c` the square's column `l`: lane `i` holds `src[i·stride +
    /// l]`. Default: one strided load per column; ISAs with shuffles do it in registers.
    #[inline(always)]
    unsafe fn transpose(
        src: *const f32,
        stride: usize,
        rows: usize,
        mut f: impl FnMut(usize, Self::V),
    ) {
        for l in 0..Self::LANES {
            f(l, Self::load_strided(src.add(l), stride, rows));
        }
    }

    /// Writes lanes `l < valid` to `p + l·stride` (channel vectors of NCHW outputs).
    #[inline(always)]
    unsafe fn store_strided(p: *mut f32, stride: usize, valid: usize, v: Self::V) {
        let mut lanes = [0.0f32; 64];
        Self::store(lanes.as_mut_ptr(), v);
        for (l, x) in lanes.iter().enumerate().take(valid) {
            *p.add(l * stride) = *x;
        }
    }
}
