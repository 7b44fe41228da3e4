//! The f64-accumulating reference every kernel is tested against. Plain loops, no tiling:
//! obviously correct rather than fast. [`Problem::accuracy`] compares a kernel's output with
//! it.

use std::fmt;

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

/// Relative L2 error a kernel's output may have against the reference: f32 sums land near
/// 1e-7 on typical data.
pub const TOLERANCE: f64 = 1e-5;

/// One convolution's operands, as [`crate::Plan::new`] and [`crate::Plan::run`] take them,
/// borrowed together so that the reference and the accuracy check name them once.
///
/// ```
/// use conv1x1::reference::Problem;
/// use conv1x1::{ConvSpec, Dims, Plan};
///
/// let spec = ConvSpec::new(3, 2);
/// let (weights, bias) = ([0.5, -1.0, 2.0, 1.0, 1.0, 1.0], [0.25, 0.0]);
/// let dims = Dims::new(1, 2, 2);
/// let input: Vec<f32> = (0..12).map(|i| i as f32).collect();
/// let plan = Plan::new(&spec, &weights, Some(&bias))?;
/// let mut output = vec![0.0; plan.output_len(dims)?];
/// plan.run(dims, &input, &mut output, None)?;
///
/// let problem = Problem::new(&spec, dims, &weights, &input).bias(Some(&bias));
/// assert!(problem.accuracy(&output)?.passed());
/// # Ok::<(), conv1x1::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Problem<'a> {
    pub spec: &'a ConvSpec,
    pub dims: Dims,
    /// `[Cout][Cin]`, as [`crate::Plan::new`] takes them.
    pub weights: &'a [f32],
    pub bias: Option<&'a [f32]>,
    pub input: &'a [f32],
    pub residual: Option<&'a [f32]>,
}

impl fmt::Debug for Problem<'_> {
    /// The spec, the dims and the operands' lengths (not their values).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("spec", self.spec)
            .field("dims", &self.dims)
            .field("weights", &self.weights.len())
            .field("bias", &self.bias.map(<[f32]>::len))
            .field("input", &self.input.len())
            .field("residual", &self.residual.map(<[f32]>::len))
            .finish()
    }
}

impl<'a> Problem<'a> {
    /// Without bias or residual (add them with [`Problem::bias`] and [`Problem::residual`]).
    pub fn new(spec: &'a ConvSpec, dims: Dims, weights: &'a [f32], input: &'a [f32]) -> Self {
        Problem {
            spec,
            dims,
            weights,
            bias: None,
            input,
            residual: None,
        }
    }

    pub fn bias(self, bias: Option<&'a [f32]>) -> Self {
        Problem { bias, ..self }
    }

    pub fn residual(self, residual: Option<&'a [f32]>) -> Self {
        Problem { residual, ..self }
    }

    /// [`conv1x1_reference`] of these operands.
    pub fn reference(&self) -> Result<Vec<f64>> {
        conv1x1_reference(
            self.spec,
            self.dims,
            self.weights,
            self.bias,
            self.input,
            self.residual,
        )
    }

    /// The reference on the absolute values of every operand, without activation: per
    /// output, the sum of the magnitudes of its terms. f32 rounding errors scale with it, not
    /// with the output itself.
    pub fn term_magnitudes(&self) -> Result<Vec<f64>> {
        let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
        let (weights, input) = (abs(self.weights), abs(self.input));
        let (bias, residual) = (self.bias.map(abs), self.residual.map(abs));
        let spec = self.spec.activation(crate::Activation::None);
        Problem {
            spec: &spec,
            dims: self.dims,
            weights: &weights,
            bias: bias.as_deref(),
            input: &input,
            residual: residual.as_deref(),
        }
        .reference()
    }

