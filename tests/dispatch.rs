//! Dispatch: the automatic choice is the best ISA this CPU has, forced ISAs are honoured or
//! refused with a typed error, and `CONV1X1_ISA` overrides the choice.
//!
//! The cross-ISA legs run this binary under `qemu-x86_64 -cpu Haswell` (no AVX-512) and
//! `-cpu Nehalem` (no AVX) with `CONV1X1_EXPECT_ISA=avx2` / `scalar`, so the dispatcher is
//! checked on machines this one is not.

use conv1x1::{dispatch, ConvSpec, Error, Isa, Plan};

#[test]
fn auto_dispatch_picks_the_best_supported_isa() {
    let best = dispatch::best_isa();
    assert!(dispatch::is_supported(best));
    let rank = |i: Isa| match i {
        Isa::Scalar => 0,
        Isa::Avx2 => 1,
        Isa::Neon | Isa::Avx512 => 2,
    };
    for isa in dispatch::supported_isas() {
        assert!(
            rank(isa) <= rank(best),
            "{isa} is supported but {best} was picked"
        );
    }
    if std::env::var_os(dispatch::ISA_ENV).is_none() {
        let plan = Plan::new(&ConvSpec::new(4, 4), &[1.0; 16], None).unwrap();
        assert_eq!(plan.isa(), best);
        assert!(plan.kernel().name.ends_with(&format!("__{best}")));
    }
}

/// Set by the CI legs that emulate older CPUs.
#[test]
fn dispatch_matches_the_expected_isa_of_this_cpu() {
    let Ok(expected) = std::env::var("CONV1X1_EXPECT_ISA") else {
        eprintln!("CONV1X1_EXPECT_ISA not set: nothing to compare");
        return;
    };
    let expected: Isa = expected.parse().unwrap();
    assert_eq!(dispatch::best_isa(), expected);
    let plan = Plan::new(&ConvSpec::new(3, 5), &[0.5; 15], None).unwrap();
    assert_eq!(plan.isa(), expected);
}

#[test]
fn forcing_an_absent_isa_is_a_typed_error() {
    for isa in Isa::ALL {
        let spec = ConvSpec::new(2, 2).isa(isa);
        match Plan::new(&spec, &[1.0; 4], None) {
            Ok(plan) => {
                assert!(dispatch::is_supported(isa));
                assert_eq!(plan.isa(), isa);
            }
            Err(e) => {
                assert!(!dispatch::is_supported(isa));
                assert!(
                    matches!(e, Error::UnsupportedIsa { isa: i, .. } if i == isa),
                    "{e}"
                );
                assert!(e.to_string().contains(isa.name()), "{e}");
            }
        }
    }
}

/// What a child process (this test binary run again with `CONV1X1_ISA` set) picked, and the
/// best ISA and supported ISAs of the CPU it ran on. Under the qemu legs the child runs on the
/// host CPU, so it reports its own view.
struct ChildView {
    picked: String,
    best: String,
    supported: Vec<String>,
}

/// `None` when this binary cannot run itself again: under qemu-user the child is started
/// without the emulator's sysroot and never reaches `main`.
fn child_pick(value: &str) -> Option<ChildView> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "env_probe_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(dispatch::ISA_ENV, value)
        .env("CONV1X1_ENV_PROBE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("picked: ") {
        return None;
    }
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.split_once(key).map(|(_, v)| v.trim().to_string()))
            .unwrap_or_else(|| panic!("child printed no {key}\n{stdout}"))
    };
    Some(ChildView {
        picked: field("picked: "),
        best: field("best: "),
        supported: field("supported: ")
            .split(',')
            .map(str::to_string)
            .collect(),
    })
}

#[test]
fn env_probe_child() {
    if std::env::var_os("CONV1X1_ENV_PROBE").is_none() {
        return;
    }
    match Plan::new(&ConvSpec::new(2, 2), &[1.0; 4], None) {
        Ok(plan) => println!("picked: {}", plan.isa()),
        Err(e) => println!("picked: error: {e}"),
    }
    println!("best: {}", dispatch::best_isa());
    let names: Vec<_> = dispatch::supported_isas()
        .iter()
        .map(|i| i.name())
        .collect();
    println!("supported: {}", names.join(","));
}

#[test]
fn environment_variable_overrides_dispatch() {
    let Some(scalar) = child_pick("scalar") else {
        eprintln!("this test binary cannot re-execute itself here (emulated): skipped");
        return;
    };
    assert_eq!(scalar.picked, "scalar");
    let child_pick = |v: &str| child_pick(v).expect("the child ran before");
    let auto = child_pick("auto");
    assert_eq!(auto.picked, auto.best);
    let bad = child_pick("sse9").picked;
    assert!(
        bad.starts_with("error:") && bad.contains("sse9") && bad.contains("CONV1X1_ISA"),
        "{bad}"
    );
    for isa in Isa::ALL {
        let child = child_pick(isa.name());
        if child.supported.iter().any(|s| s == isa.name()) {
            assert_eq!(child.picked, isa.name());
        } else {
            assert!(
                child.picked.starts_with("error:") && child.picked.contains("not supported"),
                "{}",
                child.picked
            );
        }
    }
}
