mod common;
use common::*;

#[test]
fn every_kernel_passes_and_is_listed() {
    // Four cases per kernel cover every activation; bias and residual vary in `one_isa_only`.
    let out = ok(&["verify", "--cases", "4", "--seed", "3"]);
    let usable: Vec<_> = conv1x1::kernels()
        .filter(|k| conv1x1::dispatch::is_supported(k.isa))
        .collect();
    for k in &usable {
        let line = out
            .lines()
            .find(|l| l.contains(k.name))
            .unwrap_or_else(|| panic!("{} missing:\n{out}", k.name));
        assert!(line.trim_end().ends_with("ok"), "{line}");
    }
    assert!(
        out.contains(&format!("all {} cases passed", 4 * usable.len())),
        "{out}"
    );
}

#[test]
fn one_isa_only() {
    let out = ok(&["verify", "--isa", "scalar", "--cases", "16"]);
    assert!(out.contains("__scalar"));
    assert!(!out.contains("__avx"));
}

#[test]
fn unsupported_isa_is_a_runtime_error() {
    if let Some(isa) = unsupported_isa() {
        fails(&["verify", "--isa", isa], 1);
    }
}
