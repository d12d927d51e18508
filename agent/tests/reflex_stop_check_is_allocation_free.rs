//! The reflex-stop check runs on the command path before anything else, so it must be
//! cheap: it never allocates, whatever the text, and it takes well under a microsecond on
//! a typical command.

use std::time::Instant;

use bora_agent::is_reflex_stop;
use bora_testkit::{allocations_in, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

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
    let mut hits = 0;
    let allocated = allocations_in(|| {
        for _ in 0..100 {
            for text in texts {
                hits += usize::from(is_reflex_stop(std::hint::black_box(text)));
            }
        }
    });
    assert_eq!(allocated, 0, "is_reflex_stop allocated");
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
