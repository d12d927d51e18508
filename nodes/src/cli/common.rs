//! Flags and messages shared by several subcommands, declared once and pulled in with
//! `#[command(flatten)]`.

use bora_models::registry::DEFAULT_MODEL;

/// `--model`: the language model a model command loads.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArg {
    /// Model name in the cache (`smollm2-135m-instruct`, `gemma3-270m`) or a GGUF path.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
}

/// `--device`: where the model runs.
#[derive(clap::Args, Debug, Clone)]
pub struct DeviceArg {
    /// Compute device: `cpu` or `cuda:N` (needs a build with the `cuda` feature).
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// `--threads`: the model's kernel threads (a count of logical CPUs).
#[derive(clap::Args, Debug, Clone)]
pub struct ThreadsArg {
    /// Model compute threads, 0 (one per logical CPU) to 1024.
    #[arg(long, default_value_t = 0, value_parser = bora_nodes::model_loader::parse_threads)]
    pub threads: usize,
}

/// The error of a subcommand that needs ROS 2 in a bora built without it; `what` says
/// why it needs ROS (e.g. "`bora sim` is a ROS 2 node").
#[cfg_attr(feature = "ros", allow(dead_code))]
pub fn without_ros(what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what}, and this bora was built without ROS 2 (feature `ros`): \
         source scripts/env.sh and rebuild with `cargo build --release -p bora-nodes`"
    )
}

/// Writes one progress line to stderr: redrawn in place on a terminal (`live`), one line
/// each in a log; `last` ends the line redrawn in place.
pub fn progress_line(live: bool, line: &str, last: bool) {
    use std::io::Write;
    if live {
        eprint!("\r{line} ");
        if last {
            eprintln!();
        }
    } else {
        eprintln!("{line}");
    }
    let _ = std::io::stderr().flush();
}
