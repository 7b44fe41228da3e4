//! Cache-line-aligned f32 buffers for inputs and outputs.
//!
//! The kernels accept any `&[f32]`, but where a buffer starts matters for speed: a buffer that
//! does not start on a 64-byte boundary makes every vector load or store of a 16-float
//! (AVX-512) vector span two cache lines, and when a convolution is split into work items
//! (`Plan::work_items`), two items can write the same cache line of an NCHW output row at
//! their boundary, which then travels between the cores. `Vec<f32>` only promises 4-byte
//! alignment. Inference frameworks allocate 64-byte aligned tensors; [`AlignedBuf`] does the
//! same for callers (and this crate's benchmarks) that have no allocator of their own;
//! [`AlignedBuf::huge_zeroed`] also asks the kernel for transparent huge pages, which large
//! batches run faster on.

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
    storage: Storage,
    len: usize,
}

enum Storage {
    /// `data[start..start + len]`; the slack around them is never exposed.
    Heap { data: Vec<f32>, start: usize },
    /// Pages mapped for this buffer alone ([`AlignedBuf::huge_zeroed`]).
    #[cfg(all(target_os = "linux", not(miri)))]
    Mapped(huge::Mapping),
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
        AlignedBuf {
            storage: Storage::Heap { data, start },
            len,
        }
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

    /// `len` zeros on pages of their own that the kernel is asked to back with transparent
    /// huge pages (Linux: an anonymous mapping aligned to 2 MiB, `madvise(MADV_HUGEPAGE)`
    /// before any page is touched). A large batch reads and writes tens of MiB per call,
    /// thousands of 4 KiB pages; on 2 MiB pages the kernels measured 5–12 % faster on
    /// ResNet-50's 56×56 layers (benches/README.md, note 33).
    ///
    /// Whether huge pages are granted is the kernel's decision: its THP setting
    /// (`/sys/kernel/mm/transparent_hugepage/enabled`, `always` or `madvise`) and free
    /// memory. Elsewhere, under Miri, or if the mapping fails, this is [`AlignedBuf::zeroed`].
    pub fn huge_zeroed(len: usize) -> AlignedBuf {
        #[cfg(all(target_os = "linux", not(miri)))]
        if let Some(mapping) = huge::Mapping::new(len) {
            return AlignedBuf {
                storage: Storage::Mapped(mapping),
                len,
            };
        }
        AlignedBuf::zeroed(len)
    }

    /// Whether this buffer was mapped for huge pages ([`AlignedBuf::huge_zeroed`]), not
    /// whether the kernel granted them.
    pub fn is_mapped_for_huge_pages(&self) -> bool {
        match self.storage {
            Storage::Heap { .. } => false,
            #[cfg(all(target_os = "linux", not(miri)))]
            Storage::Mapped(_) => true,
        }
    }
}

impl Deref for AlignedBuf {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match &self.storage {
            Storage::Heap { data, start } => &data[*start..*start + self.len],
            #[cfg(all(target_os = "linux", not(miri)))]
            Storage::Mapped(m) => m.slice(self.len),
        }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [f32] {
        match &mut self.storage {
            Storage::Heap { data, start } => &mut data[*start..*start + self.len],
            #[cfg(all(target_os = "linux", not(miri)))]
            Storage::Mapped(m) => m.slice_mut(self.len),
        }
    }
}

/// Cloning allocates anew, so the copy is aligned in its own allocation (a derived `Clone`
/// would keep the offset that aligned the original's), on pages mapped for huge pages if the
/// original is.
impl Clone for AlignedBuf {
    fn clone(&self) -> AlignedBuf {
        let mut copy = if self.is_mapped_for_huge_pages() {
            AlignedBuf::huge_zeroed(self.len)
        } else {
            AlignedBuf::zeroed(self.len)
        };
        copy.copy_from_slice(self);
        copy
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .field("huge_pages", &self.is_mapped_for_huge_pages())
            .finish()
    }
}

/// Anonymous mappings for [`AlignedBuf::huge_zeroed`].
#[cfg(all(target_os = "linux", not(miri)))]
mod huge {
    use std::ptr::NonNull;

