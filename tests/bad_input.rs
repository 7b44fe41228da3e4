//! Every way a caller can get the inputs wrong through the Rust API, one fault at a time: each
//! must give its typed `Error` variant and a message that names the quantity (and, for
//! lengths, the formula and the expected value). Nothing here may panic.

use conv1x1::{dispatch, Activation, ConvSpec, Dims, Error, Isa, KernelKind, Layout, Plan, Result};

const CIN: usize = 4;
const COUT: usize = 2;

fn weights() -> Vec<f32> {
    (0..CIN * COUT).map(|i| i as f32 * 0.25 - 1.0).collect()
}

/// A valid plan with bias and residual on the portable path (runs on every CPU and in Miri).
fn plan_with_residual(layout: Layout) -> Plan {
    let spec = ConvSpec::new(CIN, COUT)
        .layout(layout)
        .residual(true)
        .isa(Isa::Scalar);
    Plan::new(&spec, &weights(), Some(&[0.5; COUT])).unwrap()
}

/// Asserts `result` is an error whose message is exactly `message`, and returns the error.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(result: Result<T>, message: &str) -> Error {
    let err = result.expect_err(message);
    assert_eq!(err.to_string(), message);
    err
}

// ---- plan creation ------------------------------------------------------------------------

#[test]
fn weights_of_the_wrong_length() {
    for len in [0, CIN * COUT - 1, CIN * COUT + 1, 1000] {
        let err = expect_err(
            Plan::new(&ConvSpec::new(CIN, COUT), &vec![1.0; len], None),
            &format!("weights has {len} elements, expected Cout·Cin = 8"),
        );
        assert!(
            matches!(err, Error::Length { what: "weights", got, expected: 8, .. } if got == len)
        );
    }
}

#[test]
fn bias_of_the_wrong_length() {
    for len in [0, 1, 3, 64] {
        let err = expect_err(
            Plan::new(&ConvSpec::new(CIN, COUT), &weights(), Some(&vec![0.0; len])),
            &format!("bias has {len} elements, expected Cout = 2"),
        );
        assert!(matches!(
            err,
            Error::Length {
                what: "bias",
                expected: 2,
                ..
            }
        ));
    }
}

