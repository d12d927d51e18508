"""The generators of the motion categories (basic .. asr_errors), for generate.py."""

import re

from quantities import (
    Dist, M, S, STOP, T, W, angle_digits, angle_words, cap_first, digits, dist_any,
    dist_digits, dist_units, dist_words, one, product, surface, words,
)
from clauses import (
    LR, UTTERANCES, around_clause, dur_phrase, full_clause, move_clause, say_clause,
    turn_clause, turn_syn_clause, wait_clause,
)


# ----------------------------------------------------------------------------- categories

def gen_basic(rng):
    r = rng.random()
    if r < 0.03:
        text = rng.choice(["stop now", "stop right there", "stop moving", "halt now",
                           "freeze right there", "stop immediately", "stop right now"])
        return surface(rng, text), one(STOP)
    if r < 0.5:
        text, alts = move_clause(rng, dist_digits)
    elif r < 0.9:
        text, alts = turn_clause(rng, angle_digits)
    else:
        text, alts = rng.choice([around_clause, around_clause, full_clause])(rng)
    return surface(rng, text), alts


def gen_units(rng):
    text, alts = move_clause(rng, dist_units, syn=rng.random() < 0.15)
    return surface(rng, text), alts


def gen_numbers(rng):
    if rng.random() < 0.7:
        text, alts = move_clause(rng, dist_words, syn=rng.random() < 0.15)
    else:
        text, alts = turn_clause(rng, angle_words, with_angle=True)
    return surface(rng, text), alts


def gen_synonyms(rng):
    if rng.random() < 0.5:
        text, alts = move_clause(rng, rng.choice([dist_digits, dist_digits, dist_any]), syn=True)
    else:
        text, alts = turn_syn_clause(rng, rng.choice([angle_digits, angle_digits, angle_words]))
    return surface(rng, text), alts


def simple_clause(rng, allow_say=True, allow_wait=True):
    r = rng.random()
    if r < 0.4:
        return move_clause(rng, dist_any, syn=rng.random() < 0.25)
    if r < 0.7:
        return turn_clause(rng, rng.choice([angle_digits, angle_words]))
    if r < 0.76:
        return around_clause(rng)
    if r < 0.88 and allow_wait:
        return wait_clause(rng)
    if allow_say:
        return say_clause(rng, simple=True)
    return move_clause(rng, dist_digits)


def turn_noun(rng):
    """A turn or a wait as a noun phrase, for '... followed by a left turn'."""
    r = rng.randint(0, 4)
    d, sign = rng.choice(LR)
    if r == 0:
        return f"a {d} turn", one(T(sign * 90))
    if r == 1:
        atext, a = angle_digits(rng)
        atext = atext.replace("degrees", "degree")
        return f"a {atext} turn to the {d}", one(T(sign * a))
    if r == 2:
        return rng.choice(["a U-turn", "a half turn", "a one-eighty"]), [[T(180)], [T(-180)]]
    if r == 3:
        dtext, s = dur_phrase(rng)
        return f"a pause of {dtext}", one(W(s))
    return f"a quarter turn to the {d}", one(T(sign * 90))


def gen_multi_step(rng):
    n = rng.choice([2, 2, 2, 2, 3, 3, 3, 4])
    clauses = [simple_clause(rng) for _ in range(n)]
    style = rng.randint(0, 7)
    if style == 0:
        noun = turn_noun(rng)
        clauses = clauses[:n - 1] + [noun]
        head = ", then ".join(c[0] for c in clauses[:-1])
        text = f"{head} followed by {noun[0]}"
    elif style == 1:
        parts = [c[0] for c in clauses]
        text = "first " + parts[0] + "".join(
            rng.choice([", then ", " and then ", ", after that "]) + p for p in parts[1:])
    elif style == 2:
        parts = [c[0] for c in clauses]
        text = ", ".join(parts[:-1]) + rng.choice([", and once you're done, ", " and when you're done ",
                                                   ", and once that's done, ", " and after that "]) + parts[-1]
    elif style == 3:
        text = " ".join(cap_first(c[0]) + "." for c in clauses)
    elif style == 4 and n >= 3:
        parts = [c[0] for c in clauses]
        text = ", ".join(parts[:-1]) + rng.choice([", and ", ", and then ", ", and finally ", ", then "]) + parts[-1]
    else:
        conn = [", then ", " then ", " and then ", " and ", ", and then ", ", after that ",
                ". Then ", ", next ", "; then ", " and after that ", " after which "]
        text = clauses[0][0]
        for c in clauses[1:]:
            text += rng.choice(conn) + c[0]
    alts = product(*[c[1] for c in clauses])
    return surface(rng, text), alts


