//! Benchmark results as `bench --json` and `report.json` write them, and the suite totals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::peers::Peer;

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
    /// `scalar`, `avx2`, `avx512`, `neon`, or the peer's name (`matrixmultiply`, `gemm`).
    pub isa: String,
    /// Kernel selection asked for: `auto`, `generic`, `specialized`; for a peer the function
    /// called (`sgemm`, `gemm`).
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
    /// The single-core peak GFLOP/s this row is compared with: the row's ISA (for a peer, the
    /// ISA automatic dispatch picks), measured in the same process just before the row's shape
    /// (0 when unknown).
    #[serde(default)]
    pub peak_gflops: f64,
    /// GFLOP/s divided by (`peak_gflops` × threads).
    pub efficiency: f64,
    /// GFLOP/s of every pass (`--passes`), in the order they ran; the row is the pass the
    /// document's `keep` names. Empty in documents written before passes existed.
    #[serde(default)]
    pub pass_gflops: Vec<f64>,
}

impl Row {
    /// The lowest and highest GFLOP/s of the row's passes, when it has more than one.
    pub fn pass_range(&self) -> Option<[f64; 2]> {
        if self.pass_gflops.len() < 2 {
            return None;
        }
        let lo = self
            .pass_gflops
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let hi = self.pass_gflops.iter().copied().fold(0.0, f64::max);
        Some([lo, hi])
    }
}

/// Which of a configuration's passes its row keeps (`--keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// The pass with the median time (of an even number, the faster of the middle two).
    #[default]
    Median,
    /// The pass with the shortest time: the least disturbed, as the peak is the best of its
    /// runs.
    Fastest,
}

/// The row kept from one configuration's passes, given in pass order: one measured pass
/// (its time and runs), carrying every pass's GFLOP/s; `None` for no passes. Its peak is the
/// highest of the peaks measured before its shape in the passes: a peak measured during a
/// burst of load reads low (129 against 188 GFLOP/s once here), and the fastest pass of a
/// row need not be the one whose peak was undisturbed. The peak is a best-of measurement, so
/// the best of several is still one, and a row's % of peak can only come out lower for it.
pub fn kept_pass(passes: Vec<Row>, keep: Keep) -> Option<Row> {
    let gflops: Vec<f64> = passes.iter().map(|r| r.gflops).collect();
    let peak = passes.iter().map(|r| r.peak_gflops).fold(0.0, f64::max);
    let mut by_time = passes;
    by_time.sort_by(|a, b| a.median_s.total_cmp(&b.median_s));
    let last = by_time.len().checked_sub(1)?;
    let index = match keep {
        Keep::Median => last / 2,
        Keep::Fastest => 0,
    };
    let mut row = by_time.swap_remove(index);
    row.pass_gflops = gflops;
    if peak > 0.0 {
        row.peak_gflops = peak;
        row.efficiency = efficiency(row.gflops, Some(peak), row.threads);
    }
    Some(row)
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
    /// Σ count · flops ÷ (Σ count · median_s · peak_gflops · threads): the rows' work over
    /// what their peaks allowed in the same time (the rows' peaks are measured before each
    /// shape).
    pub efficiency: f64,
    /// Per peer measured on every shape of this total: this total's GFLOP/s over the peer's
    /// on the same shapes and layout (Σ count · peer median ÷ total_s).
    #[serde(default)]
    pub vs_peers: BTreeMap<String, f64>,
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
    /// Passes over the whole list of configurations (`--passes`); see [`Row::pass_gflops`].
    #[serde(default = "one")]
    pub passes: usize,
    /// Which pass each row keeps (`--keep`).
    #[serde(default)]
    pub keep: Keep,
    /// Single-core peak GFLOP/s per ISA, measured in the same process before each shape: the
    /// median of those measurements (each row carries its own).
    pub peak_gflops: BTreeMap<String, f64>,
    /// Lowest and highest of those measurements per ISA.
    #[serde(default)]
    pub peak_range_gflops: BTreeMap<String, [f64; 2]>,
    /// Per ISA, each peak measurement's median run as a share of its best run, median over
    /// the run: the noise floor, what a kernel running at the peak would read as its % of peak
    /// in a median on this machine at that time.
    #[serde(default)]
    pub peak_floor: BTreeMap<String, f64>,
    /// With `--huge-pages`: what the system granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huge_pages: Option<HugePages>,
    pub results: Vec<Row>,
    pub totals: Vec<Total>,
}

