//! Every generic kernel of every ISA this CPU supports × both layouts × stride 1/2 × batch 1/3 × every epilogue, over
//! channel counts and pixel counts chosen to hit every tail of every tile, against the f64
//! reference. Outputs start as NaN, so an element a kernel forgets to write fails.

mod common;

use common::*;
use conv1x1::{Dims, Layout};

/// Channel counts: below, at and just past every vector width and tile (1..256).
const CHANNELS: [usize; 11] = [1, 3, 7, 8, 15, 16, 17, 33, 64, 100, 256];
/// Input images with 1, 2, 7, 15, 16, 17, 31, 49, 100 and 3136 pixels.
const IMAGES: [(usize, usize); 10] = [
    (1, 1),
    (1, 2),
    (7, 1),
    (3, 5),
    (4, 4),
    (1, 17),
    (31, 1),
    (7, 7),
    (10, 10),
    (56, 56),
];

/// A cross product that pairs every channel count with several others and with several image
/// sizes, keeping the big image for the cheap channel pairs.
fn shapes() -> Vec<(usize, usize, (usize, usize))> {
    let mut out = Vec::new();
    for (i, &cin) in CHANNELS.iter().enumerate() {
        for step in [1, 4, 7] {
            let cout = CHANNELS[(i + step) % CHANNELS.len()];
            let mut img = IMAGES[(i * 3 + step) % IMAGES.len()];
            if img == (56, 56) && cin * cout > 64 * 17 {
                img = (10, 10);
            }
            out.push((cin, cout, img));
        }
    }
    // The big image once per layout with a real channel pair, and the blocking edges:
    // Cin past one k block (128-256 NCHW, 512 NHWC on aarch64, 1024 NHWC on x86), Cout past one
    // channel block, pixels past one pixel block.
    out.push((64, 16, (56, 56)));
    out.push((513, 17, (3, 5)));
    out.push((1025, 17, (3, 5)));
    out.push((20, 600, (5, 5)));
    out.push((9, 40, (30, 33)));
    // NCHW pixel spans (src/plan/exec.rs, `nchw_spans`): several k blocks over a 56×56 image
    // run span by span.
    out.push((300, 40, (56, 56)));
    // Strided (gathered) NCHW blocks run every panel of their region in one block, past one
    // channel block (512 output channels on AVX-512, 256 on AVX2), over several k blocks
    // whose sums are loaded back (`nchw_image`).
    out.push((300, 520, (3, 5)));
    // Blocks that run panel by panel (`nchw_tile::panel_major`): output planes of 4096 bytes
    // (every row at the same 4 KiB offset) and of 256 bytes (16 offsets) with 260 rows, the
    // latter with a 16-pixel tail after a 48-pixel tile.
    out.push((3, 300, (32, 32)));
    out.push((5, 260, (8, 8)));
    if quick() {
        out.retain(|&(_, _, (h, w))| h * w <= 100);
    }
    out
}

