//! The measuring engine behind `bench` and `report`: which shapes, which configurations,
//! the peaks, the progress bar, and one measured [`Row`] per configuration.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use conv1x1::reference::relative_l2_error;
use conv1x1::suite::{self, Shape};
use conv1x1::{dispatch, peak, AlignedBuf, Dims, Isa, KernelInfo, KernelKind, Layout, Plan};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{WorkloadArgs, HUGE_PAGES_TIMED, TIMED_CALL};
use crate::measure::{median_time, InputRing, Sample};
use crate::peers::{self, Peer};
use crate::pool;
use crate::results::{efficiency, kept_pass, Document, HugePages, Keep, Row, Total};
use crate::rng::Rng;

/// Peak measurement: the best of many short runs. On a shared machine a few long runs are
/// all interrupted by other processes and under-read the peak by 2x; among 100 runs of
/// 2.5 ms some run undisturbed (measured: best of 5 × 40 ms read 78–96 GFLOP/s under load
/// where best of 100 × 2 ms read 179–192).
const PEAK_SECONDS: f64 = 0.25;
const PEAK_RUNS: usize = 100;

/// Largest relative L2 distance accepted between a peer's output and ours (f32 sums in
/// different orders over up to 2048 terms land near 1e-6).
pub const PEER_AGREEMENT: f64 = 1e-4;

/// Suite name of shapes given with `--shape`.
pub const CUSTOM_SUITE: &str = "custom";

/// The shapes to measure, grouped by suite.
#[derive(Debug, Clone)]
pub struct Workload {
    pub suites: Vec<(String, Vec<Shape>)>,
}

impl Workload {
    /// `--shape` list (suite `custom`) or the `--suite` (default resnet50), with `--batch`.
    pub fn from_args(args: &WorkloadArgs) -> Result<Workload> {
        let mut suites = Vec::new();
        if args.shapes.is_empty() {
            let names = args.suite.map_or(&["resnet50"][..], |s| s.names());
            for name in names {
                suites.push((name.to_string(), suite::suite(name)?));
            }
        } else {
            suites.push((CUSTOM_SUITE.to_string(), args.shapes.clone()));
        }
        if let Some(batch) = args.batch {
            for (_, shapes) in &mut suites {
                for s in shapes.iter_mut() {
                    *s = s.with_batch(batch as usize);
                }
            }
        }
        Ok(Workload { suites })
    }

    /// `(suite, shape)` pairs in measuring order.
    pub fn shapes(&self) -> impl Iterator<Item = (&str, &Shape)> {
        self.suites
            .iter()
            .flat_map(|(name, shapes)| shapes.iter().map(move |s| (name.as_str(), s)))
    }

    /// Distinct shapes per suite (to tell complete totals).
    pub fn suite_sizes(&self) -> BTreeMap<String, usize> {
        self.suites
            .iter()
            .map(|(n, s)| (n.clone(), s.len()))
            .collect()
    }
}

/// One configuration to measure: a subject on a shape of a suite.
pub type Job<'a> = (&'a str, &'a Shape, Subject);

/// What to run on a shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subject {
    /// A conv1x1 plan.
    Conv {
        layout: Layout,
        isa: Isa,
        kind: KernelKind,
    },
    /// A GEMM library on the same matrix product, single thread.
    Peer { layout: Layout, peer: Peer },
}

/// Whether the registry has a kernel specialized to this shape's channels.
pub fn has_specialized(isa: Isa, layout: Layout, shape: &Shape) -> bool {
    conv1x1::kernels().any(|k| {
        k.isa == isa && k.layout == layout && k.cin == Some(shape.cin) && k.cout == Some(shape.cout)
    })
}

/// Measures configurations one after another, with a shared progress bar and peaks.
///
/// The single-core peak of an ISA is measured again before each shape that ISA runs (the
/// clock of a shared machine drifts: the AVX-512 peak measured 176–225 GFLOP/s here within an
/// hour, while the kernels' GFLOP/s stayed within a few per cent), so that each row is
/// compared with the peak of the same moment.
pub struct Engine {
    min_time: f64,
    threads: usize,
    /// Passes over the whole list of configurations (`--passes`), and which one a row keeps.
    passes: usize,
    keep: Keep,
    /// Inputs and outputs on pages mapped for huge pages (`--huge-pages`), and the most
    /// bytes on huge pages seen while a configuration's buffers were alive.
    huge_pages: bool,
    huge_granted_max: u64,
    /// Every peak measured, per ISA, and the shape the latest one was measured before.
    peaks: BTreeMap<Isa, PeakLog>,
    /// The ISA whose peak peer rows are compared with.
    peer_peak_isa: Isa,
    rng: Rng,
    progress: ProgressBar,
}