TIMES = {2: ["twice", "two times", "2 times", "two times over"],
         3: ["three times", "3 times", "thrice"],
         4: ["four times", "4 times"],
         5: ["five times", "5 times"],
         6: ["six times", "6 times"]}


def merged(step, k):
    """The single step meaning the same motion as step repeated k times, or None."""
    if step["action"] == "move" and abs(step["distance_m"] * k) <= 5.0:
        return M(Dist(step["distance_m"] * k, *step["_dist"].scaled(k)))
    if step["action"] == "turn" and abs(step["angle_deg"] * k) <= 360.0:
        return T(step["angle_deg"] * k)
    if step["action"] == "wait" and step["seconds"] * k <= 30.0:
        return W(step["seconds"] * k)
    return None


def repeat_phrase(rng, clause_text, k):
    again = words(k - 1)
    forms = [f"{clause_text} {rng.choice(TIMES[k])}", f"{clause_text}, {rng.choice(TIMES[k])}",
             f"{clause_text} {rng.choice(TIMES[k])} in a row",
             f"do this {rng.choice(TIMES[k])}: {clause_text}",
             f"repeat {rng.choice(TIMES[k])}: {clause_text}",
             f"{clause_text} and repeat that {again} more {'time' if k == 2 else 'times'}",
             f"{clause_text}, then repeat it {again} more {'time' if k == 2 else 'times'}",
             f"{clause_text}, do that {rng.choice(TIMES[k])}"]
    if k == 2:
        forms += [f"{clause_text} and then do that again", f"{clause_text}, then do it again",
                  f"{clause_text} and repeat once", f"{clause_text}, and again",
                  f"{clause_text}, then once more"]
    return rng.choice(forms)


def gen_repetition(rng):
    r = rng.random()
    if r < 0.8:
        kind = rng.random()
        if kind < 0.35:
            text, alts = move_clause(rng, rng.choice([dist_digits, dist_units, dist_words]))
        elif kind < 0.7:
            text, alts = turn_clause(rng, rng.choice([angle_digits, angle_words]))
        elif kind < 0.78:
            text, alts = around_clause(rng)
        elif kind < 0.9:
            text, alts = wait_clause(rng)
        else:
            p = rng.choice([u for u in UTTERANCES if " and " not in u])
            text, alts = f"say {p}", one(S(p))
        k = rng.choice([2, 2, 2, 3, 3, 4, 5])
        if alts[0][0]["action"] == "wait" and alts[0][0]["seconds"] * k > 30:
            return None  # keep a repeated pause within the 30 s a single wait may take
        plans = []
        for alt in alts:
            plans.append(alt * k)
        for alt in alts:
            m = merged(alt[0], k) if alt[0]["action"] != "say" else None
            if m is not None and [m] not in plans:
                plans.append([m])
        return surface(rng, repeat_phrase(rng, text, k)), plans
    # a pair of steps, repeated
    a = move_clause(rng, dist_digits) if rng.random() < 0.7 else wait_clause(rng)
    b = turn_clause(rng, angle_digits) if rng.random() < 0.7 else say_clause(rng, simple=True)
    if rng.random() < 0.5:
        a, b = b, a
    k = rng.choice([2, 2, 3, 4])
    text = repeat_phrase(rng, f"{a[0]} and {b[0]}", k)
    return surface(rng, text), [p * k for p in product(a[1], b[1])]


