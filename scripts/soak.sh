#!/usr/bin/env bash
# Soak test (not in CI): `bora sim` and `bora agent` (real model, launch/params/cpu.yaml)
# as ROS 2 nodes for MINUTES (default 10), with voice commands at a steady rate.
# Samples the agent's resident memory (VmRSS of /proc/<pid>/status) and the queue
# depths it reports on `diagnostics` (bora/queues: `len` per queue), then prints a
# verdict: after warm-up, RSS stays within 5% of its value at the end of warm-up, and no
# queue's depth grows (mean depth of the last quarter <= first quarter's + 1 item).
# Exit status 0 when both hold, 1 otherwise.
#
#   bash scripts/soak.sh [MINUTES]
#
# Environment: BORA_SOAK_RATE (commands per second, default 0.5), BORA_SOAK_MODEL (default
# smollm2-135m-instruct; `none` = fallback parser only), BORA_SOAK_SAMPLE_S (RSS sample
# period, default 5), BORA_BIN (the bora binary, default target/release/bora, which this
# script does not build). Runs everything at nice 10. All traffic stays on this host.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
minutes="${1:-10}"
case "$minutes" in '' | *[!0-9.]*) echo "usage: $0 [MINUTES] (a number, e.g. 10)" >&2; exit 2 ;; esac

# shellcheck source=scripts/env.sh
source scripts/env.sh
bora="${BORA_BIN:-$repo/target/release/bora}"
[ -x "$bora" ] || { echo "[soak] $bora is missing: run \`cargo build --release -p bora-nodes\` first" >&2; exit 2; }

export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$((150 + $$ % 80))}"
logs="$(mktemp -d -t bora-soak-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

nice -n 10 "$bora" sim >"$logs/sim.log" 2>&1 &
pids+=($!)
nice -n 10 "$bora" --log warn agent --ros-args --params-file launch/params/cpu.yaml \
  -p "model:=${BORA_SOAK_MODEL:-smollm2-135m-instruct}" >"$logs/agent.log" 2>&1 &
agent=$!
pids+=("$agent")

for _ in $(seq 240); do grep -q "listening on voice_command" "$logs/agent.log" && break; sleep 0.5; done
grep -q "listening on voice_command" "$logs/agent.log" || { echo "[soak] the agent did not start:" >&2; cat "$logs/agent.log" >&2; exit 1; }
grep "^bora agent:" "$logs/agent.log" >&2
echo "[soak] ${minutes} min, agent pid $agent, domain $ROS_DOMAIN_ID, logs in $logs" >&2

nice -n 10 python3 - "$agent" "$minutes" "${BORA_SOAK_RATE:-0.5}" "${BORA_SOAK_SAMPLE_S:-5}" <<'EOF'
import json, os, sys, threading, time
import rclpy, rclpy.executors
from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import String

pid, minutes, rate, sample_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
commands = ["move forward half a meter", "turn left", "back up half a meter", "turn right 45 degrees",
            "say soak test", "go forward 30 centimeters then turn around", "stop", "wait 1 second"]

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")

rclpy.init()
node = rclpy.create_node("bora_soak")
pub = node.create_publisher(String, "voice_command", 10)
latest = {"queues": None, "counters": {}}
def on_diag(m):
    for s in m.status:
        if s.name == "bora/queues":
            latest["queues"] = {kv.key: json.loads(kv.value) for kv in s.values}
        elif s.name == "bora/language":
            latest["counters"] = {kv.key: kv.value for kv in s.values}
node.create_subscription(DiagnosticArray, "diagnostics", on_diag, 10)
plans = [0]
node.create_subscription(String, "agent/plan", lambda m: plans.__setitem__(0, plans[0] + 1), 100)
ex = rclpy.executors.SingleThreadedExecutor(); ex.add_node(node)
threading.Thread(target=ex.spin, daemon=True).start()

start = time.monotonic(); end = start + minutes * 60.0
next_cmd, next_sample, sent, samples = start, start, 0, []
while time.monotonic() < end:
    now = time.monotonic()
    if now >= next_cmd:
        pub.publish(String(data=commands[sent % len(commands)])); sent += 1
        next_cmd += 1.0 / rate
    if now >= next_sample:
        try:
            rss = rss_kib()
        except (OSError, RuntimeError):
            print(f"[soak] the agent (pid {pid}) is gone after {now - start:.0f} s: FAIL", flush=True); os._exit(1)
        q = {k: v.get("len", 0) for k, v in (latest["queues"] or {}).items()}
        samples.append((now - start, rss, q))
        if len(samples) % max(1, int(60 / sample_s)) == 1:
            print(f"[soak] t={now - start:5.0f} s  rss={rss / 1024:6.1f} MiB  queue len {q}  commands {sent}  plans {plans[0]}", flush=True)
        next_sample += sample_s
    time.sleep(max(0.0, min(next_cmd, next_sample, end) - time.monotonic()))

warm = min(120.0, 0.25 * minutes * 60.0)
after = [s for s in samples if s[0] >= warm]
if len(after) < 4:
    print("[soak] too few samples after warm-up: run longer", flush=True); os._exit(1)
base = after[0][1]
lo, hi, last = min(s[1] for s in after), max(s[1] for s in after), after[-1][1]
spread = max(hi - base, base - lo) / base
rss_ok = spread <= 0.05
quarter = max(1, len(after) // 4)
names = sorted({k for s in after for k in s[2]})
growth, q_ok = {}, True
for n in names:
    first = [s[2].get(n, 0) for s in after[:quarter]]
    lastq = [s[2].get(n, 0) for s in after[-quarter:]]
    a, b = sum(first) / len(first), sum(lastq) / len(lastq)
    growth[n] = (round(a, 2), round(b, 2), max(s[2].get(n, 0) for s in after))
    q_ok &= b <= a + 1.0
if not names:
    print("[soak] no queue depths seen on diagnostics"); q_ok = False
c = latest["counters"]
print(f"[soak] {minutes:g} min, {sent} commands at {rate:g}/s, {plans[0]} plan reports, {len(samples)} samples")
print(f"[soak] RSS after {warm:.0f} s warm-up: start {base / 1024:.1f} MiB, min {lo / 1024:.1f}, max {hi / 1024:.1f}, "
      f"end {last / 1024:.1f} MiB; largest deviation {spread * 100:.2f}% (limit 5%): {'PASS' if rss_ok else 'FAIL'}")
print(f"[soak] queue len (first-quarter mean, last-quarter mean, max): {growth}: {'PASS' if q_ok else 'FAIL'}")
print(f"[soak] counters: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items()) if k not in ("model",)))
print(f"[soak] verdict: {'PASS' if rss_ok and q_ok else 'FAIL'}")
# Leave without tearing down rclpy under its executor thread (that aborts in C++).
sys.stdout.flush()
os._exit(0 if rss_ok and q_ok else 1)
EOF
