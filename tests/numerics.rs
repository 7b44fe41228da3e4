//! Floating-point semantics on every ISA and layout, against the f64 reference:
//! * NaN anywhere (input, weight, bias, residual) makes exactly the outputs that depend on it
//!   NaN, and every activation keeps NaN (relu(NaN) = NaN, clamp(NaN) = NaN, as in PyTorch);
//! * ±Inf propagate as IEEE arithmetic says: Inf·0 = NaN (an infinite input meeting a zero
//!   weight), Inf − Inf = NaN, clamps bound infinities;
//! * denormal inputs, weights and products are computed, not flushed;
//! * a run leaves the caller's floating-point control state (x86 MXCSR, aarch64 FPCR) as it
//!   found it, also when the caller has turned on flush-to-zero / denormals-are-zero; then
//!   denormals are flushed (that is the mode the caller asked for) and nothing else changes.

mod common;

use common::{generic_kernels, Epi, EPILOGUES};
use conv1x1::reference::Problem;
use conv1x1::{ConvSpec, Dims, Isa, KernelKind, Layout, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LAYOUTS: [Layout; 2] = [Layout::Nchw, Layout::Nhwc];
const CIN: usize = 19;
const COUT: usize = 21;

/// A problem whose data the tests then poison.
#[derive(Clone)]
struct Data {
    spec: ConvSpec,
    dims: Dims,
    weights: Vec<f32>,
    bias: Option<Vec<f32>>,
    input: Vec<f32>,
    residual: Option<Vec<f32>>,
}

impl Data {
    fn new(kernel: (Isa, KernelKind), layout: Layout, stride: usize, epi: Epi, seed: u64) -> Data {
        let spec = ConvSpec::new(CIN, COUT)
            .layout(layout)
            .stride(stride)
            .activation(epi.activation())
            .residual(true)
            .isa(kernel.0)
            .kernel(kernel.1);
        let dims = Dims::new(2, 5, 7);
        let out_len = Plan::new(&spec, &vec![0.0; CIN * COUT], None)
            .unwrap()
            .output_len(dims)
            .unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut v =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        Data {
            spec,
            dims,
            weights: v(CIN * COUT),
            bias: Some(v(COUT)),
            input: v(2 * CIN * 5 * 7),
            residual: Some(v(out_len)),
        }
    }

    /// Index of input element (n, ci, h, w) in the spec's layout.
    fn input_index(&self, n: usize, ci: usize, h: usize, w: usize) -> usize {
        let (hh, ww) = (self.dims.height, self.dims.width);
        match self.spec.layout {
            Layout::Nchw => ((n * CIN + ci) * hh + h) * ww + w,
            Layout::Nhwc => ((n * hh + h) * ww + w) * CIN + ci,
        }
    }

    fn run(&self) -> Vec<f32> {
        let plan = Plan::new(&self.spec, &self.weights, self.bias.as_deref()).unwrap();
        let mut out = vec![f32::NAN; plan.output_len(self.dims).unwrap()];
        // Poison with a value the tests never expect, so an unwritten element shows.
        out.fill(-12345.0);
        plan.run(self.dims, &self.input, &mut out, self.residual.as_deref())
            .unwrap();
        out
    }

    fn problem(&self) -> Problem<'_> {
        Problem::new(&self.spec, self.dims, &self.weights, &self.input)
            .bias(self.bias.as_deref())
            .residual(self.residual.as_deref())
    }

    /// Runs and checks against the reference element by element: NaN exactly where the
    /// reference has NaN, the same infinities, finite values within the usual tolerance.
    /// Returns the number of NaN outputs.
    fn check(&self, what: &str) -> usize {
        let got = self.run();
        let problem = self.problem();
        let want = problem.reference().unwrap();
        let ctx = format!("{what}: {:?}", self.spec);
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            if w.is_nan() {
                assert!(g.is_nan(), "{ctx}: output {i} is {g}, want NaN");
            } else if w.is_infinite() {
                assert_eq!(g as f64, w, "{ctx}: output {i}");
            } else {
                assert!(g.is_finite(), "{ctx}: output {i} is {g}, want {w}");
            }
        }
        let a = problem.accuracy_against(&want, &got).unwrap();
        assert!(a.passed(), "{ctx}: {a}");
        got.iter().filter(|v| v.is_nan()).count()
    }
}

