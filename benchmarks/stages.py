#!/usr/bin/env python3
"""How many files reach each stage, per rule, and the CPU time of each stage, in one process.

    python benchmarks/stages.py PATH [--select CODES] [--ungated] [--top N] [--json] [--list-parsed FILE]

The stages are the engine's, in its order: the byte prefilter (trigger words,
:mod:`torchlint.workspace.prefilter`), CPython's ``ast`` parse and the site
gate (:mod:`torchlint.analysis.sites`; the engine walks the tree once for the
gate and its depth guards, so both count as "ast parse"), the LibCST parse, the
interpreter, its second pass with the project's other modules where a backward
site is unknown alone (:mod:`torchlint.analysis.project`), and each rule's
``check``.  For every rule it counts the files its triggers let
through, the files its sites send on, and the files where it finds something;
for the files the gate sends on it also counts *which* declared site matched
(``call:requires_grad_``, ``kw:requires_grad``, ...), so that a site that
sends many files for nothing is easy to see.

``--ungated`` also runs, on every file the prefilter lets through, the rules
the gate dropped, and counts their findings there: any finding is a gate that
hides a finding (it must be 0).

Times are CPU seconds (``time.process_time``), so other load on the machine
matters less than for wall-clock timings.  The garbage collector is paced as the
runner paces it (``torchlint.runner._FileCollector``: a collection before each
file, none within one), and that collection is a stage of its own, "gc between
files".  ``benchmarks/run.py`` runs this in a subprocess and prints its tables
next to the wall-clock ones.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

SKIP_DIRS = {".torchlint_cache", ".git", "__pycache__", ".ruff_cache"}
STAGES = ("read + prefilter", "decode", "ast parse", "site gate", "libcst parse", "interpreter", "project pass",
          "rules", "gc between files")


class _Whole(Exception):
    """A reduced file's analysis went past the budget: the engine analyses the whole file."""


def python_files(root: Path) -> list:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.py") if not SKIP_DIRS & set(p.parts))


