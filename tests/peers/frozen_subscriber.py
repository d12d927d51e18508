"""rclpy peer for bora's end-to-end tests: a subscriber that the test freezes (SIGSTOP),
standing for a stuck rviz, logger or bridge on the robot.

It subscribes to every output of the agent, each with a reliable subscription (the
default QoS of ROS 2 tools) and, for cmd_vel, a best-effort one too; prints "ready" once
the agent's cmd_vel publisher is matched, then spins until it is stopped or killed. Frozen,
it reads nothing and acknowledges nothing.
"""
import sys
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import String


def main():
    rclpy.init()
    node = rclpy.create_node("bora_frozen_subscriber")
    reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    best_effort = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
    node.create_subscription(Twist, "cmd_vel", lambda m: None, reliable)
    node.create_subscription(Twist, "cmd_vel", lambda m: None, best_effort)
    for topic in ("agent/plan", "agent/text", "agent/say", "agent/events"):
        node.create_subscription(String, topic, lambda m: None, reliable)
    node.create_subscription(DiagnosticArray, "diagnostics", lambda m: None, reliable)
    deadline = time.monotonic() + 60.0
    while node.count_publishers("cmd_vel") == 0:
        if time.monotonic() > deadline:
            print("no cmd_vel publisher within 60 s", file=sys.stderr, flush=True)
            return 1
        rclpy.spin_once(node, timeout_sec=0.1)
    print("ready", flush=True)
    while True:
        rclpy.spin_once(node, timeout_sec=0.1)


if __name__ == "__main__":
    sys.exit(main())
