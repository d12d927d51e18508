//! The agent's configuration: what the stages need, with units, checked once at start.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use bora_agent::{Limits, PerceptionConfig, PlannerConfig};

/// CPU pinning and real-time priority asked for one stage thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRt {
    /// Pin the thread to this CPU core (None: let the OS choose).
    pub core: Option<usize>,
    /// SCHED_FIFO priority 1..=99 (None: normal scheduling). Falls back, reported, when
    /// the OS refuses (no CAP_SYS_NICE).
    pub fifo_priority: Option<i32>,
}

/// Everything [`super::Agent::start`] needs besides the interpreter and the clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// Ranges every plan is validated against.
    pub limits: Limits,
    /// The planner: rate, speed and acceleration limits, stop distance, watchdog.
    pub planner: PlannerConfig,
    /// Perception: the obstacle cone.
    pub perception: PerceptionConfig,
    /// Commands waiting for the language stage; more are rejected (counted).
    pub command_queue_capacity: usize,
    /// Sensor messages waiting for perception, per topic; older ones are dropped.
    pub sensor_queue_capacity: usize,
    /// Outputs waiting for the publisher; older ones are dropped (counted).
    pub output_queue_capacity: usize,
    /// A stage silent for longer than this stops the robot (planner watchdog).
    pub stage_stall_after: Duration,
    /// Pinning and priority of the language stage.
    pub language_rt: StageRt,
    /// Pinning and priority of the perception stage.
    pub perception_rt: StageRt,
    /// Pinning and priority of the planning stage.
    pub planning_rt: StageRt,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            planner: PlannerConfig::default(),
            perception: PerceptionConfig::default(),
            command_queue_capacity: 8,
            sensor_queue_capacity: 8,
            output_queue_capacity: 4096,
            stage_stall_after: Duration::from_secs(2),
            language_rt: StageRt::default(),
            perception_rt: StageRt::default(),
            planning_rt: StageRt::default(),
        }
    }
}

impl AgentConfig {
    /// Checks every part once; the error names the field at fault.
    pub fn check(self) -> Result<Self> {
        let limits = self.limits.check()?;
        let planner = self.planner.check()?;
        let perception = self.perception.check()?;
        for (field, value) in [
            ("command_queue_capacity", self.command_queue_capacity),
            ("sensor_queue_capacity", self.sensor_queue_capacity),
            ("output_queue_capacity", self.output_queue_capacity),
        ] {
            if value == 0 {
                return Err(Error::InvalidConfig {
                    field,
                    value: value.to_string(),
                    reason: "must be at least 1",
                });
            }
        }
        if self.stage_stall_after < Duration::from_millis(10) {
            return Err(Error::InvalidConfig {
                field: "stage_stall_after",
                value: format!("{:?}", self.stage_stall_after),
                reason: "must be at least 10 ms",
            });
        }
        Ok(Self {
            limits,
            planner,
            perception,
            ..self
        })
    }
}
