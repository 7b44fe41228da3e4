//! The .npy reader and writer against npyz, an independent implementation of the format.

mod common;
use common::*;

use conv1x1_cli::npy::{read_f32_array, write_f32_array, NpyError};

#[test]
fn files_written_here_read_back_with_npyz() {
    let dir = tempfile::tempdir().unwrap();
    for shape in [vec![7], vec![3, 5], vec![2, 3, 4, 5]] {
        let data = random(shape.iter().product(), 11);
        let path = dir.path().join("a.npy");
        std::fs::write(&path, write_f32_array(&shape, &data)).unwrap();
        assert_eq!(read_npy(&path), (shape, data));
    }
}

#[test]
fn files_written_by_npyz_read_here() {
    let dir = tempfile::tempdir().unwrap();
    for shape in [vec![7], vec![3, 5], vec![2, 3, 4, 5], vec![1, 1, 1, 1]] {
        let data = random(shape.iter().product(), 12);
        let path = dir.path().join("b.npy");
        write_npy(&path, &shape, &data);
        assert_eq!(
            read_f32_array(&std::fs::read(&path).unwrap()).unwrap(),
            (shape, data)
        );
    }
}

#[test]
fn big_endian_from_npyz_is_converted_and_other_types_rejected() {
    use npyz::WriterBuilder;
    let data = random(6, 13);
    let mut be = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .dtype(npyz::DType::Plain(">f4".parse().unwrap()))
        .shape(&[2, 3])
        .writer(&mut be)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    assert_eq!(read_f32_array(&be).unwrap(), (vec![2, 3], data));

    let mut ints = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[4])
        .writer(&mut ints)
        .begin_nd()
        .unwrap();
    w.extend([1i32, 2, 3, 4]).unwrap();
    w.finish().unwrap();
    assert_eq!(read_f32_array(&ints), Err(NpyError::DType("<i4".into())));
}
