//! AVX-512F: 32 zmm registers of 16 f32 lanes, mask registers for every tail.

mod ops;
pub(crate) mod peak;

use crate::kernel::nchw_cv::{nchw_cv_block, CvBlock, CV_FLOATS};
use crate::kernel::nchw_tile::{fused_tail, nchw_block};
use crate::kernel::nhwc_tile::nhwc_block;
use crate::kernel::{Entry, KernelInfo, NchwBlock, NhwcBlock};
use crate::spec::{Isa, Layout};
pub(crate) use ops::Avx512;

/// f32 lanes per zmm register.
pub(crate) const LANES: usize = 16;

/// Generic NCHW tile: 8 output channels × 3 zmm of pixels (48) = 24 accumulators, plus 3
/// pixel vectors and a broadcast: 28 of 32 registers. 8 divides every channel count of ResNet
/// and MobileNet, so no panel is padded there. k blocks of up to 256 channels (equal blocks,
/// see `Plan`): a tile's inputs (256 × 48 pixels, 48 KiB) fill this Zen 5's L1. Against
/// blocks of 128, layers with Cin 160-256 run as one block, without the partial sums' round
/// trip: 1.02-1.04; the 7×7 layers 1.01-1.02; Cin 384-576 on 14×14 and 28×28 0.99 (notes 9
/// and 47 of benches/README.md: 128 measured 2–8 % faster on an earlier Intel host).
const NCHW_MR: usize = 8;
const NCHW_NV: usize = 3;
/// Generic NHWC tile: 6 pixels × 4 zmm of output channels (64) = 24 accumulators.
const NHWC_MR: usize = 6;
const NHWC_NV: usize = 4;

pub(crate) static NCHW: KernelInfo = KernelInfo {
    name: "f32_nchw_8x48__avx512",
    isa: Isa::Avx512,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NCHW_MR,
    nr: NCHW_NV * LANES,
    lanes: LANES,
    kc: 256,
    mc: 512,
    nc: 480,
    fused_tail: fused_tail::<Avx512, NCHW_MR, NCHW_NV>(),
    entry: Entry::Nchw(nchw_generic),
};

pub(crate) static NHWC: KernelInfo = KernelInfo {
    name: "f32_nhwc_6x64__avx512",
    isa: Isa::Avx512,
    layout: Layout::Nhwc,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    // Up to 1024 input channels per block (equal blocks, see `Plan`): one pass over the output
    // per 1024 channels. The tile's inputs (6 pixels × 1024 channels, 24 KiB) stay in L1 and
    // the panel streams from L2; 512 measured up to 7 % slower on Cin 576-1024, 256 up to 15 %
    // on Cin 384-512, 2048 7 % slower on `2048x512@7` (benches/README.md, notes 25 and 29).
    kc: 1024,
    mc: 512,
    nc: 480,
    fused_tail: 0,
    entry: Entry::Nhwc(nhwc_generic),
};

/// NCHW vectorized along output channels (`nchw_cv.rs`): the NHWC tile, 6 pixels × 4 zmm of
/// output channels (64), broadcasting from the input planes. Blocks of up to 128 pixels (the
/// sums buffer holds 64 channels of each). Dispatch runs unstrided layers of 1024 or more
/// input channels on it (`registry::channel_vectors`).
pub(crate) static NCHW_CV: KernelInfo = KernelInfo {
    name: "f32_nchw_cv_6x64__avx512",
    isa: Isa::Avx512,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    kc: 1024,
    mc: 512,
    nc: CV_FLOATS / (NHWC_NV * LANES),
    fused_tail: 0,
    entry: Entry::NchwCv(nchw_cv_generic),
};

/// # Safety
/// The CPU must support AVX-512F; `b` must describe buffers as documented on [`NchwBlock`].
#[target_feature(enable = "avx512f")]
unsafe fn nchw_generic(b: &NchwBlock) {
    nchw_block::<Avx512, NCHW_MR, NCHW_NV>(b, b.k)
}

/// # Safety
/// The CPU must support AVX-512F; `b` must describe buffers as documented on [`NhwcBlock`].
#[target_feature(enable = "avx512f")]
unsafe fn nhwc_generic(b: &NhwcBlock) {
    nhwc_block::<Avx512, NHWC_MR, NHWC_NV>(b, b.k)
}

/// # Safety
/// The CPU must support AVX-512F; `b` must describe buffers as documented on [`CvBlock`].
#[target_feature(enable = "avx512f")]
unsafe fn nchw_cv_generic(b: &CvBlock) {
    nchw_cv_block::<Avx512, NHWC_MR, NHWC_NV>(b)
}
