//! What the generator knows about each ISA and layout: where its types live and how its
//! entry points are compiled.

/// One instruction set a spec column can name.
#[derive(Debug)]
pub struct Isa {
    /// Name used in the spec and in kernel names (`avx512`).
    pub name: &'static str,
    /// The `crate::spec::Isa` variant.
    pub variant: &'static str,
    /// `target_arch` the kernels are compiled for.
    pub arch: &'static str,
    /// `#[target_feature(enable = ...)]` of the entry points.
    pub features: &'static str,
    /// The ISA's module: its generic kernels are `<module>::NCHW` / `<module>::NHWC`.
    pub module: &'static str,
    /// The `crate::kernel::simd::Simd` implementation.
    pub simd: &'static str,
    /// f32 lanes per vector.
    pub lanes: usize,
    /// Vector registers: the budget of a tile.
    pub registers: usize,
}

pub const ISAS: [Isa; 3] = [
    Isa {
        name: "avx512",
        variant: "Avx512",
        arch: "x86_64",
        features: "avx512f",
        module: "crate::x86::avx512",
        simd: "crate::x86::avx512::Avx512",
        lanes: 16,
        registers: 32,
    },
    Isa {
        name: "avx2",
        variant: "Avx2",
        arch: "x86_64",
        features: "avx2,fma",
        module: "crate::x86::avx2",
        simd: "crate::x86::avx2::Avx2",
        lanes: 8,
        registers: 16,
    },
    Isa {
        name: "neon",
        variant: "Neon",
        arch: "aarch64",
        features: "neon",
        module: "crate::aarch64::neon",
        simd: "crate::aarch64::neon::Neon",
        lanes: 4,
        registers: 32,
    },
];

pub fn isa_named(name: &str) -> Option<&'static Isa> {
    ISAS.iter().find(|i| i.name == name)
}

/// A memory layout and the names of its block contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    Nchw,
    Nhwc,
}

impl Layout {
    pub fn parse(name: &str) -> Option<Layout> {
        match name {
            "nchw" => Some(Layout::Nchw),
            "nhwc" => Some(Layout::Nhwc),
            _ => None,
        }
    }
    /// Lower-case name, as in the spec and kernel names.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nchw => "nchw",
            Layout::Nhwc => "nhwc",
        }
    }
    /// The `crate::spec::Layout` / `crate::kernel::Entry` variant.
    pub fn variant(self) -> &'static str {
        match self {
            Layout::Nchw => "Nchw",
            Layout::Nhwc => "Nhwc",
        }
    }
    /// The block description type in `crate::kernel`.
    pub fn block_type(self) -> &'static str {
        match self {
            Layout::Nchw => "NchwBlock",
            Layout::Nhwc => "NhwcBlock",
        }
    }
    /// The template: the generic block microkernel.
    pub fn template(self) -> &'static str {
        match self {
            Layout::Nchw => "crate::kernel::nchw_tile::nchw_block",
            Layout::Nhwc => "crate::kernel::nhwc_tile::nhwc_block",
        }
    }
}
