//! Two threads for one sequential loop of small steps: a training.
//!
//! A training step of the default network is some 30 to 50 us of arithmetic in three phases,
//! two of which split into halves (see `nn::train_net`), so it hands work to the other thread
//! three times every step. `rayon::join` is not made for that grain: an idle rayon thread falls
//! asleep after a few microseconds without work, and every later fork then pays a system call
//! to wake it, which costs more than the half it hands over (measured: the default GL-RFE run
//! took longer on two threads than on one). A [`Pair`] instead lends one thread of the pool to
//! a training for its whole length: the partner spins, waiting for its part of each phase
//! ([`Pair::both`], [`Pair::on_partner`]), and goes back to the pool when the training ends.
//!
//! The partner is itself a rayon job, so it only runs when a thread of the pool is free to take
//! it; when none is (every thread is busy with other folds, ensemble members or tests), each
//! half it was offered is taken back and run by the training's own thread, and so is the work
//! meant for it alone. Which thread runs a piece of work never changes what it computes, so
//! results do not depend on the thread count.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};

/// No half is waiting.
const EMPTY: u8 = 0;
/// A half is waiting for the partner.
const POSTED: u8 = 1;
/// The partner is running the half.
const RUNNING: u8 = 2;
/// The partner has finished the half.
const DONE: u8 = 3;

/// The half of a fork offered to the partner: a closure on the forking thread's stack.
struct Task<'a> {
    run: &'a mut (dyn FnMut() + Send),
}

/// A training's thread and, when one was offered to the pool, a partner (see the module
/// documentation). Made by [`with_pair`], which lends it to its body as `&mut`: so
/// [`Pair::both`] has one caller at a time and is never called again from inside one of its
/// halves, which the hand-over protocol of [`Shared`] relies on.
pub(crate) struct Pair<'s> {
    /// `None`: no partner will ever come, and [`Pair::both`] runs its halves one after the
    /// other.
    shared: Option<&'s Shared>,
}

/// What the two threads of a [`Pair`] share: the hand-over of one half at a time.
struct Shared {
    state: AtomicU8,
    /// The posted half, valid while `state` is `POSTED` or `RUNNING`.
    task: AtomicPtr<Task<'static>>,
    quit: AtomicBool,
    /// The partner has started serving (and serves until `quit`).
    present: AtomicBool,
    /// A panic of a half the partner ran, to be raised again on the forking thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

/// Runs `body` with a [`Pair`]: when `lend` and the pool has two threads or more, on a pool
/// thread with the partner offered to the pool; alone otherwise.
pub(crate) fn with_pair<R: Send>(lend: bool, body: impl FnOnce(&mut Pair<'_>) -> R + Send) -> R {
    if !lend || rayon::current_num_threads() < 2 {
        return body(&mut Pair { shared: None });
    }
    let shared = Shared::new();
    // From outside the pool, `rayon::join` first moves both closures onto a pool thread.
    let (result, ()) = rayon::join(
        || {
            // Sends the partner back to the pool however `body` ends, panics included.
            struct Quit<'p>(&'p Shared);
            impl Drop for Quit<'_> {
                fn drop(&mut self) {
                    self.0.quit.store(true, Ordering::Release);
                }
            }
            let _quit = Quit(&shared);
            body(&mut Pair { shared: Some(&shared) })
        },
        || shared.serve(),
    );
    result
}

impl Pair<'_> {
    /// Whether a partner was offered to the pool (it may still never come, if no thread of the
    /// pool is free for the whole training).
    pub(crate) fn lent(&self) -> bool {
        self.shared.is_some()
    }

    /// Runs `a` on this thread and `b` on the partner if it takes `b` before `a` is done;
    /// otherwise this thread runs `b` after `a`. Returns when both are done.
    pub(crate) fn both<RA, RB: Send>(
        &mut self,
        a: impl FnOnce() -> RA,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB) {
        let Some(shared) = self.shared else {
            return (a(), b());
        };
        let mut b = Some(b);
        let mut rb = None;
        let mut run = || rb = Some((b.take().expect("a half runs once"))());
        let mut task = Task { run: &mut run };
        // The partner only reads `task` between taking it (POSTED -> RUNNING) and reporting
        // DONE, and `Reclaim` does not let this frame end before either the half is taken back
        // or DONE is seen, so the pointer never outlives what it points to. `&mut self` makes
        // this the only half in flight: nothing else stores to `state` until it is EMPTY again.
        shared.task.store((&mut task as *mut Task<'_>).cast(), Ordering::Release);
        shared.state.store(POSTED, Ordering::Release);

        let reclaim = Reclaim(shared);
        let ra = a();
        let taken_back = reclaim.finish();
        if taken_back {
            (task.run)();
        }
        if let Some(p) = shared.panic.lock().unwrap_or_else(|e| e.into_inner()).take() {
            resume_unwind(p);
        }
        (ra, rb.expect("the half ran"))
    }
}

impl Pair<'_> {
    /// Runs `f` on the partner when it is serving, waiting for it, so that the data `f` works
    /// on stays in the partner's cache from one step to the next; on this thread otherwise.
    pub(crate) fn on_partner<R: Send>(&mut self, f: impl FnOnce() -> R + Send) -> R {
        match self.shared {
            Some(shared) if shared.present.load(Ordering::Acquire) => {
                // Wait until the partner has taken `f` (it is spinning, so it does at once);
                // `both` then waits for it to finish.
                let taken = || {
                    let mut spins: u32 = 0;
                    while shared.state.load(Ordering::Acquire) == POSTED {
                        spins = spins.wrapping_add(1);
                        if spins.is_multiple_of(4096) {
                            std::thread::yield_now();
                        } else {
                            std::hint::spin_loop();
                        }
                    }
                };
                self.both(taken, f).1
            }
            _ => f(),
        }
    }
}

