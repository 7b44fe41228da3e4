//! What must hold for every decoded case, on every ISA (and on the automatic choice):
//! * plan creation and runs fail exactly when the caller got something wrong, with an error
//!   variant that names one of the faults present, and a failed run writes nothing;
//! * a successful run writes every output element and matches the f64 reference: NaN where
//!   it has NaN, the same infinities, finite values within tolerance;
//! * work items (safe and raw) give bitwise the result of `run`.
//!
//! Any violation panics, which libFuzzer reports as a crash.

use conv1x1::reference::Problem;
use conv1x1::{
    dispatch, kernels, Activation, ConvSpec, Dims, Error, Isa, KernelInfo, KernelKind, Plan,
};

use crate::case::{Case, POISON};

/// The error variants, without their data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Zero,
    Length,
    Overflow,
    UnsupportedIsa,
    NoSpecializedKernel,
    InvalidClamp,
    Residual,
    WorkItem,
    KernelMismatch,
    Parse,
}

fn fault_of(e: &Error) -> Fault {
    match e {
        Error::Zero { .. } => Fault::Zero,
        Error::Length { .. } => Fault::Length,
        Error::Overflow { .. } => Fault::Overflow,
        Error::UnsupportedIsa { .. } => Fault::UnsupportedIsa,
        Error::NoSpecializedKernel { .. } => Fault::NoSpecializedKernel,
        Error::InvalidClamp { .. } => Fault::InvalidClamp,
        Error::Residual(_) => Fault::Residual,
        Error::WorkItem { .. } => Fault::WorkItem,
        Error::KernelMismatch { .. } => Fault::KernelMismatch,
        Error::Parse { .. } => Fault::Parse,
        other => panic!("unexpected error variant: {other:?}"),
    }
}

/// Slices cannot exceed isize::MAX bytes: element counts past this are overflows.
const MAX_ELEMENTS: usize = isize::MAX as usize / 4;

fn product(v: &[usize]) -> Option<usize> {
    v.iter()
        .try_fold(1usize, |acc, &x| acc.checked_mul(x))
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// Faults of the spec and weights/bias (independent of the ISA).
fn spec_faults(case: &Case) -> Vec<Fault> {
    let s = &case.spec;
    let mut faults = Vec::new();
    if s.cin == 0 || s.cout == 0 || s.stride_h == 0 || s.stride_w == 0 {
        faults.push(Fault::Zero);
    }
    match s.cin.checked_mul(s.cout) {
        Some(n) if n != case.weights.len() => faults.push(Fault::Length),
        Some(_) => {}
        None => faults.extend([Fault::Overflow, Fault::Length]),
    }
    if product(&[s.cin, s.cout]).is_none() || product(&[s.cin, s.cout.saturating_add(64)]).is_none()
    {
        // The packed copy may also be refused for its size.
        faults.push(Fault::Overflow);
    }
    if matches!(&case.bias, Some(b) if b.len() != s.cout) {
        faults.push(Fault::Length);
    }
    if let Activation::Clamp { min, max } = s.activation {
        if min.is_nan() || max.is_nan() || min > max {
            faults.push(Fault::InvalidClamp);
        }
    }
    faults
}

/// Faults of the ISA choice and kernel kind.
fn isa_faults(spec: &ConvSpec, isa: Option<Isa>) -> Vec<Fault> {
    let named = match spec.kernel {
        KernelKind::Named(name) => Some(kernels().find(|k| k.name == name)),
        _ => None,
    };
    // A forced ISA wins; else a kernel forced by name brings its own; else the best ISA (the
    // fuzzer runs without CONV1X1_ISA).
    let isa = isa
        .or(named.flatten().map(|k| k.isa))
        .unwrap_or_else(dispatch::best_isa);
    let mut faults = Vec::new();
    if !dispatch::is_supported(isa) {
        faults.push(Fault::UnsupportedIsa);
    }
    let fits = |k: &KernelInfo| {
        k.isa == isa
            && k.layout == spec.layout
            && k.cin.is_none_or(|c| c == spec.cin)
            && k.cout.is_none_or(|c| c == spec.cout)
    };
    match (spec.kernel, named) {
        (KernelKind::Specialized, _) if !kernels().any(|k| k.specialized() && fits(k)) => {
            faults.push(Fault::NoSpecializedKernel)
        }
        (_, Some(None)) => faults.push(Fault::Parse),
        (_, Some(Some(k))) if !fits(k) => faults.push(Fault::KernelMismatch),
        _ => {}
    }
    faults
}

/// What the size queries must answer for the case's dimensions: the input length, the
/// output length and the output dimensions, or the fault.
fn geometry(case: &Case) -> Result<(usize, usize, Dims), Fault> {
    let (s, d) = (&case.spec, case.dims);
    if d.batch == 0 || d.height == 0 || d.width == 0 || s.stride_h == 0 || s.stride_w == 0 {
        return Err(Fault::Zero);
    }
    let hout = (d.height - 1) / s.stride_h + 1;
    let wout = (d.width - 1) / s.stride_w + 1;
    let input = product(&[d.batch, s.cin, d.height, d.width]);
    let output = product(&[d.batch, s.cout, hout, wout]);
    match (input, output) {
        (Some(i), Some(o)) => Ok((i, o, Dims::new(d.batch, hout, wout))),
        _ => Err(Fault::Overflow),
    }
}

/// Faults of the dimensions and the run's buffers.
fn run_faults(case: &Case) -> Vec<Fault> {
    let (input, output) = match geometry(case) {
        Ok((input, output, _)) => (input, output),
        Err(Fault::Zero) => return vec![Fault::Zero],
        // No buffer is that long: the lengths are wrong too.
        Err(f) => return vec![f, Fault::Length, Fault::Residual],
    };
    let mut faults = Vec::new();
    if input != case.input.len() || output != case.output_len {
        faults.push(Fault::Length);
    }
    match (&case.residual, case.spec.residual) {
        (Some(_), false) | (None, true) => faults.push(Fault::Residual),
        (Some(r), true) if r.len() != output => faults.push(Fault::Length),
        _ => {}
    }
    faults
}

/// `input_len`, `output_len`, `output_dims` and `work_item_count` agree with the geometry.
fn check_size_queries(case: &Case, plan: &Plan, ctx: &str) {
    let (d, geo) = (case.dims, geometry(case));
    agree("input_len", plan.input_len(d), geo.map(|g| g.0), ctx);
    agree("output_len", plan.output_len(d), geo.map(|g| g.1), ctx);
    agree("output_dims", plan.output_dims(d), geo.map(|g| g.2), ctx);
    let count = plan.work_item_count(d, case.max_items);
    let in_range = count.map(|n| (1..=case.max_items).contains(&n));
    agree(
        "work_item_count in 1..=max_items",
        in_range,
        geo.map(|_| true),
        ctx,
    );
}

#[track_caller]
fn agree<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: Result<T, Error>,
    want: Result<T, Fault>,
    ctx: &str,
) {
    match (got, want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "{ctx}: {what}"),
        (Err(e), Err(f)) => assert_eq!(fault_of(&e), f, "{ctx}: {what}: {e}"),
        (got, want) => panic!("{ctx}: {what} answered {got:?}, expected {want:?}"),
    }
}

