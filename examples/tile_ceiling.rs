//! The ceiling of the NCHW tiles' k loops, and how close the kernels come to it. Hand-written
//! assembly loops of one k step of the AVX-512 8 × 3 and AVX2 6 × 2 tiles: at fixed addresses
//! (and variants), and walked as the kernel walks them (input rows a channel stride apart,
//! weights in steps, blocks of kc) over operands that fit in L1; then the generic kernels with
//! the input hot (in L2 where the operands fit) and with inputs rotating through 12 MiB, from
//! L3, as the suites measure them. Each is compared with a register-only loop of independent
//! FMA chains (24 zmm or 12 ymm, as `conv1x1::peak` measures the peak), printed as markdown
//! tables (benches/README.md, note 39).
//!
//! ```text
//! cargo run --release --example tile_ceiling [-- --passes P] [--shape S,...] [--kernels-only]
//! ```
//! A measurement is 100 rounds of one 2.5 ms run of the reference loop and one run of the loop
//! (or one call of the kernel): the best of each, so both come from the same half second, and
//! the share is their ratio. Printed per row: the median over P passes (default 5) of the
//! GFLOP/s and of the share, and the share's lowest and highest pass. Loops this CPU cannot run
//! are left out; on other architectures the example says so and exits.

use clap::Parser;

mod common;

#[derive(Parser)]
struct Args {
    /// Passes over every loop.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    passes: u32,
    /// Kernel shapes to measure instead of the default four (repeat, or separate with commas).
    #[arg(long = "shape", value_delimiter = ',')]
    shapes: Vec<conv1x1::suite::Shape>,
    /// Measure the kernels only, not the assembly loops.
    #[arg(long)]
    kernels_only: bool,
}

