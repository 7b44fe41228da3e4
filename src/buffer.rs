//! Cache-line-aligned f32 buffers for inputs and outputs.
//!
//! The kernels accept any `&[f32]`, but where a buffer starts matters for speed: a buffer that
//! does not start on a 64-byte boundary makes every vector load or store of a 16-float
//! (AVX-512) vector span two cache lines, and when a convolution is split into work items
//! (`Plan::work_items`), two items can write the same cache line of an NCHW output row at
//! their boundary, which then travels between the cores. `Vec<f32>` only promises 4-byte
//! alignment. Inference frameworks allocate 64-byte aligned tensors; [`AlignedBuf`] does the
//! same for callers (and this crate's benchmarks) that have no allocator of their own.

use std::ops::{Deref, DerefMut};

/// A heap buffer of `f32` whose first element sits on a 64-byte boundary ([`AlignedBuf::ALIGN`]).
/// Dereferences to `[f32]`, so it can be passed wherever a slice is taken.
///
/// ```
/// use conv1x1::AlignedBuf;
///
/// let mut y = AlignedBuf::zeroed(1000);
/// assert_eq!(y.len(), 1000);
/// assert_eq!(y.as_ptr() as usize % AlignedBuf::ALIGN, 0);
/// y[999] = 1.0;
/// let x = AlignedBuf::from_slice(&[1.0, 2.0, 3.0]);
/// assert_eq!(&x[..], &[1.0, 2.0, 3.0]);
/// ```
pub struct AlignedBuf {
    // `len` elements starting at `data[start]`; the slack around them is never exposed.
    data: Vec<f32>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// Alignment of the first element, in bytes: a cache line, and the widest vector.
    pub const ALIGN: usize = 64;

    /// `len` elements, all `value`.
    ///
    /// # Panics
    /// As `vec!` does, when the allocation cannot be made (`len` near `usize::MAX`).
    pub fn filled(len: usize, value: f32) -> AlignedBuf {
        // Up to 15 floats of slack put some element on a 64-byte boundary (the allocation is
        // at least 4-byte aligned).
        let slack = Self::ALIGN / 4 - 1;
        let total = len
            .checked_add(slack)
            .expect("AlignedBuf length overflows usize");
        let data = vec![value; total];
        let misalign = data.as_ptr().addr() % Self::ALIGN;
        let start = (Self::ALIGN - misalign) % Self::ALIGN / 4;
        AlignedBuf { data, start, len }
    }

    /// `len` zeros.
    pub fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf::filled(len, 0.0)
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[f32]) -> AlignedBuf {
        let mut buf = AlignedBuf::zeroed(values.len());
        buf.copy_from_slice(values);
        buf
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.data[self.start..self.start + self.len]
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.data[self.start..self.start + self.len]
    }
}

/// Cloning allocates anew, so the copy is aligned in its own allocation (a derived `Clone`
/// would keep the offset that aligned the original's).
impl Clone for AlignedBuf {
    fn clone(&self) -> AlignedBuf {
        AlignedBuf::from_slice(self)
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_for_every_length_and_after_clone() {
        for len in [0, 1, 15, 16, 17, 1000, 4097] {
            let mut b = AlignedBuf::filled(len, 2.5);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 2.5));
            assert_eq!(b.as_ptr().addr() % AlignedBuf::ALIGN, 0, "len {len}");
            if len > 0 {
                b[len - 1] = -1.0;
            }
            let c = b.clone();
            assert_eq!(&c[..], &b[..]);
            assert_eq!(c.as_ptr().addr() % AlignedBuf::ALIGN, 0, "clone, len {len}");
        }
    }
}
