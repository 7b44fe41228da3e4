//! The command line's `.npy` reader on arbitrary bytes: it returns an error, or an array whose
//! element count is the product of its shape and which survives a write and a second read
//! bit for bit. Any panic is a crash.

use conv1x1_cli::npy::{read_f32_array, write_f32_array};

pub fn check(bytes: &[u8]) {
    let (shape, values) = match read_f32_array(bytes) {
        Ok(array) => array,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    assert_eq!(count, Some(values.len()), "shape {shape:?}");
    let written = write_f32_array(&shape, &values);
    let (shape2, values2) = read_f32_array(&written).expect("the writer's own output reads");
    assert_eq!(shape2, shape);
    assert!(
        values
            .iter()
            .zip(&values2)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "values changed in a write and read"
    );
}