def profile(root: Path, select=None, ungated: bool = False, top: int = 5, listing: dict = None) -> dict:
    """The stage counts and CPU times of the engine on the Python files under ``root`` (a dict, JSON-able).

    ``listing``, when given, receives the paths that pass the prefilter (``"prefilter"``) and that reach
    LibCST (``"libcst"``)."""
    listing = {} if listing is None else listing
    listing.update(prefilter=[], libcst=[])
    t0 = time.process_time()
    from torchlint import engine, registry
    from torchlint.analysis import sites as sitemod
    from torchlint.runner import decode
    from torchlint.workspace.prefilter import triggers

    rules_by_code = {r.code: r for r in registry.all_rules()}
    codes = sorted(select) if select else sorted(c for c, r in rules_by_code.items() if r.default)
    trig = triggers(codes)
    import libcst  # noqa: F401  (the import is start-up, not a stage)

    from torchlint.analysis.context import FileContext
    from torchlint.analysis.project import link_for, with_project
    try:
        from torchlint.analysis.interp import Interpreter
    except ImportError:  # before the interpreter was split into a package
        from torchlint.analysis.interpreter import Interpreter

    imports = time.process_time() - t0
    cpu = dict.fromkeys(STAGES, 0.0)
    rule_cpu = dict.fromkeys(codes, 0.0)
    files = python_files(root)
    count = Counter()
    per_rule = {c: Counter() for c in codes}
    reasons = {c: Counter() for c in codes}
    hidden = Counter()  # rule -> findings on files the gate dropped it from (--ungated)
    parsed_bytes = total_bytes = 0
    slow = []

    def run_rules(selected, ctx, sink):
        for rule in selected:
            t = time.process_time()
            try:
                found = list(rule().check(ctx))
            except Exception:  # noqa: BLE001 - a crashing rule is the engine's TL999, not a stage
                found = []
            rule_cpu.setdefault(rule.code, 0.0)
            rule_cpu[rule.code] += time.process_time() - t
            sink(rule.code, found)

    # the collector paced as the runner paces it (one collection before each file it checks, none in a file):
    # with the default pacing, the full collections that a file's allocations set off land in whatever stage
    # allocates most (CPython's ast parse), and a run never makes them
    from torchlint.runner import _FileCollector

    collector = _FileCollector()
    from torchlint.analysis import cstwalk

    link = None
    try:  # the engine closes a file's interpreters once its rules ran (Interpreter.close): so does this profile
        from torchlint.analysis.interp.core import closing
    except ImportError:  # an engine before that
        closing = None
    arena = None
    import inspect

    gathers = "parts" in inspect.signature(engine._precheck).parameters
    for p in files:
        t = time.process_time()
        data = p.read_bytes()
        total_bytes += len(data)
        passed = trig.rules_for(data)
        cpu["read + prefilter"] += time.process_time() - t
        count["files"] += 1
        if not passed:
            continue
        # the last file's trees and analysis are gone by now in a run (the engine lets go of them): not held here
        tree = module = analysis = first = ctx = summary = box = parts = reduced = None  # noqa: F841
        cstwalk.forget()
        if link is not None and hasattr(link, "release"):
            link.release()
        link = None
        if arena is not None:
            arena.__exit__(None, None, None)
        arena = closing() if closing is not None else None
        if arena is not None:
            arena.__enter__()
        t = time.process_time()
        collector.before_file()
        cpu["gc between files"] += time.process_time() - t
        count["prefilter"] += 1
        listing["prefilter"].append(str(p))
        for c in passed:
            per_rule[c]["prefilter"] += 1
        start = t
        t = time.process_time()
        try:
            src = decode(data, str(p))[0]
        except Exception:  # noqa: BLE001 - undecodable: an E902, not a stage
            continue
        t1 = time.process_time()
        cpu["decode"] += t1 - t
        box: list = []
        # (what the same walk gathers for partial.reduce, in an engine whose walk does)
        parts: list | None = [] if gathers else None
        try:  # (the engine's guards and its site summary share one walk of the tree: both are "ast parse")
            tree = engine._precheck(src, str(p), box, parts) if gathers else engine._precheck(src, str(p), box)
        except Exception:  # noqa: BLE001 - a syntax error: an E999, not a stage
            cpu["ast parse"] += time.process_time() - t1
            continue
        t2 = time.process_time()
        cpu["ast parse"] += t2 - t1
        count["ast"] += 1
        summary = box[0]
        selected, dropped = [], []
        for c in sorted(passed):
            rule = rules_by_code[c]
            hits = sitemod.matched_sites(rule, summary)
            if hits:
                selected.append(rule)
                per_rule[c]["gate"] += 1
                reasons[c].update(hits)
            else:
                dropped.append(rule)
        t3 = time.process_time()
        cpu["site gate"] += t3 - t2
        if not selected and not (ungated and dropped):
            continue
        try:
            if hasattr(engine, "parse_reduced"):  # LibCST parses only what the rules reach (analysis/partial.py)
                module, reduced = engine.parse_reduced(src, str(p), tree, selected + (dropped if ungated else []),
                                                       summary, *([parts] if gathers else []))
                parts = None
            else:
                module, reduced = engine._parse_cst(src, str(p)), None
            t4 = time.process_time()
            link = link_for(str(p))
            t4b = time.process_time()  # (finding the project's roots: part of the project pass)
            while True:
                try:
                    first = Interpreter(module, keep_units=link is not None)
                    analysis = first.run()
                    if reduced is not None and getattr(analysis, "budget_spent", False):
                        raise _Whole()
                    t5 = time.process_time()
                    # the engine's second pass, with the project's other modules, where a backward site is unknown
                    # alone
                    analysis, used = with_project(module, str(p), link, first, analysis)
                    break
                except BaseException as e:  # the engine's fallbacks: out of budget, a left-out method looked up
                    if reduced is None or not (isinstance(e, _Whole) or type(e).__name__ == "WholeFileNeeded"):
                        raise
                    module, reduced = engine._parse_cst(src, str(p)), None
                    link = link_for(str(p))
            if used is not None:
                count["project pass"] += 1
            t5b = time.process_time()
        except Exception:  # noqa: BLE001 - a file the engine refuses: not part of the profile
            continue
        ctx = FileContext(src, str(p), module, analysis)
        if dropped and ungated:
            run_rules(dropped, ctx, lambda code, found: hidden.update({code: len(found)}))
            if not selected:
                continue
        count["libcst"] += 1
        listing["libcst"].append(str(p))
        count["interpreter"] += 1
        parsed_bytes += len(data) if reduced is None else round(len(data) * reduced.kept_chars / max(len(src), 1))
        cpu["libcst parse"] += t4 - t3
        cpu["interpreter"] += t5 - t4b
        cpu["project pass"] += t5b - t5 + t4b - t4

        def sink(code, found):
            if found:
                per_rule[code]["files with findings"] += 1
                per_rule[code]["findings"] += len(found)

        t6 = time.process_time()
        got: list = []
        try:
            run_rules(selected, ctx, lambda code, found: got.append((code, found)))
        except BaseException as e:  # the engine's other fallback: a whole-file fact a reduced file cannot give
            if type(e).__name__ != "WholeFileNeeded":
                raise
            got.clear()
            module = engine._parse_cst(src, str(p))
            analysis = Interpreter(module).run()
            link = link_for(str(p))
            if link is not None and link.needed(module, analysis):
                analysis = Interpreter(module, project=link).run()
            ctx = FileContext(src, str(p), module, analysis)
            run_rules(selected, ctx, lambda code, found: got.append((code, found)))
        for code, found in got:
            sink(code, found)
        cpu["rules"] += time.process_time() - t6
        slow.append((time.process_time() - start, len(data), str(p)))
    if arena is not None:
        arena.__exit__(None, None, None)
    collector.done()
    return {
        "path": str(root), "select": codes, "imports_cpu": imports, "counts": dict(count),
        "parsed_bytes": parsed_bytes, "total_bytes": total_bytes,
        "cpu": cpu, "rule_cpu": rule_cpu,
        "per_rule": {c: dict(v) for c, v in per_rule.items()},
        "sites": {c: dict(v.most_common()) for c, v in reasons.items()},
        "hidden_by_gate": dict(hidden) if ungated else None,
        "slowest": [{"cpu": dt, "bytes": size, "path": name} for dt, size, name in sorted(slow, reverse=True)[:top]],
    }


