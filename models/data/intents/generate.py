#!/usr/bin/env python3
"""Template generator for the intent benchmark's train and dev splits.

    python3 models/data/intents/generate.py           # writes train.jsonl and dev.jsonl here
    python3 models/data/intents/generate.py --check   # exit 1 unless the committed files match

Deterministic: one seeded random source per pass (Draw), no set iteration, no clock. It never reads the
held-out split except to drop any generated line whose normalised text equals a held-out
line's (see normalise); it reports how many it dropped. Its vocabulary lists are its own:
heldout.jsonl was written by hand, separately, and is never a source of templates.

Each line also gets "short": its canonical plan in the short form the tuned model writes (moves in
the spoken unit, a repeated step list written once with "times"; see README.md), asserted to
expand back to plans[0].

What a line may say lives beside it: quantities.py (steps, numbers, distances, angles),
clauses.py (one-clause commands), motion.py and non_commands.py (one generator per
category), short_form.py (the short form), say_words.py (say texts to copy).
"""

import argparse
import json
import os
import random
import re
import sys
import unicodedata

from motion import (
    gen_asr_errors, gen_basic, gen_multi_step, gen_numbers, gen_politeness, gen_repetition,
    gen_say, gen_shapes, gen_synonyms, gen_units, gen_wait,
)
from non_commands import gen_injection, gen_non_command
from short_form import output_line

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 15

MOTION = ["basic", "units", "numbers", "synonyms", "multi_step", "repetition", "shapes",
          "say", "wait", "politeness", "asr_errors"]
CATEGORIES = MOTION + ["non_command", "injection"]
# (train, dev) lines per category: roughly the mix of heldout.jsonl.
QUOTA = {c: (216, 22) for c in MOTION}
QUOTA["non_command"] = (354, 33)
QUOTA["injection"] = (270, 25)
# Training-only passes after the first, each drawing the train quota again from seed
# SEED + k (distinct texts throughout).
EXTRA_PASSES = 1
# Share of say clauses in the extra passes whose text is made of uncommon or made-up words
# (say_words.py), and the size of dev_copy.jsonl, which measures copying such words.
NOVEL_SAY_SHARE = 0.8
DEV_COPY_LINES = 60

REFLEX_WORDS = re.compile(r"\b(stop|stops|stopped|stopping|halt|halted|freeze|frozen)\b", re.I)


def normalise(text):
    """Lowercase, punctuation to spaces, whitespace collapsed: the key for 'same text'."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(ch if (ch.isalnum() or ch.isspace()) else " " for ch in t)
    return " ".join(t.split())


class Draw(random.Random):
    """The random source of one pass, and where its say texts come from besides the fixed
    lists: novel_say = (say_words pool, share of say clauses), or None (the first pass and
    dev.jsonl, which draw exactly as before; see build())."""

    def __init__(self, seed, novel_say=None):
        super().__init__(seed)
        self.novel_say = novel_say


GENERATORS = {
    "basic": gen_basic, "units": gen_units, "numbers": gen_numbers, "synonyms": gen_synonyms,
    "multi_step": gen_multi_step, "repetition": gen_repetition, "shapes": gen_shapes,
    "say": gen_say, "wait": gen_wait, "politeness": gen_politeness, "asr_errors": gen_asr_errors,
    "non_command": gen_non_command, "injection": gen_injection,
}


# ---------------------------------------------------------------- assembly

def heldout_keys():
    keys = {}
    with open(os.path.join(HERE, "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                keys[normalise(json.loads(line)["text"])] = True
    return keys


def draw(cat, need, rng, held, seen, dropped):
    """`need` distinct lines of category `cat` from `rng`, none in `held` or `seen`
    (which it extends); `dropped` collects the normalised texts that equalled a heldout
    line's, with a count under the key None."""
    got = []
    attempts = 0
    while len(got) < need:
        attempts += 1
        if attempts > need * 400:
            raise SystemExit(f"generate.py: {cat}: only {len(got)} distinct lines of {need}")
        out = GENERATORS[cat](rng)
        if out is None:
            continue
        text, plans = out
        if len(plans) == 0 or any(len(p) > 8 for p in plans):
            continue
        if cat != "basic" and REFLEX_WORDS.search(text):
            continue
        key = normalise(text)
        if not key and cat != "non_command":
            continue
        if key in held:
            dropped[None] = dropped.get(None, 0) + 1
            dropped[key] = True
            continue
        if key in seen:
            continue
        seen[key] = True
        got.append(output_line(text, plans, cat))
    return got


def build():
    """(train lines, dev lines, report lines): the whole output, in memory."""
    rng = Draw(SEED)
    held = heldout_keys()
    seen = {}
    dropped = {}
    per_cat = {}
    for cat in CATEGORIES:
        got = draw(cat, sum(QUOTA[cat]), rng, held, seen, dropped)
        rng.shuffle(got)
        per_cat[cat] = got
    train, dev = [], []
    for cat in CATEGORIES:
        n_train, n_dev = QUOTA[cat]
        dev += per_cat[cat][:n_dev]
        train += per_cat[cat][n_dev:n_dev + n_train]
    rng.shuffle(train)
    rng.shuffle(dev)
    # Later passes add training lines only, from their own seeds: the first pass and
    # dev.jsonl are byte-identical whatever EXTRA_PASSES is.
    # They also draw half their say texts from say_words' training pool, so the model
    # learns to copy words it has never seen in a say text.
    for k in range(1, EXTRA_PASSES + 1):
        extra_rng = Draw(SEED + k, novel_say=("train", NOVEL_SAY_SHARE))
        for cat in CATEGORIES:
            train += draw(cat, QUOTA[cat][0], extra_rng, held, seen, dropped)
        extra_rng.shuffle(train)
    dev_copy = draw_dev_copy(held, seen, dropped)
    n_dropped = dropped.pop(None, 0)
    report = [f"dropped {n_dropped} generated lines ({len(dropped)} distinct texts) "
              f"whose normalised text equals a heldout line's"]
    return train, dev, dev_copy, report


def draw_dev_copy(held, seen, dropped):
    """dev_copy.jsonl: say lines whose texts all come from say_words' copy_dev pool, whose
    real and made-up words no training line holds."""
    rng = Draw(SEED + 100, novel_say=("copy_dev", 1.0))
    return draw("say", DEV_COPY_LINES, rng, held, seen, dropped)


def dump(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 unless train.jsonl and dev.jsonl are what this writes")
    args = ap.parse_args()
    train, dev, dev_copy, report = build()
    outputs = {"train.jsonl": dump(train), "dev.jsonl": dump(dev), "dev_copy.jsonl": dump(dev_copy)}
    for line in report:
        print(line)
    if args.check:
        bad = 0
        for name, content in outputs.items():
            path = os.path.join(HERE, name)
            try:
                with open(path, encoding="utf-8") as f:
                    on_disk = f.read()
            except FileNotFoundError:
                on_disk = None
            if on_disk != content:
                print(f"{name}: differs from what generate.py writes (run it to regenerate)")
                bad = 1
            else:
                print(f"{name}: up to date ({content.count(chr(10))} lines)")
        sys.exit(bad)
    for name, content in outputs.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
        print(f"wrote {name}: {content.count(chr(10))} lines")


if __name__ == "__main__":
    main()