#[cfg(target_arch = "x86_64")]
fn main() {
    x86::main(Args::parse());
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    let _ = Args::parse();
    println!("tile_ceiling: the loops are x86-64 assembly; nothing to measure here");
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::asm;
    use std::time::Instant;

    use conv1x1::suite::Shape;
    use conv1x1::{dispatch, AlignedBuf, Isa, KernelKind, Layout, Plan};

    /// What a loop reads: `k` input rows `stride_bytes` apart from `x`, and `k` steps of
    /// weights from `w` (the fixed-address loops read the first row and step every time).
    struct Operands {
        x: *const f32,
        w: *const f32,
        stride_bytes: usize,
        k: u64,
    }

    /// One loop: what it is, the ISA whose peak it is compared with, FLOPs per k step, the
    /// loop itself (runs `iterations` k steps, a multiple of `k`) and, for the walking loops,
    /// the channel stride in floats and kc.
    struct Loop {
        name: String,
        isa: Isa,
        flops: f64,
        run: LoopFn,
        walk: Option<(usize, usize)>,
    }

    type LoopFn = unsafe fn(&Operands, u64);

    const RUNS: usize = 100;
    const RUN_SECONDS: f64 = 2.5e-3;
    const ZMM_STEP: f64 = 24.0 * 32.0;
    const YMM_STEP: f64 = 12.0 * 16.0;

    /// Per tile: its step at fixed addresses, variants of that step, and its k loop walked
    /// with the kernel's kc over rows as far apart as gathered rows (`kernel::gather_row`) and
    /// as the planes of 14×14, 28×28 and 56×56 images.
    fn loops() -> Vec<Loop> {
        struct Tile {
            isa: Isa,
            name: &'static str,
            flops: f64,
            kc: usize,
            gathered: usize,
            fixed: LoopFn,
            variants: Vec<(&'static str, LoopFn)>,
            walk: LoopFn,
        }
        let tiles = [
            Tile {
                isa: Isa::Avx512,
                name: "AVX-512 8 × 3",
                flops: ZMM_STEP,
                kc: 128,
                gathered: 64,
                fixed: zmm_8x3_fixed,
                variants: vec![
                    (
                        "without the broadcasts: 3 loads, 24 FMAs",
                        zmm_8x3_no_broadcast,
                    ),
                    (
                        "with each FMA broadcasting from memory ({1to16})",
                        zmm_8x3_embedded,
                    ),
                ],
                walk: zmm_8x3_walk,
            },
            Tile {
                isa: Isa::Avx2,
                name: "AVX2 6 × 2",
                flops: YMM_STEP,
                kc: 256,
                gathered: 24,
                fixed: ymm_6x2_fixed,
                variants: vec![(
                    "without the broadcasts: 2 loads, 12 FMAs",
                    ymm_6x2_no_broadcast,
                )],
                walk: ymm_6x2_walk,
            },
        ];
        let mut loops = Vec::new();
        for t in tiles {
            let Tile {
                isa,
                name: tile,
                flops,
                kc,
                gathered,
                fixed,
                variants,
                walk,
            } = t;
            let one = |name: String, run: LoopFn, walk: Option<(usize, usize)>| Loop {
                name,
                isa,
                flops,
                run,
                walk,
            };
            loops.push(one(format!("{tile} k step, fixed addresses"), fixed, None));
            for (what, run) in variants {
                loops.push(one(format!("{tile} k step {what}"), run, None));
            }
            let strides = [
                (gathered, "gathered rows"),
                (196, "14×14 planes"),
                (784, "28×28 planes"),
                (3136, "56×56 planes"),
            ];
            for (stride, what) in strides {
                let name = format!("{tile} walked, kc {kc}, rows {stride} floats apart ({what})");
                loops.push(one(name, walk, Some((stride, kc))));
            }
        }
        loops
    }

    pub fn main(args: crate::Args) {
        let passes = args.passes as usize;
        let loops: Vec<Loop> = loops()
            .into_iter()
            .filter(|l| dispatch::is_supported(l.isa) && !args.kernels_only)
            .collect();
        if !dispatch::is_supported(Isa::Avx2) && !dispatch::is_supported(Isa::Avx512) {
            println!("tile_ceiling: this CPU has neither AVX2+FMA nor AVX-512");
            return;
        }
        let shares = over_passes(&loops, passes, |l| {
            let o = LoopOperands::new(l.walk);
            let steps = calibrate(|n| run_loop(l, &o.operands(), n), l.walk_k());
            against_peak(l.isa, || {
                let t = Instant::now();
                run_loop(l, &o.operands(), steps);
                l.flops * steps as f64 / t.elapsed().as_secs_f64() / 1e9
            })
        });
        if !loops.is_empty() {
            println!("| loop | GFLOP/s | % of peak | lowest–highest pass |");
            println!("| --- | ---: | ---: | ---: |");
            for (l, samples) in loops.iter().zip(shares) {
                print_row(&l.name, samples);
            }
            println!();
        }

        // The kernels themselves on the same terms: best of 100 calls, with the input hot (in
        // L2 where the operands fit) and with inputs rotating through more than L2, as the
        // suites measure them (the output buffer is reused, as there).
        let shapes: Vec<Shape> = if args.shapes.is_empty() {
            KERNEL_SHAPES
                .iter()
                .map(|s| s.parse().expect("a shape"))
                .collect()
        } else {
            args.shapes
        };
        let mut rows = Vec::new();
        for isa in [Isa::Avx512, Isa::Avx2] {
            for layout in [Layout::Nchw, Layout::Nhwc] {
                for &shape in &shapes {
                    for from_l3 in [false, true] {
                        if dispatch::is_supported(isa) {
                            rows.push((isa, layout, shape, from_l3));
                        }
                    }
                }
            }
        }
        let shares = over_passes(&rows, passes, |&(isa, layout, shape, from_l3)| {
            let spec = shape
                .spec()
                .layout(layout)
                .isa(isa)
                .kernel(KernelKind::Generic);
            let w = AlignedBuf::filled(shape.cin * shape.cout, 0.01);
            let plan = Plan::new(&spec, &w, None).expect("a plan");
            let dims = shape.dims();
            let in_len = plan.input_len(dims).expect("input size");
            let inputs = if from_l3 {
                crate::common::ROTATE_BYTES.div_ceil(4 * in_len).max(2)
            } else {
                1
            };
            let x: Vec<AlignedBuf> = (0..inputs)
                .map(|_| AlignedBuf::filled(in_len, 1.0))
                .collect();
            let mut y = AlignedBuf::zeroed(plan.output_len(dims).expect("output size"));
            let mut call = 0;
            let mut run = || {
                let t = Instant::now();
                plan.run(dims, &x[call % inputs], &mut y, None)
                    .expect("run");
                call += 1;
                shape.flops() / t.elapsed().as_secs_f64() / 1e9
            };
            for _ in 0..inputs.max(10) {
                run();
            }
            against_peak(isa, run)
        });
        println!("| kernel | input | GFLOP/s | % of peak | lowest–highest pass |");
        println!("| --- | --- | ---: | ---: | ---: |");
        for ((isa, layout, shape, from_l3), samples) in rows.iter().zip(shares) {
            let input = if *from_l3 { "rotating, from L3" } else { "hot" };
            print_row(&format!("{isa} {layout} `{shape}` | {input}"), samples);
        }
    }

    /// Kernel shapes: two whose input, weights and output fit in L2 together, and two suite
    /// layers.
    const KERNEL_SHAPES: [&str; 4] = ["1024x256@12x16", "256x64@12x16", "1024x256@14", "256x64@56"];

    impl Loop {
        /// Steps per block of the walking loops; 1 for the others.
        fn walk_k(&self) -> u64 {
            self.walk.map_or(1, |(_, k)| k as u64)
        }
    }

    /// 64-byte aligned operands of ones for a loop (sums grow; no denormals, no infinities):
    /// `k` rows `stride` floats apart plus room for 3 vectors, and `k` steps of 8 weights.
    struct LoopOperands {
        x: AlignedBuf,
        w: AlignedBuf,
        stride: usize,
        k: usize,
    }

    impl LoopOperands {
        fn new(walk: Option<(usize, usize)>) -> LoopOperands {
            let (stride, k) = walk.unwrap_or((0, 1));
            LoopOperands {
                x: AlignedBuf::filled(k * stride + 128, 1.0),
                w: AlignedBuf::filled(k * 8, 1.0),
                stride,
                k,
            }
        }

        fn operands(&self) -> Operands {
            Operands {
                x: self.x.as_ptr(),
                w: self.w.as_ptr(),
                stride_bytes: self.stride * 4,
                k: self.k as u64,
            }
        }
    }

    fn run_loop(l: &Loop, o: &Operands, steps: u64) {
        // SAFETY: `o` describes live buffers of the sizes the loops read (`LoopOperands`),
        // and `main` keeps only loops whose ISA this CPU runs.
        unsafe { (l.run)(o, steps) }
    }

    /// Steps (a multiple of `multiple`) for which `run` takes about `RUN_SECONDS`.
    fn calibrate(run: impl Fn(u64), multiple: u64) -> u64 {
        let time = |steps: u64| {
            let t = Instant::now();
            run(steps);
            t.elapsed().as_secs_f64()
        };
        let mut steps = (1u64 << 12).next_multiple_of(multiple);
        while time(steps) < 1e-3 {
            steps *= 2;
        }
        let steps = (steps as f64 * RUN_SECONDS / time(steps)).max(1.0) as u64;
        steps.next_multiple_of(multiple)
    }

    /// `run`'s best GFLOP/s over `RUNS` rounds as a share of the best of the register-only
    /// FMA loop of `isa`, which runs for `RUN_SECONDS` just before it in every round: both
    /// bests come from the same few tenths of a second, whatever the machine's load did.
    fn against_peak(isa: Isa, mut run: impl FnMut() -> f64) -> [f64; 2] {
        let peak = match isa {
            Isa::Avx512 => zmm_peak,
            _ => ymm_peak,
        };
        let o = LoopOperands::new(None);
        let reference = Loop {
            name: String::new(),
            isa,
            flops: if isa == Isa::Avx512 {
                ZMM_STEP
            } else {
                YMM_STEP
            },
            run: peak,
            walk: None,
        };
        let steps = calibrate(|n| run_loop(&reference, &o.operands(), n), 1);
        let (mut best, mut best_peak) = (0.0f64, 0.0f64);
        for _ in 0..RUNS {
            let t = Instant::now();
            run_loop(&reference, &o.operands(), steps);
            let g = reference.flops * steps as f64 / t.elapsed().as_secs_f64() / 1e9;
            best_peak = best_peak.max(g);
            best = best.max(run());
        }
        [best, best / best_peak]
    }

    /// `measure` on every row, pass after pass over the whole list.
    fn over_passes<R>(
        rows: &[R],
        passes: usize,
        mut measure: impl FnMut(&R) -> [f64; 2],
    ) -> Vec<Vec<[f64; 2]>> {
        let mut samples = vec![Vec::new(); rows.len()];
        for _ in 0..passes {
            for (row, s) in rows.iter().zip(&mut samples) {
                s.push(measure(row));
            }
        }
        samples
    }

    /// A table row: the median GFLOP/s and share of the peak over the passes, and the lowest
    /// and highest share.
    fn print_row(name: &str, samples: Vec<[f64; 2]>) {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let shares: Vec<f64> = samples.iter().map(|s| s[1]).collect();
        let lo = shares.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = shares.iter().copied().fold(0.0, f64::max);
        println!(
            "| {name} | {:.1} | {:.1} | {:.1}–{:.1} |",
            median(samples.iter().map(|s| s[0]).collect()),
            100.0 * median(shares),
            100.0 * lo,
            100.0 * hi
        );
    }

    /// Zeroes the 24 zmm sums (registers left as they were could hold denormals, which slow
    /// FMAs) and sets the two weight registers of the steps without broadcasts.
    macro_rules! zmm_start {
        ($x:literal, $w:literal) => {
            concat!(
                "vxorps zmm0, zmm0, zmm0\n",
                "vxorps zmm1, zmm1, zmm1\n",
                "vxorps zmm2, zmm2, zmm2\n",
                "vxorps zmm3, zmm3, zmm3\n",
                "vxorps zmm4, zmm4, zmm4\n",
                "vxorps zmm5, zmm5, zmm5\n",
                "vxorps zmm6, zmm6, zmm6\n",
                "vxorps zmm7, zmm7, zmm7\n",
                "vxorps zmm8, zmm8, zmm8\n",
                "vxorps zmm9, zmm9, zmm9\n",
                "vxorps zmm10, zmm10, zmm10\n",
                "vxorps zmm11, zmm11, zmm11\n",
                "vxorps zmm12, zmm12, zmm12\n",
                "vxorps zmm13, zmm13, zmm13\n",
                "vxorps zmm14, zmm14, zmm14\n",
                "vxorps zmm15, zmm15, zmm15\n",
                "vxorps zmm16, zmm16, zmm16\n",
                "vxorps zmm17, zmm17, zmm17\n",
                "vxorps zmm18, zmm18, zmm18\n",
                "vxorps zmm19, zmm19, zmm19\n",
                "vxorps zmm20, zmm20, zmm20\n",
                "vxorps zmm21, zmm21, zmm21\n",
                "vxorps zmm22, zmm22, zmm22\n",
                "vxorps zmm23, zmm23, zmm23\n",
                "vbroadcastss zmm27, dword ptr [",
                $w,
                "]\n",
                "vbroadcastss zmm28, dword ptr [",
                $w,
                " + 4]\n",
            )
        };
    }

    /// Zeroes the 12 ymm sums and sets the two fixed weight registers.
    macro_rules! ymm_start {
        ($x:literal, $w:literal) => {
            concat!(
                "vxorps ymm0, ymm0, ymm0\n",
                "vxorps ymm1, ymm1, ymm1\n",
                "vxorps ymm2, ymm2, ymm2\n",
                "vxorps ymm3, ymm3, ymm3\n",
                "vxorps ymm4, ymm4, ymm4\n",
                "vxorps ymm5, ymm5, ymm5\n",
                "vxorps ymm6, ymm6, ymm6\n",
                "vxorps ymm7, ymm7, ymm7\n",
                "vxorps ymm8, ymm8, ymm8\n",
                "vxorps ymm9, ymm9, ymm9\n",
                "vxorps ymm10, ymm10, ymm10\n",
                "vxorps ymm11, ymm11, ymm11\n",
                "vbroadcastss ymm14, dword ptr [",
                $w,
                "]\n",
                "vbroadcastss ymm15, dword ptr [",
                $w,
                " + 4]\n",
            )
        };
    }

    /// 24 independent FMAs on registers only: the reference, as `conv1x1::peak` measures the
    /// AVX-512 peak.
    macro_rules! zmm_peak_step {
        ($x:literal, $w:literal) => {
            concat!(
                "vfmadd231ps zmm0, zmm27, zmm28\n",
                "vfmadd231ps zmm1, zmm27, zmm28\n",
                "vfmadd231ps zmm2, zmm27, zmm28\n",
                "vfmadd231ps zmm3, zmm27, zmm28\n",
                "vfmadd231ps zmm4, zmm27, zmm28\n",
                "vfmadd231ps zmm5, zmm27, zmm28\n",
                "vfmadd231ps zmm6, zmm27, zmm28\n",
                "vfmadd231ps zmm7, zmm27, zmm28\n",
                "vfmadd231ps zmm8, zmm27, zmm28\n",
                "vfmadd231ps zmm9, zmm27, zmm28\n",
                "vfmadd231ps zmm10, zmm27, zmm28\n",
                "vfmadd231ps zmm11, zmm27, zmm28\n",
                "vfmadd231ps zmm12, zmm27, zmm28\n",
                "vfmadd231ps zmm13, zmm27, zmm28\n",
                "vfmadd231ps zmm14, zmm27, zmm28\n",
                "vfmadd231ps zmm15, zmm27, zmm28\n",
                "vfmadd231ps zmm16, zmm27, zmm28\n",
                "vfmadd231ps zmm17, zmm27, zmm28\n",
                "vfmadd231ps zmm18, zmm27, zmm28\n",
                "vfmadd231ps zmm19, zmm27, zmm28\n",
                "vfmadd231ps zmm20, zmm27, zmm28\n",
                "vfmadd231ps zmm21, zmm27, zmm28\n",
                "vfmadd231ps zmm22, zmm27, zmm28\n",
                "vfmadd231ps zmm23, zmm27, zmm28\n",
            )
        };
    }

    /// The AVX-512 NCHW tile's k step: 3 input loads at `x`, 8 weight broadcasts from `w`, 24
    /// FMAs. `b` is the broadcasts' mnemonic, `vbroadcastss`, or `#` to leave them out as
    /// comments (the FMAs then take the weight registers `zmm_start` set).
    macro_rules! zmm_8x3_step {
        ($x:literal, $w:literal, $b:literal) => {
            concat!(
                "vmovups zmm24, [",
                $x,
                "]\n",
                "vmovups zmm25, [",
                $x,
                " + 64]\n",
                "vmovups zmm26, [",
                $x,
                " + 128]\n",
                "",
                $b,
                " zmm27, dword ptr [",
                $w,
                "]\n",
                "vfmadd231ps zmm0, zmm24, zmm27\n",
                "vfmadd231ps zmm1, zmm25, zmm27\n",
                "vfmadd231ps zmm2, zmm26, zmm27\n",
                "",
                $b,
                " zmm28, dword ptr [",
                $w,
                " + 4]\n",
                "vfmadd231ps zmm3, zmm24, zmm28\n",
                "vfmadd231ps zmm4, zmm25, zmm28\n",
                "vfmadd231ps zmm5, zmm26, zmm28\n",
                "",
                $b,
                " zmm27, dword ptr [",
                $w,
                " + 8]\n",
                "vfmadd231ps zmm6, zmm24, zmm27\n",
                "vfmadd231ps zmm7, zmm25, zmm27\n",
                "vfmadd231ps zmm8, zmm26, zmm27\n",
                "",
                $b,
                " zmm28, dword ptr [",
                $w,
                " + 12]\n",
                "vfmadd231ps zmm9, zmm24, zmm28\n",
                "vfmadd231ps zmm10, zmm25, zmm28\n",
                "vfmadd231ps zmm11, zmm26, zmm28\n",
                "",
                $b,
                " zmm27, dword ptr [",
                $w,
                " + 16]\n",
                "vfmadd231ps zmm12, zmm24, zmm27\n",
                "vfmadd231ps zmm13, zmm25, zmm27\n",
                "vfmadd231ps zmm14, zmm26, zmm27\n",
                "",
                $b,
                " zmm28, dword ptr [",
                $w,
                " + 20]\n",
                "vfmadd231ps zmm15, zmm24, zmm28\n",
                "vfmadd231ps zmm16, zmm25, zmm28\n",
                "vfmadd231ps zmm17, zmm26, zmm28\n",
                "",
                $b,
                " zmm27, dword ptr [",
                $w,
                " + 24]\n",
                "vfmadd231ps zmm18, zmm24, zmm27\n",
                "vfmadd231ps zmm19, zmm25, zmm27\n",
                "vfmadd231ps zmm20, zmm26, zmm27\n",
                "",
                $b,
                " zmm28, dword ptr [",
                $w,
                " + 28]\n",
                "vfmadd231ps zmm21, zmm24, zmm28\n",
                "vfmadd231ps zmm22, zmm25, zmm28\n",
                "vfmadd231ps zmm23, zmm26, zmm28\n",
            )
        };
    }

    /// The same with each FMA broadcasting its weight from memory (`{1to16}`).
    macro_rules! zmm_8x3_step_embedded {
        ($x:literal, $w:literal) => {
            concat!(
                "vmovups zmm24, [",
                $x,
                "]\n",
                "vmovups zmm25, [",
                $x,
                " + 64]\n",
                "vmovups zmm26, [",
                $x,
                " + 128]\n",
                "vfmadd231ps zmm0, zmm24, dword ptr [",
                $w,
                "]{{1to16}}\n",
                "vfmadd231ps zmm1, zmm25, dword ptr [",
                $w,
                "]{{1to16}}\n",
                "vfmadd231ps zmm2, zmm26, dword ptr [",
                $w,
                "]{{1to16}}\n",
                "vfmadd231ps zmm3, zmm24, dword ptr [",
                $w,
                " + 4]{{1to16}}\n",
                "vfmadd231ps zmm4, zmm25, dword ptr [",
                $w,
                " + 4]{{1to16}}\n",
                "vfmadd231ps zmm5, zmm26, dword ptr [",
                $w,
                " + 4]{{1to16}}\n",
                "vfmadd231ps zmm6, zmm24, dword ptr [",
                $w,
                " + 8]{{1to16}}\n",
                "vfmadd231ps zmm7, zmm25, dword ptr [",
                $w,
                " + 8]{{1to16}}\n",
                "vfmadd231ps zmm8, zmm26, dword ptr [",
                $w,
                " + 8]{{1to16}}\n",
                "vfmadd231ps zmm9, zmm24, dword ptr [",
                $w,
                " + 12]{{1to16}}\n",
                "vfmadd231ps zmm10, zmm25, dword ptr [",
                $w,
                " + 12]{{1to16}}\n",
                "vfmadd231ps zmm11, zmm26, dword ptr [",
                $w,
                " + 12]{{1to16}}\n",
                "vfmadd231ps zmm12, zmm24, dword ptr [",
                $w,
                " + 16]{{1to16}}\n",
                "vfmadd231ps zmm13, zmm25, dword ptr [",
                $w,
                " + 16]{{1to16}}\n",
                "vfmadd231ps zmm14, zmm26, dword ptr [",
                $w,
                " + 16]{{1to16}}\n",
                "vfmadd231ps zmm15, zmm24, dword ptr [",
                $w,
                " + 20]{{1to16}}\n",
                "vfmadd231ps zmm16, zmm25, dword ptr [",
                $w,
                " + 20]{{1to16}}\n",
                "vfmadd231ps zmm17, zmm26, dword ptr [",
                $w,
                " + 20]{{1to16}}\n",
                "vfmadd231ps zmm18, zmm24, dword ptr [",
                $w,
                " + 24]{{1to16}}\n",
                "vfmadd231ps zmm19, zmm25, dword ptr [",
                $w,
                " + 24]{{1to16}}\n",
                "vfmadd231ps zmm20, zmm26, dword ptr [",
                $w,
                " + 24]{{1to16}}\n",
                "vfmadd231ps zmm21, zmm24, dword ptr [",
                $w,
                " + 28]{{1to16}}\n",
                "vfmadd231ps zmm22, zmm25, dword ptr [",
                $w,
                " + 28]{{1to16}}\n",
                "vfmadd231ps zmm23, zmm26, dword ptr [",
                $w,
                " + 28]{{1to16}}\n",
            )
        };
    }

    /// 12 independent FMAs on registers only: the AVX2 reference.
    macro_rules! ymm_peak_step {
        ($x:literal, $w:literal) => {
            concat!(
                "vfmadd231ps ymm0, ymm14, ymm15\n",
                "vfmadd231ps ymm1, ymm14, ymm15\n",
                "vfmadd231ps ymm2, ymm14, ymm15\n",
                "vfmadd231ps ymm3, ymm14, ymm15\n",
                "vfmadd231ps ymm4, ymm14, ymm15\n",
                "vfmadd231ps ymm5, ymm14, ymm15\n",
                "vfmadd231ps ymm6, ymm14, ymm15\n",
                "vfmadd231ps ymm7, ymm14, ymm15\n",
                "vfmadd231ps ymm8, ymm14, ymm15\n",
                "vfmadd231ps ymm9, ymm14, ymm15\n",
                "vfmadd231ps ymm10, ymm14, ymm15\n",
                "vfmadd231ps ymm11, ymm14, ymm15\n",
            )
        };
    }

    /// The AVX2 NCHW tile's k step: 2 input loads, 6 weight broadcasts (`b`, as in
    /// `zmm_8x3_step`), 12 FMAs.
    macro_rules! ymm_6x2_step {
        ($x:literal, $w:literal, $b:literal) => {
            concat!(
                "vmovups ymm12, [",
                $x,
                "]\n",
                "vmovups ymm13, [",
                $x,
                " + 32]\n",
                "",
                $b,
                " ymm14, dword ptr [",
                $w,
                "]\n",
                "vfmadd231ps ymm0, ymm12, ymm14\n",
                "vfmadd231ps ymm1, ymm13, ymm14\n",
                "",
                $b,
                " ymm15, dword ptr [",
                $w,
                " + 4]\n",
                "vfmadd231ps ymm2, ymm12, ymm15\n",
                "vfmadd231ps ymm3, ymm13, ymm15\n",
                "",
                $b,
                " ymm14, dword ptr [",
                $w,
                " + 8]\n",
                "vfmadd231ps ymm4, ymm12, ymm14\n",
                "vfmadd231ps ymm5, ymm13, ymm14\n",
                "",
                $b,
                " ymm15, dword ptr [",
                $w,
                " + 12]\n",
                "vfmadd231ps ymm6, ymm12, ymm15\n",
                "vfmadd231ps ymm7, ymm13, ymm15\n",
                "",
                $b,
                " ymm14, dword ptr [",
                $w,
                " + 16]\n",
                "vfmadd231ps ymm8, ymm12, ymm14\n",
                "vfmadd231ps ymm9, ymm13, ymm14\n",
                "",
                $b,
                " ymm15, dword ptr [",
                $w,
                " + 20]\n",
                "vfmadd231ps ymm10, ymm12, ymm15\n",
                "vfmadd231ps ymm11, ymm13, ymm15\n",
            )
        };
    }

    /// Defines `$name(o, iterations)`: `$start`, then `$step` (with the broadcast mnemonic
    /// `$b`, for the steps that take one) `iterations` times on the same operands (`o.x`,
    /// `o.w`).
    macro_rules! fixed_loop {
        ($(#[$doc:meta])* $name:ident, $feature:literal, $start:ident, $step:ident $(, $b:literal)?) => {
            $(#[$doc])*
            #[target_feature(enable = $feature)]
            unsafe fn $name(o: &Operands, iterations: u64) {
                // SAFETY: the steps read 3 vectors at `o.x` and 8 floats at `o.w`, which
                // `Operands` holds; they write only registers the C ABI lets a call clobber.
                unsafe {
                    asm!(
                        // Not every step reads both operands.
                        "/* operands: {x}, {w} */",
                        $start!("{x}", "{w}"),
                        "2:",
                        $step!("{x}", "{w}" $(, $b)?),
                        "dec rcx",
                        "jnz 2b",
                        x = in(reg) o.x,
                        w = in(reg) o.w,
                        // `clobber_abi` wants outputs in named registers.
                        inout("rcx") iterations => _,
                        clobber_abi("C"),
                        options(nostack, readonly),
                    );
                }
            }
        };
    }

    /// Defines `$name(o, iterations)`: `$start`, then blocks of `o.k` steps as the kernel's k
    /// loop walks them: input rows `o.stride_bytes` apart from `o.x`, `$w_step` bytes of
    /// weights per step from `o.w`; `iterations` steps in all.
    macro_rules! walk_loop {
        ($(#[$doc:meta])* $name:ident, $feature:literal, $start:ident, $step:ident, $w_step:literal) => {
            $(#[$doc])*
            #[target_feature(enable = $feature)]
            unsafe fn $name(o: &Operands, iterations: u64) {
                // SAFETY: each block reads `o.k` rows of 3 vectors `o.stride_bytes` apart from
                // `o.x` and `o.k` steps of weights from `o.w`, which `Operands` holds; it
                // writes only registers the C ABI lets a call clobber.
                unsafe {
                    asm!(
                        "mov r8, {x0}",
                        "mov r9, {w0}",
                        $start!("r8", "r9"),
                        "3:",
                        "mov r8, {x0}",
                        "mov r9, {w0}",
                        "mov r10, {k0}",
                        "2:",
                        $step!("r8", "r9", "vbroadcastss"),
                        "add r8, {stride}",
                        "add r9, {w_step}",
                        "dec r10",
                        "jnz 2b",
                        "dec rcx",
                        "jnz 3b",
                        x0 = in(reg) o.x,
                        w0 = in(reg) o.w,
                        k0 = in(reg) o.k,
                        stride = in(reg) o.stride_bytes,
                        w_step = const $w_step,
                        // `clobber_abi` wants outputs in named registers: the row, weight
                        // and step counters, and the block counter.
                        out("r8") _,
                        out("r9") _,
                        out("r10") _,
                        inout("rcx") iterations / o.k => _,
                        clobber_abi("C"),
                        options(nostack, readonly),
                    );
                }
            }
        };
    }

    fixed_loop!(
        /// The AVX-512 reference loop.
        zmm_peak, "avx512f", zmm_start, zmm_peak_step
    );
    fixed_loop!(
        /// The AVX-512 tile's k step at fixed addresses.
        zmm_8x3_fixed, "avx512f", zmm_start, zmm_8x3_step, "vbroadcastss"
    );
    fixed_loop!(
        /// Its step without broadcasts, at fixed addresses.
        zmm_8x3_no_broadcast, "avx512f", zmm_start, zmm_8x3_step, "#"
    );
    fixed_loop!(
        /// Its step with broadcasting FMAs, at fixed addresses.
        zmm_8x3_embedded, "avx512f", zmm_start, zmm_8x3_step_embedded
    );
    walk_loop!(
        /// The AVX-512 tile's k loop as the kernel walks it (8 weights per step).
        zmm_8x3_walk, "avx512f", zmm_start, zmm_8x3_step, 32
    );
    fixed_loop!(
        /// The AVX2 reference loop.
        ymm_peak, "avx2,fma", ymm_start, ymm_peak_step
    );
    fixed_loop!(
        /// The AVX2 tile's k step at fixed addresses.
        ymm_6x2_fixed, "avx2,fma", ymm_start, ymm_6x2_step, "vbroadcastss"
    );
    fixed_loop!(
        /// Its step without broadcasts, at fixed addresses.
        ymm_6x2_no_broadcast, "avx2,fma", ymm_start, ymm_6x2_step, "#"
    );
    walk_loop!(
        /// The AVX2 tile's k loop as the kernel walks it (6 weights per step).
        ymm_6x2_walk, "avx2,fma", ymm_start, ymm_6x2_step, 24
    );
}
