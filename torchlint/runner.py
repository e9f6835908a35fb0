"""Check files: prefilter, cache, parse and analyse (in parallel), suppress, fix.

Per file: look it up in the project's cache index (:mod:`torchlint.workspace.index`),
by its ``stat`` first (a hit is not even read), then by the hash of its bytes.
On a miss, if none of the selected rules' trigger words occurs in the bytes
(:mod:`torchlint.workspace.prefilter`), the file is done: never decoded, never
parsed, and libcst is never imported for it.  Otherwise decode it (PEP 263 cookie or
BOM), lint it with the rules whose triggers occur in it, apply ``# noqa`` and
per-file-ignores; the index records the result, and is written once at the end.
Files that need parsing go to a process pool when there is enough work to pay
for it.  Results come back in the
order of the input, whatever order the workers finish in, and are the same for
any number of jobs, with or without the cache.

Every file is guarded: an unreadable, undecodable, unparsable, huge or
pathologically nested file gives one diagnostic (``E902``, ``E999``, or
``TL999`` for a bug of ours) and the run goes on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from torchlint.diagnostics import Diagnostic, FileResult, Location, SourceError  # noqa: F401  (FileResult re-exported)
from torchlint.workspace.prefilter import needs_parsing, triggers, triggers_for  # noqa: F401  (re-exported)
from torchlint.settings import Settings

# Files over this size are not analysed (LibCST would need minutes and gigabytes).
MAX_FILE_BYTES = 5_000_000
# Files over this size are not even read for the prefilter.
MAX_READ_BYTES = 256 * 1024 * 1024
# A process pool pays for itself once this many bytes of source need parsing
# (measured: see benchmarks/README.md); below it, one process does the work.
POOL_MIN_BYTES = 40_000
POOL_MIN_FILES = 2
# Kept for callers of the first version of this module.
POOL_THRESHOLD = POOL_MIN_FILES




@dataclass(frozen=True)
class FixMode:
    fix: bool = False
    unsafe: bool = False
    diff: bool = False  # compute the diff, write nothing
    add_noqa: bool = False  # silence every finding with a noqa comment naming its code

def _error(path, code: str, name: str, message: str, loc: Optional[Location] = None) -> Diagnostic:
    loc = loc or Location(1, 1)
    return Diagnostic(code=code, name=name, message=message, severity="error", filename=str(path), location=loc,
                      end_location=loc)


def _internal(path, what: str, exc: BaseException) -> Diagnostic:
    return _error(path, "TL999", "internal-error",
                  f"internal error while {what}: {type(exc).__name__}: {exc}; please report this")


def decode(data: bytes, path) -> tuple:
    """(text, encoding, has_bom); raises SourceError for undecodable bytes."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        detail = e.msg if hasattr(e, "msg") else str(e)
        raise SourceError(str(path), f"cannot decode the file: it is not valid UTF-8 and has no usable coding "
                                     f"declaration (PEP 263): {detail}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        where = None
        if isinstance(e, UnicodeDecodeError):
            line = data.count(b"\n", 0, e.start) + 1
            col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
            where = Location(line, col)
        raise SourceError(str(path), f"cannot decode the file as {encoding}: "
                                     f"{e.reason if hasattr(e, 'reason') else e}", where) from None
    return text, encoding, encoding == "utf-8-sig"


def write_atomic(path: Path, data: bytes, root: Optional[Path] = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the file's mode.

    A symbolic link stays a link: the file it points to is written (see
    :func:`torchlint.workspace.fsutil.link_target`); one that points outside
    ``root`` (the project root) is refused with :class:`OSError`."""
    from torchlint.workspace import fsutil

    target = fsutil.link_target(path, root)
    mode = target.stat().st_mode & 0o7777
    fsutil.write_atomic(target, data, prefix=f".{target.name}.", suffix=".torchlint", mode=mode)


def _per_file_codes(path: Path, settings: Settings) -> frozenset:
    if not settings.per_file_ignores:
        return frozenset()
    from torchlint.workspace.discovery import relative_to_root
    from torchlint.report.suppression import path_ignores

    rel = relative_to_root(path, settings.project_root) or path.as_posix()
    return path_ignores(rel, settings.per_file_ignores)


def lint_file(path: Path, data: bytes, settings: Settings, mode: FixMode = FixMode(),
              rules: Optional[frozenset] = None) -> FileResult:
    """Everything after the prefilter, for one file.  Never raises.

    ``rules``: the codes to run (the selected rules whose triggers occur in the
    file); None runs every selected rule.
    """
    try:
        return _lint_file(path, data, settings, mode, rules)
    except Exception as e:  # a bug outside the engine (suppression, notebook mapping, ...): report, go on
        return FileResult(path, error=_internal(path, "checking this file", e), parsed=True)


def _lint_file(path: Path, data: bytes, settings: Settings, mode: FixMode, rules) -> FileResult:
    display = str(path)
    result = FileResult(path, parsed=True)
    try:
        text, encoding, bom = decode(data, display)
    except SourceError as e:
        result.error = _error(display, "E902", "io-error", e.message, e.location)
        return result
    notebook = None
    source = text
    if path.suffix == ".ipynb":
        try:
            from torchlint.workspace import notebook as nbmod
        except ImportError:  # pragma: no cover - notebooks not supported in this build
            return FileResult(path, parsed=False)
        try:
            notebook = nbmod.load(text)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            result.error = _error(display, "E902", "io-error", f"not a valid Jupyter notebook: {e}")
            return result
        source = notebook.source
    result.source = text
    ignored = _per_file_codes(path, settings)
    judged = settings.select if "TL100" in settings.select else None  # unused-noqa: judge these rules' codes
    try:
        from torchlint.report import suppression

        def keep(diags, text=None):
            return suppression.filter_diagnostics(diags, source if text is None else text,
                                                  per_file_ignores_codes=ignored, unused_noqa=judged,
                                                  filename=display)
    except ImportError:  # pragma: no cover - suppression not available: pass everything through
        def keep(diags, text=None):
            return list(diags)

    from torchlint.engine import lint_source

    select = sorted(settings.select if rules is None else rules)
    try:
        facts: dict = {}
        raw = lint_source(source, display, select=select, deps=result.deps, facts=facts)
        result.truncated = bool(facts.get("truncated"))
        diags = keep(raw)
    except SourceError as e:
        result.error = _error(display, "E999", "syntax-error", e.message, e.location)
        return result
    except RecursionError:
        result.error = _error(display, "E999", "syntax-error",
                              "the file is too deeply nested to analyse; torchlint skipped it")
        return result
    except MemoryError:
        result.error = _error(display, "E902", "io-error", "the file is too large to analyse; torchlint skipped it")
        return result
    except Exception as e:  # an engine bug: report it with the file, keep going
        result.error = _internal(display, "analysing this file", e)
        return result
    if mode.fix and any(d.fix for d in diags):
        from torchlint.fix.fixer import apply_fixes, unified_diff

        fixed = apply_fixes(source, display, select=sorted(settings.select), unsafe=mode.unsafe or settings.unsafe_fixes,
                            keep=keep)
        result.fix_error = fixed.error
        if fixed.applied:
            new_text = fixed.source if notebook is None else _notebook_text(notebook, fixed.source)
            result.applied = fixed.applied
            if mode.diff:
                result.diff = unified_diff(text, new_text, display)
            else:
                problem = _write_text(path, new_text, encoding, bom, settings.project_root)
                if problem:
                    result.fix_error = f"cannot write the fixed file: {problem}"
                    result.applied = []
                    return _finish(result, diags, notebook, display)
            diags = fixed.remaining
    if mode.add_noqa and diags and notebook is None:
        new_text, added = suppression.add_noqa(source, diags)
        if added:
            problem = _write_text(path, new_text, encoding, bom, settings.project_root)
            if problem:
                result.fix_error = f"cannot add noqa comments: {problem}"
                return _finish(result, diags, notebook, display)
            result.noqa_added = added
            diags = keep(raw, new_text)  # every finding again: unused-noqa needs the suppressed ones too
    return _finish(result, diags, notebook, display)


def _write_text(path: Path, text: str, encoding: str, bom: bool, root: Optional[Path] = None) -> Optional[str]:
    """Write ``text`` back in the file's own encoding (and BOM), atomically; the reason when it cannot."""
    try:
        out = text.encode(encoding)
        if bom and not out.startswith(b"\xef\xbb\xbf"):
            out = b"\xef\xbb\xbf" + out
        from torchlint.workspace.fsutil import link_target

        write_atomic(link_target(path, root), out)  # a link's target, inside the project root
    except (OSError, UnicodeEncodeError) as e:
        return str(e)
    return None


def _notebook_text(nb, fixed_source: str) -> str:
    from torchlint.workspace import notebook as nbmod

    return nbmod.write_back(nb, fixed_source)


def _finish(result: FileResult, diags: list, notebook, display: str) -> FileResult:
    if notebook is not None:
        from torchlint.workspace import notebook as nbmod

        diags = [nbmod.map_diagnostic(notebook, d, display) for d in diags]
    result.diagnostics = sorted(diags, key=Diagnostic.sort_key)
    if not result.diagnostics and result.error is None:
        result.source = None  # only a code frame reads it: a run over 2,000 files need not hold them all
    return result


# -- garbage collection ----------------------------------------------------------


class _FileCollector:
    """CPython's cyclic garbage collector, paced by files rather than by allocations.

    A LibCST tree is hundreds of thousands of objects that live until the file is done, next to the
    imported engine and the caches kept across files; the default pacing (a young collection every
    700 allocations, a full one whenever the heap has grown by a quarter) traverses all of them again
    and again: a third of the CPU time of a run over diffusers.  Instead, before each file, one
    collection frees the cycles the last file left (so a file's garbage never outlives it; the engine
    frees a file's tree, values and analysis by reference counting, analysis/interp/core.closing, so it
    finds almost nothing and traverses little), and what still lives is frozen (:func:`gc.freeze`:
    never traversed again, still freed by reference counting); within a file, collections are rarer
    (:data:`YOUNG`) and never full.  Frozen objects that die later (an evicted cache entry) are found
    by a full collection once the frozen heap has grown by a quarter.  Most of what is counted as
    growth is freed by reference counting before then (a module the project pass read and later
    dropped, cache entries), so a full collection that finds
    (almost) nothing doubles the growth the next one waits for, up to 4 times the frozen heap, and one
    that finds garbage puts it back.  The default pacing is back when the run ends (a process that
    checks files from its own code is left as it was)."""

    YOUNG = 50_000

    def __init__(self):
        import gc

        self.gc = gc
        # a process that disabled the collector, or freezes objects itself, is left alone
        self.active = gc.isenabled() and gc.get_freeze_count() == 0
        self.files = 0
        self.frozen = 0  # objects frozen at the last full collection
        self.added = 0  # objects frozen since
        self.patience = 1  # the growth a full collection waits for, in quarters of the frozen heap
        self.old = gc.get_threshold()

    def before_file(self) -> None:
        if not self.active:
            return
        gc = self.gc
        if not self.files:
            gc.set_threshold(self.YOUNG, 10, 1000)
        else:
            gc.collect()
            # the survivors are all in the oldest generation now (the frozen ones are not counted:
            # gc.get_freeze_count() walks the whole frozen heap)
            self.added += len(gc.get_objects(2))
            if self.added > self.frozen * self.patience // 4 + self.YOUNG:
                gc.unfreeze()
                found = gc.collect()
                fruitless = found * 20 < self.added
                self.patience = min(self.patience * 2, 16) if fruitless else 1
                self.frozen, self.added = len(gc.get_objects(2)), 0
        gc.freeze()
        self.files += 1

    def done(self) -> None:
        if self.active and self.files:
            self.gc.unfreeze()
            self.gc.set_threshold(*self.old)


# -- the driver ------------------------------------------------------------------


def check_files(files: list, settings: Settings, *, progress: Optional[Callable] = None,
                mode: FixMode = FixMode(), settings_for: Optional[Callable] = None, roots=()) -> list:
    """Check ``files`` and return one :class:`FileResult` per file, in the order of ``files``.

    ``settings_for(path)`` gives each file its own settings (its closest configuration); without it
    every file gets ``settings``.  ``settings`` (the run's) decides where the cache is and the jobs.
    ``roots``: the paths the run was asked to check; the cache index forgets the files under those
    directories that the run did not see (see :mod:`torchlint.workspace.index`).
    """
    trig_by_select: dict = {}  # compiled lazily: a warm run that hits the cache index never loads the rules
    file_settings: dict = {}  # index -> the file's settings, where they are not the run's
    results: list = [None] * len(files)
    todo: list = []  # (index, path, data, key, rules)
    done = 0
    total = len(files)
    use_cache = not (mode.fix or mode.add_noqa) and not settings.no_cache
    index = None
    if use_cache:
        from torchlint.workspace.index import Index, digest

        index = Index.open(settings)

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    for i, path in enumerate(files):
        path = Path(path)
        fs = settings_for(path) if settings_for is not None else settings
        if fs is not settings:
            file_settings[i] = fs
        try:
            st = path.stat()
            size = st.st_size
            if size > MAX_READ_BYTES:
                results[i] = FileResult(path, error=_error(path, "E902", "io-error",
                                                           f"the file is {size:,} bytes; torchlint does not read "
                                                           f"files over {MAX_READ_BYTES:,} bytes"))
                tick()
                continue
            hit = _lookup(index, "by_stat", path, st, fs) if index is not None else None
            if hit is not None:  # unchanged since the run that stored it: not even read
                results[i] = hit
                tick()
                continue
            data = path.read_bytes()
        except OSError as e:
            results[i] = FileResult(path, error=_error(path, "E902", "io-error",
                                                       f"cannot read the file: {e.strerror or e}"))
            tick()
            continue
        key = None
        if index is not None:
            key = (st, digest(data), fs)
            hit = _lookup(index, "by_content", path, st, key[1], fs)
            if hit is not None:
                results[i] = hit
                tick()
                continue
        trig = trig_by_select.get(fs.select)
        if trig is None:
            trig = trig_by_select[fs.select] = triggers(fs.select)
        rules = trig.rules_for(data) if trig else frozenset()
        if not rules:
            results[i] = FileResult(path, parsed=False)
            if key is not None:
                index.put(path, *key, results[i])
            tick()
            continue
        if len(data) > MAX_FILE_BYTES:
            results[i] = FileResult(path, parsed=False, error=_error(
                path, "E902", "io-error", f"the file is {len(data):,} bytes; torchlint does not analyse files over "
                                          f"{MAX_FILE_BYTES:,} bytes (exclude it, or split it)"))
            tick()
            continue
        todo.append((i, path, data, key, rules))

    def finished(i, res):
        results[i] = res
        key = todo_keys[i]
        if key is not None:
            index.put(res.path, *key, res)
        tick()

    todo_keys = {i: key for i, _, _, key, _ in todo}
    jobs = settings.jobs or _usable_cores()
    work = sum(len(t[2]) for t in todo)
    if jobs > 1 and len(todo) >= POOL_MIN_FILES and work >= POOL_MIN_BYTES:
        _run_pool(todo, settings, mode, min(jobs, len(todo)), finished, file_settings)
    else:
        collector = _FileCollector()
        try:
            for i, path, data, key, rules in todo:
                collector.before_file()
                finished(i, lint_file(path, data, file_settings.get(i, settings), mode, rules))
        finally:
            collector.done()
    if index is not None:
        index.save(roots)  # one write, and only when something changed
    return results


def _lookup(index, how: str, *args):
    """A cache index lookup that never breaks the run."""
    try:
        return getattr(index, how)(*args)
    except Exception as e:
        from torchlint.workspace import cache

        cache.warn(f"cache lookup failed: {type(e).__name__}: {e}")
        return None


# -- process pool plumbing ----------------------------------------------------


def _worker_init():
    from torchlint.startup import compiled_once

    with compiled_once():  # (pay the imports once per worker, with the dataclasses' code compiled once)
        import libcst  # noqa: F401

        import torchlint.engine  # noqa: F401
        import torchlint.analysis.interp  # noqa: F401
    from torchlint import registry
    from torchlint.report import suppression  # noqa: F401

    registry.load_rules()


_WORKER_GC: Optional[_FileCollector] = None  # a pool worker's (its process ends with the pool)


def _worker(job):
    global _WORKER_GC
    path, data, settings, mode, rules = job
    if _WORKER_GC is None:
        _WORKER_GC = _FileCollector()
    _WORKER_GC.before_file()
    return lint_file(Path(path), data, settings, mode, rules)


def _pool_context():
    """Fork where it exists: the workers inherit the engine the parent imported, for free.

    (Workers never print or take locks a parent thread could hold at fork time;
    where fork does not exist, the platform's default start method is used and
    each worker imports the engine once.)
    """
    import multiprocessing as mp

    if "fork" in mp.get_all_start_methods():
        _worker_init()
        return mp.get_context("fork"), None
    return None, _worker_init


def _run_pool(todo, settings, mode, workers: int, finished, file_settings=None) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    ctx, init = _pool_context()
    # Longest first, so that one big file does not finish alone at the end.
    order = sorted(todo, key=lambda t: (-len(t[2]), t[0]))
    failed = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init) as pool:
        futures = {pool.submit(_worker, (str(p), data, (file_settings or {}).get(i, settings), mode, rules)):
                   (i, p, data, rules) for i, p, data, key, rules in order}
        for fut in as_completed(futures):
            i, p, data, rules = futures[fut]
            try:
                res = fut.result()
            except BrokenProcessPool:
                failed.append((i, p, data, rules))
                continue
            except Exception as e:  # pickling trouble and the like: report it with the file
                res = FileResult(Path(p), error=_internal(p, "checking this file in a worker process", e), parsed=True)
            finished(i, res)
    # A worker died (a crash in native code, the OOM killer): find the culprit by
    # re-running each affected file alone in a fresh process.
    for i, p, data, rules in sorted(failed, key=lambda t: t[0]):
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=init) as pool:
            try:
                res = pool.submit(_worker, (str(p), data, (file_settings or {}).get(i, settings), mode,
                                            rules)).result()
            except Exception as e:
                res = FileResult(Path(p), parsed=True, error=_internal(
                    p, "checking this file (the worker process died)", e))
        finished(i, res)


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1