def print_tables(res: dict, out=sys.stdout) -> None:
    c = res["counts"]
    print(f"{res['path']}: {c.get('files', 0)} files; {c.get('prefilter', 0)} pass the prefilter, "
          f"{c.get('ast', 0)} parse with ast, {c.get('libcst', 0)} reach LibCST and the interpreter "
          f"(LibCST parses {res['parsed_bytes'] / 1e6:.2f} of {res['total_bytes'] / 1e6:.2f} MB); "
          f"imports {res['imports_cpu']:.2f} s CPU", file=out)
    print(file=out)
    print(f"| {'stage':<20} | {'files':>6} | {'CPU s':>7} | {'share':>6} |", file=out)
    print(f"| {'-' * 20} | {'-' * 6}:| {'-' * 7}:| {'-' * 6}:|", file=out)
    files_at = {"read + prefilter": c.get("files", 0), "decode": c.get("prefilter", 0),
                "ast parse": c.get("prefilter", 0), "site gate": c.get("ast", 0),
                "libcst parse": c.get("libcst", 0), "interpreter": c.get("interpreter", 0),
                "project pass": c.get("project pass", 0), "rules": c.get("interpreter", 0),
                "gc between files": c.get("prefilter", 0)}
    total = sum(res["cpu"].values()) or 1.0
    for stage, v in res["cpu"].items():
        print(f"| {stage:<20} | {files_at[stage]:>6} | {v:>7.2f} | {v / total:>6.1%} |", file=out)
    print(f"| {'total':<20} | {'':>6} | {total:>7.2f} | {1:>6.1%} |", file=out)
    print(file=out)
    print(f"| {'rule':<6} | {'prefilter':>9} | {'gate':>5} | {'with findings':>13} | {'findings':>8} | "
          f"{'rule CPU s':>10} | sites that sent files on (files) |", file=out)
    print(f"| {'-' * 6} | {'-' * 9}:| {'-' * 5}:| {'-' * 13}:| {'-' * 8}:| {'-' * 10}:| --- |", file=out)
    for code, v in res["per_rule"].items():
        sites = ", ".join(f"{k} {n}" for k, n in list(res["sites"].get(code, {}).items())[:4])
        print(f"| {code:<6} | {v.get('prefilter', 0):>9} | {v.get('gate', 0):>5} | "
              f"{v.get('files with findings', 0):>13} | {v.get('findings', 0):>8} | "
              f"{res['rule_cpu'].get(code, 0.0):>10.2f} | {sites or '-'} |", file=out)
    if res.get("hidden_by_gate") is not None:
        hidden = res["hidden_by_gate"]
        print(file=out)
        print(f"findings on files the gate dropped the rule from (must be 0): {sum(hidden.values())}"
              + (f" {hidden}" if sum(hidden.values()) else ""), file=out)
    if res["slowest"]:
        print(file=out)
        print("slowest files (CPU s, bytes):", file=out)
        for s in res["slowest"]:
            print(f"  {s['cpu']:6.2f}  {s['bytes']:>9,}  {s['path']}", file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--select", default=None, help="comma-separated rule codes (default: the default rules)")
    ap.add_argument("--ungated", action="store_true",
                    help="also run the rules the gate dropped, and count their findings (must be 0)")
    ap.add_argument("--top", type=int, default=5, help="how many of the slowest files to list")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--list-parsed", type=Path, default=None,
                    help="write the files that pass the prefilter and that reach LibCST to this file (JSON)")
    args = ap.parse_args(argv)
    select = [s.strip() for s in args.select.split(",")] if args.select else None
    listing: dict = {}
    res = profile(args.path, select, args.ungated, args.top, listing)
    if args.list_parsed:
        args.list_parsed.write_text(json.dumps(listing))
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_tables(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
