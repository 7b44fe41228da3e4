//! Compiles the C and C++ programs in `tests/c/` and `examples/c/` against
//! `include/conv1x1.h` and both libraries (`libconv1x1.a`, `libconv1x1.so`), and runs them.
//!
//! The libraries are built first by `cargo build` of this crate into the same target
//! directory and with the same profile as this test binary (integration tests do not build a
//! staticlib/cdylib crate themselves), so they are never stale. Compilers: `$CC` / `$CXX`,
//! default `gcc` / `g++`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const C_FLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
];
const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
];

#[derive(Clone, Copy, Debug)]
enum Linkage {
    Static,
    Shared,
}

/// Where the built libraries are and where test programs go.
struct Build {
    /// `target/<profile>`: holds `libconv1x1.a` and `libconv1x1.so`.
    lib_dir: PathBuf,
    /// Compiled test programs.
    out_dir: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("capi/ has a parent")
        .to_path_buf()
}

fn describe(what: &str, cmd: &Command, out: &Output) -> String {
    format!(
        "{what} failed ({}):\n{cmd:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(what: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    assert!(out.status.success(), "{}", describe(what, cmd, &out));
    out
}

/// Builds the C libraries once per test binary, with the profile this binary was built with.
/// `None` when this binary was cross-compiled (`--target`): the host compiler cannot link
/// C programs against the target's libraries, so the C tests are skipped there.
fn build() -> Option<&'static Build> {
    static BUILD: OnceLock<Option<Build>> = OnceLock::new();
    BUILD
        .get_or_init(|| {
            // This binary is <target>/<profile>/deps/c_abi-<hash>; a build with --target
            // puts it in <target>/<triple>/<profile>/deps instead.
            let exe = std::env::current_exe().expect("test binary path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("test binary lives in <target>/<profile>/deps")
                .to_path_buf();
            let target_dir = profile_dir.parent().expect("profile dir has a parent");
            if is_target_triple_dir(target_dir) {
                return None;
            }
            let profile = profile_dir.file_name().unwrap().to_str().unwrap();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            // The whole workspace's libraries and tests, as `cargo test --workspace` selects
            // them: cargo unifies dependency features over the selected packages, and building
            // this package alone enables fewer (of `syn`, through `thiserror`), which rebuilt
            // the conv1x1 rlib from scratch (3 minutes on two cores). With the same selection
            // only the two C libraries are linked.
            cmd.arg("build")
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .args(["--workspace", "--lib", "--tests"])
                .arg("--target-dir")
                .arg(target_dir);
            match profile {
                // `cargo test` builds with the test profile into target/debug: building the
                // libraries with it too reuses the conv1x1 rlib this test was linked with.
                "debug" => {
                    cmd.args(["--profile", "test"]);
                }
                "release" => {
                    cmd.arg("--release");
                }
                custom => {
                    cmd.args(["--profile", custom]);
                }
            }
            run("building libconv1x1.a / libconv1x1.so", &mut cmd);
            for lib in ["libconv1x1.a", "libconv1x1.so"] {
                assert!(
                    profile_dir.join(lib).exists(),
                    "{lib} missing in {}",
                    profile_dir.display()
                );
            }
            let out_dir = profile_dir.join("capi-c-tests");
            std::fs::create_dir_all(&out_dir).expect("create the output directory");
            Some(Build {
                lib_dir: profile_dir,
                out_dir,
            })
        })
        .as_ref()
}

/// Whether `dir` is the `<triple>` level of a `--target` build (named like
/// `aarch64-unknown-linux-gnu` for this binary's architecture and OS).
fn is_target_triple_dir(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with(&format!("{}-", std::env::consts::ARCH)) && name.contains(std::env::consts::OS)
}

/// The build, or `None` after telling that the C tests are skipped.
fn build_or_skip() -> Option<&'static Build> {
    let b = build();
    if b.is_none() {
        eprintln!("cross-compiled test binary: C programs are not built or run");
    }
    b
}

