#!/usr/bin/env python3
"""Benchmark torchlint against Ruff and TorchFix on a directory of Python files.

    python benchmarks/run.py PATH [--vs-ruff] [--vs-torchfix] [--runs N] [--json]

Measured in one run, alternating the tools round by round (so that machine noise
hits every tool alike), each command in a fresh process:

* torchlint cold (``--no-cache``, with its default jobs and with ``--jobs 1``)
  and warm (its cache filled, nothing changed);
* torchlint on one file without trigger words, and on one file with a
  ``backward(`` call;
* the plain ``libcst.parse_module`` floor over the files torchlint hands to LibCST;
* with ``--vs-ruff``: ``ruff check --select ALL --no-cache``, and Ruff warm;
* with ``--vs-torchfix``: ``torchfix`` (one run: it is slow).

Reports medians, all the ratios of issue 13 (to Ruff, and to the LibCST parse
floor) with their targets, peak resident memory of the largest process of
each tool (``getrusage(RUSAGE_CHILDREN)``), and, from ``benchmarks/stages.py``
(one process, CPU seconds), the files that reach each stage (prefilter,
``ast`` gate, LibCST, interpreter) per rule and the CPU time of each stage
(parse, interpretation, rules).  It also checks that torchlint's findings are
identical cold, warm, with ``--jobs 1`` and with ``--jobs 2``.

Python bytecode: the tools run with bytecode caching on (as after a ``pip
install``), even when ``PYTHONDONTWRITEBYTECODE`` is set in this environment;
``--no-bytecode`` keeps the environment as it is.

It is not part of the test suite's pass/fail.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "dt = time.perf_counter() - t\n"
    "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
)

TARGETS = {  # issue 13 (and issue 5's, still held)
    "torchlint cold / ruff": 1.5,
    "torchlint warm / ruff warm": 1.0,
    "torchlint warm (s)": 0.25,
    "torchlint 1 file, no triggers (s)": 0.08,
    "torchlint 1 file with backward (s)": 0.25,
    "torchlint peak MiB, one process": 150,
}


def measure(cmd, cwd, env):
    """(seconds, peak RSS in MiB of the largest process, exit code) of one command, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], cwd=cwd, capture_output=True, text=True, env=env)
    dt, rss, rc = out.stdout.split()
    return float(dt), int(rss) / 1024, int(rc)


def python_files(root: Path) -> list:
    skip = {".torchlint_cache", ".git", "__pycache__", ".ruff_cache"}
    return sorted(p for p in root.rglob("*.py") if not skip & set(p.parts))


