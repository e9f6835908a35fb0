"""Configuration: ``[tool.torchlint]`` in the closest ``pyproject.toml``, or ``torchlint.toml``.

The closest file wins, searching from the first path given (or the current
directory) upwards; a ``pyproject.toml`` without a ``[tool.torchlint]`` table is
skipped.  Command-line options override the file.  Every error names the file,
the key and what would have been valid, and makes the CLI exit with 2.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Optional

from torchlint.settings import OUTPUT_FORMATS, Settings

KEYS = {
    "select": list, "ignore": list, "extend-select": list, "per-file-ignores": dict, "exclude": list,
    "extend-exclude": list, "respect-gitignore": bool, "force-exclude": bool, "unsafe-fixes": bool,
    "output-format": str, "cache-dir": str,
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


def find_config(start: Path) -> Optional[Path]:
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for d in [start, *start.parents]:
        tl = d / "torchlint.toml"
        if tl.is_file():
            return tl
        pp = d / "pyproject.toml"
        if pp.is_file():
            try:
                data = _load_toml(pp)
            except ConfigError:
                raise
            if "torchlint" in data.get("tool", {}):
                return pp
    return None


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


def build_settings(
    paths: list,
    *,
    config: Optional[str] = None,
    isolated: bool = False,
    select=None, ignore=None, extend_select=None,
    exclude=None, extend_exclude=None,
    respect_gitignore: Optional[bool] = None,
    force_exclude: Optional[bool] = None,
    unsafe_fixes: Optional[bool] = None,
    output_format: Optional[str] = None,
    cache_dir: Optional[str] = None,
    no_cache: bool = False,
    jobs: Optional[int] = None,
) -> Settings:
    from torchlint.registry import all_rules

    table: dict = {}
    config_file: Optional[Path] = None
    if not isolated:
        if config:
            config_file = Path(config)
            if not config_file.is_file():
                raise ConfigError(f"--config: {config}: no such file")
        else:
            first = Path(paths[0]) if paths else Path.cwd()
            config_file = find_config(first if first.exists() else Path.cwd())
        if config_file is not None:
            table = read_config(config_file)
    root = config_file.parent.resolve() if config_file else Path.cwd().resolve()

    if select:
        selected = expand(select, "--select")
    elif "select" in table:
        selected = expand(table["select"], "select")
    else:
        selected = {r.code for r in all_rules() if r.default}
    selected |= expand(table.get("extend-select", []), "extend-select")
    selected |= expand(extend_select or [], "--extend-select")
    selected -= expand(table.get("ignore", []), "ignore") if not select else set()
    selected -= expand(ignore or [], "--ignore")

    pfi = tuple((glob, frozenset(expand(codes, f"per-file-ignores {glob!r}"))) for glob, codes in table.get("per-file-ignores", {}).items())
    fmt = output_format or table.get("output-format", "full")
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"--output-format: {fmt!r} is not one of {', '.join(OUTPUT_FORMATS)}")
    return Settings(
        select=frozenset(selected),
        per_file_ignores=pfi,
        exclude=tuple(exclude) if exclude else tuple(table.get("exclude", DEFAULT_EXCLUDES)),
        extend_exclude=tuple(table.get("extend-exclude", ())) + tuple(extend_exclude or ()),
        respect_gitignore=table.get("respect-gitignore", True) if respect_gitignore is None else respect_gitignore,
        force_exclude=table.get("force-exclude", False) if force_exclude is None else force_exclude,
        unsafe_fixes=table.get("unsafe-fixes", False) if unsafe_fixes is None else unsafe_fixes,
        output_format=fmt,
        project_root=root,
        config_file=config_file,
        cache_dir=Path(cache_dir) if cache_dir else (root / table["cache-dir"] if "cache-dir" in table else None),
        no_cache=no_cache,
        jobs=jobs,
    )

