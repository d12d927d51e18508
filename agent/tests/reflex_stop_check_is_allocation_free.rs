//! The reflex-stop check runs on the command path before anything else, so it must be
//! cheap: it never allocates, whatever the text, and it takes well under a microsecond on
//! a typical command.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use bora_agent::is_reflex_stop;

/// Counts allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours, passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|c| c.get())
}

#[test]
fn check_never_allocates() {
    let long = "please move forward slowly and carefully ".repeat(50) + "and then HALT";
    let texts = [
        "STOP!!!",
        "please halt",
        "stopwatch",
        "unfreeze",
        "move forward one meter then turn left",
        "Grüße, stöp nicht",
        "",
        long.as_str(),
    ];
    let before = allocations();
    let mut hits = 0;
    for _ in 0..100 {
        for text in texts {
            hits += usize::from(is_reflex_stop(std::hint::black_box(text)));
        }
    }
    assert_eq!(allocations(), before, "is_reflex_stop allocated");
    assert_eq!(hits, 300);
}

#[test]
fn check_is_fast() {
    let text = "move forward one meter then turn left and wait two seconds";
    let n = 100_000u32;
    let start = Instant::now();
    let mut hits = 0u32;
    for _ in 0..n {
        hits += u32::from(is_reflex_stop(std::hint::black_box(text)));
    }
    let per_call = start.elapsed() / n;
    assert_eq!(hits, 0);
    // Typically ~100 ns in release; the bound leaves room for a busy shared CI machine.
    assert!(per_call.as_micros() < 20, "{per_call:?} per check");
}
