//! The ISA-independent driver: walks images, (NCHW) pixel spans, input-channel blocks, pixel
//! blocks and output-channel blocks of one region and hands each block to the plan's block
//! kernel.
//!
//! Every element of the output is always produced by the same sequence of operations (the
//! same k blocks in the same order, the same FMA chain per lane) whatever region it falls in,
//! so splitting a convolution into work items never changes a bit of the result.

use std::ptr;

use super::split::Region;
use super::validate::Geometry;
use super::Plan;
use crate::kernel::nchw_cv::CvBlock;
use crate::kernel::{Entry, Epilogue, NchwBlock, NhwcBlock, PixelMap};

/// Raw views of the caller's buffers, already checked against the geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buffers {
    pub x: *const f32,
    pub y: *mut f32,
    /// Null when the plan has no residual.
    pub r: *const f32,
}

impl Buffers {
    /// The same buffers from image `n` of the batch on (residual still null if it was).
    ///
    /// # Safety
    /// `n` is an image of `geo`'s batch and the buffers are as `run_region` requires.
    unsafe fn image(self, plan: &Plan, geo: &Geometry, n: usize) -> Buffers {
        let (cin, cout) = (plan.spec.cin, plan.spec.cout);
        Buffers {
            x: self.x.add(n * cin * geo.pin),
            y: self.y.add(n * cout * geo.pout),
            r: if self.r.is_null() {
                ptr::null()
            } else {
                self.r.add(n * cout * geo.pout)
            },
        }
    }
}

/// Runs the part of the convolution in `region`.
///
/// # Safety
/// `bufs` must point to buffers of `geo.input_len` / `geo.output_len` elements (residual:
/// output-sized, or null), checked by `validate`; no other thread may write the outputs of
/// `region` meanwhile.
pub(crate) unsafe fn run_region(plan: &Plan, geo: &Geometry, bufs: Buffers, region: Region) {
    let g = region.grain;
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
            Entry::Nchw(f) => {
                for (s0, s1) in nchw_spans(plan, &region, p0, p1, plan.pixel_grain()) {
                    nchw_image(plan, geo, bufs, n, s0, s1, region, f);
                }
            }
            Entry::Nhwc(f) => nhwc_image(plan, geo, bufs, n, p0, p1, region, f),
            Entry::NchwCv(f) => nchw_cv_image(plan, geo, bufs, n, p0, p1, region, f),
        }
    }
}

/// At most this many bytes of one k block's inputs and of the output sums per NCHW pixel span
/// (see `nchw_spans`): chosen as a quarter of the 2 MiB L2 per core of the Intel host it was
/// tuned on, leaving room for the block's weights and for the lines prefetched ahead; half of
/// the 1 MiB L2 of the AMD Zen 5 core the tables were measured on, where spans of up to 2 MiB
/// measured no faster (benches/README.md, notes 31 and 49).
const NCHW_SPAN_BYTES: usize = 512 << 10;

/// The pixel spans of an NCHW image's pixels `p0..p1` (in `region`), each run through every
/// k block before the next span starts.
///
/// Every k block after the first adds to the sums the previous one stored. Over a whole image
/// those sums and a block's inputs can outgrow L2 (`256x128@56`: 1.5 MiB of inputs per block
/// of 128 channels, 1.5 MiB of sums), and the next block then reads the sums back from L3.
/// Spans of at most `NCHW_SPAN_BYTES` keep them in L2: `256x128@56` +6-8 %, `256x64@56`,
/// `512x256@28` and `256x512@56s2` +3-6 %, `1024x256@14` (one span) unchanged
/// (benches/README.md, note 31). Spans hold equal numbers of whole pixel units (`grain`);
/// results do not depend on where spans fall, as every element gets the same FMA chain in any
/// tile (`nchw_tile::tile`). The pixels after the last whole unit (fewer than one) belong to
/// the last span, where the last full tile computes them too (`nchw_tile::fused_tail`): as a
/// span of their own they cost a pass over every weight of the block for a pixel or a few,
/// which ran `512x2048@7` (48 + 1 pixels, 2048 output rows) at 74 % of peak instead of 95 %
/// (note 40). Where the kernel's tiles compute that many (`KernelInfo::fused_tail`), they are
/// spread over the spans instead, so that each span's tiles take one each
/// (`nchw_tile::spread_tail`): a 14×14 image in two spans ran its last 4 pixels on one tile
/// whose fourth sum lived on the stack (note 45).
/// With one k block there are no sums to keep, and the image runs as one span.
fn nchw_spans(
    plan: &Plan,
    region: &Region,
    p0: usize,
    p1: usize,
    grain: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let rows = (region.panel1 - region.panel0) * plan.kernel.mr;
    let bytes_per_pixel = (plan.spec.cin > plan.kc).then_some(4 * (plan.kc + rows));
    spans(p0, p1, grain, bytes_per_pixel, plan.kernel.fused_tail)
}

