//! Checks on the raw buffers C passes to a run, done before anything is read or written:
//! non-null, aligned for `float`, lengths equal to what the plan needs, output disjoint from
//! the inputs.

use std::mem::{align_of, size_of};

use engine::{Dims, Error, Plan};

use crate::status::{conv1x1_status, Failure, Outcome};

/// One caller buffer: its start and the element count the caller says it holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buffer {
    pub what: &'static str,
    pub ptr: *const f32,
    pub len: usize,
}

impl Buffer {
    pub fn new(what: &'static str, ptr: *const f32, len: usize) -> Buffer {
        Buffer { what, ptr, len }
    }

    pub fn is_null(&self) -> bool {
        self.ptr.is_null()
    }

    /// Byte range `[start, end)`, in u128 so that no pointer value or length can wrap.
    fn bytes(&self) -> (u128, u128) {
        let start = self.ptr.addr() as u128;
        (start, start + self.len as u128 * size_of::<f32>() as u128)
    }

    fn overlaps(&self, other: &Buffer) -> bool {
        let (a0, a1) = self.bytes();
        let (b0, b1) = other.bytes();
        a0 < b1 && b0 < a1
    }

    fn check_aligned(&self) -> Outcome {
        if !self.ptr.is_aligned() {
            return Err(Failure::invalid(format!(
                "{} (address {:p}) is not aligned to {} bytes",
                self.what,
                self.ptr,
                align_of::<f32>()
            )));
        }
        Ok(())
    }

    fn check_len(&self, expected: usize, formula: &'static str) -> Outcome {
        if self.len != expected {
            return Err(Error::Length {
                what: self.what,
                got: self.len,
                expected,
                formula,
            }
            .into());
        }
        Ok(())
    }
}

/// The three buffers of one run; `residual.ptr` is null when none is passed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunBuffers {
    pub input: Buffer,
    pub output: Buffer,
    pub residual: Buffer,
}

impl RunBuffers {
    /// Everything the library can check about the buffers of a run of `plan` on `dims`.
    pub fn check(&self, plan: &Plan, dims: Dims) -> Outcome {
        for b in [&self.input, &self.output] {
            if b.is_null() {
                return Err(Failure::null(b.what));
            }
        }
        let wants_residual = plan.spec().residual;
        match (wants_residual, self.residual.is_null()) {
            (true, true) => {
                return Err(Failure::null(
                    "residual (the plan was created with has_residual = true)",
                ))
            }
            (false, false) => {
                return Err(Failure::invalid(
                    "a residual was given but the plan was created with has_residual = false",
                ))
            }
            _ => {}
        }
        // The buffers the run reads; the output must be disjoint from each of them.
        let sources: &[&Buffer] = if wants_residual {
            &[&self.input, &self.residual]
        } else {
            &[&self.input]
        };
        self.output.check_aligned()?;
        for b in sources {
            b.check_aligned()?;
        }
        let output_len = plan.output_len(dims)?;
        self.input.check_len(plan.input_len(dims)?, "N·Cin·H·W")?;
        self.output.check_len(output_len, "N·Cout·Hout·Wout")?;
        if wants_residual {
            self.residual.check_len(output_len, "N·Cout·Hout·Wout")?;
        }
        if let Some(b) = sources.iter().find(|b| self.output.overlaps(b)) {
            return Err(Failure::new(
                conv1x1_status::CONV1X1_OVERLAP,
                format!("the output buffer overlaps the {} buffer", b.what),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(what: &'static str, addr: usize, len: usize) -> Buffer {
        Buffer::new(what, std::ptr::without_provenance(addr), len)
    }

    #[test]
    fn overlap_is_decided_on_byte_ranges() {
        let out = buf("output", 1000, 10); // bytes 1000..1040
        assert!(!out.overlaps(&buf("input", 1040, 5)));
        assert!(!out.overlaps(&buf("input", 980, 5)));
        assert!(out.overlaps(&buf("input", 1036, 5)));
        assert!(out.overlaps(&buf("input", 984, 5)));
        assert!(out.overlaps(&buf("input", 1000, 1)));
        // Ranges near the top of the address space do not wrap.
        assert!(buf("output", usize::MAX - 3, usize::MAX).overlaps(&buf(
            "input",
            usize::MAX - 3,
            1
        )));
    }
}
