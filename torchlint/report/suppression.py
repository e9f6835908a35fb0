"""``# noqa`` and friends, as Ruff reads them.

* ``# noqa`` (every code) or ``# noqa: TL001, TL002`` on a line suppresses findings
  that start on that line; on the last line of a multi-line statement it
  covers every line of the statement;
* ``# torchlint: ignore[TL001]`` is the same with our own spelling;
* ``# torchlint: noqa`` on a line of its own suppresses the whole file, and
  ``# torchlint: noqa: TL001`` only those codes in the whole file;
* ``per-file-ignores`` globs come from the configuration.

Comments are found with :mod:`tokenize`, so a ``# noqa`` inside a string does
not count.  Only files with findings pay for this (and, with TL100 selected,
files that mention ``noqa``).

TL100 ``unused-noqa`` (Ruff's RUF100) is judged here, once the other rules'
findings are known: see :func:`unused_noqa`.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable

from torchlint.diagnostics import Diagnostic, Location
from torchlint.workspace.globs import matches

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*))?", re.I)
OURS = re.compile(r"#\s*torchlint:\s*ignore\[(?P<codes>[^\]]*)\]", re.I)
FILE_NOQA = re.compile(r"^\s*#\s*torchlint:\s*noqa(?::\s*(?P<codes>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*))?\s*$",
                       re.I | re.M)
ALL = "*"
UNUSED_NOQA = "TL100"
INTERNAL = "TL999"
OUR_CODE = re.compile(r"TL\d{3}")


def file_is_noqa(source: str) -> bool:
    """True when a line ``# torchlint: noqa`` (no codes) switches the whole file off.  Cheap: one regex."""
    return any(m.group("codes") is None for m in FILE_NOQA.finditer(source))


def file_noqa_codes(source: str) -> set:
    """Codes switched off for the whole file: ``{'*'}`` for ``# torchlint: noqa``, or the codes of
    ``# torchlint: noqa: TL001, TL002`` lines."""
    out: set = set()
    for m in FILE_NOQA.finditer(source):
        out |= _codes(m.group("codes"))
    return out


def _codes(text: str | None) -> set:
    if not text:
        return {ALL}
    return {c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip()}


def _statements(tokens) -> list:
    """(first line, last line) of each logical line (statement) in a token list."""
    statements: list = []
    start = None
    for tok in tokens:
        if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            continue
        if start is None:
            start = tok.start[0]
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            statements.append((start, tok.start[0]))
            start = None
    return statements


def line_suppressions(source: str) -> dict:
    """{line: set of codes (or {'*'})} after spreading statement-end comments over the statement."""
    comments: dict = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _line_suppressions_by_regex(source)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            codes = set()
            m = NOQA.search(tok.string)
            if m:
                codes |= _codes(m.group("codes"))
            m2 = OURS.search(tok.string)
            if m2:
                codes |= _codes(m2.group("codes"))
            if codes:
                comments.setdefault(tok.start[0], set()).update(codes)
    out = {line: set(codes) for line, codes in comments.items()}
    for first, last in _statements(tokens):
        if last in comments and last > first:
            for line in range(first, last):
                out.setdefault(line, set()).update(comments[last])
    return out


def _line_suppressions_by_regex(source: str) -> dict:
    """Fallback when tokenize fails: every line's trailing comment, no statement spreading."""
    out: dict = {}
    for row, line in enumerate(source.splitlines(), 1):
        if "#" not in line:
            continue
        codes = set()
        for rx in (NOQA, OURS):
            m = rx.search(line)
            if m:
                codes |= _codes(m.group("codes"))
        if codes:
            out[row] = codes
    return out


def path_ignores(relpath: str | None, per_file_ignores) -> frozenset:
    if relpath is None:
        return frozenset()
    out: set = set()
    for glob, codes in per_file_ignores:
        if matches(relpath, glob):
            out |= codes
    return frozenset(out)


