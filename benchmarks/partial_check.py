#!/usr/bin/env python3
"""Does the partial parse change anything?  The findings (with messages and fix edits) of every Python file,
checked as the engine checks it (LibCST parses the reduced file: analysis/partial.py and partial_methods.py),
against the same file parsed and analysed whole; and the verdicts of its backward sites (what the project pass
and the known share read), which real code has many more of than findings.

    python benchmarks/partial_check.py [--jobs N] [--min-saved X] PATH [PATH ...]

Each file that passes the default rules' prefilter is linted twice in a worker process, with its real path (so
the project pass reads the project's other modules as it does in a run).  The script prints, per PATH, how
many files were checked, reduced (top-level statements left out, methods left out), analysed whole after all
(a left-out method was looked up), and every file whose findings differ; it exits 1 if there is one.
``--min-saved`` sets :data:`torchlint.analysis.partial.MIN_SAVED` (0 reduces every file that can be), and then
leaves out methods however few their lines (:data:`torchlint.analysis.partial_methods.MIN_LINES` 0).
"""
from __future__ import annotations

import argparse
import ast
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

SKIP_DIRS = {".torchlint_cache", ".git", "__pycache__", ".ruff_cache"}


def _setup(min_saved):
    from torchlint.analysis import partial, partial_methods

    if min_saved is not None:
        partial.MIN_SAVED = min_saved
        partial_methods.MIN_LINES = 0


def _seen(found) -> list:
    return [(d.location, d.end_location, d.code, d.message, d.fix) for d in found]


def _verdicts(source: str, path: str, sites, reduced: bool):
    """The verdict of every backward site of ``source`` (analysis/project.py's site_verdicts, which the project pass
    and the known share read) by position; None when the engine would analyse the whole file instead."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    from torchlint import engine
    from torchlint.analysis import cstwalk
    from torchlint.analysis.project import analyse, site_verdicts
    from torchlint.diagnostics import WholeFileNeeded

    module = engine._parse_cst(source, path)
    try:
        analysis, link = analyse(module, path, sites)
    except WholeFileNeeded:
        return None
    try:
        if reduced and analysis.budget_spent:
            return None
        verdicts = site_verdicts(module, analysis, sites)
        where = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        return sorted((where[n].start.line, where[n].start.column, v) for n, v in verdicts.items())
    finally:
        cstwalk.forget()
        if link is not None:
            link.release()


def check(path: str) -> tuple:
    """(path, reduced top-level?, reduced methods?, analysed whole after a look-up?, differs?, detail)."""
    from torchlint import engine, registry
    from torchlint.analysis import partial
    from torchlint.analysis import sites as sitemod
    from torchlint.diagnostics import SourceError
    from torchlint.runner import decode
    from torchlint.syntax.guards import run_deep
    from torchlint.workspace.prefilter import triggers

    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    data = Path(path).read_bytes()
    if not triggers(sorted(r.code for r in rules)).matches(data):
        return path, None, None, None, False, ""
    try:
        src = decode(data, path)[0]
        tree = ast.parse(src)
    except Exception:  # noqa: BLE001 - not Python the engine would check
        return path, None, None, None, False, ""
    sites = sitemod.summarize(tree)
    ran = [r for r in rules if sitemod.has_site(r, sites)]
    red = partial.reduce(src, tree, ran, sites) if ran else None
    if red is None:
        return path, False, False, False, False, ""
    whole_again = []
    real = engine._lint

    def spy(source, p, rs, gate, deps, facts, whole=False):
        whole_again.append(whole)
        return real(source, p, rs, gate, deps, facts, whole)

    engine._lint = spy
    try:
        try:
            got = _seen(run_deep(engine._lint, src, path, rules, True, None, {}, False))
        except SourceError as e:
            got = f"SourceError {e}"
    finally:
        engine._lint = real
    try:
        want = _seen(run_deep(real, src, path, rules, True, None, {}, True))
    except SourceError as e:
        want = f"SourceError {e}"
    from torchlint.syntax.guards import run_deep as deep

    whole_verdicts = deep(_verdicts, src, path, sites, False)
    verdicts = deep(_verdicts, red.source, path, sites, True)
    differs = got != want or (verdicts is not None and verdicts != whole_verdicts)
    detail = ""
    if differs:
        detail = f"reduced: {got} {verdicts}\n      whole:   {want} {whole_verdicts}"
    return path, bool(red.dropped), bool(red.blanked), any(whole_again[1:]), differs, detail


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-saved", type=float, default=None)
    args = ap.parse_args(argv)
    failed = False
    with ProcessPoolExecutor(args.jobs, initializer=_setup, initargs=(args.min_saved,)) as pool:
        for root in args.paths:
            files = [root] if root.is_file() else sorted(
                p for p in root.rglob("*.py") if not SKIP_DIRS & set(p.parts))
            n = top = methods = again = 0
            diffs = []
            for path, t, m, w, differs, detail in pool.map(check, [str(p) for p in files], chunksize=4):
                if t is None:
                    continue
                n += 1
                top += t
                methods += m
                again += w
                if differs:
                    diffs.append((path, detail))
            print(f"{root}: {len(files)} files, {n} checked, {top} with top-level statements left out, {methods} "
                  f"with methods left out, {again} analysed whole after a look-up, {len(diffs)} differ")
            for path, detail in diffs:
                print(f"  DIFF {path}\n      {detail}")
            failed = failed or bool(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