    /// Compares `got` with the f64 reference of these operands.
    ///
    /// An output passes with relative L2 error at most [`TOLERANCE`]. That check is blind
    /// to cancellation: an output of 256 products summing to 0.00136 from terms of magnitude
    /// 57.5 carries a rounding error of 4e-7 from a correct kernel, 3e-4 of its value. So
    /// where it fails, every element must instead stay within the worst-case rounding error
    /// of its f32 sum, [`rounding_bound`] of the magnitudes of its terms. A wrong or missing
    /// term costs about 1/Cin of them, over 15 times that bound at Cin ≤ 1024, in any single
    /// element.
    pub fn accuracy(&self, got: &[f32]) -> Result<Accuracy> {
        self.accuracy_against(&self.reference()?, got)
    }

    /// [`Problem::accuracy`] with the reference already computed (`want`, from
    /// [`Problem::reference`]). Either slice of the wrong length is an [`crate::Error::Length`].
    pub fn accuracy_against(&self, want: &[f64], got: &[f32]) -> Result<Accuracy> {
        let expected = validate::geometry(self.spec, self.dims)?.output_len;
        for (what, len) in [("reference", want.len()), ("output", got.len())] {
            if len != expected {
                return Err(crate::Error::Length {
                    what,
                    got: len,
                    expected,
                    formula: "N·Cout·Hout·Wout",
                });
            }
        }
        let relative_l2 = relative_l2_error(got, want);
        if relative_l2 <= TOLERANCE {
            return Ok(Accuracy {
                relative_l2,
                worst_element: None,
            });
        }
        let scale = self.term_magnitudes()?;
        let mut worst = 0.0f64;
        for ((&g, &w), &m) in got.iter().zip(want).zip(&scale) {
            let g = g as f64;
            let e = if w.is_finite() {
                (g - w).abs() / m.max(w.abs()).max(f64::MIN_POSITIVE)
            } else if (w.is_nan() && g.is_nan()) || g == w {
                0.0 // the same NaN or infinity, as in `relative_l2_error`
            } else {
                f64::INFINITY
            };
            // NaN (an element never written) fails.
            worst = if e.is_nan() {
                f64::INFINITY
            } else {
                worst.max(e)
            };
            if worst.is_infinite() {
                break;
            }
        }
        Ok(Accuracy {
            relative_l2,
            worst_element: Some((worst, rounding_bound(self.spec.cin))),
        })
    }
}

/// Worst-case error of an f32 sum of `cin` products plus bias and residual, each rounded
/// once, as a fraction of the magnitudes of its terms: (Cin + 2) · 2⁻²⁴ (1 % slack for the
/// f64 reference's own rounding). Activations only bring values closer.
pub fn rounding_bound(cin: usize) -> f64 {
    (cin + 2) as f64 * (f32::EPSILON as f64 / 2.0) * 1.01
}

/// A kernel's output compared with the reference (see [`Problem::accuracy`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// [`relative_l2_error`] over the whole output.
    pub relative_l2: f64,
    /// Measured only where `relative_l2` exceeds [`TOLERANCE`]: the worst element's error as
    /// a fraction of the magnitudes of its terms ([`Problem::term_magnitudes`]; infinite for a NaN
    /// where a number was due), and the [`rounding_bound`] it must stay within.
    pub worst_element: Option<(f64, f64)>,
}

impl Accuracy {
    /// Within [`TOLERANCE`], or, where outputs cancel, every element within the rounding
    /// bound of its sum.
    pub fn passed(&self) -> bool {
        match self.worst_element {
            None => self.relative_l2 <= TOLERANCE,
            Some((worst, bound)) => worst <= bound,
        }
    }

    /// Passed only through the per-element check: some outputs cancel.
    pub fn passed_by_element(&self) -> bool {
        self.worst_element.is_some() && self.passed()
    }
}

