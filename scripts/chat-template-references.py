#!/usr/bin/env python3
"""Regenerates the chat-template references of
models/tests/chat_templates_render_like_the_real_templates.rs.

Each conversation below is rendered with jinja2, as Hugging Face's `apply_chat_template`
renders it (a sandboxed environment with trim_blocks and lstrip_blocks), from
- SmolLM2's template, read from the GGUF file itself (`tokenizer.chat_template`), and
- Gemma 3's instruction-tuned template, models/tests/data/chat_templates/gemma3-it.jinja
  (google/gemma-3-270m-it's tokenizer_config.json; the base GGUF bora uses carries none),
and written to models/tests/data/chat_templates/references.json (committed; the test reads
it). Gemma's text is stored without its leading `<bos>`: bora adds BOS as a token.

    python3 scripts/chat-template-references.py          # rewrite references.json
    python3 scripts/chat-template-references.py --check  # exit 1 if it would change

Needs jinja2 (Debian's python3-jinja2, or `pip install jinja2`) and the SmolLM2 GGUF in
$BORA_MODELS (default ~/.cache/bora/models; scripts/setup.sh puts it there).
"""

import json
import os
import struct
import sys
from pathlib import Path

try:
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    sys.exit("jinja2 is missing: apt-get install python3-jinja2, or pip install jinja2")

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "models/tests/data/chat_templates"
MODELS = Path(os.environ.get("BORA_MODELS", Path.home() / ".cache/bora/models"))
SMOLLM2 = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"

CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "move forward 1 m"}],
    "system_user": [
        {"role": "system", "content": "You drive a robot.\nAnswer in JSON."},
        {"role": "user", "content": "  turn left  "},
    ],
    "multi": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "stop"},
        {"role": "assistant", "content": '{"action":"stop"}'},
        {"role": "user", "content": "go back"},
    ],
}


def gguf_string(path, key):
    """The string value of metadata `key` in the GGUF file at `path` (v2/v3 layout)."""
    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
              10: "Q", 11: "q", 12: "d"}
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            sys.exit(f"{path} is not a GGUF file")
        f.read(4)  # version
        _, n_kv = struct.unpack("<QQ", f.read(16))

        def string():
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8")

        def value(kind):
            if kind == 8:
                return string()
            if kind == 9:
                item, n = struct.unpack("<IQ", f.read(12))
                return [value(item) for _ in range(n)]
            fmt = "<" + scalar[kind]
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        for _ in range(n_kv):
            name = string()
            (kind,) = struct.unpack("<I", f.read(4))
            v = value(kind)
            if name == key:
                return v
    sys.exit(f"{path} has no {key}")


def render(source, messages, add_generation_prompt, bos_token):
    def raise_exception(message):
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos_token
    )


def references():
    if not SMOLLM2.is_file():
        sys.exit(f"no {SMOLLM2}: run scripts/setup.sh (or set BORA_MODELS)")
    smollm2 = gguf_string(SMOLLM2, "tokenizer.chat_template")
    gemma3 = (DATA / "gemma3-it.jinja").read_text()
    cases = []
    for name, messages in CONVERSATIONS.items():
        for add in (True, False):
            g = render(gemma3, messages, add, "<bos>")
            assert g.startswith("<bos>"), g
            cases.append({
                "conversation": name,
                "add_generation_prompt": add,
                "smollm2": render(smollm2, messages, add, "<|im_start|>"),
                "gemma3": g[len("<bos>"):],
            })
    return {
        "generated_by": "scripts/chat-template-references.py",
        "conversations": CONVERSATIONS,
        "cases": cases,
    }


def main():
    out = DATA / "references.json"
    text = json.dumps(references(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if not out.is_file() or out.read_text() != text:
            sys.exit(f"{out} differs from what the templates render: re-run without --check")
        print(f"{out.relative_to(REPO)} matches the templates")
        return
    out.write_text(text)
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
