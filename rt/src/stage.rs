//! Stage threads: named OS threads built with [`StageBuilder`], optionally pinned to a
//! core and given SCHED_FIFO priority (outcome reported, see [`crate::rt`]), with a
//! [`Shutdown`] flag, a [`Heartbeat`] and a bounded join ([`Stage::stop`]).
//!
//! The stage body is a plain closure over a [`StageContext`]; the algorithms it runs are
//! plain structs tested without threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::liveness::Heartbeat;
use crate::rt::{self, RtReport};

/// A stop request shared by a stage (or several) and whoever stops it. Clones share
/// the flag.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    /// A flag not yet raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every stage sharing this flag to stop after its current step.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a stage's body gets: its name, shutdown flag, heartbeat and RT outcome.
#[derive(Debug, Clone)]
pub struct StageContext {
    name: Arc<str>,
    shutdown: Shutdown,
    heartbeat: Heartbeat,
    rt: RtReport,
}

impl StageContext {
    /// The stage's name (also its thread name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the stage should stop now (check between steps).
    pub fn should_stop(&self) -> bool {
        self.shutdown.is_requested()
    }

    /// The stage's shutdown flag.
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Records one beat (call once per step).
    pub fn beat(&self) {
        self.heartbeat.beat();
    }

    /// The stage's heartbeat.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    /// What happened to the requested pinning and priority.
    pub fn rt(&self) -> &RtReport {
        &self.rt
    }

    /// A `stage_step` span for this stage: create it once, enter it per step.
    pub fn step_span(&self) -> tracing::Span {
        tracing::info_span!("stage_step", stage = %self.name)
    }
}

/// Builds a stage thread.
#[derive(Debug, Clone)]
pub struct StageBuilder {
    name: String,
    core: Option<usize>,
    fifo_priority: Option<i32>,
    shutdown: Option<Shutdown>,
    setup_timeout: Duration,
}

impl StageBuilder {
    /// A stage named `name` (the OS thread name; Linux shows its first 15 bytes).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            core: None,
            fifo_priority: None,
            shutdown: None,
            setup_timeout: Duration::from_secs(5),
        }
    }

    /// Pins the thread to CPU `core`.
    pub fn pin_to_core(mut self, core: usize) -> Self {
        self.core = Some(core);
        self
    }

    /// Asks for SCHED_FIFO with `priority` (1..=99 on Linux; higher runs first).
    pub fn fifo_priority(mut self, priority: i32) -> Self {
        self.fifo_priority = Some(priority);
        self
    }

    /// Shares `shutdown` with this stage (default: a flag of its own).
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.clone());
        self
    }

    /// Starts the thread, applies the RT settings inside it, waits for their outcome,
    /// then runs `body`. Returns once the RT setup is reported.
    pub fn spawn<R, F>(self, body: F) -> Result<Stage<R>>
    where
        R: Send + 'static,
        F: FnOnce(StageContext) -> R + Send + 'static,
    {
        let shutdown = self.shutdown.unwrap_or_default();
        let heartbeat = Heartbeat::new();
        let name: Arc<str> = self.name.as_str().into();
        let (report_tx, report_rx) = mpsc::sync_channel(1);
        let ctx_shutdown = shutdown.clone();
        let ctx_heartbeat = heartbeat.clone();
        let (core, prio) = (self.core, self.fifo_priority);
        let thread_name = Arc::clone(&name);
        let handle = std::thread::Builder::new()
            .name(self.name.clone())
            .spawn(move || {
                let rt = rt::apply(&thread_name, core, prio);
                // The spawner may have given up waiting; the stage runs anyway.
                let _ = report_tx.send(rt.clone());
                body(StageContext {
                    name: thread_name,
                    shutdown: ctx_shutdown,
                    heartbeat: ctx_heartbeat,
                    rt,
                })
            })
            .map_err(|source| Error::StageSpawn {
                stage: self.name.clone(),
                source,
            })?;
        let rt =
            report_rx
                .recv_timeout(self.setup_timeout)
                .map_err(|_| Error::StageSetupTimeout {
                    stage: self.name.clone(),
                    waited: self.setup_timeout,
                })?;
        Ok(Stage {
            name: self.name,
            handle,
            shutdown,
            heartbeat,
            rt,
        })
    }
}