#[track_caller]
fn assert_fault_in(e: &Error, allowed: &[Fault], ctx: &str) {
    let f = fault_of(e);
    assert!(
        allowed.contains(&f),
        "{ctx}: error {e:?} ({f:?}), faults present: {allowed:?}"
    );
    assert!(!e.to_string().is_empty());
}

/// Checks one case on the automatic ISA choice and on every ISA the library knows.
pub fn check(case: &Case) {
    let spec_faults = spec_faults(case);
    let run_faults = run_faults(case);
    let want = reference(case);
    assert_eq!(
        want.is_some(),
        spec_faults.is_empty() && run_faults.is_empty(),
        "the reference validates like the plan: {case:?}"
    );
    let mut isas: Vec<Option<Isa>> = vec![None];
    isas.extend(Isa::ALL.map(Some));
    for isa in isas {
        let spec = ConvSpec { isa, ..case.spec };
        let ctx = format!("{spec:?} {:?}", case.dims);
        let mut plan_faults = spec_faults.clone();
        plan_faults.extend(isa_faults(&spec, isa));
        let plan = match Plan::new(&spec, &case.weights, case.bias.as_deref()) {
            Ok(plan) => {
                assert!(
                    plan_faults.is_empty(),
                    "{ctx}: plan built despite {plan_faults:?}"
                );
                plan
            }
            Err(e) => {
                assert!(!plan_faults.is_empty(), "{ctx}: valid plan refused: {e}");
                assert_fault_in(&e, &plan_faults, &ctx);
                continue;
            }
        };
        check_plan(case, &plan, &run_faults, want.as_ref(), &ctx);
    }
}

