//! `Simd` for NEON. NEON has no masked loads or stores, so tails move the valid lanes one
//! 64-bit pair or one lane at a time (`vld1_f32` / `vld1q_lane_f32` and their stores): no
//! access ever touches memory past the last valid lane.

use std::arch::aarch64::*;

use crate::kernel::simd::Simd;

/// NEON, 4 f32 lanes.
pub(crate) struct Neon;

impl Simd for Neon {
    const LANES: usize = 4;
    const REGISTERS: usize = 32;
    type V = float32x4_t;
    /// The number of valid lanes, 0..=4.
    type M = usize;

    #[inline(always)]
    unsafe fn zero() -> float32x4_t {
        vdupq_n_f32(0.0)
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> float32x4_t {
        vdupq_n_f32(x)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> usize {
        valid.min(4)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> float32x4_t {
        vld1q_f32(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: float32x4_t) {
        vst1q_f32(p, v)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: usize) -> float32x4_t {
        // Each arm reads exactly elements 0..m of p.
        let zero = Self::zero();
        match m {
            0 => zero,
            1 => vld1q_lane_f32::<0>(p, zero),
            2 => vcombine_f32(vld1_f32(p), vdup_n_f32(0.0)),
            3 => vld1q_lane_f32::<2>(p.add(2), vcombine_f32(vld1_f32(p), vdup_n_f32(0.0))),
            _ => vld1q_f32(p),
        }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: usize, v: float32x4_t) {
        // Each arm writes exactly elements 0..m of p.
        match m {
            0 => {}
            1 => vst1q_lane_f32::<0>(p, v),
            2 => vst1_f32(p, vget_low_f32(v)),
            3 => {
                vst1_f32(p, vget_low_f32(v));
                vst1q_lane_f32::<2>(p.add(2), v);
            }
            _ => vst1q_f32(p, v),
        }
    }
    #[inline(always)]
    unsafe fn load_stride2(p: *const f32, valid: usize) -> float32x4_t {
        if valid >= 4 {
            // Pixels at elements 0, 2, 4, 6: two overlapping loads of elements 0..4 and 3..7
            // cover them without reading element 7 (vld2q_f32 would).
            let lo = vld1q_f32(p); // e0 e1 e2 e3
            let hi = vld1q_f32(p.add(3)); // e3 e4 e5 e6
            let even_lo = vuzp1q_f32(lo, lo); // e0 e2 ..
            let odd_hi = vuzp2q_f32(hi, hi); // e4 e6 ..
            vcombine_f32(vget_low_f32(even_lo), vget_low_f32(odd_hi))
        } else {
            Self::load_strided(p, 2, valid)
        }
    }
    /// In registers: 32-bit then 64-bit transposes of pairs; rows past `rows` repeat the last.
    #[inline(always)]
    unsafe fn transpose(
        src: *const f32,
        stride: usize,
        rows: usize,
        mut f: impl FnMut(usize, float32x4_t),
    ) {
        let row = |i: usize| vld1q_f32(src.add(i.min(rows - 1) * stride));
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let d = |v: float32x4_t| vreinterpretq_f64_f32(v);
        let (a0, a1) = (d(vtrn1q_f32(r0, r1)), d(vtrn2q_f32(r0, r1)));
        let (a2, a3) = (d(vtrn1q_f32(r2, r3)), d(vtrn2q_f32(r2, r3)));
        f(0, vreinterpretq_f32_f64(vtrn1q_f64(a0, a2)));
        f(1, vreinterpretq_f32_f64(vtrn1q_f64(a1, a3)));
        f(2, vreinterpretq_f32_f64(vtrn2q_f64(a0, a2)));
        f(3, vreinterpretq_f32_f64(vtrn2q_f64(a1, a3)));
    }
    #[inline(always)]
    unsafe fn load_strided(p: *const f32, stride: usize, valid: usize) -> float32x4_t {
        // Lane by lane: reads exactly elements l·stride for l < valid.
        let mut v = Self::zero();
        if valid > 0 {
            v = vld1q_lane_f32::<0>(p, v);
        }
        if valid > 1 {
            v = vld1q_lane_f32::<1>(p.add(stride), v);
        }
        if valid > 2 {
            v = vld1q_lane_f32::<2>(p.add(2 * stride), v);
        }
        if valid > 3 {
            v = vld1q_lane_f32::<3>(p.add(3 * stride), v);
        }
        v
    }
    #[inline(always)]
    unsafe fn fma(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        // vfmaq_f32(x, y, z) = x + y·z, fused.
        vfmaq_f32(c, a, b)
    }
    #[inline(always)]
    unsafe fn add(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vaddq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn clamp(v: float32x4_t, lo: float32x4_t, hi: float32x4_t) -> float32x4_t {
        // FMAX/FMIN return NaN when either operand is NaN (unlike FMAXNM/FMINNM), so a NaN
        // in v survives both; lo and hi are never NaN (validated).
        vminq_f32(vmaxq_f32(v, lo), hi)
    }
}
