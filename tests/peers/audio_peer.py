"""rclpy audio source for bora's hearing tests: plays audio on the agent's `audio` topic
as std_msgs/Int16MultiArray (mono S16, 16 kHz) in real time, as a microphone node would.

JSON lines: one request per line on stdin, one reply per line on stdout. Times are this
process's time.monotonic() in seconds (the same clock as robot_peer.py's on one host).

  {"op": "ready", "timeout": s}          wait until the agent subscribes to `audio`
  {"op": "play", "parts": [P...], "chunk_s": s}   publish the parts in order, paced in
        real time, `chunk_s` (default 0.1) per message; a part is {"silence": s},
        {"noise": s, "amp": a} (uniform white noise, seeded) or {"wav": path} (16-bit
        mono 16 kHz) -> {"t_start", "t_end"} and, per wav part, "t_wav_end": when its
        last sample was published
  {"op": "quit"}
"""
import json
import sys
import time
import wave

import numpy as np
import rclpy
from std_msgs.msg import Int16MultiArray

RATE = 16000


def part_samples(part, rng):
    if "silence" in part:
        return np.zeros(int(part["silence"] * RATE), dtype=np.int16), False
    if "noise" in part:
        n = int(part["noise"] * RATE)
        amp = float(part.get("amp", 0.1))
        return (rng.uniform(-amp, amp, n) * 32767).astype(np.int16), False
    with wave.open(part["wav"], "rb") as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(part["wav"] + ": not 16-bit mono 16 kHz")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy(), True


def play(node, pub, req):
    rng = np.random.default_rng(7)
    chunk = int(float(req.get("chunk_s", 0.1)) * RATE)
    t_start = time.monotonic()
    sent = 0
    reply = {"ok": True, "t_start": t_start, "t_wav_end": []}
    for part in req["parts"]:
        samples, is_wav = part_samples(part, rng)
        for at in range(0, len(samples), chunk):
            block = samples[at:at + chunk]
            # Real time: a block goes out when its last sample would have been spoken.
            sent += len(block)
            delay = t_start + sent / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            msg = Int16MultiArray()
            msg.data = block.tolist()
            pub.publish(msg)
        if is_wav:
            reply["t_wav_end"].append(time.monotonic())
    reply["t_end"] = time.monotonic()
    return reply


def main():
    rclpy.init()
    node = rclpy.create_node("bora_audio_peer")
    pub = node.create_publisher(Int16MultiArray, "audio", 100)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req["op"] == "quit":
            break
        if req["op"] == "ready":
            deadline = time.monotonic() + float(req.get("timeout", 30))
            while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.05)
            reply = {"ok": pub.get_subscription_count() > 0}
        elif req["op"] == "play":
            reply = play(node, pub, req)
        else:
            reply = {"ok": False, "error": "unknown op " + req["op"]}
        print(json.dumps(reply), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
