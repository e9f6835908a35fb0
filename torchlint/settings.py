"""Resolved settings for one run (after the CLI and the config file are merged).

``torchlint.workspace.config`` builds this from ``pyproject.toml``/``torchlint.toml`` and
the command line; the runner, the fixer and the reporters only read it.
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
    cache_dir: Path | None = None  # None: <project_root>/.torchlint_cache
    no_cache: bool = False
    jobs: int | None = None  # None: number of usable cores

    def fingerprint(self) -> str:
        """What in the settings changes a file's findings (part of the cache key)."""
        pfi = ";".join(f"{g}={','.join(sorted(c))}" for g, c in self.per_file_ignores)
        return f"select={','.join(sorted(self.select))}|pfi={pfi}"
