//! The agent driving the simulated robot in-process, with no ROS: the calling thread
//! steps the simulator in real time, feeds odometry and scans to the agent, and applies
//! its velocity commands. Used by the pipeline's tests and by `bora profile`.

use std::time::{Duration, Instant};

use crate::agent::{AgentInput, AgentOutput, AgentOutputs};
use bora_agent::{LaserScan, Odometry};
use bora_sim::{Pose2D, Sim, SimSchedule};

/// How the in-process robot publishes its sensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimRates {
    /// Odometry period (default 20 ms, 50 Hz).
    pub odom_period: Duration,
    /// Laser scan period (default 50 ms, 20 Hz).
    pub scan_period: Duration,
}

impl Default for SimRates {
    fn default() -> Self {
        Self {
            odom_period: Duration::from_millis(20),
            scan_period: Duration::from_millis(50),
        }
    }
}

/// The simulator wired to a running agent's input and output ends.
pub struct SimLoop {
    sim: Sim,
    input: AgentInput,
    outputs: AgentOutputs,
    ranges: Vec<f32>,
    started: Instant,
    schedule: SimSchedule,
    /// Largest |linear_x| seen on cmd_vel, m/s.
    pub max_linear_seen: f64,
    /// Largest |angular_z| seen on cmd_vel, rad/s.
    pub max_angular_seen: f64,
}

impl SimLoop {
    /// Wires `sim` to the agent; the simulated time starts now.
    pub fn new(sim: Sim, input: AgentInput, outputs: AgentOutputs, rates: SimRates) -> Self {
        let step = sim.drive().config().step;
        Self {
            sim,
            input,
            outputs,
            ranges: Vec::new(),
            started: Instant::now(),
            // Never skip: the tests compare simulated motion with the agent's wall clock.
            schedule: SimSchedule::new(step, (rates.odom_period, rates.scan_period), u64::MAX),
            max_linear_seen: 0.0,
            max_angular_seen: 0.0,
        }
    }

    /// The agent's input end (to send commands).
    pub fn input(&mut self) -> &mut AgentInput {
        &mut self.input
    }

    /// The simulator (pose, world...).
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The robot's pose now.
    pub fn pose(&self) -> Pose2D {
        self.sim.pose()
    }

    /// Runs for `d` of real time, handing every agent output to `on_output`.
    pub fn run_for(&mut self, d: Duration, mut on_output: impl FnMut(&AgentOutput, &Sim)) {
        let end = Instant::now() + d;
        self.run_until(end, |o, s| {
            on_output(o, s);
            false
        });
    }

    /// Runs until `done` returns true for an output (then returns true) or until the
    /// real-time instant `end` (then returns false).
    pub fn run_until(
        &mut self,
        end: Instant,
        mut done: impl FnMut(&AgentOutput, &Sim) -> bool,
    ) -> bool {
        while Instant::now() < end {
            // Apply every output the agent has produced so far.
            while let Some(out) = self.outputs.pop() {
                if let AgentOutput::CmdVel(t) = &out {
                    self.max_linear_seen = self.max_linear_seen.max(t.linear_x.abs());
                    self.max_angular_seen = self.max_angular_seen.max(t.angular_z.abs());
                    let _ = self.sim.command(*t);
                }
                if done(&out, &self.sim) {
                    return true;
                }
            }
            // Catch the simulation up with real time, publishing sensors on schedule.
            let (input, ranges) = (&mut self.input, &mut self.ranges);
            self.schedule
                .catch_up(&mut self.sim, self.started.elapsed(), |sim, _, due| {
                    if due.odom {
                        let stamp = input.now();
                        input.odom(odometry(sim, stamp));
                    }
                    if due.scan {
                        let stamp = input.now();
                        input.scan(scan(sim, ranges, stamp));
                    }
                });
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }
}

/// The simulator's odometry, stamped `stamp` (agent clock).
fn odometry(sim: &Sim, stamp: Duration) -> Odometry {
    let (pose, vel) = (sim.pose(), sim.velocity());
    Odometry {
        x: pose.x,
        y: pose.y,
        yaw: pose.yaw,
        linear_x: vel.linear_x,
        angular_z: vel.angular_z,
        stamp,
    }
}

/// The simulator's laser scan, cast into `ranges` (reused), stamped `stamp`.
fn scan(sim: &Sim, ranges: &mut Vec<f32>, stamp: Duration) -> LaserScan {
    sim.scan_into(ranges);
    let lidar = sim.lidar();
    LaserScan {
        angle_min: lidar.angle_min as f32,
        angle_increment: lidar.angle_increment() as f32,
        range_min: lidar.range_min as f32,
        range_max: lidar.range_max as f32,
        ranges: ranges.clone(),
        stamp,
    }
}
