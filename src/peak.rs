//! Peak FMA throughput of each ISA, measured in-process so that every report can state
//! efficiency = achieved GFLOP/s / peak of the same ISA on the same machine, same moment.
//!
//! Each ISA folder provides a register-only loop of independent FMA chains (24 accumulators
//! on AVX-512 and NEON, 12 on AVX2, 12 on scalar): no loads, no stores, no dependency
//! shorter than the FMA latency times the FMA ports, so it runs at the core's FMA limit.

use std::hint::black_box;
use std::time::Instant;

use crate::dispatch;
use crate::error::Result;
use crate::spec::Isa;

/// Runs `iters` iterations of `isa`'s FMA loop and returns the FLOPs it performed, or `None`
/// when this build has no such ISA.
fn run_loop(isa: Isa, iters: u64) -> Option<f64> {
    match isa {
        Isa::Scalar => {
            black_box(crate::scalar::peak::fma_loop(iters));
            Some(crate::scalar::peak::FLOPS_PER_ITER * iters as f64)
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            // SAFETY: callers check `dispatch::is_supported(Avx2)` first.
            black_box(unsafe { crate::x86::avx2::peak::fma_loop(iters) });
            Some(crate::x86::avx2::peak::FLOPS_PER_ITER * iters as f64)
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: callers check `dispatch::is_supported(Avx512)` first.
            black_box(unsafe { crate::x86::avx512::peak::fma_loop(iters) });
            Some(crate::x86::avx512::peak::FLOPS_PER_ITER * iters as f64)
        }
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => {
            // SAFETY: callers check `dispatch::is_supported(Neon)` first.
            black_box(unsafe { crate::aarch64::neon::peak::fma_loop(iters) });
            Some(crate::aarch64::neon::peak::FLOPS_PER_ITER * iters as f64)
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Runs `iters` iterations of `isa`'s register-only FMA loop (the loop the peak is measured
/// on) and returns the FLOPs it performed, for tools that time the loop on their own terms
/// (for instance alternating with kernel calls of the same length).
pub fn fma_loop(isa: Isa, iters: u64) -> Result<f64> {
    dispatch::check(isa)?;
    // `check` passed, so this build has the ISA's loop.
    Ok(run_loop(isa, iters).unwrap_or(0.0))
}

/// What [`measure_peak`] measured: the best and the median of its timed runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakRuns {
    /// GFLOP/s of the fastest run: the peak.
    pub best_gflops: f64,
    /// GFLOP/s of the median run. Its share of the best is how far below the peak a median
    /// falls on this machine by its noise alone (interrupts, other tenants, the clock).
    pub median_gflops: f64,
}

/// Single-core peak of `isa`: `reps` timed runs of about `seconds / reps` each, their best
/// (the peak: nothing makes a register-only loop faster than the hardware) and their median.
pub fn measure_peak(isa: Isa, seconds: f64, reps: usize) -> Result<PeakRuns> {
    dispatch::check(isa)?;
    let reps = reps.max(1);
    // Calibrate: grow the iteration count until one run takes ≥ 2 ms.
    let mut iters = 1u64 << 14;
    loop {
        let t = Instant::now();
        run_loop(isa, iters);
        let dt = t.elapsed().as_secs_f64();
        if dt >= 2e-3 || iters >= 1 << 40 {
            iters = ((iters as f64) * (seconds / reps as f64) / dt.max(1e-9)).max(1.0) as u64;
            break;
        }
        iters *= 4;
    }
    let mut runs: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let flops = run_loop(isa, iters).unwrap_or(0.0);
            flops / t.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    Ok(PeakRuns {
        best_gflops: runs[reps - 1],
        // The upper middle of an even count, as one measured run rather than a mean.
        median_gflops: runs[reps / 2],
    })
}

/// Single-core peak GFLOP/s of `isa`: the best of `reps` timed runs of about `seconds / reps`
/// each ([`measure_peak`]'s best).
pub fn measure_peak_gflops(isa: Isa, seconds: f64, reps: usize) -> Result<f64> {
    Ok(measure_peak(isa, seconds, reps)?.best_gflops)
}

/// Single-core peak GFLOP/s of `isa` with the default effort: the best of 40 runs of 5 ms
/// (short runs, so that on a busy machine some of them run undisturbed).
pub fn peak_gflops(isa: Isa) -> Result<f64> {
    measure_peak_gflops(isa, 0.2, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fma_loop` runs every ISA this CPU has and counts its FLOPs as the peak does (the
    /// same count per iteration, so twice the iterations are twice the FLOPs); `measure_peak`
    /// gives a median no faster than the best; both refuse the other ISAs.
    #[test]
    fn loops_count_flops_and_refuse_missing_isas() {
        for isa in Isa::ALL {
            if dispatch::is_supported(isa) {
                let once = fma_loop(isa, 100).unwrap();
                assert!(once > 0.0, "{isa}");
                assert_eq!(fma_loop(isa, 200).unwrap(), 2.0 * once, "{isa}");
                assert_eq!(Some(once), run_loop(isa, 100), "{isa}");
                let p = measure_peak(isa, 0.004, 4).unwrap();
                assert!(p.median_gflops > 0.0, "{isa} {p:?}");
                assert!(p.median_gflops <= p.best_gflops, "{isa} {p:?}");
            } else {
                assert!(
                    matches!(fma_loop(isa, 1), Err(crate::Error::UnsupportedIsa { isa: i, .. }) if i == isa),
                    "{isa}"
                );
                assert!(measure_peak(isa, 0.004, 4).is_err(), "{isa}");
            }
        }
    }
}
