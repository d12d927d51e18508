//! `bora sim`'s settings: one table, [`SIM_PARAMS`], that declares each ROS parameter
//! once (name = the [`SimSettings`] field, type, unit, default, allowed range, meaning),
//! the settings the command line gives, and the check that turns both into what the
//! simulator runs with. Defaults the simulator core also has (`DriveConfig`,
//! `LidarConfig`) are read from its `Default`. ROS-free, so it is unit-tested without a
//! ROS installation; the node converts r2r's parameter values into [`ParamValue`].
//!
//! Precedence: a command-line flag, then the ROS parameter of the same name
//! (`--ros-args -p name:=value`, `--params-file`), then the default in [`SIM_PARAMS`].
//! A value of the wrong type or out of range stops the node at start, named.

use std::path::PathBuf;
use std::time::Duration;

use bora_sim::{DriveConfig, LidarConfig, World};

use crate::param_table::{Param, ParamTable, Range};
use crate::params::{Kind, ParamError, ParamValue};

/// A setting's Rust type, as a parameter value and back.
trait Setting: Sized {
    /// The setting as a parameter value.
    fn value(&self) -> ParamValue;
    /// The setting from a value of the declared kind.
    fn from_value(v: &ParamValue) -> Self;
}

impl Setting for f64 {
    fn value(&self) -> ParamValue {
        ParamValue::Double(*self)
    }
    fn from_value(v: &ParamValue) -> Self {
        v.as_f64()
    }
}

impl Setting for i64 {
    fn value(&self) -> ParamValue {
        ParamValue::Int(*self)
    }
    fn from_value(v: &ParamValue) -> Self {
        v.as_i64()
    }
}

impl Setting for String {
    fn value(&self) -> ParamValue {
        ParamValue::Str(self.clone())
    }
    fn from_value(v: &ParamValue) -> Self {
        v.as_str().to_owned()
    }
}

impl Setting for PathBuf {
    fn value(&self) -> ParamValue {
        ParamValue::Str(self.to_string_lossy().into_owned())
    }
    fn from_value(v: &ParamValue) -> Self {
        PathBuf::from(v.as_str())
    }
}

/// Declares one parameter after the [`SimSettings`] field of the same name: kind, unit,
/// default (of the field's type), range, doc. A value fills the field only when unset.
macro_rules! p {
    ($field:ident, $kind:ident, $unit:literal, $default:expr, $range:expr, $doc:literal) => {
        Param {
            name: stringify!($field),
            kind: Kind::$kind,
            unit: $unit,
            default: || Setting::value(&$default),
            range: $range,
            doc: $doc,
            apply: |s: &mut SimSettings, v: &ParamValue| {
                if s.$field.is_none() {
                    s.$field = Some(Setting::from_value(v));
                }
            },
            given: |s: &SimSettings| s.$field.as_ref().map(Setting::value),
        }
    };
}

/// Any positive finite number.
const POSITIVE: Range = Range::Positive(f64::INFINITY);
/// A velocity clamp: 0 = none.
const CLAMP: Range = Range::OffOr {
    off: 0.0,
    means: "no clamp",
    on: &POSITIVE,
};
/// A frame name.
const FRAME: Range = Range::Text {
    rule: "a frame name (not empty)",
    accepts: |f| !f.is_empty(),
};