#[test]
fn zero_channels_and_strides() {
    let cases: [(ConvSpec, &'static str); 5] = [
        (ConvSpec::new(0, COUT), "Cin"),
        (ConvSpec::new(CIN, 0), "Cout"),
        (ConvSpec::new(CIN, COUT).stride_hw(0, 1), "stride_h"),
        (ConvSpec::new(CIN, COUT).stride_hw(1, 0), "stride_w"),
        (ConvSpec::new(CIN, COUT).stride(0), "stride_h"),
    ];
    for (spec, what) in cases {
        let w = vec![1.0; spec.cin * spec.cout];
        let err = expect_err(
            Plan::new(&spec, &w, None),
            &format!("{what} must be at least 1, got 0"),
        );
        assert_eq!(err, Error::Zero { what });
    }
}

/// Channel counts whose products overflow usize fail before anything is allocated.
#[test]
fn channel_products_that_overflow() {
    let half = 1usize << (usize::BITS / 2);
    let err = expect_err(
        Plan::new(&ConvSpec::new(half, half), &[], None),
        "weights overflows: Cout·Cin does not fit in usize",
    );
    assert!(matches!(
        err,
        Error::Overflow {
            what: "weights",
            ..
        }
    ));
    // Cin·Cout fits, but not with the panel padding the packed copy adds.
    let err = expect_err(
        Plan::new(&ConvSpec::new(half, half - 1), &[], None),
        "packed weights overflows: Cin·(Cout + padding) does not fit in usize",
    );
    assert!(matches!(
        err,
        Error::Overflow {
            what: "packed weights",
            ..
        }
    ));
    let err = expect_err(
        Plan::new(&ConvSpec::new(1, usize::MAX), &[], None),
        "packed weights overflows: Cin·(Cout + padding) does not fit in usize",
    );
    assert!(matches!(err, Error::Overflow { .. }));
}

#[test]
fn clamp_bounds_that_are_nan_or_reversed() {
    let bad = [
        (f32::NAN, 1.0),
        (0.0, f32::NAN),
        (f32::NAN, f32::NAN),
        (1.0, 0.0),
        (f32::INFINITY, f32::NEG_INFINITY),
        (0.0, -0.5),
    ];
    for (min, max) in bad {
        let spec = ConvSpec::new(CIN, COUT).activation(Activation::Clamp { min, max });
        let err = expect_err(
            Plan::new(&spec, &weights(), None),
            &format!(
                "invalid clamp bounds: min = {min}, max = {max} (both must be non-NaN and \
                 min <= max)"
            ),
        );
        assert!(matches!(err, Error::InvalidClamp { .. }));
    }
}

/// Infinite bounds are valid: they make a one-sided clamp (`clamp(0, inf)` is ReLU), and
/// `min == max` clamps everything to that value.
#[test]
fn infinite_or_equal_clamp_bounds_are_accepted() {
    let dims = Dims::new(1, 2, 2);
    let input: Vec<f32> = (0..CIN * 4).map(|i| i as f32 - 7.5).collect();
    for (min, max) in [
        (f32::NEG_INFINITY, f32::INFINITY),
        (0.0, f32::INFINITY),
        (f32::NEG_INFINITY, 0.0),
        (0.25, 0.25),
        (f32::INFINITY, f32::INFINITY),
    ] {
        let spec = ConvSpec::new(CIN, COUT)
            .activation(Activation::Clamp { min, max })
            .isa(Isa::Scalar);
        let plan = Plan::new(&spec, &weights(), None).unwrap();
        let mut out = vec![f32::NAN; COUT * 4];
        plan.run(dims, &input, &mut out, None).unwrap();
        let want =
            conv1x1::reference::conv1x1_reference(&spec, dims, &weights(), None, &input, None)
                .unwrap();
        for (&g, &w) in out.iter().zip(&want) {
            assert_eq!(g as f64, w, "clamp({min}, {max})");
        }
    }
}

/// An ISA that this build's architecture cannot run at all.
#[test]
fn forced_isa_from_another_architecture() {
    let foreign = if cfg!(target_arch = "aarch64") {
        Isa::Avx512
    } else {
        Isa::Neon
    };
    let supported = dispatch::supported_isas()
        .iter()
        .map(|i| i.name())
        .collect::<Vec<_>>()
        .join(", ");
    let spec = ConvSpec::new(CIN, COUT).isa(foreign);
    let err = expect_err(
        Plan::new(&spec, &weights(), None),
        &format!("ISA {foreign} is not supported on this CPU (supported here: {supported})"),
    );
    assert_eq!(
        err,
        Error::UnsupportedIsa {
            isa: foreign,
            supported
        }
    );
}

/// Every ISA this CPU lacks (none of them on an AVX-512 machine but the foreign one above).
#[test]
fn forced_isa_missing_on_this_cpu() {
    for isa in Isa::ALL {
        let result = Plan::new(&ConvSpec::new(CIN, COUT).isa(isa), &weights(), None);
        if dispatch::is_supported(isa) {
            assert_eq!(result.unwrap().isa(), isa);
        } else {
            assert!(matches!(result, Err(Error::UnsupportedIsa { isa: i, .. }) if i == isa));
        }
    }
}

#[test]
fn forced_specialized_kernel_that_does_not_exist() {
    // No network has a 3 → 5 layer: no kernel is ever specialized for it.
    for isa in dispatch::supported_isas() {
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let spec = ConvSpec::new(3, 5)
                .layout(layout)
                .isa(isa)
                .kernel(KernelKind::Specialized);
            let err = expect_err(
                Plan::new(&spec, &[1.0; 15], None),
                &format!("no specialized kernel for Cin=3, Cout=5, layout {layout}, ISA {isa}"),
            );
            assert!(matches!(
                err,
                Error::NoSpecializedKernel {
                    cin: 3,
                    cout: 5,
                    ..
                }
            ));
        }
    }
}

