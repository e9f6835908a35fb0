"""Start-up cost: the functions :mod:`dataclasses` generates, compiled once per install instead of once per run.

``import libcst`` defines about two hundred frozen dataclasses, and for each the
``dataclasses`` module writes the source of ``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` and compiles it
with ``exec``: about two thirds of the cost of the import, which is the largest
single cost of checking one file.  The compiled code depends only on that
source text (and the compiler flags of the calling code), so
:func:`compiled_once` keeps it, as Python keeps a module's bytecode in
``__pycache__``: while it is active, the ``exec`` that ``dataclasses`` calls is
:func:`_exec`, which runs the code object compiled from the same source text if
one is stored, and compiles (and stores) it otherwise.  What runs is what
``exec`` of the text would run; only the compiling is skipped.

The store is one ``marshal`` file in this package's ``__pycache__`` (tagged
with the interpreter's cache tag and optimisation level, like a ``.pyc``, and
holding the interpreter's magic number and version), read once per process and
rewritten only when a source was missing from it, with the entries this
process used.  Like Python's own bytecode cache it is not written under
``PYTHONDONTWRITEBYTECODE`` (``sys.dont_write_bytecode``), and a store that
cannot be read or written is no store.
"""
from __future__ import annotations

import __future__
import os
import sys
import threading
from contextlib import contextmanager

_FORMAT = "torchlint-dataclass-code-1"
# the future flags a caller's code passes on to exec() of a string (nested_scopes is no flag of the compiler's)
_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    if _name != "nested_scopes":
        _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag

_lock = threading.RLock()
_depth = 0
_store = None  # {(flags, source): code} read from the file, once per process
_used: dict = {}  # what this process looked up or compiled
_missed = False  # a source was compiled here (the file lacks it)
_builtin_exec = exec


def store_path() -> str:
    """Where the compiled code is kept: next to this package's bytecode."""
    import importlib.util

    pyc = importlib.util.cache_from_source(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "dataclass_code.py"))
    return pyc[: -len(".pyc")] + ".marshal"


def _header() -> tuple:
    import importlib.util

    return _FORMAT, importlib.util.MAGIC_NUMBER, sys.version, sys.flags.optimize


def _read() -> dict:
    import marshal

    try:
        with open(store_path(), "rb") as f:
            data = f.read()  # (marshal.loads of the bytes: marshal.load reads a file in small pieces)
        header, entries = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return entries if header == _header() and type(entries) is dict else {}


def _write() -> None:
    import marshal
    import tempfile

    path = store_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dataclass_code-", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps((_header(), dict(_used))))
            os.chmod(tmp, os.stat(__file__).st_mode & 0o666)  # (as a .pyc gets its source's mode)
            os.replace(tmp, path)  # (another process writing the same file at once: one of the two whole files)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError):
        pass


def _exec(source, globals=None, locals=None, /, **options):
    """``exec`` as :mod:`dataclasses` calls it, with the code compiled from ``source`` taken from the store."""
    global _missed
    if type(source) is not str:
        return _builtin_exec(source, globals, locals, **options)
    # exec() of a string compiles it with the future flags of the calling code: so does this
    flags = sys._getframe(1).f_code.co_flags & _FUTURE_FLAGS
    key = (flags, source)
    code = _used.get(key) or (_store or {}).get(key)
    if code is None:
        code = compile(source, "<string>", "exec", flags, dont_inherit=True)
        _missed = True
    _used[key] = code
    return _builtin_exec(code, globals, locals, **options)


@contextmanager
def compiled_once():
    """While active (in any thread; it nests), dataclasses get their generated functions from the store; at the
    end of the outermost one, the store is rewritten if a function's code was missing from it."""
    global _depth, _store, _missed
    import dataclasses

    with _lock:
        if _depth == 0:
            if _store is None:
                _store = _read()
            dataclasses.exec = _exec  # (a module global: it comes before the builtin exec)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                dataclasses.__dict__.pop("exec", None)
                if _missed and not sys.dont_write_bytecode:
                    _write()
                _missed = False


def _after_fork() -> None:
    """A forked process starts outside any window (another thread of its parent may have been in one)."""
    global _lock, _depth, _missed
    _lock, _depth, _missed = threading.RLock(), 0, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def import_libcst():
    """``libcst``, imported (the first time) with its dataclasses' code from the store."""
    module = sys.modules.get("libcst")
    if module is not None:
        return module
    with compiled_once():
        import libcst
    return libcst