def filter_diagnostics(diags: Iterable[Diagnostic], source: str, *, per_file_ignores_codes=frozenset(),
                       unused_noqa=None, filename: str = "<string>") -> list:
    """The findings that survive suppression, in their input order.

    ``source`` is the text the findings' rows refer to (for a notebook, the joined
    module).  Drops findings whose code is in ``per_file_ignores_codes``, all but
    ``E9xx``/``TL999`` when the file has ``# torchlint: noqa``, the codes of
    ``# torchlint: noqa: CODES``, and findings whose row carries a matching
    ``# noqa``/``# torchlint: ignore[...]`` (spread over multi-line statements).
    Tokenizes ``source`` only when there is something left to filter.

    ``unused_noqa``: the codes of the rules that ran (``settings.select``) when TL100 is selected, else
    None.  Then ``diags`` must be every finding before suppression, and TL100 findings for the dead
    ``# noqa`` codes of ``filename`` are added (themselves subject to suppression).  TL100 findings in
    ``diags`` are dropped first, so filtering a second time recomputes them instead of keeping stale ones."""
    diags = [d for d in diags if d.code != UNUSED_NOQA]
    if unused_noqa is not None and UNUSED_NOQA not in per_file_ignores_codes:
        diags = diags + unused_noqa_findings(source, diags, unused_noqa, filename)
    diags = [d for d in diags if d.code not in per_file_ignores_codes]
    if not diags:
        return []
    whole = file_noqa_codes(source) if "noqa" in source.lower() else set()
    if ALL in whole:
        return [d for d in diags if d.code.startswith("E9") or d.code == "TL999"]
    if whole:
        diags = [d for d in diags if d.code not in whole]
    sup = line_suppressions(source)
    kept = []
    for d in diags:
        codes = sup.get(d.location.row)
        if codes and (ALL in codes or d.code in codes):
            continue
        kept.append(d)
    return kept


def _statement_ends(source: str) -> dict:
    """{line: last line of the logical line (statement) it belongs to}, from the tokenizer."""
    ends: dict = {}
    for first, last in _statements(tokenize.generate_tokens(io.StringIO(source).readline)):
        for line in range(first, last + 1):
            ends[line] = last
    return ends


def add_noqa(source: str, diags: Iterable[Diagnostic]) -> tuple:
    """``source`` with a ``# noqa: CODE`` comment for each finding, and how many lines got one (Ruff's
    ``--add-noqa``).

    The comment goes on the last line of the finding's statement (where a noqa covers the whole statement),
    merged into an existing ``# noqa: ...`` there; a bare ``# noqa`` already covers everything.  Line endings
    and everything else on the line are kept."""
    wanted: dict = {}
    try:
        ends = _statement_ends(source)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        ends = {}
    for d in diags:
        if not re.fullmatch(r"TL\d{3}", d.code) or d.code in ("TL999", UNUSED_NOQA):
            continue  # parse errors and internal errors are not findings to silence; a dead noqa is removed, not kept
        row = ends.get(d.location.row, d.location.row)
        wanted.setdefault(row, set()).add(d.code)
    if not wanted:
        return source, 0
    lines = source.splitlines(True)
    added = 0
    for row, codes in sorted(wanted.items()):
        if not 1 <= row <= len(lines):
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        newline = line[len(body):]
        m = NOQA.search(body)
        if m and m.group("codes") is None:
            continue  # a bare noqa covers every code
        if m:
            merged = sorted(_codes(m.group("codes")) | codes)
            if set(merged) == _codes(m.group("codes")):
                continue
            body = body[:m.start("codes")] + ", ".join(merged) + body[m.end("codes"):]
        else:
            body = f"{body}  # noqa: {', '.join(sorted(codes))}"
        lines[row - 1] = body + newline
        added += 1
    return "".join(lines), added


# -- TL100 unused-noqa -------------------------------------------------------------


def _known_codes() -> frozenset:
    from torchlint.registry import all_rules

    return frozenset(r.code for r in all_rules())


