//! A persistent team of threads for timing one convolution on several cores.
//!
//! Spawning threads (or waking them through a mutex and condition variable) costs tens of
//! microseconds, as much as a whole 7×7 layer, so the workers stay alive for a whole
//! measurement and spin on an atomic generation counter between calls, as the thread pools
//! of inference engines do. The calling thread takes part as member 0.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// Spins before a waiting thread starts yielding its core (the machine may be shared).
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

/// The job every member runs once per call: `(member index, ticket)`.
pub type Job<'j> = dyn Fn(usize, usize) + Sync + 'j;

#[derive(Default)]
struct Signals {
    /// Bumped once per call (and once more to stop).
    generation: AtomicUsize,
    /// The argument of the current call, published before `generation` is bumped.
    ticket: AtomicUsize,
    /// Workers (members other than 0) finished with the current call.
    done: AtomicUsize,
    stop: AtomicBool,
}

/// Handle to a running team; see [`with_team`].
pub struct Team<'t> {
    signals: &'t Signals,
    job: &'t Job<'t>,
    size: usize,
}

impl Team<'_> {
    /// Runs the job on every member with `ticket` and returns when all are done.
    pub fn run(&self, ticket: usize) {
        let s = self.signals;
        // All workers finished the previous call before the previous `run` returned, so no
        // increment of `done` can be in flight here.
        s.done.store(0, Ordering::Relaxed);
        s.ticket.store(ticket, Ordering::Relaxed);
        s.generation.fetch_add(1, Ordering::Release);
        (self.job)(0, ticket);
        let mut spins = 0;
        while s.done.load(Ordering::Acquire) < self.size - 1 {
            backoff(&mut spins);
        }
    }
}

/// Starts `size - 1` workers running `job`, calls `body` with the team, then stops them.
pub fn with_team<'t, R>(size: usize, job: &'t Job<'t>, body: impl FnOnce(&Team<'_>) -> R) -> R {
    assert!(size >= 1, "a team needs at least one member");
    let signals = Signals::default();
    thread::scope(|scope| {
        for member in 1..size {
            let signals = &signals;
            scope.spawn(move || worker(member, signals, job));
        }
        let result = body(&Team {
            signals: &signals,
            job,
            size,
        });
        signals.stop.store(true, Ordering::Relaxed);
        signals.generation.fetch_add(1, Ordering::Release);
        result
    })
}

fn worker(member: usize, signals: &Signals, job: &Job<'_>) {
    let mut seen = 0;
    loop {
        let mut spins = 0;
        let generation = loop {
            let g = signals.generation.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            backoff(&mut spins);
        };
        seen = generation;
        // The Acquire load of `generation` makes `stop` and `ticket`, stored before its
        // Release increment, visible here.
        if signals.stop.load(Ordering::Relaxed) {
            return;
        }
        // Counted as done even if the job panics, so the caller is not left waiting; the
        // panic then surfaces when the scope joins this thread.
        let _done = DoneOnDrop(&signals.done);
        job(member, signals.ticket.load(Ordering::Relaxed));
    }
}

struct DoneOnDrop<'a>(&'a AtomicUsize);

impl Drop for DoneOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

fn backoff(spins: &mut u32) {
    if *spins < SPINS_BEFORE_YIELD {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}
