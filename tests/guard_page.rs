//! No kernel reads or writes past its buffers: input, residual and output each end exactly at
//! a page boundary followed by an inaccessible guard page (mmap + mprotect), so any access past
//! the last element faults. Shapes are chosen so every tile has tails.

#![cfg(unix)]

mod common;

use common::*;
use conv1x1::{Dims, Isa, KernelKind, Layout, Plan};

/// `len` f32s ending exactly at a `PROT_NONE` page.
struct Guarded {
    base: *mut libc::c_void,
    map_len: usize,
    data: *mut f32,
    len: usize,
}

impl Guarded {
    fn new(values: &[f32]) -> Guarded {
        // SAFETY: plain anonymous mapping; the last page is made inaccessible and the slice is
        // placed so that it ends right where that page begins.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let bytes = values.len() * 4;
            let data_pages = bytes.div_ceil(page).max(1);
            let map_len = (data_pages + 1) * page;
            let base = libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(base, libc::MAP_FAILED, "mmap failed");
            let guard = (base as *mut u8).add(data_pages * page);
            assert_eq!(
                libc::mprotect(guard.cast(), page, libc::PROT_NONE),
                0,
                "mprotect failed"
            );
            let data = guard.sub(bytes).cast::<f32>();
            std::ptr::copy_nonoverlapping(values.as_ptr(), data, values.len());
            Guarded {
                base,
                map_len,
                data,
                len: values.len(),
            }
        }
    }
    fn slice(&self) -> &[f32] {
        // SAFETY: `data` points at `len` initialized f32s inside the readable mapping.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
    fn slice_mut(&mut self) -> &mut [f32] {
        // SAFETY: as above, uniquely borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.len) }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`.
        unsafe {
            libc::munmap(self.base, self.map_len);
        }
    }
}

#[test]
fn no_access_past_any_buffer() {
    let shapes = [
        (3, 5, (7, 9)),
        (17, 33, (5, 7)),
        (33, 17, (1, 49)),
        // 48 + 4 pixels: the AVX-512 NCHW tile computes the last 4 with its own 48.
        (5, 10, (1, 52)),
        (100, 7, (3, 11)),
        (8, 70, (13, 1)),
        (300, 9, (2, 3)),
        // NHWC last panels that run k-paired: 24 and 88 channels on AVX-512, 12 on AVX2;
        // one vector: 16 and 80 on AVX-512, 8 and 24 on AVX2; odd input channels, so the
        // last one is read alone.
        (9, 24, (3, 5)),
        (5, 88, (1, 3)),
        (7, 12, (2, 5)),
        (11, 16, (3, 7)),
        (3, 80, (2, 2)),
        (13, 8, (5, 3)),
        // Stride 2 on an odd width: output rows of 8 and 16 pixels, whole vectors on AVX2
        // and AVX-512 whose last input element is the buffer's last.
        (3, 5, (1, 15)),
        (3, 5, (1, 31)),
    ];
    let mut seed = 7;
    let kernels = [generic_kernels(Layout::Nchw), generic_kernels(Layout::Nhwc)].concat();
    for (isa, kernel) in kernels {
        if isa == Isa::Avx2 && std::env::var_os("CONV1X1_EMULATED").is_some() {
            // qemu (7.2) emulates VMASKMOVPS loads by reading all 32 bytes, so a masked load
            // that ends at the guard page faults under emulation, although the hardware
            // suppresses faults on masked-off lanes (Intel SDM, VMASKMOV). AVX2 is covered by
            // the native run of this test.
            eprintln!("AVX2 skipped under emulation");
            continue;
        }
        let layout = conv1x1::kernels()
            .find(|k| KernelKind::Named(k.name) == kernel)
            .unwrap()
            .layout;
        {
            for &(cin, cout, (h, w)) in &shapes {
                for stride in [(1, 1), (2, 2), (3, 1)] {
                    for batch in [1, 2] {
                        seed += 1;
                        let epi = EPILOGUES[seed as usize % EPILOGUES.len()];
                        let case = Case {
                            isa,
                            layout,
                            cin,
                            cout,
                            dims: Dims::new(batch, h, w),
                            stride,
                            epi,
                            kernel,
                        };
                        let p = operands(&case, seed);
                        let input = Guarded::new(&p.input);
                        let residual = p.residual.as_deref().map(Guarded::new);
                        let mut output = Guarded::new(&vec![f32::NAN; p.out_len]);
                        let plan = Plan::new(&case.spec(), &p.weights, p.bias.as_deref()).unwrap();
                        plan.run(
                            case.dims,
                            input.slice(),
                            output.slice_mut(),
                            residual.as_ref().map(Guarded::slice),
                        )
                        .unwrap();
                        let spec = case.spec();
                        let a = p
                            .problem(&spec, case.dims)
                            .accuracy(output.slice())
                            .unwrap();
                        assert!(a.passed(), "{case:?}: {a}");
                    }
                }
            }
        }
    }
}