/// Compiles `source` (C unless it ends in `.cpp`) against the header and one library.
fn compile(b: &Build, source: &str, linkage: Linkage) -> PathBuf {
    let root = workspace_root();
    let src = root.join(source);
    let cpp = source.ends_with(".cpp");
    let stem = src.file_stem().unwrap().to_str().unwrap();
    let exe = b.out_dir.join(format!("{stem}-{linkage:?}").to_lowercase());
    let compiler = if cpp {
        std::env::var("CXX").unwrap_or_else(|_| "g++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "gcc".into())
    };
    let mut cmd = Command::new(compiler);
    cmd.args(if cpp { CXX_FLAGS } else { C_FLAGS })
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("capi/tests/c"))
        .arg(&src)
        .arg("-o")
        .arg(&exe);
    match linkage {
        Linkage::Static => {
            cmd.arg(b.lib_dir.join("libconv1x1.a"))
                .args(["-lpthread", "-ldl", "-lm"]);
        }
        Linkage::Shared => {
            cmd.arg("-L")
                .arg(&b.lib_dir)
                .arg("-lconv1x1")
                .arg(format!("-Wl,-rpath,{}", b.lib_dir.display()))
                .args(["-lpthread", "-lm"]);
        }
    }
    run(&format!("compiling {source}"), &mut cmd);
    exe
}

/// Compiles and runs one program with one library; it must exit with status 0.
fn compile_and_run(source: &str, linkage: Linkage) {
    let Some(b) = build_or_skip() else { return };
    let exe = compile(b, source, linkage);
    let out = run(
        &format!("running {source} ({linkage:?})"),
        &mut Command::new(&exe),
    );
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if let Linkage::Shared = linkage {
        // Make sure the program really uses the shared library it was linked against.
        let ldd = Command::new("ldd").arg(&exe).output();
        if let Ok(ldd) = ldd {
            let text = String::from_utf8_lossy(&ldd.stdout);
            let lib = b.lib_dir.join("libconv1x1.so");
            assert!(
                text.contains(&*lib.to_string_lossy()),
                "{exe:?} does not load {lib:?}:\n{text}"
            );
        }
    }
}

#[test]
fn every_function_static() {
    compile_and_run("capi/tests/c/api.c", Linkage::Static);
}

#[test]
fn every_function_shared() {
    compile_and_run("capi/tests/c/api.c", Linkage::Shared);
}

#[test]
fn error_paths_static() {
    compile_and_run("capi/tests/c/errors.c", Linkage::Static);
}

#[test]
fn error_paths_shared() {
    compile_and_run("capi/tests/c/errors.c", Linkage::Shared);
}

#[test]
fn threads_run_items_of_one_plan_static() {
    compile_and_run("capi/tests/c/threads.c", Linkage::Static);
}

#[test]
fn threads_run_items_of_one_plan_shared() {
    compile_and_run("capi/tests/c/threads.c", Linkage::Shared);
}

#[test]
fn header_compiles_as_cpp_static() {
    compile_and_run("capi/tests/c/header.cpp", Linkage::Static);
}

#[test]
fn header_compiles_as_cpp_shared() {
    compile_and_run("capi/tests/c/header.cpp", Linkage::Shared);
}

#[test]
fn bottleneck_example_static() {
    compile_and_run("examples/c/bottleneck.c", Linkage::Static);
}

#[test]
fn bottleneck_example_shared() {
    compile_and_run("examples/c/bottleneck.c", Linkage::Shared);
}

/// The shared library exports the C functions and nothing of Rust's.
#[test]
fn shared_library_exports_only_the_c_functions() {
    let Some(b) = build_or_skip() else { return };
    let lib = b.lib_dir.join("libconv1x1.so");
    let Ok(out) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
    else {
        eprintln!("nm not available; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T").then_some(name)
        })
        .collect();
    let header = std::fs::read_to_string(workspace_root().join("include/conv1x1.h")).unwrap();
    for name in &exported {
        assert!(name.starts_with("conv1x1_"), "unexpected export {name}");
        let declared = [" ", "*"]
            .iter()
            .any(|before| header.contains(&format!("{before}{name}(")));
        assert!(
            declared,
            "{name} is exported but not declared in the header"
        );
    }
    assert!(
        exported.len() >= 15,
        "only {} exports: {exported:?}",
        exported.len()
    );
}