/// The peaks measured for one ISA.
#[derive(Debug, Default)]
struct PeakLog {
    values: Vec<f64>,
    /// Per measurement, its median run's share of its best run (`peak::PeakRuns`).
    floors: Vec<f64>,
    /// The shape the latest value was measured before.
    shape: String,
}

impl PeakLog {
    fn latest(&self) -> f64 {
        self.values.last().copied().unwrap_or(0.0)
    }

    fn median(&self) -> f64 {
        let mut v = self.values.clone();
        crate::measure::median(&mut v)
    }

    fn floor(&self) -> f64 {
        let mut v = self.floors.clone();
        crate::measure::median(&mut v)
    }

    fn range(&self) -> [f64; 2] {
        let lo = self.values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.values.iter().copied().fold(0.0, f64::max);
        [lo, hi]
    }
}

impl Engine {
    /// An engine for `workload`'s threads, buffers and passes, with a progress bar over
    /// `jobs` configurations in every pass, drawn on stderr when it is a terminal and
    /// `--quiet` is off. Peaks are measured as shapes come (see [`Engine`]).
    pub fn new(workload: &WorkloadArgs, min_time: f64, jobs: usize) -> Engine {
        let passes = workload.passes as usize;
        Engine {
            min_time,
            threads: workload.threads as usize,
            passes,
            keep: workload.keep,
            huge_pages: workload.huge_pages,
            huge_granted_max: 0,
            peaks: BTreeMap::new(),
            peer_peak_isa: dispatch::best_isa(),
            rng: Rng::new(0x00c0_ffee),
            progress: progress_bar((jobs * passes) as u64, workload.quiet),
        }
    }

    /// Median peak GFLOP/s per ISA name over the run, as documents store them.
    pub fn peaks(&self) -> BTreeMap<String, f64> {
        self.peaks
            .iter()
            .map(|(i, log)| (i.name().to_string(), log.median()))
            .collect()
    }

    /// Lowest and highest peak GFLOP/s measured per ISA name.
    pub fn peak_ranges(&self) -> BTreeMap<String, [f64; 2]> {
        self.peaks
            .iter()
            .map(|(i, log)| (i.name().to_string(), log.range()))
            .collect()
    }

    /// Per ISA name, the median over the run of each peak measurement's median run as a
    /// share of its best run: how far below the peak the machine's noise alone puts a median.
    pub fn peak_floors(&self) -> BTreeMap<String, f64> {
        self.peaks
            .iter()
            .map(|(i, log)| (i.name().to_string(), log.floor()))
            .collect()
    }

    /// The peak of `isa` for a row of `shape`: measured anew unless the latest measurement
    /// was taken before this same shape.
    fn peak_before(&mut self, isa: Isa, shape: &Shape) -> Result<f64> {
        let key = shape.to_string();
        if let Some(log) = self.peaks.get(&isa) {
            if log.shape == key {
                return Ok(log.latest());
            }
        }
        self.progress.set_message(format!("measuring {isa} peak"));
        let p = peak::measure_peak(isa, PEAK_SECONDS, PEAK_RUNS)
            .with_context(|| format!("{isa} peak"))?;
        let log = self.peaks.entry(isa).or_default();
        log.values.push(p.best_gflops);
        log.floors.push(p.median_gflops / p.best_gflops);
        log.shape = key;
        Ok(p.best_gflops)
    }

    /// A results document for this machine and command line, with this engine's peaks.
    pub fn document(&self, min_time_s: f64, results: Vec<Row>, totals: Vec<Total>) -> Document {
        Document {
            cpu: crate::cpu::model(),
            arch: crate::cpu::arch().to_string(),
            command: crate::format::command_line(),
            timed_call: if self.huge_pages {
                format!("{TIMED_CALL} {HUGE_PAGES_TIMED}")
            } else {
                TIMED_CALL.to_string()
            },
            huge_pages: self.huge_pages.then(|| HugePages {
                thp_mode: crate::cpu::thp_mode(),
                max_granted_mib: self.huge_granted_max as f64 / (1 << 20) as f64,
            }),
            min_time_s,
            passes: self.passes,
            keep: self.keep,
            peak_gflops: self.peaks(),
            peak_range_gflops: self.peak_ranges(),
            peak_floor: self.peak_floors(),
            results,
            totals,
        }
    }

