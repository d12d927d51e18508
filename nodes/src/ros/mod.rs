//! The ROS 2 boundary: one thread owns the r2r node, spins it, and moves messages in
//! and out over the runtime's queues. Nothing else in bora touches r2r.

pub mod audio;
pub mod cdr;
pub mod convert;
pub mod lifecycle;
pub mod params_file;

pub use r2r;

/// The agent node's name (`bora agent`); its parameters live under this key in a params file.
pub const AGENT_NODE_NAME: &str = "bora_agent";
/// The simulator node's name (`bora sim`); its parameters live under this key in a params file.
pub const SIM_NODE_NAME: &str = "bora_sim";

use futures::{FutureExt, Stream, StreamExt};

/// Hands every message already received on an r2r subscription stream to `f`, without
/// blocking; returns how many there were. Call it after `Node::spin_once` on the thread
/// that owns the node, so no async runtime is needed.
pub fn drain<S: Stream + Unpin>(stream: &mut S, mut f: impl FnMut(S::Item)) -> usize {
    let mut n = 0;
    while let Some(Some(item)) = stream.next().now_or_never() {
        f(item);
        n += 1;
    }
    n
}

/// The parameters given to `node` (from `--ros-args -p` and `--params-file`), unchecked,
/// without ROS's own `use_sim_time`.
pub fn given_params(node: &r2r::Node) -> anyhow::Result<Vec<(String, crate::params::ParamValue)>> {
    let params = node
        .params
        .lock()
        .map_err(|_| anyhow::anyhow!("the node's parameter table is poisoned"))?;
    Ok(params
        .iter()
        .filter(|(name, _)| name.as_str() != "use_sim_time")
        .filter_map(|(name, p)| Some((name.clone(), convert::param_value(&p.value)?)))
        .collect())
}
