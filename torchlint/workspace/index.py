"""The project's cache index: one file holding every file's result, read once per run.

A warm run over 2,000 files reads one JSON file, ``<cache>/<version>/index.json``,
instead of 2,000 small entries, and opens none of the files it checks when
nothing changed.  Each entry is keyed by the file's path (relative to the
project root) and holds:

* the file's ``stat`` (modification and change times in nanoseconds, size and
  inode): when all four are unchanged, the entry is used without reading the
  file;
* a SHA-256 of the file's bytes: when the ``stat`` changed (a ``touch``, a
  checkout of the same content, a copy of the project), the file is read and
  hashed, and the entry is used if the content is the same;
* a digest of the file's settings (selected rules, per-file-ignores, project
  root): an entry made with other settings is a miss;
* the result: no rule's trigger words (never parsed), or the findings and
  the error, with file names relative to the file.

The whole index is tied to torchlint's version and to a fingerprint of its own
sources (:func:`torchlint.workspace.cache.code_fingerprint`): editing a rule in a
checkout starts a new index.

**Racy files.**  A file modified less than :data:`RACY_NS` before the run
started may be modified again within the same tick of the file system's clock
without changing its ``stat`` (the "racy git" problem): its entry keeps no
``stat``, so the next run hashes the file.

**Pruning.**  A run that checked directories drops the entries of files under
them that it did not see (deleted, renamed or now excluded files); entries
outside them are kept.  The index never holds more than :data:`MAX_ENTRIES`
entries: beyond that the least recently written go first.

**Concurrency.**  The index is written once, at the end of a run that changed
it, atomically (a temporary file, then ``os.replace``); a reader never sees half
an index.  When another run wrote the index meanwhile, its entries are merged
in, so two runs sharing the cache lose nothing but a little work.  A corrupt
index gives one warning and is rebuilt; an unwritable cache directory gives one
warning and the run goes on without it.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Optional

from torchlint import __version__
from torchlint.workspace import cache

FORMAT = 2  # bump when the layout of the index changes
RACY_NS = 2_000_000_000  # files modified this recently are verified by their content next time
MAX_ENTRIES = 100_000


def digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:32]


def stat_key(st: os.stat_result) -> list:
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


class Index:
    """One run's view of the index of one cache directory."""

    def __init__(self, settings, root: Path):
        self.root = root
        self.path = root / __version__ / "index.json"
        self.project = os.path.abspath(settings.project_root)
        self.entries: dict = {}
        self.touched: set = set()  # keys put or dropped by this run (win over a concurrent writer's)
        self.seen: set = set()  # keys of the files this run looked up
        self.changed = False
        self.started = time.time_ns()
        self._loaded_stat = None
        self._settings_ids: dict = {}
        self._code = cache.code_fingerprint()
        self._load()

    @classmethod
    def open(cls, settings) -> Optional["Index"]:
        if settings.no_cache:
            return None
        try:
            return cls(settings, cache.cache_root(settings))
        except Exception as e:  # never let the cache break a run
            cache.warn(f"cannot read the cache index: {type(e).__name__}: {e}")
            return None

    # -- reading ----------------------------------------------------------

    def _read(self) -> Optional[dict]:
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                raw = f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            cache.warn(f"ignoring unreadable cache index {self.path}: {e.strerror or e}")
            return None
        self._loaded_stat = (st.st_mtime_ns, st.st_size, st.st_ino)
        try:
            data = json.loads(raw)
        except ValueError as e:
            cache.warn(f"ignoring unreadable cache index {self.path}: {e}")
            return None
        if not (isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict)):
            cache.warn(f"ignoring unreadable cache index {self.path}: not a torchlint {__version__} cache index")
            return None
        if data.get("code") != self._code:
            return None  # another checkout of torchlint (or an edited one): start afresh
        return data["files"]

    def _load(self) -> None:
        files = self._read()
        if files:
            self.entries = files

    # -- keys ---------------------------------------------------------------

    def key(self, path) -> str:
        """The entry key of ``path``: relative to the project root (POSIX), or absolute outside it."""
        full = os.path.abspath(path)
        root = self.project
        if full == root:
            return "."
        if full.startswith(root) and full[len(root)] == os.sep:
            full = full[len(root) + 1:]
        return full if os.sep == "/" else full.replace(os.sep, "/")

    def settings_id(self, fs) -> str:
        """A short digest of what in a file's settings changes its result."""
        memo = self._settings_ids.get(id(fs))
        if memo is None:
            sid = digest(f"{fs.fingerprint()}\0{os.path.abspath(fs.project_root)}".encode())[:12]
            memo = self._settings_ids[id(fs)] = (fs, sid)  # holding fs keeps its id from being reused
        return memo[1]

    # -- lookups ------------------------------------------------------------

    def by_stat(self, path, st: os.stat_result, fs):
        """The stored result when the file's ``stat`` and settings are unchanged (the file is not read)."""
        key = self.key(path)
        self.seen.add(key)
        e = self.entries.get(key)
        if e is None or not isinstance(e, list) or len(e) != 4 or not e[0]:
            return None
        if e[0] != stat_key(st) or e[2] != self.settings_id(fs):
            return None
        return self._result(e, path)

    def by_content(self, path, st: os.stat_result, data_digest: str, fs):
        """The stored result when the file's bytes and settings are unchanged (its ``stat`` is refreshed)."""
        key = self.key(path)
        self.seen.add(key)
        e = self.entries.get(key)
        if e is None or not isinstance(e, list) or len(e) != 4:
            return None
        if e[1] != data_digest or e[2] != self.settings_id(fs):
            return None
        res = self._result(e, path)
        if res is not None and e[0] != self._stat_or_racy(st):
            e[0] = self._stat_or_racy(st)
            self.touched.add(key)
            self.changed = True
        return res

    def _result(self, e: list, path):
        from dataclasses import replace

        from torchlint.diagnostics import FileResult

        stored = e[3]
        if stored is None:  # no trigger words: never parsed
            return FileResult(Path(path), parsed=False, cached=True)
        if stored.get("deps"):  # the project's other modules it used must be unchanged too
            from torchlint.workspace.modules import deps_fresh

            if not deps_fresh(stored["deps"]):
                return None
        display = str(path)

        def load(d):
            diag = cache.load_diag(d)
            return replace(diag, filename=display + diag.filename)

        try:
            diags = [load(d) for d in stored["diagnostics"]]
            error = load(stored["error"]) if stored.get("error") else None
        except (KeyError, TypeError, ValueError, AttributeError) as ex:
            cache.warn(f"ignoring unreadable cache index entry for {display}: {type(ex).__name__}: {ex}")
            return None
        return FileResult(Path(path), diags, error, parsed=True, cached=True, truncated=bool(stored.get("truncated")))

    # -- writing ------------------------------------------------------------

    def _stat_or_racy(self, st: os.stat_result):
        # A file changed just before the run may change again unseen by its stat: verify it by content.
        newest = max(st.st_mtime_ns, st.st_ctime_ns)
        return stat_key(st) if newest < self.started - RACY_NS else 0

    def put(self, path, st: os.stat_result, data_digest: str, fs, res) -> None:
        """Record a file's result (not an internal error: that should be retried next time)."""
        try:
            self._put(path, st, data_digest, fs, res)
        except Exception as e:  # pragma: no cover - never let the cache break a run
            cache.warn(f"cannot record {path} in the cache: {type(e).__name__}: {e}")

    def _put(self, path, st: os.stat_result, data_digest: str, fs, res) -> None:
        if res.error is not None and res.error.code == "TL999":
            return
        if any(d.code == "TL999" for d in res.diagnostics):
            return
        if res.parsed:
            display = str(res.path)

            def dump(d):
                data = cache.dump_diag(d)
                data["filename"] = d.filename[len(display):] if d.filename.startswith(display) else d.filename
                return data

            stored = {"diagnostics": [dump(d) for d in res.diagnostics],
                      "error": dump(res.error) if res.error else None}
            if res.deps:
                stored["deps"] = res.deps
            if res.truncated:  # check --verbose names it on a warm run too
                stored["truncated"] = True
        else:
            stored = None
        key = self.key(path)
        self.entries.pop(key, None)  # re-insert at the end: the order is the order of last writes
        self.entries[key] = [self._stat_or_racy(st), data_digest, self.settings_id(fs), stored]
        self.touched.add(key)
        self.changed = True

    def prune(self, roots) -> int:
        """Drop the entries of files under the directories ``roots`` that this run did not look up."""
        dirs = []
        for r in roots:
            if os.path.isdir(r):
                k = self.key(r)
                dirs.append("" if k == "." else k.rstrip("/") + "/")
        if not dirs:
            return 0
        def under(k: str) -> bool:
            return any(k.startswith(d) if d else not os.path.isabs(k) for d in dirs)

        gone = [k for k in self.entries if k not in self.seen and under(k)]
        for k in gone:
            del self.entries[k]
            self.touched.add(k)
        if gone:
            self.changed = True
        return len(gone)

    def save(self, roots=()) -> None:
        """Prune (see :meth:`prune`), and write the index if this run changed it; never fails the run."""
        try:
            self.prune(roots)
            if not self.changed:
                return
            self._merge_concurrent()
            if len(self.entries) > MAX_ENTRIES:
                for k in list(self.entries)[: len(self.entries) - MAX_ENTRIES]:
                    del self.entries[k]
            cache._ensure(self.root)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"format": FORMAT, "code": self._code, "files": self.entries}, separators=(",", ":"))
            cache._atomic_write(self.path, body)
        except OSError as e:
            cache.warn(f"cannot write the cache at {self.root}: {e.strerror or e}")
        except Exception as e:  # pragma: no cover - never let the cache break a run
            cache.warn(f"cannot write the cache: {type(e).__name__}: {e}")

    def _merge_concurrent(self) -> None:
        """Keep what another run wrote to the index since this one read it (except what this run decided)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return
        if (st.st_mtime_ns, st.st_size, st.st_ino) == self._loaded_stat:
            return
        theirs = self._read() or {}
        for k, e in theirs.items():
            if k not in self.touched:
                self.entries[k] = e