    /// The huge page size of x86-64 and of aarch64 with 4 KiB base pages.
    const HUGE_PAGE: usize = 2 << 20;

    /// `bytes` of zeroed memory mapped for one buffer, starting on a [`HUGE_PAGE`] boundary;
    /// unmapped on drop.
    pub(super) struct Mapping {
        ptr: NonNull<f32>,
        bytes: usize,
    }

    // SAFETY: the mapping is owned by one `Mapping` alone, like a `Vec`'s allocation.
    unsafe impl Send for Mapping {}
    unsafe impl Sync for Mapping {}

    impl Mapping {
        /// Room for `len` floats, or `None` where the mapping cannot be made (or `len` is 0:
        /// an ordinary empty buffer serves).
        pub(super) fn new(len: usize) -> Option<Mapping> {
            let bytes = len.checked_mul(4)?.checked_next_multiple_of(HUGE_PAGE)?;
            if bytes == 0 {
                return None;
            }
            // Map one huge page more than needed, keep the part that starts on a huge page
            // boundary and unmap the rest, so that every 2 MiB of the buffer can be one page.
            let span = bytes.checked_add(HUGE_PAGE)?;
            // SAFETY: a new private anonymous mapping; no existing memory is touched.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    span,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return None;
            }
            let lead = base.addr().next_multiple_of(HUGE_PAGE) - base.addr();
            let start = base.wrapping_byte_add(lead);
            // SAFETY: both ranges lie within the mapping just made and outside the part kept;
            // a failed unmap only leaves address space mapped.
            unsafe {
                if lead > 0 {
                    libc::munmap(base, lead);
                }
                let tail = span - lead - bytes;
                if tail > 0 {
                    libc::munmap(start.wrapping_byte_add(bytes), tail);
                }
                // Advice only: without THP support the buffer is on ordinary pages.
                libc::madvise(start, bytes, libc::MADV_HUGEPAGE);
            }
            Some(Mapping {
                ptr: NonNull::new(start.cast::<f32>())?,
                bytes,
            })
        }

        pub(super) fn slice(&self, len: usize) -> &[f32] {
            debug_assert!(len * 4 <= self.bytes);
            // SAFETY: the mapping holds `bytes` ≥ 4·len readable bytes, zero-filled by the
            // kernel and written only through `slice_mut`, which needs `&mut self`.
            unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), len) }
        }

        pub(super) fn slice_mut(&mut self, len: usize) -> &mut [f32] {
            debug_assert!(len * 4 <= self.bytes);
            // SAFETY: as in `slice`, and `&mut self` makes this the only reference.
            unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), len) }
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: exactly the range `new` kept, no longer referenced by any slice (they
            // borrow `self`).
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.bytes);
            }
        }
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

    #[test]
    fn huge_zeroed_is_zero_aligned_writable_and_clones() {
        // Under and over one huge page (2 MiB = 524 288 floats), and empty. Miri (where this
        // is `zeroed`) takes minutes over megabytes: smaller lengths there.
        let page = if cfg!(miri) { 1024 } else { 524_288 };
        for len in [0, 1, 17, page, page + 5] {
            let mut b = AlignedBuf::huge_zeroed(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 0.0), "len {len}");
            assert_eq!(b.as_ptr().addr() % AlignedBuf::ALIGN, 0, "len {len}");
            let on_linux = cfg!(all(target_os = "linux", not(miri)));
            assert_eq!(
                b.is_mapped_for_huge_pages(),
                on_linux && len > 0,
                "len {len}"
            );
            if b.is_mapped_for_huge_pages() {
                assert_eq!(b.as_ptr().addr() % (2 << 20), 0, "len {len}");
            }
            if len > 0 {
                b[0] = 1.0;
                b[len - 1] = -1.0;
            }
            let c = b.clone();
            assert_eq!(&c[..], &b[..]);
            assert_eq!(c.is_mapped_for_huge_pages(), b.is_mapped_for_huge_pages());
        }
    }
}
