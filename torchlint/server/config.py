"""Settings for each open document: its own configuration file, and the editor's settings on top.

Each document gets the settings ``torchlint check`` would use for its path
(the closest ``pyproject.toml`` with ``[tool.torchlint]``, or ``torchlint.toml``).
The editor's settings act as command-line options: they win over the file.

Settings are cached per directory, keyed by the size and modification time of
every ``pyproject.toml`` and ``torchlint.toml`` from that directory up to the
root, so an edited, added or removed configuration file takes effect on the
next run, without a restart, even when the editor does not report file
changes.  A broken configuration is reported once and the defaults are used.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

CONFIG_NAMES = ("torchlint.toml", "pyproject.toml")
# editor setting (camelCase, as LSP clients write them) -> build_settings keyword
EDITOR_KEYS = {"select": "select", "ignore": "ignore", "extendSelect": "extend_select",
               "unsafeFixes": "unsafe_fixes", "configuration": "config", "isolated": "isolated"}


def _stamp(directory: Path) -> tuple:
    out = []
    for d in [directory, *directory.parents]:
        for name in CONFIG_NAMES:
            try:
                st = os.stat(d / name)
            except OSError:
                continue
            out.append((str(d), name, st.st_mtime_ns, st.st_size))
    return tuple(out)


class SettingsCache:
    def __init__(self, report: Optional[Callable[[str], None]] = None):
        self.editor: dict = {}
        self.report = report or (lambda message: None)
        self._cache: dict = {}
        self._reported: set = set()

    def set_editor(self, values: Optional[dict]) -> None:
        self.editor = {k: v for k, v in (values or {}).items() if k in EDITOR_KEYS and v is not None}
        self.clear()

    def clear(self) -> None:
        self._cache.clear()

    def _overrides(self) -> dict:
        out = {}
        for key, value in self.editor.items():
            kw = EDITOR_KEYS[key]
            if kw in ("select", "ignore", "extend_select"):
                value = [value] if isinstance(value, str) else list(value)
            out[kw] = value
        return out

    def for_path(self, path: Optional[str]):
        from torchlint.workspace.config import ConfigError, build_settings

        directory = Path(path).resolve().parent if path else Path.cwd().resolve()
        key = (directory, _stamp(directory), tuple(sorted((k, str(v)) for k, v in self.editor.items())))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        overrides = self._overrides()
        try:
            # the directory: the file itself may not exist yet (a new buffer), and the configuration
            # is looked up from where it would be
            settings = build_settings([str(directory)], **overrides)
        except ConfigError as e:
            message = f"torchlint: {e}; using the default settings"
            if message not in self._reported:
                self._reported.add(message)
                self.report(message)
            editor_only = {k: v for k, v in overrides.items() if k not in ("config", "isolated")}
            try:  # the file is broken: the editor's settings alone
                settings = build_settings([], isolated=True, **editor_only)
            except ConfigError:  # the editor's settings are broken too
                settings = build_settings([], isolated=True)
        self._cache = {k: v for k, v in self._cache.items() if k[0] != directory}
        self._cache[key] = settings
        return settings
