//! Checks done before any kernel runs. Everything a caller can get wrong becomes a typed
//! error here; past these checks the kernels' pointer arithmetic is in bounds by construction.

use crate::error::{Error, Result};
use crate::spec::{Activation, ConvSpec, Dims};

/// Checks a spec and the weight/bias lengths at plan creation.
pub(crate) fn check_spec(spec: &ConvSpec, weights: usize, bias: Option<usize>) -> Result<()> {
    nonzero(spec.cin, "Cin")?;
    nonzero(spec.cout, "Cout")?;
    nonzero(spec.stride_h, "stride_h")?;
    nonzero(spec.stride_w, "stride_w")?;
    let expected = mul(spec.cin, spec.cout, "weights", "Cout·Cin")?;
    // The kernels index one panel row with i32-free usize arithmetic, but packed sizes must
    // still fit comfortably: padding adds at most one panel (≤ 64 channels) per input channel.
    spec.cin
        .checked_mul(spec.cout.checked_add(64).ok_or(Error::Overflow {
            what: "packed weights",
            formula: "Cin·(Cout + padding)",
        })?)
        .ok_or(Error::Overflow {
            what: "packed weights",
            formula: "Cin·(Cout + padding)",
        })?;
    if weights != expected {
        return Err(Error::Length {
            what: "weights",
            got: weights,
            expected,
            formula: "Cout·Cin",
        });
    }
    if let Some(b) = bias {
        if b != spec.cout {
            return Err(Error::Length {
                what: "bias",
                got: b,
                expected: spec.cout,
                formula: "Cout",
            });
        }
    }
    if let Activation::Clamp { min, max } = spec.activation {
        if min.is_nan() || max.is_nan() || min > max {
            return Err(Error::InvalidClamp { min, max });
        }
    }
    Ok(())
}

/// Sizes derived from a spec and input dimensions, all checked for overflow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub batch: usize,
    pub h: usize,
    pub w: usize,
    pub hout: usize,
    pub wout: usize,
    /// Input pixels per image (H·W).
    pub pin: usize,
    /// Output pixels per image (Hout·Wout).
    pub pout: usize,
    pub input_len: usize,
    pub output_len: usize,
}

pub(crate) fn geometry(spec: &ConvSpec, dims: Dims) -> Result<Geometry> {
    nonzero(dims.batch, "batch")?;
    nonzero(dims.height, "height")?;
    nonzero(dims.width, "width")?;
    let hout = (dims.height - 1) / spec.stride_h + 1;
    let wout = (dims.width - 1) / spec.stride_w + 1;
    let pin = mul(dims.height, dims.width, "input pixels", "H·W")?;
    let pout = hout * wout; // ≤ pin
    let input_len = mul(
        mul(dims.batch, spec.cin, "input", "N·Cin·H·W")?,
        pin,
        "input",
        "N·Cin·H·W",
    )?;
    let output_len = mul(
        mul(dims.batch, spec.cout, "output", "N·Cout·Hout·Wout")?,
        pout,
        "output",
        "N·Cout·Hout·Wout",
    )?;
    // Slices never exceed isize::MAX bytes; refuse sizes that could not be slices at all.
    for (len, what) in [(input_len, "input"), (output_len, "output")] {
        if len > isize::MAX as usize / 4 {
            return Err(Error::Overflow {
                what,
                formula: "element count × 4 bytes",
            });
        }
    }
    Ok(Geometry {
        batch: dims.batch,
        h: dims.height,
        w: dims.width,
        hout,
        wout,
        pin,
        pout,
        input_len,
        output_len,
    })
}

/// Checks buffer lengths against the geometry.
pub(crate) fn check_buffers(
    spec: &ConvSpec,
    geo: &Geometry,
    input: usize,
    output: usize,
    residual: Option<usize>,
) -> Result<()> {
    if input != geo.input_len {
        return Err(Error::Length {
            what: "input",
            got: input,
            expected: geo.input_len,
            formula: "N·Cin·H·W",
        });
    }
    if output != geo.output_len {
        return Err(Error::Length {
            what: "output",
            got: output,
            expected: geo.output_len,
            formula: "N·Cout·Hout·Wout",
        });
    }
    match (spec.residual, residual) {
        (true, None) => Err(Error::Residual(
            "the plan was built with a residual add but run without a residual",
        )),
        (false, Some(_)) => Err(Error::Residual(
            "a residual was given but the plan was built without a residual add",
        )),
        (true, Some(r)) if r != geo.output_len => Err(Error::Length {
            what: "residual",
            got: r,
            expected: geo.output_len,
            formula: "N·Cout·Hout·Wout",
        }),
        _ => Ok(()),
    }
}

fn nonzero(v: usize, what: &'static str) -> Result<()> {
    if v == 0 {
        Err(Error::Zero { what })
    } else {
        Ok(())
    }
}

fn mul(a: usize, b: usize, what: &'static str, formula: &'static str) -> Result<usize> {
    a.checked_mul(b).ok_or(Error::Overflow { what, formula })
}
