//! include/conv1x1.h must be what cbindgen generates from this crate's source.

use std::path::{Path, PathBuf};

fn header_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/conv1x1.h")
}

fn generate() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml"))
        .expect("capi/cbindgen.toml is readable and valid");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(Path::new(crate_dir).join("src/lib.rs"))
        .generate()
        .expect("cbindgen parses capi/src");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn header_matches_the_rust_source() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("CONV1X1_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("include/conv1x1.h is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != fresh {
        let first_diff = checked_in
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(fresh.lines().count()));
        panic!(
            "include/conv1x1.h is out of date with capi/src (first difference at line {}).\n\
             Regenerate it with:\n    CONV1X1_BLESS=1 cargo test -p conv1x1-capi --test header",
            first_diff + 1
        );
    }
}
