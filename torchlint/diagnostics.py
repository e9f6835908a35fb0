"""The data every stage of torchlint passes around: findings, fixes and edits.

Offsets are character offsets into the decoded source string (``str`` indices),
rows and columns are 1-based, like Ruff's JSON output.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

Severity = Literal["error", "warning"]
Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True, order=True)
class Location:
    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` with ``content``."""

    start: int
    end: int
    content: str
    location: Location
    end_location: Location


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = "safe"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    severity: Severity
    filename: str
    location: Location
    end_location: Location
    fix: Fix | None = None
    # Extra lines for the ``help:`` section of the full report.
    notes: tuple[str, ...] = field(default=())

    def sort_key(self) -> tuple:
        # a notebook's findings sort by cell number (cell 2 before cell 10), then row and column
        path, cell = split_cell(self.filename)
        return (path, cell or 0, self.location.row, self.location.column, self.code, self.message)


def split_cell(filename: str) -> tuple:
    """``("nb.ipynb", 4)`` for a notebook finding's ``"nb.ipynb:cell 4"``; ``(filename, None)`` otherwise."""
    path, sep, cell = filename.rpartition(":cell ")
    if sep and cell.isdigit() and path.endswith(".ipynb"):
        return path, int(cell)
    return filename, None


@dataclass(frozen=True)
class SourceError(Exception):
    """A file that cannot be analysed (syntax error, recursion too deep, ...)."""

    filename: str
    message: str
    location: Location | None = None

    def __str__(self) -> str:  # pragma: no cover - trivial
        where = f"{self.filename}:{self.location.row}:{self.location.column}" if self.location else self.filename
        return f"{where}: {self.message}"


@dataclass
class FileResult:
    """What checking one file gave: its findings, or the error that stopped it, and what --fix did."""

    path: Path
    diagnostics: list = field(default_factory=list)
    error: Optional[Diagnostic] = None
    source: Optional[str] = None  # the text, kept only with findings or an error (for a code frame)
    parsed: bool = False
    applied: list = field(default_factory=list)  # fixes applied (fix mode)
    fix_error: Optional[str] = None
    diff: Optional[str] = None
    cached: bool = False
    noqa_added: int = 0  # lines that got a noqa comment (--add-noqa)
    truncated: bool = False  # the interpreter's budget cut the analysis short (check --verbose says so)
    deps: list = field(default_factory=list)  # [path, stat, digest] of the project's other modules it used


class WholeFileNeeded(BaseException):
    """A whole-file fact asked of a reduced file needs the whole file.  The aliasing guard
    (``SemanticModel.untracked_grad_change``) only grows with more code (more bindings and uses of a name
    make it more aliased, less literal, less certainly a container), as long as the imports that decide which
    names are torch's stay (``torchlint.analysis.partial._close``): true on the reduced file, it is true on the
    whole one; false, the engine analyses the whole file (``torchlint.analysis.partial``).  A ``BaseException``:
    a rule's ``except Exception`` must not swallow it."""