def side_phrase(rng):
    """(plural text, adjective text, metres as a Dist) for a shape's side."""
    r = rng.randint(0, 6)
    if r <= 2:
        x = rng.choice([0.5, 1, 1, 1, 1.5, 2, 2, 2.5, 3, 0.8, 1.2, 0.6, 0.75])
        u = rng.choice(["meter", "metre", "m"])
        pl = f"{digits(x)} {'meter' if x == 1 else u + ('s' if u != 'm' else '')}"
        adj = f"{digits(x)}{rng.choice([' ', '-'])}{u}"
        return pl, adj, Dist(x, "m", x)
    if r == 3:
        c = rng.choice([30, 40, 50, 60, 70, 75, 80, 90, 120, 150, 200])
        u = rng.choice(["centimeter", "cm", "centimetre"])
        return f"{c} {u if u == 'cm' else u + 's'}", f"{c} {u}", Dist(c / 100, "cm", c)
    if r == 4:
        k = rng.randint(1, 8)
        return (f"{k} {'foot' if k == 1 else 'feet'}", f"{k} foot", Dist(round(k * 0.3048, 4), "ft", k))
    if r == 5:
        n = rng.randint(1, 3)
        return (f"{words(n)} {'meter' if n == 1 else 'meters'}", f"{words(n)} meter", Dist(n, "m", n))
    pl, adj, x, unit, v = rng.choice([("half a meter", "half meter", 0.5, "m", 0.5),
                                      ("a yard", "one yard", 0.9144, "yd", 1),
                                      ("one and a half meters", "one and a half meter", 1.5, "m", 1.5),
                                      ("a meter", "one meter", 1, "m", 1),
                                      ("two yards", "two yard", 1.8288, "yd", 2)])
    return pl, adj, Dist(x, unit, v)


SHAPE_VERBS = ["drive a", "drive in a", "make a", "do a", "trace a", "go around in a",
               "move in a", "roll in a", "draw a", "drive around in a", "follow a", "run a",
               "patrol a", "drive along a", "trace out a", "go in a"]
DIR_LEFT = ["turning left", "with left turns", "turning left at each corner", "going left",
            "to the left", "counterclockwise", "anticlockwise", "counter-clockwise", "left turns",
            "turning left at every corner", "going counterclockwise", "with all left turns"]
DIR_RIGHT = ["turning right", "with right turns", "turning right at each corner", "going right",
             "to the right", "clockwise", "right turns", "turning right at every corner",
             "going clockwise", "with all right turns"]


def polygon(side, turn, n_sides, lengths=None):
    lengths = lengths or [side] * n_sides
    full = []
    for s in lengths:
        full += [M(s), T(turn)]
    return [full, full[:-1]]


def gen_shapes(rng):
    r = rng.random()
    if r < 0.75:
        shape = rng.choice(["square", "square", "triangle", "rectangle"])
        pl, adj, s = side_phrase(rng)
        dsel = rng.random()
        if dsel < 0.4:
            dtext, signs = rng.choice(DIR_LEFT), [1]
        elif dsel < 0.8:
            dtext, signs = rng.choice(DIR_RIGHT), [-1]
        else:
            dtext, signs = "", [1, -1]
        verb = rng.choice(SHAPE_VERBS)
        if shape == "rectangle":
            pl2, adj2, s2 = side_phrase(rng)
            if s2 == s:
                return None
            body = rng.choice([f"rectangle {pl} by {pl2}", f"{adj} by {adj2} rectangle",
                               f"rectangle, {pl} long and {pl2} wide",
                               f"rectangle with sides of {pl} and {pl2}"])
            lengths, angle, n_sides = [s, s2, s, s2], 90, 4
        else:
            angle, n_sides = (90, 4) if shape == "square" else (120, 3)
            eq = "equilateral triangle" if shape == "triangle" and rng.random() < 0.2 else shape
            body = rng.choice([f"{eq} with {adj} sides", f"{adj} {eq}", f"{eq} with sides of {pl}",
                               f"{eq}, {pl} per side", f"{eq}, {pl} on each side",
                               f"{eq} of {pl}", f"{eq}, each side {pl}", f"{eq}, sides {pl}"])
            lengths = None
        text = f"{verb} {body}"
        if dtext:
            text += rng.choice([" ", ", "]) + dtext
        plans = []
        for sign in signs:
            plans += polygon(s, sign * angle, n_sides, lengths)
        return surface(rng, text), plans
    if r < 0.9:
        dtext, x = dist_any(rng)
        k = rng.choice([1, 1, 2, 3, 4])
        base = rng.choice([f"drive back and forth {dtext}", f"go back and forth {dtext}",
                           f"move forward and back {dtext}", f"go {dtext} forward and back",
                           f"roll back and forth {dtext}", f"shuttle back and forth {dtext}",
                           f"go forward {dtext} and come straight back in reverse"])
        text = base if k == 1 else f"{base} {rng.choice(TIMES[k])}"
        return surface(rng, text), [[M(x), M(-x)] * k]
    a_text, a = dist_digits(rng)
    b_text, b = dist_digits(rng)
    d, sign = rng.choice(LR)
    text = rng.choice([f"drive an L shape: {a_text} forward, turn {d}, then {b_text}",
                       f"make an L: {a_text} ahead, then turn {d} and go {b_text}",
                       f"drive an L-shaped path, {a_text} then a {d} turn then {b_text}",
                       f"trace an L shape going {a_text} forward, turning {d}, and going {b_text}"])
    return surface(rng, text), [[M(a), T(sign * 90), M(b)]]


