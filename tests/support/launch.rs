//! What the launch tests share: the built `bora`, running a command with a time limit,
//! reading a parameter profile, `bora agent --check-params`, installing the ROS package
//! and evaluating a launch file with tests/support/launch_stub.py.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::{python, repo_root, wait_with_timeout};

/// The release `bora` binary the tests run.
pub fn bora() -> anyhow::Result<PathBuf> {
    let bin = repo_root().join("target/release/bora");
    ensure!(
        bin.exists(),
        "{} is missing: build it first (source scripts/env.sh && cargo build --release -p bora-nodes)",
        bin.display()
    );
    Ok(bin)
}

/// Runs a command to completion (at most 60 s) and returns its output.
pub fn run(cmd: &mut Command) -> anyhow::Result<Output> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    wait_with_timeout(child, Duration::from_secs(60))
}

/// The JSON `what` printed on stdout, or an error with its stderr.
pub fn stdout_json(out: &Output, what: &str) -> anyhow::Result<Json> {
    ensure!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "{what} printed no JSON:\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A profile's `bora_agent: ros__parameters:` map, flattened to dotted names.
pub fn profile_values(path: &Path) -> anyhow::Result<BTreeMap<String, Yaml>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: Yaml =
        serde_yaml::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))?;
    let top = doc
        .as_mapping()
        .with_context(|| format!("{}: not a mapping", path.display()))?;
    ensure!(
        top.len() == 1,
        "{}: only the node `bora_agent` belongs in an agent profile",
        path.display()
    );
    let params = doc
        .get("bora_agent")
        .and_then(|n| n.get("ros__parameters"))
        .with_context(|| format!("{}: no `bora_agent: ros__parameters:`", path.display()))?;
    let mut flat = BTreeMap::new();
    flatten("", params, &mut flat);
    ensure!(!flat.is_empty(), "{}: no parameters", path.display());
    Ok(flat)
}

/// Flattens a YAML mapping into dotted names.
pub fn flatten(prefix: &str, v: &Yaml, out: &mut BTreeMap<String, Yaml>) {
    match v.as_mapping() {
        Some(m) => {
            for (k, v) in m {
                let key = k
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{k:?}"));
                let name = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, v, out);
            }
        }
        None => {
            out.insert(prefix.to_owned(), v.clone());
        }
    }
}

/// `bora agent --check-params --ros-args ROS_ARGS`.
pub fn check_params(ros_args: &[&str]) -> anyhow::Result<Output> {
    let mut cmd = Command::new(bora()?);
    cmd.args(["agent", "--check-params", "--ros-args"])
        .args(ros_args)
        .env("RUST_BACKTRACE", "0");
    run(&mut cmd)
}

/// Whether a parameter value the node reports equals the YAML value of the profile.
pub fn json_matches_yaml(j: &Json, y: &Yaml) -> bool {
    match (j, y) {
        (Json::Bool(a), Yaml::Bool(b)) => a == b,
        (Json::String(a), Yaml::String(b)) => a == b,
        (Json::Number(a), Yaml::Number(b)) if b.is_f64() => a.as_f64() == b.as_f64(),
        (Json::Number(a), Yaml::Number(b)) => a.as_i64().is_some() && a.as_i64() == b.as_i64(),
        _ => false,
    }
}

/// Installs the ROS package `bora` into `prefix` with the install script.
pub fn install(prefix: &Path) -> anyhow::Result<()> {
    let script = repo_root().join("scripts/install-ros-package.sh");
    let out = run(Command::new("bash")
        .arg(&script)
        .arg(prefix)
        .arg("--binary")
        .arg(bora()?))?;
    ensure!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// What a launch file would start, from tests/support/launch_stub.py.
pub fn evaluate_launch(prefix: &Path, file: &str, args: &[&str]) -> anyhow::Result<Json> {
    let stub = repo_root().join("tests/support/launch_stub.py");
    let kind = if file.ends_with(".xml") { "xml" } else { "py" };
    let path = prefix.join("share/bora/launch").join(file);
    let out = run(Command::new(python()?)
        .arg(&stub)
        .arg(kind)
        .arg(&path)
        .args(args)
        .env("AMENT_PREFIX_PATH", prefix))?;
    stdout_json(&out, &format!("evaluating {file} {args:?}"))
}

/// The processes a launch evaluation starts, each checked to be `bora SUBCOMMAND` from
/// the installed package, keyed by node name.
pub fn processes(prefix: &Path, launched: &Json) -> anyhow::Result<BTreeMap<String, Json>> {
    let mut by_name = BTreeMap::new();
    for p in launched["processes"].as_array().context("no processes")? {
        let (pkg, exe) = (
            p["package"].as_str().unwrap_or(""),
            p["executable"].as_str().unwrap_or(""),
        );
        ensure!(
            pkg == "bora" && exe == "bora",
            "a node runs {pkg}/{exe}, not bora/bora: {p}"
        );
        ensure!(
            prefix.join("lib").join(pkg).join(exe).is_file(),
            "ros2 run {pkg} {exe} would not find lib/{pkg}/{exe}"
        );
        let name = p["name"].as_str().unwrap_or("").to_owned();
        ensure!(
            by_name.insert(name.clone(), p.clone()).is_none(),
            "two nodes named {name:?} start: {launched}"
        );
    }
    Ok(by_name)
}
