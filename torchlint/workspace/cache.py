"""The cache directory, ``.torchlint_cache/``, and what every cache entry is made of.

The directory holds a ``CACHEDIR.TAG`` and a ``.gitignore`` of ``*``, and one
index per torchlint version (:mod:`torchlint.workspace.index`: every file's
result, read once per run).  This module gives the directory's place
(``cache-dir``, default ``<project root>/.torchlint_cache``), a fingerprint of
torchlint's own sources (an edited rule in a checkout starts a new index),
``torchlint clean``, one-time warnings, and the (de)serialising of findings.
Files are written atomically (a temporary file in the same directory, then
``os.replace``), so concurrent runs can share the cache and a reader never sees
half a file; an unwritable cache directory gives one warning and the run goes
on without it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

from torchlint import __version__
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location

CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by torchlint.\n"
                "# For information about cache directory tags, see https://bford.info/cachedir/\n")
_code_fingerprint: Optional[str] = None
_warned: set = set()


def warn(msg: str) -> None:
    """One warning on stderr per distinct message."""
    if msg not in _warned:
        _warned.add(msg)
        print(f"torchlint: warning: {msg}", file=sys.stderr)


_warn = warn  # older name


def code_fingerprint() -> str:
    """A hash of torchlint's version and of its source files (package and rules): names, sizes, times."""
    global _code_fingerprint
    if _code_fingerprint is None:
        import hashlib

        import torchlint

        h = hashlib.sha256(__version__.encode())
        roots = [Path(torchlint.__file__).parent]
        try:
            from torchlint import registry

            roots.append(Path(registry._import_rules_package().__path__[0]))
        except Exception:  # pragma: no cover - rules not importable: the engine will say so
            pass
        # the sources' names, sizes and modification times, not their bytes: a run reads none of them
        # (an edit, a checkout or a reinstall changes the time), and os.walk is far cheaper than rglob
        for root in roots:
            for directory, _, names in sorted(os.walk(root)):
                for name in sorted(n for n in names if n.endswith(".py")):
                    try:
                        st = os.stat(os.path.join(directory, name))
                    except OSError:
                        continue
                    rel = os.path.relpath(os.path.join(directory, name), root)
                    h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}\0".encode())
        _code_fingerprint = h.hexdigest()[:20]
    return _code_fingerprint


def cache_root(settings) -> Path:
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.project_root) / ".torchlint_cache"


def _ensure(root: Path) -> None:
    if (root / "CACHEDIR.TAG").exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "*\n")):
        p = root / name
        if not p.exists():
            _atomic_write(p, text)


def _atomic_write(path: Path, text: str) -> None:
    from torchlint.workspace.fsutil import write_atomic

    write_atomic(path, text.encode("utf-8"), prefix=".tmp-")


def clean(settings) -> bool:
    """Remove the cache directory; True if there was one."""
    import shutil

    root = cache_root(settings)
    if not root.exists():
        return False
    if root.is_dir() and not (root / "CACHEDIR.TAG").exists() and any(root.iterdir()):
        warn(f"{root} does not look like a torchlint cache (it has no CACHEDIR.TAG): not removing it")
        return False
    shutil.rmtree(root, ignore_errors=True)
    return True


def register_clean(group) -> None:
    """Add ``torchlint clean`` to a click group (for a CLI that has not got it yet)."""
    import click

    @group.command("clean")
    @click.option("--cache-dir", type=click.Path(path_type=Path), default=None, help="The cache to remove.")
    def clean_command(cache_dir):
        """Remove the cache directory."""
        from torchlint.settings import Settings

        settings = Settings(select=frozenset(), cache_dir=cache_dir)
        root = cache_root(settings)
        click.echo(f"Removed {root}" if clean(settings) else f"No cache at {root}")


# -- (de)serialising results -----------------------------------------------------


def dump_diag(d: Diagnostic) -> dict:
    from dataclasses import asdict

    return asdict(d)


def load_diag(data: dict) -> Diagnostic:
    fix = None
    if data.get("fix"):
        f = data["fix"]
        fix = Fix(f["message"], tuple(Edit(e["start"], e["end"], e["content"], Location(**e["location"]),
                                           Location(**e["end_location"])) for e in f["edits"]), f["applicability"])
    return Diagnostic(code=data["code"], name=data["name"], message=data["message"], severity=data["severity"],
                      filename=data["filename"], location=Location(**data["location"]),
                      end_location=Location(**data["end_location"]), fix=fix, notes=tuple(data.get("notes", ())))
