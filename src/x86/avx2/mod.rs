//! AVX2 + FMA: 16 ymm registers of 8 f32 lanes; tails use maskload / maskstore.

mod ops;
pub(crate) mod peak;

use crate::kernel::nchw_cv::{nchw_cv_block, CvBlock, CV_FLOATS};
use crate::kernel::nchw_tile::{fused_tail, nchw_block};
use crate::kernel::nhwc_tile::nhwc_block;
use crate::kernel::{Entry, KernelInfo, NchwBlock, NhwcBlock};
use crate::spec::{Isa, Layout};
pub(crate) use ops::Avx2;

/// f32 lanes per ymm register.
pub(crate) const LANES: usize = 8;

/// Generic NCHW tile: 6 output channels × 2 ymm of pixels (16) = 12 accumulators, plus 2
/// pixel vectors and a broadcast: 15 of 16 registers.
const NCHW_MR: usize = 6;
const NCHW_NV: usize = 2;
/// Generic NHWC tile: 6 pixels × 2 ymm of output channels (16) = 12 accumulators.
const NHWC_MR: usize = 6;
const NHWC_NV: usize = 2;

pub(crate) static NCHW: KernelInfo = KernelInfo {
    name: "f32_nchw_6x16__avx2",
    isa: Isa::Avx2,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NCHW_MR,
    nr: NCHW_NV * LANES,
    lanes: LANES,
    // A tile's input (16 pixels of each channel of the block) stays in L1 across the panels:
    // at 256 channels a 7×7 image's rows (planes of 196 bytes) straddle lines and take 32 KiB,
    // and with the next tile's prefetched lines overflow L1 (benches/README.md, note 65).
    kc: 128,
    mc: 384,
    nc: 480,
    fused_tail: fused_tail::<Avx2, NCHW_MR, NCHW_NV>(),
    entry: Entry::Nchw(nchw_generic),
};

pub(crate) static NHWC: KernelInfo = KernelInfo {
    name: "f32_nhwc_6x16__avx2",
    isa: Isa::Avx2,
    layout: Layout::Nhwc,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    // Up to 1024 input channels per block (equal blocks, see `Plan`): one pass over the output
    // per 1024 channels; 512 measured 2-4 % slower on Cin 576 and the same (±1 %) on Cin
    // 960-2048, 256 up to 15 % slower on Cin 384-512 (benches/README.md, notes 25 and 29).
    kc: 1024,
    mc: 384,
    nc: 480,
    fused_tail: 0,
    entry: Entry::Nhwc(nhwc_generic),
};

/// NCHW vectorized along output channels (`nchw_cv.rs`): the NHWC tile, broadcasting from the
/// input planes. Runs only when named: on the 7×7 and 14×14 layers it measured 0.93–0.97× the
/// pixel kernel, one new input line per 12 FMAs (benches/README.md, note 52).
pub(crate) static NCHW_CV: KernelInfo = KernelInfo {
    name: "f32_nchw_cv_6x16__avx2",
    isa: Isa::Avx2,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    kc: 1024,
    mc: 384,
    nc: CV_FLOATS / (NHWC_NV * LANES),
    fused_tail: 0,
    entry: Entry::NchwCv(nchw_cv_generic),
};

/// # Safety
/// The CPU must support AVX2 and FMA; `b` must describe buffers as documented on [`NchwBlock`].
#[target_feature(enable = "avx2,fma")]
unsafe fn nchw_generic(b: &NchwBlock) {
    nchw_block::<Avx2, NCHW_MR, NCHW_NV>(b, b.k)
}

/// # Safety
/// The CPU must support AVX2 and FMA; `b` must describe buffers as documented on [`NhwcBlock`].
#[target_feature(enable = "avx2,fma")]
unsafe fn nhwc_generic(b: &NhwcBlock) {
    nhwc_block::<Avx2, NHWC_MR, NHWC_NV>(b, b.k)
}

/// # Safety
/// The CPU must support AVX2 and FMA; `b` must describe buffers as documented on [`CvBlock`].
#[target_feature(enable = "avx2,fma")]
unsafe fn nchw_cv_generic(b: &CvBlock) {
    nchw_cv_block::<Avx2, NHWC_MR, NHWC_NV>(b)
}
