//! The command line: subcommands, options and their help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use conv1x1::suite::Shape;
use conv1x1::{Activation, Isa, KernelKind, Layout};

use crate::results::Keep;

/// What the timed call of `bench` and `report` includes; printed in help texts and reports.
/// A macro so that `concat!` can splice it into the help attributes.
macro_rules! timed_call {
    () => {
        "With --threads 1 the timed call is one Plan::run (weights packed beforehand, output \
         buffer reused). With --threads N > 1 it is one convolution split by Plan::work_items \
         into N items run on N persistent threads (the calling thread plus N-1 workers started \
         before timing), from handing out the work until the last item is done. The input \
         rotates among buffers totalling at least 8 MiB and 4x the L2 size, so it comes from \
         L3 or memory as in a network. Input and output buffers start on 64-byte boundaries, \
         as a framework's tensors do. Each configuration is warmed up, then repeated until \
         --min-time has passed and at least 10 runs were made; the median is reported."
    };
}

/// What the timed call of `bench` and `report` includes.
pub const TIMED_CALL: &str = timed_call!();

/// Added to [`TIMED_CALL`] with `--huge-pages`.
pub const HUGE_PAGES_TIMED: &str = "With --huge-pages, input and output buffers are anonymous \
    mappings aligned to 2 MiB with madvise(MADV_HUGEPAGE), so that the kernel may back them \
    with transparent huge pages (conv1x1::AlignedBuf::huge_zeroed).";

#[derive(Debug, Parser)]
#[command(
    name = "conv1x1",
    version,
    about = "SIMD 1x1 convolution kernels: machine info, benchmarks, reports, .npy runs, self-check",
    after_help = "Examples:\n  conv1x1 info\n  conv1x1 bench --shape 256x64@56\n  \
                  conv1x1 report --out conv1x1-report\n  \
                  conv1x1 run --input x.npy --weights w.npy --output y.npy\n  conv1x1 verify"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the CPU, its SIMD features, usable ISAs, the automatic choice and the kernels.
    #[command(after_help = "Examples:\n  conv1x1 info\n  conv1x1 info --json")]
    Info(InfoArgs),
    /// Measure GFLOP/s and % of peak on benchmark shapes.
    #[command(
        after_help = concat!(
            "Examples:\n  conv1x1 bench\n  \
             conv1x1 bench --shape 256x64@56 --isa all --layout nhwc\n  \
             conv1x1 bench --shape 256x64@56 --peers\n  \
             conv1x1 bench --suite mobilenetv2 --threads 2 --json > mnv2.json\n\n\
             Shapes are CinxCout@HxW[sS][bN] (input size HxW, stride S, batch N), e.g. \
             256x64@56, 256x512@56s2, 64x256@28x28b8.\n\nWhat is timed: ",
            timed_call!()
        )
    )]
    Bench(BenchArgs),
    /// Benchmark every ISA × layout (and two GEMM peers) and write md/json/html.
    #[command(after_help = concat!(
        "Examples:\n  conv1x1 report\n  \
         conv1x1 report --suite mobilenetv2 --out mnv2-report\n  \
         conv1x1 report --shape 256x64@56 --shape 64x256@56 --min-time 0.05\n\n\
         Runs every ISA this CPU supports on both layouts (generic and, where one exists, \
         specialized kernels) plus two peers on the same GEMM, single thread: matrixmultiply's \
         sgemm and the gemm crate's gemm, each checked against conv1x1's output first. Writes \
         DIR/report.md, DIR/report.json and DIR/report.html (one self-contained file with \
         inline SVG charts); tables carry \"× matrixmultiply\" and \"× gemm\" columns (our \
         GFLOP/s over the peer's, same run).\n\nWhat is timed: ",
        timed_call!()
    ))]
    Report(ReportArgs),
    /// Run one convolution on .npy files.
    #[command(
        after_help = "Example:\n  conv1x1 run --input x.npy --weights w.npy --bias b.npy \
                            --layout nhwc --stride 2 --activation relu --output y.npy\n\n\
                            x: float32 [N,C,H,W] (nchw) or [N,H,W,C] (nhwc); w: [Cout,Cin] or \
                            [Cout,Cin,1,1]; b: [Cout]; residual: the output's shape.\n\
                            y is written as float32, C order, in the input's layout."
    )]
    Run(RunArgs),
    /// Check every kernel usable here against the f64 reference on random shapes.
    #[command(after_help = "Examples:\n  conv1x1 verify\n  conv1x1 verify --isa avx2 --seed 7")]
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options shared by `bench` and `report`.
#[derive(Debug, Args, Clone)]
pub struct WorkloadArgs {
    /// A shape CinxCout@HxW[sS][bN] to measure; repeat or separate with commas.
    #[arg(long = "shape", value_name = "S", value_parser = parse_shape, value_delimiter = ',',
          conflicts_with = "suite")]
    pub shapes: Vec<Shape>,
    /// Network whose 1x1 layers to measure (default resnet50 when no --shape is given).
    #[arg(long, value_enum)]
    pub suite: Option<SuiteChoice>,
    /// Override the batch size of every shape.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Threads per convolution (see "What is timed" in --help).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: u32,
    /// Hide the progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Put inputs and outputs on pages mapped for transparent huge pages (Linux: 2 MiB
    /// aligned, madvise(MADV_HUGEPAGE); whether the kernel grants them is reported). The
    /// 56×56 layers ran 5–12 % faster on them here (benches/README.md, note 33).
    #[arg(long)]
    pub huge_pages: bool,
    /// Measure every configuration N times, in N passes over the whole list (a burst of load
    /// on a shared machine then spoils one pass rather than every one), and keep one pass per
    /// configuration (--keep); tables add the lowest and highest GFLOP/s of the passes.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=99))]
    pub passes: u32,
    /// Which pass a row keeps: the one with the median time, or the fastest (the least
    /// disturbed, as the peak is the best of its runs).
    #[arg(long, value_enum, default_value_t = Keep::Median)]
    pub keep: Keep,
}

