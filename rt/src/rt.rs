//! Real-time setup of the calling thread: CPU pinning (core_affinity) and SCHED_FIFO
//! priority (pthread_setschedparam). Each request has an outcome that is returned and,
//! when refused, logged as a warning naming the stage and the errno: the fallback
//! (default scheduler, any core) is never silent.

use serde::Serialize;

/// What happened to one real-time request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RtOutcome {
    /// Not asked for.
    NotRequested,
    /// Applied to the thread.
    Applied,
    /// The OS refused; the thread runs without it.
    Refused {
        /// The OS error number (e.g. 1 = EPERM without CAP_SYS_NICE); 0 when the
        /// request was rejected before reaching the OS.
        errno: i32,
        /// What was refused and why, for the log and the report.
        reason: String,
    },
}

impl RtOutcome {
    /// Whether the request was applied.
    pub fn is_applied(&self) -> bool {
        matches!(self, RtOutcome::Applied)
    }
}

/// The real-time outcomes of one stage thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RtReport {
    /// CPU pinning.
    pub pinning: RtOutcome,
    /// SCHED_FIFO priority.
    pub priority: RtOutcome,
}

/// Pins the calling thread to CPU `core` (an index into the cores the process may use).
pub fn pin_current_thread(core: usize) -> RtOutcome {
    let Some(ids) = core_affinity::get_core_ids() else {
        return RtOutcome::Refused {
            errno: 0,
            reason: "cannot list the CPU cores this process may use".to_owned(),
        };
    };
    let Some(&id) = ids.iter().find(|c| c.id == core) else {
        let available: Vec<usize> = ids.iter().map(|c| c.id).collect();
        return RtOutcome::Refused {
            errno: libc::EINVAL,
            reason: format!(
                "core {core} is not available to this process (available: {available:?})"
            ),
        };
    };
    if core_affinity::set_for_current(id) {
        RtOutcome::Applied
    } else {
        let err = std::io::Error::last_os_error();
        RtOutcome::Refused {
            errno: err.raw_os_error().unwrap_or(0),
            reason: format!("pinning to core {core}: {err}"),
        }
    }
}

/// Gives the calling thread SCHED_FIFO with `priority` (Linux: 1..=99).
#[cfg(unix)]
pub fn set_current_fifo_priority(priority: i32) -> RtOutcome {
    // SAFETY: plain queries without pointers or preconditions.
    let (min, max) = unsafe {
        (
            libc::sched_get_priority_min(libc::SCHED_FIFO),
            libc::sched_get_priority_max(libc::SCHED_FIFO),
        )
    };
    if priority < min || priority > max {
        return RtOutcome::Refused {
            errno: libc::EINVAL,
            reason: format!("SCHED_FIFO priority {priority} is outside {min}..={max}"),
        };
    }
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `pthread_self()` is the live calling thread and `param` is an initialised
    // sched_param that outlives the call.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    if rc == 0 {
        RtOutcome::Applied
    } else {
        let err = std::io::Error::from_raw_os_error(rc);
        RtOutcome::Refused {
            errno: rc,
            reason: format!(
                "SCHED_FIFO priority {priority}: {err} (needs CAP_SYS_NICE or an rtprio limit, e.g. `ulimit -r 99` or a systemd LimitRTPRIO)"
            ),
        }
    }
}

/// Gives the calling thread SCHED_FIFO with `priority`: not available on this OS.
#[cfg(not(unix))]
pub fn set_current_fifo_priority(priority: i32) -> RtOutcome {
    RtOutcome::Refused {
        errno: 0,
        reason: format!("SCHED_FIFO priority {priority}: not supported on this OS"),
    }
}

/// Applies the requested pinning and priority to the calling thread, logging a warning
/// for each refusal with the stage name and errno.
pub fn apply(stage: &str, core: Option<usize>, fifo_priority: Option<i32>) -> RtReport {
    let pinning = core.map_or(RtOutcome::NotRequested, pin_current_thread);
    let priority = fifo_priority.map_or(RtOutcome::NotRequested, set_current_fifo_priority);
    for (what, outcome) in [
        ("cpu pinning", &pinning),
        ("SCHED_FIFO priority", &priority),
    ] {
        if let RtOutcome::Refused { errno, reason } = outcome {
            tracing::warn!(
                stage,
                errno,
                reason = reason.as_str(),
                "{what} refused; the stage runs without it"
            );
        }
    }
    RtReport { pinning, priority }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_priority_is_refused_before_the_os() {
        let out = set_current_fifo_priority(10_000);
        assert!(
            matches!(out, RtOutcome::Refused { errno, .. } if errno == libc::EINVAL || errno == 0)
        );
    }

    #[test]
    fn unknown_core_is_refused_with_the_available_list() {
        assert!(matches!(
            pin_current_thread(usize::MAX),
            RtOutcome::Refused { .. }
        ));
    }

    #[test]
    fn nothing_requested_is_reported_as_such() {
        let r = apply("idle", None, None);
        assert_eq!(
            r,
            RtReport {
                pinning: RtOutcome::NotRequested,
                priority: RtOutcome::NotRequested
            }
        );
    }
}