/// A running stage thread. Dropping it detaches the thread (request a stop first).
#[derive(Debug)]
pub struct Stage<R> {
    name: String,
    handle: JoinHandle<R>,
    shutdown: Shutdown,
    heartbeat: Heartbeat,
    rt: RtReport,
}

impl<R> Stage<R> {
    /// The stage's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What happened to the requested pinning and priority.
    pub fn rt(&self) -> &RtReport {
        &self.rt
    }

    /// The stage's heartbeat (for a watchdog).
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    /// The stage's shutdown flag.
    pub fn shutdown_flag(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Requests a stop, then waits at most `timeout` for the thread to end.
    pub fn stop(self, timeout: Duration) -> Result<R> {
        self.shutdown.request();
        self.join_timeout(timeout)
    }

    /// Waits at most `timeout` for the thread to end (without requesting a stop).
    /// A thread still running afterwards is left detached and reported as
    /// [`Error::StageDidNotStop`]; a panic is reported as [`Error::StagePanicked`].
    pub fn join_timeout(self, timeout: Duration) -> Result<R> {
        let start = Instant::now();
        while !self.handle.is_finished() {
            let waited = start.elapsed();
            if waited >= timeout {
                tracing::warn!(
                    stage = self.name.as_str(),
                    waited_ms = waited.as_millis() as u64,
                    "stage did not stop"
                );
                return Err(Error::StageDidNotStop {
                    stage: self.name,
                    waited: timeout,
                });
            }
            std::thread::sleep((timeout - waited).min(Duration::from_millis(1)));
        }
        self.handle.join().map_err(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Error::StagePanicked {
                stage: self.name,
                message,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::RtOutcome;

    #[test]
    fn stage_runs_named_beats_and_stops_within_the_timeout() {
        let stage = StageBuilder::new("unit-stage")
            .spawn(|ctx| {
                let mut steps = 0u64;
                while !ctx.should_stop() {
                    ctx.beat();
                    steps += 1;
                    std::thread::sleep(Duration::from_micros(200));
                }
                (std::thread::current().name().map(str::to_owned), steps)
            })
            .unwrap();
        assert_eq!(stage.rt().pinning, RtOutcome::NotRequested);
        while stage.heartbeat().count() < 3 {
            std::thread::yield_now();
        }
        let (name, steps) = stage.stop(Duration::from_secs(10)).unwrap();
        assert_eq!(name.as_deref(), Some("unit-stage"));
        assert!(steps >= 3);
    }

    #[test]
    fn a_stage_that_ignores_shutdown_is_reported() {
        let release = Shutdown::new();
        let r = release.clone();
        let stage = StageBuilder::new("stuck")
            .spawn(move |_ctx| {
                while !r.is_requested() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
            .unwrap();
        let err = stage.stop(Duration::from_millis(20)).unwrap_err();
        assert!(matches!(err, Error::StageDidNotStop { ref stage, .. } if stage == "stuck"));
        release.request();
    }

    #[test]
    fn a_panicking_stage_is_reported_with_its_message() {
        let stage = StageBuilder::new("boom")
            .spawn(|_ctx| -> () { panic!("sensor gone") })
            .unwrap();
        let err = stage.join_timeout(Duration::from_secs(10)).unwrap_err();
        assert!(
            matches!(err, Error::StagePanicked { ref message, .. } if message == "sensor gone")
        );
    }

    #[test]
    fn refused_priority_is_reported_not_silent() {
        let stage = StageBuilder::new("rt")
            .fifo_priority(10)
            .pin_to_core(0)
            .spawn(|ctx| ctx.rt().clone())
            .unwrap();
        let rt = stage.join_timeout(Duration::from_secs(10)).unwrap();
        // Either the OS allowed it, or the refusal carries an errno and a reason.
        for outcome in [&rt.priority, &rt.pinning] {
            match outcome {
                RtOutcome::Applied => {}
                RtOutcome::Refused { reason, .. } => assert!(!reason.is_empty()),
                RtOutcome::NotRequested => panic!("requested setting reported as not requested"),
            }
        }
    }
}
