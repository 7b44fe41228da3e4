//! The library's one error type. Every fallible call returns it; messages name the
//! quantity that is wrong and, for lengths, the formula the length must satisfy.

use crate::spec::Isa;

/// What went wrong when building or running a plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A size that must be at least 1 was 0.
    #[error("{what} must be at least 1, got 0")]
    Zero { what: &'static str },

    /// A buffer does not have the length the spec and dimensions require.
    #[error("{what} has {got} elements, expected {formula} = {expected}")]
    Length {
        what: &'static str,
        got: usize,
        expected: usize,
        formula: &'static str,
    },

    /// A product of sizes does not fit in `usize` (or in the kernels' index range).
    #[error("{what} overflows: {formula} does not fit in usize")]
    Overflow {
        what: &'static str,
        formula: &'static str,
    },

    /// The requested ISA cannot run on this CPU (or this build's target architecture).
    #[error("ISA {isa} is not supported on this CPU (supported here: {supported})")]
    UnsupportedIsa { isa: Isa, supported: String },

    /// A specialized kernel was forced but none exists for this configuration.
    #[error("no specialized kernel for Cin={cin}, Cout={cout}, layout {layout}, ISA {isa}")]
    NoSpecializedKernel {
        cin: usize,
        cout: usize,
        layout: crate::spec::Layout,
        isa: Isa,
    },

    /// A kernel forced by name does not fit the spec.
    #[error("kernel {kernel} does not fit this plan: {reason}")]
    KernelMismatch {
        kernel: &'static str,
        reason: String,
    },

    /// Clamp bounds that are NaN, or min > max.
    #[error(
        "invalid clamp bounds: min = {min}, max = {max} (both must be non-NaN and min <= max)"
    )]
    InvalidClamp { min: f32, max: f32 },

    /// A residual was given to a plan built without one, or the other way round.
    #[error("{0}")]
    Residual(&'static str),

    /// Two buffers that must not overlap do.
    #[error("{0} overlaps the output buffer")]
    Aliasing(&'static str),

    /// A work item index outside `0..count`, or a zero count.
    #[error("work item {index} is out of range for a split into {count} items")]
    WorkItem { index: usize, count: usize },

    /// A name (ISA, layout, activation, kernel kind) that could not be parsed.
    #[error("unknown {what} '{got}' (expected one of: {expected})")]
    Parse {
        what: &'static str,
        got: String,
        expected: &'static str,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
