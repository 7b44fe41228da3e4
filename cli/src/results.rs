//! Benchmark results as `bench --json` and `report.json` write them, and the suite totals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The ISA name baseline rows carry.
pub const BASELINE_ISA: &str = "matrixmultiply";

/// One measured configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// Shape string `CinxCout@HxW[sS][bN]`.
    pub shape: String,
    /// Suite the shape belongs to (`custom` for shapes from `--shape`).
    pub suite: String,
    /// Occurrences of the shape in one forward pass of the suite's network.
    pub count: usize,
    pub cin: usize,
    pub cout: usize,
    pub h: usize,
    pub w: usize,
    pub stride: usize,
    pub batch: usize,
    pub layout: String,
    /// `scalar`, `avx2`, `avx512`, `neon`, or `matrixmultiply` for the baseline.
    pub isa: String,
    /// Kernel selection asked for: `auto`, `generic`, `specialized` (`sgemm` for the baseline).
    pub kernel: String,
    /// The kernel that ran.
    pub kernel_name: String,
    pub threads: usize,
    /// Median seconds of one timed call.
    pub median_s: f64,
    /// Timed calls the median is taken over.
    pub runs: usize,
    /// FLOPs of one call: 2·N·Cin·Cout·Hout·Wout.
    pub flops: f64,
    pub gflops: f64,
    /// GFLOP/s divided by (peak GFLOP/s of the row's ISA × threads); for the baseline, the
    /// peak of the ISA automatic dispatch picks.
    pub efficiency: f64,
}

/// One suite's forward pass (its 1x1 layers only) for one configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Total {
    pub suite: String,
    pub layout: String,
    pub isa: String,
    pub kernel: String,
    pub threads: usize,
    /// Distinct shapes included.
    pub shapes: usize,
    /// Layers included: the sum of their counts.
    pub layers: usize,
    /// Whether every shape of the suite was measured (false when, e.g., only some shapes
    /// have a specialized kernel).
    pub complete: bool,
    /// Σ count · median_s.
    pub total_s: f64,
    /// Σ count · flops / total_s, in GFLOP/s.
    pub gflops: f64,
    pub efficiency: f64,
}

/// What `bench --json` prints and `report.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    pub cpu: String,
    pub arch: String,
    /// The command line that produced this document.
    pub command: String,
    /// What one timed call includes.
    pub timed_call: String,
    pub min_time_s: f64,
    /// Single-core peak GFLOP/s per ISA, measured in the same process.
    pub peak_gflops: BTreeMap<String, f64>,
    pub results: Vec<Row>,
    pub totals: Vec<Total>,
}

/// Totals per (suite, layout, isa, kernel, threads), in the order the rows first appear.
/// `suite_sizes` gives the number of distinct shapes of each suite, to tell complete totals;
/// `peak` the single-core peak GFLOP/s that rows of an ISA are compared with.
pub fn totals(
    rows: &[Row],
    suite_sizes: &BTreeMap<String, usize>,
    peak: impl Fn(&str) -> Option<f64>,
) -> Vec<Total> {
    let mut out: Vec<Total> = Vec::new();
    let mut flops: Vec<f64> = Vec::new();
    for r in rows {
        let idx = out.iter().position(|t| {
            (&t.suite, &t.layout, &t.isa, &t.kernel, t.threads)
                == (&r.suite, &r.layout, &r.isa, &r.kernel, r.threads)
        });
        let idx = idx.unwrap_or_else(|| {
            out.push(Total {
                suite: r.suite.clone(),
                layout: r.layout.clone(),
                isa: r.isa.clone(),
                kernel: r.kernel.clone(),
                threads: r.threads,
                shapes: 0,
                layers: 0,
                complete: false,
                total_s: 0.0,
                gflops: 0.0,
                efficiency: 0.0,
            });
            flops.push(0.0);
            out.len() - 1
        });
        let t = &mut out[idx];
        t.shapes += 1;
        t.layers += r.count;
        t.total_s += r.count as f64 * r.median_s;
        flops[idx] += r.count as f64 * r.flops;
    }
    for (t, f) in out.iter_mut().zip(flops) {
        t.gflops = f / t.total_s / 1e9;
        t.efficiency = efficiency(t.gflops, peak(&t.isa), t.threads);
        t.complete = suite_sizes.get(&t.suite) == Some(&t.shapes);
    }
    out
}

/// `gflops / (peak × threads)`, or 0 when the peak is unknown.
pub fn efficiency(gflops: f64, peak: Option<f64>, threads: usize) -> f64 {
    match peak {
        Some(p) if p > 0.0 => gflops / (p * threads as f64),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(shape: &str, count: usize, median_s: f64, flops: f64, peak: f64) -> Row {
        let gflops = flops / median_s / 1e9;
        Row {
            shape: shape.into(),
            suite: "s".into(),
            count,
            cin: 1,
            cout: 1,
            h: 1,
            w: 1,
            stride: 1,
            batch: 1,
            layout: "nchw".into(),
            isa: "avx2".into(),
            kernel: "auto".into(),
            kernel_name: "k".into(),
            threads: 1,
            median_s,
            runs: 10,
            flops,
            gflops,
            efficiency: gflops / peak,
        }
    }

    #[test]
    fn totals_weight_by_count() {
        let rows = [row("a", 2, 1e-3, 1e6, 100.0), row("b", 1, 2e-3, 4e6, 100.0)];
        let sizes = BTreeMap::from([("s".to_string(), 2)]);
        let t = &totals(&rows, &sizes, |_| Some(100.0))[0];
        assert_eq!((t.shapes, t.layers, t.complete), (2, 3, true));
        assert!((t.total_s - 4e-3).abs() < 1e-12);
        assert!((t.gflops - 6e6 / 4e-3 / 1e9).abs() < 1e-9);
        assert!((t.efficiency - t.gflops / 100.0).abs() < 1e-12);
        let sizes = BTreeMap::from([("s".to_string(), 3)]);
        assert!(!totals(&rows, &sizes, |_| Some(100.0))[0].complete);
    }
}
