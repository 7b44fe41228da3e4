//! The portable path: plain Rust, no explicit SIMD, runs on every target. Also the fallback
//! the dispatcher picks on x86-64 CPUs without AVX2+FMA.

mod ops;
pub(crate) mod peak;

use crate::kernel::nchw_cv::{nchw_cv_block, CvBlock, CV_FLOATS};
use crate::kernel::nchw_tile::{fused_tail, nchw_block};
use crate::kernel::nhwc_tile::nhwc_block;
use crate::kernel::{Entry, KernelInfo, NchwBlock, NhwcBlock};
use crate::spec::{Isa, Layout};
pub(crate) use ops::Scalar;

/// NCHW tile: 4 output channels × 8 pixels; NHWC tile: 4 pixels × 8 output channels.
/// 32 sums is as many as general-purpose targets keep in registers.
const MR: usize = 4;
const NV: usize = 8;

pub(crate) static NCHW: KernelInfo = KernelInfo {
    name: "f32_nchw_4x8__scalar",
    isa: Isa::Scalar,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: MR,
    nr: NV,
    lanes: 1,
    kc: 256,
    mc: 256,
    nc: 1024,
    fused_tail: fused_tail::<Scalar, MR, NV>(),
    entry: Entry::Nchw(nchw_generic),
};

pub(crate) static NHWC: KernelInfo = KernelInfo {
    name: "f32_nhwc_4x8__scalar",
    isa: Isa::Scalar,
    layout: Layout::Nhwc,
    cin: None,
    cout: None,
    mr: MR,
    nr: NV,
    lanes: 1,
    kc: 256,
    mc: 256,
    nc: 1024,
    fused_tail: 0,
    entry: Entry::Nhwc(nhwc_generic),
};

/// NCHW vectorized along output channels (`nchw_cv.rs`): the NHWC tile, broadcasting from the
/// input planes. Runs only when named.
pub(crate) static NCHW_CV: KernelInfo = KernelInfo {
    name: "f32_nchw_cv_4x8__scalar",
    isa: Isa::Scalar,
    layout: Layout::Nchw,
    cin: None,
    cout: None,
    mr: MR,
    nr: NV,
    lanes: 1,
    kc: 256,
    mc: 256,
    nc: CV_FLOATS / NV,
    fused_tail: 0,
    entry: Entry::NchwCv(nchw_cv_generic),
};

/// # Safety
/// `b` must describe buffers as documented on [`NchwBlock`].
unsafe fn nchw_generic(b: &NchwBlock) {
    nchw_block::<Scalar, MR, NV>(b, b.k)
}

/// # Safety
/// `b` must describe buffers as documented on [`NhwcBlock`].
unsafe fn nhwc_generic(b: &NhwcBlock) {
    nhwc_block::<Scalar, MR, NV>(b, b.k)
}

/// # Safety
/// `b` must describe buffers as documented on [`CvBlock`].
unsafe fn nchw_cv_generic(b: &CvBlock) {
    nchw_cv_block::<Scalar, MR, NV>(b)
}
