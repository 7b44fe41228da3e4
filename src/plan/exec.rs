//! The ISA-independent driver: walks images, input-channel blocks, pixel blocks and
//! output-channel blocks of one region and hands each block to the plan's block kernel.
//!
//! Every element of the output is always produced by the same sequence of operations (the
//! same k blocks in the same order, the same FMA chain per lane) whatever region it falls in,
//! so splitting a convolution into work items never changes a bit of the result.

use std::ptr;

use super::split::Region;
use super::validate::Geometry;
use super::Plan;
use crate::kernel::{Entry, Epilogue, NchwBlock, NhwcBlock, PixelMap};
use crate::spec::Layout;

/// Raw views of the caller's buffers, already checked against the geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buffers {
    pub x: *const f32,
    pub y: *mut f32,
    /// Null when the plan has no residual.
    pub r: *const f32,
}

/// Runs the part of the convolution in `region`.
///
/// # Safety
/// `bufs` must point to buffers of `geo.input_len` / `geo.output_len` elements (residual:
/// output-sized, or null), checked by `validate`; no other thread may write the outputs of
/// `region` meanwhile.
pub(crate) unsafe fn run_region(plan: &Plan, geo: &Geometry, bufs: Buffers, region: Region) {
    let g = plan.pixel_grain();
    let upi = geo.pout.div_ceil(g);
    if region.unit0 >= region.unit1 || region.panel0 >= region.panel1 {
        return;
    }
    let first = region.unit0 / upi;
    let last = (region.unit1 - 1) / upi;
    for n in first..=last {
        let u0 = region.unit0.max(n * upi) - n * upi;
        let u1 = region.unit1.min((n + 1) * upi) - n * upi;
        let p0 = u0 * g;
        let p1 = (u1 * g).min(geo.pout);
        match plan.kernel.entry {
            Entry::Nchw(f) => nchw_image(plan, geo, bufs, n, p0, p1, region, f),
            Entry::Nhwc(f) => nhwc_image(plan, geo, bufs, n, p0, p1, region, f),
        }
    }
}

fn epilogue(plan: &Plan, k0: usize, k: usize) -> Epilogue {
    let (clamp, lo, hi) = match plan.spec.activation.bounds() {
        Some((lo, hi)) => (true, lo, hi),
        None => (false, 0.0, 0.0),
    };
    Epilogue {
        load_c: k0 > 0,
        finish: k0 + k == plan.spec.cin,
        clamp,
        lo,
        hi,
    }
}

/// Input-channel blocks `(k0, k)` of the plan's kernel.
fn k_blocks(cin: usize, kc: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..cin).step_by(kc).map(move |k0| (k0, kc.min(cin - k0)))
}

