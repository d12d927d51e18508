//! `bora sim`'s settings: one table that declares each ROS parameter (name, type,
//! default, unit, meaning), the settings the command line gives, and the check that
//! turns both into what the simulator runs with. ROS-free, so it is unit-tested without
//! a ROS installation; the node converts r2r's parameter values into [`ParamValue`].
//!
//! Precedence: a command-line flag, then the ROS parameter of the same name
//! (`--ros-args -p name:=value`, `--params-file`), then the default in [`SIM_PARAMS`].
//! A value of the wrong type or out of range stops the node at start, named.

use std::path::PathBuf;
use std::time::Duration;

use bora_sim::{DriveConfig, LidarConfig, World};

use crate::params::{Kind, ParamError, ParamSpec, ParamValue};

const fn p(name: &'static str, kind: Kind, default: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        default,
        doc,
    }
}

/// Every parameter `bora sim` reads (also the keys of its params file), with defaults.
pub const SIM_PARAMS: &[ParamSpec] = &[
    p("world", Kind::String, "", "world YAML file (walls, boxes, start pose); \"\" = built-in 10 m x 10 m room, robot at the centre facing +x"),
    p("rate", Kind::Double, "100.0", "simulation steps per second, Hz"),
    p("odom_rate", Kind::Double, "50.0", "odometry messages per second, Hz (at most rate)"),
    p("scan_rate", Kind::Double, "10.0", "laser scans per second, Hz (at most rate)"),
    p("cmd_timeout", Kind::Double, "0.5", "stop the robot when no cmd_vel came for this long, s"),
    p("max_linear_x", Kind::Double, "0.0", "clamp |linear.x| to this, m/s; 0 = no clamp"),
    p("max_angular_z", Kind::Double, "0.0", "clamp |angular.z| to this, rad/s; 0 = no clamp"),
    p("footprint_radius", Kind::Double, "0.2", "robot footprint radius, m; walls and boxes stop it; 0 = it passes through"),
    p("beams", Kind::Int, "360", "laser beams per scan"),
    p("angle_min", Kind::Double, "-3.141592653589793", "angle of the first beam, rad (0 = ahead, positive = left)"),
    p("angle_max", Kind::Double, "3.12413936106985", "angle of the last beam, rad (default: pi - 1 degree)"),
    p("range_min", Kind::Double, "0.05", "shortest range reported, m; closer hits read -inf (REP 117)"),
    p("range_max", Kind::Double, "10.0", "longest range reported, m; nothing within it reads +inf"),
    p("odom_frame", Kind::String, "odom", "frame of the odometry pose"),
    p("base_frame", Kind::String, "base_link", "frame of the robot: odometry child frame and scan frame"),
];

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

fn shown(value: &ParamValue) -> String {
    match value {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Double(d) => d.to_string(),
        ParamValue::Str(s) => format!("{s:?}"),
        ParamValue::Other(s) => s.clone(),
    }
}

fn err(name: &str, value: String, reason: impl Into<String>) -> ParamError {
    ParamError {
        name: name.to_owned(),
        value,
        reason: reason.into(),
    }
}

fn number(name: &str, v: &ParamValue) -> Result<f64, ParamError> {
    match v {
        ParamValue::Double(d) => Ok(*d),
        ParamValue::Int(i) => Ok(*i as f64),
        _ => Err(err(name, shown(v), "must be a number")),
    }
}

fn text(name: &str, v: &ParamValue) -> Result<String, ParamError> {
    match v {
        ParamValue::Str(s) => Ok(s.clone()),
        _ => Err(err(name, shown(v), "must be a string")),
    }
}

fn fill<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// `value` if it is finite and above zero.
fn positive(name: &str, value: f64, unit: &str) -> Result<f64, ParamError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(err(
            name,
            value.to_string(),
            format!("must be a finite number above zero, {unit}"),
        ))
    }
}

