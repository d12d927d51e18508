//! Queue hop latency: ping-pong between two threads for each queue kind (rtrb's and
//! heapless's SPSC rings side by side), against `std::sync::mpsc` in the same run. Criterion reports the mean round trip; each
//! benchmark also prints the one-way hop (round trip / 2) p50 and p99 from an HDR
//! histogram, since latency is a distribution.
//!
//! Both sides poll (spin, yielding every 256 spins) so the queue, not the OS wake-up,
//! is measured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use bora_rt::queue::{spsc, MpmcQueue, Overflow, PushOutcome, SpscConsumer, SpscProducer};
use bora_rt::slot::{latest_slot, SlotReader, SlotWriter};
use criterion::{criterion_group, criterion_main, Criterion};
use hdrhistogram::Histogram;

/// The sending half of one direction.
trait Tx: Send + 'static {
    fn send(&mut self, v: u64);
}

/// The receiving half of one direction; `None` when nothing is there yet.
trait Rx: Send + 'static {
    fn try_recv(&mut self) -> Option<u64>;
}

impl Tx for SpscProducer<u64> {
    fn send(&mut self, v: u64) {
        let mut v = v;
        while let Err(back) = self.push(v) {
            v = back;
            std::hint::spin_loop();
        }
    }
}
impl Rx for SpscConsumer<u64> {
    fn try_recv(&mut self) -> Option<u64> {
        self.pop()
    }
}

impl Tx for heapless::spsc::Producer<'static, u64> {
    fn send(&mut self, v: u64) {
        let mut v = v;
        while let Err(back) = self.enqueue(v) {
            v = back;
            std::hint::spin_loop();
        }
    }
}
impl Rx for heapless::spsc::Consumer<'static, u64> {
    fn try_recv(&mut self) -> Option<u64> {
        self.dequeue()
    }
}

/// heapless's SPSC ring with 63 usable slots (`N - 1`). Its ends borrow the queue, and
/// the echo thread needs `'static` ends: one small queue per direction is leaked for the
/// benchmark's lifetime (what a stage would have to do, or use a `static`).
fn heapless_spsc() -> (
    heapless::spsc::Producer<'static, u64>,
    heapless::spsc::Consumer<'static, u64>,
) {
    let q: &'static mut heapless::spsc::Queue<u64, 64> =
        Box::leak(Box::new(heapless::spsc::Queue::new()));
    q.split()
}

struct Mpmc(Arc<MpmcQueue<u64>>);
impl Tx for Mpmc {
    fn send(&mut self, v: u64) {
        let mut v = v;
        while let PushOutcome::Rejected(back) = self.0.push(v) {
            v = back;
            std::hint::spin_loop();
        }
    }
}
impl Rx for Mpmc {
    fn try_recv(&mut self) -> Option<u64> {
        self.0.pop()
    }
}

impl Tx for SlotWriter<u64> {
    fn send(&mut self, v: u64) {
        self.write(v);
    }
}
impl Rx for SlotReader<u64> {
    fn try_recv(&mut self) -> Option<u64> {
        self.read_new()
    }
}

impl Tx for mpsc::SyncSender<u64> {
    fn send(&mut self, v: u64) {
        let _ = mpsc::SyncSender::send(self, v);
    }
}
impl Rx for mpsc::Receiver<u64> {
    fn try_recv(&mut self) -> Option<u64> {
        mpsc::Receiver::try_recv(self).ok()
    }
}

/// Spins, yielding the CPU now and then: on a shared 2-core machine a pure spin can
/// hold the core the other side needs for a whole time slice.
fn backoff(spins: &mut u32) {
    *spins += 1;
    if (*spins).is_multiple_of(256) {
        thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn spin_recv(rx: &mut impl Rx) -> u64 {
    let mut spins = 0;
    loop {
        if let Some(v) = rx.try_recv() {
            return v;
        }
        backoff(&mut spins);
    }
}

/// Runs a ping-pong benchmark: `ping` goes main -> echo, `pong` comes back.
fn pingpong<A: Tx, B: Rx, C: Tx, D: Rx>(
    c: &mut Criterion,
    name: &str,
    (mut ping_tx, mut ping_rx): (A, B),
    (mut pong_tx, mut pong_rx): (C, D),
) {
    let stop = Arc::new(AtomicBool::new(false));
    let echo_stop = Arc::clone(&stop);
    let echo = thread::spawn(move || {
        let mut spins = 0;
        while !echo_stop.load(Ordering::Relaxed) {
            if let Some(v) = ping_rx.try_recv() {
                pong_tx.send(v);
            } else {
                backoff(&mut spins);
            }
        }
    });
    let mut hop = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("static bounds");
    let mut seq = 1u64;
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t0 = Instant::now();
                ping_tx.send(seq);
                let got = spin_recv(&mut pong_rx);
                let rtt = t0.elapsed();
                assert_eq!(got, seq, "echo returned the wrong value");
                seq += 1;
                hop.saturating_record(rtt.as_nanos() as u64 / 2);
                total += rtt;
            }
            total
        })
    });
    stop.store(true, Ordering::Relaxed);
    echo.join().expect("echo thread");
    if hop.is_empty() {
        return; // filtered out on the command line
    }
    println!(
        "{name}: one-way hop p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} samples)",
        hop.value_at_quantile(0.5),
        hop.value_at_quantile(0.99),
        hop.value_at_quantile(0.999),
        hop.max(),
        hop.len()
    );
}

fn queues(c: &mut Criterion) {
    let cap = 64;
    pingpong(
        c,
        "hop/spsc_rtrb",
        spsc::<u64>("ping", cap, None).expect("queue"),
        spsc::<u64>("pong", cap, None).expect("queue"),
    );
    pingpong(c, "hop/spsc_heapless", heapless_spsc(), heapless_spsc());
    let mpmc = |name: &str, overflow| {
        let q = Arc::new(MpmcQueue::new(name, cap, overflow, None).expect("queue"));
        (Mpmc(Arc::clone(&q)), Mpmc(q))
    };
    pingpong(
        c,
        "hop/mpmc_array_queue",
        mpmc("ping", Overflow::RejectNew),
        mpmc("pong", Overflow::RejectNew),
    );
    pingpong(
        c,
        "hop/mpmc_drop_oldest",
        mpmc("ping", Overflow::DropOldest),
        mpmc("pong", Overflow::DropOldest),
    );
    let slot = |name: &str| {
        let w = latest_slot(name, 0u64, 1).expect("slot");
        let mut r = w.reader().expect("reader");
        // The initial value counts as new once; consume it so only echoes are seen.
        let _ = r.read_new();
        (w, r)
    };
    pingpong(c, "hop/latest_slot", slot("ping"), slot("pong"));
    pingpong(
        c,
        "hop/std_mpsc_sync_channel",
        mpsc::sync_channel::<u64>(cap),
        mpsc::sync_channel::<u64>(cap),
    );
}

// criterion_group! generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, queues);
}
criterion_main!(group::benches);
