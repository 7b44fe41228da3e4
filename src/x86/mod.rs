//! x86-64 SIMD paths. Each ISA lives in its own folder with one file per layout.

pub(crate) mod avx2;
pub(crate) mod avx512;
