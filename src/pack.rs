//! Weight packing: the order each block kernel reads, done once at plan creation.
//!
//! Input channels are cut into blocks of `kc`; within a block, output channels are cut into
//! panels. A panel of `k` input channels is stored `[k][width]` so the microkernel reads it
//! front to back with unit stride:
//! * Pixel-vectorized kernels (NCHW; weights on the broadcast side): every panel has width MR,
//!   zero padded.
//! * Channel-vectorized kernels (NHWC, and NCHW along output channels, `nchw_cv`; weights on
//!   the vector side): full panels have width NR; the last one is padded only to a whole
//!   number of vectors, so thin layers (Cout = 24) do not pay for a 64-wide panel.
//! * K-paired last panel (NHWC on AVX2 and AVX-512, when the last panel is an odd number of
//!   half vectors, e.g. 24 channels on AVX-512, or exactly one vector, e.g. Cout = 16): not
//!   padded; its rows are stored in pairs of input channels, `[k/2][n][2]` (each output
//!   channel's weights for input channels 2r and 2r + 1 side by side), then, for odd `k`, the
//!   last input channel's row `[n]`. The k-paired tile of `nhwc_tile.rs` fills whole vectors
//!   with them.
//!
//! The bias is padded to the same panel widths, which makes bias index = output channel.

use crate::kernel::{Entry, KernelInfo};
use crate::spec::{Isa, Layout};

/// A heap buffer of f32 aligned to 64 bytes (one cache line, one zmm).
#[derive(Clone, Debug)]
pub(crate) struct AlignedBuf {
    chunks: Vec<Chunk>,
    len: usize,
}

#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Chunk([f32; 16]);

impl AlignedBuf {
    pub fn zeroed(len: usize) -> Self {
        Self::zeroed_with_slack(len, 0)
    }
    /// `len` values followed by at least `slack` more zeros in the same allocation, which
    /// `as_ptr` reads may reach (`len` and `as_mut_slice` leave them out).
    pub fn zeroed_with_slack(len: usize, slack: usize) -> Self {
        AlignedBuf {
            chunks: vec![Chunk([0.0; 16]); (len + slack).div_ceil(16)],
            len,
        }
    }
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: `Chunk` is `repr(C)` over `[f32; 16]` with no padding (64 bytes), so the
        // chunks are `16 · chunks.len() ≥ len` contiguous, initialized f32 values; access is
        // unique through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.chunks.as_mut_ptr().cast::<f32>(), self.len) }
    }
    pub fn as_ptr(&self) -> *const f32 {
        self.chunks.as_ptr().cast::<f32>()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    /// Floats the allocation holds (`len` and the slack after it).
    #[cfg(test)]
    fn allocated(&self) -> usize {
        16 * self.chunks.len()
    }
}

/// Panel geometry of the output-channel dimension for one kernel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Panels {
    /// Nominal panel width (MR for NCHW, NR for NHWC).
    pub width: usize,
    /// Number of panels.
    pub count: usize,
    /// Valid output channels in the last panel.
    pub last_valid: usize,
    /// Stored width of the last panel.
    pub last_width: usize,
    /// Whether the last panel is k-paired (see the module docs; `NhwcBlock::kpair`).
    pub kpair: bool,
}

/// Most half vectors of channels a k-paired panel may have (the tiles instantiated in
/// `nhwc_tile::kpair_panel`).
pub(crate) const KPAIR_MAX_HALVES: usize = 7;

/// Whether a last panel of `n` channels of `kernel` is k-paired: NHWC on an ISA whose `Simd`
/// has `K_PAIRS`, and `n` an odd number of half vectors, at most `KPAIR_MAX_HALVES`, or
/// exactly one vector. A plain tile of one vector per pixel loads one input value per FMA,
/// which bounds it below peak; k-paired, one load feeds two FMAs (benches/README.md, note 20).
fn kpair(kernel: &KernelInfo, n: usize) -> bool {
    let isa = matches!(kernel.isa, Isa::Avx2 | Isa::Avx512);
    let half = kernel.lanes / 2;
    isa && kernel.layout == Layout::Nhwc
        && matches!(kernel.entry, Entry::Nhwc(_))
        && half > 0
        && ((n % kernel.lanes == half && n / half <= KPAIR_MAX_HALVES) || n == kernel.lanes)
}

