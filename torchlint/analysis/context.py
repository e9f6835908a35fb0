"""What a rule sees of one file: the source, the tree, the analysis, and positions.

Positions come from LibCST's ``PositionProvider``, resolved lazily: most files
have no finding, and they never pay for it.
"""
from __future__ import annotations

import bisect
import re
from functools import cached_property
from typing import TYPE_CHECKING, Optional

from torchlint.diagnostics import Diagnostic, Edit, Fix, Location

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from torchlint.analysis.interp import Analysis

_NEWLINE = re.compile(r"\r\n|\r|\n")


class FileContext:
    def __init__(self, source: str, path: str, module: "cst.Module", analysis: "Analysis"):
        self.source = source
        self.path = path
        self.module = module
        self.analysis = analysis

    @cached_property
    def semantic(self):
        """The file's semantic model (blocks, loops, bindings and their facts), built on first use."""
        from torchlint.analysis.semantic import SemanticModel

        return SemanticModel(self.module, self.analysis, self.source)

    def handled(self, diagnostic: Diagnostic, exc: str) -> bool:
        """Is the finding inside a ``try`` body whose handlers catch ``exc``? Then the program does not fail
        there: it handles the error (a DataParallel fallback that retries with ``loss.mean()``)."""
        row = diagnostic.location.row
        for body, names in self.semantic.guarded_bodies:
            if self.semantic.catches(names, exc):
                r = self._positions[body]
                if r.start.line <= row <= r.end.line:
                    return True
        return False

    # -- positions ---------------------------------------------------------

    @cached_property
    def _positions(self):
        from libcst.metadata import MetadataWrapper, PositionProvider

        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        for m in _NEWLINE.finditer(self.source):
            starts.append(m.end())
        return starts

    def code_range(self, node):
        return self._positions[node]

    def line_of(self, node):
        """The line of ``node``; for a node of another module of the project, ``"pkg/losses.py:3"``."""
        try:
            return self._positions[node].start.line
        except KeyError:
            link = getattr(self.analysis, "project", None)
            where = link.locate(node) if link is not None else None
            if where is None:
                raise
            return where

    def offset(self, line: int, column0: int) -> int:
        """Character offset of a 1-based line and a 0-based column."""
        return self._line_starts[line - 1] + column0

    def span(self, node) -> tuple[int, int]:
        """Character offsets of ``node``, including its own parentheses.

        LibCST's positions exclude a node's ``lpar``/``rpar``; a fix that
        appends ``.sum()`` to ``(a * b)`` must land after the ``)``.
        """
        r = self._positions[node]
        start, end = self.offset(r.start.line, r.start.column), self.offset(r.end.line, r.end.column)
        src = self.source
        for _ in getattr(node, "lpar", ()):
            i = start - 1
            while i >= 0 and src[i] in " \t\r\n\\":
                i -= 1
            if i < 0 or src[i] != "(":
                break
            start = i
        for _ in getattr(node, "rpar", ()):
            j = end
            while j < len(src) and src[j] in " \t\r\n\\":
                j += 1
            if j >= len(src) or src[j] != ")":
                break
            end = j + 1
        return start, end

    def location_of_offset(self, offset: int) -> Location:
        i = bisect.bisect_right(self._line_starts, offset) - 1
        return Location(i + 1, offset - self._line_starts[i] + 1)

    def code(self, node) -> str:
        start, end = self.span(node)
        return self.source[start:end]

    def short_code(self, node, limit: int = 50) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    # -- building findings ---------------------------------------------------

    def edit(self, start: int, end: int, content: str) -> Edit:
        return Edit(start, end, content, self.location_of_offset(start), self.location_of_offset(end))

    def insert_after(self, node, text: str) -> Edit:
        _, end = self.span(node)
        return self.edit(end, end, text)

    def insert_before(self, node, text: str) -> Edit:
        start, _ = self.span(node)
        return self.edit(start, start, text)

    def replace(self, node, text: str) -> Edit:
        start, end = self.span(node)
        return self.edit(start, end, text)

    def diagnostic(self, rule, node, message: str, severity: str = "error", fix: Optional[Fix] = None,
                   notes: tuple = ()) -> Diagnostic:
        r = self._positions[node]
        return Diagnostic(
            code=rule.code,
            name=rule.name,
            message=message,
            severity=severity,
            filename=self.path,
            location=Location(r.start.line, r.start.column + 1),
            end_location=Location(r.end.line, r.end.column + 1),
            fix=fix,
            notes=tuple(notes),
        )
