//! Plans from arbitrary specs, runs on arbitrary buffers, on every ISA: typed errors or
//! results that match the f64 reference (see `conv1x1_fuzz::oracle`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| conv1x1_fuzz::plan_run(data));
