"""The short plan form the tuned model writes, and a line as written, for generate.py."""

from quantities import UNIT_M, short_number


# ---------------------------------------------------------------- short form
# What the tuned model writes: moves in the spoken unit, a repeated step list written once
# with "times". The Rust side renders and parses the same form; see README.md.

def short_step(step):
    a = step["action"]
    if a == "move":
        return {key: short_number(v) for key, v in step["_short"].items()}
    if a == "turn":
        return {"turn_deg": short_number(step["angle_deg"])}
    if a == "wait":
        return {"wait_s": short_number(step["seconds"])}
    if a == "say":
        return {"say": step["text"]}
    return {"stop": True}


def period(steps):
    """The smallest p < len(steps) dividing it with steps periodic in p, or None."""
    n = len(steps)
    for p in range(1, n):
        if n % p == 0 and all(steps[i] == steps[i % p] for i in range(n)):
            return p
    return None


def short_form(plan):
    steps = [short_step(s) for s in plan]
    p = period(steps)
    return {"plan": steps} if p is None else {"plan": steps[:p], "times": len(steps) // p}


def expand_short(short):
    """The canonical plan a short form means: units to metres, the plan repeated."""
    out = []
    for step in short["plan"] * short.get("times", 1):
        key, v = next(iter(step.items()))
        if key.startswith("move_"):
            out.append({"action": "move", "distance_m": sum(u * UNIT_M[k[5:]] for k, u in step.items())})
        elif key == "stop":
            out.append({"action": "stop"})
        else:
            field = {"turn_deg": ("turn", "angle_deg"), "wait_s": ("wait", "seconds"),
                     "say": ("say", "text")}[key]
            out.append({"action": field[0], field[1]: v})
    return out


def same_plan(a, b):
    """Same actions and texts, numbers within 1e-6 relative or 1e-9 absolute."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.keys() != y.keys():
            return False
        for k in x:
            u, v = x[k], y[k]
            if isinstance(u, str) or isinstance(v, str):
                if u != v:
                    return False
            elif abs(u - v) > max(1e-9, 1e-6 * abs(v)):
                return False
    return True


def strip_private(plans):
    return [[{k: v for k, v in s.items() if k not in ("_short", "_dist")} for s in plan] for plan in plans]


def output_line(text, plans, cat):
    """The line as written: text, plans (private keys stripped), short, category."""
    short = short_form(plans[0])
    clean = strip_private(plans)
    expanded = expand_short(short)
    assert same_plan(expanded, clean[0]) and len(expanded) <= 8, (text, short, clean[0])
    return {"text": text, "plans": clean, "short": short, "category": cat}
