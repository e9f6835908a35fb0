"""Compare the findings of two torchlint checkouts over directories.

    python benchmarks/same_findings.py --base /path/to/old/checkout DIR [DIR ...]

Each checkout runs as ``python -m torchlint check --select ALL --output-format json
--no-cache --exit-zero DIR`` with its own source tree first on ``PYTHONPATH`` (a
base checkout needs its ``rules/`` copied or linked to ``torchlint/rules`` so
that it wins over an editable install). Findings are compared as sets of
(file, row, column, code, message); the script prints the counts per
directory and every difference, and exits 1 if there is one.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def findings(tree: Path, target: str) -> set:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "torchlint", "check", "--select", "ALL", "--output-format", "json",
           "--no-cache", "--exit-zero", target]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=target if os.path.isdir(target) else None)
    if out.returncode not in (0, 1):
        sys.stderr.write(out.stderr)
    data = json.loads(out.stdout or "[]")
    return {(d["filename"], d["location"]["row"], d["location"]["column"], d["code"], d["message"]) for d in data}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the old checkout")
    ap.add_argument("--new", default=str(HERE), help="the new checkout (default: this one)")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    differ = False
    for d in a.dirs:
        d = str(Path(d).resolve())
        old, new = findings(Path(a.base), d), findings(Path(a.new), d)
        same = old == new
        differ |= not same
        print(f"{d}: base {len(old)} findings, new {len(new)}, {'identical' if same else 'DIFFERENT'}")
        for f in sorted(old - new):
            print("  - only base:", f)
        for f in sorted(new - old):
            print("  + only new: ", f)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
