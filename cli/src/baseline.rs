//! The same 1x1 convolution as a plain GEMM through matrixmultiply's `sgemm`: the baseline
//! line of reports. NCHW computes Y[Cout×P] = W[Cout×Cin]·X[Cin×P] per image, NHWC computes
//! Y[P×Cout] = X[P×Cin]·Wᵀ. With stride > 1 the pixels of one output row are a strided view
//! of one input row, so it is one sgemm per output row (no copy); with stride 1 one sgemm per
//! image. Single thread, no epilogue.

use conv1x1::suite::Shape;
use conv1x1::Layout;

/// Element counts `(weights, input, output)` of `shape`.
pub fn lens(shape: &Shape) -> (usize, usize, usize) {
    let pixels_in = shape.h * shape.w;
    let pixels_out = shape.hout() * shape.wout();
    (
        shape.cout * shape.cin,
        shape.batch * shape.cin * pixels_in,
        shape.batch * shape.cout * pixels_out,
    )
}

/// Computes `y = conv1x1(x, w)` for `shape` in `layout` with matrixmultiply's sgemm.
/// Returns `None` (computing nothing) if a slice does not have the length [`lens`] gives.
pub fn sgemm_conv(
    shape: &Shape,
    layout: Layout,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
) -> Option<()> {
    if (w.len(), x.len(), y.len()) != lens(shape) {
        return None;
    }
    let (cin, cout, s) = (shape.cin, shape.cout, shape.stride);
    let (h, wd, ho, wo) = (shape.h, shape.w, shape.hout(), shape.wout());
    // One GEMM per (image, block of output rows): every output row at once when the input
    // pixels of the block form one arithmetic progression (stride 1), else one row.
    let rows_per_gemm = if s == 1 { ho } else { 1 };
    for n in 0..shape.batch {
        let x_img = n * cin * h * wd;
        let y_img = n * cout * ho * wo;
        for oh in (0..ho).step_by(rows_per_gemm) {
            let pixels = rows_per_gemm * wo;
            let ih = oh * s;
            // SAFETY (both arms): the largest index each matrix reaches is its offset plus
            // (rows-1)·row_stride + (cols-1)·col_stride, which is inside the slice:
            // NCHW  X: x_img + ih·W + (Cin-1)·H·W + (pixels-1)·s  <  x_img + Cin·H·W,
            //          because ih + ((pixels-1)·s)/W ≤ (Ho-1)·s ≤ H-1 and (Wo-1)·s ≤ W-1;
            //       Y: y_img + oh·Wo + (Cout-1)·Ho·Wo + pixels-1 < y_img + Cout·Ho·Wo;
            // NHWC  X: x_img + ih·W·Cin + (pixels-1)·s·Cin + Cin-1 < x_img + H·W·Cin (same
            //          pixel bound), Y: y_img + oh·Wo·Cout + pixels·Cout ≤ y_img + Ho·Wo·Cout;
            //       W: (Cout-1)·Cin + Cin-1 < Cout·Cin.
            // The output does not alias the inputs (distinct slices, `y` is `&mut`).
            unsafe {
                match layout {
                    Layout::Nchw => matrixmultiply::sgemm(
                        cout,
                        cin,
                        pixels,
                        1.0,
                        w.as_ptr(),
                        cin as isize,
                        1,
                        x.as_ptr().add(x_img + ih * wd),
                        (h * wd) as isize,
                        s as isize,
                        0.0,
                        y.as_mut_ptr().add(y_img + oh * wo),
                        (ho * wo) as isize,
                        1,
                    ),
                    Layout::Nhwc => matrixmultiply::sgemm(
                        pixels,
                        cin,
                        cout,
                        1.0,
                        x.as_ptr().add(x_img + ih * wd * cin),
                        (s * cin) as isize,
                        1,
                        w.as_ptr(),
                        1,
                        cin as isize,
                        0.0,
                        y.as_mut_ptr().add(y_img + oh * wo * cout),
                        cout as isize,
                        1,
                    ),
                }
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use conv1x1::reference::{conv1x1_reference, relative_l2_error};

    #[test]
    fn matches_the_reference_in_both_layouts_with_strides() {
        let mut rng = Rng::new(3);
        for text in ["5x7@6x5", "8x3@7s2", "3x9@9x4s3b2", "16x16@1"] {
            let shape: Shape = text.parse().unwrap();
            for layout in [Layout::Nchw, Layout::Nhwc] {
                let (lw, lx, ly) = lens(&shape);
                let (w, x) = (rng.fill(lw, 1.0), rng.fill(lx, 1.0));
                let mut y = vec![f32::NAN; ly];
                sgemm_conv(&shape, layout, &w, &x, &mut y).unwrap();
                let spec = shape.spec().layout(layout);
                let want = conv1x1_reference(&spec, shape.dims(), &w, None, &x, None).unwrap();
                let err = relative_l2_error(&y, &want);
                assert!(err < 1e-5, "{text} {layout}: {err}");
            }
        }
    }

    #[test]
    fn wrong_lengths_compute_nothing() {
        let shape: Shape = "4x4@4".parse().unwrap();
        let mut y = vec![0.0; 64];
        assert!(sgemm_conv(&shape, Layout::Nchw, &[0.0; 15], &[0.0; 64], &mut y).is_none());
    }
}
