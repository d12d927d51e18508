"""rclpy peer for bora's end-to-end tests: a real, independent ROS 2 client.

It speaks JSON lines: one request per line on stdin, one reply per line on stdout.
All times are this process's time.monotonic() in seconds, taken on receipt.

  {"op": "ready", "timeout": s}          wait until agent and sim are discovered both ways
  {"op": "say", "text": T}               publish T on voice_command -> {"t_pub"}
  {"op": "fault", "text": T}             publish T on agent/inject_fault -> {"t_pub"}
  {"op": "say_bytes", "hex": H}          publish the bytes H (hex; any bytes, invalid UTF-8
                                         included) as a serialized std_msgs/String -> {"t_pub"}
  {"op": "scans", "scans": [S...], "repeat": n, "period": s}   publish each LaserScan S
                                         ({angle_min, angle_increment, range_min, range_max,
                                         ranges}; "nan", "inf", "-inf" allowed as strings)
                                         n times, `period` s apart -> {"t_pub"} (first publish)
  {"op": "wait_plan", "text": T, "timeout": s, "since": t}   the agent/plan report for command T
                                         (received after t, default 0)
  {"op": "wait_event", "contains": S, "since": t, "timeout": s}  first agent/events line containing S
  {"op": "wait_still", "settle": s, "timeout": s}    until odom speed is ~0 for `settle` s
  {"op": "wait_clear_scans", "count": n, "clear": m, "since": t, "timeout": s}
                                         until n scans received after t have no range under m
                                         metres (the sim's own, after injected ones)
  {"op": "pose"}                         latest odom pose {x, y, yaw, vx, wz, t}
  {"op": "cmd_vel_log", "since": t}      [[t, linear.x, angular.z], ...] received after t
  {"op": "odom_log", "since": t}         [[t, x, y, yaw, vx, wz], ...] received after t
  {"op": "relay", "on": B}              republish odom on relay/odom while B (off at start);
                                         -> {"t_last"}: when the last one was relayed
  {"op": "lifecycle", "transition": L}   as `ros2 lifecycle set /bora_agent L`: looks the
                                         transition up in ~/get_available_transitions, then
                                         calls ~/change_state -> {"ok": success}
  {"op": "lifecycle_state"}              ~/get_state -> {"label"}
  {"op": "quit"}
"""
import json
import math
import sys
import threading
import time

import rclpy
import rclpy.executors
from geometry_msgs.msg import Twist
from lifecycle_msgs.srv import ChangeState, GetAvailableTransitions, GetState
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String


