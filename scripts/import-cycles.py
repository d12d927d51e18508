#!/usr/bin/env python3
"""Fails when two modules of one crate import each other, directly or in a loop.

A module's imports are the `crate::a::b` and `super::a` paths in its code (comments and
its `#[cfg(test)] mod tests` left out), resolved to the longest module that exists. A
parent that only declares a child (`mod child;`) does not import it. Run from the
repository root: python3 scripts/import-cycles.py [CRATE_DIR...] (default: every member).
"""
import glob
import os
import re
import sys

CRATES = ["models", "rt", "geom", "agent", "sim", "pipeline", "llm", "nodes", "testkit"]


def module_path(src, path):
    """('model', 'cpu') for models/src/model/cpu/mod.rs; () for lib.rs and main.rs."""
    parts = os.path.relpath(path, src)[:-3].split("/")
    if parts[-1] in ("lib", "mod", "main"):
        parts = parts[:-1]
    return tuple(parts)


def code_of(path):
    text = open(path, encoding="utf-8").read()
    cut = text.find("#[cfg(test)]\nmod tests")
    if cut >= 0:
        text = text[:cut]
    return re.sub(r"(?m)^\s*//.*$", "", text)


def longest_module(parts, modules):
    for k in range(len(parts), 0, -1):
        if tuple(parts[:k]) in modules:
            return tuple(parts[:k])
    return None


def imports(crate):
    src = os.path.join(crate, "src")
    files = glob.glob(os.path.join(src, "**", "*.rs"), recursive=True)
    modules = {module_path(src, f): f for f in files}
    edges = {}
    for mod, path in modules.items():
        code = code_of(path)
        deps = set()
        for ref in re.findall(r"\bcrate::((?:\w+::)*\w+)", code):
            deps.add(longest_module(ref.split("::"), modules))
        for ref in re.findall(r"\bsuper::((?:\w+::)*\w+)", code):
            deps.add(longest_module(list(mod[:-1]) + ref.split("::"), modules))
        deps.discard(None)
        deps.discard(mod)
        edges[mod] = deps
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    return found


def main():
    bad = 0
    for crate in sys.argv[1:] or CRATES:
        edges = imports(crate)
        for comp in cycles(edges):
            bad += 1
            name = lambda m: "::".join(m) or "(crate root)"
            print(f"{crate}: modules import each other: {', '.join(map(name, comp))}")
            for a in comp:
                for b in sorted(edges[a] & set(comp)):
                    print(f"    {name(a)} uses {name(b)}")
    if bad:
        print("move what both need into a module that neither imports back", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
