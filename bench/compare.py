#!/usr/bin/env python3
"""bora vs llama.cpp on the same GGUF files: prefill and decode tok/s, peak RSS.

Run through bench/compare.sh, which builds llama-bench and checks the bora binary first.

Per model and thread count, each repetition runs llama.cpp's `llama-bench` and
`bora bench --json`, one after the other (never overlapping), the order alternating
from repetition to repetition so that a slow drift of the machine's load favours
neither. Every figure in the table is the median over the repetitions.

llama.cpp runs each figure in two configurations (LLAMA_CONFIGS: with its extra
buffers, AMX or repacked, and without); the table takes the faster one that ran in every
repetition and names it, and a second table shows both, or why one failed.

What is measured, on both sides:
  prefill  one 128-token prompt in one pass, tokens/s
           (llama-bench -p 128 -n 0; bora bench --prefill-tokens 128)
  decode   64 tokens one at a time after a 128-token prompt, tokens/s
           (llama-bench -p 0 -n 64 -d 128; bora bench --decode-tokens 64)
  peak RSS llama.cpp: ru_maxrss of the llama-bench process (the larger of the two
           configurations the table's figures came from);
           bora: VmHWM that `bora bench` reads before it allocates its memory bandwidth
           buffer (the process's own ru_maxrss includes that 256 MiB buffer; kept in
           the JSON as bora_process_rss_mib).
  BW %     bora's decode bandwidth fraction: weight bytes read per token x decode tok/s
           over the read bandwidth bora measures in the same run. The llama.cpp column
           applies the same bytes per token and bandwidth to llama.cpp's decode speed.

Both engines size their KV cache for 192 tokens (llama-bench sets n_ctx to prompt +
generated + depth; bora gets --context 192).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import selectors
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

PROMPT = 128
DECODE = 64
CONTEXT = PROMPT + DECODE

# name -> (file in the model cache, name in bora's registry); the files scripts/setup.sh
# downloads.
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct Q4_1"),
    "gemma3": ("gemma-3-270m-q4_k_m.gguf", "gemma-3-270m Q4_K_M"),
}

MIB = 1024.0 * 1024.0


class BenchError(Exception):
    """A run failed; the message says which command and why."""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[str, int]:
    """Run `cmd` and return (stdout, its peak RSS in bytes).

    The child is started with fork/exec and reaped with os.wait4, whose rusage is that
    child's alone (ru_maxrss in KiB on Linux).
    """
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            for fd in (r_out, w_out, r_err, w_err):
                os.close(fd)
            os.execvpe(cmd[0], cmd, env if env is not None else os.environ)
        finally:
            os._exit(127)
    os.close(w_out)
    os.close(w_err)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    # Drain both pipes without blocking on either (stderr can be large).
    sel = selectors.DefaultSelector()
    sel.register(r_out, selectors.EVENT_READ, out_chunks)
    sel.register(r_err, selectors.EVENT_READ, err_chunks)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select():
            data = os.read(key.fd, 65536)
            if data:
                key.data.append(data)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    out = b"".join(out_chunks).decode(errors="replace")
    if code != 0:
        err = b"".join(err_chunks).decode(errors="replace")
        raise BenchError(f"{shlex.join(cmd)} exited with {code}:\n{err.strip()[-2000:]}")
    return out, usage.ru_maxrss * 1024


# llama.cpp's configurations, per figure: with its extra buffers (`--repack 1`, the
# default: on x86 hosts with AMX the weights go to the AMX buffer, elsewhere to its CPU
# repack buffer) and without (`--repack 0`, plain CPU buffers). On AMX hosts the batched
# product of the extra buffer crashed in ggml_backend_amx_mul_mat (prefill, and filling
# the cache for -d 128 in one batch); decode with `-ub 1` fills the cache a token at a
# time and avoids it.
LLAMA_CONFIGS = {
    "prefill": [("extra buffers", ["--repack", "1"]), ("plain", ["--repack", "0"])],
    "decode": [("extra buffers", ["--repack", "1", "-ub", "1"]), ("plain", ["--repack", "0"])],
}


def llama_one(llama_bench: str, model: Path, threads: int, figure: str, flags: list[str]) -> dict:
    """One llama-bench run of `figure` with `flags`: tok/s and peak RSS, or the failure."""
    base = [llama_bench, "-m", str(model), "-t", str(threads), "-r", "1", "-ngl", "0", "-o", "json"]
    shape = ["-p", str(PROMPT), "-n", "0"] if figure == "prefill" else ["-p", "0", "-n", str(DECODE), "-d", str(PROMPT)]
    cmd = base + shape + flags
    try:
        out, rss = measure(cmd)
        res = json.loads(out)
        if len(res) != 1:
            raise BenchError(f"{shlex.join(cmd)} printed {len(res)} results, expected 1")
    except (BenchError, json.JSONDecodeError) as e:
        lines = [ln for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
        head = lines[0].rsplit(" exited with ", 1)
        why = f"exit {head[1].rstrip(':')}" if len(head) == 2 else lines[0][-120:]
        last = lines[-1].strip()[-160:] if len(lines) > 1 else ""
        return {"flags": flags, "error": f"{why}: {last}" if last else why, "detail": str(e)[-2000:]}
    return {"flags": flags, "tok_s": float(res[0]["avg_ts"]), "peak_rss_bytes": rss,
            "build_commit": res[0].get("build_commit", "?")}


def llama_run(llama_bench: str, model: Path, threads: int) -> dict:
    """One llama.cpp measurement: each figure in each configuration, its own process."""
    return {fig: {name: llama_one(llama_bench, model, threads, fig, flags) for name, flags in cfgs}
            for fig, cfgs in LLAMA_CONFIGS.items()}


def llama_best(runs: list[dict], figure: str) -> tuple[str, float, float] | None:
    """The configuration whose median tok/s of `figure` is highest among those that ran
    in every repetition: (name, median tok/s, median peak RSS in bytes)."""
    best = None
    for name, _ in LLAMA_CONFIGS[figure]:
        rs = [r[figure][name] for r in runs]
        if any("error" in r for r in rs):
            continue
        tok = med([r["tok_s"] for r in rs])
        if best is None or tok > best[1]:
            best = (name, tok, med([r["peak_rss_bytes"] for r in rs]))
    return best


def llama_cell(runs: list[dict], figure: str, name: str) -> str:
    """A table cell: the median tok/s of `figure` in configuration `name`, or its failure."""
    rs = [r[figure][name] for r in runs]
    bad = [r for r in rs if "error" in r]
    if bad:
        return f"failed ({len(bad)}/{len(rs)}): {bad[0]['error'][:80]}"
    return f"{med([r['tok_s'] for r in rs]):.1f}"


def bora_run(bora: str, model: Path, threads: int) -> dict:
    """One bora measurement: `bora bench --json` in its own process."""
    cmd = [
        bora, "--log", "warn", "bench", "--model", str(model), "--threads", str(threads),
        "--prefill-tokens", str(PROMPT), "--decode-tokens", str(DECODE),
        "--context", str(CONTEXT), "--json",
    ]
    out, rss = measure(cmd)
    line = next((ln for ln in out.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise BenchError(f"{shlex.join(cmd)} printed no JSON line:\n{out[-2000:]}")
    r = json.loads(line)
    if r.get("prefill_tokens") != PROMPT or r.get("decode_tokens") != DECODE:
        raise BenchError(f"bora bench measured {r.get('prefill_tokens')}/{r.get('decode_tokens')} tokens, asked {PROMPT}/{DECODE}")
    r["process_rss_bytes"] = rss
    return r


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def git_commit(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (+ uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def cpu_name() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bench", required=True, help="path of llama.cpp's llama-bench")
    ap.add_argument("--bora", required=True, help="path of the bora binary")
    ap.add_argument("--models-dir", default=os.environ.get("BORA_MODELS", str(Path.home() / ".cache/bora/models")))
    ap.add_argument("--models", default="smollm2,gemma3", help="comma-separated: " + ",".join(MODELS))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per engine (median reported)")
    ap.add_argument("--json-out", help="write every run's raw numbers here")
    a = ap.parse_args()

    if a.reps < 1:
        print("compare: --reps must be at least 1", file=sys.stderr)
        return 2
    try:
        threads = [int(t) for t in a.threads.split(",") if t]
    except ValueError:
        print(f"compare: --threads {a.threads!r} is not a comma-separated list of integers", file=sys.stderr)
        return 2
    models = []
    for name in a.models.split(","):
        if name not in MODELS:
            print(f"compare: unknown model {name!r}; known: {', '.join(MODELS)}", file=sys.stderr)
            return 2
        path = Path(a.models_dir) / MODELS[name][0]
        if not path.is_file():
            print(f"compare: {path} missing; run scripts/setup.sh (BORA_MODELS={a.models_dir})", file=sys.stderr)
            return 2
        models.append((name, path))

    repo = Path(__file__).resolve().parent.parent
    started = dt.datetime.now(dt.timezone.utc)
    load_before = load()
    commit = git_commit(repo)
    built = dt.datetime.fromtimestamp(Path(a.bora).stat().st_mtime, dt.timezone.utc)
    raw: dict = {"runs": []}
    rows = []
    configs = []
    for name, path in models:
        for t in threads:
            llama_runs, bora_runs = [], []
            for rep in range(a.reps):
                order = ("llama", "bora") if rep % 2 == 0 else ("bora", "llama")
                for engine in order:
                    print(f"[compare] {name} t={t} rep {rep + 1}/{a.reps}: {engine}", file=sys.stderr)
                    if engine == "llama":
                        llama_runs.append(llama_run(a.llama_bench, path, t))
                    else:
                        bora_runs.append(bora_run(a.bora, path, t))
            raw["runs"].append({"model": name, "file": str(path), "threads": t,
                                "llama": llama_runs, "bora": bora_runs})
            pbest = llama_best(llama_runs, "prefill")
            dbest = llama_best(llama_runs, "decode")
            if pbest is None or dbest is None:
                raise BenchError(f"{name} t={t}: no llama.cpp configuration ran: "
                                 + json.dumps(llama_runs[0])[:600])
            bp = med([r["prefill_tok_s"] for r in bora_runs])
            bd = med([r["decode_tok_s"] for r in bora_runs])
            br = med([r["peak_rss_bytes"] for r in bora_runs]) / MIB
            bw = med([r["decode_bandwidth_fraction"] for r in bora_runs])
            bytes_tok = med([r["weight_bytes_per_token"] for r in bora_runs])
            bw_gbs = med([r["bandwidth_gb_s"] for r in bora_runs])
            lbw = bytes_tok * dbest[1] / (bw_gbs * 1e9)
            lr = max(pbest[2], dbest[2]) / MIB
            rows.append((MODELS[name][1], t, pbest, dbest, bp, bd, br, lr, bw, lbw, bw_gbs))
            configs.append((MODELS[name][1], t, {fig: {n: llama_cell(llama_runs, fig, n) for n, _ in cfgs}
                                                  for fig, cfgs in LLAMA_CONFIGS.items()}))

    load_after = load()
    llama_commit = next((c.get("build_commit") for run in raw["runs"] for r in run["llama"]
                         for f in r.values() for c in f.values() if "build_commit" in c), "?")
    print(f"Measured {started:%Y-%m-%d %H:%M} UTC on {cpu_name()} ({os.cpu_count()} logical CPUs), "
          f"bora binary built {built:%Y-%m-%d %H:%M} UTC, tree at {commit}, llama.cpp {llama_commit} (vendored by llama-cpp-python, GGML_NATIVE=ON); "
          f"median of {a.reps} alternating runs; load average (1, 5, 15 min) {load_before} before, {load_after} after. "
          f"llama.cpp figures are its best working configuration per figure (named in brackets; both below).")
    print()
    print("| model | threads | llama.cpp prefill tok/s | llama.cpp decode tok/s | bora prefill tok/s | bora decode tok/s "
          "| prefill bora/llama | decode bora/llama | bora peak RSS MiB | llama.cpp peak RSS MiB | RSS bora/llama "
          "| bora decode BW % | llama.cpp decode BW % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (m, t, pb, db, bp, bd, br, lr, bw, lbw, _) in rows:
        print(f"| {m} | {t} | {pb[1]:.1f} ({pb[0]}) | {db[1]:.1f} ({db[0]}) | {bp:.1f} | {bd:.1f} | {bp / pb[1]:.2f} | {bd / db[1]:.2f} "
              f"| {br:.0f} | {lr:.0f} | {br / lr:.2f} | {bw * 100:.0f}% | {lbw * 100:.0f}% |")
    print()
    print("llama.cpp per configuration (tok/s, median); flags added to llama-bench:")
    print()
    heads = [(fig, n, " ".join(f)) for fig, cfgs in LLAMA_CONFIGS.items() for n, f in cfgs]
    print("| model | threads | " + " | ".join(f"{fig}, {n} (`{f}`)" for fig, n, f in heads) + " |")
    print("|---|---:|" + "---:|" * len(heads))
    for (m, t, cells) in configs:
        print(f"| {m} | {t} | " + " | ".join(cells[fig][n] for fig, n, _ in heads) + " |")
    bws = ", ".join(f"{m} t={t}: {g:.1f}" for (m, t, *_rest, g) in rows)
    print()
    print(f"Read bandwidth bora measured in each run (GB/s, median): {bws}.")

    if a.json_out:
        raw.update({"started_utc": started.isoformat(), "load_before": load_before, "load_after": load_after,
                    "bora_commit": commit, "bora_built_utc": built.isoformat(), "llama_cpp_commit": llama_commit})
        Path(a.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json_out).write_text(json.dumps(raw, indent=1))
        print(f"[compare] raw runs in {a.json_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"compare: {e}", file=sys.stderr)
        sys.exit(1)