impl Shared {
    fn new() -> Shared {
        Shared {
            state: AtomicU8::new(EMPTY),
            task: AtomicPtr::new(std::ptr::null_mut()),
            quit: AtomicBool::new(false),
            present: AtomicBool::new(false),
            panic: Mutex::new(None),
        }
    }

    /// The partner's loop: run posted halves until the training is over.
    fn serve(&self) {
        self.present.store(true, Ordering::Release);
        let mut idle: u32 = 0;
        loop {
            if self.state.load(Ordering::Relaxed) == POSTED
                && self
                    .state
                    .compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                let task = self.task.load(Ordering::Acquire);
                // SAFETY: the state moved from POSTED to RUNNING here, so the forking thread
                // waits in `Reclaim` until DONE below, and `task` and its closure stay alive and
                // untouched by it until then (see `Pair::both`).
                let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { ((*task).run)() }));
                if let Err(p) = outcome {
                    *self.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
                }
                self.state.store(DONE, Ordering::Release);
                idle = 0;
                continue;
            }
            if self.quit.load(Ordering::Acquire) {
                return;
            }
            idle = idle.wrapping_add(1);
            // Mostly spin (a half arrives every few microseconds); now and then let another
            // process have the core, in case this machine is shared.
            if idle.is_multiple_of(4096) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// Ends a fork of [`Pair::both`]: takes the posted half back if the partner has not taken it,
/// else waits until the partner has finished it. Also runs on unwinding, when the forking
/// thread's own half panics, so that the frame the partner reads outlives its use.
struct Reclaim<'p>(&'p Shared);

impl Reclaim<'_> {
    /// Returns whether the half was taken back (so the caller must run it).
    fn finish(self) -> bool {
        let taken_back = self.wait();
        std::mem::forget(self);
        taken_back
    }

    fn wait(&self) -> bool {
        let state = &self.0.state;
        if state.compare_exchange(POSTED, EMPTY, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return true;
        }
        let mut spins: u32 = 0;
        while state.load(Ordering::Acquire) != DONE {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        state.store(EMPTY, Ordering::Relaxed);
        false
    }
}

impl Drop for Reclaim<'_> {
    fn drop(&mut self) {
        self.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    #[test]
    fn every_half_runs_once_on_any_thread_count() {
        for threads in [1, 2, 3] {
            let sums = in_pool(threads, || {
                with_pair(true, |pair| {
                    let mut sums = Vec::new();
                    let (mut top, mut bottom) = (vec![0u64; 64], vec![0u64; 64]);
                    for step in 0..2000u64 {
                        let (a, b) = pair.both(
                            || {
                                top.iter_mut().for_each(|v| *v += step);
                                top.iter().sum::<u64>()
                            },
                            || {
                                bottom.iter_mut().for_each(|v| *v += 2 * step);
                                bottom.iter().sum::<u64>()
                            },
                        );
                        sums.push((a, b));
                    }
                    sums
                })
            });
            let expect: Vec<(u64, u64)> =
                (0..2000u64).map(|s| (64 * s * (s + 1) / 2, 64 * s * (s + 1))).collect();
            assert_eq!(sums, expect, "{threads} threads");
        }
    }

    #[test]
    fn the_partner_takes_halves_when_a_thread_is_free() {
        let took = in_pool(2, || {
            with_pair(true, |pair| {
                let me = std::thread::current().id();
                let start = std::time::Instant::now();
                // The partner may need a moment to wake; then it takes every half it sees.
                while start.elapsed().as_secs() < 10 {
                    let (_, other) = pair.both(|| (), || std::thread::current().id());
                    if other != me {
                        return true;
                    }
                }
                false
            })
        });
        assert!(took, "no half ran on the partner in 10 s");
    }

    #[test]
    fn on_partner_runs_there_once_it_serves_and_here_when_alone() {
        let (moved, alone) = in_pool(2, || {
            let moved = with_pair(true, |pair| {
                let me = std::thread::current().id();
                let start = std::time::Instant::now();
                while start.elapsed().as_secs() < 10 {
                    if pair.on_partner(|| std::thread::current().id()) != me {
                        // Once serving, the partner takes every later call.
                        return (0..100)
                            .all(|_| pair.on_partner(|| std::thread::current().id()) != me);
                    }
                }
                false
            });
            let alone = with_pair(false, |pair| {
                let me = std::thread::current().id();
                (0..100).all(|_| pair.on_partner(|| std::thread::current().id()) == me)
            });
            (moved, alone)
        });
        assert!(moved, "the partner did not take over within 10 s, or handed work back");
        assert!(alone, "without a partner the work runs on the calling thread");
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller() {
        for second in [false, true] {
            let caught = in_pool(2, || {
                catch_unwind(AssertUnwindSafe(|| {
                    with_pair(true, |pair| {
                        for _ in 0..100 {
                            pair.both(
                                || assert!(second, "first half"),
                                || assert!(!second, "second half"),
                            );
                        }
                    })
                }))
            });
            assert!(caught.is_err(), "second half panicking: {second}");
        }
    }
}
