//! The plain-data types of the ABI: enumeration values, the spec, dimensions and sizes, and
//! their conversion to the Rust library's types.

use engine::{Activation, ConvSpec, Dims, Isa, KernelKind, Layout};

use crate::status::{Failure, Outcome};

/// Memory layout of input, output and residual: one of the `CONV1X1_LAYOUT_*` values.
pub type conv1x1_layout = u32;
/// `[N][C][H][W]`: each channel is a contiguous plane of pixels.
pub const CONV1X1_LAYOUT_NCHW: conv1x1_layout = 0;
/// `[N][H][W][C]`: each pixel is a contiguous vector of channels.
pub const CONV1X1_LAYOUT_NHWC: conv1x1_layout = 1;

/// Activation applied last, after bias and residual: one of the `CONV1X1_ACTIVATION_*` values.
pub type conv1x1_activation = u32;
/// Identity.
pub const CONV1X1_ACTIVATION_NONE: conv1x1_activation = 0;
/// `max(x, 0)`.
pub const CONV1X1_ACTIVATION_RELU: conv1x1_activation = 1;
/// `min(max(x, 0), 6)`.
pub const CONV1X1_ACTIVATION_RELU6: conv1x1_activation = 2;
/// `min(max(x, clamp_min), clamp_max)` with the spec's bounds.
pub const CONV1X1_ACTIVATION_CLAMP: conv1x1_activation = 3;

/// An instruction-set path: one of the `CONV1X1_ISA_*` values. In the mask returned by
/// `conv1x1_supported_isas()` the ISA `isa` is bit `1u << isa`.
pub type conv1x1_isa = u32;
/// Let dispatch choose (honouring the `CONV1X1_ISA` environment variable). Only valid in a
/// spec, never reported by the library.
pub const CONV1X1_ISA_AUTO: conv1x1_isa = 0;
/// Portable code without explicit SIMD: runs everywhere.
pub const CONV1X1_ISA_SCALAR: conv1x1_isa = 1;
/// x86-64 AVX2 + FMA, 256-bit vectors.
pub const CONV1X1_ISA_AVX2: conv1x1_isa = 2;
/// x86-64 AVX-512F, 512-bit vectors.
pub const CONV1X1_ISA_AVX512: conv1x1_isa = 3;
/// AArch64 Advanced SIMD (NEON), 128-bit vectors.
pub const CONV1X1_ISA_NEON: conv1x1_isa = 4;

/// Which kind of kernel a plan may use: one of the `CONV1X1_KERNEL_*` values.
pub type conv1x1_kernel_kind = u32;
/// The specialized kernel when one matches (Cin, Cout, layout, ISA), else the generic one.
pub const CONV1X1_KERNEL_AUTO: conv1x1_kernel_kind = 0;
/// Always the generic kernel.
pub const CONV1X1_KERNEL_GENERIC: conv1x1_kernel_kind = 1;
/// Only a specialized kernel: plan creation fails with `CONV1X1_NO_KERNEL` when none matches.
pub const CONV1X1_KERNEL_SPECIALIZED: conv1x1_kernel_kind = 2;