impl fmt::Display for Accuracy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relative L2 error {:.2e}", self.relative_l2)?;
        if let Some((worst, bound)) = self.worst_element {
            write!(
                f,
                "; worst element {worst:.2e} of the magnitudes of its terms (bound {bound:.2e})"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One NHWC pixel, `cin` → 1, whose terms cancel: the last input is set so that the
    /// f64 sum is nearly zero while its terms have magnitudes near `cin / 4`.
    fn cancelling(cin: usize) -> (ConvSpec, Vec<f32>, Vec<f32>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let w: Vec<f32> = (0..cin).map(|_| next()).collect();
        let mut x: Vec<f32> = (0..cin).map(|_| next()).collect();
        let rest: f64 = (0..cin - 1).map(|i| w[i] as f64 * x[i] as f64).sum();
        x[cin - 1] = (-rest / w[cin - 1] as f64) as f32;
        (ConvSpec::new(cin, 1).layout(Layout::Nhwc), w, x)
    }

    /// The f32 sum a straightforward kernel computes.
    fn f32_sum(w: &[f32], x: &[f32]) -> f32 {
        w.iter()
            .zip(x)
            .fold(0.0f32, |acc, (a, b)| a.mul_add(*b, acc))
    }

    #[test]
    fn an_exact_output_passes_on_relative_l2_alone() {
        let spec = ConvSpec::new(3, 2).layout(Layout::Nchw);
        let dims = Dims::new(1, 1, 2);
        let (w, x) = (
            [1.0, 2.0, 3.0, -1.0, 0.5, 0.25],
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        );
        let got = [22.0, 28.0, -1.0 + 1.5 + 1.25, -2.0 + 2.0 + 1.5];
        let a = Problem::new(&spec, dims, &w, &x).accuracy(&got).unwrap();
        assert_eq!(a.worst_element, None);
        assert_eq!(a.relative_l2, 0.0);
        assert!(a.passed() && !a.passed_by_element());
    }

    #[test]
    fn a_cancelling_output_passes_by_element_and_a_wrong_term_does_not() {
        let (spec, w, x) = cancelling(256);
        let dims = Dims::new(1, 1, 1);
        let got = [f32_sum(&w, &x)];
        let a = Problem::new(&spec, dims, &w, &x).accuracy(&got).unwrap();
        // The correct f32 sum is far from the tiny reference in relative terms...
        assert!(a.relative_l2 > TOLERANCE, "{a}");
        // ...but within the rounding error of its terms.
        assert!(a.passed_by_element(), "{a}");
        // One term counted twice is not.
        let wrong = [got[0] + w[7] * x[7]];
        let a = Problem::new(&spec, dims, &w, &x).accuracy(&wrong).unwrap();
        assert!(!a.passed(), "{a}");
    }

    #[test]
    fn an_output_of_the_wrong_length_is_an_error() {
        let (spec, w, x) = cancelling(16);
        let problem = Problem::new(&spec, Dims::new(1, 1, 1), &w, &x);
        let e = problem.accuracy(&[0.0, 0.0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "output has 2 elements, expected N·Cout·Hout·Wout = 1"
        );
        let e = problem.accuracy_against(&[0.0; 3], &[0.0]).unwrap_err();
        assert!(e.to_string().starts_with("reference has 3 elements"), "{e}");
    }

    #[test]
    fn an_unwritten_element_fails() {
        let (spec, w, x) = cancelling(64);
        let dims = Dims::new(1, 1, 1);
        for got in [f32::NAN, f32::INFINITY] {
            let a = Problem::new(&spec, dims, &w, &x).accuracy(&[got]).unwrap();
            assert!(!a.passed(), "{got}: {a}");
        }
    }

    #[test]
    fn matching_nans_and_infinities_count_as_exact_in_the_element_check() {
        // Output 0 is NaN in both; output 1 cancels, so the element check runs.
        let (spec, w, mut x) = cancelling(64);
        let dims = Dims::new(1, 1, 2);
        x.extend_from_slice(&x.clone());
        x[0] = f32::NAN;
        let got = [f32::NAN, f32_sum(&w, &x[64..])];
        let a = Problem::new(&spec, dims, &w, &x).accuracy(&got).unwrap();
        assert!(a.passed_by_element(), "{a}");
        let a = Problem::new(&spec, dims, &w, &x)
            .accuracy(&[1.0, got[1]])
            .unwrap();
        assert!(!a.passed(), "{a}");
    }
}