/// Every generic kernel of every ISA × stride 1 / 2 × epilogue (none, relu, relu6, clamp).
fn for_each_config(mut f: impl FnMut(Data)) {
    let mut seed = 0;
    for layout in LAYOUTS {
        for kernel in generic_kernels(layout) {
            for stride in [1, 2] {
                for epi in EPILOGUES {
                    seed += 1;
                    f(Data::new(kernel, layout, stride, epi, seed));
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; no pointer logic of its own")]
fn nan_in_input_poisons_exactly_its_pixel() {
    for_each_config(|base| {
        let stride = base.spec.stride_h;
        // Pixel (3, 4) of image 1 is read at stride 1 and 2; (1, 1) only at stride 1.
        for (h, w) in [(4, 4), (1, 1)] {
            let mut d = base.clone();
            let i = d.input_index(1, 7, h, w);
            d.input[i] = f32::NAN;
            let read = h % stride == 0 && w % stride == 0;
            let nans = d.check("NaN input");
            assert_eq!(
                nans,
                if read { COUT } else { 0 },
                "{:?} pixel ({h}, {w})",
                d.spec
            );
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; no pointer logic of its own")]
fn nan_in_weight_bias_or_residual() {
    for_each_config(|base| {
        let pixels = base.residual.as_ref().unwrap().len() / COUT;
        let mut d = base.clone();
        d.weights[5 * CIN + 3] = f32::NAN; // output channel 5
        assert_eq!(d.check("NaN weight"), pixels);

        let mut d = base.clone();
        d.bias.as_mut().unwrap()[COUT - 1] = f32::NAN; // the last channel: a tail lane
        assert_eq!(d.check("NaN bias"), pixels);

        let mut d = base.clone();
        let r = d.residual.as_mut().unwrap();
        let last = r.len() - 1;
        r[last] = f32::NAN;
        r[0] = f32::NAN;
        assert_eq!(d.check("NaN residual"), 2);
    });
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; no pointer logic of its own")]
fn infinities() {
    for_each_config(|base| {
        // +Inf input: ±Inf in every channel (sign of the weight), NaN where the weight is 0.
        let mut d = base.clone();
        let i = d.input_index(0, 2, 0, 0);
        d.input[i] = f32::INFINITY;
        d.weights[4 * CIN + 2] = 0.0;
        assert!(d.check("Inf input, one zero weight") >= 1);

        // Inf − Inf in one sum: NaN in every channel whose weights have opposite signs there.
        let mut d = base.clone();
        let (a, b) = (d.input_index(1, 0, 2, 2), d.input_index(1, 1, 2, 2));
        d.input[a] = f32::INFINITY;
        d.input[b] = f32::NEG_INFINITY;
        d.check("Inf and -Inf inputs");

        // Infinite weight, bias and residual.
        let mut d = base.clone();
        d.weights[0] = f32::NEG_INFINITY;
        d.bias.as_mut().unwrap()[1] = f32::INFINITY;
        d.residual.as_mut().unwrap()[3] = f32::NEG_INFINITY;
        d.check("infinite weight, bias and residual");
    });
}

/// Values of magnitude about `scale` in [-scale, scale).
fn scaled(rng: &mut StdRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| rng.random_range(-1.0f32..1.0) * scale)
        .collect()
}

/// A plain convolution (no epilogue) on data of the given scales.
fn tiny_data(kernel: (Isa, KernelKind), layout: Layout, xs: f32, ws: f32, seed: u64) -> Data {
    let mut rng = StdRng::seed_from_u64(seed);
    let dims = Dims::new(1, 6, 5);
    Data {
        spec: ConvSpec::new(CIN, COUT)
            .layout(layout)
            .isa(kernel.0)
            .kernel(kernel.1),
        dims,
        weights: scaled(&mut rng, CIN * COUT, ws),
        bias: None,
        input: scaled(&mut rng, CIN * 30, xs),
        residual: None,
    }
}

fn count_denormal(v: &[f32]) -> usize {
    v.iter().filter(|x| x.is_subnormal()).count()
}

/// Denormal inputs, denormal weights, and normal operands whose products are denormal.
const DENORMAL_SCALES: [(f32, f32, &str); 3] = [
    (1e-38, 1.0, "denormal inputs"),
    (1.0, 1e-38, "denormal weights"),
    (1e-19, 1e-20, "denormal products"),
];

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; no pointer logic of its own")]
fn denormals_are_computed() {
    let mut seed = 500;
    for layout in LAYOUTS {
        for kernel in generic_kernels(layout) {
            for (xs, ws, what) in DENORMAL_SCALES {
                seed += 1;
                let d = tiny_data(kernel, layout, xs, ws, seed);
                d.check(what);
                let out = d.run();
                assert!(
                    count_denormal(&out) > out.len() / 4,
                    "{what} {kernel:?}: outputs flushed to zero?"
                );
            }
        }
    }
}

/// The caller's floating-point control register, and the bits that make it flush denormals.
#[cfg(target_arch = "x86_64")]
mod fp_control {
    use std::arch::asm;

    /// MXCSR: DAZ (bit 6) and FTZ (bit 15).
    pub const FLUSH_DENORMALS: u64 = (1 << 6) | (1 << 15);
    /// The exception flags (bits 0..=5) are status, set by any arithmetic: not control state.
    const STATUS: u64 = 0x3f;

    pub fn get() -> u64 {
        let mut csr = 0u32;
        // SAFETY: STMXCSR stores 4 bytes to a valid, writable u32.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        u64::from(csr) & !STATUS
    }

    pub fn set(value: u64) {
        let csr = value as u32;
        // SAFETY: LDMXCSR reads 4 bytes from a valid u32; every value written is one read
        // from the register plus DAZ/FTZ, all valid MXCSR settings.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags)) };
    }
}

#[cfg(target_arch = "aarch64")]
mod fp_control {
    use std::arch::asm;

    /// FPCR: FZ (bit 24), which flushes denormal inputs and results of Advanced SIMD and
    /// scalar arithmetic to zero.
    pub const FLUSH_DENORMALS: u64 = 1 << 24;

    pub fn get() -> u64 {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effects.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        fpcr
    }

    pub fn set(value: u64) {
        // SAFETY: every value written is one read from FPCR, plus FZ.
        unsafe { asm!("msr fpcr, {}", in(reg) value, options(nomem, nostack, preserves_flags)) };
    }
}

/// Restores the control register when a test ends, also when it fails.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
struct RestoreFpControl(u64);

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl Drop for RestoreFpControl {
    fn drop(&mut self) {
        fp_control::set(self.0);
    }
}

/// Runs every ISA and layout (with all epilogues, through `run` and through work items) and
/// asserts the control register reads the same before and after each call.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn assert_runs_keep_fp_control(mode: &str) {
    for_each_config(|d| {
        let before = fp_control::get();
        let plan = Plan::new(&d.spec, &d.weights, d.bias.as_deref()).unwrap();
        assert_eq!(
            fp_control::get(),
            before,
            "{mode}: Plan::new changed it: {:?}",
            d.spec
        );
        let mut out = vec![0.0; d.residual.as_ref().unwrap().len()];
        plan.run(d.dims, &d.input, &mut out, d.residual.as_deref())
            .unwrap();
        assert_eq!(
            fp_control::get(),
            before,
            "{mode}: run changed it: {:?}",
            d.spec
        );
        let items = plan
            .work_items(d.dims, &d.input, &mut out, d.residual.as_deref(), 3)
            .unwrap();
        items.for_each(|item| item.run());
        assert_eq!(
            fp_control::get(),
            before,
            "{mode}: a work item changed it: {:?}",
            d.spec
        );
    });
}

#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[cfg_attr(miri, ignore = "Miri does not run inline assembly")]
fn fp_control_state_is_left_alone() {
    let _restore = RestoreFpControl(fp_control::get());
    assert_runs_keep_fp_control("default mode");
}

/// A caller that turned on flush-to-zero / denormals-are-zero (as PyTorch's
/// `set_flush_denormal(True)` does) keeps that mode across our calls and gets its effect:
/// denormal operands read as zero, results of normal data unchanged.
///
/// Rust (LLVM) assumes the default floating-point environment, so changing it from Rust code
/// is outside the language's model; this test does it deliberately to stand in for a C or
/// Python caller, and only around calls into the library.
#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[cfg_attr(miri, ignore = "Miri does not run inline assembly")]
fn flush_to_zero_set_by_the_caller_is_kept() {
    let _restore = RestoreFpControl(fp_control::get());
    fp_control::set(fp_control::get() | fp_control::FLUSH_DENORMALS);
    let flushing = fp_control::get();
    assert_eq!(
        flushing & fp_control::FLUSH_DENORMALS,
        fp_control::FLUSH_DENORMALS
    );

    // Normal data: the same results as in the default mode, control state untouched.
    for_each_config(|d| {
        d.check("flush-to-zero mode, normal data");
    });
    assert_runs_keep_fp_control("flush-to-zero mode");
    assert_eq!(fp_control::get(), flushing);

    // Denormal operands read as zero and denormal products are flushed: every output is ±0.
    let mut seed = 900;
    for layout in LAYOUTS {
        for kernel in generic_kernels(layout) {
            for (xs, ws, what) in DENORMAL_SCALES {
                seed += 1;
                let out = tiny_data(kernel, layout, xs, ws, seed).run();
                assert!(
                    out.iter().all(|&v| v == 0.0),
                    "{what} {kernel:?}: not flushed under FTZ/DAZ"
                );
            }
        }
    }
    assert_eq!(fp_control::get(), flushing);
}