/// Everything about a 1x1 convolution except the weights and the tensor sizes.
///
/// Start from `conv1x1_spec_default(cin, cout)` and change the fields you need.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct conv1x1_spec {
    /// Input channels (at least 1).
    pub cin: usize,
    /// Output channels (at least 1).
    pub cout: usize,
    /// Vertical stride (at least 1). Output height = (H - 1) / stride_h + 1.
    pub stride_h: usize,
    /// Horizontal stride (at least 1). Output width = (W - 1) / stride_w + 1.
    pub stride_w: usize,
    /// Layout of input, output and residual (`CONV1X1_LAYOUT_*`).
    pub layout: conv1x1_layout,
    /// Activation applied after bias and residual (`CONV1X1_ACTIVATION_*`).
    pub activation: conv1x1_activation,
    /// Lower bound of `CONV1X1_ACTIVATION_CLAMP` (ignored by the other activations).
    pub clamp_min: f32,
    /// Upper bound of `CONV1X1_ACTIVATION_CLAMP`; neither bound may be NaN and
    /// `clamp_min <= clamp_max`.
    pub clamp_max: f32,
    /// Force an ISA (`CONV1X1_ISA_*`), or `CONV1X1_ISA_AUTO`.
    pub isa: conv1x1_isa,
    /// Which kind of kernel to use (`CONV1X1_KERNEL_*`).
    pub kernel: conv1x1_kernel_kind,
    /// Whether the plan adds a bias: `conv1x1_plan_create` then needs a `[Cout]` bias.
    pub has_bias: bool,
    /// Whether runs add a residual tensor (output-shaped, same layout) before the activation.
    pub has_residual: bool,
}

/// Sizes of an input tensor (channels come from the spec), or of an output tensor in
/// `conv1x1_sizes`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct conv1x1_dims {
    /// Images in the batch (at least 1).
    pub batch: usize,
    /// Height (at least 1).
    pub height: usize,
    /// Width (at least 1).
    pub width: usize,
}

/// What a run on given input dimensions needs, from `conv1x1_plan_sizes`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct conv1x1_sizes {
    /// Output dimensions: the same batch, output height and width.
    pub output: conv1x1_dims,
    /// Elements of the input: N*Cin*H*W.
    pub input_len: usize,
    /// Elements of the output: N*Cout*Hout*Wout.
    pub output_len: usize,
    /// Elements of the residual: `output_len` when the plan adds one, else 0.
    pub residual_len: usize,
}

/// Facts about a plan, from `conv1x1_plan_get_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct conv1x1_plan_info {
    /// The ISA the plan runs on (`CONV1X1_ISA_*`, never `CONV1X1_ISA_AUTO`).
    pub isa: conv1x1_isa,
    /// Whether the kernel is specialized for the plan's channel counts.
    pub specialized: bool,
    /// The kernel's name, NUL-terminated; owned by the plan, valid until it is destroyed.
    pub kernel_name: *const std::ffi::c_char,
    /// Bytes of packed weights and bias the plan holds.
    pub packed_bytes: usize,
}

pub(crate) fn isa_code(isa: Isa) -> conv1x1_isa {
    match isa {
        Isa::Scalar => CONV1X1_ISA_SCALAR,
        Isa::Avx2 => CONV1X1_ISA_AVX2,
        Isa::Avx512 => CONV1X1_ISA_AVX512,
        Isa::Neon => CONV1X1_ISA_NEON,
    }
}

/// The ISA a code names; `Ok(None)` for `CONV1X1_ISA_AUTO`.
pub(crate) fn isa_from_code(code: conv1x1_isa) -> Outcome<Option<Isa>> {
    match code {
        CONV1X1_ISA_AUTO => Ok(None),
        _ => Isa::ALL
            .into_iter()
            .find(|&isa| isa_code(isa) == code)
            .map(Some)
            .ok_or_else(|| Failure::invalid(format!("unknown ISA value {code}"))),
    }
}

