"""Glob matching for ``exclude``, ``extend-exclude`` and ``per-file-ignores``.

Patterns match a path relative to the project root, or its file name alone
(``"__init__.py"``, ``"*.pyi"``), with ``fnmatch`` rules.  A pattern with
``**`` also gets git's rules (via :mod:`pathspec`), where ``**/`` stands for zero
or more directories, so ``tests/**/*.py`` covers ``tests/test_x.py`` as Ruff's
globs do; plain ``fnmatch`` would demand a subdirectory.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache


@lru_cache(maxsize=512)
def _spec(pattern: str):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([pattern])


def matches(relpath: str, pattern: str) -> bool:
    """Whether the project-relative POSIX path ``relpath`` matches ``pattern``."""
    name = relpath.rsplit("/", 1)[-1]
    if fnmatchcase(relpath, pattern) or fnmatchcase(name, pattern):
        return True
    return "**" in pattern and _spec(pattern).match_file(relpath)
