//! aarch64 SIMD paths. Each ISA lives in its own folder.

pub(crate) mod neon;
