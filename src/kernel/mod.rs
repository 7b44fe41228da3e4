//! The contract between the ISA-independent driver (`crate::plan::exec`) and the
//! per-ISA block kernels, plus the kernel registry.
//!
//! A *block kernel* computes, for one range of output pixels and one range of output-channel
//! panels, the contribution of one block of `k` input channels. It loops over register tiles
//! itself (so that a specialized kernel can see its constant sizes across the whole loop nest)
//! and calls an `#[inline(always)]` microkernel that keeps an MR × NR tile of sums in registers
//! for the whole `k` loop.
//!
//! Conventions, in both layouts: MR is the broadcast side of the tile and NR the vector side.
//! * NCHW: MR output channels (broadcast from packed weights) × NR pixels (vector loads from
//!   the caller's input planes).
//! * NHWC: MR pixels (broadcast from the caller's input pixels) × NR output channels (vector
//!   loads from packed weights).

pub(crate) mod nchw_cv;
pub(crate) mod nchw_tile;
pub(crate) mod nhwc_tile;
pub(crate) mod registry;
pub(crate) mod simd;
pub(crate) mod unroll;

pub use registry::{kernels, KernelInfo};

/// What to do around the sums of one block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Epilogue {
    /// Start from the values already in the output (a later block of input channels) instead of 0.
    pub load_c: bool,
    /// Apply bias, residual and activation and store the final values (the last block).
    pub finish: bool,
    /// Whether to clamp to `[lo, hi]` when finishing. NaN passes through unchanged.
    pub clamp: bool,
    pub lo: f32,
    pub hi: f32,
}

/// One NCHW block: `panels` panels of MR output channels × `n` consecutive output pixels
/// (unstrided: consecutive input pixels too; strided: see `gather`).
///
/// Every pointer is valid for exactly the elements this description implies and no more:
/// the kernel must not read input pixels past `n` (masked or narrower loads in tails).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NchwBlock {
    /// Input channels in this block.
    pub k: usize,
    /// Packed weights of the first panel: `[k][MR]`; panel `j` starts at `w + j·k·MR`.
    /// At least one vector of readable slack follows the packed buffer's last row.
    pub w: *const f32,
    /// Packed bias of the first panel (MR per panel, zero padded), or null.
    pub bias: *const f32,
    /// Number of panels.
    pub panels: usize,
    /// Valid output channels in the last panel (1..=MR); earlier panels are full.
    pub m_last: usize,
    /// Input at the block's first channel and the run's first pixel.
    pub x: *const f32,
    /// Elements between consecutive input channels (H·W).
    pub x_cs: usize,
    /// The horizontal stride: 1 for blocks that are not gathered. Specialized kernels check
    /// it against their constant stride.
    pub x_ps: usize,
    /// Pixels in the run.
    pub n: usize,
    /// Output at the first panel's first channel and the run's first pixel.
    pub y: *mut f32,
    /// Elements between consecutive output channels (Hout·Wout).
    pub y_cs: usize,
    /// Residual, same indexing as `y`, or null.
    pub r: *const f32,
    /// Where the next block's input starts (same channel), to prefetch during this block's last
    /// pixel tile; only used as a prefetch hint (may be null or out of bounds).
    pub x_next: *const f32,
    /// Pixels of the next block to prefetch (0: none).
    pub n_next: usize,
    /// Gathered block (strided convolutions): the pixels are output pixels `p0..p0 + n` of the
    /// image in `map`'s flat order, possibly spanning output rows, and `x` points at the
    /// block's first input channel at pixel 0 of the image. The kernel copies each pixel
    /// tile's inputs into a contiguous buffer once and runs every panel from it (see
    /// `nchw_tile::gathered_tiles`).
    pub gather: bool,
    /// Output-to-input pixel map of a gathered block.
    pub map: PixelMap,
    /// First output pixel of a gathered block.
    pub p0: usize,
    pub ep: Epilogue,
}