def gen_say(rng):
    text, alts = say_clause(rng)
    return surface(rng, text, punct=not text.endswith(('"', "'"))), alts


def gen_wait(rng):
    if rng.random() < 0.88:
        text, alts = wait_clause(rng)
    else:
        w = wait_clause(rng)
        c = simple_clause(rng, allow_wait=False)
        if rng.random() < 0.5:
            text, alts = f"{w[0]} then {c[0]}", product(w[1], c[1])
        else:
            text, alts = f"{c[0]} and then {w[0]}", product(c[1], w[1])
    return surface(rng, text), alts


POLITE_PRE = ["please", "please,", "could you", "could you please", "can you", "can you please",
              "would you", "would you please", "um,", "uh,", "um", "uh", "er,", "robot,",
              "hey robot,", "hey buddy,", "hey there,", "okay robot,", "ok robot,", "okay so",
              "so, um,", "alright,", "alright robot,", "hi robot,", "if you don't mind,",
              "if you could,", "I'd like you to", "I need you to", "I want you to", "kindly",
              "excuse me,", "excuse me robot,", "do me a favour and", "do me a favor and",
              "be a pal and", "go ahead and", "when you're ready,", "hey, um,", "right, so,",
              "listen,", "sorry, could you", "mate, could you", "hey pal,", "yo robot,",
              "dear robot,", "robot, please", "okay, uh,", "bora,", "hey bora,", "bora, please",
              "uhh", "umm, can you", "well, uh,", "hmm, let's see,", "oh, and",
              "if it's not too much trouble,", "would you be so kind as to", "be a dear and",
              "I was wondering if you could", "could you maybe", "can you just"]
POLITE_SUF = ["", "", " please", ", please", ", thanks", ", thank you", " thanks",
              " if you don't mind", ", if you would", " for me", ", buddy", ", would you?",
              " if you can", ", cheers", " please and thank you", ", thanks a lot", ", okay?",
              ", pretty please", " thank you very much", ", if that's okay", " please, robot"]


def gen_politeness(rng):
    r = rng.random()
    if r < 0.2:
        base = move_clause(rng, dist_digits)
    elif r < 0.35:
        base = move_clause(rng, rng.choice([dist_units, dist_words]), syn=rng.random() < 0.3)
    elif r < 0.6:
        base = turn_clause(rng, rng.choice([angle_digits, angle_words]))
    elif r < 0.67:
        base = around_clause(rng)
    elif r < 0.77:
        base = wait_clause(rng)
    elif r < 0.87:
        base = say_clause(rng, simple=True)
    else:
        a, b = simple_clause(rng), simple_clause(rng)
        base = (f"{a[0]} {rng.choice(['and then', 'then', 'and'])} {b[0]}", product(a[1], b[1]))
    pre = rng.choice(POLITE_PRE) if rng.random() < 0.85 else ""
    suf = rng.choice(POLITE_SUF)
    if not pre and not suf:
        suf = rng.choice(POLITE_SUF[2:])
    text = (pre + " " if pre else "") + base[0] + suf
    if pre.split(" ")[0] in ("could", "can", "would", "umm,", "sorry,", "mate,") and rng.random() < 0.5 \
            and not text.endswith("?"):
        text += "?"
    return surface(rng, text, punct=not text.endswith("?")), base[1]


