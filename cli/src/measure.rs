//! Timing: warm-up, repetitions until a time budget is spent, median; and the ring of input
//! buffers that keeps a small problem from being timed out of L1/L2.

use std::time::Instant;

use conv1x1::AlignedBuf;

use crate::rng::Rng;

/// Repetitions made at least, whatever the time budget.
pub const MIN_RUNS: usize = 10;
/// Repetitions made at most (bounds memory for the per-run times of tiny problems).
const MAX_RUNS: usize = 1 << 22;
/// The input ring spans at least this many bytes.
const MIN_RING_BYTES: usize = 8 << 20;

/// The outcome of timing one configuration.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Median seconds of one timed call.
    pub median_s: f64,
    /// Timed calls made.
    pub runs: usize,
}

/// Warms up `call`, then times it repeatedly until `min_time` seconds have passed and at least
/// [`MIN_RUNS`] calls were made, and returns the median. `call` receives the repetition index
/// (to pick its input) and may fail, which ends the measurement.
pub fn median_time<E>(
    min_time: f64,
    mut call: impl FnMut(usize) -> Result<(), E>,
) -> Result<Sample, E> {
    // Warm-up: caches, TLBs, the CPU's frequency and sleeping worker threads.
    let warm = Instant::now();
    let mut rep = 0;
    while rep < 3 || warm.elapsed().as_secs_f64() < (min_time / 5.0).min(0.05) {
        call(rep)?;
        rep += 1;
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_RUNS
        || (start.elapsed().as_secs_f64() < min_time && times.len() < MAX_RUNS)
    {
        let t = Instant::now();
        call(rep)?;
        times.push(t.elapsed().as_secs_f64());
        rep += 1;
    }
    Ok(Sample {
        median_s: median(&mut times),
        runs: times.len(),
    })
}

/// The median of a non-empty list (the mean of the middle two for even lengths).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// Bytes the input ring must span: 8 MiB, or 4× the L2 cache if that is more.
pub fn ring_bytes() -> usize {
    MIN_RING_BYTES.max(4 * crate::cpu::l2_bytes().unwrap_or(0))
}

/// Several copies-worth of random input in one allocation, handed out in rotation so that
/// consecutive runs read different memory. Every copy starts on a 64-byte boundary, as a
/// framework's tensors do (see `conv1x1::AlignedBuf`).
#[derive(Debug)]
pub struct InputRing {
    data: AlignedBuf,
    len: usize,
    /// Distance between copies: `len` rounded up to whole cache lines.
    stride: usize,
    count: usize,
}

impl InputRing {
    /// Enough buffers of `len` elements to span [`ring_bytes`] (at least 2), random in
    /// `[-1, 1)`; on pages mapped for huge pages if `huge_pages`.
    pub fn new(len: usize, rng: &mut Rng, huge_pages: bool) -> InputRing {
        let count = ring_bytes().div_ceil(4 * len.max(1)).max(2);
        let stride = len.next_multiple_of(AlignedBuf::ALIGN / 4);
        let mut data = if huge_pages {
            AlignedBuf::huge_zeroed(count * stride)
        } else {
            AlignedBuf::zeroed(count * stride)
        };
        data.copy_from_slice(&rng.fill(count * stride, 1.0));
        InputRing {
            data,
            len,
            stride,
            count,
        }
    }

    /// Buffers in the ring.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Buffer for repetition `rep`.
    pub fn get(&self, rep: usize) -> &[f32] {
        let start = (rep % self.count) * self.stride;
        &self.data[start..start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every copy of the ring starts on a cache line, whatever its length, and copies do not
    /// overlap.
    #[test]
    fn ring_copies_are_aligned_and_disjoint() {
        for len in [17, 3136] {
            let ring = InputRing::new(len, &mut Rng::new(1), len > 1000);
            assert!(ring.count() >= 2);
            for rep in 0..ring.count() {
                let copy = ring.get(rep);
                assert_eq!(copy.len(), len);
                assert_eq!(
                    copy.as_ptr().addr() % AlignedBuf::ALIGN,
                    0,
                    "len {len} copy {rep}"
                );
            }
            let (a, b) = (ring.get(0).as_ptr_range(), ring.get(1).as_ptr_range());
            assert!(a.end <= b.start, "len {len}");
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn makes_at_least_min_runs_plus_warmup() {
        let mut calls = 0;
        let s = median_time::<()>(1e-6, |_| {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert!(s.runs >= MIN_RUNS);
        assert!(calls >= s.runs + 3);
    }

    #[test]
    fn ring_spans_the_target_and_rotates() {
        let mut rng = Rng::new(1);
        let ring = InputRing::new(1000, &mut rng, false);
        assert!(ring.count() * 1000 * 4 >= ring_bytes());
        assert_ne!(ring.get(0).as_ptr(), ring.get(1).as_ptr());
        assert_eq!(ring.get(0).as_ptr(), ring.get(ring.count()).as_ptr());
    }
}
