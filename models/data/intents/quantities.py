"""Plan steps, numbers, distances and angles as people say them, for generate.py."""

import itertools


# ----------------------------------------------------------------------------- steps

UNIT_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254, "yd": 0.9144}


# Two-unit distances: (short-form keys, units per whole unit, largest part below it).
COMPOUND = {"ft_in": (("move_ft", "move_in"), 12, 11), "m_cm": (("move_m", "move_cm"), 100, 99)}


class Dist(float):
    """Metres that also remember the unit and the value the person spoke them in; a
    two-unit distance ("9 feet 7 inches") has unit "ft_in" or "m_cm" and spoken (9, 7)."""

    def __new__(cls, metres, unit, spoken):
        d = super().__new__(cls, metres)
        d.unit, d.spoken = unit, spoken
        return d

    def __neg__(self):
        if self.unit in COMPOUND:
            return Dist(-float(self), self.unit, tuple(-p for p in self.spoken))
        return Dist(-float(self), self.unit, -self.spoken)

    def __mul__(self, k):
        if type(k) is not int:
            return float(self) * k
        return Dist(float(self) * k, *self.scaled(k))

    def scaled(self, k):
        """(unit, spoken) of this distance k times over."""
        if self.unit in COMPOUND:
            keys, per, below = COMPOUND[self.unit]
            whole, part = self.spoken
            if abs(part * k) <= below:
                return self.unit, (whole * k, part * k)
            # The parts overflow: the total in the smaller unit.
            return keys[1][5:], (whole * per + part) * k
        return self.unit, self.spoken * k

    __rmul__ = __mul__

    def short(self):
        """The short-form step keys and spoken values of this distance."""
        if self.unit in COMPOUND:
            return dict(zip(COMPOUND[self.unit][0], self.spoken))
        return {"move_" + self.unit: self.spoken}


def M(x):
    """A move step. "_short" keeps {short-form key: spoken value}; output_line strips it."""
    d = x if isinstance(x, Dist) else Dist(x, "m", x)
    x = round(float(x), 4)
    assert x != 0 and abs(x) <= 5.0, x
    return {"action": "move", "distance_m": x, "_short": d.short(), "_dist": d}


def short_number(v):
    """round(v, 4), an int when integral; always a multiple of 0.001."""
    v = round(float(v), 4)
    assert abs(v * 1000 - round(v * 1000)) < 1e-6, v
    return int(v) if v == int(v) else v


def T(a):
    a = round(float(a), 4)
    assert a != 0 and abs(a) <= 360.0, a
    return {"action": "turn", "angle_deg": a}


def W(s):
    s = round(float(s), 4)
    assert 0 < s <= 30.0, s
    return {"action": "wait", "seconds": s}


def S(text):
    assert 1 <= len(text) <= 200, text
    return {"action": "say", "text": text}


STOP = {"action": "stop"}


def one(step):
    """A clause with a single reading of a single step."""
    return [[step]]


def product(*alts_list):
    """Alternatives of clauses in sequence: every combination, canonical (all firsts) first."""
    out = []
    for combo in itertools.product(*alts_list):
        plan = [s for part in combo for s in part]
        if plan not in out:
            out.append(plan)
    return out


# ----------------------------------------------------------------------------- numbers

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n, rng=None):
    """An integer 0..999 in English words; rng varies hyphens, 'and' and 'a hundred'."""
    assert 0 <= n <= 999 and n == int(n)
    n = int(n)
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        if o == 0:
            return TENS[t]
        sep = rng.choice([" ", "-"]) if rng else " "
        return TENS[t] + sep + ONES[o]
    h, rest = divmod(n, 100)
    head = ("a hundred" if (h == 1 and rng and rng.random() < 0.3) else ONES[h] + " hundred")
    if rest == 0:
        return head
    joiner = rng.choice([" and ", " "]) if rng else " and "
    return head + joiner + words(rest, rng)