/// A kernel forced by name that does not fit the spec, or that does not exist.
#[test]
fn forced_kernel_that_does_not_fit() {
    let nhwc = conv1x1::kernels()
        .find(|k| k.isa == Isa::Scalar && k.layout == Layout::Nhwc && !k.specialized())
        .unwrap();
    let spec = ConvSpec::new(CIN, COUT)
        .layout(Layout::Nchw)
        .kernel(KernelKind::Named(nhwc.name));
    let err = expect_err(
        Plan::new(&spec, &weights(), None),
        &format!(
            "kernel {} does not fit this plan: it is for nhwc scalar and the plan is nchw \
             Cin={CIN} Cout={COUT} on scalar",
            nhwc.name
        ),
    );
    assert!(matches!(err, Error::KernelMismatch { .. }));
    // The right layout but another forced ISA.
    for isa in dispatch::supported_isas()
        .into_iter()
        .filter(|&i| i != Isa::Scalar)
    {
        let spec = ConvSpec::new(CIN, COUT)
            .layout(Layout::Nhwc)
            .isa(isa)
            .kernel(KernelKind::Named(nhwc.name));
        let err = expect_err(
            Plan::new(&spec, &weights(), None),
            &format!(
                "kernel {} does not fit this plan: it is for nhwc scalar and the plan is nhwc \
                 Cin={CIN} Cout={COUT} on {isa}",
                nhwc.name
            ),
        );
        assert!(matches!(err, Error::KernelMismatch { .. }));
    }
    let spec = ConvSpec::new(CIN, COUT).kernel(KernelKind::Named("f32_nchw_1x1__nothing"));
    let err = expect_err(
        Plan::new(&spec, &weights(), None),
        "unknown kernel name 'f32_nchw_1x1__nothing' (expected one of: a kernel name from the \
         registry)",
    );
    assert!(matches!(
        err,
        Error::Parse {
            what: "kernel name",
            ..
        }
    ));
}

/// Names that do not parse.
#[test]
fn unknown_names() {
    let err = expect_err(
        "avx1".parse::<Isa>(),
        "unknown ISA 'avx1' (expected one of: scalar, avx2, avx512, neon)",
    );
    assert!(matches!(err, Error::Parse { what: "ISA", .. }));
    expect_err(
        "nchwc".parse::<Layout>(),
        "unknown layout 'nchwc' (expected one of: nchw, nhwc)",
    );
    expect_err(
        "fast".parse::<KernelKind>(),
        "unknown kernel kind 'fast' (expected one of: auto, generic, specialized, or a kernel name \
         from the registry)",
    );
    for bad in ["gelu", "clamp", "clamp:1", "clamp:a:2", "clamp:1:b", ""] {
        expect_err(
            bad.parse::<Activation>(),
            &format!(
                "unknown activation '{bad}' (expected one of: none, relu, relu6, clamp:MIN:MAX)"
            ),
        );
    }
    // A NaN bound parses; the plan refuses it.
    let act: Activation = "clamp:nan:1".parse().unwrap();
    let spec = ConvSpec::new(CIN, COUT).activation(act);
    assert!(matches!(
        Plan::new(&spec, &weights(), None),
        Err(Error::InvalidClamp { .. })
    ));
}

// ---- running --------------------------------------------------------------------------------

/// Input 1×4×16×16 = 1024 elements, output 1×2×16×16 = 512.
fn sizes() -> (Dims, usize, usize) {
    (Dims::new(1, 16, 16), CIN * 256, COUT * 256)
}

