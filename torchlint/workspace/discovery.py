"""Turn the paths on the command line into the files to check.

Directories are walked (symlinked directories too, with loops detected),
pruning default and configured excludes and, unless ``respect-gitignore`` is
off, what git ignores: ``.gitignore`` files, the repository's
``.git/info/exclude`` and the user's ``core.excludesFile`` (matched with the
``pathspec`` library).  An entry of a directory is judged by that directory's
settings (its closest configuration file), so a sub-project's own excludes hold
below it.  Explicitly named files are always checked, unless ``force-exclude``
is set (pre-commit passes every staged file explicitly).  Problems are returned
as diagnostics; discovery never raises for a bad path.
"""
from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Optional

from torchlint.diagnostics import Diagnostic, Location
from torchlint.settings import Settings

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")


def io_error(path, message: str) -> Diagnostic:
    return Diagnostic(code="E902", name="io-error", message=message, severity="error", filename=str(path),
                      location=Location(1, 1), end_location=Location(1, 1))


def _read_spec(path: Path):
    """The gitignore patterns in ``path`` as a pathspec, or None (no such file, or nothing usable)."""
    try:
        if not path.is_file():
            return None
        import pathspec

        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (OSError, ImportError):
        return None


def _git_dir(worktree: Path) -> Optional[Path]:
    """The repository directory of a work tree: ``.git``, or where a ``.git`` file points (worktrees,
    submodules); for a linked worktree, the common directory that holds ``info/exclude``."""
    dot = worktree / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    first = text.splitlines()[0] if text else ""
    if not first.startswith("gitdir:"):
        return None
    gitdir = (worktree / first[len("gitdir:"):].strip()).resolve()
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
        return (gitdir / common).resolve()
    except OSError:
        return gitdir


