//! The same 1x1 convolution as a plain GEMM through two GEMM libraries, the peers that reports
//! compare with: matrixmultiply's `sgemm` and the `gemm` crate's `gemm::gemm`.
//!
//! NCHW computes Y[Cout×P] = W[Cout×Cin]·X[Cin×P] per image, NHWC computes Y[P×Cout] = X[P×Cin]·Wᵀ.
//! With stride > 1 the pixels of one output row are a strided view of one input row, so it is
//! one GEMM per output row (no copy); with stride 1 one GEMM per image. Both peers get exactly
//! the same calls: single thread, no epilogue, weights as given (each call packs its operands).
//!
//! On x86-64 matrixmultiply 0.3 picks its AVX-512F kernel at run time; the gemm crate 0.18
//! runs AVX2+FMA on stable Rust (its AVX-512 kernels need its `nightly` feature).

use conv1x1::suite::Shape;
use conv1x1::Layout;

/// A GEMM library timed beside the convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// `matrixmultiply::sgemm`.
    MatrixMultiply,
    /// `gemm::gemm` with `Parallelism::None`.
    Gemm,
}

impl Peer {
    /// Every peer, in the order tables list them.
    pub const ALL: [Peer; 2] = [Peer::MatrixMultiply, Peer::Gemm];

    /// The name peer rows carry in place of an ISA.
    pub fn name(self) -> &'static str {
        match self {
            Peer::MatrixMultiply => "matrixmultiply",
            Peer::Gemm => "gemm",
        }
    }

    /// The function called, as rows' `kernel`.
    pub fn kernel(self) -> &'static str {
        match self {
            Peer::MatrixMultiply => "sgemm",
            Peer::Gemm => "gemm",
        }
    }

    /// The function called with its crate, as rows' `kernel_name`.
    pub fn function(self) -> &'static str {
        match self {
            Peer::MatrixMultiply => "matrixmultiply::sgemm",
            Peer::Gemm => "gemm::gemm",
        }
    }

    /// The peer whose rows carry `name` as their ISA.
    pub fn from_name(name: &str) -> Option<Peer> {
        Peer::ALL.into_iter().find(|p| p.name() == name)
    }
}

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

/// A read-only matrix operand: first element and strides, in elements.
#[derive(Clone, Copy)]
struct Operand {
    ptr: *const f32,
    row_stride: isize,
    col_stride: isize,
}

/// Computes `y = conv1x1(x, w)` for `shape` in `layout` with `peer`.
/// Returns `None` (computing nothing) if a slice does not have the length [`lens`] gives.
pub fn conv(
    peer: Peer,
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
                    Layout::Nchw => product(
                        peer,
                        (cout, cin, pixels),
                        Operand {
                            ptr: w.as_ptr(),
                            row_stride: cin as isize,
                            col_stride: 1,
                        },
                        Operand {
                            ptr: x.as_ptr().add(x_img + ih * wd),
                            row_stride: (h * wd) as isize,
                            col_stride: s as isize,
                        },
                        y.as_mut_ptr().add(y_img + oh * wo),
                        (ho * wo) as isize,
                    ),
                    Layout::Nhwc => product(
                        peer,
                        (pixels, cin, cout),
                        Operand {
                            ptr: x.as_ptr().add(x_img + ih * wd * cin),
                            row_stride: (s * cin) as isize,
                            col_stride: 1,
                        },
                        // Wᵀ (Cin × Cout): element (ci, co) sits at W[co·Cin + ci].
                        Operand {
                            ptr: w.as_ptr(),
                            row_stride: 1,
                            col_stride: cin as isize,
                        },
                        y.as_mut_ptr().add(y_img + oh * wo * cout),
                        cout as isize,
                    ),
                }
            }
        }
    }
    Some(())
}

/// `C[m×n] = A[m×k]·B[k×n]` with `peer`, overwriting C (row stride `c_row_stride`, column
/// stride 1) without reading it.
///
/// # Safety
/// Every element A, B and C address through their strides for these sizes must be inside
/// live allocations, and C must not overlap A or B.
unsafe fn product(
    peer: Peer,
    (m, k, n): (usize, usize, usize),
    a: Operand,
    b: Operand,
    c: *mut f32,
    c_row_stride: isize,
) {
    // SAFETY: the caller's contract is both libraries' contract for these arguments.
    unsafe {
        match peer {
            // C = 1·A·B + 0·C; with beta = 0 matrixmultiply does not read C.
            Peer::MatrixMultiply => matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.ptr,
                a.row_stride,
                a.col_stride,
                b.ptr,
                b.row_stride,
                b.col_stride,
                0.0,
                c,
                c_row_stride,
                1,
            ),
            // dst = alpha·dst + beta·lhs·rhs; read_dst = false: dst is only written. The gemm
            // crate takes the column stride before the row stride.
            Peer::Gemm => gemm::gemm(
                m,
                n,
                k,
                c,
                1,
                c_row_stride,
                false,
                a.ptr,
                a.col_stride,
                a.row_stride,
                b.ptr,
                b.col_stride,
                b.row_stride,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                gemm::Parallelism::None,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use conv1x1::reference::Problem;

    #[test]
    fn both_peers_match_the_reference_in_both_layouts_with_strides() {
        let mut rng = Rng::new(3);
        for text in [
            "5x7@6x5",
            "8x3@7s2",
            "3x9@9x4s3b2",
            "16x16@1",
            "40x33@10x9s2b2",
        ] {
            let shape: Shape = text.parse().unwrap();
            for layout in [Layout::Nchw, Layout::Nhwc] {
                for peer in Peer::ALL {
                    let (lw, lx, ly) = lens(&shape);
                    let (w, x) = (rng.fill(lw, 1.0), rng.fill(lx, 1.0));
                    let mut y = vec![f32::NAN; ly];
                    conv(peer, &shape, layout, &w, &x, &mut y).unwrap();
                    let spec = shape.spec().layout(layout);
                    let a = Problem::new(&spec, shape.dims(), &w, &x)
                        .accuracy(&y)
                        .unwrap();
                    assert!(a.passed(), "{text} {layout} {}: {a}", peer.name());
                }
            }
        }
    }

    #[test]
    fn wrong_lengths_compute_nothing() {
        let shape: Shape = "4x4@4".parse().unwrap();
        for peer in Peer::ALL {
            let mut y = vec![0.0; 64];
            assert!(conv(peer, &shape, Layout::Nchw, &[0.0; 15], &[0.0; 64], &mut y).is_none());
            assert!(y.iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn names_round_trip() {
        for peer in Peer::ALL {
            assert_eq!(Peer::from_name(peer.name()), Some(peer));
            assert!(peer.function().ends_with(peer.kernel()));
        }
        assert_eq!(Peer::from_name("avx512"), None);
    }
}
