"""Another module of the project, interpreted one top-level statement at a time, only for the names asked for.

Loading a module reads it and indexes its top-level statements with CPython's
``ast`` (in C, a small fraction of LibCST's cost): which names each statement
binds.  Its module frame's ``vars`` is a :class:`LazyVars`: looking a name up
runs the statements that bind it, and only then is their source parsed with
LibCST (the import, the ``def``, the ``class``, the assignment) and executed
in the module frame.  So asking ``pkg/losses.py`` for ``build_criterion``
parses that function and the imports its body uses, not the rest of the file.
A statement being run does not run again (a name it needs from itself, or an
import cycle through it, is what has been bound so far).

A class is parsed without the bodies of its longer ordinary methods (such a
body reads as one string over the same lines, so every line keeps its number); a method's body
is parsed and put in place when the method is first called (:func:`full_def`),
which is rarely: most methods of a project's classes are never called by the
code a file's sites reach.  Special methods and ``forward`` are always parsed,
since the interpreter and the rules read them without calling them.
"""
from __future__ import annotations

import ast
import re
from typing import Optional

from torchlint.analysis.deferred import PENDING
from torchlint.workspace import modules as mods

_NEWLINE = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")  # where str.splitlines also splits
MODULE_STEPS = 50_000  # interpreter steps for the top-level statements of one module
MAX_LINE_CHARS = 4_000
MAX_SEGMENT_LINES = 400  # a longer statement (a 2,000-line Trainer class) is not parsed: its names stay unknown


class LazyVars(dict):
    """A module frame's variables: a name not bound yet is defined on demand by its module's statements."""

    __slots__ = ("owner",)

    def __contains__(self, name) -> bool:
        if dict.__contains__(self, name):
            return True
        owner = self.owner
        return owner is not None and owner.define(name) and dict.__contains__(owner.frame.vars, name)

    def get(self, name, default=None):
        return dict.__getitem__(self.owner.frame.vars, name) if name in self else default


class Segment:
    """Top-level statements on lines ``start``..``end`` (1-based, inclusive), parsed when first run."""

    __slots__ = ("start", "end", "state", "tree", "positions", "methods", "defs")

    def __init__(self, start: int, end: int, methods: list, defs: int):
        self.start, self.end = start, end
        self.state = "new"  # new, running, done
        self.tree = None
        self.positions = None
        # of a class alone in its segment: [(index among its defs, first line, body's first line, last line)] of the
        # method bodies parsed when called (see _deferred_methods), and how many defs the class has
        self.methods, self.defs = methods, defs


