//! Test support shared by bora's crates (a dev-dependency only): the counting allocator
//! and the shared test data ([`non_commands`]).
//!
//! [`CountingAlloc`] forwards to the system allocator and counts allocations in two ways:
//! those the current thread makes while armed (a thread-local flag, [`allocations_in`]),
//! so other test threads do not disturb the count; and those every thread of the process
//! makes during a window ([`allocations_in_all_threads`]), for code that hands work to
//! threads of its own (the kernel pool's workers). A test binary installs it with
//! `#[global_allocator] static GLOBAL: bora_testkit::CountingAlloc = bora_testkit::CountingAlloc;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The counting allocator: the system allocator plus a per-thread count.
pub struct CountingAlloc;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

/// Whether [`allocations_in_all_threads`] has a window open, and what it counted.
static ALL_ARMED: AtomicBool = AtomicBool::new(false);
static ALL_COUNT: AtomicU64 = AtomicU64::new(0);

fn note_allocation() {
    if ALL_ARMED.load(Ordering::SeqCst) {
        ALL_COUNT.fetch_add(1, Ordering::SeqCst);
    }
    // `try_with`: the allocator may be called while thread-locals are being torn down.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` with counting armed on this thread and returns the allocations it made
/// (meaningful only in a binary whose global allocator is [`CountingAlloc`]).
pub fn allocations_in(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(|c| c.get())
}

/// Runs `f` and returns the allocations every thread of the process made meanwhile
/// (meaningful only in a binary whose global allocator is [`CountingAlloc`]). Other tests
/// running at the same time count too: a binary that uses this serialises its tests (a
/// lock each test holds), and `f` must not spawn threads (spawning allocates).
pub fn allocations_in_all_threads(f: impl FnOnce()) -> u64 {
    ALL_COUNT.store(0, Ordering::SeqCst);
    ALL_ARMED.store(true, Ordering::SeqCst);
    f();
    ALL_ARMED.store(false, Ordering::SeqCst);
    ALL_COUNT.load(Ordering::SeqCst)
}

/// The sentences that are not robot commands (questions, thanks, chit-chat, injections)
/// from `tests/data/non_commands.txt`: one per line, `#` comments and blank lines left
/// out. Panics with the path when the file cannot be read or holds fewer than 20.
pub fn non_commands() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/non_commands.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(lines.len() >= 20, "{path} holds {} sentences", lines.len());
    lines
}