impl Panels {
    pub fn new(kernel: &KernelInfo, cout: usize) -> Self {
        // Broadcast-side panels (pixel-vectorized kernels) are MR wide; vector-side panels
        // (channel-vectorized kernels) NR wide, the last one only to whole vectors.
        let (width, vector_side) = match kernel.entry {
            Entry::Nchw(_) => (kernel.mr, false),
            Entry::Nhwc(_) | Entry::NchwCv(_) => (kernel.nr, true),
        };
        let count = cout.div_ceil(width);
        let last_valid = cout - (count - 1) * width;
        let kpair = kpair(kernel, last_valid);
        let last_width = if kpair {
            last_valid
        } else if vector_side {
            last_valid.next_multiple_of(kernel.lanes)
        } else {
            width
        };
        Panels {
            width,
            count,
            last_valid,
            last_width,
            kpair,
        }
    }
    /// Output channels including padding: packed floats per input channel.
    pub fn padded(&self) -> usize {
        (self.count - 1) * self.width + self.last_width
    }
    /// Stored width of panel `j`.
    pub fn width_of(&self, j: usize) -> usize {
        if j + 1 == self.count {
            self.last_width
        } else {
            self.width
        }
    }
}

/// Packs `weights` (`[cout][cin]`, row-major) for `kernel`, in blocks of `kc` input channels.
pub(crate) fn pack_weights(
    kernel: &KernelInfo,
    kc: usize,
    cin: usize,
    cout: usize,
    weights: &[f32],
) -> AlignedBuf {
    debug_assert_eq!(weights.len(), cin * cout);
    let panels = Panels::new(kernel, cout);
    // Pixel-vectorized NCHW kernels load a panel's row of MR weights as whole vectors where
    // MR is not a multiple of the lanes (`nchw_tile::channel_tile`, and the fused tail pixel
    // of an AVX2 `nchw_tile::tile`): a masked load of 6 of 8 lanes ran at half the rate of a
    // plain one on AVX2 (benches/README.md, note 53). One vector of zeros after the last row
    // keeps those loads inside the allocation.
    let slack = match kernel.entry {
        Entry::Nchw(_) => kernel.lanes,
        _ => 0,
    };
    let mut buf = AlignedBuf::zeroed_with_slack(cin * panels.padded(), slack);
    let out = buf.as_mut_slice();
    let mut pos = 0;
    let mut k0 = 0;
    while k0 < cin {
        let k = kc.min(cin - k0);
        for j in 0..panels.count {
            let width = panels.width_of(j);
            if j + 1 == panels.count && panels.kpair {
                // Input channels in pairs, each output channel's two weights side by side.
                for kk in 0..k {
                    let (row, side) = if kk + 1 == k && k % 2 == 1 {
                        (kk, None)
                    } else {
                        (kk - kk % 2, Some(kk % 2))
                    };
                    for c in 0..width {
                        let at = match side {
                            Some(s) => row * width + 2 * c + s,
                            None => row * width + c,
                        };
                        out[pos + at] = weights[(j * panels.width + c) * cin + k0 + kk];
                    }
                }
                pos += k * width;
                continue;
            }
            for kk in 0..k {
                for c in 0..width {
                    let co = j * panels.width + c;
                    if co < cout {
                        out[pos] = weights[co * cin + k0 + kk];
                    }
                    pos += 1;
                }
            }
        }
        k0 += k;
    }
    debug_assert_eq!(pos, out.len());
    buf
}

/// Pads `bias` to the panel layout (bias index = output channel).
pub(crate) fn pack_bias(kernel: &KernelInfo, cout: usize, bias: &[f32]) -> AlignedBuf {
    let panels = Panels::new(kernel, cout);
    let mut buf = AlignedBuf::zeroed(panels.padded());
    buf.as_mut_slice()[..cout].copy_from_slice(bias);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::registry::kernels;

    /// `nchw_tile::channel_tile` and the fused tail of `nchw_tile::tile` load a packed row as
    /// whole vectors, reaching up to LANES − 1 floats past the last row: every
    /// pixel-vectorized NCHW kernel's buffer has that slack, whatever the number of floats
    /// packed.
    #[test]
    fn packed_nchw_weights_end_in_a_vector_of_slack() {
        for kernel in kernels().filter(|k| matches!(k.entry, Entry::Nchw(_))) {
            for (cin, cout) in [(1, 1), (3, 5), (16, 16), (17, 6), (9, 40)] {
                let cin = kernel.cin.unwrap_or(cin);
                let cout = kernel.cout.unwrap_or(cout);
                let packed = pack_weights(kernel, kernel.kc, cin, cout, &vec![1.0; cin * cout]);
                assert!(
                    packed.allocated() >= packed.len() + kernel.lanes,
                    "{} {cin}x{cout}: {} floats allocated for {}",
                    kernel.name,
                    packed.allocated(),
                    packed.len()
                );
            }
        }
    }
}
