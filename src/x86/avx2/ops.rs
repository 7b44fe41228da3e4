//! `Simd` for AVX2 + FMA. Tails use VMASKMOVPS: masked-off lanes are neither read nor
//! written and cannot fault.

use std::arch::x86_64::*;

use crate::kernel::simd::Simd;
use crate::kernel::NhwcBlock;

/// AVX2 + FMA, 8 f32 lanes.
pub(crate) struct Avx2;

impl Simd for Avx2 {
    const LANES: usize = 8;
    const REGISTERS: usize = 16;
    const FUSES_TAIL: bool = true;
    const SHORT_PANELS: bool = true;
    type V = __m256;
    /// Lanes with the sign bit set are valid.
    type M = __m256i;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __m256i {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(valid.min(8) as i32), lane)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __m256i) -> __m256 {
        _mm256_maskload_ps(p, m)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __m256i, v: __m256) {
        _mm256_maskstore_ps(p, m, v)
    }
    /// In registers: 32-bit then 64-bit interleaves within 128-bit halves (4 × 4 squares),
    /// then one exchange of halves; rows past `rows` repeat the last one.
    #[inline(always)]
    unsafe fn transpose(
        src: *const f32,
        stride: usize,
        rows: usize,
        mut f: impl FnMut(usize, __m256),
    ) {
        let mut r = [_mm256_setzero_ps(); 8];
        for (i, row) in r.iter_mut().enumerate() {
            *row = _mm256_loadu_ps(src.add(i.min(rows - 1) * stride));
        }
        let mut t = [_mm256_setzero_ps(); 8];
        for k in 0..4 {
            t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
            t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
        }
        // u[4g + m], half h: column 4h + m of rows 4g..4g + 4.
        let mut u = [_mm256_setzero_ps(); 8];
        for g in 0..2 {
            let pd = |v: __m256| _mm256_castps_pd(v);
            let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            u[4 * g] = _mm256_castpd_ps(_mm256_unpacklo_pd(pd(a), pd(c)));
            u[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(pd(a), pd(c)));
            u[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(pd(b), pd(d)));
            u[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(pd(b), pd(d)));
        }
        for m in 0..4 {
            f(m, _mm256_permute2f128_ps::<0x20>(u[m], u[4 + m]));
            f(4 + m, _mm256_permute2f128_ps::<0x31>(u[m], u[4 + m]));
        }
    }
    #[inline(always)]
    unsafe fn load_stride2(p: *const f32, valid: usize) -> __m256 {
        // Pixels l < valid sit at elements 2l: load the 2·valid − 1 elements spanning them in
        // two masked halves. The upper half's address may lie past the buffer when its mask
        // is empty: `wrapping_add`.
        let span = (2 * valid).saturating_sub(1);
        let lo = _mm256_maskload_ps(p, Self::mask(span.min(8)));
        let hi = _mm256_maskload_ps(p.wrapping_add(8), Self::mask(span.saturating_sub(8)));
        // [e0 e2 e8 e10 | e4 e6 e12 e14]
        even_pairs_in_order(_mm256_shuffle_ps::<0b10_00_10_00>(lo, hi))
    }
    #[inline(always)]
    unsafe fn load_stride2_whole(p: *const f32) -> __m256 {
        // Elements 0 to 14: plain loads of elements 0–7 and 7–14 cover them without reading
        // element 15, which may lie past the buffer (VMASKMOVPS is several micro-ops on AMD
        // cores).
        let lo = _mm256_loadu_ps(p);
        let hi = _mm256_loadu_ps(p.add(7));
        // [e0 e2 e8 e10 | e4 e6 e12 e14]: from `hi` (e7 … e14) its elements 1 and 3 per half.
        even_pairs_in_order(_mm256_shuffle_ps::<0b11_01_10_00>(lo, hi))
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline(always)]
    unsafe fn clamp(v: __m256, lo: __m256, hi: __m256) -> __m256 {
        // VMAXPS/VMINPS return their second operand when either is NaN: v's NaN survives.
        _mm256_min_ps(hi, _mm256_max_ps(lo, v))
    }
    const K_PAIRS: bool = true;
    #[inline(always)]
    unsafe fn splat_pair(p: *const f32) -> __m256 {
        // VBROADCASTSD from memory: a load, no shuffle.
        _mm256_castpd_ps(_mm256_set1_pd(p.cast::<f64>().read_unaligned()))
    }
    #[inline(always)]
    unsafe fn splat_even(x: f32) -> __m256 {
        _mm256_blend_ps::<0b1010_1010>(_mm256_set1_ps(x), _mm256_setzero_ps())
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> __m256 {
        // Exactly p[0..4], interleaved with zeros.
        let x = _mm_loadu_ps(p);
        let z = _mm_setzero_ps();
        _mm256_set_m128(_mm_unpackhi_ps(x, z), _mm_unpacklo_ps(x, z))
    }
    #[inline(always)]
    unsafe fn sum_pairs(a: __m256, b: __m256) -> __m256 {
        // [a01 a23 b01 b23 | a45 a67 b45 b67], then the 64-bit pairs in order 0, 2, 1, 3.
        let h = _mm256_hadd_ps(a, b);
        _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(h)))
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
}

/// The k-paired last panel of an NHWC block (`nhwc_tile::kpair_panel`), built once here for
/// every Avx2 NHWC kernel instead of inside each one.
///
/// # Safety
/// The CPU must support avx2,fma; `b` as for `nhwc_tile::kpair_panel`.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn kpair_panel(b: &NhwcBlock, nr: usize, k: usize, j: usize, n: usize) {
    crate::kernel::nhwc_tile::kpair_panel::<Avx2>(b, nr, k, j, n)
}

/// `[e0 e2 e8 e10 | e4 e6 e12 e14]` → `[e0 e2 e4 e6 e8 e10 e12 e14]`: the 64-bit pairs in
/// order 0, 2, 1, 3.
#[inline(always)]
unsafe fn even_pairs_in_order(even: __m256) -> __m256 {
    _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
        even,
    )))
}
