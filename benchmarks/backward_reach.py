"""Count the backward sites of a directory by verdict: how many torchlint knows the value of.

    python benchmarks/backward_reach.py DIR [DIR ...] [--single-file] [--list unknown]

A *backward site* is a ``.backward()`` or ``manual_backward()`` call (whatever
its receiver: one whose value is not a tensor counts as unknown), or what a
``training_step`` returns (see torchlint.analysis.project.site_verdicts).  Its
verdict joins its values in every context: ``non_scalar`` if one is provably
not a scalar, else ``likely_non_scalar``, else ``scalar`` if every value is a
tensor of one element, else ``unknown``.  *Known* is everything but ``unknown``.
``--single-file`` turns project-wide analysis off (each file alone, as before
it), for a before/after comparison in one checkout.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "node_modules", "__pypackages__", "site-packages", ".tox"}
ORDER = ("non_scalar", "likely_non_scalar", "scalar", "unknown")


def file_sites(path: str, project: bool) -> list:
    """[(line, verdict)] of the backward sites of one file."""
    from torchlint import engine
    from torchlint.analysis import project as proj
    from torchlint.analysis.context import FileContext
    from torchlint.analysis.interp import Interpreter
    from torchlint.analysis.project import site_verdicts

    data = Path(path).read_bytes()
    if b"backward" not in data and b"training_step" not in data:
        return []
    try:
        source = data.decode("utf-8")
        module = engine.parse(source, path)
    except Exception:
        return []
    link = proj.link_for(path) if project else None
    first = Interpreter(module, keep_units=link is not None)
    analysis, _ = proj.with_project(module, path, link, first, first.run())  # as the engine does
    ctx = FileContext(source, path, module, analysis)
    out = []
    for node, verdict in site_verdicts(module, analysis).items():
        try:
            line = ctx.line_of(node)
        except Exception:
            continue  # (never: sites are this file's)
        out.append((line, verdict))
    return sorted(out)


def python_files(d: str) -> list:
    out = []
    for directory, dirs, names in os.walk(d):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("."))
        out.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(".py"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--single-file", action="store_true", help="analyse each file alone (no project modules)")
    ap.add_argument("--list", choices=ORDER, help="print the sites with this verdict")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from torchlint.syntax.guards import run_deep

    for d in a.dirs:
        counts: Counter = Counter()
        listed = []
        start = time.perf_counter()
        for path in python_files(d):
            try:
                sites = run_deep(file_sites, path, not a.single_file)
            except Exception as e:  # an engine bug: count nothing for the file, say so
                print(f"  error in {path}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            for line, verdict in sites:
                counts[verdict] += 1
                if verdict == a.list:
                    listed.append(f"{os.path.relpath(path, d)}:{line}")
        total = sum(counts.values())
        known = total - counts["unknown"]
        share = f"{100 * known / total:.0f}%" if total else "-"
        parts = ", ".join(f"{k} {counts[k]}" for k in ORDER)
        print(f"{d}: {known} of {total} backward sites known ({share}): {parts}  "
              f"[{time.perf_counter() - start:.1f} s, {'single-file' if a.single_file else 'project'}]")
        for item in listed:
            print("  ", item)
    return 0


if __name__ == "__main__":
    sys.exit(main())