class Peer:
    def __init__(self):
        self.node = rclpy.create_node("bora_test_peer")
        self.voice = self.node.create_publisher(String, "voice_command", 10)
        self.fault = self.node.create_publisher(String, "agent/inject_fault", 10)
        self.scan = self.node.create_publisher(LaserScan, "scan", 10)
        self.relay = self.node.create_publisher(Odometry, "relay/odom", 10)
        self.relaying = False
        self.t_relayed = 0.0
        self.plans = []
        self.events = []
        self.cmd_vel = []
        self.odom = []
        self.scans = []
        self.node.create_subscription(String, "agent/plan", self.on_plan, 50)
        self.node.create_subscription(String, "agent/events", self.on_event, 100)
        self.node.create_subscription(Twist, "cmd_vel", self.on_cmd_vel, 100)
        self.node.create_subscription(Odometry, "odom", self.on_odom, 100)
        # Best effort, as the sim publishes scans (a reliable reader would match only us).
        self.node.create_subscription(LaserScan, "scan", self.on_scan, qos_profile_sensor_data)

    def on_plan(self, m):
        self.plans.append((time.monotonic(), m.data))

    def on_event(self, m):
        self.events.append((time.monotonic(), m.data))

    def on_cmd_vel(self, m):
        self.cmd_vel.append([time.monotonic(), m.linear.x, m.angular.z])

    def on_scan(self, m):
        # Nearest range; a scan with no number in it counts as blocked, never as clear.
        numbers = [r for r in m.ranges if not math.isnan(r)]
        self.scans.append((time.monotonic(), min(numbers, default=-math.inf)))

    def on_odom(self, m):
        if self.relaying:
            self.relay.publish(m)
            self.t_relayed = time.monotonic()
        q = m.pose.pose.orientation
        yaw = 2.0 * math.atan2(q.z, q.w)
        self.odom.append([time.monotonic(), m.pose.pose.position.x, m.pose.pose.position.y, yaw,
                          m.twist.twist.linear.x, m.twist.twist.angular.z])

    def call(self, srv_type, name, request, timeout):
        """One service call (the executor thread delivers the answer); None on timeout."""
        client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                return None
            future = client.call_async(request)
            return self.spin_until(lambda: future.result() if future.done() else None, timeout)
        finally:
            self.node.destroy_client(client)

    def lifecycle(self, req, timeout):
        node = "/bora_agent"
        if req["op"] == "lifecycle_state":
            r = self.call(GetState, node + "/get_state", GetState.Request(), timeout)
            return {"ok": r is not None, "label": r.current_state.label if r else None}
        listed = self.call(GetAvailableTransitions, node + "/get_available_transitions",
                           GetAvailableTransitions.Request(), timeout)
        if listed is None:
            return {"ok": False, "error": "no answer from get_available_transitions"}
        found = [d.transition for d in listed.available_transitions if d.transition.label == req["transition"]]
        if not found:
            return {"ok": False, "error": "not available: " + req["transition"]}
        r = self.call(ChangeState, node + "/change_state", ChangeState.Request(transition=found[0]), timeout)
        return {"ok": bool(r and r.success)}

    def spin_until(self, cond, timeout):
        """Polls cond() while the executor thread receives messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = cond()
            if v is not None:
                return v
            time.sleep(0.005)
        return None

    def handle(self, req):
        op = req["op"]
        timeout = float(req.get("timeout", 30.0))
        if op == "ready":
            deadline = time.monotonic() + timeout
            ok = self.spin_until(lambda: True if (self.voice.get_subscription_count() > 0
                                                  and self.fault.get_subscription_count() > 0
                                                  and len(self.odom) > 5) else None, timeout)
            # Our side seeing the agent is not the agent seeing us: probe with an empty
            # command (rejected without motion) until its report comes back.
            while ok and time.monotonic() < deadline:
                self.voice.publish(String(data=""))
                if self.spin_until(lambda: True if any(json.loads(d).get("command") == "" for _, d in list(self.plans)) else None, 0.5):
                    return {"ok": True}
            return {"ok": False}
        if op in ("say", "fault"):
            pub = self.voice if op == "say" else self.fault
            t = time.monotonic()
            pub.publish(String(data=req["text"]))
            return {"ok": True, "t_pub": t}
        if op == "say_bytes":
            # rclpy only takes str for a String's data, and encodes it as UTF-8; a raw
            # serialized message carries any bytes. Serialize a same-length placeholder and
            # put the bytes in its place (CDR: header, u32 length, bytes, NUL).
            raw = bytes.fromhex(req["hex"])
            placeholder = b"\x01" * len(raw)
            wire = serialize_message(String(data=placeholder.decode()))
            at = wire.index(placeholder, 8)
            wire = wire[:at] + raw + wire[at + len(raw):]
            t = time.monotonic()
            self.voice.publish(wire)
            return {"ok": True, "t_pub": t}
        if op == "relay":
            self.relaying = bool(req["on"])
            return {"ok": True, "t_last": self.t_relayed}
        if op == "scans":
            t0 = None
            for _ in range(int(req.get("repeat", 1))):
                for spec in req["scans"]:
                    m = LaserScan()
                    m.header.frame_id = "base_link"
                    m.angle_min = float(spec.get("angle_min", -math.pi))
                    m.angle_increment = float(spec.get("angle_increment", math.radians(1.0)))
                    m.angle_max = m.angle_min + m.angle_increment * max(0, len(spec["ranges"]) - 1)
                    m.range_min = float(spec.get("range_min", 0.1))
                    m.range_max = float(spec.get("range_max", 10.0))
                    m.ranges = [float(r) for r in spec["ranges"]]
                    if t0 is None:
                        t0 = time.monotonic()
                    self.scan.publish(m)
                    time.sleep(float(req.get("period", 0.01)))
            return {"ok": True, "t_pub": t0}
        if op == "wait_plan":
            since = float(req.get("since", 0.0))

            def find():
                for t, data in list(self.plans):
                    v = json.loads(data)
                    if t >= since and v.get("command") == req["text"]:
                        return {"ok": True, "t": t, "plan": v}
                return None
            return self.spin_until(find, timeout) or {"ok": False}
        if op == "wait_event":
            since = float(req.get("since", 0.0))

            def find_event():
                for t, data in list(self.events):
                    if t >= since and req["contains"] in data:
                        return {"ok": True, "t": t, "event": data}
                return None
            return self.spin_until(find_event, timeout) or {"ok": False}
        if op == "wait_still":
            settle = float(req.get("settle", 0.5))

            def still():
                if not self.odom:
                    return None
                now = time.monotonic()
                odom = list(self.odom)
                recent = [o for o in odom if o[0] > now - settle]
                if odom[0][0] > now - settle or not recent:
                    return None
                if all(abs(o[4]) < 1e-6 and abs(o[5]) < 1e-6 for o in recent):
                    return {"ok": True}
                return None
            return self.spin_until(still, timeout) or {"ok": False}
        if op == "wait_clear_scans":
            since = float(req.get("since", 0.0))
            clear = float(req.get("clear", 0.5))
            count = int(req.get("count", 2))

            def cleared():
                n = sum(1 for t, nearest in list(self.scans) if t >= since and nearest >= clear)
                return {"ok": True} if n >= count else None
            return self.spin_until(cleared, timeout) or {"ok": False}
        if op in ("lifecycle", "lifecycle_state"):
            return self.lifecycle(req, timeout)
        if op == "pose":
            if not self.odom:
                return {"ok": False}
            t, x, y, yaw, vx, wz = self.odom[-1]
            return {"ok": True, "t": t, "x": x, "y": y, "yaw": yaw, "vx": vx, "wz": wz}
        if op == "cmd_vel_log":
            since = float(req.get("since", 0.0))
            return {"ok": True, "log": [c for c in list(self.cmd_vel) if c[0] >= since]}
        if op == "odom_log":
            since = float(req.get("since", 0.0))
            return {"ok": True, "log": [o for o in list(self.odom) if o[0] >= since]}
        return {"ok": False, "error": "unknown op " + op}


def main():
    rclpy.init()
    peer = Peer()
    # Messages arrive on an executor thread all the time, not only while a request runs
    # (list appends are atomic under the GIL; readers only iterate over copies).
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(peer.node)
    threading.Thread(target=executor.spin, daemon=True).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req["op"] == "quit":
            break
        reply = peer.handle(req)
        print(json.dumps(reply), flush=True)
    executor.shutdown()
    peer.node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
