//! NEON selection: on aarch64 automatic dispatch picks NEON and a forced NEON plan runs NEON
//! kernels; elsewhere forcing NEON is a typed error, never a panic.

use conv1x1::{dispatch, ConvSpec, Isa, Layout, Plan};

const CIN: usize = 24;
const COUT: usize = 20;

fn weights() -> Vec<f32> {
    (0..CIN * COUT)
        .map(|i| (i % 7) as f32 * 0.125 - 0.375)
        .collect()
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use super::*;
    use conv1x1::reference::Problem;
    use conv1x1::Dims;

    #[test]
    fn best_isa_is_neon() {
        assert!(dispatch::is_supported(Isa::Neon));
        assert_eq!(dispatch::best_isa(), Isa::Neon);
        assert_eq!(dispatch::supported_isas(), vec![Isa::Scalar, Isa::Neon]);
    }

    #[test]
    fn auto_plan_uses_neon() {
        // CONV1X1_ISA overrides automatic dispatch: only check the default when it is unset.
        let forced = std::env::var(dispatch::ISA_ENV)
            .map(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("auto"))
            .unwrap_or(false);
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let plan = Plan::new(&ConvSpec::new(CIN, COUT).layout(layout), &weights(), None)
                .expect("auto plan");
            assert_eq!(plan.isa(), dispatch::auto_isa().unwrap());
            if !forced {
                assert_eq!(plan.isa(), Isa::Neon, "{layout}");
                assert!(
                    plan.kernel().name.ends_with("__neon"),
                    "{}",
                    plan.kernel().name
                );
            }
        }
    }

    #[test]
    fn forced_neon_plan_reports_neon_and_computes() {
        let w = weights();
        let dims = Dims::new(2, 5, 7);
        for layout in [Layout::Nchw, Layout::Nhwc] {
            let spec = ConvSpec::new(CIN, COUT).layout(layout).isa(Isa::Neon);
            let plan = Plan::new(&spec, &w, None).expect("forced NEON plan");
            assert_eq!(plan.isa(), Isa::Neon);
            assert_eq!(plan.kernel().isa, Isa::Neon);
            assert_eq!(plan.kernel().layout, layout);
            assert!(
                plan.kernel().name.ends_with("__neon"),
                "{}",
                plan.kernel().name
            );

            let input: Vec<f32> = (0..plan.input_len(dims).unwrap())
                .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let mut out = vec![f32::NAN; plan.output_len(dims).unwrap()];
            plan.run(dims, &input, &mut out, None).unwrap();
            let a = Problem::new(&spec, dims, &w, &input)
                .accuracy(&out)
                .unwrap();
            assert!(a.passed(), "{layout}: {a}");
        }
    }

    #[test]
    fn neon_peak_loop_runs() {
        let gflops = conv1x1::peak::measure_peak_gflops(Isa::Neon, 0.01, 1).unwrap();
        assert!(gflops.is_finite() && gflops > 0.0, "{gflops}");
    }

    #[test]
    fn registry_lists_both_neon_layouts() {
        let names: Vec<_> = conv1x1::kernels()
            .filter(|k| k.isa == Isa::Neon && !k.specialized())
            .map(|k| k.name)
            .collect();
        assert_eq!(
            names,
            [
                "f32_nchw_8x12__neon",
                "f32_nhwc_8x12__neon",
                "f32_nchw_cv_8x12__neon"
            ]
        );
    }
}

#[cfg(not(target_arch = "aarch64"))]
#[test]
fn forcing_neon_is_a_typed_error() {
    assert!(!dispatch::is_supported(Isa::Neon));
    assert!(!dispatch::supported_isas().contains(&Isa::Neon));
    assert_ne!(dispatch::best_isa(), Isa::Neon);
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let spec = ConvSpec::new(CIN, COUT).layout(layout).isa(Isa::Neon);
        match Plan::new(&spec, &weights(), None) {
            Err(conv1x1::Error::UnsupportedIsa { isa, supported }) => {
                assert_eq!(isa, Isa::Neon);
                assert!(supported.contains("scalar"), "{supported}");
                assert!(!supported.contains("neon"), "{supported}");
            }
            other => panic!("{layout}: expected UnsupportedIsa, got {other:?}"),
        }
    }
    assert!(matches!(
        dispatch::check(Isa::Neon),
        Err(conv1x1::Error::UnsupportedIsa { isa: Isa::Neon, .. })
    ));
    assert!(matches!(
        conv1x1::peak::peak_gflops(Isa::Neon),
        Err(conv1x1::Error::UnsupportedIsa { isa: Isa::Neon, .. })
    ));
}
