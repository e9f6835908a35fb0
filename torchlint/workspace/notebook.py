"""Jupyter notebooks: code cells are linted as one module.

Cells are joined with a marker line between them, IPython magics (``%x``,
``!cmd``, ``x?``, ``files = !ls``, ``t = %timeit -o f()``) are replaced by
placeholders that keep the module valid Python (``pass`` where the magic was a
statement, ``files = ...`` where it was assigned, a comment inside cell magics
and continuation lines), and findings are
mapped back to ``nb.ipynb:cell N`` with rows inside the cell.  Fixed source is
split at the markers and written back into the right cells, magics restored.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from torchlint.diagnostics import Diagnostic, Location

MARKER = "# torchlint-cell-boundary {n}"
MARKER_RE = re.compile(r"^# torchlint-cell-boundary (\d+)$")
MAGIC_RE = re.compile(r"^\s*(%|!|\?)|\?\s*$")
# ``x = !cmd``, ``a, b = %magic``: IPython assigns the output of a magic
ASSIGNED_MAGIC_RE = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")
PLACEHOLDER = "# torchlint-magic {n}"
PLACEHOLDER_RE = re.compile(r"^(\s*)(?:pass  |[\w., ]+ = \.\.\.  )?# torchlint-magic (\d+)$")


@dataclass
class Notebook:
    data: dict
    source: str  # the joined module
    cell_ids: list  # notebook cell index (0-based) for each code cell, in order
    line_map: list  # module line (0-based) -> (code cell order, line in cell 0-based) or None for markers
    magics: list  # original magic lines, by placeholder number
    indent: int = 1  # JSON indentation of the file (nbformat writes 1)
    final_newline: bool = True  # the file ended with a newline


def _cell_text(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def load(text: str) -> Notebook:
    data = json.loads(text)
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise ValueError("not a notebook: no 'cells' list")
    lines: list = []
    line_map: list = []
    magics: list = []
    cell_ids: list = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        order = len(cell_ids)
        cell_ids.append(index)
        lines.append(MARKER.format(n=order))
        line_map.append(None)
        cell_lines = _cell_text(cell).split("\n")
        # A cell magic (%%time, %%bash, ...) makes the whole cell something other than Python.
        cell_magic = bool(cell_lines) and cell_lines[0].lstrip().startswith("%%")
        continued = False
        for j, line in enumerate(cell_lines):
            assigned = None if (cell_magic or continued) else ASSIGNED_MAGIC_RE.match(line)
            if cell_magic or continued or assigned or MAGIC_RE.search(line):
                indent = line[: len(line) - len(line.lstrip())]
                comment = PLACEHOLDER.format(n=len(magics))
                if assigned:  # the names stay bound, to a value nobody knows
                    lines.append(f"{indent}{assigned.group(2)} = ...  {comment}")
                elif cell_magic or continued:  # not a statement of its own: a comment
                    lines.append(f"{indent}{comment}")
                else:  # a statement: keeps an `if` or `for` whose body is only magics valid
                    lines.append(f"{indent}pass  {comment}")
                continued = line.rstrip().endswith("\\")  # a magic continued on the next line
                magics.append(line)
            else:
                lines.append(line)
            line_map.append((order, j))
    m = re.search(r"\n( +)\S", text)
    return Notebook(data, "\n".join(lines) + "\n", cell_ids, line_map, magics,
                    indent=len(m.group(1)) if m else 1, final_newline=text.endswith("\n"))


def cell_sources(text: str, filename: str) -> dict:
    """{``nb.ipynb:cell N``: the cell's source} for every code cell (for code frames)."""
    data = json.loads(text)
    out = {}
    for index, cell in enumerate(data.get("cells") or []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out[f"{filename}:cell {index + 1}"] = _cell_text(cell)
    return out


def map_diagnostic(nb: Notebook, d: Diagnostic, filename: str) -> Diagnostic:
    row = d.location.row - 1
    target = nb.line_map[row] if 0 <= row < len(nb.line_map) else None
    if target is None:
        return replace(d, filename=filename)
    order, line = target
    delta = d.location.row - (line + 1)
    return replace(d, filename=f"{filename}:cell {nb.cell_ids[order] + 1}",
                   location=Location(line + 1, d.location.column),
                   end_location=Location(max(d.end_location.row - delta, 1), d.end_location.column))


def write_back(nb: Notebook, fixed_source: str) -> str:
    """The notebook JSON with each code cell replaced by its part of ``fixed_source``."""
    parts: dict = {}
    current = None
    if fixed_source.endswith("\n"):  # the newline load() added after the last cell
        fixed_source = fixed_source[:-1]
    for line in fixed_source.split("\n"):
        m = MARKER_RE.match(line)
        if m:
            current = int(m.group(1))
            parts[current] = []
            continue
        if current is None:
            continue
        pm = PLACEHOLDER_RE.match(line)
        parts[current].append(nb.magics[int(pm.group(2))] if pm else line)
    data = json.loads(json.dumps(nb.data))
    for order, index in enumerate(nb.cell_ids):
        text = "\n".join(parts.get(order, []))
        cell = data["cells"][index]
        if isinstance(cell.get("source"), list):
            pieces = text.split("\n")
            cell["source"] = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        else:
            cell["source"] = text
    return json.dumps(data, indent=nb.indent, ensure_ascii=False) + ("\n" if nb.final_newline else "")
