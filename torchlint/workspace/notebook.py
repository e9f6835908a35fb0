"""Jupyter notebooks: code cells are linted as one module.

Cells are joined with a marker line between them.  IPython's own syntax is
found where IPython finds it (:func:`magic_lines`): a cell magic (``%%bash``)
on the cell's first line, and, at the start of a *logical* line (outside
brackets, strings and backslash continuations, told by :mod:`tokenize`), a
line magic or shell escape (``%time f()``, ``!pip install x``, ``?len``), an
assigned one (``files = !ls``, ``t = %timeit -o f()``) or a help request
(``len?``, ``torch.nn??``).  Each physical line of a magic becomes a
placeholder that keeps the module valid Python (``pass`` where the magic was a
statement, ``files = ...`` where it was assigned, a comment inside cell magics
and continuation lines).  Findings are mapped back to ``nb.ipynb:cell N`` with
rows inside the cell; fixed source is split at the markers and written back
into the right cells, magics restored.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, replace

from torchlint.diagnostics import Diagnostic, Location

MARKER = "# torchlint-cell-boundary {n}"
MARKER_RE = re.compile(r"^# torchlint-cell-boundary (\d+)$")
PLACEHOLDER = "# torchlint-magic {n}"
PLACEHOLDER_RE = re.compile(r"# torchlint-magic (\d+)$")
# What IPython takes for an escape when it starts a logical line: %magic, !shell (and %%, !!),
# ?help and ??, and the autocall escapes ,f a b  ;f a b  /f a
ESCAPES = ("%", "!", "?", ",", ";", "/")
# ``obj?``, ``obj.attr??``, ``x[0]?``, ``%magic?``: IPython's help request at the end of a logical line
HELP_END_RE = re.compile(r"%{0,2}[A-Za-z_*][\w*]*(?:\.[A-Za-z_*][\w*]*|\[-?\d+\])*\?\??$")
CELL_MAGIC_HELP_RE = re.compile(r"%%\w+\?")  # ``%%time?`` asks for help; the cell is Python
STATEMENT, ASSIGNED, CONTINUED = "statement", "assigned", "continued"


def _continued_end(lines: list, i: int) -> int:
    """The last physical line of the backslash-continued line that starts at ``i``."""
    while i + 1 < len(lines) and lines[i].endswith("\\"):
        i += 1
    return i


class _LogicalLines:
    """The logical lines of one cell, told by :mod:`tokenize`.

    One tokenizer runs on from line to line for as long as its input is
    Python; after a magic (whose text is not Python) or a tokenizer error, a
    fresh one starts where the next logical line does, so every line is
    tokenized about once.
    """

    def __init__(self, lines: list):
        self.lines = lines
        self.stream = None
        self.base = 0  # the physical line the live tokenizer started at
        self.at = -1  # the physical line the live tokenizer goes on at

    def _start(self, i: int) -> None:
        feed = iter([line + "\n" for line in self.lines[i:]])
        self.stream = tokenize.generate_tokens(lambda: next(feed, ""))
        self.base = self.at = i

    def read(self, i: int) -> tuple:
        """(tokens, last physical line) of the logical line that starts at line ``i``.

        An unclosed bracket or triple-quoted string runs to the end of the cell;
        a string left open on its line (Python 3.12+ stops there) ends the line.
        """
        if self.stream is None or self.at != i:
            self._start(i)
        tokens: list = []
        depth = 0
        last = len(self.lines) - 1
        try:
            for tok in self.stream:
                row = self.base + tok.start[0] - 1
                if tok.type == tokenize.ENDMARKER:
                    break
                if tok.type == tokenize.NEWLINE or (tok.type == tokenize.NL and depth <= 0):
                    self.at = row + 1
                    return tokens, row
                if tok.type in (tokenize.INDENT, tokenize.DEDENT):
                    continue
                if tok.type == tokenize.OP and tok.string in "([{":
                    depth += 1
                elif tok.type == tokenize.OP and tok.string in ")]}":
                    depth -= 1
                tokens.append(tok)
        except tokenize.TokenError as e:  # (message, (row, column))
            msg, row = str(e.args[0]), e.args[1][0] if len(e.args) > 1 and e.args[1] else None
        except SyntaxError as e:  # a dedent to no outer level; on 3.12+ an unterminated string too
            msg, row = str(e.msg), e.lineno
        else:
            self.stream = None
            return tokens, last
        self.stream = None
        if "EOF" in msg or "triple-quoted" in msg or not row:
            return tokens, last
        row = min(self.base + row - 1, last)
        if not tokens and row == i and i != self.base:
            return self.read(i)  # the old tokenizer's indentation stack did not fit: start afresh here
        return tokens, max(row, i)


def _assigned_magic(line: str, tokens: list):
    """The target of ``lhs = %magic ...`` or ``lhs = !cmd`` (the first ``=`` outside brackets,
    on the first physical line), else None."""
    depth = 0
    row = tokens[0].start[0] if tokens else 0
    for tok in tokens:
        if tok.start[0] != row:
            return None
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.string == "=" and depth == 0:
            rest = line[tok.end[1]:].lstrip()
            if rest.startswith("!") or re.match(r"%[A-Za-z_]", rest):
                return line[: tok.start[1]].strip()
            return None
    return None


def _ends_in_help(tokens: list) -> bool:
    significant = [t for t in tokens if t.string.strip()]
    return bool(significant) and significant[-1].string == "?"


def magic_lines(lines: list) -> dict:
    """{physical line index: kind} for the IPython syntax in one cell's ``lines`` (no line endings).

    ``kind`` is ``statement`` (the first line of a magic that stands as a statement),
    ``("assigned", lhs)`` (the first line of ``lhs = %magic``) or ``continued`` (every
    other line of a magic, and every line of a cell magic).
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return {}
    head = lines[first].lstrip()
    if head.startswith("%%") and not CELL_MAGIC_HELP_RE.match(head):
        return {i: CONTINUED for i in range(len(lines))}
    out: dict = {}
    logical = _LogicalLines(lines)
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith(ESCAPES):
            kind, end = STATEMENT, _continued_end(lines, i)
        else:
            tokens, end = logical.read(i)
            target = _assigned_magic(lines[i], tokens)
            if target:
                kind, end = (ASSIGNED, target), _continued_end(lines, i)
            elif _ends_in_help(tokens) and HELP_END_RE.search(
                    " ".join(line.strip() for line in lines[i:end + 1])):
                kind = STATEMENT
            else:
                i = end + 1
                continue
        out[i] = kind
        for j in range(i + 1, end + 1):
            out[j] = CONTINUED
        i = end + 1
    return out


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
        found = magic_lines(cell_lines)
        for j, line in enumerate(cell_lines):
            kind = found.get(j)
            if kind is None:
                lines.append(line)
            else:
                indent = line[: len(line) - len(line.lstrip())]
                comment = PLACEHOLDER.format(n=len(magics))
                if isinstance(kind, tuple):  # (ASSIGNED, lhs): the names stay bound, to a value nobody knows
                    lines.append(f"{indent}{kind[1]} = ...  {comment}")
                elif kind == STATEMENT:  # keeps an `if` or `for` whose body is only magics valid
                    lines.append(f"{indent}pass  {comment}")
                else:  # not a statement of its own: a comment
                    lines.append(f"{indent}{comment}")
                magics.append(line)
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
    fix = d.fix
    if fix is not None:  # as Ruff does: edits in the rows of their cell too (offsets stay the joined module's)
        fix = replace(fix, edits=tuple(replace(e, location=_cell_location(nb, e.location),
                                               end_location=_cell_location(nb, e.end_location))
                                       for e in fix.edits))
    return replace(d, filename=f"{filename}:cell {nb.cell_ids[order] + 1}",
                   location=Location(line + 1, d.location.column),
                   end_location=Location(max(d.end_location.row - delta, 1), d.end_location.column), fix=fix)


def _cell_location(nb: Notebook, loc: Location) -> Location:
    """A row/column of the joined module as a row/column of its cell.  The start of a cell-boundary line
    is the end of the cell before it (an edit that appends a line to that cell)."""
    row = loc.row - 1
    target = nb.line_map[row] if 0 <= row < len(nb.line_map) else None
    if target is not None:
        return Location(target[1] + 1, loc.column)
    before = nb.line_map[row - 1] if 0 < row <= len(nb.line_map) else None
    return Location(before[1] + 2, 1) if before is not None else loc


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
        pm = PLACEHOLDER_RE.search(line)
        parts[current].append(nb.magics[int(pm.group(1))] if pm and int(pm.group(1)) < len(nb.magics) else line)
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
