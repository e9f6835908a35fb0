"""``torchlint check --watch``: check, then check again whenever a file changes, as ``ruff check --watch``.

File events come from ``watchfiles`` (inotify, FSEvents or ReadDirectoryChangesW
through the Rust ``notify`` crate): no polling, and the burst of events of one
save (a temporary file, a rename) arrives as one batch.  Only changes to what
a check reads count: Python files, stubs, notebooks, ``pyproject.toml``,
``torchlint.toml`` and ``.gitignore``; torchlint's own cache and temporary
files do not.  Each run is a complete ``torchlint check`` with the same
options, so configuration changes take effect too.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

WATCHED_SUFFIXES = (".py", ".pyi", ".ipynb")
WATCHED_NAMES = ("pyproject.toml", "torchlint.toml", ".gitignore")


def relevant(path: str) -> bool:
    p = Path(path)
    if ".torchlint_cache" in p.parts:
        return False
    return p.suffix in WATCHED_SUFFIXES or p.name in WATCHED_NAMES


def _roots(paths) -> list:
    """Directories to watch: the directories given, and the directory of each file (editors replace files)."""
    out = []
    for raw in paths or ["."]:
        p = Path(raw).resolve()
        root = p if p.is_dir() else p.parent
        if root.exists() and root not in out:
            out.append(root)
    return out


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


def watch_check(ctx: click.Context, paths, stdin_filename=None) -> None:
    """Run the ``check`` command of ``ctx`` now and after every relevant change, until interrupted."""
    if stdin_filename is not None:
        click.echo("torchlint: error: --watch cannot be combined with --stdin-filename", err=True)
        sys.exit(2)
    try:
        import watchfiles
    except ImportError:
        click.echo("torchlint: error: --watch needs the watchfiles package: pip install 'torchlint[watch]'", err=True)
        sys.exit(2)
    ctx.meta["torchlint.watch"] = False  # the runs below are plain checks
    roots = _roots(paths)

    def run() -> None:
        try:
            ctx.invoke(ctx.command, **ctx.params)
        except SystemExit:
            pass
        sys.stdout.flush()
        click.echo(f"[{_stamp()}] Watching for file changes.", err=True)

    click.echo(f"[{_stamp()}] Starting torchlint in watch mode...", err=True)
    run()
    for changes in watchfiles.watch(*roots, watch_filter=lambda change, path: relevant(path), debounce=200,
                                    raise_interrupt=False):
        if changes:
            click.echo(f"[{_stamp()}] File change detected...", err=True)
            run()
