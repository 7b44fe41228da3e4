//! Helpers shared by the integration tests: random problems, NaN-poisoned outputs and the
//! comparison against the f64 reference.
#![allow(dead_code)]

use conv1x1::reference::{conv1x1_reference, relative_l2_error};
use conv1x1::{dispatch, Activation, ConvSpec, Dims, Isa, KernelKind, Layout, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Relative L2 error every kernel must stay under (f32 sums vs the f64 reference).
pub const TOLERANCE: f64 = 1e-5;

/// The fused epilogues the tests cycle through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Epi {
    Plain,
    BiasRelu,
    ResidualRelu6,
    BiasResidualClamp,
}

pub const EPILOGUES: [Epi; 4] = [
    Epi::Plain,
    Epi::BiasRelu,
    Epi::ResidualRelu6,
    Epi::BiasResidualClamp,
];

impl Epi {
    pub fn bias(self) -> bool {
        matches!(self, Epi::BiasRelu | Epi::BiasResidualClamp)
    }
    pub fn residual(self) -> bool {
        matches!(self, Epi::ResidualRelu6 | Epi::BiasResidualClamp)
    }
    pub fn activation(self) -> Activation {
        match self {
            Epi::Plain => Activation::None,
            Epi::BiasRelu => Activation::Relu,
            Epi::ResidualRelu6 => Activation::Relu6,
            Epi::BiasResidualClamp => Activation::Clamp {
                min: -0.5,
                max: 0.75,
            },
        }
    }
}

/// Whether to run the reduced sweep: set `CONV1X1_TEST_QUICK=1` under emulation (qemu runs
/// SIMD code hundreds of times slower), where images above 100 pixels are left out. Every ISA,
/// layout, stride, batch, epilogue and tail class is still covered.
pub fn quick() -> bool {
    std::env::var_os("CONV1X1_TEST_QUICK").is_some_and(|v| v != "0")
}

/// ISAs this CPU runs, every one of them tested (not only the one dispatch picks).
pub fn isas() -> Vec<Isa> {
    dispatch::supported_isas()
}

/// Every generic kernel of `layout` this CPU can run, with its ISA: tests force each one by
/// name, so that NCHW's two kernel families (vectorized along pixels and along output
/// channels) are both covered whatever dispatch would pick.
pub fn generic_kernels(layout: Layout) -> Vec<(Isa, KernelKind)> {
    conv1x1::kernels()
        .filter(|k| !k.specialized() && k.layout == layout && dispatch::is_supported(k.isa))
        .map(|k| (k.isa, KernelKind::Named(k.name)))
        .collect()
}

pub fn random_vec(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// One test problem.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub isa: Isa,
    pub layout: Layout,
    pub cin: usize,
    pub cout: usize,
    pub dims: Dims,
    pub stride: (usize, usize),
    pub epi: Epi,
    pub kernel: KernelKind,
}

impl Case {
    pub fn spec(&self) -> ConvSpec {
        ConvSpec::new(self.cin, self.cout)
            .layout(self.layout)
            .stride_hw(self.stride.0, self.stride.1)
            .activation(self.epi.activation())
            .residual(self.epi.residual())
            .isa(self.isa)
            .kernel(self.kernel)
    }
}

/// Data of one problem: weights, bias, input, residual.
pub struct Problem {
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub input: Vec<f32>,
    pub residual: Option<Vec<f32>>,
    pub out_len: usize,
}

pub fn problem(case: &Case, seed: u64) -> Problem {
    let mut rng = StdRng::seed_from_u64(seed);
    let spec = case.spec();
    let d = case.dims;
    let hout = (d.height - 1) / spec.stride_h + 1;
    let wout = (d.width - 1) / spec.stride_w + 1;
    let out_len = d.batch * case.cout * hout * wout;
    Problem {
        weights: random_vec(&mut rng, case.cin * case.cout),
        bias: case.epi.bias().then(|| random_vec(&mut rng, case.cout)),
        input: random_vec(&mut rng, d.batch * case.cin * d.height * d.width),
        residual: case.epi.residual().then(|| random_vec(&mut rng, out_len)),
        out_len,
    }
}

/// Builds the plan, runs it on a NaN-poisoned output and returns (output, reference).
pub fn run_case(case: &Case, seed: u64) -> (Vec<f32>, Vec<f64>) {
    let p = problem(case, seed);
    let spec = case.spec();
    let plan =
        Plan::new(&spec, &p.weights, p.bias.as_deref()).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    assert_eq!(plan.isa(), case.isa);
    let mut out = vec![f32::NAN; p.out_len];
    plan.run(case.dims, &p.input, &mut out, p.residual.as_deref())
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
    let want = conv1x1_reference(
        &spec,
        case.dims,
        &p.weights,
        p.bias.as_deref(),
        &p.input,
        p.residual.as_deref(),
    )
    .unwrap();
    (out, want)
}

/// The reference on the absolute values of every operand, without activation: per output,
/// the sum of the magnitudes of its terms. f32 rounding errors scale with it, not with the
/// output itself: an output whose terms cancel (256 products summing to 0.00136, magnitudes
/// 57.5) carries a rounding error of 4e-7 from a correct kernel, 3e-4 of its value.
pub fn term_magnitudes(case: &Case, seed: u64) -> Vec<f64> {
    let p = problem(case, seed);
    let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
    let spec = case.spec().activation(Activation::None);
    conv1x1_reference(
        &spec,
        case.dims,
        &abs(&p.weights),
        p.bias.as_deref().map(abs).as_deref(),
        &abs(&p.input),
        p.residual.as_deref().map(abs).as_deref(),
    )
    .unwrap()
}

/// Runs a case and asserts it matches the reference: relative L2 error at most `TOLERANCE`.
/// Where that fails because outputs cancel, every element must instead stay within the
/// worst-case rounding error of an f32 sum of its Cin + 2 terms (products, bias, residual),
/// each rounded once: (Cin + 2) · 2⁻²⁴ of the magnitudes of its terms (`term_magnitudes`;
/// activations only bring values closer). A wrong or missing term costs about 1/Cin of the
/// magnitudes, over 15 times that bound at any Cin the tests use, in any single element.
pub fn check_case(case: &Case, seed: u64) {
    let (out, want) = run_case(case, seed);
    let err = relative_l2_error(&out, &want);
    if err <= TOLERANCE {
        return;
    }
    let scale = term_magnitudes(case, seed);
    let bound = (case.cin + 2) as f64 * (f32::EPSILON as f64 / 2.0) * 1.01;
    let mut worst = 0.0f64;
    for ((&g, &w), &m) in out.iter().zip(&want).zip(&scale) {
        let e = (g as f64 - w).abs() / m.max(w.abs()).max(f64::MIN_POSITIVE);
        // NaN (an element never written) fails too.
        if e.is_nan() || e > worst {
            worst = if e.is_nan() { f64::INFINITY } else { e };
        }
    }
    assert!(
        worst <= bound,
        "{case:?} (kernel {}): relative L2 error {err:e}; worst element {worst:e} of the \
         magnitudes of its terms, bound {bound:e}",
        kernel_name(case)
    );
}

pub fn kernel_name(case: &Case) -> String {
    let p = problem(case, 0);
    Plan::new(&case.spec(), &p.weights, p.bias.as_deref())
        .map(|pl| pl.kernel().name.to_string())
        .unwrap_or_else(|e| format!("<{e}>"))
}
