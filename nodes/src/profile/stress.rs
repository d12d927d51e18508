//! `--stress-cpu N`: N busy threads competing with the pipeline for the CPU, to show
//! budget misses, fallbacks and planner jitter under contention.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Running busy threads; dropping this stops and joins them.
pub struct Stress {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Stress {
    /// Starts `n` threads (named `stress-<i>`) that spin until dropped.
    pub fn start(n: usize) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let stop = Arc::clone(&stop);
            let handle = std::thread::Builder::new()
                .name(format!("stress-{i}"))
                .spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6364136223846793005).wrapping_add(1),
                            );
                        }
                    }
                })
                .map_err(|e| anyhow::anyhow!("--stress-cpu: cannot start thread {i}: {e}"))?;
            threads.push(handle);
        }
        Ok(Self { stop, threads })
    }
}

impl Drop for Stress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
