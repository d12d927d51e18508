//! Small conversions between ROS 2 messages and bora's plain values: yaw <-> quaternion,
//! Twist <-> (linear_x, angular_z), time stamps, parameter values.

use std::time::Duration;

use r2r::builtin_interfaces::msg::Time;
use r2r::geometry_msgs::msg::{Quaternion, Twist, Vector3};
use r2r::ParameterValue;

use crate::params::ParamValue;

/// The quaternion of a rotation by `yaw` rad about +z (REP 103: counter-clockwise seen
/// from above).
pub fn yaw_to_quaternion(yaw: f64) -> Quaternion {
    let (s, c) = (0.5 * yaw).sin_cos();
    Quaternion {
        x: 0.0,
        y: 0.0,
        z: s,
        w: c,
    }
}

/// The yaw in rad, in (-pi, pi], of quaternion `q` (the rotation about +z of its
/// z-y-x Euler decomposition; exact for a pure yaw). `q` need not be normalised.
pub fn quaternion_to_yaw(q: &Quaternion) -> f64 {
    let siny = 2.0 * (q.w * q.z + q.x * q.y);
    let cosy = q.w * q.w + q.x * q.x - q.y * q.y - q.z * q.z;
    siny.atan2(cosy)
}

/// A Twist moving forward at `linear_x` m/s and turning at `angular_z` rad/s (the two
/// axes a differential-drive base has; the other four are zero).
pub fn twist_from(linear_x: f64, angular_z: f64) -> Twist {
    Twist {
        linear: Vector3 {
            x: linear_x,
            y: 0.0,
            z: 0.0,
        },
        angular: Vector3 {
            x: 0.0,
            y: 0.0,
            z: angular_z,
        },
    }
}

/// The (linear_x m/s, angular_z rad/s) of `twist`; the other four axes are ignored
/// (a differential-drive base cannot follow them).
pub fn twist_parts(twist: &Twist) -> (f64, f64) {
    (twist.linear.x, twist.angular.z)
}

/// A ROS time stamp from a time since the epoch (seconds saturate at `i32::MAX`).
pub fn time_from_duration(d: Duration) -> Time {
    Time {
        sec: i32::try_from(d.as_secs()).unwrap_or(i32::MAX),
        nanosec: d.subsec_nanos(),
    }
}

/// The time since the epoch of a ROS time stamp (negative seconds count as zero).
pub fn duration_from_time(t: &Time) -> Duration {
    Duration::new(u64::try_from(t.sec).unwrap_or(0), t.nanosec)
}

/// A ROS parameter value as bora's ROS-free parameter code takes it (`None` for an
/// unset parameter; arrays become [`ParamValue::Other`], which no bora parameter accepts).
pub fn param_value(v: &ParameterValue) -> Option<ParamValue> {
    match v {
        ParameterValue::NotSet => None,
        ParameterValue::Bool(b) => Some(ParamValue::Bool(*b)),
        ParameterValue::Integer(i) => Some(ParamValue::Int(*i)),
        ParameterValue::Double(d) => Some(ParamValue::Double(*d)),
        ParameterValue::String(s) => Some(ParamValue::Str(s.clone())),
        other => Some(ParamValue::Other(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, PI};

    #[test]
    fn yaw_survives_a_round_trip_through_a_quaternion() {
        for yaw in [0.0, 0.3, FRAC_PI_2, -FRAC_PI_2, 2.5, -3.0, PI] {
            let q = yaw_to_quaternion(yaw);
            assert!((q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w - 1.0).abs() < 1e-12);
            let back = quaternion_to_yaw(&q);
            // PI and -PI are the same heading.
            let diff = (back - yaw).rem_euclid(2.0 * PI);
            assert!(
                diff < 1e-12 || 2.0 * PI - diff < 1e-12,
                "yaw {yaw} -> {back}"
            );
        }
        // A quarter turn left is (0, 0, sin 45, cos 45).
        let q = yaw_to_quaternion(FRAC_PI_2);
        assert!((q.z - 0.5f64.sqrt()).abs() < 1e-12 && (q.w - 0.5f64.sqrt()).abs() < 1e-12);
        // An unnormalised quaternion gives the same yaw.
        let q2 = Quaternion {
            x: 0.0,
            y: 0.0,
            z: 3.0 * q.z,
            w: 3.0 * q.w,
        };
        assert!((quaternion_to_yaw(&q2) - FRAC_PI_2).abs() < 1e-12);
    }

    #[test]
    fn twist_carries_exactly_the_two_drive_axes() {
        let t = twist_from(0.25, -1.5);
        assert_eq!(twist_parts(&t), (0.25, -1.5));
        assert_eq!(
            (t.linear.y, t.linear.z, t.angular.x, t.angular.y),
            (0.0, 0.0, 0.0, 0.0)
        );
        let mut other = t.clone();
        other.linear.y = 9.0;
        assert_eq!(
            twist_parts(&other),
            (0.25, -1.5),
            "lateral axes are ignored"
        );
    }

    #[test]
    fn parameter_values_keep_their_type() {
        assert_eq!(param_value(&ParameterValue::NotSet), None);
        assert_eq!(
            param_value(&ParameterValue::Integer(3)),
            Some(ParamValue::Int(3))
        );
        assert_eq!(
            param_value(&ParameterValue::Double(0.5)),
            Some(ParamValue::Double(0.5))
        );
        assert_eq!(
            param_value(&ParameterValue::String("a".into())),
            Some(ParamValue::Str("a".into()))
        );
        assert_eq!(
            param_value(&ParameterValue::Bool(true)),
            Some(ParamValue::Bool(true))
        );
        assert!(matches!(
            param_value(&ParameterValue::DoubleArray(vec![1.0])),
            Some(ParamValue::Other(_))
        ));
    }

    #[test]
    fn time_stamps_convert_both_ways() {
        let d = Duration::new(1_700_000_000, 123_456_789);
        let t = time_from_duration(d);
        assert_eq!((t.sec, t.nanosec), (1_700_000_000, 123_456_789));
        assert_eq!(duration_from_time(&t), d);
        assert_eq!(
            duration_from_time(&Time {
                sec: -5,
                nanosec: 7
            }),
            Duration::new(0, 7)
        );
    }
}
