//! The NEON primitives against plain scalar code, with every tail placed right before an
//! inaccessible page: an access past the last valid lane faults and fails the test run.

use std::arch::aarch64::*;

use super::ops::Neon;
use crate::kernel::simd::Simd;

/// Two anonymous pages, the second one inaccessible. `tail(n)` is a slice of the last `n`
/// f32 before the inaccessible page.
struct Guarded {
    base: *mut libc::c_void,
    page: usize,
}

impl Guarded {
    fn new() -> Guarded {
        // SAFETY: plain anonymous mapping and protection calls, results checked.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let base = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED, "mmap failed");
            let guard = (base as *mut u8).add(page) as *mut libc::c_void;
            assert_eq!(
                libc::mprotect(guard, page, libc::PROT_NONE),
                0,
                "mprotect failed"
            );
            Guarded { base, page }
        }
    }

    fn tail(&mut self, n: usize) -> &mut [f32] {
        let floats = self.page / 4;
        assert!(n <= floats);
        // SAFETY: the first page is readable and writable and holds `floats` f32.
        let all = unsafe { std::slice::from_raw_parts_mut(self.base as *mut f32, floats) };
        for (i, x) in all.iter_mut().enumerate() {
            *x = i as f32;
        }
        &mut all[floats - n..]
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe { libc::munmap(self.base, 2 * self.page) };
    }
}

fn lanes(v: float32x4_t) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    // SAFETY: `out` holds 4 f32.
    unsafe { vst1q_f32(out.as_mut_ptr(), v) };
    out
}

fn vector(x: [f32; 4]) -> float32x4_t {
    // SAFETY: `x` holds 4 f32.
    unsafe { vld1q_f32(x.as_ptr()) }
}

#[test]
fn load_masked_reads_only_valid_lanes() {
    let mut g = Guarded::new();
    for valid in 0..=4 {
        let src = g.tail(valid);
        // SAFETY: `src` holds `valid` f32; the mask allows exactly those.
        let got = lanes(unsafe { Neon::load_masked(src.as_ptr(), Neon::mask(valid)) });
        for (l, &x) in got.iter().enumerate() {
            let want = if l < valid { src[l] } else { 0.0 };
            assert_eq!(x, want, "valid {valid}, lane {l}");
        }
    }
}

#[test]
fn store_masked_writes_only_valid_lanes() {
    let mut g = Guarded::new();
    let v = vector([-1.0, -2.0, -3.0, -4.0]);
    for valid in 0..=4 {
        let dst = g.tail(valid);
        // SAFETY: `dst` holds `valid` f32; the mask allows exactly those.
        unsafe { Neon::store_masked(dst.as_mut_ptr(), Neon::mask(valid), v) };
        for (l, &x) in dst.iter().enumerate() {
            assert_eq!(x, -(l as f32) - 1.0, "valid {valid}, lane {l}");
        }
    }
    // Lanes past `valid` keep their old values (checked where memory follows).
    for valid in 0..=4 {
        let mut buf = [7.0f32; 4];
        // SAFETY: `buf` holds 4 f32.
        unsafe { Neon::store_masked(buf.as_mut_ptr(), Neon::mask(valid), v) };
        for (l, &x) in buf.iter().enumerate() {
            let want = if l < valid { -(l as f32) - 1.0 } else { 7.0 };
            assert_eq!(x, want, "valid {valid}, lane {l}");
        }
    }
}

#[test]
fn strided_loads_read_only_valid_lanes() {
    let mut g = Guarded::new();
    for stride in [2usize, 3, 5] {
        for valid in 0..=4 {
            // Elements up to stride·(valid − 1) inclusive, and not one more.
            let len = (stride * valid).saturating_sub(stride - 1);
            let src = g.tail(len);
            // SAFETY: `src` holds the `len` f32 the `valid` lanes span.
            let got = lanes(unsafe {
                if stride == 2 {
                    Neon::load_stride2(src.as_ptr(), valid)
                } else {
                    Neon::load_strided(src.as_ptr(), stride, valid)
                }
            });
            for (l, &x) in got.iter().enumerate() {
                let want = if l < valid { src[l * stride] } else { 0.0 };
                assert_eq!(x, want, "stride {stride}, valid {valid}, lane {l}");
            }
        }
    }
}

#[test]
fn clamp_bounds_values_and_keeps_nan() {
    let lo = vector([0.0; 4]);
    let hi = vector([6.0; 4]);
    // SAFETY: register-only NEON operations.
    let got = lanes(unsafe { Neon::clamp(vector([f32::NAN, -3.0, 2.5, 9.0]), lo, hi) });
    assert!(
        got[0].is_nan(),
        "NaN must survive the clamp, got {}",
        got[0]
    );
    assert_eq!(&got[1..], &[0.0, 2.5, 6.0]);
    let inf = vector([f32::INFINITY; 4]);
    // SAFETY: register-only NEON operations.
    let got = lanes(unsafe { Neon::clamp(vector([f32::NAN, -1.0, 1.0, f32::INFINITY]), lo, inf) });
    assert!(got[0].is_nan(), "NaN must survive a ReLU, got {}", got[0]);
    assert_eq!(&got[1..], &[0.0, 1.0, f32::INFINITY]);
}

#[test]
fn fma_is_fused_multiply_add() {
    let a = [1.0 + f32::EPSILON, 3.0, -0.5, 1e-3];
    let b = [1.0 - f32::EPSILON, 7.0, 4.0, 3e3];
    let c = [-1.0, 1.0, 2.0, -3.0];
    // SAFETY: register-only NEON operations.
    let got = lanes(unsafe { Neon::fma(vector(a), vector(b), vector(c)) });
    for l in 0..4 {
        assert_eq!(got[l], a[l].mul_add(b[l], c[l]), "lane {l}");
    }
}
