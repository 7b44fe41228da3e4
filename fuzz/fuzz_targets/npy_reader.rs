//! The command line's `.npy` reader on arbitrary bytes: a typed error or an array that
//! round-trips (see `conv1x1_fuzz::npy`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| conv1x1_fuzz::npy_reader(data));
