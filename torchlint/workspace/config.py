"""Configuration, resolved per file as Ruff does.

Each file gets the settings of its closest configuration: searching from the
file's directory upwards, a ``torchlint.toml`` or a ``pyproject.toml`` with a
``[tool.torchlint]`` table (a ``pyproject.toml`` without one is skipped).  A
file with no configuration above it gets the settings of the current
directory's.  ``extend = "../pyproject.toml"`` inherits another file: its keys
first, then this file's on top (``select`` starts over, ``extend-select`` and
``ignore`` add and remove, ``extend-exclude`` accumulates, every other key is
replaced).  ``--config PATH`` gives every file one configuration, ``--isolated``
none; command-line options override whatever file applies.  Every error names
the file, the key and what would have been valid, and makes the CLI exit with 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from dataclasses import replace
from typing import Iterable, Optional

from torchlint.settings import OUTPUT_FORMATS, Settings

KEYS = {
    "extend": str, "select": list, "ignore": list, "extend-select": list, "per-file-ignores": dict, "exclude": list,
    "extend-exclude": list, "respect-gitignore": bool, "force-exclude": bool, "unsafe-fixes": bool,
    "output-format": str, "cache-dir": str,
    "src": list,  # import roots of the project, relative to this file (as in Ruff): workspace/modules.py
}
DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
    "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
    ".torchlint_cache",
)


_KIND = {list: "a list of strings", dict: "a table of glob = [codes]", bool: "true or false",
         str: "a string"}


def _toml_repr(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


class ConfigError(Exception):
    """A bad configuration; the message is one line that says what to change."""


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{_display(path)}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{_display(path)}: invalid TOML: {e}") from None


def _display(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (shorter error messages)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _is_config(d: Path) -> Optional[Path]:
    """The configuration file in directory ``d`` (``torchlint.toml`` first), or None."""
    tl = d / "torchlint.toml"
    if tl.is_file():
        return tl
    pp = d / "pyproject.toml"
    if pp.is_file() and "torchlint" in _load_toml(pp).get("tool", {}):
        return pp
    return None


def find_config(start: Path, _memo: Optional[dict] = None) -> Optional[Path]:
    """The closest configuration file for ``start`` (a file or directory), searching upwards."""
    start = Path(start).resolve()
    if start.is_file():
        start = start.parent
    memo = {} if _memo is None else _memo
    walked = []
    found = None
    for d in [start, *start.parents]:
        if d in memo:
            found = memo[d]
            break
        walked.append(d)
        found = _is_config(d)
        if found is not None:
            break
    for d in walked:
        memo[d] = found
    return found


def read_config(path: Path) -> dict:
    data = _load_toml(path)
    table = data.get("tool", {}).get("torchlint", {}) if path.name == "pyproject.toml" else data
    if path.name != "pyproject.toml" and "tool" in table and "torchlint" in table.get("tool", {}):
        table = table["tool"]["torchlint"]
    shown = _display(path)
    where = f"{shown}: [tool.torchlint]" if path.name == "pyproject.toml" else shown
    for key, value in table.items():
        if key not in KEYS:
            import difflib

            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{where}: unknown key '{key}'{hint}; valid keys are: {', '.join(sorted(KEYS))}")
        want = KEYS[key]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: '{key}' must be {_KIND[want]}, got {_toml_repr(value)}")
        if want is list and not all(isinstance(v, str) for v in value):
            bad = next(v for v in value if not isinstance(v, str))
            raise ConfigError(f"{where}: '{key}' must be {_KIND[list]}, got the item {_toml_repr(bad)}")
    if "extend" in table and not (path.parent / table["extend"]).is_file():
        raise ConfigError(f"{where}: 'extend' names {table['extend']!r}, which is not a file "
                          f"(a path relative to {shown})")
    if "output-format" in table and table["output-format"] not in OUTPUT_FORMATS:
        raise ConfigError(f"{where}: 'output-format' is {table['output-format']!r}; valid values are: {', '.join(OUTPUT_FORMATS)}")
    pfi = table.get("per-file-ignores", {})
    for glob, codes in pfi.items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: 'per-file-ignores' entry {glob!r} must be a list of rule codes")
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            expand(table[key], f"{where}: '{key}'")
    for glob, codes in pfi.items():
        expand(codes, f"{where}: 'per-file-ignores' entry {glob!r}")
    return table


def expand(selectors: Iterable[str], where: str = "--select") -> set:
    """Expand codes, prefixes (``TL0``), ``ALL`` and rule names into rule codes."""
    from torchlint.registry import all_rules

    rules = all_rules()
    out: set = set()
    for raw in selectors:
        sel = raw.strip()
        if not sel:
            continue
        if sel.upper() == "ALL":
            out.update(r.code for r in rules)
            continue
        matched = [r.code for r in rules if r.code.startswith(sel.upper()) or r.name == sel]
        if not matched:
            choices = ", ".join(f"{r.code} ({r.name})" for r in rules)
            raise ConfigError(f"{where}: unknown rule selector '{sel}'; use ALL, a code or prefix, or a name: {choices}")
        out.update(matched)
    return out


def _rebase(pattern: str, defined_in: Path, root: Path) -> str:
    """A glob written relative to ``defined_in``, rewritten relative to ``root`` (for ``extend``).

    Bare names (``"__init__.py"``, ``"*.pyi"``) and ``**/`` globs match anywhere and stay as they are.
    """
    if defined_in == root or "/" not in pattern.rstrip("/") or pattern.startswith("**/"):
        return pattern
    try:  # the usual case: the base configuration is in a parent directory
        prefix = root.relative_to(defined_in).as_posix() + "/"
        return pattern[len(prefix):] if pattern.startswith(prefix) else pattern
    except ValueError:
        pass
    try:
        return defined_in.relative_to(root).as_posix() + "/" + pattern
    except ValueError:
        return pattern


def load_chain(path: Path) -> list:
    """[(directory, table, file)] for ``path`` and the files it extends, the base first."""
    chain: list = []
    seen: set = set()
    cur = Path(path)
    while True:
        key = cur.resolve()
        if key in seen:
            raise ConfigError(f"{_display(cur)}: 'extend' loops back to {_display(chain[-1][2])}")
        seen.add(key)
        table = read_config(cur)
        chain.append((key.parent, table, cur))
        if "extend" not in table:
            break
        cur = cur.parent / table["extend"]
    return list(reversed(chain))


def merge_chain(chain: list, root: Path) -> dict:
    """One table from a ``load_chain`` result, its globs relative to ``root``, ``cache-dir`` absolute.

    Selection keys are kept per layer under ``"layers"``: each layer's ``select`` starts over."""
    out: dict = {"layers": []}
    for directory, table, _ in chain:
        out["layers"].append({k: table[k] for k in ("select", "extend-select", "ignore") if k in table})
        for key, value in table.items():
            if key in ("select", "extend-select", "ignore", "extend"):
                continue
            if key in ("exclude", "extend-exclude"):
                value = [_rebase(v, directory, root) for v in value]
                if key == "extend-exclude":
                    value = out.get(key, []) + value
            elif key == "per-file-ignores":
                value = {_rebase(g, directory, root): codes for g, codes in value.items()}
            elif key == "cache-dir":
                value = str(directory / value)
            out[key] = value
    return out


