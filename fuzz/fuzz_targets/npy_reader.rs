//! The command line's .npy reader on arbitrary bytes: a typed error or a consistent array
//! (element count = product of the shape), never a panic or an out-of-memory abort.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok((shape, values)) = conv1x1_cli::npy::read_f32_array(data) {
        let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        assert_eq!(count, Some(values.len()), "shape {shape:?} vs {} values", values.len());
    }
});
