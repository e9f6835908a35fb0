#!/usr/bin/env python3
"""Where torchlint's time goes on a directory: CPU seconds per phase and per rule, in one process.

    python benchmarks/profile_phases.py PATH [--top N]

Phases, for the files the prefilter lets through: the CPython pre-parse guard
(``engine._precheck``), the site gate (``torchlint.analysis.sites``), then for the files
with a site ``libcst.parse_module``, the abstract interpreter, and
each selected rule's ``check`` (with the rules the runner would run on that
file).  CPU time (``time.process_time``), so other load on the machine matters
less than for wall-clock timings.  Also lists the slowest files.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--top", type=int, default=5, help="how many of the slowest files to list")
    args = ap.parse_args(argv)

    t0 = time.process_time()
    import libcst

    from torchlint import engine, registry
    from torchlint.analysis.context import FileContext
    from torchlint.analysis.interp import Interpreter
    from torchlint.workspace.prefilter import triggers
    from torchlint.analysis.sites import has_site, summarize

    imports = time.process_time() - t0
    codes = sorted(r.code for r in registry.all_rules() if r.default)
    trig = triggers(codes)
    phases = {"prefilter (all files)": 0.0, "precheck (ast)": 0.0, "site gate": 0.0, "libcst parse": 0.0,
              "interpreter": 0.0}
    per_rule: dict = {}
    slow = []
    files = sorted(p for p in args.path.rglob("*.py") if ".torchlint_cache" not in p.parts)
    parsed = gated = 0
    for p in files:
        data = p.read_bytes()
        t = time.process_time()
        rules = trig.rules_for(data)
        phases["prefilter (all files)"] += time.process_time() - t
        if not rules:
            continue
        gated += 1
        start = time.process_time()
        src = data.decode("utf-8", "replace")
        try:
            t = time.process_time()
            tree = engine._precheck(src, str(p))
            t1 = time.process_time()
            sites = summarize(tree)
            selected = [r for r in registry.iter_selected(sorted(rules)) if has_site(r, sites)]
            tg = time.process_time()
            phases["site gate"] += tg - t1
            if not selected:
                phases["precheck (ast)"] += t1 - t
                continue
            parsed += 1
            t1 = tg
            module = libcst.parse_module(src)
            t2 = time.process_time()
            analysis = Interpreter(module).run()
            t3 = time.process_time()
        except Exception:  # noqa: BLE001 - a file the engine refuses: not part of the profile
            continue
        phases["precheck (ast)"] += t1 - t
        phases["libcst parse"] += t2 - t1
        phases["interpreter"] += t3 - t2
        ctx = FileContext(src, str(p), module, analysis)
        for rule in selected:
            t = time.process_time()
            try:
                list(rule().check(ctx))
            except Exception:  # noqa: BLE001
                pass
            per_rule[rule.code] = per_rule.get(rule.code, 0.0) + time.process_time() - t
        slow.append((time.process_time() - start, len(data), str(p)))
    total = sum(phases.values()) + sum(per_rule.values())
    print(f"{args.path}: {len(files)} files, {gated} through the prefilter, {parsed} parsed with LibCST; "
          f"imports {imports:.2f} s CPU")
    print(f"| {'phase':<24} | {'CPU s':>7} | {'share':>6} |")
    print(f"| {'-' * 24} | {'-' * 7}:| {'-' * 6}:|")
    for k, v in list(phases.items()) + [(f"rule {c}", v) for c, v in sorted(per_rule.items())]:
        print(f"| {k:<24} | {v:>7.2f} | {v / total if total else 0:>6.1%} |")
    print(f"| {'total':<24} | {total:>7.2f} | {1:>6.1%} |")
    print("slowest files:")
    for dt, size, name in sorted(slow, reverse=True)[: args.top]:
        print(f"  {dt:6.2f} s  {size:>8,} bytes  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
