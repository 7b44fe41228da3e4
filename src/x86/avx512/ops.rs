//! `Simd` for AVX-512F. Tails use mask registers: a masked load does not touch (or fault on)
//! the memory of masked-off lanes.

use std::arch::x86_64::*;

use crate::kernel::simd::Simd;
use crate::kernel::NhwcBlock;

/// AVX-512F, 16 f32 lanes.
pub(crate) struct Avx512;

impl Simd for Avx512 {
    const LANES: usize = 16;
    const REGISTERS: usize = 32;
    const FUSES_TAIL: bool = true;
    const TAIL_PAIRS: bool = true;
    #[inline(always)]
    unsafe fn splat_halves(lo: f32, hi: f32) -> __m512 {
        _mm512_mask_broadcastss_ps(_mm512_set1_ps(lo), 0xff00, _mm_set_ss(hi))
    }
    #[inline(always)]
    unsafe fn load_low_twice(p: *const f32, count: usize) -> __m512 {
        if count == 8 {
            // One 256-bit broadcast load, as `load_low` avoids a mask register.
            _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd(p.cast())))
        } else {
            let low = Self::load_masked(p, Self::mask(count));
            _mm512_shuffle_f32x4::<0b01_00_01_00>(low, low)
        }
    }
    #[inline(always)]
    unsafe fn join_low_halves(lo: __m512, hi: __m512) -> __m512 {
        _mm512_shuffle_f32x4::<0b01_00_01_00>(lo, hi)
    }
    #[inline(always)]
    unsafe fn upper_half(v: __m512) -> __m512 {
        _mm512_shuffle_f32x4::<0b11_10_11_10>(v, v)
    }
    const SHORT_TILES: bool = true;
    type V = __m512;
    type M = __mmask16;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __mmask16 {
        if valid >= 16 {
            0xFFFF
        } else {
            ((1u32 << valid) - 1) as __mmask16
        }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_low(p: *const f32, count: usize) -> __m512 {
        // A 256-bit load zero-extended: the masked load needs its mask moved into a mask
        // register, which LLVM repeated in every iteration of a k loop, on the port the
        // FMAs use (benches/README.md, note 24).
        if count == 8 {
            _mm512_zextps256_ps512(_mm256_loadu_ps(p))
        } else {
            Self::load_masked(p, Self::mask(count))
        }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __mmask16) -> __m512 {
        _mm512_maskz_loadu_ps(m, p)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __mmask16, v: __m512) {
        _mm512_mask_storeu_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn load_stride2(p: *const f32, valid: usize) -> __m512 {
        // Pixels l < valid sit at elements 2l: load the 2·valid − 1 elements spanning them
        // (never past the last one) in two masked halves and keep the even elements. The upper
        // half's address may lie past the buffer when its mask is empty: `wrapping_add`.
        let span = (2 * valid).saturating_sub(1);
        let lo = _mm512_maskz_loadu_ps(Self::mask(span.min(16)), p);
        let hi = _mm512_maskz_loadu_ps(Self::mask(span.saturating_sub(16)), p.wrapping_add(16));
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        _mm512_permutex2var_ps(lo, even, hi)
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn clamp(v: __m512, lo: __m512, hi: __m512) -> __m512 {
        // VMAXPS/VMINPS return their second operand when either is NaN: v's NaN survives.
        _mm512_min_ps(hi, _mm512_max_ps(lo, v))
    }
    const K_PAIRS: bool = true;
    #[inline(always)]
    unsafe fn splat_pair(p: *const f32) -> __m512 {
        // VBROADCASTSD from memory: a load, no shuffle on an FMA pipe.
        _mm512_castpd_ps(_mm512_set1_pd(p.cast::<f64>().read_unaligned()))
    }
    #[inline(always)]
    unsafe fn splat_even(x: f32) -> __m512 {
        _mm512_maskz_mov_ps(0x5555, _mm512_set1_ps(x))
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> __m512 {
        // VEXPANDPS reads exactly as many values as the mask has lanes (8).
        _mm512_maskz_expandloadu_ps(0x5555, p)
    }
    #[inline(always)]
    unsafe fn sum_pairs(a: __m512, b: __m512) -> __m512 {
        let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        let odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
        _mm512_add_ps(
            _mm512_permutex2var_ps(a, even, b),
            _mm512_permutex2var_ps(a, odd, b),
        )
    }
    #[inline(always)]
    unsafe fn kpair_panel(b: &NhwcBlock, nr: usize, k: usize, j: usize, n: usize) {
        kpair_panel(b, nr, k, j, n)
    }
    #[inline(always)]
    unsafe fn prefetch(p: *const f32) {
        _mm_prefetch::<_MM_HINT_T1>(p.cast::<i8>())
    }
    #[inline(always)]
    unsafe fn prefetch_write(p: *mut f32) {
        // Without the `prfchw` target feature (not enabled here) the ET0 hint compiles to
        // PREFETCHT0: the line arrives in L1, and as no other core holds it, usually ready
        // for writing. A real PREFETCHW measured no better (benches/README.md, note 18).
        _mm_prefetch::<_MM_HINT_ET0>(p.cast::<i8>())
    }
    /// In registers: 32-bit then 64-bit interleaves within 128-bit blocks (4 × 4 squares),
    /// then two rounds of 128-bit block shuffles; rows past `rows` repeat the last one.
    #[inline(always)]
    unsafe fn transpose(
        src: *const f32,
        stride: usize,
        rows: usize,
        mut f: impl FnMut(usize, __m512),
    ) {
        let mut r = [_mm512_setzero_ps(); 16];
        for (i, row) in r.iter_mut().enumerate() {
            *row = _mm512_loadu_ps(src.add(i.min(rows - 1) * stride));
        }
        // t[2k], t[2k+1]: rows 2k and 2k+1 interleaved (low and high halves of each block).
        let mut t = [_mm512_setzero_ps(); 16];
        for k in 0..8 {
            t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
        }
        // u[4g + m], block b: column 4b + m of rows 4g..4g + 4.
        let mut u = [_mm512_setzero_ps(); 16];
        for g in 0..4 {
            let pd = |v: __m512| _mm512_castps_pd(v);
            let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(a), pd(c)));
            u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(a), pd(c)));
            u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(b), pd(d)));
            u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(b), pd(d)));
        }
        // Column 4b + m: block b of u[m], u[4 + m], u[8 + m], u[12 + m].
        for m in 0..4 {
            let x = _mm512_shuffle_f32x4::<0x88>(u[m], u[4 + m]);
            let y = _mm512_shuffle_f32x4::<0xdd>(u[m], u[4 + m]);
            let x2 = _mm512_shuffle_f32x4::<0x88>(u[8 + m], u[12 + m]);
            let y2 = _mm512_shuffle_f32x4::<0xdd>(u[8 + m], u[12 + m]);
            f(m, _mm512_shuffle_f32x4::<0x88>(x, x2));
            f(4 + m, _mm512_shuffle_f32x4::<0x88>(y, y2));
            f(8 + m, _mm512_shuffle_f32x4::<0xdd>(x, x2));
            f(12 + m, _mm512_shuffle_f32x4::<0xdd>(y, y2));
        }
    }
    #[inline(always)]
    unsafe fn load_strided(p: *const f32, stride: usize, valid: usize) -> __m512 {
        // Lane offsets l·stride must fit the gather's i32 indices; else go lane by lane.
        if stride <= (i32::MAX as usize) / 16 {
            let idx = _mm512_mullo_epi32(
                _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                _mm512_set1_epi32(stride as i32),
            );
            _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), Self::mask(valid), idx, p)
        } else {
            let mut lanes = [0.0f32; 16];
            for (l, v) in lanes.iter_mut().enumerate().take(valid) {
                *v = *p.add(l * stride);
            }
            _mm512_loadu_ps(lanes.as_ptr())
        }
    }
    #[inline(always)]
    unsafe fn store_strided(p: *mut f32, stride: usize, valid: usize, v: __m512) {
        if stride <= (i32::MAX as usize) / 16 {
            let idx = _mm512_mullo_epi32(
                _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                _mm512_set1_epi32(stride as i32),
            );
            _mm512_mask_i32scatter_ps::<4>(p, Self::mask(valid), idx, v)
        } else {
            let mut lanes = [0.0f32; 16];
            _mm512_storeu_ps(lanes.as_mut_ptr(), v);
            for (l, x) in lanes.iter().enumerate().take(valid) {
                *p.add(l * stride) = *x;
            }
        }
    }
}

/// The k-paired last panel of an NHWC block (`nhwc_tile::kpair_panel`), built once here for
/// every Avx512 NHWC kernel instead of inside each one.
///
/// # Safety
/// The CPU must support avx512f; `b` as for `nhwc_tile::kpair_panel`.
#[inline(never)]
#[target_feature(enable = "avx512f")]
unsafe fn kpair_panel(b: &NhwcBlock, nr: usize, k: usize, j: usize, n: usize) {
    crate::kernel::nhwc_tile::kpair_panel::<Avx512>(b, nr, k, j, n)
}
