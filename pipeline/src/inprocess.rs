//! The agent driving the simulated robot in-process, with no ROS: the calling thread
//! steps the simulator in real time, feeds odometry and scans to the agent, and applies
//! its velocity commands. Used by the pipeline's tests and by `bora profile`.

use std::time::{Duration, Instant};

use crate::agent::{AgentInput, AgentOutput, AgentOutputs};
use bora_agent::{LaserScan, Odometry};
use bora_sim::{Pose2D, Sim};

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
    rates: SimRates,
    ranges: Vec<f32>,
    started: Instant,
    sim_steps_done: u64,
    next_odom: Duration,
    next_scan: Duration,
    /// Largest |linear_x| seen on cmd_vel, m/s.
    pub max_linear_seen: f64,
    /// Largest |angular_z| seen on cmd_vel, rad/s.
    pub max_angular_seen: f64,
}

impl SimLoop {
    /// Wires `sim` to the agent; the simulated time starts now.
    pub fn new(sim: Sim, input: AgentInput, outputs: AgentOutputs, rates: SimRates) -> Self {
        Self {
            sim,
            input,
            outputs,
            rates,
            ranges: Vec::new(),
            started: Instant::now(),
            sim_steps_done: 0,
            next_odom: Duration::ZERO,
            next_scan: Duration::ZERO,
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
        let step = self.sim.drive().config().step;
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
            let due = self.started.elapsed();
            while step * u32::try_from(self.sim_steps_done + 1).unwrap_or(u32::MAX) <= due {
                let _ = self.sim.step();
                self.sim_steps_done += 1;
                let t = self.sim.time();
                if t >= self.next_odom {
                    self.next_odom += self.rates.odom_period;
                    let odom = self.odometry();
                    self.input.odom(odom);
                }
                if t >= self.next_scan {
                    self.next_scan += self.rates.scan_period;
                    let scan = self.scan();
                    self.input.scan(scan);
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    fn odometry(&self) -> Odometry {
        let (pose, vel) = (self.sim.pose(), self.sim.velocity());
        Odometry {
            x: pose.x,
            y: pose.y,
            yaw: pose.yaw,
            linear_x: vel.linear_x,
            angular_z: vel.angular_z,
            stamp: self.input.now(),
        }
    }

    fn scan(&mut self) -> LaserScan {
        self.sim.scan_into(&mut self.ranges);
        let lidar = self.sim.lidar();
        LaserScan {
            angle_min: lidar.angle_min as f32,
            angle_increment: lidar.angle_increment() as f32,
            range_min: lidar.range_min as f32,
            range_max: lidar.range_max as f32,
            ranges: self.ranges.clone(),
            stamp: self.input.now(),
        }
    }
}