def digits(x):
    """2.0 -> '2', 0.5 -> '0.5', 1.25 -> '1.25'."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.3f}".rstrip("0").rstrip(".")


def decimal_words(x, rng):
    """2.5 -> 'two point five', 0.75 -> 'zero point seven five' (or 'point seven five')."""
    whole, frac = digits(x).split(".")
    spoken = " ".join(ONES[int(d)] for d in frac)
    if whole == "0" and rng.random() < 0.3:
        return "point " + spoken
    return words(int(whole), rng) + " point " + spoken


def cap_first(text):
    return text[:1].upper() + text[1:]


def surface(rng, text, punct=True):
    """Capital letter and final punctuation, sometimes: people and recognisers differ."""
    r = rng.random()
    if r < 0.25:
        text = cap_first(text)
    if punct and text[-1:].isalnum():
        r = rng.random()
        if r < 0.2:
            text += "."
        elif r < 0.24:
            text += "!"
    return text


# ----------------------------------------------------------------------------- distances
# Each returns (text, metres); metres > 0, a Dist that keeps the spoken unit and value.

def metre_unit(rng, x):
    if x == 1:
        return rng.choice(["meter", "meter", "metre", "m"])
    return rng.choice(["meters", "meters", "metres", "m"])


def basic_metres(rng):
    r = rng.random()
    if r < 0.4:
        return float(rng.randint(1, 5))
    if r < 0.65:
        return rng.choice([0.5, 1.5, 2.5, 3.5, 4.5])
    if r < 0.9:
        return rng.randint(1, 49) / 10
    return rng.choice([0.25, 0.75, 1.25, 1.75, 2.25, 3.25])


def dist_digits(rng):
    x = basic_metres(rng)
    return f"{digits(x)} {metre_unit(rng, x)}", Dist(x, "m", x)


def dist_units(rng):
    while True:
        kind = rng.choice(["cm", "cm", "mm", "ft", "ft", "in", "yd", "m_cm", "ft_in"])
        if kind == "cm":
            c = rng.choice(range(5, 501, 5)) if rng.random() < 0.75 else rng.randint(3, 499)
            unit = rng.choice(["cm", "centimeters", "centimetres", "centimeters"])
            text, x, su, v = f"{c} {unit}", c / 100, "cm", c
        elif kind == "mm":
            c = rng.choice(range(50, 5001, 50)) if rng.random() < 0.8 else rng.randint(10, 999)
            unit = rng.choice(["mm", "millimeters", "millimetres"])
            text, x, su, v = f"{c} {unit}", c / 1000, "mm", c
        elif kind == "ft":
            k = rng.randint(1, 16) if rng.random() < 0.8 else rng.randint(0, 15) + 0.5
            unit = (rng.choice(["foot", "ft"]) if k == 1
                    else rng.choice(["feet", "feet", "ft", "foot"] if k == int(k) else ["feet", "ft"]))
            text, x, su, v = f"{digits(k)} {unit}", k * 0.3048, "ft", k
        elif kind == "in":
            k = rng.randint(1, 60) if rng.random() < 0.85 else rng.choice([72, 80, 96, 100, 120, 150])
            unit = (rng.choice(["inch", "in"]) if k == 1
                    else rng.choice(["inches", "inches", "in"]))
            text, x, su, v = f"{k} {unit}", k * 0.0254, "in", k
        elif kind == "yd":
            k = rng.randint(1, 5) if rng.random() < 0.8 else rng.choice([0.5, 1.5, 2.5, 3.5])
            unit = rng.choice(["yard", "yd"]) if k == 1 else rng.choice(["yards", "yards", "yds"])
            text, x, su, v = f"{digits(k)} {unit}", k * 0.9144, "yd", k
        elif kind == "m_cm":
            m = rng.randint(1, 4)
            c = rng.choice(range(10, 100, 5))
            mu = "meter" if m == 1 else rng.choice(["meters", "metres"])
            cu = rng.choice(["centimeters", "centimetres", "cm"])
            form = rng.randint(0, 2)
            if form == 0:
                text = f"{m} {mu} and {c} {cu}"
            elif form == 1:
                text = f"{m} {mu} {c} {cu}"
            else:
                text = f"{m} {mu} {c}"
            x = m + c / 100
            su, v = "m_cm", (m, c)
        else:
            f = rng.randint(1, 15)
            i = rng.randint(1, 11)
            fu = "foot" if f == 1 else rng.choice(["feet", "foot", "ft"])
            form = rng.randint(0, 2)
            if form == 0:
                text = f"{f} {fu} {i} {'inch' if i == 1 else 'inches'}"
            elif form == 1:
                text = f"{f} {fu} and {i} {'inch' if i == 1 else 'inches'}"
            else:
                text = f"{f} {'foot' if f == 1 else rng.choice(['feet', 'foot'])} {i}"
            x = f * 0.3048 + i * 0.0254
            su, v = "ft_in", (f, i)
        x = round(x, 4)
        if 0 < x <= 5.0:
            return text, Dist(x, su, v)


def dist_words(rng):
    while True:
        r = rng.randint(0, 13)
        su = "m"
        if r == 0:
            n = rng.randint(1, 5)
            text = (rng.choice(["one meter", "a meter", "one metre", "a metre"]) if n == 1
                    else f"{words(n)} {rng.choice(['meters', 'metres'])}")
            x = n
        elif r == 1:
            x = rng.choice([rng.randint(1, 49) / 10, rng.choice([0.25, 0.75, 1.25, 2.75, 3.75])])
            if x == int(x):
                continue
            text = f"{decimal_words(x, rng)} {rng.choice(['meters', 'metres'])}"
        elif r == 2:
            text, x = rng.choice([("half a meter", 0.5), ("half a metre", 0.5),
                                  ("a half meter", 0.5), ("half of a meter", 0.5)])
        elif r == 3:
            text, x = rng.choice([("a quarter of a meter", 0.25), ("a quarter meter", 0.25),
                                  ("three quarters of a meter", 0.75),
                                  ("three quarters of a metre", 0.75),
                                  ("three-quarters of a meter", 0.75)])
        elif r == 4:
            n = rng.randint(1, 4)
            u = rng.choice(["meters", "metres"])
            text = rng.choice([f"{words(n)} and a half {u}",
                               f"{'a' if n == 1 else words(n)} {'meter' if n == 1 else u} and a half"])
            x = n + 0.5
        elif r == 5:
            n = rng.randint(1, 4)
            q, qx = rng.choice([("a quarter", 0.25), ("three quarters", 0.75)])
            text = f"{words(n)} and {q} {rng.choice(['meters', 'metres'])}"
            x = n + qx
        elif r == 6:
            text, x = rng.choice([("a couple of meters", 2), ("a couple meters", 2),
                                  ("a couple of metres", 2)])
        elif r == 7:
            c = rng.choice(list(range(10, 100, 5)) + [100, 120, 150, 200, 250, 300, 400])
            text = f"{words(c, rng)} {rng.choice(['centimeters', 'centimetres', 'cm'])}"
            x, su, v = c / 100, "cm", c
        elif r == 8:
            text, x, v = rng.choice([("a dozen centimeters", 0.12, 12), ("two dozen centimeters", 0.24, 24),
                                     ("a dozen centimetres", 0.12, 12), ("three dozen centimeters", 0.36, 36)])
            su = "cm"
        elif r == 9:
            n = rng.randint(1, 16)
            text = rng.choice(["a foot", "one foot"]) if n == 1 else f"{words(n, rng)} feet"
            x, su, v = n * 0.3048, "ft", n
        elif r == 10:
            text, x, su, v = rng.choice([("a foot and a half", 0.4572, "ft", 1.5),
                                         ("half a foot", 0.1524, "ft", 0.5),
                                         ("a yard and a half", 1.3716, "yd", 1.5),
                                         ("half a yard", 0.4572, "yd", 0.5)])
        elif r == 11:
            n = rng.randint(1, 5)
            text = rng.choice(["a yard", "one yard"]) if n == 1 else f"{words(n)} yards"
            x, su, v = n * 0.9144, "yd", n
        elif r == 12:
            n = rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 18, 24, 30, 36])
            text = f"{words(n, rng)} inches"
            x, su, v = n * 0.0254, "in", n
        else:
            m = rng.choice([100, 150, 200, 250, 300, 500, 750, 800])
            text = f"{words(m, rng)} millimeters"
            x, su, v = m / 1000, "mm", m
        x = round(x, 4)
        if 0 < x <= 5.0:
            return text, Dist(x, su, x if su == "m" else v)


def dist_any(rng):
    r = rng.random()
    if r < 0.5:
        return dist_digits(rng)
    if r < 0.75:
        return dist_units(rng)
    return dist_words(rng)


# ----------------------------------------------------------------------------- angles

COMMON_ANGLES = [10, 15, 20, 30, 40, 45, 60, 75, 90, 100, 120, 135, 150, 180, 200, 225, 270, 300, 360]


def pick_angle(rng):
    r = rng.random()
    if r < 0.55:
        return rng.choice(COMMON_ANGLES)
    if r < 0.9:
        return rng.randint(1, 72) * 5
    return rng.randint(1, 359)


def angle_digits(rng, a=None):
    a = pick_angle(rng) if a is None else a
    if a == 1:
        return "1 degree", a
    unit = rng.choice(["degrees", "degrees", "degrees", "deg", "°"])
    return (f"{a}°" if unit == "°" else f"{a} {unit}"), a


def angle_words(rng, a=None):
    a = pick_angle(rng) if a is None else a
    return f"{words(a, rng)} {'degree' if a == 1 else 'degrees'}", a