#[derive(Debug, Args)]
#[command(long_about = None)]
pub struct BenchArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Memory layout(s) to measure.
    #[arg(long, value_enum, default_value_t = LayoutChoice::Both)]
    pub layout: LayoutChoice,
    /// ISA(s) to measure: auto is what dispatch picks, all is every ISA this CPU supports.
    #[arg(long, value_enum, default_value_t = IsaSet::Auto)]
    pub isa: IsaSet,
    /// Kernel selection: auto, generic, specialized, or a kernel name from `conv1x1 info`;
    /// configurations the chosen kernel does not fit are skipped with a note.
    #[arg(long, value_name = "KERNEL", default_value = "auto", value_parser = parse_kernel)]
    pub kernel: KernelKind,
    /// Seconds to spend per configuration (at least 10 runs are made anyway).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5, value_parser = parse_seconds)]
    pub min_time: f64,
    /// Also time the GEMM peers (matrixmultiply's sgemm, the gemm crate's gemm) on the same
    /// product, single thread, and add "× peer" ratio columns.
    #[arg(long)]
    pub peers: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Folder to write report.md, report.json and report.html into (created if missing).
    #[arg(long, value_name = "DIR", default_value = "conv1x1-report")]
    pub out: PathBuf,
    /// Seconds to spend per configuration (at least 10 runs are made anyway).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.2, value_parser = parse_seconds)]
    pub min_time: f64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Input, float32 .npy: [N,C,H,W] for nchw, [N,H,W,C] for nhwc.
    #[arg(long, value_name = "X.npy")]
    pub input: PathBuf,
    /// Weights, float32 .npy: [Cout,Cin] or [Cout,Cin,1,1].
    #[arg(long, value_name = "W.npy")]
    pub weights: PathBuf,
    /// Bias, float32 .npy: [Cout].
    #[arg(long, value_name = "B.npy")]
    pub bias: Option<PathBuf>,
    /// Residual added before the activation, float32 .npy with the output's shape.
    #[arg(long, value_name = "R.npy")]
    pub residual: Option<PathBuf>,
    /// Where to write the output (float32, C order, the input's layout).
    #[arg(long, value_name = "Y.npy")]
    pub output: PathBuf,
    /// Layout of input, residual and output.
    #[arg(long, value_enum, default_value_t = SingleLayout::Nchw)]
    pub layout: SingleLayout,
    /// Stride: S for both directions or SHxSW.
    #[arg(long, value_name = "S|SHxSW", default_value = "1", value_parser = parse_stride)]
    pub stride: (usize, usize),
    /// Activation applied last: none, relu, relu6 or clamp:MIN:MAX.
    #[arg(long, value_name = "ACT", default_value = "none", value_parser = parse_activation)]
    pub activation: Activation,
    /// ISA to run on.
    #[arg(long, value_enum, default_value_t = IsaChoice::Auto)]
    pub isa: IsaChoice,
    /// Kernel selection: auto, generic, specialized, or a kernel name from `conv1x1 info`.
    #[arg(long, value_name = "KERNEL", default_value = "auto", value_parser = parse_kernel)]
    pub kernel: KernelKind,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// ISA(s) to check.
    #[arg(long, value_enum, default_value_t = IsaSet::All)]
    pub isa: IsaSet,
    /// Seed of the random shapes and data.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Random cases per kernel.
    #[arg(long, value_name = "N", default_value_t = 48,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub cases: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuiteChoice {
    Resnet50,
    Mobilenetv2,
    All,
}

