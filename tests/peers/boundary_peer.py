"""rclpy peer for the ROS 2 boundary test: a real, independent ROS 2 client.

Publishes std_msgs/String TEXT on /bora_test/voice until it sees a Twist on
/bora_test/cmd_vel, then prints that Twist's fields as one JSON line and exits.
Exits 2 if nothing arrives within --timeout seconds.
"""
import argparse
import json
import sys
import time

import rclpy
from geometry_msgs.msg import Twist
from std_msgs.msg import String


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()
    rclpy.init()
    node = rclpy.create_node("bora_boundary_peer")
    pub = node.create_publisher(String, "/bora_test/voice", 10)
    got = []
    node.create_subscription(Twist, "/bora_test/cmd_vel", got.append, 10)
    deadline = time.monotonic() + args.timeout
    while not got and time.monotonic() < deadline:
        pub.publish(String(data=args.text))
        rclpy.spin_once(node, timeout_sec=0.1)
    if not got:
        print("peer: no Twist received", file=sys.stderr)
        return 2
    t = got[0]
    print(json.dumps({
        "linear": [t.linear.x, t.linear.y, t.linear.z],
        "angular": [t.angular.x, t.angular.y, t.angular.z],
    }), flush=True)
    node.destroy_node()
    rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