/// `p0..p1` in spans of equal whole `grain` units of at most `NCHW_SPAN_BYTES` at
/// `bytes_per_pixel` (at least one unit each; `None`: one span), the pixels after the last
/// whole unit with the last span, or, if there are at most `fused` of them, spread over the
/// spans as evenly as they go (see `nchw_spans`).
fn spans(
    p0: usize,
    p1: usize,
    grain: usize,
    bytes_per_pixel: Option<usize>,
    fused: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let n = p1 - p0;
    let whole = n / grain;
    let step = match bytes_per_pixel {
        Some(bytes) if whole > 1 => {
            let max_units = (NCHW_SPAN_BYTES / bytes / grain).max(1);
            whole.div_ceil(whole.div_ceil(max_units)) * grain
        }
        _ => n,
    };
    let count = match n {
        0 => 0,
        _ if step >= n => 1,
        _ => (whole * grain).div_ceil(step),
    };
    let rest = n - whole * grain;
    let spread = if rest <= fused { rest } else { 0 };
    // Span i starts after i steps and the spread pixels of the spans before it.
    let start = move |i: usize| p0 + i * step + i * spread / count.max(1);
    (0..count).map(move |i| {
        let end = if i + 1 == count { p1 } else { start(i + 1) };
        (start(i), end)
    })
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
    let Buffers {
        x: x_img,
        y: y_img,
        r: r_img,
    } = bufs.image(plan, geo, n);
    let map = pixel_map(plan, geo);
    let gather = plan.gathers();
    // A gathering kernel copies each tile's inputs once per block, so strided convolutions
    // run all their panels in one block: blocks of `mc` channels would repeat the gather,
    // from L3 for the first (benches/README.md note 41).
    let panels_per_block = if gather {
        (region.panel1 - region.panel0).max(1)
    } else {
        (info.mc / mr).max(1)
    };
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
    let Buffers {
        x: x_img,
        y: y_img,
        r: r_img,
    } = bufs.image(plan, geo, n);
    let map = pixel_map(plan, geo);
    let panels_per_block = (info.mc / nr).max(1);
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
                    x: x_img.add(k0),
                    x_ps: spec.cin,
                    map,
                    p0: q0,
                    p1: q1,
                    y: y_img.add(pc * nr),
                    y_ps: spec.cout,
                    r: if r_img.is_null() || !ep.finish {
                        ptr::null()
                    } else {
                        r_img.add(pc * nr)
                    },
                    ep,
                };
                kernel(&block);
            }
        }
    }
}

