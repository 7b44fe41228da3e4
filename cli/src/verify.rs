//! `conv1x1 verify`: every kernel usable here against the f64 reference on random shapes.

use std::io::Write;

use anyhow::{bail, Result};
use conv1x1::reference::{Accuracy, Problem, TOLERANCE};
use conv1x1::{Activation, ConvSpec, Dims, KernelInfo, KernelKind, Plan};

use crate::args::VerifyArgs;
use crate::format;
use crate::rng::Rng;

/// Multiply-adds a case may cost the f64 reference, to keep the battery fast.
const MAX_MACS: usize = 3_000_000;

/// Channel counts drawn for generic kernels: odd counts, lane tails, multiples, and some
/// large enough to need cache blocking.
const CHANNELS: [usize; 24] = [
    1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 24, 31, 32, 33, 47, 63, 64, 65, 96, 129, 257, 300, 520,
];
const STRIDES: [(usize, usize); 6] = [(1, 1), (1, 1), (2, 2), (2, 2), (1, 2), (3, 1)];

/// One random problem.
struct Case {
    spec: ConvSpec,
    dims: Dims,
    bias: bool,
}

impl Case {
    /// Case `i` for `kernel`: epilogues cycle through all 16 combinations of activation ×
    /// bias × residual; sizes are random.
    fn random(kernel: &KernelInfo, i: usize, rng: &mut Rng) -> Case {
        let cin = kernel.cin.unwrap_or_else(|| rng.pick(&CHANNELS));
        let cout = kernel.cout.unwrap_or_else(|| rng.pick(&CHANNELS));
        let activation = match i % 4 {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::Relu6,
            _ => Activation::Clamp {
                min: -0.5,
                max: 0.75,
            },
        };
        let (sh, sw) = rng.pick(&STRIDES);
        let batch = rng.range(1, 3);
        // Mostly small images; every fourth case large enough to span several pixel blocks.
        let max_side = if i % 4 == 3 { 40 } else { 12 };
        let (mut h, mut w) = (rng.range(1, max_side), rng.range(1, max_side));
        let macs = |h: usize, w: usize| batch * cin * cout * h.div_ceil(sh) * w.div_ceil(sw);
        while macs(h, w) > MAX_MACS && (h > 1 || w > 1) {
            (h, w) = (h.div_ceil(2), w.div_ceil(2));
        }
        let spec = ConvSpec::new(cin, cout)
            .layout(kernel.layout)
            .stride_hw(sh, sw)
            .activation(activation)
            .residual((i / 8) % 2 == 1)
            .isa(kernel.isa)
            .kernel(KernelKind::Named(kernel.name));
        Case {
            spec,
            dims: Dims::new(batch, h, w),
            bias: (i / 4) % 2 == 1,
        }
    }

    fn describe(&self) -> String {
        let s = &self.spec;
        format!(
            "Cin={} Cout={} N={} H={} W={} stride={}x{} bias={} residual={} activation={}",
            s.cin,
            s.cout,
            self.dims.batch,
            self.dims.height,
            self.dims.width,
            s.stride_h,
            s.stride_w,
            self.bias,
            s.residual,
            s.activation
        )
    }

    /// Runs the case (whole, or split into work items for odd `i`) and compares it with the
    /// reference.
    fn check(&self, kernel: &KernelInfo, i: usize, rng: &mut Rng) -> Result<Accuracy> {
        let (cin, cout) = (self.spec.cin, self.spec.cout);
        let weights = rng.fill(cin * cout, 1.0 / (cin as f32).sqrt());
        let bias = self.bias.then(|| rng.fill(cout, 1.0));
        let plan = Plan::new(&self.spec, &weights, bias.as_deref())?;
        if plan.kernel().name != kernel.name {
            bail!(
                "plan chose kernel {} instead of {}",
                plan.kernel().name,
                kernel.name
            );
        }
        let input = rng.fill(plan.input_len(self.dims)?, 1.0);
        let out_len = plan.output_len(self.dims)?;
        let residual = self.spec.residual.then(|| rng.fill(out_len, 1.0));
        // NaN poison: an element the kernel forgets to write fails the comparison.
        let mut output = vec![f32::NAN; out_len];
        if i.is_multiple_of(2) {
            plan.run(self.dims, &input, &mut output, residual.as_deref())?;
        } else {
            let items = plan.work_items(self.dims, &input, &mut output, residual.as_deref(), 3)?;
            // Last to first: items must not depend on running in order.
            let items: Vec<_> = items.collect();
            for item in items.into_iter().rev() {
                item.run();
            }
        }
        Ok(Problem::new(&self.spec, self.dims, &weights, &input)
            .bias(bias.as_deref())
            .residual(residual.as_deref())
            .accuracy(&output)?)
    }
}

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<()> {
    let isas = args.isa.resolve()?;
    let kernels: Vec<&'static KernelInfo> = conv1x1::kernels()
        .filter(|k| isas.contains(&k.isa))
        .collect();
    writeln!(
        out,
        "verify: {} kernels, {} cases each, seed {}, tolerance {TOLERANCE:e} (relative L2 vs \
         the f64 reference; where outputs cancel, every element within the rounding error of \
         its sum)",
        kernels.len(),
        args.cases,
        args.seed
    )?;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let (mut total, mut failed, mut cancelling) = (0usize, 0usize, 0usize);
    for (k_idx, kernel) in kernels.iter().enumerate() {
        let mut rng = Rng::new(args.seed.wrapping_mul(1000).wrapping_add(k_idx as u64));
        let mut worst = 0.0f64;
        let mut bad = 0;
        for i in 0..args.cases as usize {
            let case = Case::random(kernel, i, &mut rng);
            let a = case
                .check(kernel, i, &mut rng)
                .map_err(|e| anyhow::anyhow!("{} on {}: {e}", kernel.name, case.describe()))?;
            total += 1;
            // NaN means a comparison that cannot pass.
            let err = if a.relative_l2.is_nan() {
                f64::INFINITY
            } else {
                a.relative_l2
            };
            worst = worst.max(err);
            cancelling += usize::from(a.passed_by_element());
            if !a.passed() {
                bad += 1;
                if failures.len() < 20 {
                    failures.push(format!("{}: {} ({a})", kernel.name, case.describe()));
                }
            }
        }
        failed += bad;
        rows.push(vec![
            kernel.name.to_string(),
            kernel.isa.to_string(),
            kernel.layout.to_string(),
            if kernel.specialized() {
                "specialized"
            } else {
                "generic"
            }
            .to_string(),
            args.cases.to_string(),
            format!("{worst:.2e}"),
            if bad == 0 {
                "ok".to_string()
            } else {
                format!("FAILED ({bad})")
            },
        ]);
    }
    write!(
        out,
        "{}",
        format::table(
            "  ",
            &[
                "kernel",
                "isa",
                "layout",
                "kind",
                "cases",
                "max rel. L2",
                "status"
            ],
            &[false, false, false, false, true, true, false],
            &rows,
        )
    )?;
    if failed > 0 {
        writeln!(out, "failing cases (first {}):", failures.len())?;
        for f in &failures {
            writeln!(out, "  {f}")?;
        }
        bail!("{failed} of {total} cases exceed the tolerance {TOLERANCE:e}");
    }
    if cancelling > 0 {
        writeln!(
            out,
            "{cancelling} cases with cancelling outputs exceed the relative L2 tolerance and \
             passed the per-element check"
        )?;
    }
    writeln!(out, "all {total} cases passed")?;
    Ok(())
}
