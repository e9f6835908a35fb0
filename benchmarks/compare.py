#!/usr/bin/env python3
"""Do two versions of torchlint give the same findings?  Compare their JSON output over directories.

    python benchmarks/compare.py --base REF_OR_DIR [--new DIR] [--select CODES] PATH [PATH ...]

``--base`` is a git revision of this repository (checked out into a temporary
worktree, removed afterwards) or the directory of another checkout; ``--new``
defaults to this working tree.  Each version runs in its own process as
``python -m torchlint check --no-cache --isolated --exit-zero --output-format json .``
in each PATH, with its own source tree first on ``PYTHONPATH`` (and its
``rules/`` reachable as ``torchlint.rules``, so that an editable install of
another checkout cannot stand in for it).  ``PYTHONHASHSEED`` is fixed, the
same for both, so that a difference is one of code, not of the hash seed.

Findings are compared as sets of (file, row, column, code, message, fix); the
script prints, per PATH, the number of findings of each version and per code,
and every difference, and exits 1 if there is one.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def prepare(tree: Path) -> Path:
    """Make ``tree``'s rules importable as ``torchlint.rules`` from the tree itself."""
    rules, inside = tree / "rules", tree / "torchlint" / "rules"
    if rules.is_dir() and not inside.exists():
        inside.symlink_to(rules.resolve(), target_is_directory=True)
    return tree


def findings(tree: Path, target: Path, select=None, jobs=None) -> tuple:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "torchlint", "check", "--no-cache", "--isolated", "--exit-zero",
           "--output-format", "json"]
    if select:
        cmd += ["--select", select]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    cmd.append(".")
    out = subprocess.run(cmd, cwd=target, capture_output=True, text=True, env=env)
    try:
        data = json.loads(out.stdout or "[]")
    except ValueError:
        raise SystemExit(f"{tree}: no JSON output on {target} (exit {out.returncode}):\n{out.stderr[-2000:]}")
    where = subprocess.run([sys.executable, "-c", "import torchlint, torchlint.rules as r; print(torchlint.__file__, "
                            "r.__file__)"], cwd=target, capture_output=True, text=True, env=env).stdout.split()
    if not all(p.startswith(str(tree.resolve())) for p in where):
        raise SystemExit(f"{tree}: the run imported torchlint from elsewhere: {where}")

    def fix(d):
        f = d.get("fix")
        return None if not f else json.dumps(f, sort_keys=True)

    return {(d["filename"], d["location"]["row"], d["location"]["column"], d["code"], d["message"], fix(d))
            for d in data}, out.returncode


def worktree(ref: str) -> Path:
    where = Path(tempfile.mkdtemp(prefix="torchlint-base-"))
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(where), ref], check=True,
                   capture_output=True)
    return where


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="a git revision of this repository, or another checkout's directory")
    ap.add_argument("--new", default=str(HERE), help="the new checkout (default: this working tree)")
    ap.add_argument("--select", default=None, help="--select for both (default: each version's default rules)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--show", type=int, default=20, help="how many differences to print per path and side")
    ap.add_argument("paths", nargs="+", type=Path)
    args = ap.parse_args(argv)
    made = None
    base = Path(args.base)
    if not base.is_dir():
        base = made = worktree(args.base)
    try:
        prepare(base)
        new = Path(args.new)
        if new.resolve() != HERE:
            prepare(new)
        differ = False
        for path in args.paths:
            path = path.resolve()
            old, _ = findings(base, path, args.select, args.jobs)
            cur, _ = findings(new, path, args.select, args.jobs)
            same = old == cur
            differ |= not same
            codes = Counter(f[3] for f in cur)
            print(f"{path}: base {len(old)} findings, new {len(cur)}: {'identical' if same else 'DIFFERENT'}"
                  f" ({', '.join(f'{c} {n}' for c, n in sorted(codes.items())) or 'none'})")
            for sign, only in (("-", sorted(old - cur)), ("+", sorted(cur - old))):
                for f in only[: args.show]:
                    print(f"  {sign} {f[0]}:{f[1]}:{f[2]}: {f[3]} {f[4]}")
                if len(only) > args.show:
                    print(f"  {sign} ... {len(only) - args.show} more")
        return 1 if differ else 0
    finally:
        if made is not None:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(made)], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
