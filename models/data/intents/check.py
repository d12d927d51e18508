#!/usr/bin/env python3
"""Validate heldout.jsonl, train.jsonl, dev.jsonl and dev_copy.jsonl (the intent benchmark's data).

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

FILES = ["heldout.jsonl", "train.jsonl", "dev.jsonl", "dev_copy.jsonl"]
NO_MOTION = ("non_command", "injection")
STEP_FIELDS = {
    "move": {"action", "distance_m"},
    "turn": {"action", "angle_deg"},
    "wait": {"action", "seconds"},
    "stop": {"action"},
    "say": {"action", "text"},
}
MAX_STEPS = 8
# The short form (train and dev only): step key -> metres per unit for moves, else None.
SHORT_MOVE = {"move_m": 1.0, "move_cm": 0.01, "move_mm": 0.001, "move_ft": 0.3048,
              "move_in": 0.0254, "move_yd": 0.9144}
SHORT_OTHER = {"turn_deg": ("turn", "angle_deg"), "wait_s": ("wait", "seconds")}
# Two-unit distances, one step with both keys in this order: {"move_ft": 9, "move_in": 7};
# the second at most the bound, both of one sign.
SHORT_COMPOUND = {("move_ft", "move_in"): 11, ("move_m", "move_cm"): 99}
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


def short_value_fault(key, v):
    if key == "say":
        ok = isinstance(v, str) and 1 <= len(v) <= MAX_SAY_CHARS and v.strip()
        return None if ok else f"say text {v!r} is not 1..{MAX_SAY_CHARS} characters"
    if key == "stop":
        return None if v is True else f"stop value {v!r} is not true"
    if type(v) not in (int, float) or not math.isfinite(v):
        return f"{key} value {v!r} is not a finite number"
    if type(v) is float and v.is_integer():
        return f"{key} value {v!r} is integral: write it as an integer"
    if abs(v * 1000 - round(v * 1000)) > 1e-6 or round(v, 4) != v:
        return f"{key} value {v!r} is not a multiple of 0.001"
    return None


def short_step_fault(step):
    if isinstance(step, dict) and len(step) == 2:
        keys = tuple(step)
        if keys not in SHORT_COMPOUND:
            return f"two-key step {step!r} is not {' or '.join(map(str, SHORT_COMPOUND))}"
        a, b = step[keys[0]], step[keys[1]]
        fault = short_value_fault(keys[0], a) or short_value_fault(keys[1], b)
        if fault:
            return fault
        if a * b < 0 or abs(b) > SHORT_COMPOUND[keys]:
            return f"step {step!r}: parts of one sign, {keys[1]} at most {SHORT_COMPOUND[keys]}"
        return None
    if not isinstance(step, dict) or len(step) != 1:
        return f"step {step!r} is not a one-key object"
    (key, v), = step.items()
    if key not in SHORT_MOVE and key not in SHORT_OTHER and key not in ("say", "stop"):
        return f"unknown step key {key!r}"
    return short_value_fault(key, v)


def expand_short(short):
    """The plan a valid short form means: moves in metres, the plan repeated 'times' times."""
    out = []
    for step in short["plan"] * short.get("times", 1):
        key, v = next(iter(step.items()))
        if key in SHORT_MOVE:
            out.append({"action": "move", "distance_m": sum(u * SHORT_MOVE[k] for k, u in step.items())})
        elif key in SHORT_OTHER:
            action, field = SHORT_OTHER[key]
            out.append({"action": action, field: v})
        elif key == "say":
            out.append({"action": "say", "text": v})
        else:
            out.append({"action": "stop"})
    return out


def close(a, b):
    return abs(a - b) <= max(1e-9, 1e-6 * abs(b))


def same_plan(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.keys() != y.keys():
            return False
        for k, u in x.items():
            if isinstance(u, str) and u != y[k] or not isinstance(u, str) and not close(u, y[k]):
                return False
    return True


def smallest_period(steps):
    n = len(steps)
    return next((p for p in range(1, n) if n % p == 0
                 and all(steps[i] == steps[i % p] for i in range(n))), n)


def short_faults(short, canonical):
    """Faults of a train/dev line's short form against its canonical plan."""
    if not isinstance(short, dict) or list(short) not in (["plan"], ["plan", "times"]):
        return ['short must be {"plan": [...]} or {"plan": [...], "times": K}']
    plan, times = short["plan"], short.get("times", 1)
    if not isinstance(plan, list):
        return ["short plan is not a list"]
    if "times" in short and (type(times) is not int or not 2 <= times <= MAX_STEPS or not plan):
        return [f"short times {times!r} is not an integer 2..{MAX_STEPS} on a non-empty plan"]
    faults = [f"short plan[{j}]: {f}" for j, step in enumerate(plan) if (f := short_step_fault(step))]
    if faults:
        return faults
    if len(plan) * times > MAX_STEPS:
        return [f"short expands to {len(plan) * times} steps (at most {MAX_STEPS})"]
    if smallest_period(plan * times) != len(plan):
        faults.append("short is not in its smallest repeat: plan/times should be shorter/larger")
    if not same_plan(expand_short(short), canonical):
        faults.append("short, expanded, is not plans[0]")
    return faults


def line_faults(obj, short=False):
    """Every fault of one parsed line, as messages; short: the line must carry a short form."""
    if not isinstance(obj, dict):
        return ["line is not a JSON object"]
    faults = []
    keys = ["text", "plans", "short", "category"] if short else ["text", "plans", "category"]
    if (list(obj) if short else sorted(obj)) != (keys if short else sorted(keys)):
        faults.append(f"keys are {list(obj)}, wants {keys}")
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
    if short and "short" in obj:
        faults += short_faults(obj["short"], plans[0])
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
                for fault in line_faults(obj, short=name != "heldout.jsonl"):
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
    for name in ("train.jsonl", "dev.jsonl", "dev_copy.jsonl"):
        for key, n in seen.get(name, {}).items():
            if key in held:
                faults.append(f"{name}:{n}: text equals heldout.jsonl:{held[key]} (held-out leak)")
    for dev in ("dev.jsonl", "dev_copy.jsonl"):
        for key, n in seen.get(dev, {}).items():
            if key in seen.get("train.jsonl", {}):
                faults.append(f"{dev}:{n}: text equals train.jsonl:{seen['train.jsonl'][key]}")
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
