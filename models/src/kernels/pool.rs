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

struct Shared {
    /// Incremented once per dispatched job (and once at shutdown).
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
// publishes a new epoch with SeqCst and after every worker has reported done through
// `pending`; workers read it only between seeing the new epoch and decrementing
// `pending`. All other fields are atomics or sync primitives.
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
        let threads = threads.max(1);
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
                    .spawn(move || worker(&s, part, threads))
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

    /// Run `job(part, parts)` for every part, the calling thread taking part 0, and
    /// return when all are done. Runs `job(0, 1)` inline for one thread or a busy pool.
    pub fn run(&self, job: &(dyn Fn(usize, usize) + Sync)) {
        if self.threads == 1 {
            return job(0, 1);
        }
        let Ok(_guard) = self.busy.try_lock() else {
            return job(0, 1);
        };
        let s = &*self.shared;
        s.pending.store(self.threads - 1, Ordering::SeqCst);
        // SAFETY: only lifetimes change; the reference is cleared below, after every
        // worker has finished with it, so it never outlives `job`.
        let job_static: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        // SAFETY: we hold `busy` and no worker is inside a job (pending was 0), see `Shared`.
        unsafe { *s.job.get() = Some(job_static) };
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _p = s.park.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        job(0, self.threads);
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
        s.epoch.fetch_add(1, Ordering::SeqCst);
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

fn worker(s: &Shared, part: usize, parts: usize) {
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
            if spins % 64 != 0 || start.elapsed() < SPIN {
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

/// The process-wide pool, sized at first use from `CANDLE_NUM_THREADS` or
/// `RAYON_NUM_THREADS` (what `bora_nodes::model_loader::set_threads` sets), else the
/// available cores.
pub fn global() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let from_env = |k: &str| std::env::var(k).ok()?.trim().parse::<usize>().ok();
        let n = from_env("CANDLE_NUM_THREADS")
            .or_else(|| from_env("RAYON_NUM_THREADS"))
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Pool::new(n)
    })
}
