//! What a plan computes: channel counts, layout, stride, fused epilogue and the
//! optional forced ISA / kernel kind.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Memory layout shared by input, output and residual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `[N][C][H][W]`: each channel is a contiguous plane of pixels.
    Nchw,
    /// `[N][H][W][C]`: each pixel is a contiguous vector of channels.
    Nhwc,
}

impl Layout {
    /// Lower-case name (`nchw`, `nhwc`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nchw => "nchw",
            Layout::Nhwc => "nhwc",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "nchw" => Ok(Layout::Nchw),
            "nhwc" => Ok(Layout::Nhwc),
            _ => Err(Error::Parse {
                what: "layout",
                got: s.to_string(),
                expected: "nchw, nhwc",
            }),
        }
    }
}

/// Activation applied last, after bias and residual.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, min), max)`.
    Clamp { min: f32, max: f32 },
}

impl Activation {
    /// The clamp interval this activation applies, or `None` for the identity.
    /// NaN inputs stay NaN whatever the bounds (as in PyTorch).
    pub fn bounds(self) -> Option<(f32, f32)> {
        match self {
            Activation::None => None,
            Activation::Relu => Some((0.0, f32::INFINITY)),
            Activation::Relu6 => Some((0.0, 6.0)),
            Activation::Clamp { min, max } => Some((min, max)),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::None => f.write_str("none"),
            Activation::Relu => f.write_str("relu"),
            Activation::Relu6 => f.write_str("relu6"),
            Activation::Clamp { min, max } => write!(f, "clamp:{min}:{max}"),
        }
    }
}

impl FromStr for Activation {
    type Err = Error;
    /// `none`, `relu`, `relu6` or `clamp:MIN:MAX`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Parse {
            what: "activation",
            got: s.to_string(),
            expected: "none, relu, relu6, clamp:MIN:MAX",
        };
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Activation::None),
            "relu" => Ok(Activation::Relu),
            "relu6" => Ok(Activation::Relu6),
            other => {
                let rest = other.strip_prefix("clamp:").ok_or_else(bad)?;
                let (lo, hi) = rest.split_once(':').ok_or_else(bad)?;
                let min = lo.parse::<f32>().map_err(|_| bad())?;
                let max = hi.parse::<f32>().map_err(|_| bad())?;
                Ok(Activation::Clamp { min, max })
            }
        }
    }
}

/// An instruction-set path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust, no explicit SIMD: runs everywhere.
    Scalar,
    /// x86-64 AVX2 + FMA, 256-bit vectors.
    Avx2,
    /// x86-64 AVX-512F, 512-bit vectors with mask registers.
    Avx512,
    /// AArch64 Advanced SIMD, 128-bit vectors.
    Neon,
}

impl Isa {
    /// Every ISA the library knows, in the order reports list them.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    /// Lower-case name (`scalar`, `avx2`, `avx512`, `neon`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// f32 lanes in one vector register of this ISA.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 8,
            Isa::Avx512 => 16,
            Isa::Neon => 4,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isa {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "scalar" => Ok(Isa::Scalar),
            "avx2" => Ok(Isa::Avx2),
            "avx512" => Ok(Isa::Avx512),
            "neon" => Ok(Isa::Neon),
            _ => Err(Error::Parse {
                what: "ISA",
                got: s.to_string(),
                expected: "scalar, avx2, avx512, neon",
            }),
        }
    }
}

/// Which kind of kernel a plan may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KernelKind {
    /// The specialized kernel when one matches (Cin, Cout, layout, ISA), else the generic one.
    #[default]
    Auto,
    /// Always the generic kernel.
    Generic,
    /// Only a specialized kernel; plan creation fails when none matches.
    Specialized,
    /// Exactly this kernel of the registry (see [`crate::kernels`]), for comparisons and tests;
    /// plan creation fails when it does not fit the spec (layout, channel pair, ISA).
    Named(&'static str),
}

impl KernelKind {
    /// Lower-case name (`auto`, `generic`, `specialized`) or the kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Auto => "auto",
            KernelKind::Generic => "generic",
            KernelKind::Specialized => "specialized",
            KernelKind::Named(name) => name,
        }
    }
}

impl fmt::Display for KernelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KernelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(KernelKind::Auto),
            "generic" => Ok(KernelKind::Generic),
            "specialized" => Ok(KernelKind::Specialized),
            _ => crate::kernels()
                .find(|k| k.name == s)
                .map(|k| KernelKind::Named(k.name))
                .ok_or_else(|| Error::Parse {
                    what: "kernel kind",
                    got: s.to_string(),
                    expected: "auto, generic, specialized, or a kernel name from the registry",
                }),
        }
    }
}

/// Everything about a 1x1 convolution except the weights and the tensor sizes.
///
/// ```
/// use conv1x1::{Activation, ConvSpec, Layout};
/// let spec = ConvSpec::new(256, 64)
///     .layout(Layout::Nhwc)
///     .stride(2)
///     .activation(Activation::Relu)
///     .residual(true);
/// assert_eq!(spec.stride_h, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvSpec {
    /// Input channels (≥ 1).
    pub cin: usize,
    /// Output channels (≥ 1).
    pub cout: usize,
    /// Layout of input, output and residual.
    pub layout: Layout,
    /// Vertical stride (≥ 1).
    pub stride_h: usize,
    /// Horizontal stride (≥ 1).
    pub stride_w: usize,
    /// Activation applied after bias and residual.
    pub activation: Activation,
    /// Whether `run` takes a residual tensor (output-shaped) that is added before the activation.
    pub residual: bool,
    /// Force an ISA; `None` lets dispatch choose (honouring `CONV1X1_ISA`).
    pub isa: Option<Isa>,
    /// Which kind of kernel to use.
    pub kernel: KernelKind,
}

impl ConvSpec {
    /// Cin → Cout, NCHW, stride 1, no activation, no residual, automatic ISA and kernel.
    pub fn new(cin: usize, cout: usize) -> Self {
        ConvSpec {
            cin,
            cout,
            layout: Layout::Nchw,
            stride_h: 1,
            stride_w: 1,
            activation: Activation::None,
            residual: false,
            isa: None,
            kernel: KernelKind::Auto,
        }
    }
    /// Sets the layout.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }
    /// Sets the same stride in both directions.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride_h = s;
        self.stride_w = s;
        self
    }
    /// Sets vertical and horizontal stride.
    pub fn stride_hw(mut self, sh: usize, sw: usize) -> Self {
        self.stride_h = sh;
        self.stride_w = sw;
        self
    }
    /// Sets the activation.
    pub fn activation(mut self, act: Activation) -> Self {
        self.activation = act;
        self
    }
    /// Declares whether `run` receives a residual tensor.
    pub fn residual(mut self, on: bool) -> Self {
        self.residual = on;
        self
    }
    /// Forces an ISA (plan creation fails when this CPU lacks it).
    pub fn isa(mut self, isa: Isa) -> Self {
        self.isa = Some(isa);
        self
    }
    /// Chooses generic, specialized or automatic kernel selection.
    pub fn kernel(mut self, kind: KernelKind) -> Self {
        self.kernel = kind;
        self
    }
}

/// Sizes of an input tensor: batch, height and width (channels come from the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dims {
    /// Images in the batch (≥ 1).
    pub batch: usize,
    /// Input height (≥ 1).
    pub height: usize,
    /// Input width (≥ 1).
    pub width: usize,
}

impl Dims {
    /// `Dims { batch, height, width }`.
    pub fn new(batch: usize, height: usize, width: usize) -> Self {
        Dims {
            batch,
            height,
            width,
        }
    }
}
