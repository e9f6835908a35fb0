"""Positions and findings between torchlint and the Language Server Protocol.

torchlint counts rows from 1 and columns in characters (code points) from 1;
LSP counts lines from 0 and columns in UTF-16 code units from 0, unless the
client agreed to UTF-8 or UTF-32 at initialisation.  Lines end at ``\\n``,
``\\r\\n`` or ``\\r`` on both sides.  Plain data in, plain data out: no pygls here.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional

from torchlint.diagnostics import Diagnostic, Edit
from torchlint.server.pipeline import line_starts


class LineIndex:
    """Offsets, (row, column) and LSP (line, character) of one text."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.starts = line_starts(text)
        self.encoding = encoding.lower().replace("-", "")

    def _units(self, s: str) -> int:
        if self.encoding == "utf8":
            return len(s.encode("utf-8", "surrogatepass"))
        if self.encoding == "utf32":
            return len(s)
        return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)

    def line_text(self, line: int) -> str:
        """Line ``line`` (0-based) without its line break."""
        if line >= len(self.starts):
            return ""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line]:end].rstrip("\r\n")

    def position(self, offset: int) -> tuple:
        """LSP (line, character) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, self._units(self.text[self.starts[line]:offset])

    def offset(self, line: int, character: int) -> int:
        """Character offset of an LSP position (clamped to the line, as the protocol asks)."""
        if line >= len(self.starts):
            return len(self.text)
        text = self.line_text(line)
        if self.encoding == "utf32":
            return self.starts[line] + min(character, len(text))
        units = 0
        for i, ch in enumerate(text):
            if units >= character:
                return self.starts[line] + i
            units += len(ch.encode("utf-8", "surrogatepass")) if self.encoding == "utf8" else (2 if ord(ch) > 0xFFFF else 1)
        return self.starts[line] + len(text)

    def offset_of(self, row: int, column: int) -> int:
        """Character offset of torchlint's 1-based (row, column)."""
        if row - 1 >= len(self.starts):
            return len(self.text)
        return min(self.starts[row - 1] + column - 1, len(self.text))

    def range_of(self, start: int, end: int) -> dict:
        (l1, c1), (l2, c2) = self.position(start), self.position(end)
        return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


@dataclass(frozen=True)
class Finding:
    """A torchlint diagnostic placed in one LSP text document (a file, or a notebook cell)."""

    uri: str
    range: dict
    diagnostic: Diagnostic
    cell: Optional[int] = None  # the code cell's order in a notebook


def lsp_diagnostic(f: Finding) -> dict:
    """The LSP ``Diagnostic`` (as JSON data) of a finding: severity, code, documentation link, fix note."""
    d = f.diagnostic
    out = {"range": f.range, "severity": 1 if d.severity == "error" else 2, "code": d.code, "source": "torchlint",
           "message": d.message}
    if d.code.startswith("TL") and d.code != "TL999":
        from torchlint.registry import get_rule

        rule = get_rule(d.code)
        if rule is not None:
            out["codeDescription"] = {"href": rule.url()}
    if d.fix is not None:
        out["data"] = {"fix": d.fix.applicability}
    return out


def text_edit(index: LineIndex, edit: Edit, base: int = 0) -> dict:
    """An LSP ``TextEdit`` for ``edit``, whose offsets are ``base`` characters into ``index``'s text."""
    return {"range": index.range_of(edit.start - base, edit.end - base), "newText": edit.content}


def minimal_edit(index: LineIndex, new: str) -> Optional[dict]:
    """One ``TextEdit`` turning ``index``'s text into ``new``: the changed middle only, so that the
    cursor and the undo history of the rest stay; None when nothing changed."""
    old = index.text
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # never split a \r\n pair
    while start > 0 and old[start - 1] == "\r" and start < len(old) and old[start] == "\n":
        start -= 1
    return {"range": index.range_of(start, end_old), "newText": new[start:end_new]}