/// A clamp setting: 0 = none, otherwise a finite positive limit.
fn clamp_limit(name: &str, value: Option<f64>) -> Result<Option<f64>, ParamError> {
    match value {
        None => Ok(None),
        Some(0.0) => Ok(None),
        Some(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        Some(v) => Err(err(
            name,
            v.to_string(),
            "must be a positive limit, or 0 for no clamp",
        )),
    }
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
        other => err("(simulation)", String::new(), other.to_string()),
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
            match name {
                "world" => fill(&mut self.world, PathBuf::from(text(name, v)?)),
                "rate" => fill(&mut self.rate, number(name, v)?),
                "odom_rate" => fill(&mut self.odom_rate, number(name, v)?),
                "scan_rate" => fill(&mut self.scan_rate, number(name, v)?),
                "cmd_timeout" => fill(&mut self.cmd_timeout, number(name, v)?),
                "max_linear_x" => fill(&mut self.max_linear_x, number(name, v)?),
                "max_angular_z" => fill(&mut self.max_angular_z, number(name, v)?),
                "footprint_radius" => fill(&mut self.footprint_radius, number(name, v)?),
                "beams" => match v {
                    ParamValue::Int(i) => fill(&mut self.beams, *i),
                    _ => return Err(err(name, shown(v), "must be an integer")),
                },
                "angle_min" => fill(&mut self.angle_min, number(name, v)?),
                "angle_max" => fill(&mut self.angle_max, number(name, v)?),
                "range_min" => fill(&mut self.range_min, number(name, v)?),
                "range_max" => fill(&mut self.range_max, number(name, v)?),
                "odom_frame" => fill(&mut self.odom_frame, text(name, v)?),
                "base_frame" => fill(&mut self.base_frame, text(name, v)?),
                other => unknown.push(other.to_owned()),
            }
        }
        Ok(unknown)
    }

    /// Applies the defaults and checks every value (the world file is loaded later, by
    /// [`SimPlan::load_world`]).
    pub fn resolve(&self) -> Result<SimPlan, ParamError> {
        let rate = positive("rate", self.rate.unwrap_or(100.0), "Hz")?;
        if rate > 10_000.0 {
            return Err(err(
                "rate",
                rate.to_string(),
                "is too fast for a wall-clock simulation: use at most 10000 Hz",
            ));
        }
        let odom_rate = positive("odom_rate", self.odom_rate.unwrap_or(rate.min(50.0)), "Hz")?;
        let scan_rate = positive("scan_rate", self.scan_rate.unwrap_or(rate.min(10.0)), "Hz")?;
        for (name, r) in [("odom_rate", odom_rate), ("scan_rate", scan_rate)] {
            if r > rate {
                return Err(err(
                    name,
                    r.to_string(),
                    format!(
                        "is above the simulation rate {rate} Hz: raise `rate` or lower `{name}`"
                    ),
                ));
            }
        }
        let cmd_timeout = positive("cmd_timeout", self.cmd_timeout.unwrap_or(0.5), "s")?;
        // Found by fuzz/fuzz_targets/params.rs: a huge timeout panicked in `Duration`.
        if cmd_timeout > 3600.0 {
            return Err(err(
                "cmd_timeout",
                cmd_timeout.to_string(),
                "must be at most 3600 s",
            ));
        }
        let footprint = self.footprint_radius.unwrap_or(0.2);
        if !(footprint.is_finite() && footprint >= 0.0) {
            return Err(err(
                "footprint_radius",
                footprint.to_string(),
                "must be a finite length >= 0, m",
            ));
        }
        let lidar_default = LidarConfig::default();
        let beams = match self.beams {
            None => lidar_default.beams,
            Some(b) => usize::try_from(b)
                .ok()
                .filter(|&b| (1..=100_000).contains(&b))
                .ok_or_else(|| err("beams", b.to_string(), "must be 1 to 100000 beams"))?,
        };
        let drive = DriveConfig {
            step: Duration::from_secs_f64(1.0 / rate),
            cmd_timeout: Duration::from_secs_f64(cmd_timeout),
            max_linear_x: clamp_limit("max_linear_x", self.max_linear_x)?,
            max_angular_z: clamp_limit("max_angular_z", self.max_angular_z)?,
            footprint_radius: (footprint > 0.0).then_some(footprint),
        };
        drive.validate().map_err(from_sim)?;
        let lidar = LidarConfig {
            angle_min: self.angle_min.unwrap_or(lidar_default.angle_min),
            angle_max: self.angle_max.unwrap_or(lidar_default.angle_max),
            beams,
            range_min: self.range_min.unwrap_or(lidar_default.range_min),
            range_max: self.range_max.unwrap_or(lidar_default.range_max),
        };
        lidar.validate().map_err(from_sim)?;
        let frame =
            |name: &str, value: &Option<String>, default: &str| -> Result<String, ParamError> {
                let v = value.clone().unwrap_or_else(|| default.to_owned());
                if v.is_empty() {
                    return Err(err(
                        name,
                        "\"\"".into(),
                        format!("must name a frame, such as `{default}`"),
                    ));
                }
                Ok(v)
            };
        Ok(SimPlan {
            world_file: self.world.clone().filter(|p| !p.as_os_str().is_empty()),
            drive,
            lidar,
            rate,
            odom_rate,
            scan_rate,
            odom_frame: frame("odom_frame", &self.odom_frame, "odom")?,
            base_frame: frame("base_frame", &self.base_frame, "base_link")?,
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
            let spec = SIM_PARAMS
                .iter()
                .find(|p| p.name == name)
                .map_or("", |p| p.default);
            spec.parse().unwrap_or(f64::NAN)
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
            .iter()
            .map(|p| {
                let v = match p.kind {
                    Kind::Int => ParamValue::Int(p.default.parse().unwrap_or(1)),
                    Kind::Double => ParamValue::Double(p.default.parse().unwrap_or(1.0)),
                    Kind::String => ParamValue::Str(p.default.to_owned()),
                    Kind::Bool => ParamValue::Bool(p.default == "true"),
                };
                (p.name, v)
            })
            .collect();
        let mut s = SimSettings::default();
        let unknown = s.fill_from_params(values.iter().map(|(n, v)| (*n, v)))?;
        assert!(unknown.is_empty(), "declared but not read: {unknown:?}");
        assert_eq!(s.resolve()?, SimSettings::default().resolve()?);
        Ok(())
    }
}
