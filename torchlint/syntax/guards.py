"""Keep hostile input from crashing the process.

LibCST's parser is native code that recurses once per level of nesting, and a
Python ``and`` chain is one level per operand in its tree (CPython's ``ast``
keeps it flat, so CPython's own nesting limits do not cover it): ten thousand
operands overflow the 8 MB C stack of a main thread and kill the process with
SIGSEGV, before any Python exception can be raised.  Two defences:

* the walk of the ``ast`` tree that the site gate makes anyway (iterative,
  :func:`torchlint.syntax.astwalk.collect`), before LibCST sees the file, gives
  its nesting depth counted as LibCST nests (a boolean chain of *n* operands is
  *n* levels) and the longest boolean or comparison chain (a :class:`Measure`);
  :func:`check_tree` refuses a file over :data:`MAX_NESTING` or
  :data:`MAX_CHAIN` with a diagnostic that names the line;
* :func:`run_deep` runs the parse and the analysis in a thread with a
  :data:`STACK_BYTES` stack and a recursion limit that fits in it, so that
  whatever still recurses too deep raises ``RecursionError`` (reported as a
  diagnostic) instead of overflowing the C stack.
"""
from __future__ import annotations

import ast
import sys
import threading
from typing import Optional

from torchlint.diagnostics import Location, SourceError
from torchlint.syntax.astwalk import children, collect

# LibCST levels of nesting: far above real code (a few dozen), far below what overflows LibCST in a
# STACK_BYTES stack (~100,000), and low enough that the analysis of the deepest file takes about a
# second or two (parts of it grow faster than linearly with the depth of a call or subscript chain).
MAX_NESTING = 500
# Operands of one boolean or comparison chain (the cost of LibCST and of the rules grows with it;
# the same bound as the long-line guard's operators per line).
MAX_CHAIN = 1000
STACK_BYTES = 256 * 1024 * 1024
# Python frames allowed in the deep thread: 13 KB of C stack per frame, more than any C-level
# recursion of CPython or LibCST needs.
DEEP_RECURSION_LIMIT = 20_000

_lock = threading.Lock()
_local = threading.local()
_active = 0
_saved_limit = 0


class Measure:
    """The nesting depth of a tree counted as LibCST nests, and its longest boolean or comparison chain, as a
    walk (:func:`torchlint.syntax.astwalk.collect`, :func:`torchlint.analysis.sites.summarize`) found them;
    ``deep_node`` and ``long_node`` (the nodes, each one with a line, where they are) are looked up when
    asked, by :func:`_locate`: only a file refused for them needs them."""

    __slots__ = ("tree", "deepest", "longest", "_located")

    def __init__(self, tree: ast.AST):
        self.tree = tree
        self.deepest = self.longest = 0
        self._located = None

    @property
    def deep_node(self) -> ast.AST:
        return self._locate()[0]

    @property
    def long_node(self) -> ast.AST:
        return self._locate()[1]

    def _locate(self) -> tuple:
        if self._located is None:
            self._located = _locate(self.tree)[1::2]
        return self._located

    def result(self) -> tuple:
        return self.deepest, self.deep_node, self.longest, self.long_node