    /// The ISA peer efficiencies refer to.
    pub fn peer_peak_isa(&self) -> Isa {
        self.peer_peak_isa
    }

    /// Runs `f` with the progress bar hidden (for printing to the terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.progress.suspend(f)
    }

    /// Removes the progress bar.
    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }

    /// Measures every job once per pass, pass after pass over the whole list, so that a burst
    /// of load on a shared machine spoils one pass of many configurations rather than every
    /// pass of a few. As a job's last pass ends (in job order), `done` gets its index and its
    /// row: the pass `--keep` names, carrying every pass's GFLOP/s
    /// ([`crate::results::kept_pass`]); `None` where the kernel asked for does not fit.
    pub fn measure_passes(
        &mut self,
        jobs: &[Job],
        mut done: impl FnMut(&Engine, usize, Option<Row>) -> Result<()>,
    ) -> Result<()> {
        let mut measured: Vec<Vec<Row>> = vec![Vec::new(); jobs.len()];
        for pass in 0..self.passes {
            // Each pass measures its own peaks, even for a list of one shape.
            for log in self.peaks.values_mut() {
                log.shape.clear();
            }
            for (i, &(suite, shape, subject)) in jobs.iter().enumerate() {
                measured[i].extend(self.measure(suite, shape, subject)?);
                if pass + 1 == self.passes {
                    let kept = kept_pass(std::mem::take(&mut measured[i]), self.keep);
                    done(self, i, kept)?;
                }
            }
        }
        Ok(())
    }

    /// Measures `subject` on `shape`; `None` when the kernel asked for (specialized, or one
    /// by name) does not fit this shape, layout and ISA.
    fn measure(&mut self, suite: &str, shape: &Shape, subject: Subject) -> Result<Option<Row>> {
        let label = match subject {
            Subject::Conv { layout, isa, kind } => format!("{shape} {layout} {isa} {kind}"),
            Subject::Peer { layout, peer } => format!("{shape} {layout} {}", peer.name()),
        };
        let peak_isa = match subject {
            Subject::Conv { isa, .. } => isa,
            Subject::Peer { .. } => self.peer_peak_isa,
        };
        // Before the timing, so that the row and its peak are measured at the same moment.
        let peak = self.peak_before(peak_isa, shape)?;
        self.progress.set_message(label);
        let row = match subject {
            Subject::Conv { layout, isa, kind } => self
                .measure_conv(shape, layout, isa, kind)?
                .map(|(sample, kernel)| {
                    let threads = self.threads;
                    let mut row = self.row(suite, shape, layout, isa.name(), kind.name(), sample);
                    row.kernel_name = kernel.name.to_string();
                    row.threads = threads;
                    row.peak_gflops = peak;
                    row.efficiency = efficiency(row.gflops, Some(peak), threads);
                    row
                }),
            Subject::Peer { layout, peer } => {
                let sample = self.measure_peer(shape, layout, peer)?;
                let mut row = self.row(suite, shape, layout, peer.name(), peer.kernel(), sample);
                row.kernel_name = peer.function().to_string();
                row.peak_gflops = peak;
                row.efficiency = efficiency(row.gflops, Some(peak), 1);
                Some(row)
            }
        };
        self.progress.inc(1);
        Ok(row)
    }

    fn row(
        &self,
        suite: &str,
        shape: &Shape,
        layout: Layout,
        isa: &str,
        kernel: &str,
        sample: Sample,
    ) -> Row {
        Row {
            shape: shape.to_string(),
            suite: suite.to_string(),
            count: shape.count,
            cin: shape.cin,
            cout: shape.cout,
            h: shape.h,
            w: shape.w,
            stride: shape.stride,
            batch: shape.batch,
            layout: layout.name().to_string(),
            isa: isa.to_string(),
            kernel: kernel.to_string(),
            kernel_name: String::new(),
            threads: 1,
            median_s: sample.median_s,
            runs: sample.runs,
            flops: shape.flops(),
            gflops: shape.flops() / sample.median_s / 1e9,
            peak_gflops: 0.0,
            efficiency: 0.0,
            // Filled in by `kept_pass` once every pass is measured.
            pass_gflops: Vec::new(),
        }
    }

    fn weights(&mut self, shape: &Shape) -> Vec<f32> {
        // Scaled so that outputs stay O(1) whatever Cin is.
        let scale = 1.0 / (shape.cin as f32).sqrt();
        self.rng.fill(shape.cin * shape.cout, scale)
    }

    fn measure_conv(
        &mut self,
        shape: &Shape,
        layout: Layout,
        isa: Isa,
        kind: KernelKind,
    ) -> Result<Option<(Sample, &'static KernelInfo)>> {
        let spec = shape.spec().layout(layout).isa(isa).kernel(kind);
        let weights = self.weights(shape);
        let plan = match Plan::new(&spec, &weights, None) {
            Err(
                conv1x1::Error::NoSpecializedKernel { .. } | conv1x1::Error::KernelMismatch { .. },
            ) => return Ok(None),
            other => other.with_context(|| format!("building a plan for {shape} {layout}"))?,
        };
        let dims = shape.dims();
        let (in_len, out_len) = (plan.input_len(dims)?, plan.output_len(dims)?);
        check_memory(shape, in_len, out_len)?;
        let ring = InputRing::new(in_len, &mut self.rng, self.huge_pages);
        let mut out = self.output_buffer(out_len);
        let sample = if self.threads == 1 {
            median_time(self.min_time, |rep| {
                plan.run(dims, ring.get(rep), &mut out, None)
            })?
        } else {
            threaded_median(&plan, dims, &ring, &mut out, self.threads, self.min_time)?
        };
        self.note_huge_pages();
        Ok(Some((sample, plan.kernel())))
    }

    fn measure_peer(&mut self, shape: &Shape, layout: Layout, peer: Peer) -> Result<Sample> {
        let (_, x_len, y_len) = peers::lens(shape);
        check_memory(shape, x_len, y_len)?;
        let weights = self.weights(shape);
        let ring = InputRing::new(x_len, &mut self.rng, self.huge_pages);
        let mut out = self.output_buffer(y_len);
        check_peer(shape, layout, peer, &weights, ring.get(0), &mut out)?;
        let sample = median_time(self.min_time, |rep| {
            peers::conv(peer, shape, layout, &weights, ring.get(rep), &mut out)
                .with_context(|| format!("{}: buffer lengths do not match", peer.function()))
        })?;
        self.note_huge_pages();
        Ok(sample)
    }

    /// A zeroed output buffer, on pages mapped for huge pages with `--huge-pages`.
    fn output_buffer(&self, len: usize) -> AlignedBuf {
        if self.huge_pages {
            AlignedBuf::huge_zeroed(len)
        } else {
            AlignedBuf::zeroed(len)
        }
    }

    /// With `--huge-pages`, records how much memory is on huge pages while a configuration's
    /// buffers are still alive.
    fn note_huge_pages(&mut self) {
        if self.huge_pages {
            let now = crate::cpu::anon_huge_bytes().unwrap_or(0);
            self.huge_granted_max = self.huge_granted_max.max(now);
        }
    }
}

