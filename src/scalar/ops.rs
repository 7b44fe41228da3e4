//! `Simd` with one lane: the portable primitives.

use crate::kernel::simd::Simd;

/// The one-lane "vector" ISA.
pub(crate) struct Scalar;

impl Simd for Scalar {
    const LANES: usize = 1;
    const REGISTERS: usize = 16;
    type V = f32;
    /// Whether the one lane is valid.
    type M = bool;

    #[inline(always)]
    unsafe fn zero() -> f32 {
        0.0
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> bool {
        valid > 0
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> f32 {
        *p
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: f32) {
        *p = v
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: bool) -> f32 {
        if m {
            *p
        } else {
            0.0
        }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: bool, v: f32) {
        if m {
            *p = v
        }
    }
    #[inline(always)]
    unsafe fn load_stride2(p: *const f32, valid: usize) -> f32 {
        Self::load_masked(p, valid > 0)
    }
    #[inline(always)]
    unsafe fn load_strided(p: *const f32, _stride: usize, valid: usize) -> f32 {
        Self::load_masked(p, valid > 0)
    }
    /// Multiply, then add (two roundings): a fused `mul_add` is a slow library call on
    /// targets without FMA, which is where this path runs.
    #[inline(always)]
    unsafe fn fma(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    unsafe fn add(a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    unsafe fn clamp(v: f32, lo: f32, hi: f32) -> f32 {
        if v.is_nan() {
            v
        } else {
            v.max(lo).min(hi)
        }
    }
}
