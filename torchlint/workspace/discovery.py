"""Turn the paths on the command line into the files to check.

Directories are walked (symlinked directories too, with loops detected),
pruning default and configured excludes and, unless ``respect-gitignore`` is
off, what ``.gitignore`` files say (matched with the ``pathspec`` library).
Explicitly named files are always checked, unless ``force-exclude`` is set
(pre-commit passes every staged file explicitly).  Problems are returned as
diagnostics; discovery never raises for a bad path.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Optional

from torchlint.diagnostics import Diagnostic, Location
from torchlint.workspace.globs import matches
from torchlint.settings import Settings

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")


def io_error(path, message: str) -> Diagnostic:
    return Diagnostic(code="E902", name="io-error", message=message, severity="error", filename=str(path),
                      location=Location(1, 1), end_location=Location(1, 1))


class _Matcher:
    def __init__(self, settings: Settings):
        self.root = settings.project_root
        self.patterns = tuple(settings.exclude) + tuple(settings.extend_exclude)
        self.gitignore = settings.respect_gitignore
        self._specs: dict = {}

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def excluded(self, path: Path) -> bool:
        rel = self._rel(path)
        for pat in self.patterns:
            pat = pat.rstrip("/")
            if matches(rel, pat) or fnmatch.fnmatchcase(rel, pat + "/*") or fnmatch.fnmatchcase(path.as_posix(), pat):
                return True
        return False

    def _spec(self, directory: Path):
        key = str(directory)
        if key not in self._specs:
            spec = None
            gi = directory / ".gitignore"
            if gi.is_file():
                try:
                    import pathspec

                    lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
                except (OSError, ImportError):
                    spec = None
            self._specs[key] = spec
        return self._specs[key]

    def ignored(self, path: Path, is_dir: bool, parents: list) -> bool:
        if not self.gitignore:
            return False
        path = Path(os.path.abspath(path))
        for d in parents:
            d = Path(os.path.abspath(d))
            spec = self._spec(d)
            if spec is None:
                continue
            try:
                rel = path.relative_to(d).as_posix()
            except ValueError:
                continue
            if spec.match_file(rel + ("/" if is_dir else "")):
                return True
        return False


def _git_parents(start: Path, root: Path) -> list:
    """Directories whose ``.gitignore`` applies below ``start``: from the enclosing git work tree's root
    (the nearest parent with ``.git``) down to ``start``; outside a git work tree, from the project
    root (or ``start`` itself when it is not below the project root) down to ``start``."""
    cur = Path(os.path.abspath(start))
    chain = [cur, *cur.parents]
    for i, d in enumerate(chain):
        if (d / ".git").exists():
            return list(reversed(chain[: i + 1]))
    stop = Path(os.path.abspath(root))
    if stop in chain:
        return list(reversed(chain[: chain.index(stop) + 1]))
    return [cur]


def discover(paths: list, settings: Settings) -> tuple:
    """Return (sorted unique files, diagnostics for paths that could not be used)."""
    matcher = _Matcher(settings)
    files: dict = {}
    problems: list = []
    for raw in paths:
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            problems.append(io_error(p, f"{raw}: No such file or directory"))
            continue
        if p.is_file() or (p.exists() and not p.is_dir()):
            if settings.force_exclude and (matcher.excluded(p) or any(matcher.excluded(a) for a in p.parents)
                                           or matcher.ignored(p, False, _git_parents(p.parent, settings.project_root))):
                continue
            files[os.path.normpath(str(p))] = p
            continue
        if not p.exists():
            problems.append(io_error(p, f"{raw}: broken symbolic link"))
            continue
        if settings.force_exclude and matcher.excluded(p) and str(raw) not in (".", "./"):
            continue
        _walk(p, matcher, files, problems, _git_parents(p, settings.project_root))
    ordered = [files[k] for k in sorted(files)]
    return ordered, problems


def _walk(top: Path, matcher: _Matcher, files: dict, problems: list, parents: list) -> None:
    seen: set = set()
    stack = [(top, parents)]
    while stack:
        directory, dparents = stack.pop()
        try:
            st = directory.stat()
        except OSError as e:
            problems.append(io_error(directory, f"{directory}: {e.strerror or e}"))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            problems.append(io_error(directory, f"{directory}: directory loop (a symbolic link points back to a parent); skipped"))
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            problems.append(io_error(directory, f"{directory}: {e.strerror or e}"))
            continue
        here = Path(os.path.abspath(directory))
        sub_parents = dparents if dparents and dparents[-1] == here else dparents + [here]
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if matcher.excluded(path) or matcher.ignored(path, is_dir, sub_parents):
                continue
            if is_dir:
                stack.append((path, sub_parents))
            elif entry.name.endswith(SOURCE_SUFFIXES):
                try:
                    if not entry.is_file():
                        if entry.is_symlink() and not path.exists():
                            problems.append(io_error(path, f"{path}: broken symbolic link"))
                        continue
                except OSError:
                    continue
                files[os.path.normpath(str(path))] = path


def relative_to_root(path: Path, root: Path) -> Optional[str]:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
