//! The hearing stage without a thread, with a recogniser double and a manual clock.

use super::*;
use crate::hearing::{EndpointConfig, Heard};
use crate::output::AgentOutput;
use crate::stages::tests::{drain, links};
use bora_agent::Limits;
use bora_rt::clock::ManualClock;

const RATE: usize = 16_000;

/// A recogniser that returns a fixed answer after "taking" `takes` on the manual clock.
struct Double {
    answer: Result<Heard, String>,
    takes: Duration,
    clock: Arc<ManualClock>,
}

impl Transcriber for Double {
    fn transcribe(&mut self, pcm: &[f32], rate: u32) -> Result<Heard, String> {
        assert_eq!(rate, 16_000);
        assert!(!pcm.is_empty());
        self.clock.advance(self.takes);
        self.answer.clone()
    }
    fn describe(&self) -> String {
        "double".into()
    }
}

fn heard(text: &str) -> Result<Heard, String> {
    Ok(Heard {
        text: text.into(),
        no_speech: false,
    })
}

struct Rig {
    stage: HearingStage,
    audio: AudioInput,
    links: Links,
    clock: Arc<ManualClock>,
    metrics: Metrics,
}

fn rig(answer: Result<Heard, String>, takes_ms: u64, config: HearingConfig) -> Rig {
    let links = links();
    let clock = Arc::new(ManualClock::new());
    let double = Double {
        answer,
        takes: Duration::from_millis(takes_ms),
        clock: Arc::clone(&clock),
    };
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let path = CommandPath::new(
        links.clone(),
        dyn_clock,
        Counter::new("reflex"),
        Limits::default(),
    );
    let mut metrics = Metrics::new();
    let (stage, audio) =
        HearingStage::new(config, Box::new(double), path, &mut metrics).expect("stage");
    Rig {
        stage,
        audio,
        links,
        clock,
        metrics,
    }
}

/// A 220 Hz tone of `s` seconds between 0.5 s of silence before and 1 s after.
fn burst(s: f64) -> Vec<f32> {
    let n = (s * RATE as f64) as usize;
    let mut v = vec![0.0; RATE / 2];
    v.extend((0..n).map(|i| 0.3 * (std::f32::consts::TAU * 220.0 * i as f32 / 16e3).sin()));
    v.extend(vec![0.0; RATE]);
    v
}

impl Rig {
    /// Hands in `signal` in 100 ms chunks, as a live source would (the clock advancing
    /// 100 ms per chunk), stepping the stage after each; returns the event JSONs.
    fn play(&mut self, signal: &[f32]) -> Vec<serde_json::Value> {
        for chunk in signal.chunks(RATE / 10) {
            self.clock.advance(Duration::from_millis(100));
            self.audio.push(chunk.to_vec()).expect("queued");
            self.stage.step(&tracing::Span::none());
        }
        self.events()
    }

    fn events(&self) -> Vec<serde_json::Value> {
        drain(&self.links)
            .iter()
            .filter_map(AgentOutput::event_json)
            .map(|j| serde_json::from_str(&j).expect("event JSON"))
            .collect()
    }

    fn queued_commands(&self) -> Vec<String> {
        std::iter::from_fn(|| self.links.commands.pop())
            .map(|c| c.text.to_string())
            .collect()
    }
}

#[test]
fn an_utterance_heard_in_time_enters_the_command_path_with_its_latency() {
    let mut r = rig(
        heard(" Drive forward one meter. "),
        300,
        HearingConfig::default(),
    );
    let events = r.play(&burst(0.8));
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["event"], "heard");
    assert_eq!(e["text"], "Drive forward one meter.");
    assert_eq!(e["recognition_ms"], 300.0);
    // Hang-over (0.5 s, decided at a chunk boundary) + recognition (0.3 s).
    let latency = e["speech_end_to_text_ms"].as_f64().expect("latency");
    assert!((800.0..=900.0).contains(&latency), "{latency}");
    assert_eq!(r.queued_commands(), vec!["Drive forward one meter."]);
    let report = r.metrics.report();
    let l = report
        .latency(Quantity::CommandToAction, "speech_end_to_transcript")
        .expect("recorded");
    assert_eq!(l.count, 1);
    assert_eq!(report.counter("utterances_heard"), Some(1));
}