/// Every parameter `bora sim` reads (also the keys of its params file), with defaults.
pub static SIM_PARAMS: ParamTable<SimSettings> = ParamTable {
    command: "sim",
    params: &[
        p!(world, String, "", PathBuf::new(), Range::Any, "world YAML file (walls, boxes, start pose); \"\" = built-in 10 m x 10 m room, robot at the centre facing +x"),
        p!(rate, Double, "Hz", 1.0 / DriveConfig::default().step.as_secs_f64(), Range::Positive(10_000.0), "simulation steps per second, Hz"),
        p!(odom_rate, Double, "Hz", 50.0, POSITIVE, "odometry messages per second, Hz (at most rate)"),
        p!(scan_rate, Double, "Hz", 10.0, POSITIVE, "laser scans per second, Hz (at most rate)"),
        p!(cmd_timeout, Double, "s", DriveConfig::default().cmd_timeout.as_secs_f64(), Range::Positive(3600.0), "stop the robot when no cmd_vel came for this long, s"),
        p!(max_linear_x, Double, "m/s", DriveConfig::default().max_linear_x.unwrap_or(0.0), CLAMP, "clamp |linear.x| to this, m/s; 0 = no clamp"),
        p!(max_angular_z, Double, "rad/s", DriveConfig::default().max_angular_z.unwrap_or(0.0), CLAMP, "clamp |angular.z| to this, rad/s; 0 = no clamp"),
        p!(footprint_radius, Double, "m", DriveConfig::default().footprint_radius.unwrap_or(0.0),
            Range::OffOr { off: 0.0, means: "it passes through", on: &POSITIVE },
            "robot footprint radius, m; walls and boxes stop it; 0 = it passes through"),
        p!(beams, Int, "beams", i64::try_from(LidarConfig::default().beams).unwrap_or(i64::MAX), Range::Between(1.0, 100_000.0), "laser beams per scan"),
        p!(angle_min, Double, "rad", LidarConfig::default().angle_min, Range::Any, "angle of the first beam, rad (0 = ahead, positive = left)"),
        p!(angle_max, Double, "rad", LidarConfig::default().angle_max, Range::Any, "angle of the last beam, rad (default: pi - 1 degree)"),
        p!(range_min, Double, "m", LidarConfig::default().range_min, Range::Any, "shortest range reported, m; closer hits read -inf (REP 117)"),
        p!(range_max, Double, "m", LidarConfig::default().range_max, Range::Any, "longest range reported, m; nothing within it reads +inf"),
        p!(odom_frame, String, "", String::from("odom"), FRAME, "frame of the odometry pose"),
        p!(base_frame, String, "", String::from("base_link"), FRAME, "frame of the robot: odometry child frame and scan frame"),
    ],
};

/// Settings of `bora sim`, each optional: what is unset comes from the ROS parameter of
/// the same name, then from the default in [`SIM_PARAMS`]. Units as in the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimSettings {
    /// World YAML file; empty: the built-in room.
    pub world: Option<PathBuf>,
    /// Simulation rate, Hz.
    pub rate: Option<f64>,
    /// Odometry rate, Hz.
    pub odom_rate: Option<f64>,
    /// Scan rate, Hz.
    pub scan_rate: Option<f64>,
    /// Command timeout, s.
    pub cmd_timeout: Option<f64>,
    /// Linear speed clamp, m/s (0 = none).
    pub max_linear_x: Option<f64>,
    /// Angular speed clamp, rad/s (0 = none).
    pub max_angular_z: Option<f64>,
    /// Footprint radius, m (0 = no collisions).
    pub footprint_radius: Option<f64>,
    /// Laser beams per scan.
    pub beams: Option<i64>,
    /// First beam angle, rad.
    pub angle_min: Option<f64>,
    /// Last beam angle, rad.
    pub angle_max: Option<f64>,
    /// Shortest range, m.
    pub range_min: Option<f64>,
    /// Longest range, m.
    pub range_max: Option<f64>,
    /// Odometry frame.
    pub odom_frame: Option<String>,
    /// Robot frame.
    pub base_frame: Option<String>,
}

/// Everything `bora sim` runs with, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SimPlan {
    /// The world file; None: the built-in room.
    pub world_file: Option<PathBuf>,
    /// Robot settings (`step` = 1 / rate).
    pub drive: DriveConfig,
    /// Scanner settings.
    pub lidar: LidarConfig,
    /// Simulation rate, Hz.
    pub rate: f64,
    /// Odometry rate, Hz.
    pub odom_rate: f64,
    /// Scan rate, Hz.
    pub scan_rate: f64,
    /// Frame of the odometry pose.
    pub odom_frame: String,
    /// Frame of the robot.
    pub base_frame: String,
}

impl SimPlan {
    /// Loads the world (the file, or the built-in room) and says which it is.
    pub fn load_world(&self) -> bora_sim::Result<(World, String)> {
        match &self.world_file {
            Some(path) => Ok((World::from_yaml_file(path)?, path.display().to_string())),
            None => Ok((
                World::default_room(),
                "built-in 10 m x 10 m room".to_owned(),
            )),
        }
    }
}

fn err(name: &str, value: f64, reason: impl Into<String>) -> ParamError {
    ParamError::new(name, &ParamValue::Double(value), reason)
}

/// A clamp or footprint setting (checked): 0 = none.
fn off_if_zero(value: f64) -> Option<f64> {
    (value > 0.0).then_some(value)
}

/// A sim core error about a setting, as a parameter error.
fn from_sim(e: bora_sim::Error) -> ParamError {
    match e {
        bora_sim::Error::SimParam {
            param,
            value,
            reason,
        } => ParamError {
            name: param,
            value,
            reason,
        },
        other => ParamError {
            name: "(simulation)".into(),
            value: String::new(),
            reason: other.to_string(),
        },
    }
}

