#!/usr/bin/env python3
"""Regenerates the committed seed corpora in fuzz/seeds/<target>/ from real project files.

Run from anywhere: python3 fuzz/make_seeds.py. Sources: the first 16 KiB of each GGUF in
~/.cache/bora/models (headers only, not 100 MB files), a tiny complete llama GGUF built
here, the llama.cpp tokenizer reference lines, the fallback parser's phrasing table,
intent JSON examples, launch/params/*.yaml and launch/worlds/*.yaml.
"""
import hashlib
import json
import os
import re
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
SEEDS = FUZZ / "seeds"
MODELS = Path(os.environ.get("BORA_MODELS_DIR", Path.home() / ".cache/bora/models"))


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    (d / name).write_bytes(data)


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def tiny_llama(f32=True):
    """1 layer, hidden 32, 2 heads, ffn 64, vocab 8 (as models/tests/bad_gguf_files...)."""
    kvs = [
        gstr("general.architecture") + struct.pack("<I", 8) + gstr("llama"),
        gstr("llama.block_count") + struct.pack("<II", 4, 1),
        gstr("llama.embedding_length") + struct.pack("<II", 4, 32),
        gstr("llama.attention.head_count") + struct.pack("<II", 4, 2),
        gstr("llama.feed_forward_length") + struct.pack("<II", 4, 64),
        gstr("llama.vocab_size") + struct.pack("<II", 4, 8),
        gstr("llama.attention.layer_norm_rms_epsilon") + struct.pack("<If", 6, 1e-5),
        gstr("tokenizer.ggml.model") + struct.pack("<I", 8) + gstr("gpt2"),
        gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 8)
        + b"".join(gstr(t) for t in ["<|endoftext|>", "a", "b", "c", "ab", "Ġ", "Ġa", "<|im_start|>"]),
        gstr("tokenizer.ggml.merges") + struct.pack("<IIQ", 9, 8, 2)
        + gstr("a b") + gstr("Ġ a"),
        gstr("tokenizer.ggml.token_type") + struct.pack("<IIQ", 9, 5, 8)
        + struct.pack("<8i", 3, 1, 1, 1, 1, 1, 1, 3),
        gstr("tokenizer.ggml.eos_token_id") + struct.pack("<II", 4, 0),
    ]
    tensors = [("token_embd.weight", [32, 8]), ("output_norm.weight", [32])]
    for n, d in [("attn_norm", [32]), ("ffn_norm", [32]), ("attn_q", [32, 32]),
                 ("attn_k", [32, 32]), ("attn_v", [32, 32]), ("attn_output", [32, 32]),
                 ("ffn_gate", [32, 64]), ("ffn_up", [32, 64]), ("ffn_down", [64, 32])]:
        tensors.append((f"blk.0.{n}.weight", d))
    infos, data = b"", b""
    for name, dims in tensors:
        n = 1
        for x in dims:
            n *= x
        infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", x) for x in dims)
        if f32 or len(dims) == 1:
            infos += struct.pack("<IQ", 0, len(data))
            data += b"".join(struct.pack("<f", (i % 7) * 0.01) for i in range(n))
        else:  # Q8_0: 32 values in 34 bytes (f16 scale + 32 i8)
            infos += struct.pack("<IQ", 8, len(data))
            data += (struct.pack("<e", 0.01) + bytes(range(32))) * (n // 32)
        data += b"\0" * (-len(data) % 32)
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    out += b"\0" * (-len(out) % 32)
    return out + data


def main():
    # gguf: a complete tiny model (F32 and Q8_0) and the start of each real header.
    put("gguf", tiny_llama(True), "tiny-llama-f32.gguf")
    put("gguf", tiny_llama(False), "tiny-llama-q8_0.gguf")
    for f in sorted(MODELS.glob("*.gguf")):
        with open(f, "rb") as fh:
            put("gguf", fh.read(16384), f"{f.stem}-head16k.gguf")
    # tokenizer: the llama.cpp reference texts.
    ref = REPO.parent / "shared/reference/tokenize.jsonl"
    if ref.exists():
        for line in ref.read_text().splitlines():
            if line.strip():
                put("tokenizer", json.loads(line)["text"])
    put("tokenizer", "<|im_start|>user\ngo forward<|im_end|>\n")
    # intent: the fallback phrasing table and JSON plans.
    table = (REPO / "agent/tests/fallback_parser_understands_common_phrasings.rs").read_text()
    for phrase in re.findall(r'^\s*\("([^"\\]*)",', table, re.M):
        put("intent", phrase)
    put("intent", 'say "Grüße!" then turn left')
    for plan in [
        {"plan": [{"action": "move", "distance_m": 2.0}, {"action": "turn", "angle_deg": 90.0}]},
        {"plan": [{"action": "wait", "seconds": 1.5}, {"action": "stop"}]},
        {"plan": [{"action": "say", "text": "hello"}]},
        {"plan": [{"action": "move", "distance_m": -0.5}] * 8},
    ]:
        put("intent", json.dumps(plan, separators=(",", ":")))
    # params and world: the shipped files.
    for f in sorted((REPO / "launch/params").glob("*.yaml")):
        put("params", f.read_bytes(), f.name)
    put("params", "bora_sim:\n  ros__parameters:\n    rate: 100.0\n    beams: 360\n    world: ''\n", "sim.yaml")
    for f in sorted((REPO / "launch/worlds").glob("*.yaml")):
        put("world", f.read_bytes(), f.name)
    put("world", "start: {x: 0.0, y: 0.0, yaw_deg: 0.0}\nroom: {min: [-5, -5], max: [5, 5]}\n"
        "walls:\n  - {from: [2.0, -1.0], to: [2.0, 1.0]}\nboxes:\n"
        "  - {center: [1.0, 0.0], size: [0.4, 0.6], yaw_deg: 30}\n", "doc-example.yaml")


if __name__ == "__main__":
    main()
