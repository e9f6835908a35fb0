"""Apply fix-its to a source string until nothing changes.

Each round lints the current text, takes every applicable fix whose edits do
not overlap an already chosen one, applies them, and re-parses.  A round that
would produce code which does not parse is rolled back and reported.  Fixes
that were skipped because they overlapped are picked up by the next round, so
nested fixes are never lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from torchlint.diagnostics import Diagnostic, Edit, SourceError


@dataclass
class FixResult:
    source: str
    applied: list = field(default_factory=list)
    remaining: list = field(default_factory=list)
    error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def unified_diff(old: str, new: str, name: str) -> str:
    """A ``git diff``-style unified diff of a file's text, with ``\\ No newline at end of file`` markers."""
    import difflib

    out = []
    # git's a/ and b/ prefixes for relative paths; an absolute path is shown as it is
    before, after = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    for line in difflib.unified_diff(old.splitlines(True), new.splitlines(True), fromfile=before, tofile=after):
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _overlaps(a: Edit, b: Edit) -> bool:
    if a.start == b.start:
        return True
    return a.start < b.end and b.start < a.end


def choose(diags: Iterable[Diagnostic], unsafe: bool) -> list:
    """Fixable diagnostics whose edits do not overlap, in source order."""
    chosen: list = []
    taken: list = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        if d.fix is None or not d.fix.edits:
            continue
        if d.fix.applicability != "safe" and not unsafe:
            continue
        if any(_overlaps(e, t) for e in d.fix.edits for t in taken):
            continue
        chosen.append(d)
        taken.extend(d.fix.edits)
    return chosen


def apply_edits(source: str, edits: Iterable[Edit]) -> str:
    out = source
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.content + out[e.end:]
    return out


def _syntax_problem(text: str, path: str, parse) -> Optional[str]:
    """None when ``text`` parses (with CPython and LibCST), else the reason."""
    try:
        parse(text, path)
    except SourceError as exc:
        where = f" at {exc.location.row}:{exc.location.column}" if exc.location else ""
        return f"{exc.message}{where}"
    return None


def apply_fixes(source: str, path: str = "<string>", *, select=None, unsafe: bool = False,
                max_rounds: int = 20, keep=None) -> FixResult:
    """Fix ``source`` to a fixed point.

    Every round lints the current text, applies the non-overlapping fixes and
    re-parses; a round whose result does not parse is rolled back (the fixes
    that parse on their own are kept) and ``error`` says which fix broke it.
    ``remaining`` is the last round's findings.  ``keep(diags, text)`` filters
    each round's findings (the CLI passes ``# noqa`` suppression, so suppressed
    findings are not fixed); without it no suppression is applied.  Raises
    :class:`SourceError` when ``source`` itself cannot be parsed."""
    from torchlint.engine import lint_source as _lint, parse

    select = list(select) if select is not None else None

    def lint_source(text, p, select=None):
        found = _lint(text, p, select=select)
        return keep(found, text) if keep is not None else found

    current = source
    applied: list = []
    seen = {current}
    error = None
    diags = lint_source(current, path, select=select)
    for _ in range(max_rounds):
        chosen = choose(diags, unsafe)
        if not chosen:
            break
        candidate = apply_edits(current, [e for d in chosen for e in d.fix.edits])
        problem = _syntax_problem(candidate, path, parse)
        if problem is not None:
            # Roll the round back, then keep the fixes that are fine one by one
            # (a single bad fix must not cost the file its other fixes).
            good, bad = [], []
            for d in chosen:
                trial = apply_edits(current, [e for g in good + [d] for e in g.fix.edits])
                (bad if _syntax_problem(trial, path, parse) is not None else good).append(d)
            where = ", ".join(f"{d.code} at {d.location.row}:{d.location.column}" for d in bad) or "this round"
            error = f"the fix for {where} would have produced invalid code ({problem}); rolled back"
            if not good:
                break
            chosen = good
            candidate = apply_edits(current, [e for d in chosen for e in d.fix.edits])
        if candidate in seen:  # a fix that does not fix: stop rather than loop
            break
        seen.add(candidate)
        applied.extend(chosen)
        current = candidate
        diags = lint_source(current, path, select=select)
    return FixResult(current, applied, diags, error)
