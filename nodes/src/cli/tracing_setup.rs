//! Installs the process's tracing subscriber: human logs on stderr and, with
//! `--trace FILE`, a Chrome/Perfetto trace (JSON array of trace events).
//!
//! The logs carry ANSI colour only when stderr is a terminal and `NO_COLOR` is unset
//! or empty (no-color.org): a log file, a pipe or a journal gets plain text.

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use tracing_subscriber::prelude::*;

/// Keeps the trace file open; dropping it flushes and closes the JSON array.
pub struct TraceGuard {
    _chrome: Option<tracing_chrome::FlushGuard>,
}

/// Installs the global subscriber with the `log` filter and an optional trace file.
pub fn install(log: &str, trace: Option<&Path>) -> anyhow::Result<TraceGuard> {
    let filter = tracing_subscriber::EnvFilter::try_new(log).with_context(|| {
        format!("--log {log:?} is not a valid filter (try `info` or `bora_rt=debug`)")
    })?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let (chrome, guard) = match trace {
        Some(path) => {
            // Fail early with the path named rather than inside the writer thread.
            std::fs::File::create(path)
                .with_context(|| format!("cannot create trace file {}", path.display()))?;
            let (layer, guard) = tracing_chrome::ChromeLayerBuilder::new()
                .file(path)
                .include_args(true)
                .build();
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry().with(fmt).with(chrome).init();
    Ok(TraceGuard { _chrome: guard })
}

/// Whether the logs on stderr get ANSI colour: only on a terminal, and not when
/// `NO_COLOR` is set to anything non-empty.
fn colour(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