#[test]
fn a_transcript_over_the_budget_is_dropped_with_an_event() {
    let config = HearingConfig {
        budget: Some(Duration::from_secs(1)),
        ..HearingConfig::default()
    };
    let mut r = rig(heard("move forward one meter"), 2500, config);
    let events = r.play(&burst(0.8));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "hearing_budget_missed");
    assert_eq!(events[0]["limit_ms"], 1000.0);
    assert_eq!(events[0]["observed_ms"], 2500.0);
    assert!(r.queued_commands().is_empty(), "no command after a miss");
}

#[test]
fn no_speech_or_a_recogniser_error_gives_no_command() {
    let nothing = Ok(Heard {
        text: " you".into(),
        no_speech: true,
    });
    for (answer, kind) in [
        (nothing, "nothing_heard"),
        (heard("   "), "nothing_heard"),
        (Err("encoder failed".into()), "audio_rejected"),
    ] {
        let mut r = rig(answer, 100, HearingConfig::default());
        let events = r.play(&burst(0.8));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["event"], kind, "{events:?}");
        assert!(r.queued_commands().is_empty());
    }
}

#[test]
fn silence_gives_nothing_and_speech_past_the_limit_is_cut_with_an_event() {
    let mut r = rig(heard("go"), 100, HearingConfig::default());
    assert!(r.play(&vec![0.0; 5 * RATE]).is_empty());
    let config = HearingConfig {
        endpoint: EndpointConfig {
            max_utterance: Duration::from_secs(2),
            ..EndpointConfig::default()
        },
        ..HearingConfig::default()
    };
    let mut r = rig(heard("go"), 100, config);
    let events = r.play(&burst(4.0));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "utterance_too_long");
    assert_eq!(events[0]["limit_s"], 2.0);
    assert!(r.queued_commands().is_empty());
}

#[test]
fn a_heard_stop_is_a_reflex_stop() {
    let mut r = rig(heard(" Stop."), 100, HearingConfig::default());
    r.play(&burst(0.5));
    assert!(r.queued_commands().is_empty(), "a stop bypasses the queue");
    assert_eq!(
        r.links
            .shared
            .stop_seq
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[test]
fn bad_chunks_are_refused_with_an_event_naming_the_fault() {
    let config = HearingConfig {
        max_chunk_samples: 100,
        queue_capacity: 1,
        ..HearingConfig::default()
    };
    let mut r = rig(heard("go"), 100, config);
    assert_eq!(r.audio.push(Vec::new()), Err(AudioError::Empty));
    assert_eq!(
        r.audio.push(vec![0.0; 101]),
        Err(AudioError::TooLong {
            samples: 101,
            max: 100
        })
    );
    assert_eq!(r.audio.push(vec![0.0; 10]), Ok(()));
    assert_eq!(
        r.audio.push(vec![0.0; 10]),
        Err(AudioError::QueueFull { capacity: 1 })
    );
    let events = r.events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|e| e["event"] == "audio_rejected"));
    assert!(events[1]["reason"]
        .as_str()
        .is_some_and(|s| s.contains("101 samples")));
}

#[test]
fn a_bad_configuration_is_refused_naming_the_field() {
    let config = HearingConfig {
        endpoint: EndpointConfig {
            max_utterance: Duration::from_secs(40),
            ..EndpointConfig::default()
        },
        ..HearingConfig::default()
    };
    let e = config.check().expect_err("40 s is past Whisper's window");
    assert!(e.to_string().contains("max_utterance"), "{e}");
}