/// Fails unless `peer` computes what a conv1x1 plan (automatic ISA and kernel) computes on
/// `x`, within [`PEER_AGREEMENT`]: a peer called wrongly would otherwise time the wrong
/// product. `y` is the peer's output buffer.
fn check_peer(
    shape: &Shape,
    layout: Layout,
    peer: Peer,
    w: &[f32],
    x: &[f32],
    y: &mut [f32],
) -> Result<()> {
    let what = || format!("checking {} on {shape} {layout}", peer.function());
    let plan = Plan::new(&shape.spec().layout(layout), w, None).with_context(what)?;
    let dims = shape.dims();
    let mut ours = vec![f32::NAN; plan.output_len(dims).with_context(what)?];
    plan.run(dims, x, &mut ours, None).with_context(what)?;
    y.fill(f32::NAN);
    peers::conv(peer, shape, layout, w, x, y)
        .with_context(|| format!("{}: buffer lengths do not match", peer.function()))?;
    agree(y, &ours).with_context(|| {
        format!(
            "{} disagrees with conv1x1 on {shape} {layout}",
            peer.function()
        )
    })
}

/// Fails unless `got` is within [`PEER_AGREEMENT`] (relative L2) of `want`.
fn agree(got: &[f32], want: &[f32]) -> Result<()> {
    anyhow::ensure!(
        got.len() == want.len(),
        "output lengths differ ({} vs {})",
        got.len(),
        want.len()
    );
    let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
    let distance = relative_l2_error(got, &want);
    if distance.is_nan() || distance >= PEER_AGREEMENT {
        anyhow::bail!("relative L2 distance {distance:.2e} (limit {PEER_AGREEMENT:.0e})");
    }
    Ok(())
}

