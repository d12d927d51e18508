//! A small fork-join pool for the kernels: `parts - 1` workers that spin briefly, then
//! park, waiting for the next product. Decode issues ~200 small products per token, so
//! waking a spinning worker (well under a microsecond) matters more than generality.
//!
//! One dispatch at a time: a caller that finds the pool busy (another model or test on
//! another thread) runs its whole job inline instead of waiting.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks (covers the gaps between the products
/// of one decode step, not the gaps between tokens).
const SPIN: Duration = Duration::from_micros(200);

/// A job: called once per part with `(part, parts)`.
type Job<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Bits of `Shared::epoch` that hold the current job's parts.
const PARTS_BITS: u32 = 16;

struct Shared {
    /// The job's sequence number (above [`PARTS_BITS`], advanced once per dispatched job
    /// and once at shutdown) with its number of parts (below): read in one load, so a
    /// worker always pairs a job with its own part count.
    epoch: AtomicUsize,
    /// Workers that have not finished the current job.
    pending: AtomicUsize,
    /// Workers waiting on `wake`.
    sleepers: AtomicUsize,
    shutdown: AtomicBool,
    /// The current job; written only by the dispatcher while no worker runs a job.
    job: UnsafeCell<Option<Job<'static>>>,
    park: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is written only by the dispatcher (holding `Pool::busy`) before it
// publishes a new epoch with SeqCst and after every worker of the previous job has
// reported done through `pending`; workers read it only between seeing an epoch whose
// parts include theirs and decrementing `pending` (workers outside a job never read it).
// All other fields are atomics or sync primitives.
unsafe impl Sync for Shared {}

/// A fork-join pool of `threads` (the calling thread counts as one).
pub struct Pool {
    shared: Arc<Shared>,
    busy: Mutex<()>,
    workers: Vec<JoinHandle<()>>,
    threads: usize,
}

impl Pool {
    /// A pool that runs jobs on `threads` threads (0 is taken as 1); spawns `threads - 1`.
    pub fn new(threads: usize) -> Self {
        let threads = threads.clamp(1, (1 << PARTS_BITS) - 1);
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            job: UnsafeCell::new(None),
            park: Mutex::new(()),
            wake: Condvar::new(),
        });
        let workers = (1..threads)
            .filter_map(|part| {
                let s = shared.clone();
                std::thread::Builder::new()
                    .name(format!("bora-kernel-{part}"))
                    .spawn(move || worker(&s, part))
                    .ok()
            })
            .collect::<Vec<_>>();
        // If the OS refused a thread, run with the ones we got.
        let threads = workers.len() + 1;
        Self {
            shared,
            busy: Mutex::new(()),
            workers,
            threads,
        }
    }

    /// Threads a job is split over.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Run `job(part, parts)` for every part over all threads, the calling thread taking
    /// part 0, and return when all are done. Runs `job(0, 1)` inline for one thread or a
    /// busy pool.
    pub fn run(&self, job: &(dyn Fn(usize, usize) + Sync)) {
        self.run_parts(self.threads, job)
    }

    /// As [`Pool::run`] over at most `parts` threads (small jobs: the others are not
    /// involved at all, so they cost no synchronisation).
    pub fn run_parts(&self, parts: usize, job: &(dyn Fn(usize, usize) + Sync)) {
        let parts = parts.clamp(1, self.threads);
        if parts == 1 {
            return job(0, 1);
        }
        let Ok(_guard) = self.busy.try_lock() else {
            return job(0, 1);
        };
        let s = &*self.shared;
        s.pending.store(parts - 1, Ordering::SeqCst);
        // SAFETY: only lifetimes change; the reference is cleared below, after every
        // worker has finished with it, so it never outlives `job`.
        let job_static: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        // SAFETY: we hold `busy` and no worker is inside a job (pending was 0), see `Shared`.
        unsafe { *s.job.get() = Some(job_static) };
        let seq = s.epoch.load(Ordering::SeqCst) >> PARTS_BITS;
        s.epoch
            .store(((seq + 1) << PARTS_BITS) | parts, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _p = s.park.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        job(0, parts);
        while s.pending.load(Ordering::Acquire) != 0 {
            std::hint::spin_loop();
        }
        // SAFETY: every worker has decremented `pending`, so none reads `job` any more.
        unsafe { *s.job.get() = None };
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        s.epoch.fetch_add(1 << PARTS_BITS, Ordering::SeqCst);
        {
            let _p = s.park.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads)
            .finish()
    }
}