impl SimSettings {
    /// Fills every unset setting from the ROS parameters in `values` (name, value).
    /// Parameters not in [`SIM_PARAMS`] are returned (the node warns about them: a
    /// params file shared with other nodes may hold them); a known one of the wrong
    /// type is an error naming it.
    pub fn fill_from_params<'a>(
        &mut self,
        values: impl IntoIterator<Item = (&'a str, &'a ParamValue)>,
    ) -> Result<Vec<String>, ParamError> {
        let mut unknown = Vec::new();
        for (name, v) in values {
            match SIM_PARAMS.find(name) {
                Some(p) => (p.apply)(self, &SIM_PARAMS.typed(p, v)?),
                None => unknown.push(name.to_owned()),
            }
        }
        Ok(unknown)
    }

    /// Applies the defaults and checks every value (the world file is loaded later, by
    /// [`SimPlan::load_world`]).
    pub fn resolve(&self) -> Result<SimPlan, ParamError> {
        SIM_PARAMS.check_given(self)?;
        let mut s = self.clone();
        SIM_PARAMS.apply_defaults(&mut s);
        // Every setting is filled now; `unwrap_or_default` never takes its default.
        let rate = s.rate.unwrap_or_default();
        // Unset rates of the topics follow a slower simulation down.
        let odom_rate = self
            .odom_rate
            .unwrap_or(s.odom_rate.unwrap_or_default().min(rate));
        let scan_rate = self
            .scan_rate
            .unwrap_or(s.scan_rate.unwrap_or_default().min(rate));
        for (name, r) in [("odom_rate", odom_rate), ("scan_rate", scan_rate)] {
            if r > rate {
                let reason = format!(
                    "is above the simulation rate {rate} Hz: raise `rate` or lower `{name}`"
                );
                return Err(err(name, r, reason));
            }
        }
        let drive = DriveConfig {
            step: Duration::from_secs_f64(1.0 / rate),
            cmd_timeout: Duration::from_secs_f64(s.cmd_timeout.unwrap_or_default()),
            max_linear_x: off_if_zero(s.max_linear_x.unwrap_or_default()),
            max_angular_z: off_if_zero(s.max_angular_z.unwrap_or_default()),
            footprint_radius: off_if_zero(s.footprint_radius.unwrap_or_default()),
        };
        drive.validate().map_err(from_sim)?;
        let lidar = LidarConfig {
            angle_min: s.angle_min.unwrap_or_default(),
            angle_max: s.angle_max.unwrap_or_default(),
            beams: usize::try_from(s.beams.unwrap_or_default()).unwrap_or_default(),
            range_min: s.range_min.unwrap_or_default(),
            range_max: s.range_max.unwrap_or_default(),
        };
        lidar.validate().map_err(from_sim)?;
        Ok(SimPlan {
            world_file: s.world.filter(|p| !p.as_os_str().is_empty()),
            drive,
            lidar,
            rate,
            odom_rate,
            scan_rate,
            odom_frame: s.odom_frame.unwrap_or_default(),
            base_frame: s.base_frame.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(r: Result<SimPlan, ParamError>) -> String {
        match r {
            Err(e) => e.name,
            Ok(plan) => panic!("expected an error, got {plan:?}"),
        }
    }

    #[test]
    fn the_command_line_wins_over_parameters_which_win_over_defaults() -> Result<(), ParamError> {
        let mut s = SimSettings {
            rate: Some(200.0),
            ..SimSettings::default()
        };
        let given = [
            ("rate", ParamValue::Double(50.0)),
            ("scan_rate", ParamValue::Int(20)),
            ("beams", ParamValue::Int(90)),
            ("base_frame", ParamValue::Str("base_footprint".into())),
            ("model", ParamValue::Str("for the agent".into())),
        ];
        let unknown = s.fill_from_params(given.iter().map(|(n, v)| (*n, v)))?;
        assert_eq!(unknown, ["model"]);
        let plan = s.resolve()?;
        assert_eq!(plan.rate, 200.0);
        assert_eq!(plan.drive.step, Duration::from_millis(5));
        assert_eq!(plan.scan_rate, 20.0);
        assert_eq!(plan.odom_rate, 50.0);
        assert_eq!(plan.lidar.beams, 90);
        assert_eq!(plan.base_frame, "base_footprint");
        assert_eq!(plan.odom_frame, "odom");
        assert_eq!(plan.drive.cmd_timeout, Duration::from_millis(500));
        assert_eq!(plan.drive.footprint_radius, Some(0.2));
        assert_eq!(
            (plan.drive.max_linear_x, plan.drive.max_angular_z),
            (None, None)
        );
        assert_eq!(plan.world_file, None);
        Ok(())
    }

    #[test]
    fn the_defaults_match_the_declared_table() -> Result<(), ParamError> {
        let plan = SimSettings::default().resolve()?;
        let default = |name: &str| -> f64 {
            SIM_PARAMS
                .find(name)
                .map_or(f64::NAN, |p| (p.default)().as_f64())
        };
        assert_eq!(plan.rate, default("rate"));
        assert_eq!(plan.odom_rate, default("odom_rate"));
        assert_eq!(plan.scan_rate, default("scan_rate"));
        assert_eq!(plan.drive.cmd_timeout.as_secs_f64(), default("cmd_timeout"));
        assert_eq!(
            plan.drive.footprint_radius,
            Some(default("footprint_radius"))
        );
        assert_eq!(plan.lidar.beams as f64, default("beams"));
        assert!((plan.lidar.angle_min - default("angle_min")).abs() < 1e-12);
        assert!((plan.lidar.angle_max - default("angle_max")).abs() < 1e-12);
        assert_eq!(plan.lidar.range_min, default("range_min"));
        assert_eq!(plan.lidar.range_max, default("range_max"));
        Ok(())
    }

    #[test]
    fn the_defaults_the_core_has_are_the_core_s() -> Result<(), ParamError> {
        let plan = SimSettings::default().resolve()?;
        assert_eq!(plan.drive, DriveConfig::default());
        assert_eq!(plan.lidar, LidarConfig::default());
        Ok(())
    }

    #[test]
    fn wrong_types_and_values_are_rejected_by_name() {
        let mut s = SimSettings::default();
        let bad = ParamValue::Str("fast".into());
        let r = s.fill_from_params([("rate", &bad)]);
        assert_eq!(r.map_err(|e| e.name), Err("rate".to_owned()));
        let bad = ParamValue::Double(90.0);
        let r = s.fill_from_params([("beams", &bad)]);
        assert_eq!(r.map_err(|e| e.name), Err("beams".to_owned()));
        let bad = ParamValue::Int(3);
        let r = s.fill_from_params([("world", &bad)]);
        assert_eq!(r.map_err(|e| e.name), Err("world".to_owned()));

        let with = |f: fn(&mut SimSettings)| {
            let mut s = SimSettings::default();
            f(&mut s);
            s.resolve()
        };
        assert_eq!(name_of(with(|s| s.odom_rate = Some(500.0))), "odom_rate");
        assert_eq!(name_of(with(|s| s.cmd_timeout = Some(-1.0))), "cmd_timeout");
        // Found by fuzz/fuzz_targets/params.rs: panicked in `Duration::from_secs_f64`.
        assert_eq!(
            name_of(with(|s| s.cmd_timeout = Some(1e300))),
            "cmd_timeout"
        );
        assert_eq!(name_of(with(|s| s.beams = Some(0))), "beams");
        assert_eq!(
            name_of(with(|s| s.max_linear_x = Some(-0.5))),
            "max_linear_x"
        );
        assert_eq!(name_of(with(|s| s.range_max = Some(0.01))), "range_max");
        assert_eq!(
            name_of(with(|s| s.footprint_radius = Some(f64::NAN))),
            "footprint_radius"
        );
        assert_eq!(
            name_of(with(|s| s.base_frame = Some(String::new()))),
            "base_frame"
        );
    }

    #[test]
    fn zero_means_no_clamp_and_no_footprint() -> Result<(), ParamError> {
        let s = SimSettings {
            max_linear_x: Some(0.0),
            max_angular_z: Some(1.5),
            footprint_radius: Some(0.0),
            world: Some(PathBuf::new()),
            ..SimSettings::default()
        };
        let plan = s.resolve()?;
        assert_eq!(plan.drive.max_linear_x, None);
        assert_eq!(plan.drive.max_angular_z, Some(1.5));
        assert_eq!(plan.drive.footprint_radius, None);
        assert_eq!(plan.world_file, None, "an empty path is the built-in room");
        Ok(())
    }

    #[test]
    fn every_declared_parameter_is_read() -> Result<(), ParamError> {
        let values: Vec<(&str, ParamValue)> = SIM_PARAMS
            .params
            .iter()
            .map(|p| (p.name, (p.default)()))
            .collect();
        let mut s = SimSettings::default();
        let unknown = s.fill_from_params(values.iter().map(|(n, v)| (*n, v)))?;
        assert!(unknown.is_empty(), "declared but not read: {unknown:?}");
        assert_eq!(s.resolve()?, SimSettings::default().resolve()?);
        Ok(())
    }
}
