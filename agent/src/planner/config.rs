//! The planner's settings, with units in the field names, checked once.

use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};

/// Planner settings, units in the names. Check once with [`PlannerConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerConfig {
    /// Tick rate in Hz (the rate the caller runs `step` at; sets the nominal time step).
    pub rate_hz: f64,
    /// Largest |forward speed| in m/s.
    pub max_linear_speed_mps: f64,
    /// Largest |yaw rate| in rad/s.
    pub max_angular_speed_radps: f64,
    /// Largest change of forward speed in m/s².
    pub max_linear_accel_mps2: f64,
    /// Largest change of yaw rate in rad/s².
    pub max_angular_accel_radps2: f64,
    /// Creep speed in m/s used in the last centimetres before a target (below the max).
    pub min_linear_speed_mps: f64,
    /// Creep yaw rate in rad/s used in the last degrees before a target (below the max).
    pub min_angular_speed_radps: f64,
    /// Band around a move's target, in m: an overshoot within it is accepted (beyond it
    /// the planner drives back), and a robot stalled inside it counts as arrived.
    pub distance_tolerance_m: f64,
    /// Band around a turn's target, in degrees, with the same meaning.
    pub angle_tolerance_deg: f64,
    /// Moving towards an obstacle closer than this, in m, stops the plan.
    pub stop_distance_m: f64,
    /// Odometry older than this, in s, trips the watchdog.
    pub max_odom_age_s: f64,
    /// A scan older than this, in s, stops moves (not turns); None disables the check
    /// (a robot without a laser).
    pub max_scan_age_s: Option<f64>,
    /// How long, in s, a move whose scan is missing or stale when it starts waits for a
    /// fresh one (event `waiting_for_scan`, zero velocity) before the watchdog refuses it:
    /// after a sensor or simulator restart the first move then runs once the scan is
    /// back. 0 refuses at once. A scan going stale during a move stops it at once.
    pub scan_wait_s: f64,
    /// A move or turn that takes longer than this factor times its ideal duration (plus
    /// the margin) is abandoned (a stuck wheel, a robot held back).
    pub step_timeout_factor: f64,
    /// Margin added to every step timeout, in s.
    pub step_timeout_margin_s: f64,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            rate_hz: 50.0,
            max_linear_speed_mps: 0.5,
            max_angular_speed_radps: 1.0,
            max_linear_accel_mps2: 0.5,
            max_angular_accel_radps2: 2.0,
            min_linear_speed_mps: 0.02,
            min_angular_speed_radps: 0.05,
            distance_tolerance_m: 0.01,
            angle_tolerance_deg: 1.0,
            stop_distance_m: 0.3,
            max_odom_age_s: 0.2,
            max_scan_age_s: Some(0.5),
            scan_wait_s: 2.0,
            step_timeout_factor: 3.0,
            step_timeout_margin_s: 2.0,
        }
    }
}

fn invalid(field: &'static str, value: f64, reason: &'static str) -> AgentError {
    AgentError::InvalidConfig {
        config: "PlannerConfig",
        field,
        value: value.to_string(),
        reason,
    }
}

impl PlannerConfig {
    /// Checks every field once: finite, positive, creep speeds below the maxima.
    pub fn check(self) -> Result<Self> {
        let positive = [
            ("rate_hz", self.rate_hz),
            ("max_linear_speed_mps", self.max_linear_speed_mps),
            ("max_angular_speed_radps", self.max_angular_speed_radps),
            ("max_linear_accel_mps2", self.max_linear_accel_mps2),
            ("max_angular_accel_radps2", self.max_angular_accel_radps2),
            ("min_linear_speed_mps", self.min_linear_speed_mps),
            ("min_angular_speed_radps", self.min_angular_speed_radps),
            ("distance_tolerance_m", self.distance_tolerance_m),
            ("angle_tolerance_deg", self.angle_tolerance_deg),
            ("max_odom_age_s", self.max_odom_age_s),
            ("step_timeout_factor", self.step_timeout_factor),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(invalid(
                    field,
                    value,
                    "must be a finite number greater than 0",
                ));
            }
        }
        for (field, value) in [
            ("stop_distance_m", self.stop_distance_m),
            ("step_timeout_margin_s", self.step_timeout_margin_s),
            ("scan_wait_s", self.scan_wait_s),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(field, value, "must be a finite number, 0 or more"));
            }
        }
        if let Some(age) = self.max_scan_age_s {
            if !(age.is_finite() && age > 0.0) {
                return Err(invalid(
                    "max_scan_age_s",
                    age,
                    "must be a finite number greater than 0 (or absent to disable)",
                ));
            }
        }
        if self.min_linear_speed_mps >= self.max_linear_speed_mps {
            return Err(invalid(
                "min_linear_speed_mps",
                self.min_linear_speed_mps,
                "must be below max_linear_speed_mps",
            ));
        }
        if self.min_angular_speed_radps >= self.max_angular_speed_radps {
            return Err(invalid(
                "min_angular_speed_radps",
                self.min_angular_speed_radps,
                "must be below max_angular_speed_radps",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_check_names_the_field() {
        let cfg = PlannerConfig {
            max_linear_accel_mps2: -1.0,
            ..PlannerConfig::default()
        };
        assert!(matches!(
            cfg.check(),
            Err(AgentError::InvalidConfig {
                field: "max_linear_accel_mps2",
                ..
            })
        ));
        let cfg = PlannerConfig {
            min_linear_speed_mps: 0.6,
            ..PlannerConfig::default()
        };
        assert!(matches!(
            cfg.check(),
            Err(AgentError::InvalidConfig {
                field: "min_linear_speed_mps",
                ..
            })
        ));
        let cfg = PlannerConfig {
            max_scan_age_s: Some(f64::INFINITY),
            ..PlannerConfig::default()
        };
        assert!(cfg.check().is_err());
        assert!(PlannerConfig::default().check().is_ok());
    }
}
