//! A robot rig for end-to-end tests: `bora sim` and `bora agent` as separate processes
//! and the rclpy peer (tests/peers/robot_peer.py), all on loopback in a ROS domain of
//! their own. Everything is killed when the rig is dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{peer_script, python, repo_root};

/// The `bora` binary built by `cargo build --release` (CI builds it before the tests),
/// or the one `BORA_BIN` names.
pub fn bora_bin() -> anyhow::Result<PathBuf> {
    let bin = std::env::var_os("BORA_BIN")
        .map_or_else(|| repo_root().join("target/release/bora"), PathBuf::from);
    if !bin.exists() {
        bail!(
            "{} is missing: run `cargo build --release -p bora-nodes` (scripts/test.sh does) first",
            bin.display()
        );
    }
    Ok(bin)
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A ROS domain for one rig: distinct per test process and per rig within it.
fn rig_domain() -> u32 {
    // Domains 101..=232 are valid too; stay in 1..=100 for Fast DDS's port arithmetic.
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    1 + (std::process::id() * 7 + n * 13) % 100
}

/// Processes of one rig.
pub struct Rig {
    /// The ROS_DOMAIN_ID used by every process of the rig.
    pub domain: u32,
    sim: Option<Child>,
    sim_args: Vec<String>,
    agent: Option<Child>,
    peer: Child,
    peer_in: ChildStdin,
    peer_out: BufReader<ChildStdout>,
    log_dir: PathBuf,
}

fn ros_env(cmd: &mut Command, domain: u32) -> &mut Command {
    cmd.env("ROS_DOMAIN_ID", domain.to_string())
        .env("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        .stdin(Stdio::null())
}

impl Rig {
    /// Starts sim (with `sim_args`), agent (with ROS parameters `agent_params`,
    /// `name:=value` each) and the peer; waits until the peer sees both.
    pub fn start(sim_args: &[&str], agent_params: &[&str]) -> anyhow::Result<Rig> {
        Rig::start_remapped(sim_args, agent_params, &[])
    }

    /// As [`Rig::start`], with the agent's topics remapped (`from:=to` each, e.g.
    /// `odom:=relay/odom` to feed it the peer's odometry relay).
    pub fn start_remapped(
        sim_args: &[&str],
        agent_params: &[&str],
        agent_remaps: &[&str],
    ) -> anyhow::Result<Rig> {
        let domain = rig_domain();
        let bin = bora_bin()?;
        let log_dir =
            std::env::temp_dir().join(format!("bora-e2e-{}-{domain}", std::process::id()));
        std::fs::create_dir_all(&log_dir)?;
        let log = |name: &str| -> anyhow::Result<Stdio> {
            Ok(std::fs::File::create(log_dir.join(name))?.into())
        };
        let sim = spawn_sim(&bin, sim_args, domain, &log_dir)?;
        let mut agent_cmd = Command::new(&bin);
        agent_cmd.args(["--log", "info", "agent", "--ros-args"]);
        for p in agent_params {
            agent_cmd.args(["-p", p]);
        }
        for r in agent_remaps {
            agent_cmd.args(["-r", r]);
        }
        let agent = ros_env(&mut agent_cmd, domain)
            .stdout(log("agent.out")?)
            .stderr(log("agent.err")?)
            .spawn()
            .context("cannot start bora agent")?;
        let mut peer = ros_env(&mut Command::new(python()?), domain)
            .arg(peer_script("robot_peer.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log("peer.err")?)
            .spawn()
            .context("cannot start the rclpy peer")?;
        let peer_in = peer.stdin.take().context("peer stdin")?;
        let peer_out = BufReader::new(peer.stdout.take().context("peer stdout")?);
        let mut rig = Rig {
            domain,
            sim: Some(sim),
            sim_args: sim_args.iter().map(|s| (*s).to_owned()).collect(),
            agent: Some(agent),
            peer,
            peer_in,
            peer_out,
            log_dir,
        };
        let ready = rig.call(json!({"op": "ready", "timeout": 90}))?;
        if ready["ok"] != true {
            bail!("sim and agent not discovered within 90 s{}", rig.logs());
        }
        Ok(rig)
    }

    /// Kills the sim (SIGKILL) and starts a fresh one with the same arguments, in the
    /// same domain; the agent keeps running. Returns once the peer gets odometry again.
    pub fn restart_sim(&mut self) -> anyhow::Result<()> {
        if let Some(mut s) = self.sim.take() {
            s.kill()?;
            s.wait()?;
        }
        let args: Vec<&str> = self.sim_args.iter().map(String::as_str).collect();
        self.sim = Some(spawn_sim(&bora_bin()?, &args, self.domain, &self.log_dir)?);
        let since = self.pose()?["t"].as_f64().unwrap_or(0.0);
        for _ in 0..600 {
            if !self.odom_log(since + 1e-6)?.is_empty() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "no odometry from the restarted sim within 30 s{}",
            self.logs()
        )
    }

    /// The agent/plan report for `text` received after `since` (peer clock).
    pub fn wait_plan_since(
        &mut self,
        text: &str,
        since: f64,
        timeout_s: f64,
    ) -> anyhow::Result<Value> {
        let r = self
            .call(json!({"op": "wait_plan", "text": text, "since": since, "timeout": timeout_s}))?;
        if r["ok"] != true {
            bail!("no plan for {text:?} within {timeout_s} s{}", self.logs());
        }
        Ok(r["plan"].clone())
    }

    /// Everything the agent wrote to stderr so far (its log).
    pub fn agent_log(&self) -> String {
        std::fs::read_to_string(self.log_dir.join("agent.err")).unwrap_or_default()
    }

    /// Sends one request to the peer and returns its reply.
    pub fn call(&mut self, req: Value) -> anyhow::Result<Value> {
        writeln!(self.peer_in, "{req}")?;
        self.peer_in.flush()?;
        let mut line = String::new();
        if self.peer_out.read_line(&mut line)? == 0 {
            bail!("the rclpy peer exited{}", self.logs());
        }
        serde_json::from_str(&line).with_context(|| format!("peer reply is not JSON: {line}"))
    }

    /// Publishes a voice command; returns the peer's publish time (s, its monotonic clock).
    pub fn say(&mut self, text: &str) -> anyhow::Result<f64> {
        let r = self.call(json!({"op": "say", "text": text}))?;
        r["t_pub"].as_f64().context("say reply")
    }

    /// The agent/plan report for `text`.
    pub fn wait_plan(&mut self, text: &str, timeout_s: f64) -> anyhow::Result<Value> {
        let r = self.call(json!({"op": "wait_plan", "text": text, "timeout": timeout_s}))?;
        if r["ok"] != true {
            bail!("no plan for {text:?} within {timeout_s} s{}", self.logs());
        }
        Ok(r["plan"].clone())
    }

    /// Waits for the first agent/events line containing `what` received after `since`.
    pub fn wait_event(&mut self, what: &str, since: f64, timeout_s: f64) -> anyhow::Result<Value> {
        let r = self.call(
            json!({"op": "wait_event", "contains": what, "since": since, "timeout": timeout_s}),
        )?;
        if r["ok"] != true {
            bail!("no {what:?} event within {timeout_s} s{}", self.logs());
        }
        Ok(r)
    }

    /// Waits until the robot has stood still for `settle_s`; returns its pose.
    pub fn wait_still(&mut self, settle_s: f64, timeout_s: f64) -> anyhow::Result<Value> {
        let r = self.call(json!({"op": "wait_still", "settle": settle_s, "timeout": timeout_s}))?;
        if r["ok"] != true {
            bail!("robot still moving after {timeout_s} s{}", self.logs());
        }
        self.pose()
    }

    /// The latest odometry pose: {x, y, yaw, vx, wz, t}.
    pub fn pose(&mut self) -> anyhow::Result<Value> {
        self.call(json!({"op": "pose"}))
    }

    /// Every cmd_vel received since `since` (peer clock): [[t, linear_x, angular_z]].
    pub fn cmd_vel_log(&mut self, since: f64) -> anyhow::Result<Vec<(f64, f64, f64)>> {
        let r = self.call(json!({"op": "cmd_vel_log", "since": since}))?;
        let log = r["log"].as_array().context("cmd_vel log")?;
        Ok(log
            .iter()
            .filter_map(|e| Some((e[0].as_f64()?, e[1].as_f64()?, e[2].as_f64()?)))
            .collect())
    }

    /// Every odometry message since `since`: [[t, x, y, yaw, vx, wz]].
    pub fn odom_log(&mut self, since: f64) -> anyhow::Result<Vec<[f64; 6]>> {
        let r = self.call(json!({"op": "odom_log", "since": since}))?;
        let log = r["log"].as_array().context("odom log")?;
        Ok(log
            .iter()
            .filter_map(|e| {
                let a = e.as_array()?;
                let mut out = [0.0; 6];
                for (o, v) in out.iter_mut().zip(a) {
                    *o = v.as_f64()?;
                }
                Some(out)
            })
            .collect())
    }

    /// Kills the agent process (SIGKILL, no chance to publish anything).
    pub fn kill_agent(&mut self) -> anyhow::Result<()> {
        if let Some(mut a) = self.agent.take() {
            a.kill()?;
            a.wait()?;
        }
        Ok(())
    }

    /// Waits for the agent to exit by itself; returns whether it exited 0.
    pub fn wait_agent_exit(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        let Some(a) = self.agent.take() else {
            bail!("agent already gone")
        };
        Ok(crate::wait_with_timeout(a, timeout)?.status.success())
    }

    /// Sends SIGTERM to the agent and waits for it to exit; returns whether it exited 0.
    pub fn terminate_agent(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        self.signal_agent("TERM", timeout)
    }

    /// Sends `signal` (a `kill` name: TERM, INT) to the agent and waits for it to exit;
    /// returns whether it exited 0.
    pub fn signal_agent(&mut self, signal: &str, timeout: Duration) -> anyhow::Result<bool> {
        let Some(a) = self.agent.take() else {
            bail!("agent already gone")
        };
        let pid = a.id().to_string();
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()?;
        let out = crate::wait_with_timeout(a, timeout)?;
        Ok(out.status.success())
    }

    /// The processes' logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for name in ["agent.err", "sim.err", "peer.err"] {
            let text = std::fs::read_to_string(self.log_dir.join(name)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            s.push_str(&format!("\n--- {name} (last lines) ---\n"));
            for l in tail.into_iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

fn spawn_sim(
    bin: &std::path::Path,
    args: &[&str],
    domain: u32,
    log_dir: &std::path::Path,
) -> anyhow::Result<Child> {
    let log = |name: &str| -> anyhow::Result<Stdio> {
        Ok(std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join(name))?
            .into())
    };
    ros_env(Command::new(bin).arg("sim").args(args), domain)
        .stdout(log("sim.out")?)
        .stderr(log("sim.err")?)
        .spawn()
        .context("cannot start bora sim")
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = writeln!(self.peer_in, "{}", json!({"op": "quit"}));
        for child in [self.agent.as_mut(), self.sim.as_mut(), Some(&mut self.peer)]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
