//! NEON (Advanced SIMD): 32 q registers of 4 f32 lanes. Part of the aarch64 base architecture,
//! so these kernels run on every aarch64 CPU.

mod ops;
pub(crate) mod peak;
#[cfg(test)]
mod tests;

use crate::kernel::nchw_cv::{nchw_cv_block, CvBlock, CV_FLOATS};
use crate::kernel::nchw_tile::{fused_tail, nchw_block};
use crate::kernel::nhwc_tile::nhwc_block;
use crate::kernel::{Entry, KernelInfo, NchwBlock, NhwcBlock};
use crate::spec::{Isa, Layout};
pub(crate) use ops::Neon;

/// f32 lanes per q register.
pub(crate) const LANES: usize = 4;

/// Generic NCHW tile: 8 output channels × 3 q of pixels (12) = 24 accumulators, plus 3 pixel
/// vectors and a broadcast weight: 28 of 32 registers, leaving room for address arithmetic
/// spills never to touch the accumulators. 8 divides every channel count of ResNet and
/// MobileNet, so no panel is padded there.
const NCHW_MR: usize = 8;
const NCHW_NV: usize = 3;
/// Generic NHWC tile: 8 pixels × 3 q of output channels (12) = 24 accumulators, plus 3 weight
/// vectors and a broadcast input value: the same register budget as NCHW.
const NHWC_MR: usize = 8;
const NHWC_NV: usize = 3;

/// Cache blocking: 256 input channels × 12 pixels of f32 input is 12 KiB, well inside a 32 KiB
/// or larger L1D next to the 8 KiB weight panel (256 × 8); 256 output channels of packed
/// weights per k block (256 KiB) sit in L2; 480 pixels (40 NCHW tiles) per pixel block.
const KC: usize = 256;
/// NHWC: up to 512 input channels per block, in equal blocks (one pass over the output per 512
/// channels measured up to 15 % faster than per 256 on x86; the NHWC weight panel of 512
/// channels, 24 KiB, still fits L1 beside the tile's inputs). The x86 kernels take 1024, which
/// has not been measured on an aarch64 core.
const NHWC_KC: usize = 512;
const MC: usize = 256;
const NC: usize = 480;

pub(crate) static NCHW: KernelInfo = KernelInfo {
    name: "f32_nchw_8x12__neon",
    isa: Isa::Neon,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NCHW_MR,
    nr: NCHW_NV * LANES,
    lanes: LANES,
    kc: KC,
    mc: MC,
    nc: NC,
    fused_tail: fused_tail::<Neon, NCHW_MR, NCHW_NV>(),
    entry: Entry::Nchw(nchw_generic),
};

pub(crate) static NHWC: KernelInfo = KernelInfo {
    name: "f32_nhwc_8x12__neon",
    isa: Isa::Neon,
    layout: Layout::Nhwc,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    kc: NHWC_KC,
    mc: MC,
    nc: NC,
    fused_tail: 0,
    entry: Entry::Nhwc(nhwc_generic),
};

/// NCHW vectorized along output channels (`nchw_cv.rs`): the NHWC tile, broadcasting from the
/// input planes. Runs only when named.
pub(crate) static NCHW_CV: KernelInfo = KernelInfo {
    name: "f32_nchw_cv_8x12__neon",
    isa: Isa::Neon,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: NHWC_MR,
    nr: NHWC_NV * LANES,
    lanes: LANES,
    kc: NHWC_KC,
    mc: MC,
    nc: CV_FLOATS / (NHWC_NV * LANES),
    fused_tail: 0,
    entry: Entry::NchwCv(nchw_cv_generic),
};

/// # Safety
/// The CPU must support NEON; `b` must describe buffers as documented on [`NchwBlock`].
#[target_feature(enable = "neon")]
unsafe fn nchw_generic(b: &NchwBlock) {
    nchw_block::<Neon, NCHW_MR, NCHW_NV>(b, b.k)
}

/// # Safety
/// The CPU must support NEON; `b` must describe buffers as documented on [`NhwcBlock`].
#[target_feature(enable = "neon")]
unsafe fn nhwc_generic(b: &NhwcBlock) {
    nhwc_block::<Neon, NHWC_MR, NHWC_NV>(b, b.k)
}

/// # Safety
/// The CPU must support NEON; `b` must describe buffers as documented on [`CvBlock`].
#[target_feature(enable = "neon")]
unsafe fn nchw_cv_generic(b: &CvBlock) {
    nchw_cv_block::<Neon, NHWC_MR, NHWC_NV>(b)
}
