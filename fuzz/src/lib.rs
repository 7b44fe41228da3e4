//! Fuzz targets for conv1x1, shared by the libFuzzer binaries in `fuzz_targets/`.

pub mod case;
pub mod npy;
pub mod oracle;

use arbitrary::Unstructured;

/// Builds plans from an arbitrary spec and runs them on every ISA with buffers of arbitrary
/// (possibly wrong) lengths: see [`case`] for what is generated and [`oracle`] for what must
/// hold.
pub fn plan_run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if let Ok(case) = case::Case::decode(&mut u) {
        oracle::check(&case);
    }
}

/// Reads arbitrary bytes as a `.npy` file: see [`npy`].
pub fn npy_reader(data: &[u8]) {
    npy::check(data);
}
