"""The data every stage of torchlint passes around: findings, fixes and edits.

Offsets are character offsets into the decoded source string (``str`` indices),
rows and columns are 1-based, like Ruff's JSON output.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
        return (self.filename, self.location.row, self.location.column, self.code, self.message)


@dataclass(frozen=True)
class SourceError(Exception):
    """A file that cannot be analysed (syntax error, recursion too deep, ...)."""

    filename: str
    message: str
    location: Location | None = None

    def __str__(self) -> str:  # pragma: no cover - trivial
        where = f"{self.filename}:{self.location.row}:{self.location.column}" if self.location else self.filename
        return f"{where}: {self.message}"