impl SuiteChoice {
    /// The suite names this choice stands for (`all` is both networks, kept apart for totals).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            SuiteChoice::Resnet50 => &["resnet50"],
            SuiteChoice::Mobilenetv2 => &["mobilenetv2"],
            SuiteChoice::All => &["resnet50", "mobilenetv2"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutChoice {
    Nchw,
    Nhwc,
    Both,
}

impl LayoutChoice {
    pub fn layouts(self) -> Vec<Layout> {
        match self {
            LayoutChoice::Nchw => vec![Layout::Nchw],
            LayoutChoice::Nhwc => vec![Layout::Nhwc],
            LayoutChoice::Both => vec![Layout::Nchw, Layout::Nhwc],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SingleLayout {
    Nchw,
    Nhwc,
}

impl From<SingleLayout> for Layout {
    fn from(l: SingleLayout) -> Layout {
        match l {
            SingleLayout::Nchw => Layout::Nchw,
            SingleLayout::Nhwc => Layout::Nhwc,
        }
    }
}

/// One ISA, or `auto` for the dispatcher's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsaChoice {
    Auto,
    Scalar,
    Avx2,
    Avx512,
    Neon,
}

impl IsaChoice {
    /// The ISA to force, `None` for automatic dispatch.
    pub fn forced(self) -> Option<Isa> {
        match self {
            IsaChoice::Auto => None,
            IsaChoice::Scalar => Some(Isa::Scalar),
            IsaChoice::Avx2 => Some(Isa::Avx2),
            IsaChoice::Avx512 => Some(Isa::Avx512),
            IsaChoice::Neon => Some(Isa::Neon),
        }
    }
}

/// One ISA, `auto`, or `all` supported here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsaSet {
    Auto,
    Scalar,
    Avx2,
    Avx512,
    Neon,
    All,
}

impl IsaSet {
    /// The ISAs to use, checked against this CPU: an error names an unsupported one.
    pub fn resolve(self) -> conv1x1::Result<Vec<Isa>> {
        let one = |isa| conv1x1::dispatch::check(isa).map(|i| vec![i]);
        match self {
            IsaSet::Auto => conv1x1::dispatch::auto_isa().map(|i| vec![i]),
            IsaSet::All => Ok(conv1x1::dispatch::supported_isas()),
            IsaSet::Scalar => one(Isa::Scalar),
            IsaSet::Avx2 => one(Isa::Avx2),
            IsaSet::Avx512 => one(Isa::Avx512),
            IsaSet::Neon => one(Isa::Neon),
        }
    }
}

fn parse_shape(s: &str) -> Result<Shape, String> {
    s.parse().map_err(|e: conv1x1::Error| e.to_string())
}

fn parse_kernel(s: &str) -> Result<KernelKind, String> {
    s.parse().map_err(|e: conv1x1::Error| e.to_string())
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    s.parse().map_err(|e: conv1x1::Error| e.to_string())
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds in (0, 3600]")),
    }
}

/// `S` (both directions) or `SHxSW`, each at least 1.
fn parse_stride(s: &str) -> Result<(usize, usize), String> {
    let num = |t: &str| t.trim().parse::<usize>().ok().filter(|&v| v > 0);
    let parsed = match s.split_once(['x', 'X']) {
        Some((h, w)) => num(h).zip(num(w)),
        None => num(s).map(|v| (v, v)),
    };
    parsed.ok_or_else(|| format!("'{s}' is not a stride (expected S or SHxSW, each ≥ 1)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn strides_parse() {
        assert_eq!(parse_stride("2"), Ok((2, 2)));
        assert_eq!(parse_stride("1x2"), Ok((1, 2)));
        assert!(parse_stride("0").is_err());
        assert!(parse_stride("2x").is_err());
    }
}