fn check_plan(case: &Case, plan: &Plan, faults: &[Fault], want: Option<&Reference>, ctx: &str) {
    check_size_queries(case, plan, ctx);
    let mut out = vec![f32::from_bits(POISON); case.output_len];
    let result = plan.run(case.dims, &case.input, &mut out, case.residual.as_deref());
    let Some(want) = want else {
        let e = result.expect_err(ctx);
        assert_fault_in(&e, faults, ctx);
        assert!(
            out.iter().all(|v| v.to_bits() == POISON),
            "{ctx}: a failed run wrote output"
        );
        return;
    };
    result.unwrap_or_else(|e| panic!("{ctx}: valid run refused: {e}"));
    want.compare(&out, case.spec.cin, ctx);

    // The same convolution as work items, run last to first.
    let mut split = vec![f32::from_bits(POISON); case.output_len];
    let items: Vec<_> = plan
        .work_items(
            case.dims,
            &case.input,
            &mut split,
            case.residual.as_deref(),
            case.max_items,
        )
        .unwrap_or_else(|e| panic!("{ctx}: work_items refused: {e}"))
        .collect();
    assert!(
        (1..=case.max_items).contains(&items.len()),
        "{ctx}: {} items",
        items.len()
    );
    items.into_iter().rev().for_each(|item| item.run());
    assert!(
        bitwise_equal(&split, &out),
        "{ctx}: {} work items differ from run",
        case.max_items
    );

    // And through the raw entry point: `raw_count` items plus one index past the end.
    let mut raw = vec![f32::from_bits(POISON); case.output_len];
    let count = case.raw_count;
    for index in (0..=count).rev() {
        let r = case.residual.as_deref();
        // SAFETY: every pointer comes from a live Vec passed with its own length; the output
        // overlaps nothing; items run one after another.
        let result = unsafe {
            plan.run_item_raw(
                case.dims,
                case.input.as_ptr(),
                case.input.len(),
                raw.as_mut_ptr(),
                raw.len(),
                r.map_or(std::ptr::null(), <[f32]>::as_ptr),
                r.map_or(0, <[f32]>::len),
                index,
                count,
            )
        };
        match result {
            Ok(()) => assert!(index < count, "{ctx}: raw item {index} of {count} accepted"),
            Err(e) => {
                assert!(index >= count, "{ctx}: raw item {index} of {count}: {e}");
                assert_eq!(fault_of(&e), Fault::WorkItem, "{ctx}");
            }
        }
    }
    if count > 0 {
        assert!(
            bitwise_equal(&raw, &out),
            "{ctx}: {count} raw items differ from run"
        );
    }
}

fn bitwise_equal(a: &[f32], b: &[f32]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The f64 reference and, per output, the sum of the magnitudes of its terms.
struct Reference {
    want: Vec<f64>,
    magnitude: Vec<f64>,
}

/// `None` when the reference refuses the case (exactly when the plan or the run must).
fn reference(case: &Case) -> Option<Reference> {
    let problem = Problem::new(&case.spec, case.dims, &case.weights, &case.input)
        .bias(case.bias.as_deref())
        .residual(case.residual.as_deref());
    let want = problem.reference().ok()?;
    let magnitude = problem
        .term_magnitudes()
        .expect("same sizes as the accepted reference");
    (want.len() == case.output_len).then_some(Reference { want, magnitude })
}

impl Reference {
    /// NaN exactly where the reference has NaN, the same infinities, and finite values within
    /// a relative L2 error of 1e-5, measured against the magnitudes of the terms rather than
    /// the result (a sum that cancels to nearly 0 keeps the rounding errors of its terms), plus
    /// f32's denormal spacing per operation for data so small that f32 rounds it to 0.
    fn compare(&self, got: &[f32], cin: usize, ctx: &str) {
        let (mut err2, mut mag2) = (0.0f64, 0.0f64);
        for (i, (&g, (&w, &m))) in got
            .iter()
            .zip(self.want.iter().zip(&self.magnitude))
            .enumerate()
        {
            assert_ne!(g.to_bits(), POISON, "{ctx}: output {i} was never written");
            if w.is_nan() {
                assert!(g.is_nan(), "{ctx}: output {i} = {g}, reference NaN");
            } else if w.is_infinite() || !m.is_finite() {
                // An infinity, or a finite bound that a clamp put in place of one: exact.
                assert_eq!(g as f64, w, "{ctx}: output {i}");
            } else {
                assert!(g.is_finite(), "{ctx}: output {i} = {g}, reference {w}");
                err2 += (g as f64 - w).powi(2);
                mag2 += m * m;
            }
        }
        let floor = (cin + 3) as f64 * f64::from(f32::from_bits(1)) * (got.len() as f64).sqrt();
        let err = err2.sqrt();
        assert!(
            err <= 1e-5 * mag2.sqrt() + floor,
            "{ctx}: L2 error {err:e} against term magnitude {:e}",
            mag2.sqrt()
        );
    }
}
