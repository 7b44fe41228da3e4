//! Reading and writing float32 `.npy` files (NumPy's array format, versions 1.0 to 3.0).
//!
//! Only what a convolution needs is accepted: dtype float32 (either byte order), C order.
//! Everything else is rejected with an error saying what the file holds, because silently
//! reinterpreting a float64 or Fortran-order array would give a wrong answer.
//!
//! [`read_f32_array`] works on bytes and never panics, so a fuzz target can call it directly.

use std::fmt;

/// The magic string every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Files claiming more elements than this are rejected before any allocation.
const MAX_ELEMENTS: usize = 1 << 34;

/// Why a byte string is not a float32, C-order `.npy` array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("not a .npy file (it does not start with the \\x93NUMPY magic)")]
    BadMagic,
    #[error("truncated .npy file: {0}")]
    Truncated(&'static str),
    #[error("unsupported .npy format version {0}.{1} (expected 1.0, 2.0 or 3.0)")]
    Version(u8, u8),
    #[error("corrupt .npy header: {0}")]
    Header(String),
    #[error(
        "array has dtype '{0}', expected float32 ('<f4'); convert it with x.astype(np.float32)"
    )]
    DType(String),
    #[error(
        "array is stored in Fortran order, expected C order; save np.ascontiguousarray(x) instead"
    )]
    FortranOrder,
    #[error("array shape {0} is too large")]
    TooLarge(Shape),
    #[error("array data has {got} bytes, but shape {shape} of float32 needs {expected}")]
    DataLength {
        shape: Shape,
        expected: usize,
        got: usize,
    },
}

/// An array shape that prints like NumPy's: `(2, 3)`, `(5,)`, `()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "({one},)"),
            dims => {
                let parts: Vec<String> = dims.iter().map(usize::to_string).collect();
                write!(f, "({})", parts.join(", "))
            }
        }
    }
}

/// Parses a float32, C-order `.npy` file held in memory. Returns the shape and the elements in
/// C order (converted to native byte order).
pub fn read_f32_array(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let version = bytes
        .get(6..8)
        .ok_or(NpyError::Truncated("no format version"))?;
    let (major, minor) = (version[0], version[1]);
    // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4.
    let (len_bytes, header_start): (usize, usize) = match (major, minor) {
        (1, 0) => (2, 10),
        (2, 0) | (3, 0) => (4, 12),
        _ => return Err(NpyError::Version(major, minor)),
    };
    let len_field = bytes
        .get(8..8 + len_bytes)
        .ok_or(NpyError::Truncated("no header length"))?;
    let header_len = len_field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let header_end = header_start
        .checked_add(header_len)
        .ok_or(NpyError::Truncated("header"))?;
    let header = bytes
        .get(header_start..header_end)
        .ok_or(NpyError::Truncated("header shorter than its stated length"))?;
    let header = std::str::from_utf8(header)
        .map_err(|_| NpyError::Header("header is not valid text".into()))?;
    let meta = parse_header(header)?;

    let big_endian = match meta.descr.as_str() {
        "<f4" | "=f4" | "f4" => false,
        ">f4" => true,
        other => return Err(NpyError::DType(other.to_string())),
    };
    if meta.fortran_order {
        return Err(NpyError::FortranOrder);
    }
    let too_large = || NpyError::TooLarge(Shape(meta.shape.clone()));
    let count = meta
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(too_large)?;
    let expected = count.checked_mul(4).ok_or_else(too_large)?;
    let data = &bytes[header_end..];
    if data.len() != expected {
        return Err(NpyError::DataLength {
            shape: Shape(meta.shape),
            expected,
            got: data.len(),
        });
    }
    let values = data
        .chunks_exact(4)
        .map(|c| {
            let b = [c[0], c[1], c[2], c[3]];
            if big_endian {
                f32::from_be_bytes(b)
            } else {
                f32::from_le_bytes(b)
            }
        })
        .collect();
    Ok((meta.shape, values))
}

/// Serializes a C-order float32 array as a version 1.0 `.npy` file (little-endian `<f4`),
/// the format `np.save` writes. `data.len()` must equal the product of `shape`.
pub fn write_f32_array(shape: &[usize], data: &[f32]) -> Vec<u8> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}",
        Shape(shape.to_vec())
    );
    // Pad with spaces so that the data starts on a 64-byte boundary, then end with '\n'.
    let unpadded = 10 + header.len() + 1;
    header.extend(std::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(64) - unpadded,
    ));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The three keys of a `.npy` header.
