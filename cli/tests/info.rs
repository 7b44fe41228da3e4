mod common;
use common::*;

#[test]
fn text_lists_machine_isas_and_kernels() {
    let out = ok(&["info"]);
    for key in [
        "arch:",
        "cpu:",
        "features:",
        "isas:",
        "selected:",
        "THP mode:",
        "kernels (",
    ] {
        assert!(out.contains(key), "missing {key}:\n{out}");
    }
    for k in conv1x1::kernels() {
        assert!(out.contains(k.name), "kernel {} not listed", k.name);
    }
}

#[test]
fn json_has_exactly_the_documented_keys() {
    let out = ok(&["info", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["arch", "cpu", "features", "isas", "kernels", "selected", "thp_mode"]
    );
    let thp = v["thp_mode"].as_str().unwrap();
    assert!(
        ["always", "madvise", "never", "unavailable"].contains(&thp),
        "{thp}"
    );
    assert!(v["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f.is_string()));
    let isas: Vec<&str> = v["isas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(isas.contains(&"scalar"));
    assert!(isas.contains(&v["selected"].as_str().unwrap()));
    assert_eq!(v["selected"], conv1x1::dispatch::best_isa().name());
    let kernels = v["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), conv1x1::kernels().count());
    for k in kernels {
        let mut keys: Vec<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "cin",
                "cout",
                "isa",
                "layout",
                "mr",
                "name",
                "nr",
                "specialized"
            ]
        );
        let specialized = k["specialized"].as_bool().unwrap();
        assert_eq!(k["cin"].is_null(), !specialized);
        assert_eq!(k["cout"].is_null(), !specialized);
        assert!(k["mr"].as_u64().unwrap() > 0 && k["nr"].as_u64().unwrap() > 0);
    }
}

#[test]
fn forcing_an_unsupported_isa_through_the_environment_is_an_error() {
    let Some(isa) = unsupported_isa() else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conv1x1"))
        .arg("info")
        .env("CONV1X1_ISA", isa)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains(isa), "{err}");
}

#[test]
fn help_has_examples_and_usage_errors_exit_2() {
    for sub in ["info", "bench", "report", "run", "verify"] {
        let out = ok(&[sub, "--help"]);
        assert!(
            out.contains("Example"),
            "{sub} --help has no example:\n{out}"
        );
    }
    assert!(ok(&["bench", "--help"]).contains("Plan::run"));
    fails(&["frobnicate"], 2);
    fails(&["bench", "--layout", "sideways"], 2);
    fails(&["bench", "--shape", "12x@4"], 2);
    fails(&["bench", "--shape", "4x4@4", "--suite", "resnet50"], 2);
    fails(&["bench", "--min-time", "-1"], 2);
    fails(&["run", "--input", "x.npy"], 2);
}
