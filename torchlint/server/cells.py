"""Notebook documents (LSP 3.17 ``notebookDocument`` sync) as one module, and back to their cells.

The code cells are joined exactly as ``torchlint check`` joins an ``.ipynb``
file (:mod:`torchlint.workspace.notebook`: a marker line between cells,
IPython magics replaced by placeholders), so a notebook gets the same
findings in the editor as on the command line.  Rows of the joined module map
back to (cell, row); a whole new module text (after fixes or ``# noqa``
comments) splits back into each cell's new text, magics restored.
"""
from __future__ import annotations

import json
from typing import Optional

from torchlint.workspace import notebook as nbmod


class JoinedNotebook:
    def __init__(self, cells: list):
        """``cells``: (cell document URI, text) of each code cell, in notebook order."""
        self.uris = [uri for uri, _ in cells]
        self.texts = [text for _, text in cells]
        data = {"cells": [{"cell_type": "code", "source": text, "metadata": {}, "outputs": []}
                          for text in self.texts],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        self.nb = nbmod.load(json.dumps(data))
        self.source = self.nb.source
        self._module_line = {}  # (cell order, cell line 0-based) -> module line 0-based
        for i, target in enumerate(self.nb.line_map):
            if target is not None:
                self._module_line[target] = i

    def cell_of_uri(self, uri: str) -> Optional[int]:
        try:
            return self.uris.index(uri)
        except ValueError:
            return None

    def locate(self, row: int) -> Optional[tuple]:
        """(cell order, 1-based row in the cell) of a 1-based module row; None for a marker line."""
        i = row - 1
        if not 0 <= i < len(self.nb.line_map) or self.nb.line_map[i] is None:
            return None
        order, line = self.nb.line_map[i]
        return order, line + 1

    def module_row(self, order: int, row: int) -> Optional[int]:
        """The 1-based module row of a 1-based row of cell ``order``."""
        line = self._module_line.get((order, row - 1))
        return None if line is None else line + 1

    def is_magic(self, row: int) -> bool:
        """Whether module row ``row`` stands for an IPython magic (its text is not the cell's)."""
        import re

        lines = self.source.split("\n")
        return 0 < row <= len(lines) and bool(re.search(r"# torchlint-magic \d+$", lines[row - 1]))

    def split(self, module_text: str) -> list:
        """Each code cell's text for a new module text (magics put back)."""
        data = json.loads(nbmod.write_back(self.nb, module_text))
        out = []
        for cell in data["cells"]:
            src = cell.get("source", "")
            out.append("".join(src) if isinstance(src, list) else src)
        return out