def _locate(tree: ast.AST) -> tuple:
    """(nesting, node at the deepest point, longest chain, node of that chain): a depth-first walk that keeps,
    for every node, its nearest ancestor with a line (the markers aside, :mod:`torchlint.syntax.astwalk`).
    Nesting counts one level per node, and one more per extra operand of a boolean chain (``a and b and c`` is
    two nested operations in LibCST); the node it gives is the first at that depth in the walk."""
    bool_op, compare = ast.BoolOp, ast.Compare
    deepest, deep_node = 0, tree
    longest, long_node = 0, tree
    stack = [(tree, 0, tree)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth, located = pop()
        if hasattr(node, "lineno"):
            located = node
        kind = type(node)
        if kind is bool_op:
            n = len(node.values)
            depth += n - 1
            if n > longest:
                longest, long_node = n, node
        elif kind is compare:
            n = len(node.ops) + 1
            if n > longest:
                longest, long_node = n, node
        if depth > deepest:
            deepest, deep_node = depth, located
        depth += 1
        for child in children(node):
            push((child, depth, located))
    return deepest, deep_node, longest, long_node


def measure(tree: ast.AST) -> tuple:
    """(nesting, node at the deepest point (with a line), longest chain, node of that chain) of an ``ast`` tree
    (see :func:`_locate`)."""
    return _locate(tree)


def _where(node) -> Location:
    return Location(getattr(node, "lineno", 1) or 1, (getattr(node, "col_offset", 0) or 0) + 1)


def check_tree(tree: ast.AST, path: str, measured: Optional[Measure] = None) -> None:
    """Raise :class:`SourceError` for a tree that LibCST or the analysis cannot take safely (``measured``: what a
    complete walk of it found, when one was done already)."""
    if measured is None:
        measured = Measure(tree)
        _, measured.deepest, measured.longest = collect(tree)
    nesting, chain = measured.deepest, measured.longest
    if chain > MAX_CHAIN:
        where = _where(measured.long_node)
        raise SourceError(path, f"line {where.row} has an expression of {chain:,} operands in one boolean or "
                                f"comparison chain; torchlint skips files with chains over {MAX_CHAIN:,} operands",
                          where)
    if nesting > MAX_NESTING:
        where = _where(measured.deep_node)
        raise SourceError(path, f"the code is nested {nesting:,} levels deep at line {where.row}; torchlint skips "
                                f"files nested over {MAX_NESTING:,} levels", where)


def _enter() -> None:
    global _active, _saved_limit
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            if _saved_limit < DEEP_RECURSION_LIMIT:
                sys.setrecursionlimit(DEEP_RECURSION_LIMIT)
        _active += 1


def _leave() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            sys.setrecursionlimit(_saved_limit)


def _start_deep_thread(target) -> threading.Thread:
    """A started daemon thread running ``target`` on a :data:`STACK_BYTES` stack (the size threads made
    afterwards get is put back); raises as :func:`threading.stack_size` does where no such stack can be had."""
    old = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=target, name="torchlint-deep", daemon=True)
        thread.start()
    finally:
        threading.stack_size(old)
    return thread


class _DeepThread:
    """One thread with a :data:`STACK_BYTES` stack that runs the calls of the main thread, one at a time.

    A new thread per file would cost memory, not time: the operating system frees a finished thread's
    stack only after :meth:`threading.Thread.join` has returned, so the next file's thread recurses
    into a second stack while the pages the last one touched are still resident (45 MB more at the
    peak of a run over diffusers' sources).  One thread, kept for the process, reuses its pages."""

    def __init__(self):
        import os
        import queue

        self.pid = os.getpid()  # a forked child has the object but not the thread
        self.jobs: "queue.SimpleQueue" = queue.SimpleQueue()
        self.thread = _start_deep_thread(self._serve)

    def _serve(self) -> None:
        _local.deep = True
        while True:
            target, done = self.jobs.get()
            try:
                target()
            finally:
                done.set()
                del target, done  # hold nothing of a finished call (its source, its result)

    def run(self, target) -> None:
        done = threading.Event()
        self.jobs.put((target, done))
        done.wait()


_deep: Optional[_DeepThread] = None


def _main_deep_thread() -> _DeepThread:
    global _deep
    import os

    if _deep is None or _deep.pid != os.getpid() or not _deep.thread.is_alive():
        _deep = _DeepThread()
    return _deep


def run_deep(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` in a thread with a large stack; its result, or its exception re-raised.

    The recursion limit is raised while any such thread runs (it is global to
    the process; the caller's thread only waits meanwhile).  The main thread's calls
    all run in one such thread (:class:`_DeepThread`); another thread's each get a new
    one.  Where a thread with that stack cannot be made, ``fn`` runs in the caller's thread."""
    if getattr(_local, "deep", False):  # already in a deep thread
        return fn(*args, **kwargs)
    box: dict = {}

    def target():
        _local.deep = True
        _enter()
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e
        finally:
            _leave()

    try:
        with _lock:
            if threading.current_thread() is threading.main_thread():
                deep, thread = _main_deep_thread(), None
            else:
                deep, thread = None, _start_deep_thread(target)
    except (ValueError, RuntimeError, MemoryError):  # no such stack here: do it in this thread
        return fn(*args, **kwargs)
    if deep is not None:
        deep.run(target)
    else:
        thread.join()
    if "error" in box:
        error = box.pop("error")
        try:
            raise error
        finally:
            del error
    return box.get("value")