#[test]
fn input_of_the_wrong_length() {
    let (dims, n_in, n_out) = sizes();
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let plan = plan_with_residual(layout);
        let residual = vec![0.0; n_out];
        for len in [0, 1000, n_in - 1, n_in + 1] {
            let mut out = vec![0.0; n_out];
            let err = expect_err(
                plan.run(dims, &vec![0.0; len], &mut out, Some(&residual)),
                &format!("input has {len} elements, expected N·Cin·H·W = 1024"),
            );
            assert!(matches!(
                err,
                Error::Length {
                    what: "input",
                    expected: 1024,
                    ..
                }
            ));
            assert!(
                out.iter().all(|&v| v == 0.0),
                "a failed run wrote the output"
            );
        }
    }
}

#[test]
fn output_of_the_wrong_length() {
    let (dims, n_in, n_out) = sizes();
    let plan = plan_with_residual(Layout::Nchw);
    let residual = vec![0.0; n_out];
    for len in [0, n_out - 1, n_out + 1, n_in] {
        let err = expect_err(
            plan.run(dims, &vec![0.0; n_in], &mut vec![0.0; len], Some(&residual)),
            &format!("output has {len} elements, expected N·Cout·Hout·Wout = 512"),
        );
        assert!(matches!(
            err,
            Error::Length {
                what: "output",
                expected: 512,
                ..
            }
        ));
    }
}

#[test]
fn residual_of_the_wrong_length() {
    let (dims, n_in, n_out) = sizes();
    let plan = plan_with_residual(Layout::Nhwc);
    for len in [0, n_out - 1, n_out + 1] {
        let err = expect_err(
            plan.run(
                dims,
                &vec![0.0; n_in],
                &mut vec![0.0; n_out],
                Some(&vec![0.0; len]),
            ),
            &format!("residual has {len} elements, expected N·Cout·Hout·Wout = 512"),
        );
        assert!(matches!(
            err,
            Error::Length {
                what: "residual",
                ..
            }
        ));
    }
}

/// With stride 2 the output (and residual) shrink to Hout·Wout = 8·8.
#[test]
fn lengths_follow_the_strided_output() {
    let spec = ConvSpec::new(CIN, COUT).stride(2).residual(true);
    let plan = Plan::new(&spec, &weights(), None).unwrap();
    let (dims, n_in, _) = sizes();
    assert_eq!(plan.output_dims(dims).unwrap(), Dims::new(1, 8, 8));
    let err = expect_err(
        plan.run(
            dims,
            &vec![0.0; n_in],
            &mut vec![0.0; 512],
            Some(&[0.0; 128]),
        ),
        "output has 512 elements, expected N·Cout·Hout·Wout = 128",
    );
    assert!(matches!(err, Error::Length { what: "output", .. }));
}

#[test]
fn residual_missing_or_unexpected() {
    let (dims, n_in, n_out) = sizes();
    let with = plan_with_residual(Layout::Nchw);
    let err = expect_err(
        with.run(dims, &vec![0.0; n_in], &mut vec![0.0; n_out], None),
        "the plan was built with a residual add but run without a residual",
    );
    assert!(matches!(err, Error::Residual(_)));

    let without = Plan::new(&ConvSpec::new(CIN, COUT), &weights(), None).unwrap();
    for residual in [vec![0.0; n_out], vec![]] {
        let err = expect_err(
            without.run(
                dims,
                &vec![0.0; n_in],
                &mut vec![0.0; n_out],
                Some(&residual),
            ),
            "a residual was given but the plan was built without a residual add",
        );
        assert!(matches!(err, Error::Residual(_)));
    }
}

