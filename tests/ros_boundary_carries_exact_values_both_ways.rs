//! The ROS 2 boundary works against a real, independent ROS 2 client: an rclpy peer
//! publishes std_msgs/String that r2r receives with the exact text, and a
//! geometry_msgs/Twist published through r2r reaches rclpy with the exact field values.

use std::time::{Duration, Instant};

use bora_nodes::ros::{drain, r2r};
use bora_tests::{isolate_ros, spawn_peer, wait_with_timeout};

#[test]
fn string_in_and_twist_out_cross_the_boundary_unchanged() -> anyhow::Result<()> {
    let domain = isolate_ros();
    // A nonce so a stray publisher in another run could never satisfy the test.
    let text = format!("move forward 1.25 m (run {domain}-{})", std::process::id());
    let peer = spawn_peer("boundary_peer.py", &["--text", &text, "--timeout", "60"])?;

    let ctx = r2r::Context::create()?;
    let mut node = r2r::Node::create(ctx, "bora_boundary_test", "")?;
    let mut voice = node
        .subscribe::<r2r::std_msgs::msg::String>("/bora_test/voice", r2r::QosProfile::default())?;
    let cmd_vel = node.create_publisher::<r2r::geometry_msgs::msg::Twist>(
        "/bora_test/cmd_vel",
        r2r::QosProfile::default(),
    )?;

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut received = None;
    while received.is_none() && Instant::now() < deadline {
        node.spin_once(Duration::from_millis(50));
        drain(&mut voice, |m| received = Some(m.data));
    }
    let received =
        received.ok_or_else(|| anyhow::anyhow!("no String from the rclpy peer within 60 s"))?;
    assert_eq!(received, text, "the String arrived altered");

    // Values that survive float64 exactly and are all distinct, so a swapped or
    // dropped field shows.
    let twist = r2r::geometry_msgs::msg::Twist {
        linear: r2r::geometry_msgs::msg::Vector3 {
            x: 0.25,
            y: -0.125,
            z: 0.0625,
        },
        angular: r2r::geometry_msgs::msg::Vector3 {
            x: -1.5,
            y: 2.75,
            z: 0.3125,
        },
    };
    // Keep publishing until the peer reports and exits (discovery may take a moment).
    let mut peer = Some(peer);
    let mut output = None;
    while Instant::now() < deadline {
        cmd_vel.publish(&twist)?;
        node.spin_once(Duration::from_millis(50));
        if let Some(child) = peer.as_mut() {
            if child.try_wait()?.is_some() {
                output = Some(wait_with_timeout(
                    peer.take().unwrap_or_else(|| unreachable!()),
                    Duration::from_secs(5),
                )?);
                break;
            }
        }
    }
    let output = match output {
        Some(o) => o,
        None => wait_with_timeout(
            peer.take().ok_or_else(|| anyhow::anyhow!("peer gone"))?,
            Duration::from_secs(1),
        )?,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "peer failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: serde_json::Value = serde_json::from_str(stdout.trim())?;
    assert_eq!(
        got["linear"],
        serde_json::json!([0.25, -0.125, 0.0625]),
        "Twist.linear altered"
    );
    assert_eq!(
        got["angular"],
        serde_json::json!([-1.5, 2.75, 0.3125]),
        "Twist.angular altered"
    );
    Ok(())
}