def _global_excludes_file(worktree: Path) -> Optional[Path]:
    """``core.excludesFile`` as git sees it in ``worktree`` (any config level), else git's default,
    ``$XDG_CONFIG_HOME/git/ignore`` (``~/.config/git/ignore``)."""
    import subprocess

    try:
        r = subprocess.run(["git", "config", "--path", "--get", "core.excludesFile"], cwd=worktree,
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and r.stdout.strip():
            return (worktree / os.path.expanduser(r.stdout.strip())).resolve()
    except (OSError, subprocess.SubprocessError):
        pass
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "git" / "ignore"


_REPO_SPECS: dict = {}  # work tree -> [specs of .git/info/exclude and core.excludesFile]


def _repo_specs(worktree: Path) -> list:
    key = str(worktree)
    if key not in _REPO_SPECS:
        gitdir = _git_dir(worktree)
        files = [gitdir / "info" / "exclude"] if gitdir is not None else []
        if gitdir is not None:
            files.append(_global_excludes_file(worktree))
        _REPO_SPECS[key] = [_AnyPattern(spec) for spec in (_read_spec(f) for f in files if f is not None)
                            if spec is not None]
    return _REPO_SPECS[key]


class _AnyPattern:
    """A cheap exact test in front of a gitignore spec: does *any* of its patterns match a path?

    The spec's answer depends on the last matching pattern (negations, directory marks), so it
    stays the judge; but a path that no pattern matches is not ignored, and one regular
    expression, the alternation of the patterns' own, tells that at C speed instead of one
    Python call per pattern.  When the patterns cannot be combined (back-references, flags),
    every path goes to the spec."""

    def __init__(self, spec):
        self.spec = spec
        self.search = None
        try:
            anywhere, other = [], []  # most patterns match at any depth: their common head is factored out
            for p in spec.patterns:
                rx = getattr(p, "regex", None)
                if p.include is None or rx is None:
                    continue  # a comment or a blank line: never matches
                if not isinstance(rx.pattern, str) or rx.flags != re.UNICODE or "(?P=" in rx.pattern:
                    return
                body = _NAMED_GROUP.sub("(?:", rx.pattern)
                if body.startswith(_ANY_DEPTH):
                    anywhere.append("(?:" + body[len(_ANY_DEPTH):] + ")")
                else:
                    other.append("(?:" + body + ")")
            if anywhere:
                other.append(_ANY_DEPTH + "(?:" + "|".join(anywhere) + ")")
            self.search = re.compile("|".join(other)).search if other else (lambda _file: None)
        except (re.error, AttributeError, TypeError):
            self.search = None

    def match_file(self, rel: str) -> bool:
        if self.search is not None:
            norm = rel[1:] if rel.startswith("/") else (rel[2:] if rel.startswith("./") else rel)
            if self.search(norm) is None:
                return False
        return self.spec.match_file(rel)


_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_ANY_DEPTH = "^(?:.+/)?"  # the head of a pattern without a slash: at the top or below any directory


def _any_of(patterns):
    """A test true where one of the fnmatch ``patterns`` matches: the ``match`` of the alternation of
    their regular expressions (``fnmatch.translate``, each anchored at the end, as
    :func:`fnmatch.fnmatchcase` compiles them); None for no pattern."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


class _Matcher:
    def __init__(self, settings: Settings, specs: Optional[dict] = None):
        self.root = settings.project_root
        self.patterns = tuple(settings.exclude) + tuple(settings.extend_exclude)
        self.gitignore = settings.respect_gitignore
        self.force_exclude = settings.force_exclude
        self._specs: dict = {} if specs is None else specs
        self._dir_specs: dict = {}  # (directory, first) -> the specs that judge its entries
        # excluded(): each pattern p (trailing "/" dropped) excludes a path when fnmatch(rel, p),
        # fnmatch(name, p), p has "**" and git's rules match rel, fnmatch(rel, p + "/*") or
        # fnmatch(the path as given, p): the same tests, each one regular expression over all patterns
        # (compiled on the first test: a file named on the command line is never tested, unless --force-exclude)
        self._tests = None
        root = str(self.root)
        self._root_prefix = None
        if os.path.isabs(root):
            self._root_prefix = root if root.endswith("/") else root + "/"

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _rel_of_resolved(self, resolved: str, given: str) -> str:
        """:meth:`_rel` of the path ``given`` (POSIX, as :meth:`Path.as_posix` writes it), whose resolved
        form (absolute, normalised) is ``resolved``."""
        if os.sep != "/":  # pragma: no cover - not a POSIX system
            return self._rel(Path(given))
        prefix = self._root_prefix
        if prefix is not None:
            if resolved.startswith(prefix):
                return resolved[len(prefix):] or "."
            if resolved + "/" == prefix:
                return "."
        return given

    def excluded(self, path: Path) -> bool:
        return self._excluded(self._rel(path), path.as_posix())

    def _excluded(self, rel: str, given: str) -> bool:
        if self._tests is None:
            pats = [pat.rstrip("/") for pat in self.patterns]
            self._tests = (_any_of(pats + [p + "/*" for p in pats]), _any_of(pats), [p for p in pats if "**" in p])
        rel_any, name_any, globstar = self._tests
        if rel_any is None:
            return False
        if rel_any(rel) or name_any(rel.rsplit("/", 1)[-1]) or name_any(given):
            return True
        if globstar:
            from torchlint.workspace.globs import _spec

            return any(_spec(p).match_file(rel) for p in globstar)
        return False

    def _spec(self, directory: Path):
        key = str(directory)
        if key not in self._specs:
            spec = _read_spec(directory / ".gitignore")
            self._specs[key] = _AnyPattern(spec) if spec is not None else None
        return self._specs[key]

    def _specs_of(self, directory: str, first: bool) -> list:
        """The specs that judge the entries below ``directory`` (an absolute path): its ``.gitignore``,
        and, for the work tree's root (``first``, with a ``.git``), the repository-wide excludes."""
        key = (directory, first)
        specs = self._dir_specs.get(key)
        if specs is None:
            d = Path(directory)
            specs = [self._spec(d)]
            if first and (d / ".git").exists():
                specs += _repo_specs(d)
            specs = self._dir_specs[key] = [s for s in specs if s is not None]
        return specs

    def ignored(self, path: Path, is_dir: bool, parents: list) -> bool:
        if not self.gitignore:
            return False
        return self._ignored(os.path.abspath(path), is_dir, [os.path.abspath(d) for d in parents])

    def _ignored(self, full: str, is_dir: bool, parents: list) -> bool:
        """:meth:`ignored` of the absolute, normalised path ``full``, below the absolute ``parents``."""
        for i, d in enumerate(parents):
            specs = self._specs_of(d, i == 0)
            if not specs:
                continue
            prefix = d if d.endswith("/") else d + "/"
            if full.startswith(prefix):
                rel = full[len(prefix):]
            elif full == d:
                rel = "."
            else:
                continue
            if is_dir:
                rel += "/"
            if any(spec.match_file(rel) for spec in specs):
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


class _Matchers:
    """One :class:`_Matcher` per configuration in use; with a resolver, each directory's own."""

    def __init__(self, settings: Settings, resolver=None):
        self.settings = settings
        self.resolver = resolver
        self.specs: dict = {}  # .gitignore specs, shared: they do not depend on the settings
        self._by_settings: dict = {}

    def for_settings(self, settings: Settings) -> _Matcher:
        key = id(settings)
        if key not in self._by_settings:
            self._by_settings[key] = (settings, _Matcher(settings, self.specs))
        return self._by_settings[key][1]

    def for_path(self, path: Path) -> _Matcher:
        return self.for_settings(self.resolver.for_path(path) if self.resolver is not None else self.settings)


def discover(paths: list, settings: Settings, resolver=None) -> tuple:
    """Return (sorted unique files, diagnostics for paths that could not be used).

    ``resolver`` (a :class:`torchlint.workspace.config.Resolver`) gives each directory and named
    file its own settings; without it ``settings`` holds everywhere.
    """
    matchers = _Matchers(settings, resolver)
    files: dict = {}
    problems: list = []
    for raw in paths:
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            problems.append(io_error(p, f"{raw}: No such file or directory"))
            continue
        if p.is_file() or (p.exists() and not p.is_dir()):
            matcher = matchers.for_path(p)
            if matcher.force_exclude and (matcher.excluded(p) or any(matcher.excluded(a) for a in p.parents)
                                          or matcher.ignored(p, False, _git_parents(p.parent, matcher.root))):
                continue
            files[os.path.normpath(str(p))] = p
            continue
        if not p.exists():
            problems.append(io_error(p, f"{raw}: broken symbolic link"))
            continue
        matcher = matchers.for_path(p)
        if matcher.force_exclude and matcher.excluded(p) and str(raw) not in (".", "./"):
            continue
        _walk(p, matchers, files, problems, _git_parents(p, matcher.root))
    ordered = [files[k] for k in sorted(files)]
    return ordered, problems


def _walk(top: Path, matchers: _Matchers, files: dict, problems: list, parents: list) -> None:
    seen: set = set()
    stack = [(top, [os.path.abspath(d) for d in parents])]
    while stack:
        directory, dparents = stack.pop()
        matcher = matchers.for_path(directory)
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
        here = os.path.abspath(directory)
        sub_parents = dparents if dparents and dparents[-1] == here else dparents + [here]
        # An entry's strings from its directory's, computed once: the path as given, its absolute
        # form, and its resolved form (the directory's, plus the name, unless the entry is a link).
        given_dir = directory.as_posix()
        given_dir = "" if given_dir == "." else (given_dir if given_dir.endswith("/") else given_dir + "/")
        here_dir = here if here.endswith("/") else here + "/"
        real_dir = os.path.realpath(directory)
        real_dir = real_dir if real_dir.endswith("/") else real_dir + "/"
        gitignore = matcher.gitignore
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            try:
                link = entry.is_symlink()
            except OSError:
                link = True
            given = given_dir + name
            path = None
            if link:  # resolved through the link
                path = Path(entry.path)
                rel = matcher._rel(path)
            else:
                rel = matcher._rel_of_resolved(real_dir + name, given)
            if matcher._excluded(rel, given):
                continue
            if gitignore and matcher._ignored(here_dir + name, is_dir, sub_parents):
                continue
            if path is None:
                path = Path(entry.path)
            if is_dir:
                stack.append((path, sub_parents))
            elif name.endswith(SOURCE_SUFFIXES):
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