fn one() -> usize {
    1
}

/// Buffers mapped for transparent huge pages (`--huge-pages`), and what the system made of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HugePages {
    /// The system's THP mode: `always` or `madvise` grant them to such buffers, `never` not.
    pub thp_mode: String,
    /// The most MiB of this process's memory on huge pages at the end of any one
    /// configuration's timing (its input ring and output were alive then).
    pub max_granted_mib: f64,
}

impl HugePages {
    /// One line for text headers.
    pub fn describe(&self) -> String {
        format!(
            "inputs and outputs mapped for transparent huge pages (THP mode {}; up to {:.0} MiB \
             on huge pages at once)",
            self.thp_mode, self.max_granted_mib
        )
    }
}

/// Totals per (suite, layout, isa, kernel, threads), in the order the rows first appear.
/// `suite_sizes` gives the number of distinct shapes of each suite, to tell complete totals.
/// Each total gets its ratio to every peer measured on all of its shapes.
pub fn totals(rows: &[Row], suite_sizes: &BTreeMap<String, usize>) -> Vec<Total> {
    let mut out: Vec<Total> = Vec::new();
    let mut flops: Vec<f64> = Vec::new();
    // Σ count · median_s · peak · threads, in GFLOP: what the peaks allowed in the time taken;
    // NaN once a row's peak is unknown.
    let mut allowed: Vec<f64> = Vec::new();
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
                vs_peers: BTreeMap::new(),
            });
            flops.push(0.0);
            allowed.push(0.0);
            out.len() - 1
        });
        let t = &mut out[idx];
        t.shapes += 1;
        t.layers += r.count;
        t.total_s += r.count as f64 * r.median_s;
        flops[idx] += r.count as f64 * r.flops;
        allowed[idx] += if r.peak_gflops > 0.0 {
            r.count as f64 * r.median_s * r.peak_gflops * r.threads as f64
        } else {
            f64::NAN
        };
    }
    for ((t, f), a) in out.iter_mut().zip(flops).zip(allowed) {
        t.gflops = f / t.total_s / 1e9;
        t.efficiency = if a > 0.0 { f / 1e9 / a } else { 0.0 };
        t.complete = suite_sizes.get(&t.suite) == Some(&t.shapes);
    }
    let ratios: Vec<_> = out.iter().map(|t| peer_ratios(rows, t)).collect();
    for (t, r) in out.iter_mut().zip(ratios) {
        t.vs_peers = r;
    }
    out
}

/// `total`'s GFLOP/s over each peer's on the same shapes, for the peers measured on all of
/// them.
fn peer_ratios(rows: &[Row], total: &Total) -> BTreeMap<String, f64> {
    let members: Vec<&Row> = rows.iter().filter(|r| belongs(r, total)).collect();
    let mut ratios = BTreeMap::new();
    if members.is_empty() {
        return ratios;
    }
    for peer in Peer::ALL {
        // The same shapes make the same FLOPs: the GFLOP/s ratio is the time ratio.
        let peer_s: Option<f64> = members
            .iter()
            .map(|r| peer_row(rows, r, peer).map(|p| r.count as f64 * p.median_s))
            .sum();
        if let Some(peer_s) = peer_s {
            ratios.insert(peer.name().to_string(), peer_s / total.total_s);
        }
    }
    ratios
}

/// Whether `row` is one of the rows `total` sums.
fn belongs(row: &Row, total: &Total) -> bool {
    (&row.suite, &row.layout, &row.isa, &row.kernel, row.threads)
        == (
            &total.suite,
            &total.layout,
            &total.isa,
            &total.kernel,
            total.threads,
        )
}

/// The row of `peer` on the same suite, shape and layout as `row`.
pub fn peer_row<'a>(rows: &'a [Row], row: &Row, peer: Peer) -> Option<&'a Row> {
    rows.iter().find(|p| {
        p.isa == peer.name()
            && (&p.suite, &p.shape, &p.layout) == (&row.suite, &row.shape, &row.layout)
    })
}

/// Peers with at least one row in `rows`, in table order.
pub fn peers_in(rows: &[Row]) -> Vec<Peer> {
    Peer::ALL
        .into_iter()
        .filter(|p| rows.iter().any(|r| r.isa == p.name()))
        .collect()
}

