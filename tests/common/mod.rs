//! Helpers shared by the integration tests: random problems, NaN-poisoned outputs and the
//! comparison against the f64 reference.
#![allow(dead_code)]

use conv1x1::reference::{self, Accuracy};
use conv1x1::{dispatch, Activation, ConvSpec, Dims, Isa, KernelKind, Layout, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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

/// The data of one case: weights, bias, input, residual.
pub struct Operands {
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub input: Vec<f32>,
    pub residual: Option<Vec<f32>>,
    pub out_len: usize,
}

pub fn operands(case: &Case, seed: u64) -> Operands {
    let mut rng = StdRng::seed_from_u64(seed);
    let spec = case.spec();
    let d = case.dims;
    let hout = (d.height - 1) / spec.stride_h + 1;
    let wout = (d.width - 1) / spec.stride_w + 1;
    let out_len = d.batch * case.cout * hout * wout;
    Operands {
        weights: random_vec(&mut rng, case.cin * case.cout),
        bias: case.epi.bias().then(|| random_vec(&mut rng, case.cout)),
        input: random_vec(&mut rng, d.batch * case.cin * d.height * d.width),
        residual: case.epi.residual().then(|| random_vec(&mut rng, out_len)),
        out_len,
    }
}

impl Operands {
    /// These operands as the reference takes them.
    pub fn problem<'a>(&'a self, spec: &'a ConvSpec, dims: Dims) -> reference::Problem<'a> {
        reference::Problem::new(spec, dims, &self.weights, &self.input)
            .bias(self.bias.as_deref())
            .residual(self.residual.as_deref())
    }
}

/// Builds the plan, runs it on a NaN-poisoned output and compares it with the f64
/// reference (`conv1x1::reference::Problem::accuracy`: relative L2 error, and where outputs
/// cancel, every element within the rounding error of its sum).
pub fn run_case(case: &Case, seed: u64) -> Accuracy {
    let p = operands(case, seed);
    let spec = case.spec();
    let plan =
        Plan::new(&spec, &p.weights, p.bias.as_deref()).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    assert_eq!(plan.isa(), case.isa);
    let mut out = vec![f32::NAN; p.out_len];
    plan.run(case.dims, &p.input, &mut out, p.residual.as_deref())
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
    p.problem(&spec, case.dims).accuracy(&out).unwrap()
}

/// Runs a case and asserts it matches the reference.
pub fn check_case(case: &Case, seed: u64) {
    let a = run_case(case, seed);
    assert!(a.passed(), "{case:?} (kernel {}): {a}", kernel_name(case));
}

pub fn kernel_name(case: &Case) -> String {
    let p = operands(case, 0);
    Plan::new(&case.spec(), &p.weights, p.bias.as_deref())
        .map(|pl| pl.kernel().name.to_string())
        .unwrap_or_else(|e| format!("<{e}>"))
}
