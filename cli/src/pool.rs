//! A fixed set of threads kept alive across repetitions, so that timing a multi-threaded
//! convolution measures the convolution and not thread creation.
//!
//! [`with_pool`] starts `threads - 1` workers inside a `std::thread::scope` (so the task may
//! borrow local data) and hands the body a [`Pool`]. Each [`Pool::run`] broadcasts one
//! argument: thread `t` (the caller is thread 0) runs `task(t, arg)`, and `run` returns when
//! all have finished. Workers spin briefly between runs (back-to-back repetitions find them
//! awake) and then sleep on a condition variable, so an idle pool costs no CPU.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a worker spins waiting for the next run before it goes to sleep.
const SPIN_FOR: Duration = Duration::from_micros(200);

/// The handle a [`with_pool`] body uses to run the task on every thread.
pub struct Pool<'a, T> {
    shared: &'a Shared,
    task: &'a T,
    threads: usize,
}

struct Shared {
    /// Incremented for every run (and once more to stop): workers wait for it to change.
    generation: AtomicUsize,
    arg: AtomicUsize,
    /// Workers that have not finished the current run.
    pending: AtomicUsize,
    stop: AtomicBool,
    panicked: AtomicBool,
    /// How long a worker spins for the next run before sleeping.
    spin_for: Duration,
    /// Number of sleeping workers; the lock orders sleeping against new runs.
    sleepers: Mutex<usize>,
    wake: Condvar,
}

/// A worker thread panicked inside the task.
#[derive(Debug, thiserror::Error)]
#[error("a worker thread panicked")]
pub struct WorkerPanicked;

/// Runs `body` with a pool of `threads` threads (the caller plus `threads - 1` workers) that
/// execute `task(thread_index, arg)` on every [`Pool::run`].
pub fn with_pool<T, R>(threads: usize, task: &T, body: impl FnOnce(&Pool<'_, T>) -> R) -> R
where
    T: Fn(usize, usize) + Sync,
{
    with_pool_spinning(threads, SPIN_FOR, task, body)
}

/// [`with_pool`] whose workers spin for `spin_for` after each run before they sleep (200 µs
/// there). `cli/examples/scaling.rs` spins briefly, so that its workers sleep during the
/// single-thread calls it alternates with pooled runs.
pub fn with_pool_spinning<T, R>(
    threads: usize,
    spin_for: Duration,
    task: &T,
    body: impl FnOnce(&Pool<'_, T>) -> R,
) -> R
where
    T: Fn(usize, usize) + Sync,
{
    let threads = threads.max(1);
    let shared = Shared {
        generation: AtomicUsize::new(0),
        arg: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        spin_for,
        sleepers: Mutex::new(0),
        wake: Condvar::new(),
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .map(|t| {
                let shared = &shared;
                scope.spawn(move || worker(shared, t, task))
            })
            .collect();
        // Stops the workers however `body` ends, so that the scope can join them.
        struct StopOnDrop<'a>(&'a Shared);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.stop.store(true, Ordering::Release);
                self.0.bump();
            }
        }
        let stop = StopOnDrop(&shared);
        let result = body(&Pool {
            shared: &shared,
            task,
            threads,
        });
        drop(stop);
        for h in handles {
            // A panicking worker was already reported by `run`; joining here keeps the
            // scope from re-raising its panic.
            let _ = h.join();
        }
        result
    })
}

impl<T: Fn(usize, usize) + Sync> Pool<'_, T> {
    /// Threads taking part in each run, the caller included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `task(t, arg)` on every thread `t` and waits for all of them.
    pub fn run(&self, arg: usize) -> Result<(), WorkerPanicked> {
        let sh = self.shared;
        // A worker that panicked has exited: it would never finish another run.
        if sh.panicked.load(Ordering::Acquire) {
            return Err(WorkerPanicked);
        }
        if self.threads > 1 {
            sh.arg.store(arg, Ordering::Relaxed);
            sh.pending.store(self.threads - 1, Ordering::Relaxed);
            // Release: a worker that sees the new generation also sees `arg` and `pending`.
            sh.bump();
        }
        (self.task)(0, arg);
        let mut spins = 0u32;
        // Acquire: the workers' writes (their part of the output) are visible after this.
        while sh.pending.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        if sh.panicked.load(Ordering::Acquire) {
            return Err(WorkerPanicked);
        }
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.sleepers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new generation and wakes sleeping workers.
    fn bump(&self) {
        // Holding the lock while bumping means a worker cannot check the generation, miss
        // this bump and then fall asleep: it either sees the bump or is counted as a sleeper.
        let sleepers = self.lock();
        self.generation.fetch_add(1, Ordering::Release);
        if *sleepers > 0 {
            self.wake.notify_all();
        }
    }

    /// Waits until the generation differs from `seen` and returns the new one.
    fn wait_past(&self, seen: usize) -> usize {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let g = self.generation.load(Ordering::Acquire);
            if g != seen {
                return g;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(256) && start.elapsed() > self.spin_for {
                break;
            }
            std::hint::spin_loop();
        }
        let mut sleepers = self.lock();
        *sleepers += 1;
        loop {
            let g = self.generation.load(Ordering::Acquire);
            if g != seen {
                *sleepers -= 1;
                return g;
            }
            sleepers = self
                .wake
                .wait(sleepers)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn worker<T: Fn(usize, usize) + Sync>(shared: &Shared, t: usize, task: &T) {
    /// Marks this worker's part done even if the task panics, so `run` never waits forever.
    struct Done<'a>(&'a Shared);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.panicked.store(true, Ordering::Release);
            }
            self.0.pending.fetch_sub(1, Ordering::Release);
        }
    }
    let mut seen = 0;
    loop {
        seen = shared.wait_past(seen);
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let done = Done(shared);
        task(t, shared.arg.load(Ordering::Relaxed));
        drop(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_runs_every_time() {
        for threads in [1, 2, 3, 5] {
            let hits: Vec<AtomicUsize> = (0..threads).map(|_| AtomicUsize::new(0)).collect();
            let sum = AtomicUsize::new(0);
            let task = |t: usize, arg: usize| {
                hits[t].fetch_add(1, Ordering::Relaxed);
                sum.fetch_add(arg, Ordering::Relaxed);
            };
            with_pool(threads, &task, |pool| {
                for rep in 0..200 {
                    pool.run(rep).unwrap();
                    if rep == 100 {
                        // Let the workers fall asleep once.
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            });
            for h in &hits {
                assert_eq!(h.load(Ordering::Relaxed), 200);
            }
            assert_eq!(
                sum.load(Ordering::Relaxed),
                threads * (0..200).sum::<usize>()
            );
        }
    }

    #[test]
    fn a_panicking_worker_is_reported_not_hung() {
        let task = |t: usize, _| {
            if t == 1 {
                panic!("boom");
            }
        };
        let r = with_pool(2, &task, |pool| pool.run(0));
        assert!(r.is_err());
    }
}