class LoadedModule:
    """One other module of the project: its statements by the names they bind, and its module frame."""

    __slots__ = ("file", "qual", "digest", "stat", "size", "frame", "state", "uses", "stars", "display", "lines",
                 "segments", "binds", "ip", "link")

    def __init__(self, file: mods.ModuleFile):
        self.file = file
        self.qual = file.qual
        self.digest = None
        self.stat = None
        self.size = 0
        self.frame = None
        self.state = "new"  # new, loading, done, failed
        self.uses: set = set()  # modules whose names this module's statements resolved
        self.stars: tuple = ()  # the modules ``from x import *`` brings in
        self.display = file.path or file.qual
        self.lines: list = []
        self.segments: list = []
        self.binds: dict = {}  # name -> [segment index, ...] in source order
        self.ip = None
        self.link = None  # the Link whose file is being checked (set by each use)

    # -- loading ----------------------------------------------------------------

    def index(self, source: str) -> bool:
        """Index the top-level statements of ``source``; False when it does not parse."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        self.lines = _split_lines(source)
        ranges = []
        for stmt in tree.body:
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
            end = getattr(stmt, "end_lineno", None) or stmt.lineno
            names = _bound_names(stmt)
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                base = mods.resolve_relative(self.qual, self.file.is_package, stmt.level, stmt.module) \
                    if stmt.level else stmt.module
                if base:
                    self.stars += (base,)
            defs, methods = _deferred_methods(stmt, self.lines) if isinstance(stmt, ast.ClassDef) else (0, [])
            if ranges and start <= ranges[-1][1]:  # two statements on one line: one segment
                ranges[-1][1] = max(ranges[-1][1], end)
                ranges[-1][2].update(names)
                ranges[-1][3] = []  # (the methods of a class parsed later: only for a class alone in its segment)
            else:
                ranges.append([start, end, set(names), methods, defs])
        for i, (start, end, names, methods, defs) in enumerate(ranges):
            self.segments.append(Segment(start, end, methods, defs))
            for name in names:
                self.binds.setdefault(name, []).append(i)
        return True

    def start(self, link) -> None:
        """Make the module frame (its variables lazy) and the interpreter its statements run in."""
        import libcst as cst

        from torchlint.analysis.interp import Interpreter
        from torchlint.analysis.interp.state import STEP_BUDGET
        from torchlint.analysis.values import Const

        self.link = link
        link.loading.append(self)
        try:
            self.ip = Interpreter(cst.Module(body=[]), project=link, lasting=True)
        finally:
            link.loading.pop()
        self.ip.silent += 1
        self.ip.steps = STEP_BUDGET - MODULE_STEPS
        self.frame = self.ip.module_frame
        lazy = LazyVars()
        lazy.owner = self
        lazy["__name__"] = Const(self.qual)
        self.frame.vars = lazy

    # -- names --------------------------------------------------------------------

    def var(self, name: str):
        return self.frame.vars.get(name) if self.frame is not None else None

    def define(self, name: str) -> bool:
        """Run the statements that bind ``name`` (once each); True if any ran or had run."""
        idx = self.binds.get(name)
        if not idx or self.ip is None:
            return False
        for i in idx:
            seg = self.segments[i]
            if seg.state == "new":
                self._run(seg)
        return True

    def _run(self, seg: Segment) -> None:
        from torchlint.analysis.interp.state import Budget

        seg.state = "running"
        link = self.link
        size = sum(len(line) for line in self.lines[seg.start - 1: seg.end])
        if seg.end - seg.start >= MAX_SEGMENT_LINES or not link.spend_parse(size):
            seg.state = "done"
            return
        lines = self.lines[seg.start - 1: seg.end]
        if any(len(line) > MAX_LINE_CHARS for line in lines):  # LibCST is superlinear in one dense expression
            seg.state = "done"
            return
        seg.tree = _parse_segment(seg, lines)
        if seg.tree is None:  # (ast accepted the file, so this is a gap in LibCST's grammar): the names stay unknown
            seg.state = "done"
            return
        link.loading.append(self)
        try:
            self.ip.stmts.exec_block(seg.tree.body, self.frame)
        except (Budget, RecursionError):
            pass
        finally:
            link.loading.pop()
            seg.state = "done"
            if not isinstance(self.frame.vars, LazyVars):  # a branch at module level joined into a plain dict
                lazy = LazyVars(self.frame.vars)
                lazy.owner = self
                self.frame.vars = lazy

    def drop_pending(self) -> None:
        """The module is forgotten: its method bodies not parsed yet never will be."""
        if PENDING:
            mine = set(self.segments)
            for fn in [fn for fn, (seg, _) in PENDING.items() if seg in mine]:
                del PENDING[fn]

    # -- messages -------------------------------------------------------------------

    def line_of(self, node) -> Optional[int]:
        for seg in self.segments:
            if seg.tree is None:
                continue
            if seg.positions is None:
                from libcst.metadata import MetadataWrapper, PositionProvider

                seg.positions = MetadataWrapper(seg.tree, unsafe_skip_copy=True).resolve(PositionProvider)
            pos = seg.positions.get(node)
            if pos is not None:
                return pos.start.line + seg.start - 1
        return None


def _split_lines(source: str) -> list:
    """The lines of ``source`` with their ends, split at ``\\r\\n``, ``\\r`` and ``\\n`` only (as Python reads it)."""
    if not _OTHER_BREAKS.search(source):  # then str.splitlines (in C) splits at exactly those
        return source.splitlines(True)
    out, pos = [], 0
    for m in _NEWLINE.finditer(source):
        out.append(source[pos:m.end()])
        pos = m.end()
    if pos < len(source):
        out.append(source[pos:])
    return out


def _bound_names(stmt: ast.stmt) -> set:
    """The names a top-level statement binds in the module namespace (in any branch of it)."""
    out: set = set()
    todo = [stmt]
    while todo:
        s = todo.pop()
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(s.name)
            continue
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            for a in s.names:
                if a.name != "*":
                    out.add(a.asname or a.name.split(".")[0])
            continue
        if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            targets = s.targets if isinstance(s, ast.Assign) else \
                [s.target] if isinstance(s, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)) else \
                [i.optional_vars for i in s.items if i.optional_vars is not None]
            for t in targets:
                out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(s, field, ()) or ():
                if isinstance(child, ast.stmt):
                    todo.append(child)
                elif isinstance(child, (ast.excepthandler, ast.match_case)):
                    todo.extend(child.body)
    return out


# -- method bodies parsed when called ------------------------------------------------

DEFERRED_BODY_LINES = 6  # a shorter body is parsed with its class


def _deferred_methods(cls: ast.ClassDef, lines: list) -> tuple:
    """(how many ``def``s ``cls`` has, [(index among them, first line of the def, first line of its body, last
    line)] of the methods whose bodies may be parsed later): ordinary methods (not ``__x__``, not ``forward``) with a
    body of at least :data:`DEFERRED_BODY_LINES` lines that starts a line of its own."""
    out = []
    defs = [fn for fn in cls.body if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for k, fn in enumerate(defs):
        if fn.name == "forward" or (fn.name.startswith("__") and fn.name.endswith("__")):
            continue
        first = fn.body[0]
        body = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", ())])
        end = fn.end_lineno or fn.lineno
        if end - body + 1 < DEFERRED_BODY_LINES or end > len(lines):
            continue
        if lines[body - 1].encode("utf-8")[:first.col_offset].strip():  # the body shares a line with the header
            continue
        out.append((k, min([fn.lineno] + [d.lineno for d in fn.decorator_list]), body, end))
    return len(defs), out


def _parse_segment(seg: Segment, lines: list):
    """The LibCST tree of a segment's ``lines``, with its class's deferred method bodies read as one string each
    (line for line), or of the whole segment where that does not parse as expected; None when nothing parses."""
    import libcst as cst

    if seg.methods:
        methods = seg.methods
        stubbed = list(lines)
        for _, _, body, end in methods:  # one string over the body's lines: cheap to parse, and line for line
            indent = lines[body - seg.start]
            indent = indent[:len(indent) - len(indent.lstrip())]
            for n in range(body, end + 1):
                line = lines[n - seg.start]
                text = indent + '"""' if n == body else '"""' if n == end else ""
                stubbed[n - seg.start] = text + line[len(line.rstrip("\r\n")):]
        try:
            tree = cst.parse_module("".join(stubbed))
        except Exception:
            tree = None
        cls = tree.body[0] if tree is not None and len(tree.body) == 1 else None
        if type(cls) is cst.ClassDef and type(cls.body) is cst.IndentedBlock:
            defs = [s for s in cls.body.body if type(s) is cst.FunctionDef]
            if len(defs) == seg.defs:
                for k, start, _, end in methods:
                    PENDING[defs[k]] = (seg, lines[start - seg.start: end - seg.start + 1])
                return tree
    try:
        return cst.parse_module("".join(lines))
    except Exception:
        return None
