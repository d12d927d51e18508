//! A trace written through tracing-chrome (configured as the `bora --trace FILE` option
//! does) with the runtime's spans — `stage_step` from a periodic stage thread and
//! `gen_step` from the generation driver — has the structure Perfetto loads: a JSON
//! array of objects with name, ph, pid, tid (and ts for timed events), and every B
//! event closed by an E with the same name on the same thread.

use std::collections::HashMap;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::time::Duration;

use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::SystemClock;
use bora_rt::generation::{GenEvent, GenOutcome, GenerationDriver};
use bora_rt::periodic::PeriodicLoop;
use bora_rt::stage::StageBuilder;
use serde_json::Value;
use tracing_subscriber::prelude::*;

const STAGE: &str = "trace-stage";
const STAGE_TICKS: u64 = 20;
const TOKENS: u32 = 12;

fn write_trace(path: &std::path::Path) {
    let (chrome, guard) = tracing_chrome::ChromeLayerBuilder::new()
        .file(path)
        .include_args(true)
        .build();
    let subscriber = tracing_subscriber::registry().with(chrome);
    // Global, so the stage thread's spans are recorded too; this binary has one test.
    tracing::subscriber::set_global_default(subscriber).expect("only test in this binary");

    let stage = StageBuilder::new(STAGE)
        .spawn(|ctx| {
            let clock = SystemClock::new();
            let mut lp = PeriodicLoop::new(ctx.name(), clock_now(&clock), Duration::from_millis(1))
                .expect("valid period");
            lp.run(&clock, ctx.shutdown(), |tick| {
                if tick.index + 1 >= STAGE_TICKS {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
        })
        .expect("spawn");
    let stats = stage
        .join_timeout(Duration::from_secs(30))
        .expect("stage ends");
    assert!(stats.ticks >= 1);

    let clock = SystemClock::new();
    let mut driver = GenerationDriver::new(TokenBudget::UNLIMITED, MissPolicy::Fallback);
    let mut events = vec![Ok::<_, Infallible>(GenEvent::PrefillChunk { tokens: 8 })];
    events.extend((0..TOKENS).map(|t| Ok(GenEvent::Token(t))));
    let outcome = driver.run(events, &clock, |_| {});
    assert!(matches!(outcome, GenOutcome::Completed(s) if s.tokens == TOKENS));
    drop(guard); // flushes and closes the JSON array
}

fn clock_now(clock: &SystemClock) -> Duration {
    bora_rt::clock::Clock::now(clock)
}

#[test]
fn trace_file_is_a_balanced_perfetto_event_array() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("trace.json");
    write_trace(&path);

    let text = std::fs::read_to_string(&path).expect("trace file written");
    let json: Value = serde_json::from_str(&text).expect("trace file is valid JSON");
    let events = json.as_array().expect("top level is a JSON array");
    assert!(!events.is_empty());

    let mut stacks: HashMap<u64, Vec<String>> = HashMap::new();
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    let mut thread_names = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let obj = e
            .as_object()
            .unwrap_or_else(|| panic!("event {i} is not an object: {e}"));
        let ph = obj
            .get("ph")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("event {i} has no ph"));
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("event {i} has no name"));
        assert!(
            obj.get("pid").is_some_and(Value::is_u64),
            "event {i} has no numeric pid"
        );
        let tid = obj
            .get("tid")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("event {i} has no numeric tid"));
        if ph != "M" {
            assert!(
                obj.get("ts").is_some_and(Value::is_number),
                "event {i} ({ph} {name}) has no numeric ts"
            );
        }
        *counts.entry((ph.to_owned(), name.to_owned())).or_default() += 1;
        match ph {
            "B" => stacks.entry(tid).or_default().push(name.to_owned()),
            "E" => {
                let open = stacks.entry(tid).or_default().pop();
                assert_eq!(
                    open.as_deref(),
                    Some(name),
                    "event {i}: E {name} on tid {tid} closes {open:?}"
                );
            }
            "X" => assert!(
                obj.get("dur").is_some_and(Value::is_number),
                "event {i}: X without dur"
            ),
            "M" => {
                if let Some(n) = obj
                    .get("args")
                    .and_then(|a| a.get("name"))
                    .and_then(Value::as_str)
                {
                    thread_names.push(n.to_owned());
                }
            }
            "i" => {}
            other => panic!("event {i}: unexpected phase {other:?}"),
        }
        if ph == "B" && name == "stage_step" {
            let stage = obj
                .get("args")
                .and_then(|a| a.get("stage"))
                .and_then(Value::as_str);
            assert_eq!(stage, Some(STAGE), "stage_step carries the stage name");
        }
    }
    for (tid, open) in &stacks {
        assert!(open.is_empty(), "tid {tid} left spans open: {open:?}");
    }
    let count = |ph: &str, name: &str| {
        counts
            .get(&(ph.to_owned(), name.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    assert!(count("B", "stage_step") >= 1, "no stage_step spans");
    assert_eq!(count("B", "stage_step"), count("E", "stage_step"));
    // One gen_step per event pulled, plus the final pull that ends the stream.
    assert_eq!(count("B", "gen_step"), TOKENS as usize + 2);
    assert!(
        thread_names.iter().any(|n| n == STAGE),
        "stage thread not named in {thread_names:?}"
    );
}