fn sweep(layout: Layout) {
    let mut seed = 1;
    for (isa, kernel) in generic_kernels(layout) {
        for &(cin, cout, (h, w)) in &shapes() {
            for stride in [(1, 1), (2, 2)] {
                for batch in [1, 3] {
                    // Cycle the epilogues across the sweep so each meets every shape family.
                    let epi = EPILOGUES[(seed as usize) % EPILOGUES.len()];
                    seed += 1;
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
                    check_case(&case, seed);
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nchw_matches_reference() {
    sweep(Layout::Nchw);
}

#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nhwc_matches_reference() {
    sweep(Layout::Nhwc);
}

/// Every epilogue on every generic kernel, with strides 1, 2, (1, 3), (3, 2) and batch 3.
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn every_epilogue_on_every_isa() {
    for layout in [Layout::Nchw, Layout::Nhwc] {
        for (isa, kernel) in generic_kernels(layout) {
            for (e, &epi) in EPILOGUES.iter().enumerate() {
                for stride in [(1, 1), (2, 2), (1, 3), (3, 2)] {
                    let case = Case {
                        isa,
                        layout,
                        cin: 37,
                        cout: 70,
                        dims: Dims::new(3, 9, 13),
                        stride,
                        epi,
                        kernel,
                    };
                    check_case(&case, 100 + e as u64);
                }
            }
        }
    }
}

/// Every generic kernel of `layout` on short pixel tails: each output size in `outputs`
/// (rows × columns, the columns doubled in the input at stride (1, 2)), each of `couts`, one
/// and several blocks of input channels (5, 600), stride 1 and (1, 2), epilogues cycling.
fn short_tail_sweep(layout: Layout, outputs: &[(usize, usize)], couts: &[usize], seed: u64) {
    let mut seed = seed;
    for (isa, kernel) in generic_kernels(layout) {
        for &(h, w) in outputs {
            for &cout in couts {
                for cin in [5, 600] {
                    for stride in [(1, 1), (1, 2)] {
                        let epi = EPILOGUES[(seed as usize) % EPILOGUES.len()];
                        seed += 1;
                        let case = Case {
                            isa,
                            layout,
                            cin,
                            cout,
                            dims: Dims::new(1, h, w * stride.1),
                            stride,
                            epi,
                            kernel,
                        };
                        check_case(&case, seed);
                    }
                }
            }
        }
    }
}

/// NCHW pixel tails short enough to run along output channels, several panels at once, or
/// computed by the last full tile (AVX-512: up to 4 pixels after a 48-pixel tile, AVX2: 1
/// after a 16-pixel tile): tails of 1, 2, 3, 4 and 7 pixels after whole tiles (48 + n,
/// 16 + n) and alone, output channel counts whose panels fill groups exactly, partly, and end
/// in a partial panel, one and two
/// blocks of input channels, every epilogue, stride 1 and 2 (gathered blocks share the tail
/// code). Tails of 2 to 4 pixels after enough whole tiles are spread over the last tiles
/// (`nchw_tile::spread_tail`): on AVX-512 two per tile, sharing a vector of sums, where the
/// count is even (98, 100 and 196 pixels), else one per tile (147); after fewer tiles the last
/// one computes them all, in pairs on AVX-512 (50 to 52 pixels).
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nchw_channel_tails_in_panel_groups() {
    let outputs = [
        (1, 49),
        (1, 50),
        (1, 51),
        (1, 52),
        (1, 55),
        (1, 17),
        (1, 20),
        (1, 23),
        (1, 1),
        (2, 3),
        (2, 49),
        (3, 49),
        (14, 14),
        (1, 100),
    ];
    short_tail_sweep(Layout::Nchw, &outputs, &[20, 64, 76, 130], 500);
}

/// NHWC pixel tails of one or two pixels, which full panels run in pairs: after whole tiles
/// and alone, with even and odd numbers of full panels, a partial last panel, one and two
/// blocks of input channels, every epilogue, stride 1 and 2. Where the ISA ends runs in
/// tiles of one pixel fewer instead (`nhwc_tile::short_tiles`, AVX-512): tails of 1 to 5
/// pixels after enough whole 6-pixel tiles (49, 50, 51, 196 and 23 pixels), and 25 pixels,
/// which run as five 5-pixel tiles and no whole one.
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nhwc_short_tails_in_panel_pairs() {
    let outputs = [
        (1, 1),
        (1, 2),
        (1, 7),
        (1, 8),
        (1, 13),
        (1, 14),
        (7, 7),
        (1, 50),
        (1, 51),
        (14, 14),
        (1, 23),
        (1, 25),
    ];
    short_tail_sweep(Layout::Nhwc, &outputs, &[16, 48, 192, 200, 256], 900);
}

/// NHWC last panels of an odd number of half vectors or of exactly one vector, which run
/// k-paired (each output channel's even and odd input channels in neighbouring lanes;
/// `pack.rs`): AVX-512 last panels of 8, 16, 24, 40 and 56 channels (alone and after full
/// 64-channel panels), AVX2 ones of 4, 8 and 12; input channels odd and even, one and several
/// k blocks (1031: blocks of 516 and 515 on x86, of 344, 344 and 343 on aarch64), so the
/// partial sums of earlier blocks are loaded back; pixel tails after and without whole tiles;
/// every epilogue; stride 1 and 2; batch 2.
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nhwc_k_paired_last_panels() {
    let couts = [4, 8, 12, 16, 20, 24, 40, 56, 80, 88, 120];
    let cins = [1, 2, 5, 96, 1031];
    let images = [(1, 1), (3, 5), (7, 7)];
    let mut seed = 1300;
    for (isa, kernel) in generic_kernels(Layout::Nhwc) {
        for &cout in &couts {
            for (c, &cin) in cins.iter().enumerate() {
                let (h, w) = images[(c + cout) % images.len()];
                for stride in [(1, 1), (2, 2)] {
                    let epi = EPILOGUES[(seed as usize) % EPILOGUES.len()];
                    seed += 1;
                    let case = Case {
                        isa,
                        layout: Layout::Nhwc,
                        cin,
                        cout,
                        dims: Dims::new(2, h * stride.0, w * stride.1),
                        stride,
                        epi,
                        kernel,
                    };
                    check_case(&case, seed);
                }
            }
        }
    }
}

/// The two NCHW kernels of an ISA, vectorized along pixels and along output channels
/// (`src/kernel/nchw_cv.rs`), compute every element with the same FMA chain, so they agree
/// bit for bit: dispatch may pick either by a layer's channels without changing a result.
/// Shapes with several k blocks, tail panels, pixel blocks, strides, every epilogue.
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nchw_kernels_agree_bit_for_bit() {
    let kernels = generic_kernels(Layout::Nchw);
    let shapes = [
        (1030, 70, (7, 7), (1, 1)),
        (300, 130, (14, 14), (1, 1)),
        (64, 200, (20, 20), (1, 1)),
        (40, 64, (9, 11), (2, 2)),
        (2048, 24, (2, 3), (1, 1)),
    ];
    let mut seed = 900;
    for &(isa, pixel) in &kernels {
        for &(_, cv) in kernels.iter().filter(|&&(i, k)| i == isa && k != pixel) {
            for &(cin, cout, (h, w), stride) in &shapes {
                let epi = EPILOGUES[(seed as usize) % EPILOGUES.len()];
                seed += 1;
                let case = |kernel| Case {
                    isa,
                    layout: Layout::Nchw,
                    cin,
                    cout,
                    dims: Dims::new(2, h, w),
                    stride,
                    epi,
                    kernel,
                };
                let outputs: Vec<Vec<u32>> = [pixel, cv]
                    .iter()
                    .map(|&k| {
                        let c = case(k);
                        let p = operands(&c, seed);
                        let plan =
                            conv1x1::Plan::new(&c.spec(), &p.weights, p.bias.as_deref()).unwrap();
                        let mut out = vec![f32::NAN; p.out_len];
                        plan.run(c.dims, &p.input, &mut out, p.residual.as_deref())
                            .unwrap();
                        out.iter().map(|v| v.to_bits()).collect()
                    })
                    .collect();
                assert!(outputs[0] == outputs[1], "{:?} against {cv:?}", case(pixel));
            }
        }
    }
}

/// Dispatch runs unstrided AVX-512 NCHW layers of at least 1024 input channels on the kernel
/// vectorized along output channels, every other NCHW layer on the pixel-vectorized one.
#[test]
fn nchw_dispatch_picks_channel_vectors_for_wide_inputs() {
    use conv1x1::{ConvSpec, Isa, Plan};
    for isa in conv1x1::dispatch::supported_isas() {
        let name = |cin: usize, stride: usize| {
            let spec = ConvSpec::new(cin, 64)
                .layout(Layout::Nchw)
                .stride_hw(stride, stride)
                .isa(isa);
            let plan = Plan::new(&spec, &vec![0.5; cin * 64], None).unwrap();
            plan.kernel().name
        };
        let cv = isa == Isa::Avx512;
        assert_eq!(name(1024, 1).contains("_cv_"), cv, "{isa}");
        assert_eq!(name(2048, 1).contains("_cv_"), cv, "{isa}");
        assert!(!name(1024, 2).contains("_cv_"), "{isa}");
        assert!(!name(1023, 1).contains("_cv_"), "{isa}");
    }
}

/// NCHW last panels of every row count below a tile's (`nchw_tile::tile` sums 2 or 4 rows of
/// such a panel instead of MR): 1 to 7 output channels alone, and after 7 full panels of 6
/// (AVX2) or 8 (AVX-512, NEON) channels, where the last panel is among those that take turns
/// at the input prefetches; one and two k blocks (300 input channels: 256 + 44 on x86) so the
/// sums of the first are loaded back; images of one fused tail pixel (7×7), two tiles and a
/// tail (10×10), 196 pixels; stride 1 and 2 (gathered tiles); every epilogue.
#[test]
#[cfg_attr(miri, ignore = "slow under Miri; see tests/miri_scalar.rs")]
fn nchw_short_last_panels() {
    let couts = [
        1, 2, 3, 4, 5, 6, 7, 43, 44, 45, 46, 47, 57, 58, 59, 60, 61, 62, 63,
    ];
    let images = [(7, 7), (10, 10), (14, 14)];
    let mut seed = 1700;
    for (isa, kernel) in generic_kernels(Layout::Nchw) {
        for &cout in &couts {
            for cin in [3, 300] {
                for ((h, w), stride) in images.into_iter().flat_map(|i| [(i, (1, 1)), (i, (2, 2))])
                {
                    let epi = EPILOGUES[(seed as usize) % EPILOGUES.len()];
                    seed += 1;
                    let case = Case {
                        isa,
                        layout: Layout::Nchw,
                        cin,
                        cout,
                        dims: Dims::new(1, h * stride.0, w * stride.1),
                        stride,
                        epi,
                        kernel,
                    };
                    check_case(&case, seed);
                }
            }
        }
    }
}
