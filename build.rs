//! Generates the specialized kernels listed in `kernels/pairs.spec` into
//! `$OUT_DIR/specialized.rs`, which `src/lib.rs` includes as `mod generated`.
//!
//! The generator lives in `build/`: `spec.rs` parses the spec, `isa.rs` knows the ISAs and
//! layouts, `emit.rs` writes the Rust code.

#[path = "build/emit.rs"]
mod emit;
#[path = "build/isa.rs"]
mod isa;
#[path = "build/spec.rs"]
mod spec;

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

/// The spec, relative to the package root (also how generated comments cite it).
const SPEC: &str = "kernels/pairs.spec";

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=kernels");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=build.rs");
    unoptimized_cfg();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sets `cfg(conv1x1_unoptimized)` in unoptimized builds (opt-level 0: a dependent crate's
/// `cargo build` and `cargo test` by default). Without optimization every `#[inline(always)]`
/// tile function is still inlined, but none of their locals share stack slots: an ISA's
/// block entry point grew to a frame of up to 2.9 MB, past the 2 MiB stack of a spawned Rust
/// thread (and of every libtest test). Under this cfg the functions of
/// `src/kernel/nchw_tile.rs` and `nhwc_tile.rs` are not inlined, so each has a frame of its
/// own (130 KiB at most) and only one call chain's frames are live at a time.
fn unoptimized_cfg() {
    println!("cargo::rustc-check-cfg=cfg(conv1x1_unoptimized)");
    if env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=conv1x1_unoptimized");
    }
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let text = fs::read_to_string(root.join(SPEC)).map_err(|e| format!("{SPEC}: {e}"))?;
    let kernels = spec::parse(SPEC, &text)?;
    let code = emit::generate(SPEC, &kernels);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("specialized.rs");
    fs::write(&out, code).map_err(|e| format!("{}: {e}", out.display()))
}