/// Refuses shapes whose buffers would not fit comfortably in memory, rather than aborting
/// on a failed allocation.
fn check_memory(shape: &Shape, input_len: usize, output_len: usize) -> Result<()> {
    const LIMIT: f64 = 16.0 * (1u64 << 30) as f64;
    let ring =
        (input_len as f64 * 4.0).max(crate::measure::ring_bytes() as f64) + input_len as f64 * 4.0;
    let bytes = ring + output_len as f64 * 4.0;
    if bytes > LIMIT {
        anyhow::bail!(
            "shape {shape} needs about {:.1} GiB of buffers to benchmark (limit 16 GiB)",
            bytes / (1u64 << 30) as f64
        );
    }
    Ok(())
}

/// The output pointer shared by the pool threads; each writes only its own work item's part.
#[derive(Clone, Copy)]
struct SharedOutput(*mut f32);
// SAFETY: the pointer is only dereferenced through `Plan::run_item_raw` with distinct item
// indices per thread, whose regions of the output are disjoint.
unsafe impl Sync for SharedOutput {}
impl SharedOutput {
    /// A method, so that closures capture the whole wrapper rather than the raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Median time of one convolution split into `threads` work items run on a persistent pool.
fn threaded_median(
    plan: &Plan,
    dims: Dims,
    ring: &InputRing,
    out: &mut [f32],
    threads: usize,
    min_time: f64,
) -> Result<Sample> {
    // Validates the lengths once with the safe API; every raw call below uses the same ones.
    plan.work_items(dims, ring.get(0), out, None, threads)?;
    let out_len = out.len();
    let output = SharedOutput(out.as_mut_ptr());
    let failure: OnceLock<conv1x1::Error> = OnceLock::new();
    let task = |item: usize, rep: usize| {
        let x = ring.get(rep);
        // SAFETY: `x` and `out` are live slices of the stated lengths for the whole pool
        // (the pool ends before `out` is used again); there is no residual; thread `item`
        // runs only item `item` of the split, so concurrent calls write disjoint parts of
        // the output; the input ring never overlaps the output (separate allocations).
        let r = unsafe {
            plan.run_item_raw(
                dims,
                x.as_ptr(),
                x.len(),
                output.get(),
                out_len,
                std::ptr::null(),
                0,
                item,
                threads,
            )
        };
        if let Err(e) = r {
            let _ = failure.set(e);
        }
    };
    pool::with_pool(threads, &task, |pool| {
        median_time(min_time, |rep| -> Result<()> {
            pool.run(rep)?;
            match failure.get() {
                Some(e) => Err(e.clone().into()),
                None => Ok(()),
            }
        })
    })
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "[{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} eta {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_pass_their_check_in_both_layouts_with_strides() {
        let mut rng = Rng::new(5);
        for text in ["24x40@9s2b2", "17x9@6x5"] {
            let shape: Shape = text.parse().unwrap();
            let (lw, lx, ly) = peers::lens(&shape);
            let (w, x) = (rng.fill(lw, 1.0), rng.fill(lx, 1.0));
            for layout in [Layout::Nchw, Layout::Nhwc] {
                for peer in Peer::ALL {
                    let mut y = vec![0.0; ly];
                    check_peer(&shape, layout, peer, &w, &x, &mut y).unwrap();
                }
            }
        }
    }

    #[test]
    fn outputs_that_differ_fail_the_check() {
        let want: Vec<f32> = (0..100).map(|i| (i as f32).sin()).collect();
        assert!(agree(&want, &want).is_ok());
        let mut got = want.clone();
        got[7] += 0.1;
        let e = agree(&got, &want).unwrap_err().to_string();
        assert!(e.contains("relative L2 distance"), "{e}");
        got[7] = f32::NAN;
        assert!(agree(&got, &want).is_err());
        assert!(agree(&want[1..], &want).is_err());
    }
}