#[test]
fn zero_dimensions() {
    let plan = plan_with_residual(Layout::Nchw);
    for (dims, what) in [
        (Dims::new(0, 4, 4), "batch"),
        (Dims::new(1, 0, 4), "height"),
        (Dims::new(1, 4, 0), "width"),
    ] {
        let message = format!("{what} must be at least 1, got 0");
        let err = expect_err(plan.run(dims, &[], &mut [], Some(&[])), &message);
        assert!(matches!(err, Error::Zero { .. }));
        expect_err(plan.input_len(dims), &message);
        expect_err(plan.output_len(dims), &message);
        expect_err(plan.output_dims(dims), &message);
        expect_err(plan.work_item_count(dims, 4), &message);
        expect_err(
            plan.work_items(dims, &[], &mut [], Some(&[]), 4)
                .map(|_| ()),
            &message,
        );
    }
}

/// Dimensions whose products overflow usize, or exceed what a slice can hold (isize::MAX
/// bytes), are errors from every entry point that takes dimensions.
#[test]
#[cfg(target_pointer_width = "64")]
fn dimensions_that_overflow() {
    let plan = plan_with_residual(Layout::Nhwc);
    let cases = [
        (
            Dims::new(1, 1 << 62, 4),
            "input pixels overflows: H·W does not fit in usize",
        ),
        (
            Dims::new(1 << 62, 1, 1),
            "input overflows: N·Cin·H·W does not fit in usize",
        ),
        (
            Dims::new(1, 1, 1 << 62),
            "input overflows: N·Cin·H·W does not fit in usize",
        ),
        // N·Cin·H·W = 2^63 fits in usize but is 2^65 bytes.
        (
            Dims::new(1, 1 << 30, 1 << 31),
            "input overflows: element count × 4 bytes does not fit in usize",
        ),
    ];
    for (dims, message) in cases {
        let err = expect_err(plan.run(dims, &[], &mut [], Some(&[])), message);
        assert!(matches!(err, Error::Overflow { .. }));
        expect_err(plan.input_len(dims), message);
        expect_err(plan.output_len(dims), message);
        expect_err(plan.output_dims(dims), message);
        expect_err(plan.work_item_count(dims, usize::MAX), message);
    }
    // The output overflows where the input does not when Cout > Cin.
    let wide = Plan::new(&ConvSpec::new(1, 16), &[1.0; 16], None).unwrap();
    expect_err(
        wide.output_len(Dims::new(1, 1, 1 << 59)),
        "output overflows: element count × 4 bytes does not fit in usize",
    );
    let err = expect_err(
        wide.output_len(Dims::new(1, 1, 1 << 60)),
        "output overflows: N·Cout·Hout·Wout does not fit in usize",
    );
    assert!(matches!(err, Error::Overflow { what: "output", .. }));
}