ASR_SUBS = [
    (r"\btwo\b", ["to", "too"]), (r"\bfour\b", ["for"]), (r"\bone\b", ["won"]),
    (r"\beight\b", ["ate"]), (r"\bthree\b", ["tree", "free"]), (r"\bfive\b", ["fife"]),
    (r"\bhalf\b", ["have", "haff"]),
    (r"\bright\b", ["write", "rite", "wright"]), (r"\bleft\b", ["lift", "lef"]),
    (r"\bturn\b", ["term", "tern", "torn", "turned"]),
    (r"\bforward\b", ["for word", "fore word", "ford", "foreword", "forwarded"]),
    (r"\bbackwards\b", ["back wards", "back words"]), (r"\bbackward\b", ["back word"]),
    (r"\bback up\b", ["backup", "back-up", "bag up"]),
    (r"\bmove\b", ["mover", "moove", "moo"]), (r"\bmeters\b", ["meter", "meaters", "meteors"]),
    (r"\bmeter\b", ["meters", "meteor"]), (r"\bmetres\b", ["meters", "meaters"]),
    (r"\bfeet\b", ["feat", "fee"]), (r"\bdegrees\b", ["degree", "degrease", "degreez"]),
    (r"\bseconds\b", ["second", "secants"]), (r"\bwait\b", ["weight", "wade"]),
    (r"\baround\b", ["a round", "round"]), (r"\bdrive\b", ["dive", "drives"]),
    (r"\bcentimeters\b", ["centimeter", "sent meters", "santimeters"]),
    (r"\binches\b", ["inch is", "inchs"]), (r"\bgo\b", ["go go", "goal"]),
    (r"\bninety\b", ["nine tee", "nighty"]), (r"\bpause\b", ["paws", "pours"]),
    (r"\breverse\b", ["reverb", "reverse reverse"]), (r"\bforty\b", ["fourty", "for tea"]),
    (r"\bthirty\b", ["dirty"]), (r"\bdegrees\b", ["degree's"]),
]


def asr_base(rng):
    r = rng.random()
    if r < 0.45:
        return move_clause(rng, rng.choice([dist_digits, dist_words, dist_words, dist_units]))
    if r < 0.75:
        return turn_clause(rng, rng.choice([angle_digits, angle_words, angle_words]))
    if r < 0.82:
        return around_clause(rng)
    if r < 0.9:
        return wait_clause(rng)
    a = rng.choice([move_clause(rng, dist_words), turn_clause(rng, angle_words)])
    b = rng.choice([move_clause(rng, dist_digits), turn_clause(rng, angle_digits), around_clause(rng)])
    return f"{a[0]} {rng.choice(['then', 'and', 'and then', ''])} {b[0]}".replace("  ", " "), product(a[1], b[1])


def asr_corrupt(rng, text):
    """Apply 1-2 mishearings; None when nothing in the text could be misheard."""
    out = text
    subs = [(p, r) for p, r in ASR_SUBS if re.search(p, out)]
    rng.shuffle(subs)
    changed = 0
    for pat, reps in subs[:rng.choice([1, 1, 2])]:
        if pat == r"\bgo\b" and rng.random() < 0.7:
            continue  # 'go' is in most commands: keep its mishearings rare
        out = re.sub(pat, rng.choice(reps), out, count=1)
        changed += 1
    if rng.random() < 0.3:
        glued = re.sub(r"(\d) (meters?|metres?|cm|degrees|seconds|feet|ft|inches|mm)\b", r"\1\2", out, count=1)
        if glued != out:
            out, changed = glued, changed + 1
    if not changed:
        return None
    if rng.random() < 0.6:
        out = re.sub(r"[^\w\s'°.-]", "", out.lower())
        out = re.sub(r"(?<!\d)\.|\.(?!\d)", "", out)  # keep decimal points: 2.5 stays 2.5
    return " ".join(out.split())


def gen_asr_errors(rng):
    text, alts = asr_base(rng)
    bad = asr_corrupt(rng, text)
    if bad is None:
        return None
    return bad, alts