def stage_profile(root: Path, env: dict, listing: Path) -> dict:
    """``benchmarks/stages.py`` on ``root``, in a fresh process of the code under test (its JSON)."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("stages.py")), str(root), "--json",
                          "--list-parsed", str(listing)], capture_output=True, text=True, env=env, cwd=root)
    if out.returncode != 0:
        raise SystemExit(f"benchmarks/stages.py failed on {root}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def parse_floor_cmd(files: list, listing: Path) -> list:
    listing.write_text("\n".join(str(f) for f in files))
    code = ("import sys, libcst\n"
            "for line in open(sys.argv[1]).read().splitlines():\n"
            "    try:\n"
            "        libcst.parse_module(open(line, 'rb').read())\n"
            "    except Exception:\n"
            "        pass\n")
    return [sys.executable, "-c", code, str(listing)]


def snapshot(dest: Path) -> str:
    import torchlint
    from torchlint import registry

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(torchlint.__file__).parent, dest / "torchlint", ignore=ignore)
    rules = Path(registry._import_rules_package().__path__[0])
    if not (dest / "torchlint" / "rules").exists():
        shutil.copytree(rules, dest / "torchlint" / "rules", ignore=ignore)
    return str(dest)


def print_stage_tables(stages: dict) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from stages import print_tables
    finally:
        sys.path.pop(0)
    print_tables(stages)


def find_tool(name: str, given):
    if given:
        return given
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def findings(cmd, cwd, env) -> list:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    try:
        data = json.loads(r.stdout or "[]")
    except ValueError:
        return [("unparsable output", r.returncode, r.stdout[-500:], r.stderr[-500:])]
    return sorted((d.get("filename"), d.get("location", {}).get("row"), d.get("location", {}).get("column"),
                   d.get("code"), d.get("message")) for d in data)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--vs-ruff", action="store_true", help="also time ruff check --select ALL --no-cache")
    ap.add_argument("--vs-torchfix", action="store_true", help="also time torchfix")
    ap.add_argument("--torchfix", default=None, help="path of the torchfix executable")
    ap.add_argument("--ruff", default=None, help="path of the ruff executable")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=None, help="--jobs for torchlint (default: its own)")
    ap.add_argument("--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as it is")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="run torchlint from where it is installed, not from a frozen copy of its code")
    ap.add_argument("--no-consistency", action="store_true", help="skip the cold/warm/--jobs findings comparison")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)

    root = args.path.resolve()
    if not root.is_dir():
        ap.error(f"{root} is not a directory")
    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    files = python_files(root)
    work = Path(tempfile.mkdtemp(prefix="torchlint-bench-"))
    if not args.no_snapshot:
        # A frozen copy of the code: the cache key hashes torchlint's sources, so an edit in the
        # checkout during the benchmark would otherwise turn warm runs into cold ones.
        env["PYTHONPATH"] = snapshot(work / "src")
        where = subprocess.run([sys.executable, "-c", "import torchlint, torchlint.rules as r; print(r.__file__)"],
                               env=env, cwd=root, capture_output=True, text=True).stdout.strip()
        if not where.startswith(env["PYTHONPATH"]):
            print(f"warning: the code snapshot is not used ({where}); timing the installed code", file=sys.stderr)
    stages = stage_profile(root, env, work / "stages.txt")
    listed = json.loads((work / "stages.txt").read_text())
    parsed = [Path(p) for p in listed["libcst"]]  # the files torchlint hands to LibCST
    prefiltered_set = {Path(p) for p in listed["prefilter"]}
    skipped = [f for f in files if f not in prefiltered_set]
    cache = work / "cache"
    tl = [sys.executable, "-m", "torchlint", "check", "--exit-zero", "--output-format", "concise", "--isolated"]
    if args.jobs:
        tl += ["--jobs", str(args.jobs)]
    one_plain = skipped[len(skipped) // 2] if skipped else None
    with_backward = [f for f in parsed if b".backward(" in f.read_bytes()]
    one_backward = with_backward[len(with_backward) // 2] if with_backward else (parsed[0] if parsed else None)

    tools = {
        "torchlint cold": tl + ["--no-cache", str(root)],
        "torchlint cold --jobs 1": tl + ["--no-cache", "--jobs", "1", str(root)],
        "torchlint warm": tl + ["--cache-dir", str(cache), str(root)],
        "libcst parse floor": parse_floor_cmd(parsed, work / "parsed.txt"),
    }
    if one_plain:
        tools["torchlint 1 file, no triggers"] = tl + ["--no-cache", str(one_plain)]
    if one_backward:
        tools["torchlint 1 file with backward"] = tl + ["--no-cache", str(one_backward)]
    ruff = find_tool("ruff", args.ruff)
    if args.vs_ruff and ruff:
        tools["ruff --select ALL --no-cache"] = [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero",
                                                 "--isolated", "-q", str(root)]
        tools["ruff warm"] = [ruff, "check", "--select", "ALL", "--exit-zero", "--isolated", "-q",
                              "--cache-dir", str(work / "ruff-cache"), str(root)]
    elif args.vs_ruff:
        print("ruff not found: skipping it", file=sys.stderr)
    torchfix = find_tool("torchfix", args.torchfix)
    if args.vs_torchfix and torchfix:
        tools["torchfix"] = [torchfix, str(root)]
    elif args.vs_torchfix:
        print("torchfix not found: skipping it (pip install torchfix, in a separate venv: it pins libcst<1.6)",
              file=sys.stderr)

    # warm-up: write bytecode, fill the caches the warm runs rely on
    for name, cmd in tools.items():
        if name != "torchfix":
            measure(cmd, root, env)
    times: dict = {k: [] for k in tools}
    peaks: dict = {k: 0.0 for k in tools}
    runs = {k: (1 if k == "torchfix" else args.runs) for k in tools}
    for i in range(args.runs):
        for name, cmd in tools.items():
            if i >= runs[name]:
                continue
            dt, rss, rc = measure(cmd, root, env)
            times[name].append(dt)
            peaks[name] = max(peaks[name], rss)
    med = {k: statistics.median(v) for k, v in times.items() if v}

    consistent = None
    if not args.no_consistency:
        base = [sys.executable, "-m", "torchlint", "check", "--exit-zero", "--output-format", "json", "--isolated"]
        runs_found = {
            "cold --jobs 1": findings(base + ["--no-cache", "--jobs", "1", str(root)], root, env),
            "cold --jobs 2": findings(base + ["--no-cache", "--jobs", "2", str(root)], root, env),
            "warm": findings(base + ["--cache-dir", str(cache), str(root)], root, env),
        }
        first = next(iter(runs_found.values()))
        consistent = {"identical": all(v == first for v in runs_found.values()), "findings": len(first),
                      "codes": sorted({f[3] for f in first if len(f) > 3 and f[3]})}

    # what the analysis reached (torchlint explain): files the budget cut short, backward sites with a verdict
    reach = subprocess.run([sys.executable, "-m", "torchlint", "explain", "--statistics", "--output-format", "json",
                            str(root)], cwd=root, env=env, capture_output=True, text=True)
    try:
        reach = json.loads(reach.stdout)
        reach = {"truncated_files": reach["files"]["truncated"], "backward_known": reach["backward"]["known"],
                 "backward_sites": reach["backward"]["total"]}
    except (ValueError, KeyError):
        reach = None

    ruff_cold = med.get("ruff --select ALL --no-cache")
    ruff_warm = med.get("ruff warm")
    tl_peak = peaks["torchlint cold --jobs 1"]
    cpu = stages["cpu"]
    cpu_stages = {"prefilter (read, match)": cpu["read + prefilter"],
                  "parse: ast + site gate": cpu["decode"] + cpu["ast parse"] + cpu["site gate"],
                  "parse: libcst": cpu["libcst parse"], "interpretation": cpu["interpreter"],
                  "interpretation: project pass": cpu.get("project pass", 0.0), "rules": cpu["rules"]}
    result = {
        "path": str(root), "files": len(files), "prefiltered": len(prefiltered_set), "parsed": len(parsed),
        "skipped": len(skipped), "stages": stages, "cpu_per_stage": cpu_stages,
        "parsed_bytes": sum(f.stat().st_size for f in parsed), "total_bytes": sum(f.stat().st_size for f in files),
        # of the parsed files' bytes, those LibCST parses (it leaves out what no rule reaches: analysis/partial.py)
        "libcst_bytes": stages.get("parsed_bytes"),
        "one_file_no_triggers": str(one_plain) if one_plain else None,
        "one_file_with_backward": str(one_backward) if one_backward else None,
        "runs": args.runs, "cpus": len(os.sched_getaffinity(0)), "bytecode": not args.no_bytecode,
        "median_seconds": med, "peak_rss_mib": peaks,
        "ratios": {
            "torchlint cold / ruff": med["torchlint cold"] / ruff_cold if ruff_cold else None,
            "torchlint warm / ruff warm": med["torchlint warm"] / ruff_warm if ruff_warm else None,
            "torchlint cold --jobs 1 / ruff": med["torchlint cold --jobs 1"] / ruff_cold if ruff_cold else None,
            "torchlint cold / libcst parse floor": med["torchlint cold"] / med["libcst parse floor"],
            "libcst parse floor / ruff": med["libcst parse floor"] / ruff_cold if ruff_cold else None,
            "interpretation / libcst parse (CPU)": (cpu["interpreter"] / cpu["libcst parse"]
                                                    if cpu["libcst parse"] else None),
            "torchfix / torchlint cold": med["torchfix"] / med["torchlint cold"] if "torchfix" in med else None,
            "torchfix / ruff": med["torchfix"] / ruff_cold if "torchfix" in med and ruff_cold else None,
        },
        "targets": {
            "torchlint cold / ruff": (med["torchlint cold"] / ruff_cold if ruff_cold else None,
                                      TARGETS["torchlint cold / ruff"]),
            "torchlint warm / ruff warm": (med["torchlint warm"] / ruff_warm if ruff_warm else None,
                                           TARGETS["torchlint warm / ruff warm"]),
            "torchlint warm (s)": (med["torchlint warm"], TARGETS["torchlint warm (s)"]),
            "torchlint 1 file, no triggers (s)": (med.get("torchlint 1 file, no triggers"),
                                                  TARGETS["torchlint 1 file, no triggers (s)"]),
            "torchlint 1 file with backward (s)": (med.get("torchlint 1 file with backward"),
                                                   TARGETS["torchlint 1 file with backward (s)"]),
            "torchlint peak MiB, one process": (tl_peak, TARGETS["torchlint peak MiB, one process"]),
        },
        "consistency": consistent,
        "analysis_reach": reach,
    }
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{root}: {len(files)} Python files: {len(skipped)} skipped by the trigger prefilter, "
          f"{len(prefiltered_set)} checked with ast, {len(parsed)} of those parsed with LibCST and interpreted "
          f"({result['parsed_bytes'] / 1e6:.2f} of {result['total_bytes'] / 1e6:.2f} MB, "
          f"{(result['libcst_bytes'] or 0) / 1e6:.2f} MB of it parsed by LibCST); "
          f"{args.runs} runs, {result['cpus']} CPUs")
    print(f"| {'tool':<32} | {'median s':>9} | {'peak MiB':>9} |")
    print(f"| {'-' * 32} | {'-' * 9}:| {'-' * 9}:|")
    for k in tools:
        if k in med:
            print(f"| {k:<32} | {med[k]:>9.3f} | {peaks[k]:>9.1f} |")
    print()
    print(f"| {'ratio':<38} | {'value':>7} |")
    print(f"| {'-' * 38} | {'-' * 7}:|")
    for k, v in result["ratios"].items():
        if v is not None:
            print(f"| {k:<38} | {v:>7.2f} |")
    print()
    print(f"| {'target':<38} | {'value':>7} | {'target':>7} | {'met':>4} |")
    print(f"| {'-' * 38} | {'-' * 7}:| {'-' * 7}:| {'-' * 4} |")
    for k, (v, t) in result["targets"].items():
        if v is not None:
            print(f"| {k:<38} | {v:>7.3f} | {t:>7} | {'yes' if v <= t else 'NO':>4} |")
    print()
    total = sum(cpu_stages.values()) or 1.0
    print(f"| {'CPU per stage (one process)':<28} | {'CPU s':>7} | {'share':>6} |")
    print(f"| {'-' * 28} | {'-' * 7}:| {'-' * 6}:|")
    for k, v in cpu_stages.items():
        print(f"| {k:<28} | {v:>7.2f} | {v / total:>6.1%} |")
    print()
    print_stage_tables(stages)
    if reach is not None:
        print()
        print(f"analysis cut short by the budget: {reach['truncated_files']} files; backward sites with a known "
              f"verdict: {reach['backward_known']} of {reach['backward_sites']}")
    if consistent is not None:
        print()
        print(f"findings cold --jobs 1 / cold --jobs 2 / warm identical: {consistent['identical']} "
              f"({consistent['findings']} findings, codes {', '.join(consistent['codes']) or '-'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