#[test]
fn work_item_indices_and_counts() {
    let (dims, n_in, n_out) = sizes();
    let plan = plan_with_residual(Layout::Nchw);
    let input = vec![0.0; n_in];
    let residual = vec![0.0; n_out];
    let mut out = vec![0.0; n_out];

    let err = expect_err(
        plan.work_items(dims, &input, &mut out, Some(&residual), 0)
            .map(|_| ()),
        "max_items must be at least 1, got 0",
    );
    assert_eq!(err, Error::Zero { what: "max_items" });

    for (index, count) in [
        (0, 0),
        (4, 4),
        (5, 4),
        (usize::MAX, 3),
        (usize::MAX, usize::MAX),
    ] {
        // SAFETY: the pointers and lengths are those of live, non-overlapping vectors.
        let result = unsafe {
            plan.run_item_raw(
                dims,
                input.as_ptr(),
                input.len(),
                out.as_mut_ptr(),
                out.len(),
                residual.as_ptr(),
                residual.len(),
                index,
                count,
            )
        };
        let err = expect_err(
            result,
            &format!("work item {index} is out of range for a split into {count} items"),
        );
        assert_eq!(err, Error::WorkItem { index, count });
    }

    // The raw entry checks lengths (and the residual's presence) like `run`.
    // SAFETY: as above; the lengths passed are shorter than the vectors, never longer.
    let result = unsafe {
        plan.run_item_raw(
            dims,
            input.as_ptr(),
            1000,
            out.as_mut_ptr(),
            out.len(),
            residual.as_ptr(),
            residual.len(),
            0,
            1,
        )
    };
    expect_err(result, "input has 1000 elements, expected N·Cin·H·W = 1024");
    // SAFETY: as above; a null residual means "none".
    let result = unsafe {
        plan.run_item_raw(
            dims,
            input.as_ptr(),
            input.len(),
            out.as_mut_ptr(),
            out.len(),
            std::ptr::null(),
            0,
            0,
            1,
        )
    };
    expect_err(
        result,
        "the plan was built with a residual add but run without a residual",
    );
    assert!(
        out.iter().all(|&v| v == 0.0),
        "a failed run wrote the output"
    );

    // Indices at or past the real item count (but below `count`) are valid and do nothing.
    let items = plan.work_item_count(dims, usize::MAX).unwrap();
    // SAFETY: as above.
    let result = unsafe {
        plan.run_item_raw(
            dims,
            input.as_ptr(),
            input.len(),
            out.as_mut_ptr(),
            out.len(),
            residual.as_ptr(),
            residual.len(),
            usize::MAX - 1,
            usize::MAX,
        )
    };
    assert!(items < usize::MAX - 1);
    result.unwrap();
    assert!(out.iter().all(|&v| v == 0.0));
}

/// `CONV1X1_ISA` naming an unknown or unsupported ISA makes plans without a forced ISA fail.
/// The variable is read once per process, so each value runs in a child process.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn isa_environment_variable() {
    let exe = std::env::current_exe().unwrap();
    let runs = std::process::Command::new(&exe)
        .arg("--list")
        .output()
        .is_ok_and(|o| o.status.success());
    if !runs {
        // Under an emulator (qemu-user for aarch64) the binary cannot start itself.
        eprintln!("skipped: this test binary cannot re-execute itself here");
        return;
    }
    let foreign = if cfg!(target_arch = "aarch64") {
        "avx512"
    } else {
        "neon"
    };
    for (value, expected) in [
        (
            "avx1",
            "unknown CONV1X1_ISA value 'avx1' (expected one of: scalar, avx2, avx512, neon)"
                .to_string(),
        ),
        (
            foreign,
            format!("ISA {foreign} is not supported on this CPU"),
        ),
        ("scalar", "ok scalar".to_string()),
        // The child's own best ISA: under qemu-x86_64 the parent is emulated (an older CPU)
        // while the child it spawns runs on the host.
        (" Auto ", "ok {best}".to_string()),
    ] {
        let child = std::process::Command::new(&exe)
            .args(["--exact", "report_auto_isa", "--ignored", "--nocapture"])
            .env(dispatch::ISA_ENV, value)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&child.stdout);
        assert!(child.status.success(), "{value}: {stdout}");
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("auto_isa: "))
            .unwrap_or_else(|| panic!("{value}: no report in {stdout}"));
        let expected = match line.split_once("(best ") {
            Some((_, best)) => expected.replace("{best}", best.trim_end_matches(')')),
            None => expected,
        };
        assert!(
            line.starts_with(&expected),
            "{value}: got '{line}', want '{expected}'"
        );
    }
}

/// Run by `isa_environment_variable` in a child process with `CONV1X1_ISA` set.
#[test]
#[ignore = "run by isa_environment_variable"]
fn report_auto_isa() {
    let result = Plan::new(&ConvSpec::new(CIN, COUT), &weights(), None);
    match &result {
        Ok(plan) => println!(
            "auto_isa: ok {} (best {})",
            plan.isa(),
            dispatch::best_isa()
        ),
        Err(e) => println!("auto_isa: {e}"),
    }
    assert_eq!(result.as_ref().err(), dispatch::auto_isa().err().as_ref());
}
