"""Module resolution inside the project: which file a dotted name stands for, by reading the file system only.

Nothing is imported or run.  The *roots* of a file are where Python would look
for the project's absolute imports when the file runs:

* the file's own directory, when it is a script (no ``__init__.py`` next to it:
  ``python train.py`` puts it first on ``sys.path``);
* the directory above the file's outermost package (the chain of directories
  with an ``__init__.py``), so that ``pkg/sub/mod.py`` can import ``pkg.other``;
* the directory of the nearest ``pyproject.toml``, ``setup.py`` or ``setup.cfg``,
  and its ``src/`` (the src layout);
* the ``src = [...]`` setting of the nearest configuration, as in Ruff
  (directories relative to that file).

A dotted name is looked up in the roots in that order: ``a/b.py`` or
``a/b/__init__.py`` (a package; a directory without one is a namespace
package).  The standard library and ``torch`` are never looked up: they stay
what the API model says they are.  Results are memoised per process; a
module's identity for the cache is its content hash (:func:`digest`) and its
``stat`` (:func:`stat_key`), checked by :func:`deps_fresh`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Optional

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
# Never resolved inside the project: torch is the API model's, the standard library is Python's.
EXTERNAL = frozenset(getattr(sys, "stdlib_module_names", ())) | {"torch", "builtins", "__future__"}

_marker_memo: dict = {}
_package_base_memo: dict = {}
_src_memo: dict = {}


@dataclass(frozen=True)
class ModuleFile:
    """Where a module's source is: ``path`` (None for a namespace package) under ``root``."""

    qual: str
    path: Optional[str]
    is_package: bool
    root: str


def _is_file(p: str) -> bool:
    return os.path.isfile(p)


def project_dir(directory: str) -> Optional[str]:
    """The nearest directory at or above ``directory`` holding a pyproject.toml, setup.py or setup.cfg."""
    walked = []
    d = directory
    found = None
    while True:
        if d in _marker_memo:
            found = _marker_memo[d]
            break
        walked.append(d)
        if any(_is_file(os.path.join(d, m)) for m in PROJECT_MARKERS):
            found = d
            break
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for w in walked:
        _marker_memo[w] = found
    return found


def package_base(directory: str) -> str:
    """The directory above the outermost package that contains ``directory`` (itself if it is no package)."""
    got = _package_base_memo.get(directory)
    if got is None:
        d = directory
        while _is_file(os.path.join(d, "__init__.py")) and os.path.dirname(d) != d:
            d = os.path.dirname(d)
        got = _package_base_memo[directory] = d
    return got


def configured_src(directory: str) -> tuple:
    """The ``src = [...]`` directories of the configuration closest to ``directory`` (absolute)."""
    got = _src_memo.get(directory)
    if got is None:
        got = ()
        try:
            from pathlib import Path

            from torchlint.workspace import config

            cfg = config.find_config(Path(directory))
            if cfg is not None:
                table = config.read_config(cfg)
                got = tuple(os.path.normpath(os.path.join(str(cfg.parent.resolve()), s)) for s in table.get("src", ()))
        except Exception:  # a broken configuration is the CLI's to report, not the resolver's
            got = ()
        _src_memo[directory] = got
    return got


def roots_for(path: str, extra: tuple = ()) -> tuple:
    """The import roots of the file ``path`` (see the module docstring), most specific first."""
    directory = os.path.dirname(os.path.abspath(path))
    roots: list = []
    if not _is_file(os.path.join(directory, "__init__.py")):
        roots.append(directory)
    roots.append(package_base(directory))
    top = project_dir(directory)
    if top is not None:
        roots.append(top)
        if os.path.isdir(os.path.join(top, "src")):
            roots.append(os.path.join(top, "src"))
    roots.extend(extra)
    roots.extend(configured_src(directory))
    out: list = []
    for r in roots:
        if r not in out:
            out.append(r)
    return tuple(out)


def display_base(path: str) -> str:
    """The directory that names of other modules are shown relative to: the project's, else the file's package base."""
    directory = os.path.dirname(os.path.abspath(path))
    return project_dir(directory) or package_base(directory)


class Finder:
    """Dotted names to files, for one tuple of roots (memoised)."""

    def __init__(self, roots: tuple):
        self.roots = tuple(roots)
        self._memo: dict = {}

    def find(self, qual: str) -> Optional[ModuleFile]:
        if qual in self._memo:
            return self._memo[qual]
        found = None
        parts = qual.split(".")
        if parts[0] not in EXTERNAL and all(p.isidentifier() for p in parts):
            for root in self.roots:
                found = _find_in(root, parts, qual)
                if found is not None:
                    break
        self._memo[qual] = found
        return found


def _find_in(root: str, parts: list, qual: str) -> Optional[ModuleFile]:
    base = os.path.join(root, *parts)
    init = os.path.join(base, "__init__.py")
    if _is_file(init):
        return ModuleFile(qual, init, True, root)
    if _is_file(base + ".py"):
        return ModuleFile(qual, base + ".py", False, root)
    if os.path.isdir(base) and (len(parts) > 1 or any(n.endswith(".py") or os.path.isdir(os.path.join(base, n))
                                                      for n in _listdir(base))):
        return ModuleFile(qual, None, True, root)
    return None


def _listdir(d: str) -> list:
    try:
        return os.listdir(d)
    except OSError:
        return []


def module_name(path: str, roots: tuple) -> Optional[tuple]:
    """(dotted name, is_package) of the file ``path`` under the first root that contains it, or None."""
    full = os.path.abspath(path)
    stem, _ = os.path.splitext(full)
    for root in roots:
        rel = os.path.relpath(stem, root)
        if rel.startswith("..") or os.path.isabs(rel):
            continue
        parts = rel.split(os.sep)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            return ".".join(parts), is_package
    return None


def resolve_relative(current: Optional[str], is_package: bool, level: int, module: Optional[str]) -> Optional[str]:
    """The absolute name of ``from <level dots><module> import ...`` in the module ``current``."""
    if current is None or level <= 0:
        return module if level <= 0 else None
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    up = level - 1
    if up > len(parts) or (up == len(parts) and not module):
        return None
    parts = parts[: len(parts) - up]
    if module:
        parts = parts + module.split(".")
    return ".".join(parts) if parts else None


# -- identities for the cache ----------------------------------------------------


def digest(data: bytes) -> str:
    import hashlib  # (loading OpenSSL costs more than a check of a file that reads no other module)

    return hashlib.sha256(data).hexdigest()[:32]


def stat_key(st: os.stat_result) -> list:
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def deps_fresh(deps) -> bool:
    """True when every ``[path, stat, digest]`` in ``deps`` still holds (by ``stat``, else by content)."""
    if not deps:
        return True
    try:
        for path, st, dg in deps:
            try:
                now = os.stat(path)
            except OSError:
                return False
            if stat_key(now) == st:
                continue
            with open(path, "rb") as f:
                if digest(f.read()) != dg:
                    return False
    except (TypeError, ValueError):
        return False
    return True
