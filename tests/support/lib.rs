//! Shared helpers for bora's workspace-level tests: locating the venv, the `bora`
//! binary and the rclpy peers, and giving each test run its own ROS_DOMAIN_ID so that
//! parallel runs on one machine do not hear each other.

pub mod launch;
pub mod rig;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The Python of the project venv (rclpy lives there), or `python3` with a sourced ROS 2.
pub fn python() -> anyhow::Result<PathBuf> {
    let venv = std::env::var_os("BORA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    let py = venv.join("bin/python");
    if py.exists() {
        return Ok(py);
    }
    if std::env::var_os("ROS_DISTRO").is_some() {
        return Ok(PathBuf::from("python3"));
    }
    bail!(
        "no Python with rclpy: {} is missing and no ROS 2 is sourced; run scripts/setup.sh and `source scripts/env.sh`",
        py.display()
    )
}

/// A ROS_DOMAIN_ID for this test process: distinct for concurrent runs (derived from the
/// pid), within 1..=100 so Fast DDS's port arithmetic stays valid. `BORA_TEST_DOMAIN_ID`
/// overrides it.
pub fn domain_id() -> u32 {
    if let Some(id) = std::env::var("BORA_TEST_DOMAIN_ID")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return id;
    }
    1 + std::process::id() % 100
}

/// Sets the ROS environment of this process for a test: loopback-only discovery and
/// the test's own domain. Call before creating any r2r context or spawning peers.
pub fn isolate_ros() -> u32 {
    let id = domain_id();
    // SAFETY-free in edition 2021: set before any ROS thread exists in this process.
    std::env::set_var("ROS_DOMAIN_ID", id.to_string());
    std::env::set_var("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST");
    id
}

/// Path of an rclpy peer script under tests/peers/.
pub fn peer_script(name: &str) -> PathBuf {
    repo_root().join("tests/peers").join(name)
}

/// Starts `python peer args...` with piped stdout/stderr, inheriting the ROS environment.
pub fn spawn_peer(name: &str, args: &[&str]) -> anyhow::Result<Child> {
    let script = peer_script(name);
    Command::new(python()?)
        .arg(&script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start rclpy peer {}", script.display()))
}

/// Waits for `child` to exit within `timeout`, killing it past that; returns its output.
pub fn wait_with_timeout(mut child: Child, timeout: Duration) -> anyhow::Result<Output> {
    let start = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            return Ok(child.wait_with_output()?);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output()?;
            bail!(
                "process did not finish within {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
