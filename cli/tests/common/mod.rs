//! Helpers for the command line tests: run the binary, write and read .npy files with npyz
//! (an independent implementation of the format), and make random data.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn conv1x1(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conv1x1"))
        .args(args)
        // Automatic dispatch must not be steered by the caller's environment.
        .env_remove("CONV1X1_ISA")
        .output()
        .expect("the conv1x1 binary starts")
}

/// Runs and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = conv1x1(args);
    assert!(
        out.status.success(),
        "conv1x1 {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs and asserts exit status `code` with a one-line `error: ` message on stderr (for
/// runtime errors) and no panic; returns stderr.
pub fn fails(args: &[&str], code: i32) -> String {
    let out = conv1x1(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "conv1x1 {args:?}: stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "panic for {args:?}:\n{stderr}"
    );
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    if code == 1 {
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one line expected:\n{stderr}"
        );
    }
    stderr
}

pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) {
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut bytes = Vec::new();
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().copied()).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

pub fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(file.order(), npyz::Order::C);
    let shape = file.shape().iter().map(|&d| d as usize).collect();
    (shape, file.into_vec::<f32>().unwrap())
}

/// Deterministic data in [-1, 1).
pub fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// An ISA name this CPU does not support, if any.
pub fn unsupported_isa() -> Option<&'static str> {
    conv1x1::Isa::ALL
        .into_iter()
        .find(|&i| !conv1x1::dispatch::is_supported(i))
        .map(|i| i.name())
}
