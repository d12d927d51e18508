#!/usr/bin/env bash
# The voice-command demo: sets up, builds, starts the simulated robot and the agent
# (real SmolLM2 model) as ROS 2 nodes, speaks a short script of commands through
# `bora say`, and prints for each the plan, its source, its latency breakdown and the
# robot's pose afterwards; the last command is spoken as audio (espeak-ng -> Whisper in
# the agent). Ends by itself; all traffic stays on this host.
#
# Environment: BORA_DEMO_MODEL (default smollm2-135m-instruct; `none` = fallback parser
# only), BORA_DEMO_WORLD (a world YAML for `bora sim`).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh
echo "[demo] building bora (release; the first build takes several minutes)" >&2
cargo build --release -p bora-nodes --bins
bora="$repo/target/release/bora"

# A domain of our own, so the demo does not hear (or drive) anything else on this host.
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$((100 + $$ % 100))}"
logs="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

world_args=()
[ -n "${BORA_DEMO_WORLD:-}" ] && world_args=(--world "$BORA_DEMO_WORLD")
"$bora" sim "${world_args[@]}" >"$logs/sim.log" 2>&1 &
pids+=($!)
"$bora" --log info agent --ros-args --params-file launch/params/cpu.yaml \
  -p "model:=${BORA_DEMO_MODEL:-smollm2-135m-instruct}" -p audio.enable:=true >"$logs/agent.log" 2>&1 &
pids+=($!)

pose() {
  python3 - <<'EOF'
import math, rclpy
from nav_msgs.msg import Odometry
rclpy.init(); n = rclpy.create_node("bora_demo_pose"); got = []
n.create_subscription(Odometry, "odom", got.append, 10)
while not got:
    rclpy.spin_once(n, timeout_sec=0.1)
p = got[-1].pose.pose
print(f"x={p.position.x:+.3f} m  y={p.position.y:+.3f} m  yaw={math.degrees(2*math.atan2(p.orientation.z, p.orientation.w)):+.1f} deg")
EOF
}

# Wait until the robot stands still (odom speed 0 for half a second).
settle() {
  python3 - <<'EOF'
import time, rclpy
from nav_msgs.msg import Odometry
rclpy.init(); n = rclpy.create_node("bora_demo_settle"); still_since = [None]
def on(m):
    moving = abs(m.twist.twist.linear.x) > 1e-6 or abs(m.twist.twist.angular.z) > 1e-6
    still_since[0] = None if moving else (still_since[0] or time.monotonic())
n.create_subscription(Odometry, "odom", on, 10)
deadline = time.monotonic() + 60
time.sleep(0.3)
while time.monotonic() < deadline and not (still_since[0] and time.monotonic() - still_since[0] > 0.5):
    rclpy.spin_once(n, timeout_sec=0.05)
EOF
}

echo "[demo] waiting for the agent to load its model" >&2
for _ in $(seq 120); do grep -q "listening on voice_command" "$logs/agent.log" && break; sleep 0.5; done
grep -q "listening on voice_command" "$logs/agent.log" || { echo "[demo] the agent did not start:" >&2; cat "$logs/agent.log" >&2; exit 1; }
grep "^bora agent:" "$logs/agent.log" >&2
echo "start pose: $(pose)"

script=(
  "move forward one meter"
  "turn left"
  "go forward half a meter then turn right 45 degrees"
  "back up 30 centimeters"
  "say demo complete"
)
for cmd in "${script[@]}"; do
  echo
  echo "> $cmd"
  "$bora" say --wait --timeout 60 "$cmd"
  settle
  echo "  pose: $(pose)"
done
# The last command is spoken: espeak-ng makes the audio, `bora say --wav` plays it on the
# agent's audio topic in real time, and Whisper tiny.en in the agent hears it.
spoken="turn around"
espeak-ng -w "$logs/spoken.wav" "$spoken"
echo
echo "> (spoken, audio) $spoken"
"$bora" say --wait --timeout 60 --wav "$logs/spoken.wav"
settle
echo "  pose: $(pose)"
echo
echo "[demo] done; logs in $logs" >&2