struct Meta {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// One value of the Python literal subset `.npy` headers use.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses the header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
fn parse_header(text: &str) -> Result<Meta, NpyError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        let value = p.value()?;
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            (k @ ("descr" | "fortran_order" | "shape"), v) => {
                return Err(NpyError::Header(format!(
                    "unexpected value {v:?} for '{k}'"
                )))
            }
            (other, _) => return Err(NpyError::Header(format!("unknown key '{other}'"))),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    if !p.s[p.i..].iter().all(u8::is_ascii_whitespace) {
        return Err(NpyError::Header("text after the closing '}'".into()));
    }
    let missing = |k: &str| NpyError::Header(format!("missing key '{k}'"));
    Ok(Meta {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpyError::Header(format!(
                "expected '{}' at byte {}",
                c as char, self.i
            )))
        }
    }
    fn string(&mut self) -> Result<String, NpyError> {
        self.skip_ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(NpyError::Header(format!(
                    "expected a string at byte {}",
                    self.i
                )))
            }
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or_else(|| NpyError::Header("unterminated string".into()))?;
        self.i = start + len + 1;
        // The slice lies between two ASCII quotes of valid UTF-8, so it is valid UTF-8 too.
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }
    fn word(&mut self) -> &[u8] {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphanumeric) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }
    fn value(&mut self) -> Result<Value, NpyError> {
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    if self.eat(b')') {
                        break;
                    }
                    self.skip_ws();
                    let word = self.word();
                    // Python writes large ints with an 'L' suffix in old files.
                    let digits = word.strip_suffix(b"L").unwrap_or(word);
                    let dim = std::str::from_utf8(digits)
                        .ok()
                        .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
                        .and_then(|d| d.parse::<usize>().ok())
                        .ok_or_else(|| NpyError::Header("shape is not a tuple of sizes".into()))?;
                    dims.push(dim);
                    if !self.eat(b',') {
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(Value::Tuple(dims))
            }
            _ => match self.word() {
                b"True" => Ok(Value::Bool(true)),
                b"False" => Ok(Value::Bool(false)),
                _ => Err(NpyError::Header(format!(
                    "unexpected value at byte {}",
                    self.i
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn round_trip_keeps_shape_and_values() {
        for shape in [vec![], vec![5], vec![2, 3], vec![1, 3, 4, 2]] {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let bytes = write_f32_array(&shape, &data);
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0, "data must be 64-byte aligned");
            assert_eq!(read_f32_array(&bytes).unwrap(), (shape, data));
        }
    }

    #[test]
    fn version_2_headers_are_read() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n";
        let mut f = MAGIC.to_vec();
        f.extend_from_slice(&[2, 0]);
        f.extend_from_slice(&(header.len() as u32).to_le_bytes());
        f.extend_from_slice(header.as_bytes());
        f.extend_from_slice(&[0, 0, 128, 63, 0, 0, 0, 64]);
        assert_eq!(read_f32_array(&f).unwrap(), (vec![1, 2], vec![1.0, 2.0]));
        f[6] = 4;
        assert_eq!(read_f32_array(&f), Err(NpyError::Version(4, 0)));
    }

    #[test]
    fn big_endian_float32_is_converted() {
        let data: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let f = file(
            "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
            &data,
        );
        assert_eq!(read_f32_array(&f).unwrap(), (vec![2], vec![1.5, -2.0]));
    }

    #[test]
    fn rejects_what_it_cannot_read_correctly() {
        let f8 = file(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        assert_eq!(read_f32_array(&f8), Err(NpyError::DType("<f8".into())));
        let fo = file(
            "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
            &[0; 16],
        );
        assert_eq!(read_f32_array(&fo), Err(NpyError::FortranOrder));
        let short = file(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            &[0; 8],
        );
        assert!(matches!(
            read_f32_array(&short),
            Err(NpyError::DataLength { .. })
        ));
        let huge = file(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
            &[],
        );
        assert!(matches!(read_f32_array(&huge), Err(NpyError::TooLarge(_))));
        assert_eq!(read_f32_array(b"PK\x03\x04"), Err(NpyError::BadMagic));
        assert!(matches!(
            read_f32_array(&file("{'descr': '<f4'", &[])),
            Err(NpyError::Header(_))
        ));
    }

    #[test]
    fn never_panics_on_prefixes_or_flipped_bytes() {
        let good = write_f32_array(&[2, 3], &[1.0; 6]);
        for cut in 0..good.len() {
            let _ = read_f32_array(&good[..cut]);
        }
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                let _ = read_f32_array(&bad);
            }
        }
    }
}