/// An NCHW image's pixels `p0..p1` on the channel-vectorized kernel: in equal blocks of at
/// most the kernel's `nc` pixels (its sums buffer), each over all of the region's panels and
/// every input channel (the kernel runs the k blocks).
#[allow(clippy::too_many_arguments)]
unsafe fn nchw_cv_image(
    plan: &Plan,
    geo: &Geometry,
    bufs: Buffers,
    n: usize,
    p0: usize,
    p1: usize,
    region: Region,
    kernel: unsafe fn(&CvBlock),
) {
    let spec = &plan.spec;
    // The kernel applies the epilogue's activation once all k blocks are done.
    let ep = epilogue(plan, 0, spec.cin);
    let img = bufs.image(plan, geo, n);
    let map = pixel_map(plan, geo);
    let blocks = (p1 - p0).div_ceil(plan.kernel.nc);
    let step = (p1 - p0).div_ceil(blocks.max(1)).max(1);
    for q0 in (p0..p1).step_by(step) {
        kernel(&CvBlock {
            cin: spec.cin,
            kc: plan.kc,
            padded: plan.panels.padded(),
            w: plan.packed.as_ptr(),
            bias: plan.bias.as_ref().map_or(ptr::null(), |b| b.as_ptr()),
            j0: region.panel0,
            panels: region.panel1 - region.panel0,
            nr: plan.kernel.nr,
            count: plan.panels.count,
            n_last: plan.panels.last_valid,
            x: img.x,
            x_cs: geo.pin,
            map,
            p0: q0,
            p1: (q0 + step).min(p1),
            y: img.y,
            y_cs: geo.pout,
            r: img.r,
            clamp: ep.clamp,
            lo: ep.lo,
            hi: ep.hi,
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Layout;
    use crate::{ConvSpec, Isa};

    fn plan(cin: usize, cout: usize) -> Plan {
        let spec = ConvSpec::new(cin, cout)
            .layout(Layout::Nchw)
            .isa(Isa::Scalar);
        Plan::new(&spec, &vec![0.5; cin * cout], None).unwrap()
    }

    fn spans(plan: &Plan, p0: usize, p1: usize) -> Vec<(usize, usize)> {
        let region = Region {
            grain: plan.pixel_grain(),
            unit0: 0,
            unit1: 1,
            panel0: 0,
            panel1: plan.panels.count,
        };
        nchw_spans(plan, &region, p0, p1, plan.pixel_grain()).collect()
    }

    #[test]
    fn nchw_spans_cover_the_pixels_in_equal_whole_units() {
        let p = plan(3 * 256, 40);
        assert!(p.spec.cin > p.kc, "several k blocks");
        let g = p.pixel_grain();
        let per_px = 4 * (p.kc + p.panels.count * p.kernel.mr);
        for (p0, p1) in [(0, 3136), (5 * g, 3136), (0, 7 * g + 3), (0, 8 * g)] {
            let s = spans(&p, p0, p1);
            assert_eq!(s.first().unwrap().0, p0);
            assert_eq!(s.last().unwrap().1, p1);
            for w in s.windows(2) {
                assert_eq!(w[0].1, w[1].0, "contiguous");
            }
            let step = s[0].1 - s[0].0;
            for (i, &(a, b)) in s.iter().enumerate() {
                assert_eq!((a - p0) % g, 0, "spans start on pixel units");
                if i + 1 < s.len() {
                    assert_eq!(b - a, step, "equal spans before the last");
                    assert!((b - a) * per_px <= NCHW_SPAN_BYTES.max(g * per_px));
                } else {
                    // The last: at most as many whole units, and the pixels after them.
                    assert!((b - a) / g * g <= step, "{:?}", s);
                    assert!(b - a >= g || s.len() == 1, "no span of a partial unit");
                }
            }
        }
        // A 56×56 image needs several spans; a 7×7 one fits in one.
        assert!(spans(&p, 0, 3136).len() > 1);
        assert_eq!(spans(&p, 0, 49), vec![(0, 49)]);
    }

    #[test]
    fn pixels_after_the_last_whole_unit_join_the_last_span() {
        // AVX-512 NCHW, 2048 output rows: 48-pixel units, a budget of one unit per span. A 7×7
        // image (a unit and a pixel) stays one span; a 14×14 one (4 units and 4 pixels) keeps
        // its last pixels with its last unit.
        let per_px = 4 * (256 + 2048);
        assert!(NCHW_SPAN_BYTES / per_px < 2 * 48, "one unit per span");
        let s = |p0, p1| super::spans(p0, p1, 48, Some(per_px), 0).collect::<Vec<_>>();
        assert_eq!(s(0, 49), vec![(0, 49)]);
        assert_eq!(s(0, 196), vec![(0, 48), (48, 96), (96, 144), (144, 196)]);
        assert_eq!(s(96, 196), vec![(96, 144), (144, 196)]);
        // Fewer pixels than a unit, and none.
        assert_eq!(s(0, 47), vec![(0, 47)]);
        assert_eq!(s(5, 5), vec![]);
        // No byte budget (one k block): one span.
        assert_eq!(
            super::spans(0, 3136, 48, None, 0).collect::<Vec<_>>(),
            vec![(0, 3136)]
        );
    }

    #[test]
    fn pixels_the_tiles_fuse_spread_over_the_spans() {
        // As above, with tiles that compute up to 4 pixels after them (AVX-512 NCHW): the 4
        // after a 14×14 image's last unit go one to each span; 16 (more than 4) stay with the
        // last; a 7×7 image is one span either way.
        let per_px = 4 * (256 + 2048);
        let s = |p0, p1| super::spans(p0, p1, 48, Some(per_px), 4).collect::<Vec<_>>();
        assert_eq!(s(0, 196), vec![(0, 49), (49, 98), (98, 147), (147, 196)]);
        assert_eq!(s(96, 196), vec![(96, 146), (146, 196)]);
        assert_eq!(s(0, 147), vec![(0, 49), (49, 98), (98, 147)]);
        assert_eq!(s(0, 50), vec![(0, 50)]);
        assert_eq!(s(0, 49), vec![(0, 49)]);
        assert_eq!(s(0, 160), vec![(0, 48), (48, 96), (96, 160)]);
        // Two units per span: 98 and 98.
        let per_px = 4 * (256 + 1024);
        let s = |p0, p1| super::spans(p0, p1, 48, Some(per_px), 4).collect::<Vec<_>>();
        assert_eq!(s(0, 196), vec![(0, 98), (98, 196)]);
    }

    #[test]
    fn one_k_block_is_one_span() {
        let p = plan(16, 40);
        assert!(p.spec.cin <= p.kc);
        assert_eq!(spans(&p, 0, 3136), vec![(0, 3136)]);
    }
}
