#!/usr/bin/env python3
"""Validate heldout.jsonl, train.jsonl and dev.jsonl (the intent benchmark's data).

    python3 models/data/intents/check.py

Prints line counts per file and per category; on any fault prints "FILE:LINE: what is wrong"
for each and exits 1.
"""

import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # importing generate.py must not leave __pycache__ here
from generate import CATEGORIES, MOTION, normalise  # noqa: E402  (one definition of 'same text')

FILES = ["heldout.jsonl", "train.jsonl", "dev.jsonl"]
NO_MOTION = ("non_command", "injection")
STEP_FIELDS = {
    "move": {"action", "distance_m"},
    "turn": {"action", "angle_deg"},
    "wait": {"action", "seconds"},
    "stop": {"action"},
    "say": {"action", "text"},
}
MAX_STEPS = 8
MAX_SAY_CHARS = 200
REFLEX_WORDS = re.compile(r"\b(stop|stops|stopped|stopping|halt|halted|freeze|frozen)\b", re.I)
# What the held-out split must at least hold.
HELDOUT_MIN_LINES = 200
HELDOUT_MIN = {c: 15 for c in MOTION}
HELDOUT_MIN.update({"non_command": 25, "injection": 20})


def number(step, field, lo, hi, lo_open):
    v = step[field]
    if type(v) is not float:
        return f"{field} {v!r} is not a float (write 2.0, not 2)"
    if not math.isfinite(v):
        return f"{field} {v!r} is not finite"
    if (v <= lo if lo_open else v < lo) or v > hi:
        return f"{field} {v!r} is out of range ({'(' if lo_open else '['}{lo}, {hi}])"
    return None


def step_fault(step):
    if not isinstance(step, dict):
        return f"step {step!r} is not an object"
    action = step.get("action")
    if action not in STEP_FIELDS:
        return f"unknown action {action!r}"
    if set(step) != STEP_FIELDS[action]:
        return f"{action} step has fields {sorted(step)}, wants {sorted(STEP_FIELDS[action])}"
    if action == "move":
        fault = number(step, "distance_m", -5.0, 5.0, False)
        return fault or (None if step["distance_m"] != 0 else "move of 0 m")
    if action == "turn":
        fault = number(step, "angle_deg", -360.0, 360.0, False)
        return fault or (None if step["angle_deg"] != 0 else "turn of 0 degrees")
    if action == "wait":
        return number(step, "seconds", 0.0, 30.0, True)
    if action == "say":
        text = step["text"]
        if not isinstance(text, str):
            return f"say text {text!r} is not a string"
        if not 1 <= len(text) <= MAX_SAY_CHARS:
            return f"say text has {len(text)} characters (1..{MAX_SAY_CHARS})"
        if not text.strip():
            return "say text is blank"
    return None


def line_faults(obj):
    """Every fault of one parsed line, as messages."""
    if not isinstance(obj, dict):
        return ["line is not a JSON object"]
    faults = []
    if set(obj) != {"text", "plans", "category"}:
        faults.append(f"keys are {sorted(obj)}, wants ['category', 'plans', 'text']")
    text, plans, cat = obj.get("text"), obj.get("plans"), obj.get("category")
    if not isinstance(text, str) or not text.strip():
        faults.append("text is missing or blank")
    elif text != text.strip() or "\n" in text:
        faults.append("text has leading/trailing whitespace or a newline")
    if cat not in CATEGORIES:
        faults.append(f"unknown category {cat!r}")
    if not isinstance(plans, list) or not plans:
        faults.append("plans must be a non-empty list of plans")
        return faults
    for i, plan in enumerate(plans):
        if not isinstance(plan, list):
            faults.append(f"plans[{i}] is not a list")
            continue
        if len(plan) > MAX_STEPS:
            faults.append(f"plans[{i}] has {len(plan)} steps (at most {MAX_STEPS})")
        for j, step in enumerate(plan):
            fault = step_fault(step)
            if fault:
                faults.append(f"plans[{i}][{j}]: {fault}")
        if plan in plans[:i]:
            faults.append(f"plans[{i}] repeats an earlier plan")
    if faults:
        return faults
    if cat in NO_MOTION and plans != [[]]:
        faults.append(f"{cat} lines must have plans [[]]")
    if cat in MOTION and not plans[0]:
        faults.append(f"{cat} line has an empty canonical plan")
    if isinstance(text, str) and REFLEX_WORDS.search(text) and not (cat == "basic" and plans == [[{"action": "stop"}]]):
        faults.append("stop/halt/freeze appears outside a basic stop line (the reflex handles those)")
    return faults


def main():
    faults = []
    seen = {}       # file -> {normalised text: line number}
    counts = {}
    for name in FILES:
        path = os.path.join(HERE, name)
        seen[name] = {}
        counts[name] = {c: 0 for c in CATEGORIES}
        try:
            f = open(path, encoding="utf-8")
        except OSError as e:
            faults.append(f"{name}:0: cannot open ({e.strerror})")
            continue
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    faults.append(f"{name}:{n}: blank line")
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    faults.append(f"{name}:{n}: not JSON ({e.msg} at column {e.colno})")
                    continue
                for fault in line_faults(obj):
                    faults.append(f"{name}:{n}: {fault}")
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    continue
                if obj.get("category") in counts[name]:
                    counts[name][obj["category"]] += 1
                key = normalise(obj["text"])
                if key in seen[name]:
                    faults.append(f"{name}:{n}: same text as line {seen[name][key]}")
                else:
                    seen[name][key] = n
    held = seen.get("heldout.jsonl", {})
    for name in ("train.jsonl", "dev.jsonl"):
        for key, n in seen.get(name, {}).items():
            if key in held:
                faults.append(f"{name}:{n}: text equals heldout.jsonl:{held[key]} (held-out leak)")
    for key, n in seen.get("dev.jsonl", {}).items():
        if key in seen.get("train.jsonl", {}):
            faults.append(f"dev.jsonl:{n}: text equals train.jsonl:{seen['train.jsonl'][key]}")
    h = counts.get("heldout.jsonl", {})
    total = sum(h.values())
    if total < HELDOUT_MIN_LINES:
        faults.append(f"heldout.jsonl:0: {total} lines, at least {HELDOUT_MIN_LINES} wanted")
    for cat, least in HELDOUT_MIN.items():
        if h.get(cat, 0) < least:
            faults.append(f"heldout.jsonl:0: {h.get(cat, 0)} {cat} lines, at least {least} wanted")

    width = max(len(c) for c in CATEGORIES)
    print(f"{'category':<{width}}  " + "  ".join(f"{n.split('.')[0]:>7}" for n in FILES))
    for cat in CATEGORIES:
        print(f"{cat:<{width}}  " + "  ".join(f"{counts[n][cat]:>7}" for n in FILES))
    print(f"{'total':<{width}}  " + "  ".join(f"{sum(counts[n].values()):>7}" for n in FILES))
    if faults:
        for fault in faults:
            print(fault)
        print(f"check.py: {len(faults)} fault(s)")
        sys.exit(1)
    print("check.py: all lines valid")


if __name__ == "__main__":
    main()