#[allow(clippy::too_many_arguments)]
unsafe fn nchw_image(
    plan: &Plan,
    geo: &Geometry,
    bufs: Buffers,
    n: usize,
    p0: usize,
    p1: usize,
    region: Region,
    kernel: unsafe fn(&NchwBlock),
) {
    let spec = &plan.spec;
    let info = plan.kernel;
    let mr = info.mr;
    let panels = plan.panels;
    let x_img = bufs.x.add(n * spec.cin * geo.pin);
    let y_img = bufs.y.add(n * spec.cout * geo.pout);
    let r_img = if bufs.r.is_null() {
        ptr::null()
    } else {
        bufs.r.add(n * spec.cout * geo.pout)
    };
    let map = pixel_map(plan, geo);
    let gather = plan.gathers();
    let panels_per_block = (info.mc / mr).max(1);
    for (k0, k) in k_blocks(spec.cin, plan.kc) {
        let ep = epilogue(plan, k0, k);
        let w_block = plan.packed.as_ptr().add(k0 * panels.padded());
        for q0 in (p0..p1).step_by(info.nc) {
            let q1 = (q0 + info.nc).min(p1);
            for pc in (region.panel0..region.panel1).step_by(panels_per_block) {
                let pe = (pc + panels_per_block).min(region.panel1);
                let m_last = if pe == panels.count {
                    panels.last_valid
                } else {
                    mr
                };
                // One block over the whole pixel chunk. Strided convolutions gather (tiles may
                // cross output rows; the kernel copies each tile's inputs once): `x` is then
                // the image at the block's first channel, else its first pixel too.
                let out_off = pc * mr * geo.pout + q0;
                let x_chan = x_img.add(k0 * geo.pin);
                // Prefetch hint for the block after this one: the next pixel chunk.
                let next = (q1 + info.nr).min(p1) - q1;
                kernel(&NchwBlock {
                    k,
                    w: w_block.add(pc * k * mr),
                    bias: match (&plan.bias, ep.finish) {
                        (Some(b), true) => b.as_ptr().add(pc * mr),
                        _ => ptr::null(),
                    },
                    panels: pe - pc,
                    m_last,
                    x: if gather { x_chan } else { x_chan.add(q0) },
                    x_cs: geo.pin,
                    x_ps: map.sw,
                    n: q1 - q0,
                    y: y_img.add(out_off),
                    y_cs: geo.pout,
                    r: if r_img.is_null() || !ep.finish {
                        ptr::null()
                    } else {
                        r_img.add(out_off)
                    },
                    x_next: if gather {
                        ptr::null()
                    } else {
                        x_chan.wrapping_add(q1)
                    },
                    n_next: if gather { 0 } else { next },
                    gather,
                    map,
                    p0: q0,
                    ep,
                });
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn nhwc_image(
    plan: &Plan,
    geo: &Geometry,
    bufs: Buffers,
    n: usize,
    p0: usize,
    p1: usize,
    region: Region,
    kernel: unsafe fn(&NhwcBlock),
) {
    let spec = &plan.spec;
    let info = plan.kernel;
    let nr = info.nr;
    let panels = plan.panels;
    let x_img = bufs.x.add(n * spec.cin * geo.pin);
    let y_img = bufs.y.add(n * spec.cout * geo.pout);
    let r_img = if bufs.r.is_null() {
        ptr::null()
    } else {
        bufs.r.add(n * spec.cout * geo.pout)
    };
    let map = pixel_map(plan, geo);
    let panels_per_block = (info.mc / nr).max(1);
    // Element strides (pixel, channel) of input and output: NHWC keeps channels contiguous;
    // an NCHW plan on this kernel reads and writes its channels a plane apart.
    let ((x_ps, x_cs), (y_ps, y_cs)) = match spec.layout {
        Layout::Nhwc => ((spec.cin, 1), (spec.cout, 1)),
        Layout::Nchw => ((1, geo.pin), (1, geo.pout)),
    };
    for (k0, k) in k_blocks(spec.cin, plan.kc) {
        let ep = epilogue(plan, k0, k);
        let w_block = plan.packed.as_ptr().add(k0 * panels.padded());
        for q0 in (p0..p1).step_by(info.nc) {
            let q1 = (q0 + info.nc).min(p1);
            for pc in (region.panel0..region.panel1).step_by(panels_per_block) {
                let pe = (pc + panels_per_block).min(region.panel1);
                let n_last = if pe == panels.count {
                    panels.last_valid
                } else {
                    nr
                };
                let block = NhwcBlock {
                    k,
                    w: w_block.add(pc * k * nr),
                    bias: match (&plan.bias, ep.finish) {
                        (Some(b), true) => b.as_ptr().add(pc * nr),
                        _ => ptr::null(),
                    },
                    panels: pe - pc,
                    n_last,
                    kpair: panels.kpair && pe == panels.count,
                    x: x_img.add(k0 * x_cs),
                    x_ps,
                    x_cs,
                    map,
                    p0: q0,
                    p1: q1,
                    y: y_img.add(pc * nr * y_cs),
                    y_ps,
                    y_cs,
                    r: if r_img.is_null() || !ep.finish {
                        ptr::null()
                    } else {
                        r_img.add(pc * nr * y_cs)
                    },
                    ep,
                };
                kernel(&block);
            }
        }
    }
}

fn pixel_map(plan: &Plan, geo: &Geometry) -> PixelMap {
    PixelMap {
        wout: geo.wout,
        w: geo.w,
        sh: plan.spec.stride_h,
        sw: plan.spec.stride_w,
    }
}
