"""One document as the pipeline sees it, and where its rows are in the editor's text documents.

A Python file is one text document; a notebook is one module (its code cells
joined, :mod:`torchlint.server.cells`) spread over one text document per cell.
:class:`View` maps between the two: a finding or a fix in the module goes to
its cell, and a position in a cell to the module.
"""
from __future__ import annotations

from typing import Optional

from torchlint.server.cells import JoinedNotebook
from torchlint.server.convert import Finding, LineIndex, minimal_edit


class View:
    def __init__(self, uri: str, text: Optional[str] = None, notebook: Optional[JoinedNotebook] = None,
                 encoding: str = "utf-16"):
        self.uri = uri  # the file's, or the notebook's
        self.notebook = notebook
        self.source = notebook.source if notebook is not None else text
        self.encoding = encoding
        self.index = LineIndex(self.source, encoding)
        self.cells = [LineIndex(t, encoding) for t in notebook.texts] if notebook is not None else []

    @property
    def uris(self) -> list:
        """Every text document this view publishes to."""
        return list(self.notebook.uris) if self.notebook is not None else [self.uri]

    # -- module -> editor ---------------------------------------------------------

    def place(self, row: int, column: int) -> Optional[tuple]:
        """(text document URI, its LineIndex, character offset) of a module (row, column), 1-based."""
        if self.notebook is None:
            return self.uri, self.index, self.index.offset_of(row, column)
        where = self.notebook.locate(row)
        if where is None or self.notebook.is_magic(row):
            return None
        order, cell_row = where
        cell = self.cells[order]
        return self.notebook.uris[order], cell, cell.offset_of(cell_row, column)

    def findings(self, diagnostics) -> list:
        out = []
        for d in diagnostics:
            start = self.place(d.location.row, d.location.column)
            if start is None and self.notebook is not None:
                # on a cell marker (a syntax error at the very end of a cell): the cell before it
                where = self.notebook.locate(d.location.row - 1)
                start = self.place(d.location.row - 1, 10 ** 6) if where else None
            if start is None:
                continue
            uri, index, s = start
            end = self.place(d.end_location.row, d.end_location.column)
            e = end[2] if end is not None and end[0] == uri else s
            if e <= s and s < len(index.text) and index.text[s] not in "\r\n":
                e = s + 1  # an empty range (a syntax error's position) is hard to see: one character
            cell = self.notebook.uris.index(uri) if self.notebook is not None else None
            out.append(Finding(uri, index.range_of(s, max(s, e)), d, cell))
        return out

    def fix_edits(self, edits) -> Optional[dict]:
        """{URI: [TextEdit]} for a fix's edits (offsets into the module); None when one cannot be placed."""
        out: dict = {}
        for e in edits:
            a = self.place(e.location.row, e.location.column)
            b = self.place(e.end_location.row, e.end_location.column)
            if a is None or b is None or a[0] != b[0]:
                return None
            uri, index, start = a
            out.setdefault(uri, []).append({"range": index.range_of(start, b[2]), "newText": e.content})
        return out

    def text_change(self, new_module: str) -> dict:
        """{URI: [TextEdit]} that turn the documents into ``new_module`` (each changed document, one edit)."""
        if self.notebook is None:
            edit = minimal_edit(self.index, new_module)
            return {self.uri: [edit]} if edit else {}
        out = {}
        for uri, index, text in zip(self.notebook.uris, self.cells, self.notebook.split(new_module)):
            edit = minimal_edit(index, text)
            if edit:
                out[uri] = [edit]
        return out

    # -- editor -> module ---------------------------------------------------------

    def module_offset(self, uri: str, line: int, character: int) -> Optional[int]:
        """The module's character offset of an LSP position in text document ``uri``."""
        if self.notebook is None:
            return self.index.offset(line, character)
        order = self.notebook.cell_of_uri(uri)
        if order is None:
            return None
        cell = self.cells[order]
        offset = cell.offset(line, character)
        row = self.notebook.module_row(order, line + 1)
        if row is None:
            return None
        return self.index.offset_of(row, offset - cell.starts[min(line, len(cell.starts) - 1)] + 1)

    def line_text(self, uri: str, line: int) -> str:
        if self.notebook is None:
            return self.index.line_text(line)
        order = self.notebook.cell_of_uri(uri)
        return "" if order is None else self.cells[order].line_text(line)
