"""A content cache of per-file results, in ``.torchlint_cache/``.

Key: the file's bytes, the settings that change findings
(``Settings.fingerprint()``), the per-file-ignores that apply to the file,
torchlint's version, and a hash of torchlint's own source files (engine, API
model and rules), so that editing a rule in a checkout invalidates the cache.
The key is the content, not the name: two files with the same bytes share an
entry, so file names are stored relative to the file and put back on load.

Entries are small JSON files, written atomically (a temporary file in the same
directory, then ``os.replace``), so two concurrent runs can share the cache and
a reader never sees half an entry.  An unreadable or corrupt entry is ignored
with a warning on stderr and recomputed; an unwritable cache directory gives one
warning and the run goes on without it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from torchlint import __version__
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location

CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by torchlint.\n"
                "# For information about cache directory tags, see https://bford.info/cachedir/\n")
FORMAT = 1  # bump when the entry layout changes
_code_fingerprint: Optional[str] = None
_warned: set = set()


def warn(msg: str) -> None:
    """One warning on stderr per distinct message."""
    if msg not in _warned:
        _warned.add(msg)
        print(f"torchlint: warning: {msg}", file=sys.stderr)


_warn = warn  # older name


def code_fingerprint() -> str:
    """A hash of torchlint's version and of the bytes of its source files (package and rules)."""
    global _code_fingerprint
    if _code_fingerprint is None:
        import hashlib

        import torchlint

        h = hashlib.sha256(f"{__version__}|{FORMAT}".encode())
        roots = [Path(torchlint.__file__).parent]
        try:
            from torchlint import registry

            roots.append(Path(registry._import_rules_package().__path__[0]))
        except Exception:  # pragma: no cover - rules not importable: the engine will say so
            pass
        for root in roots:
            for p in sorted(root.rglob("*.py")):
                try:
                    data = p.read_bytes()
                except OSError:
                    continue
                h.update(f"{p.relative_to(root).as_posix()}:{len(data)}:".encode())
                h.update(data)
        _code_fingerprint = h.hexdigest()[:20]
    return _code_fingerprint


def cache_root(settings) -> Path:
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.project_root) / ".torchlint_cache"


def key_for(data: bytes, settings, kind: str = "lint", extra: str = "") -> str:
    import hashlib

    h = hashlib.sha256(data)
    h.update(f"\0{settings.fingerprint()}\0{kind}\0{extra}\0{code_fingerprint()}".encode())
    return h.hexdigest()


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


def _entry(root: Path, key: str) -> Path:
    return root / __version__ / key[:2] / f"{key}.json"


def get(settings, key: str) -> Optional[dict]:
    """The stored entry for ``key``, or None (missing, unreadable or corrupt: then with a warning)."""
    if settings.no_cache:
        return None
    import json

    path = _entry(cache_root(settings), key)
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        warn(f"ignoring unreadable cache entry {path}: {e}")
        return None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        warn(f"ignoring unreadable cache entry {path}: not a torchlint {__version__} cache entry")
        return None
    value["_path"] = str(path)
    return value


def put(settings, key: str, value: dict) -> None:
    if settings.no_cache:
        return
    import json

    root = cache_root(settings)
    path = _entry(root, key)
    try:
        _ensure(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, json.dumps(dict(value, format=FORMAT), separators=(",", ":")))
    except OSError as e:
        warn(f"cannot write the cache at {root}: {e.strerror or e}")


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


def store_result(settings, key: str, res) -> None:
    """Store a runner FileResult (never an internal error: that should be retried next time)."""
    if res.error is not None and res.error.code == "TL999":
        return
    if any(d.code == "TL999" for d in res.diagnostics):
        return
    display = str(res.path)

    def dump(d):
        data = dump_diag(d)
        data["filename"] = d.filename[len(display):] if d.filename.startswith(display) else d.filename
        return data

    put(settings, key, {"diagnostics": [dump(d) for d in res.diagnostics],
                        "error": dump(res.error) if res.error else None})


def load_result(hit: dict, path: Path):
    """A runner FileResult from a stored entry, names relabelled to ``path``; None if the entry is malformed."""
    from dataclasses import replace

    from torchlint.diagnostics import FileResult

    def load(d):
        diag = load_diag(d)
        return replace(diag, filename=str(path) + diag.filename)

    try:
        diags = [load(d) for d in hit["diagnostics"]]
        error = load(hit["error"]) if hit.get("error") else None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        warn(f"ignoring unreadable cache entry {hit.get('_path', '?')}: {type(e).__name__}: {e}")
        return None
    return FileResult(path, diags, error, parsed=True, cached=True)