impl conv1x1_spec {
    /// The spec as the Rust library's `ConvSpec`; unknown enumeration values are errors.
    pub(crate) fn to_conv_spec(self) -> Outcome<ConvSpec> {
        let layout = match self.layout {
            CONV1X1_LAYOUT_NCHW => Layout::Nchw,
            CONV1X1_LAYOUT_NHWC => Layout::Nhwc,
            other => return Err(Failure::invalid(format!("unknown layout value {other}"))),
        };
        let activation = match self.activation {
            CONV1X1_ACTIVATION_NONE => Activation::None,
            CONV1X1_ACTIVATION_RELU => Activation::Relu,
            CONV1X1_ACTIVATION_RELU6 => Activation::Relu6,
            CONV1X1_ACTIVATION_CLAMP => Activation::Clamp {
                min: self.clamp_min,
                max: self.clamp_max,
            },
            other => {
                return Err(Failure::invalid(format!(
                    "unknown activation value {other}"
                )))
            }
        };
        let kernel = match self.kernel {
            CONV1X1_KERNEL_AUTO => KernelKind::Auto,
            CONV1X1_KERNEL_GENERIC => KernelKind::Generic,
            CONV1X1_KERNEL_SPECIALIZED => KernelKind::Specialized,
            other => {
                return Err(Failure::invalid(format!(
                    "unknown kernel kind value {other}"
                )))
            }
        };
        Ok(ConvSpec {
            isa: isa_from_code(self.isa)?,
            ..ConvSpec::new(self.cin, self.cout)
                .layout(layout)
                .stride_hw(self.stride_h, self.stride_w)
                .activation(activation)
                .residual(self.has_residual)
                .kernel(kernel)
        })
    }
}

impl From<conv1x1_dims> for Dims {
    fn from(d: conv1x1_dims) -> Dims {
        Dims::new(d.batch, d.height, d.width)
    }
}

impl From<Dims> for conv1x1_dims {
    fn from(d: Dims) -> conv1x1_dims {
        conv1x1_dims {
            batch: d.batch,
            height: d.height,
            width: d.width,
        }
    }
}

/// A spec for `cin` -> `cout` channels with the defaults: NCHW, stride 1, no activation
/// (clamp bounds -inf and +inf), no bias, no residual, automatic ISA and kernel.
#[no_mangle]
pub extern "C" fn conv1x1_spec_default(cin: usize, cout: usize) -> conv1x1_spec {
    conv1x1_spec {
        cin,
        cout,
        stride_h: 1,
        stride_w: 1,
        layout: CONV1X1_LAYOUT_NCHW,
        activation: CONV1X1_ACTIVATION_NONE,
        clamp_min: f32::NEG_INFINITY,
        clamp_max: f32::INFINITY,
        isa: CONV1X1_ISA_AUTO,
        kernel: CONV1X1_KERNEL_AUTO,
        has_bias: false,
        has_residual: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_spec_converts_to_the_rust_default() {
        let spec = conv1x1_spec_default(16, 24).to_conv_spec().unwrap();
        assert_eq!(spec, ConvSpec::new(16, 24));
    }

    #[test]
    fn every_field_converts() {
        let c = conv1x1_spec {
            stride_h: 2,
            stride_w: 3,
            layout: CONV1X1_LAYOUT_NHWC,
            activation: CONV1X1_ACTIVATION_CLAMP,
            clamp_min: -1.0,
            clamp_max: 2.0,
            isa: CONV1X1_ISA_SCALAR,
            kernel: CONV1X1_KERNEL_GENERIC,
            has_bias: true,
            has_residual: true,
            ..conv1x1_spec_default(8, 4)
        };
        let want = ConvSpec::new(8, 4)
            .layout(Layout::Nhwc)
            .stride_hw(2, 3)
            .activation(Activation::Clamp {
                min: -1.0,
                max: 2.0,
            })
            .residual(true)
            .isa(Isa::Scalar)
            .kernel(KernelKind::Generic);
        assert_eq!(c.to_conv_spec().unwrap(), want);
    }

    #[test]
    fn unknown_enumeration_values_are_rejected() {
        let base = conv1x1_spec_default(8, 4);
        for bad in [
            conv1x1_spec { layout: 2, ..base },
            conv1x1_spec {
                activation: 4,
                ..base
            },
            conv1x1_spec { isa: 5, ..base },
            conv1x1_spec { kernel: 3, ..base },
        ] {
            let err = bad.to_conv_spec().unwrap_err();
            assert_eq!(err.status, crate::conv1x1_status::CONV1X1_INVALID_ARGUMENT);
        }
    }

    #[test]
    fn isa_codes_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(isa_from_code(isa_code(isa)).unwrap(), Some(isa));
        }
    }
}