_CLI_KEYS = ("select", "ignore", "extend_select", "exclude", "extend_exclude", "respect_gitignore", "force_exclude",
             "unsafe_fixes", "output_format", "cache_dir", "no_cache", "jobs")


class Resolver:
    """Settings for each path: its closest configuration file's, with the command line on top.

    ``run`` holds the settings of the run as a whole (output format, cache, jobs): those of the
    current directory's configuration, or of ``--config``, or the defaults with ``--isolated``.
    """

    def __init__(self, *, config: Optional[str] = None, isolated: bool = False, cwd: Optional[Path] = None, **cli):
        unknown = set(cli) - set(_CLI_KEYS)
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        self.cli = cli
        self.isolated = isolated
        self.cwd = Path(cwd or Path.cwd()).resolve()
        self._found: dict = {}  # directory -> its closest configuration file (or None)
        self._settings: dict = {}  # configuration file (or None) -> Settings
        self.fixed: Optional[Path] = None  # --config: one file for every path
        if not isolated and config:
            self.fixed = Path(config)
            if not self.fixed.is_file():
                raise ConfigError(f"--config: {config}: no such file")
        self._run: Optional[Settings] = None

    @property
    def run(self) -> Settings:
        """The current directory's settings (read when first asked for)."""
        if self._run is None:
            self._run = self._for_config(self.config_for(self.cwd))
        return self._run

    def config_for(self, path) -> Optional[Path]:
        """The configuration file that applies to ``path``, or None."""
        if self.isolated:
            return None
        if self.fixed is not None:
            return self.fixed
        p = Path(path)
        if not p.exists():  # a path that does not exist (yet): its nearest existing parent decides
            p = next((a for a in Path(os.path.abspath(p)).parents if a.exists()), self.cwd)
        return find_config(p, self._found)

    def for_path(self, path) -> Settings:
        """The settings for the file or directory ``path``."""
        cfg = self.config_for(path)
        if cfg is None and not self.isolated and self.fixed is None:
            return self.run  # no configuration above it: the current directory's settings, as in Ruff
        return self._for_config(cfg)

    def _for_config(self, cfg: Optional[Path]) -> Settings:
        key = cfg.resolve() if cfg is not None else None
        if key not in self._settings:
            self._settings[key] = _settings(cfg, **self.cli)
        return self._settings[key]


