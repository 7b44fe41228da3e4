//! The f64-accumulating reference every kernel is tested against. Plain loops, no tiling:
//! obviously correct rather than fast.

use crate::error::Result;
use crate::plan::validate;
use crate::spec::{ConvSpec, Dims, Layout};

/// Computes the convolution described by `spec` (ISA and kernel fields are ignored) with f64
/// sums, returning the output in the spec's layout. Lengths are checked as in [`crate::Plan`].
pub fn conv1x1_reference(
    spec: &ConvSpec,
    dims: Dims,
    weights: &[f32],
    bias: Option<&[f32]>,
    input: &[f32],
    residual: Option<&[f32]>,
) -> Result<Vec<f64>> {
    validate::check_spec(spec, weights.len(), bias.map(<[f32]>::len))?;
    let g = validate::geometry(spec, dims)?;
    validate::check_buffers(
        spec,
        &g,
        input.len(),
        g.output_len,
        residual.map(<[f32]>::len),
    )?;
    let (cin, cout) = (spec.cin, spec.cout);
    let mut out = vec![0.0f64; g.output_len];
    for n in 0..g.batch {
        for oh in 0..g.hout {
            for ow in 0..g.wout {
                let (ih, iw) = (oh * spec.stride_h, ow * spec.stride_w);
                for co in 0..cout {
                    let mut acc = 0.0f64;
                    for ci in 0..cin {
                        let xi = match spec.layout {
                            Layout::Nchw => ((n * cin + ci) * g.h + ih) * g.w + iw,
                            Layout::Nhwc => ((n * g.h + ih) * g.w + iw) * cin + ci,
                        };
                        acc += weights[co * cin + ci] as f64 * input[xi] as f64;
                    }
                    let yi = match spec.layout {
                        Layout::Nchw => ((n * cout + co) * g.hout + oh) * g.wout + ow,
                        Layout::Nhwc => ((n * g.hout + oh) * g.wout + ow) * cout + co,
                    };
                    if let Some(b) = bias {
                        acc += b[co] as f64;
                    }
                    if let Some(r) = residual {
                        acc += r[yi] as f64;
                    }
                    if let Some((lo, hi)) = spec.activation.bounds() {
                        if !acc.is_nan() {
                            acc = acc.max(lo as f64).min(hi as f64);
                        }
                    }
                    out[yi] = acc;
                }
            }
        }
    }
    Ok(out)
}

/// Relative L2 error `‖got − want‖ / ‖want‖` (absolute when `want` is all zeros). NaN in
/// `got` where `want` is finite makes the error infinite; matching NaNs and equal infinities
/// count as exact.
pub fn relative_l2_error(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (&g, &w) in got.iter().zip(want) {
        let g = g as f64;
        if w.is_nan() || w.is_infinite() {
            let same = (w.is_nan() && g.is_nan()) || g == w;
            if !same {
                return f64::INFINITY;
            }
            continue;
        }
        if !g.is_finite() {
            return f64::INFINITY;
        }
        num += (g - w) * (g - w);
        den += w * w;
    }
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}