def _comment_tokens(source: str) -> tuple:
    """(comment tokens, statements) from one tokenizer pass; raises on source that does not tokenize."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    return [t for t in tokens if t.type == tokenize.COMMENT], _statements(tokens)


def unused_noqa_findings(source: str, diags: list, judged, filename: str) -> list:
    """TL100 findings: ``# noqa: CODES`` / ``# torchlint: ignore[CODES]`` codes that suppress nothing.

    A code is judged only when it is one of ours (``TLnnn``) and either unknown to this torchlint or the
    code of a rule in ``judged`` (the rules that ran): then it is unused when none of ``diags`` (the
    findings before suppression) has that code on a line the comment covers.  Other tools' codes
    (``E501``), codes of rules that did not run, a bare ``# noqa`` (other tools read it too) and a comment
    that names TL100 itself are left alone.  Each finding's safe fix drops the dead codes, or the whole
    directive when none is left."""
    if "noqa" not in source.lower() and "ignore[" not in source.lower():
        return []
    try:
        comments, statements = _comment_tokens(source)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []  # no reliable comments: say nothing
    if not comments:
        return []
    covers: dict = {}  # the line of a statement's last line -> every line of the statement
    for first, last in statements:
        if last > first:
            covers[last] = range(first, last + 1)
    found_on: dict = {}
    for d in diags:
        found_on.setdefault(d.location.row, set()).add(d.code)
    known = _known_codes()
    judged = frozenset(judged) - {UNUSED_NOQA}
    starts = _line_starts(source)
    out = []
    for tok in comments:
        row, col = tok.start
        lines = covers.get(row, (row,))
        present = set().union(*(found_on.get(line, set()) for line in lines))
        for rx, what in ((NOQA, "noqa"), (OURS, "torchlint: ignore")):
            m = rx.search(tok.string)
            if not m or not (m.group("codes") or "").strip():
                continue  # a bare directive covers other tools' codes too
            codes = [c for c in re.split(r"[\s,]+", m.group("codes")) if c]
            upper = [c.upper() for c in codes]
            if UNUSED_NOQA in upper:
                continue  # "keep this comment": the user silenced TL100 here
            unknown = [c for c in codes if OUR_CODE.fullmatch(c.upper()) and c.upper() not in known
                       and c.upper() != INTERNAL]
            unused = [c for c in codes if c.upper() in judged and c.upper() not in present]
            if not unknown and not unused:
                continue
            dead = set(unknown) | set(unused)
            kept = [c for c in codes if c not in dead]
            base = starts[row - 1] + col
            fix = _unused_fix(source, tok, m, kept, base, starts, what)
            parts = [f"unused: {', '.join(f'`{c}`' for c in unused)}"] if unused else []
            parts += [f"unknown: {', '.join(f'`{c}`' for c in unknown)}"] if unknown else []
            out.append(Diagnostic(UNUSED_NOQA, "unused-noqa", f"unused `{what}` directive ({'; '.join(parts)})",
                                  "warning", filename, Location(row, col + m.start() + 1),
                                  Location(row, col + m.end() + 1), fix))
    return out


def _line_starts(source: str) -> list:
    """The offset of each line's first character, lines ending in ``\\n`` as the tokenizer counts them."""
    starts = [0]
    at = source.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = source.find("\n", at + 1)
    return starts


def _unused_fix(source: str, tok, m, kept: list, base: int, starts: list, what: str):
    """The safe fix for a dead directive: keep the live codes, or remove the directive (the comment, or its
    line when the comment stood alone)."""
    from torchlint.diagnostics import Edit, Fix

    def edit(start, end, content):
        return Edit(start, end, content, _loc(start), _loc(end))

    def _loc(offset):
        import bisect

        line = bisect.bisect_right(starts, offset) - 1
        return Location(line + 1, offset - starts[line] + 1)

    if kept:
        a, b = base + m.start("codes"), base + m.end("codes")
        return Fix(f"Remove the unused codes from the `{what}` directive", (edit(a, b, ", ".join(kept)),), "safe")
    d_start, d_end = base + m.start(), base + m.end()
    c_start, c_end = base, base + len(tok.string)
    rest = source[d_end:c_end]
    if m.start() > 0:  # `# expect: TL001  # noqa: TL001`: the directive and the blanks before it
        a = d_start
        while a > c_start and source[a - 1] in " \t":
            a -= 1
        change = edit(a, d_end, "")
    elif not rest.strip():  # the comment is only the directive
        line_start = starts[tok.start[0] - 1]
        a = c_start
        while a > line_start and source[a - 1] in " \t\f":
            a -= 1
        if a == line_start:  # a comment on a line of its own: the line goes
            nl = source.find("\n", c_end)
            change = edit(line_start, len(source) if nl == -1 else nl + 1, "")
        else:
            change = edit(a, c_end, "")
    elif rest.lstrip().startswith("#"):  # `# noqa: TL001  # why`: keep `# why`
        change = edit(d_start, d_end + len(rest) - len(rest.lstrip()), "")
    else:  # `# noqa: TL001 because ...`: keep the words, as a comment
        change = edit(d_start, d_end + len(rest) - len(rest.lstrip()), "# ")
    return Fix(f"Remove the unused `{what}` directive", (change,), "safe")
