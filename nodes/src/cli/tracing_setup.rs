//! Installs the process's tracing subscriber: human logs on stderr and, with
//! `--trace FILE`, a Chrome/Perfetto trace (JSON array of trace events).

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
        format!("--log {log:?} is not a valid filter (try `info` or `bora_runtime=debug`)")
    })?;
    let fmt = tracing_subscriber::fmt::layer()
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
