"""Resolved settings: the command line merged over one configuration file (and what it extends).

``torchlint.workspace.config`` builds one per configuration file in use (each
file checked gets the settings of its closest configuration, as in Ruff), and
one for the run as a whole (output format, cache, jobs); the runner, the fixer
and the reporters only read them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Every --output-format / output-format value (torchlint.report.reporters implements each).
OUTPUT_FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit")


@dataclass(frozen=True)
class Settings:
    # Rule codes that run (already expanded from prefixes, names and ALL).
    select: frozenset[str]
    # (glob, frozenset of codes) pairs, matched against the path relative to project_root.
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    unsafe_fixes: bool = False
    output_format: str = "full"
    project_root: Path = field(default_factory=Path.cwd)
    config_file: Path | None = None
    extends: tuple[Path, ...] = ()  # the files config_file extends (``extend = ...``), the base first
    cache_dir: Path | None = None  # None: <project_root>/.torchlint_cache
    no_cache: bool = False
    jobs: int | None = None  # None: number of usable cores

    def fingerprint(self) -> str:
        """What in the settings changes a file's findings (part of the cache key)."""
        pfi = ";".join(f"{g}={','.join(sorted(c))}" for g, c in self.per_file_ignores)
        return f"select={','.join(sorted(self.select))}|pfi={pfi}"