/// Peers some total is compared with, in table order.
pub fn peers_in_totals(totals: &[Total]) -> Vec<Peer> {
    Peer::ALL
        .into_iter()
        .filter(|p| totals.iter().any(|t| t.vs_peers.contains_key(p.name())))
        .collect()
}

/// A "× peer" cell: our GFLOP/s over the peer's, or `-` when the peer was not measured there.
pub fn ratio_cell(ratio: Option<f64>) -> String {
    ratio.map_or("-".to_string(), |r| format!("{r:.2}"))
}

/// The document's peaks as `isa median (lowest–highest)`, comma separated.
pub fn peak_list(doc: &Document) -> String {
    let peaks: Vec<String> = doc
        .peak_gflops
        .iter()
        .map(|(isa, p)| match doc.peak_range_gflops.get(isa) {
            Some([lo, hi]) => format!("{isa} {p:.1} ({lo:.1}–{hi:.1})"),
            None => format!("{isa} {p:.1}"),
        })
        .collect();
    peaks.join(", ")
}

/// The document's noise floors as `isa 97.4 %`, comma separated (empty when it has none).
pub fn floor_list(doc: &Document) -> String {
    let floors: Vec<String> = doc
        .peak_floor
        .iter()
        .map(|(isa, f)| format!("{isa} {:.1} %", 100.0 * f))
        .collect();
    floors.join(", ")
}

/// What `--passes N --keep K` did, for the headers of tables and reports.
pub fn passes_note(passes: usize, keep: Keep) -> String {
    let kept = match keep {
        Keep::Median => "the median time",
        Keep::Fastest => "the shortest time (the least disturbed)",
    };
    format!(
        "{passes} passes over every configuration, one after another; each row is the pass \
         with {kept}, its % of peak uses the highest peak measured before its shape in the \
         {passes}, and \"passes\" gives the lowest and highest GFLOP/s of the {passes}"
    )
}