fn worker(s: &Shared, part: usize) {
    let mut seen = 0usize;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let e = s.epoch.load(Ordering::SeqCst);
            if e != seen {
                seen = e;
                break;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || start.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            let guard = s.park.lock().unwrap_or_else(|e| e.into_inner());
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            let mut guard = guard;
            while s.epoch.load(Ordering::SeqCst) == seen {
                guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let parts = seen & ((1 << PARTS_BITS) - 1);
        if part >= parts {
            // Not in this job (a small product): the dispatcher neither waits for us nor
            // writes the next job before its own parts are done, and we never read it.
            continue;
        }
        // SAFETY: the dispatcher wrote `job` before publishing this epoch and clears it
        // only after we decrement `pending`, see `Shared`.
        let job = unsafe { *s.job.get() };
        if let Some(job) = job {
            // A panicking kernel must not leave the dispatcher waiting forever.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(part, parts)));
        }
        s.pending.fetch_sub(1, Ordering::Release);
    }
}

/// A raw pointer the parts of one pool job share, each part touching only the elements
/// it owns (the job's contract, stated where it is made): what makes sending it sound.
pub(crate) struct PartPtr<T>(*mut T);

impl<T> Clone for PartPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for PartPtr<T> {}
// SAFETY: the parts of a job access disjoint elements (see the type's contract).
unsafe impl<T> Send for PartPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for PartPtr<T> {}

impl<T> PartPtr<T> {
    /// Share `p` among the parts of one job.
    pub(crate) fn new(p: *mut T) -> Self {
        Self(p)
    }

    /// Element `i` (a method, so closures capture the Sync wrapper, not the raw field).
    pub(crate) fn at(self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}

/// The process-wide pool; unset until [`init`] or [`global`] starts it.
static POOL: OnceLock<Pool> = OnceLock::new();

/// Starts the process-wide kernel pool with `threads` workers (0: one per logical CPU)
/// and returns it. Model loading calls this with [`ModelOptions::threads`]
/// (crate::ModelOptions). The pool is started once per process: a later call with 0 or
/// with the running size returns it; a call with another size is an error that names
/// both sizes, since the workers already exist.
pub fn init(threads: usize) -> crate::Result<&'static Pool> {
    let pool = POOL.get_or_init(|| Pool::new(resolve_threads(threads)));
    if threads != 0 && threads != pool.threads() {
        return Err(crate::Error::ThreadsAlreadySet {
            requested: threads,
            running: pool.threads(),
        });
    }
    Ok(pool)
}

/// The process-wide pool; started with one worker per logical CPU if [`init`] has not
/// run.
pub fn global() -> &'static Pool {
    POOL.get_or_init(|| Pool::new(resolve_threads(0)))
}

/// `threads`, or the logical CPU count when it is 0.
fn resolve_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_init_with_another_size_names_both_sizes() {
        let running = global().threads();
        assert_eq!(init(0).map(Pool::threads).ok(), Some(running));
        assert_eq!(init(running).map(Pool::threads).ok(), Some(running));
        match init(running + 1) {
            Err(crate::Error::ThreadsAlreadySet {
                requested,
                running: r,
            }) => assert_eq!((requested, r), (running + 1, running)),
            other => panic!("expected ThreadsAlreadySet, got {other:?}"),
        }
    }

    #[test]
    fn every_part_runs_once_whatever_the_part_count() {
        // Part counts change from job to job, so workers sit some jobs out and join the
        // next: each job must still see each of its parts exactly once.
        let pool = Pool::new(4);
        for round in 0..2000usize {
            let parts = round % 5; // 0 and 1 run inline, 5+ is clamped to 4
            let hits: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            let seen_parts = AtomicUsize::new(0);
            pool.run_parts(parts, &|p, n| {
                hits[p].fetch_add(1, Ordering::SeqCst);
                seen_parts.store(n, Ordering::SeqCst);
            });
            let n = parts.clamp(1, 4);
            assert_eq!(seen_parts.load(Ordering::SeqCst), n, "round {round}");
            for (p, h) in hits.iter().enumerate() {
                let want = usize::from(p < n);
                assert_eq!(
                    h.load(Ordering::SeqCst),
                    want,
                    "round {round} part {p} of {n}"
                );
            }
        }
    }
}