def _select(layers: list, cli: dict) -> frozenset:
    from torchlint.registry import all_rules

    selected = {r.code for r in all_rules() if r.default}
    for layer, where in [*((layer, None) for layer in layers), (
            {"select": cli.get("select") or [], "extend-select": cli.get("extend_select") or [],
             "ignore": cli.get("ignore") or []}, "--")]:
        name = (lambda k: f"--{k}") if where else (lambda k: k)
        if layer.get("select"):
            selected = expand(layer["select"], name("select"))
        elif "select" in layer and where is None:
            selected = set()  # select = [] in a file: nothing, then what extend-select adds
        selected |= expand(layer.get("extend-select", []), name("extend-select"))
        selected -= expand(layer.get("ignore", []), name("ignore"))
    return frozenset(selected)


def _settings(config_file: Optional[Path], *, select=None, ignore=None, extend_select=None, exclude=None,
              extend_exclude=None, respect_gitignore=None, force_exclude=None, unsafe_fixes=None,
              output_format=None, cache_dir=None, no_cache=False, jobs=None) -> Settings:
    table: dict = {"layers": []}
    extends: tuple = ()
    if config_file is not None:
        root = config_file.parent.resolve()
        chain = load_chain(config_file)
        table = merge_chain(chain, root)
    else:
        root = Path.cwd().resolve()
    if config_file is not None and len(chain) > 1:
        extends = tuple(f for _, _, f in chain[:-1])
    selected = _select(table["layers"], {"select": select, "ignore": ignore, "extend_select": extend_select})
    pfi = tuple((glob, frozenset(expand(codes, f"per-file-ignores {glob!r}")))
                for glob, codes in table.get("per-file-ignores", {}).items())
    fmt = output_format or table.get("output-format", "full")
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"--output-format: {fmt!r} is not one of {', '.join(OUTPUT_FORMATS)}")
    return Settings(
        select=selected,
        per_file_ignores=pfi,
        exclude=tuple(exclude) if exclude else tuple(table.get("exclude", DEFAULT_EXCLUDES)),
        extend_exclude=tuple(table.get("extend-exclude", ())) + tuple(extend_exclude or ()),
        respect_gitignore=table.get("respect-gitignore", True) if respect_gitignore is None else respect_gitignore,
        force_exclude=table.get("force-exclude", False) if force_exclude is None else force_exclude,
        unsafe_fixes=table.get("unsafe-fixes", False) if unsafe_fixes is None else unsafe_fixes,
        output_format=fmt,
        project_root=root,
        config_file=config_file,
        extends=extends,
        cache_dir=Path(cache_dir) if cache_dir else (Path(table["cache-dir"]) if "cache-dir" in table else None),
        no_cache=no_cache,
        jobs=jobs,
    )


def build_resolver(*, config: Optional[str] = None, isolated: bool = False, **cli) -> Resolver:
    """A :class:`Resolver` for this command line (``select=``, ``ignore=``, ... as :func:`build_settings`)."""
    return Resolver(config=config, isolated=isolated, **cli)


def build_settings(paths: list, *, config: Optional[str] = None, isolated: bool = False, **cli) -> Settings:
    """The settings for the first of ``paths`` (or the current directory)."""
    resolver = Resolver(config=config, isolated=isolated, **cli)
    first = Path(paths[0]) if paths else Path.cwd()
    return resolver.for_path(first)


def show_settings(settings: Settings) -> str:
    """``--show-settings``: one ``key = value`` line each, in the configuration's own key names; the first
    names the configuration file in force (for the path asked about), the second what it extends."""
    import json

    def show(v):
        if isinstance(v, (frozenset, set)):
            v = sorted(v)
        elif isinstance(v, tuple):
            v = [str(x) for x in v]
        elif not (v is None or isinstance(v, (str, bool, int, dict))):
            v = str(v)
        return json.dumps(v)

    rows = [
        ("config-file", str(settings.config_file) if settings.config_file else None),
        ("extends", settings.extends),
        ("select", settings.select),
        ("project-root", str(settings.project_root)),
        ("per-file-ignores", {glob: sorted(codes) for glob, codes in settings.per_file_ignores}),
        ("exclude", settings.exclude),
        ("extend-exclude", settings.extend_exclude),
        ("respect-gitignore", settings.respect_gitignore),
        ("force-exclude", settings.force_exclude),
        ("unsafe-fixes", settings.unsafe_fixes),
        ("output-format", settings.output_format),
        ("cache-dir", str(settings.cache_dir) if settings.cache_dir else None),
        ("no-cache", settings.no_cache),
        ("jobs", settings.jobs),
    ]
    return "".join(f"{key} = {show(value)}\n" for key, value in rows)