/// A "passes" cell: the lowest and highest GFLOP/s of a row's passes.
pub fn pass_range_cell(row: &Row) -> String {
    row.pass_range()
        .map_or("-".to_string(), |[lo, hi]| format!("{lo:.1}–{hi:.1}"))
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
            peak_gflops: peak,
            efficiency: gflops / peak,
            pass_gflops: vec![gflops],
        }
    }

    #[test]
    fn totals_weight_by_count() {
        let rows = [row("a", 2, 1e-3, 1e6, 100.0), row("b", 1, 2e-3, 4e6, 100.0)];
        let sizes = BTreeMap::from([("s".to_string(), 2)]);
        let t = &totals(&rows, &sizes)[0];
        assert_eq!((t.shapes, t.layers, t.complete), (2, 3, true));
        assert!((t.total_s - 4e-3).abs() < 1e-12);
        assert!((t.gflops - 6e6 / 4e-3 / 1e9).abs() < 1e-9);
        assert!((t.efficiency - t.gflops / 100.0).abs() < 1e-12);
        let sizes = BTreeMap::from([("s".to_string(), 3)]);
        assert!(!totals(&rows, &sizes)[0].complete);
    }

    /// A total's efficiency is its work over what each row's own peak allowed in the row's
    /// time, and unknown (0) once a row's peak is.
    #[test]
    fn totals_use_each_rows_peak() {
        let mut rows = [row("a", 2, 1e-3, 1e6, 100.0), row("b", 1, 2e-3, 4e6, 200.0)];
        let sizes = BTreeMap::from([("s".to_string(), 2)]);
        // 6e6 FLOP against 2·1e-3 s·100 GFLOP/s + 2e-3 s·200 GFLOP/s = 0.6 GFLOP.
        let t = &totals(&rows, &sizes)[0];
        assert!(
            (t.efficiency - 6e6 / 1e9 / 0.6).abs() < 1e-12,
            "{}",
            t.efficiency
        );
        rows[1].peak_gflops = 0.0;
        assert_eq!(totals(&rows, &sizes)[0].efficiency, 0.0);
    }

    fn with(mut r: Row, isa: &str, kernel: &str) -> Row {
        r.isa = isa.into();
        r.kernel = kernel.into();
        r
    }

    #[test]
    fn totals_compare_with_each_peer_on_the_same_shapes() {
        let rows = [
            row("a", 2, 1e-3, 1e6, 100.0),
            row("b", 1, 2e-3, 4e6, 100.0),
            with(row("a", 2, 3e-3, 1e6, 100.0), "matrixmultiply", "sgemm"),
            with(row("b", 1, 2e-3, 4e6, 100.0), "matrixmultiply", "sgemm"),
            with(row("a", 2, 2e-3, 1e6, 100.0), "gemm", "gemm"),
            with(row("b", 1, 4e-3, 4e6, 100.0), "gemm", "gemm"),
            // A kernel measured on shape `b` only: compared over `b` only.
            with(row("b", 1, 1e-3, 4e6, 100.0), "avx2", "specialized"),
        ];
        let sizes = BTreeMap::from([("s".to_string(), 2)]);
        let t = totals(&rows, &sizes);
        let ratios = |i: usize| {
            let v = &t[i].vs_peers;
            (v["matrixmultiply"], v["gemm"])
        };
        let close = |(x, y): (f64, f64), (a, b): (f64, f64)| {
            assert!((x - a).abs() < 1e-12 && (y - b).abs() < 1e-12, "{x} {y}");
        };
        // Ours: 4 ms; matrixmultiply 8 ms, gemm 8 ms.
        close(ratios(0), (2.0, 2.0));
        // matrixmultiply against itself and against gemm.
        close(ratios(1), (1.0, 1.0));
        // Specialized, shape b: 1 ms against 2 ms and 4 ms.
        close(ratios(3), (2.0, 4.0));
        assert!((t[0].gflops / t[1].gflops - 2.0).abs() < 1e-12);
        assert_eq!(peers_in_totals(&t), Peer::ALL);
    }

    #[test]
    fn no_ratio_without_the_peer_on_every_shape() {
        let rows = [
            row("a", 1, 1e-3, 1e6, 100.0),
            row("b", 1, 1e-3, 1e6, 100.0),
            with(row("a", 1, 2e-3, 1e6, 100.0), "gemm", "gemm"),
        ];
        let sizes = BTreeMap::from([("s".to_string(), 2)]);
        let t = totals(&rows, &sizes);
        assert!(t[0].vs_peers.is_empty());
        assert_eq!(t[1].vs_peers.len(), 1);
        assert_eq!(peers_in(&rows), [Peer::Gemm]);
        assert_eq!(ratio_cell(None), "-");
        assert_eq!(ratio_cell(Some(1.234)), "1.23");
    }

    /// The kept pass is a measured one: the median time (the faster of the middle two for an
    /// even count) or the shortest, compared with the highest peak of the passes; every
    /// pass's GFLOP/s stays, in pass order.
    #[test]
    fn kept_pass_is_a_measured_pass_against_the_best_peak() {
        let passes = vec![
            row("a", 1, 3e-3, 1e6, 90.0),
            row("a", 1, 1e-3, 1e6, 100.0),
            row("a", 1, 2e-3, 1e6, 110.0),
        ];
        let all: Vec<f64> = passes.iter().map(|r| r.gflops).collect();
        let kept = kept_pass(passes.clone(), Keep::Median).unwrap();
        assert_eq!((kept.median_s, kept.peak_gflops), (2e-3, 110.0));
        assert_eq!(kept.efficiency, kept.gflops / 110.0);
        assert_eq!(kept.pass_gflops, all);
        let [lo, hi] = kept.pass_range().unwrap();
        assert_eq!((lo, hi), (1e6 / 3e-3 / 1e9, 1e6 / 1e-3 / 1e9));

        let fastest = kept_pass(passes.clone(), Keep::Fastest).unwrap();
        assert_eq!((fastest.median_s, fastest.peak_gflops), (1e-3, 110.0));
        assert_eq!(fastest.efficiency, fastest.gflops / 110.0);
        assert_eq!(fastest.pass_gflops, all);

        let even = kept_pass(passes[..2].to_vec(), Keep::Median).unwrap();
        assert_eq!((even.median_s, even.peak_gflops), (1e-3, 100.0));
        let single = kept_pass(passes[2..].to_vec(), Keep::Median).unwrap();
        assert_eq!(single.pass_range(), None);
        assert!(kept_pass(Vec::new(), Keep::Fastest).is_none());
    }
}
