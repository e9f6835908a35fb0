"""``# noqa`` and friends, as Ruff reads them.

* ``# noqa`` (every code) or ``# noqa: TL001, TL002`` on a line suppresses findings
  that start on that line; on the last line of a multi-line statement it
  covers every line of the statement;
* ``# torchlint: ignore[TL001]`` is the same with our own spelling;
* ``# torchlint: noqa`` on a line of its own suppresses the whole file, and
  ``# torchlint: noqa: TL001`` only those codes in the whole file;
* ``per-file-ignores`` globs come from the configuration.

Comments are found with :mod:`tokenize`, so a ``# noqa`` inside a string does
not count.  Only files with findings pay for this.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable

from torchlint.diagnostics import Diagnostic
from torchlint.workspace.globs import matches

NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*))?", re.I)
OURS = re.compile(r"#\s*torchlint:\s*ignore\[(?P<codes>[^\]]*)\]", re.I)
FILE_NOQA = re.compile(r"^\s*#\s*torchlint:\s*noqa(?::\s*(?P<codes>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*))?\s*$",
                       re.I | re.M)
ALL = "*"


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


def filter_diagnostics(diags: Iterable[Diagnostic], source: str, *, per_file_ignores_codes=frozenset()) -> list:
    """The findings that survive suppression, in their input order.

    ``source`` is the text the findings' rows refer to (for a notebook, the joined
    module).  Drops findings whose code is in ``per_file_ignores_codes``, all but
    ``E9xx``/``TL999`` when the file has ``# torchlint: noqa``, the codes of
    ``# torchlint: noqa: CODES``, and findings whose row carries a matching
    ``# noqa``/``# torchlint: ignore[...]`` (spread over multi-line statements).
    Tokenizes ``source`` only when there is something left to filter."""
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
        if not re.fullmatch(r"TL\d{3}", d.code) or d.code == "TL999":
            continue  # parse errors and internal errors are not findings to silence
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
