#!/usr/bin/env python3
"""bora vs llama.cpp on the same GGUF files: prefill and decode tok/s, peak RSS.

Run through bench/compare.sh, which builds llama-bench and checks the bora binary first.

Per model and thread count, each repetition runs llama.cpp's `llama-bench` and
`bora bench --json`, one after the other (never overlapping), the order alternating
from repetition to repetition so that a slow drift of the machine's load favours
neither. Every figure in the table is the median over the repetitions.

What is measured, on both sides:
  prefill  one 128-token prompt in one pass, tokens/s
           (llama-bench -p 128 -n 0; bora bench --prefill-tokens 128)
  decode   64 tokens one at a time after a 128-token prompt, tokens/s
           (llama-bench -p 0 -n 64 -d 128; bora bench --decode-tokens 64)
  peak RSS llama.cpp: ru_maxrss of the llama-bench process (largest of its two runs);
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


def llama_run(llama_bench: str, model: Path, threads: int) -> dict:
    """One llama.cpp measurement: prefill run and decode run, two processes."""
    base = [llama_bench, "-m", str(model), "-t", str(threads), "-r", "1", "-ngl", "0", "-o", "json"]
    out_p, rss_p = measure(base + ["-p", str(PROMPT), "-n", "0"])
    out_d, rss_d = measure(base + ["-p", "0", "-n", str(DECODE), "-d", str(PROMPT)])
    pp = json.loads(out_p)
    tg = json.loads(out_d)
    if len(pp) != 1 or len(tg) != 1:
        raise BenchError(f"llama-bench printed {len(pp)} + {len(tg)} results, expected 1 + 1")
    return {
        "prefill_tok_s": float(pp[0]["avg_ts"]),
        "decode_tok_s": float(tg[0]["avg_ts"]),
        "peak_rss_bytes": max(rss_p, rss_d),
        "build_commit": pp[0].get("build_commit", "?"),
        "cpu_info": pp[0].get("cpu_info", "?"),
        "n_threads": pp[0].get("n_threads"),
    }


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
            lp = med([r["prefill_tok_s"] for r in llama_runs])
            ld = med([r["decode_tok_s"] for r in llama_runs])
            lr = med([r["peak_rss_bytes"] for r in llama_runs]) / MIB
            bp = med([r["prefill_tok_s"] for r in bora_runs])
            bd = med([r["decode_tok_s"] for r in bora_runs])
            br = med([r["peak_rss_bytes"] for r in bora_runs]) / MIB
            bw = med([r["decode_bandwidth_fraction"] for r in bora_runs])
            bytes_tok = med([r["weight_bytes_per_token"] for r in bora_runs])
            bw_gbs = med([r["bandwidth_gb_s"] for r in bora_runs])
            lbw = bytes_tok * ld / (bw_gbs * 1e9)
            rows.append((MODELS[name][1], t, lp, ld, bp, bd, br, lr, bw, lbw, bw_gbs))

    load_after = load()
    llama_commit = raw["runs"][0]["llama"][0]["build_commit"] if raw["runs"] else "?"
    print(f"Measured {started:%Y-%m-%d %H:%M} UTC on {cpu_name()} ({os.cpu_count()} logical CPUs), "
          f"bora binary built {built:%Y-%m-%d %H:%M} UTC, tree at {commit}, llama.cpp {llama_commit} (vendored by llama-cpp-python, GGML_NATIVE=ON); "
          f"median of {a.reps} alternating runs; load average (1, 5, 15 min) {load_before} before, {load_after} after.")
    print()
    print("| model | threads | llama.cpp prefill tok/s | llama.cpp decode tok/s | bora prefill tok/s | bora decode tok/s "
          "| prefill bora/llama | decode bora/llama | bora peak RSS MiB | llama.cpp peak RSS MiB | RSS bora/llama "
          "| bora decode BW % | llama.cpp decode BW % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (m, t, lp, ld, bp, bd, br, lr, bw, lbw, _) in rows:
        print(f"| {m} | {t} | {lp:.1f} | {ld:.1f} | {bp:.1f} | {bd:.1f} | {bp / lp:.2f} | {bd / ld:.2f} "
              f"| {br:.0f} | {lr:.0f} | {br / lr:.2f} | {bw * 100:.0f}% | {lbw * 100:.0f}% |")
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
