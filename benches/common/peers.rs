//! The GEMM libraries timed beside the convolution, on the same matrix product:
//!
//! - NCHW, per image: `Y[Cout × P] = W[Cout × Cin] · X[Cin × P]` (one call per image);
//! - NHWC, whole batch: `Y[N·P × Cout] = X[N·P × Cin] · Wᵀ[Cin × Cout]` (one call).
//!
//! `W` is the convolution's `[Cout][Cin]` weight as given (the peers have no pre-packed form,
//! so each call packs its operands internally; that cost is part of what they are timed on).
//! P counts output pixels: for stride-2 shapes the peers read an already-subsampled input.
//!
//! Their ISAs on x86-64: matrixmultiply 0.3.11 picks its AVX-512F kernel at run time (when
//! built with Rust ≥ 1.89); the gemm crate 0.18 runs AVX2+FMA on stable Rust (its AVX-512
//! kernels need its `nightly` feature).

use conv1x1::Layout;

/// A GEMM library timed beside the convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// `matrixmultiply::sgemm` (always single-threaded here).
    MatrixMultiply,
    /// `gemm::gemm` from the `gemm` crate.
    Gemm,
}

impl Peer {
    pub const ALL: [Peer; 2] = [Peer::MatrixMultiply, Peer::Gemm];

    pub fn name(self) -> &'static str {
        match self {
            Peer::MatrixMultiply => "matrixmultiply",
            Peer::Gemm => "gemm",
        }
    }
}

/// The matrix product behind one 1x1 convolution.
#[derive(Debug, Clone, Copy)]
pub struct ConvGemm {
    pub layout: Layout,
    pub batch: usize,
    pub cin: usize,
    pub cout: usize,
    /// Output pixels per image.
    pub pixels: usize,
}

impl ConvGemm {
    pub fn input_len(&self) -> usize {
        self.batch * self.cin * self.pixels
    }
    pub fn output_len(&self) -> usize {
        self.batch * self.cout * self.pixels
    }

    /// Computes `y` from weights `w` and the (subsampled) input `x` with `peer`.
    /// `gemm_threads` > 1 lets the `gemm` crate use that many rayon threads.
    pub fn run(&self, peer: Peer, w: &[f32], x: &[f32], y: &mut [f32], gemm_threads: usize) {
        assert_eq!(w.len(), self.cout * self.cin, "weight length");
        assert_eq!(x.len(), self.input_len(), "input length");
        assert_eq!(y.len(), self.output_len(), "output length");
        let parallelism = if gemm_threads > 1 {
            gemm::Parallelism::Rayon(gemm_threads)
        } else {
            gemm::Parallelism::None
        };
        let (cin, cout, p) = (self.cin, self.cout, self.pixels);
        match self.layout {
            Layout::Nchw => {
                for (xi, yi) in x.chunks_exact(cin * p).zip(y.chunks_exact_mut(cout * p)) {
                    // Row-major operands: W (cout × cin, row stride cin), X (cin × p, row
                    // stride p), Y (cout × p, row stride p).
                    let a = Operand::row_major(w, cin);
                    let b = Operand::row_major(xi, p);
                    // SAFETY: the lengths asserted above make every index the strides can
                    // form (row < rows, col < cols) fall inside its slice.
                    unsafe { product(peer, cout, cin, p, a, b, yi, parallelism) };
                }
            }
            Layout::Nhwc => {
                let m = self.batch * p;
                let a = Operand::row_major(x, cin);
                // Wᵀ (cin × cout): element (ci, co) sits at W[co·cin + ci].
                let b = Operand {
                    data: w,
                    row_stride: 1,
                    col_stride: cin as isize,
                };
                // SAFETY: as above: x is m × cin, Wᵀ is cin × cout, y is m × cout.
                unsafe { product(peer, m, cin, cout, a, b, y, parallelism) };
            }
        }
    }
}

/// A read-only matrix with its strides (in elements).
#[derive(Clone, Copy)]
struct Operand<'a> {
    data: &'a [f32],
    row_stride: isize,
    col_stride: isize,
}

impl<'a> Operand<'a> {
    fn row_major(data: &'a [f32], cols: usize) -> Self {
        Operand {
            data,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }
}

/// `c[m × n] (row-major) = a[m × k] · b[k × n]`, overwriting `c`.
///
/// # Safety
/// `a` must hold every element its strides address for m × k, `b` for k × n, and `c` must
/// have at least m·n elements.
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    peer: Peer,
    m: usize,
    k: usize,
    n: usize,
    a: Operand,
    b: Operand,
    c: &mut [f32],
    parallelism: gemm::Parallelism,
) {
    debug_assert!(c.len() >= m * n);
    match peer {
        // C = 1·A·B + 0·C; with beta = 0 matrixmultiply does not read C.
        Peer::MatrixMultiply => matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.row_stride,
            a.col_stride,
            b.data.as_ptr(),
            b.row_stride,
            b.col_stride,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        ),
        // dst = alpha·dst + beta·lhs·rhs; read_dst = false means dst is only written.
        // The gemm crate takes column stride before row stride.
        Peer::Gemm => gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        ),
    }
}