/// Floats in the per-call buffer of a gathered NCHW block: one pixel tile (`gather_row`
/// floats) of every input channel of the block. 32 KiB: with the packed weights of a panel it
/// stays in L1 while every output-channel panel reads it. Plans cap a gathered kernel's k
/// block at `GATHER_FLOATS / gather_row` channels; a longer block is still correct (run
/// in slices).
pub(crate) const GATHER_FLOATS: usize = 8192;

/// Floats per input channel in the gather buffer for tiles of `nr` pixels of `lanes`-wide
/// vectors: the tile's and up to 4 pixels a run's last tile computes with it
/// (`nchw_tile::fused_tail`), rounded up to whole vectors. Every channel's row then starts on a
/// vector boundary of the 64-byte aligned buffer, so no vector load of the tile straddles two
/// cache lines: strided AVX-512 NCHW layers +1–7 % (rows of 52 floats put three channels in
/// four across lines; benches/README.md, note 37).
pub(crate) const fn gather_row(nr: usize, lanes: usize) -> usize {
    (nr + 4).next_multiple_of(lanes)
}

/// Maps a flat output pixel index of one image to its input pixel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PixelMap {
    /// Output width.
    pub wout: usize,
    /// Input width.
    pub w: usize,
    pub sh: usize,
    pub sw: usize,
}

impl PixelMap {
    /// Input pixel index (row-major over H×W) of output pixel `p`.
    #[inline(always)]
    pub fn input_pixel(&self, p: usize) -> usize {
        if self.sh == 1 && self.sw == 1 {
            p
        } else {
            let oh = p / self.wout;
            let ow = p - oh * self.wout;
            oh * self.sh * self.w + ow * self.sw
        }
    }
}

/// One NHWC block: `panels` panels of NR output channels × output pixels `p0..p1` of one
/// image, channels contiguous in input and output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NhwcBlock {
    /// Input channels in this block.
    pub k: usize,
    /// Packed weights of the first panel: `[k][NR]`; panel `j` starts at `w + j·k·NR`. The last
    /// panel is `[k][round_up(n_last, lanes)]`, zero padded.
    pub w: *const f32,
    /// Packed bias of the first panel (zero padded), or null.
    pub bias: *const f32,
    pub panels: usize,
    /// Valid output channels in the last panel (1..=NR).
    pub n_last: usize,
    /// The last panel is k-paired (`pack.rs`): `[k/2][n_last][2]`, then `[n_last]` for odd
    /// `k`, unpadded, bias unpadded too. Only on ISAs with `Simd::K_PAIRS`.
    pub kpair: bool,
    /// Input image at the block's first channel; pixel `q` starts at `x + q·x_ps`.
    pub x: *const f32,
    /// Elements between consecutive input pixels (Cin).
    pub x_ps: usize,
    pub map: PixelMap,
    /// First and one-past-last output pixel (flat index within the image).
    pub p0: usize,
    pub p1: usize,
    /// Output image at the first panel's first channel; pixel `p` starts at `y + p·y_ps`.
    pub y: *mut f32,
    /// Elements between consecutive output pixels (Cout).
    pub y_ps: usize,
    /// Residual, same indexing as `y`, or null.
    pub r: *const f32,
    pub ep: Epilogue,
}

/// A block kernel's entry point, by the axis it vectorizes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry {
    /// Vectors along pixels, broadcasts of packed weights ([`NchwBlock`]; NCHW only).
    Nchw(unsafe fn(&NchwBlock)),
    /// Vectors along output channels, broadcasts of input values ([`NhwcBlock`]; NHWC only).
    Nhwc(unsafe fn(&NhwcBlock)),
    /// Vectors along output channels on NCHW data ([`nchw_cv::CvBlock`]; NCHW only).
    NchwCv(unsafe fn(&nchw_cv::CvBlock)),
}
