"""Lint one in-memory document for the editor, fast on the second run and after.

The same steps as :func:`torchlint.engine.lint_source` (CPython's parser
first, the site gate, LibCST, the interpreter, the rules, then ``# noqa`` and
per-file-ignores), with three differences an editor needs:

* **Incremental parsing.** The module is cut at its top-level statements
  (CPython's tree gives the lines) and each piece is parsed by LibCST on its
  own, with its node positions; pieces whose text did not change since the
  last run are reused, node objects and positions included, and the module is
  assembled from them.  On a 1,000-line file an edit re-parses one function
  instead of the whole file, and LibCST's position pass (a full code
  generation, the largest cost of a run with findings) runs for that piece
  only.  Any piece that does not parse alone makes the run fall back to
  parsing the whole text, so results never depend on the cut.
* **The analysis is kept** (:class:`Result`): hovers query it
  (:mod:`torchlint.server.query`) without analysing again.
* **Cancellation.** ``cancel`` is a :class:`threading.Event`; a newer edit sets
  it and the run stops at the interpreter's next step (:class:`Cancelled`).

Syntax errors are always reported (``E999``), even in a file with no trigger
word: in an editor the file is open because someone is writing it.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from torchlint.diagnostics import Diagnostic, Location, SourceError
from torchlint.settings import Settings

_NEWLINE = re.compile(r"\r\n|\r|\n")
# every suppression comment (torchlint.report.suppression) contains one of these
_MAY_SUPPRESS = re.compile(r"noqa|ignore\[", re.I)


class Cancelled(BaseException):
    """A newer version of the document made this run useless.

    A BaseException, so that no ``except Exception`` inside the interpreter
    or a rule swallows it."""


@dataclass
class Result:
    """One analysed version of a document."""

    source: str
    diagnostics: list  # after suppression, sorted; a syntax error is one E999 diagnostic
    ctx: Optional[object] = None  # torchlint.analysis.context.FileContext; None when the text does not parse
    settings: Optional[Settings] = None
    _query: Optional[object] = field(default=None, repr=False)

    @property
    def query(self):
        """The hover index over this analysis (built on the first hover)."""
        if self._query is None and self.ctx is not None:
            from torchlint.server.query import ValueIndex

            self._query = ValueIndex(self.ctx)
        return self._query


def line_starts(text: str) -> list:
    starts = [0]
    starts.extend(m.end() for m in _NEWLINE.finditer(text))
    return starts


# -- incremental parsing -------------------------------------------------------


@dataclass
class _Piece:
    body: tuple  # the LibCST statements
    positions: dict  # node -> CodeRange, lines relative to the piece


class _Positions:
    """``node -> CodeRange`` over the assembled module: each piece's map, shifted to the piece's first line."""

    def __init__(self, parts: list):
        self.parts = parts  # [(positions, line offset)]
        self._owner: Optional[dict] = None  # node -> index of its part, built on the first lookup

    def _part(self, node):
        if self._owner is None:
            owner: dict = {}
            for i, (positions, _) in enumerate(self.parts):
                owner.update(dict.fromkeys(positions, i))
            self._owner = owner
        return self.parts[self._owner[node]]

    def __getitem__(self, node):
        from libcst.metadata import CodePosition, CodeRange

        positions, offset = self._part(node)
        r = positions[node]
        if not offset:
            return r
        return CodeRange(CodePosition(r.start.line + offset, r.start.column),
                         CodePosition(r.end.line + offset, r.end.column))

    def __contains__(self, node) -> bool:
        try:
            self._part(node)
        except KeyError:
            return False
        return True

    def items(self):
        """(node, range) for every node, in piece order."""
        from libcst.metadata import CodePosition, CodeRange

        for positions, offset in self.parts:
            for node, r in positions.items():
                yield node, r if not offset else CodeRange(CodePosition(r.start.line + offset, r.start.column),
                                                           CodePosition(r.end.line + offset, r.end.column))


def split_pieces(source: str, tree) -> list:
    """(text, first line) of each top-level piece; the texts add up to ``source``.

    A piece ends after the last line of a top-level statement (decorators and
    the comments above a statement belong to it); statements that share a line
    (``a = 1; b = 2``) stay together."""
    starts = line_starts(source)
    cuts = []
    body = tree.body
    for i, stmt in enumerate(body):
        last = stmt.end_lineno
        if i + 1 < len(body):
            nxt = body[i + 1]
            first_next = min([nxt.lineno] + [d.lineno for d in getattr(nxt, "decorator_list", ())])
            if first_next <= last:
                continue
        if last < len(starts):
            cuts.append(starts[last])
    pieces = []
    begin, line = 0, 1
    for cut in cuts:
        if cut <= begin:
            continue
        text = source[begin:cut]
        pieces.append((text, line))
        line += len(_NEWLINE.findall(text))
        begin = cut
    if begin < len(source) or not pieces:
        pieces.append((source[begin:], line))
    return pieces


class IncrementalParser:
    """Parse successive versions of one document, reusing the pieces that did not change."""

    def __init__(self):
        self._pieces: dict = {}  # (piece text, occurrence) -> _Piece

    def parse(self, source: str, path: str, tree):
        """(module, positions) for ``source``, whose CPython tree is ``tree``.

        Raises :class:`SourceError` as :func:`torchlint.engine.parse` does."""
        import libcst as cst

        from torchlint.engine import _parse_cst, _recursion_limit

        reused: dict = {}
        seen: dict = {}
        parts, body = [], []
        try:
            for text, first in split_pieces(source, tree):
                # the same text twice (two equal statements) must give two sets of nodes: the analysis
                # and the positions are keyed by node identity
                key = (text, seen.get(text, 0))
                seen[text] = key[1] + 1
                piece = self._pieces.get(key)
                if piece is None:
                    piece = self._parse_piece(text)
                reused[key] = piece
                parts.append((piece.positions, first - 1))
                body.extend(piece.body)
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            # a piece that does not parse alone: parse the whole text, which reports the real problem
            self._pieces = {}
            module = _parse_cst(source, path)
            return module, _full_positions(module)
        self._pieces = reused
        with _recursion_limit(10_000):
            module = cst.Module(body=tuple(body))
        return module, _Positions(parts)

    @staticmethod
    def _parse_piece(text: str) -> _Piece:
        import libcst as cst

        from torchlint.engine import _recursion_limit

        with _recursion_limit(10_000):
            module = cst.parse_module(text)
            return _Piece(tuple(module.body), _full_positions(module))


def _full_positions(module) -> dict:
    from libcst.metadata import MetadataWrapper, PositionProvider

    from torchlint.engine import _recursion_limit

    with _recursion_limit(10_000):
        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))


# -- the interpreter, cancellable --------------------------------------------------


_CANCELLABLE = None


def _cancellable(module, cancel: Optional[threading.Event]):
    """An interpreter over ``module`` that raises :class:`Cancelled` once ``cancel`` is set.

    The check sits in ``tick()``, the step counter the interpreter calls on
    every expression it evaluates; nothing else of the interpreter changes."""
    global _CANCELLABLE
    if _CANCELLABLE is None:
        from torchlint.analysis.interp import Interpreter

        class CancellableInterpreter(Interpreter):
            cancel_event: Optional[threading.Event] = None

            def tick(self, n: int = 1):
                ev = self.cancel_event
                if ev is not None and ev.is_set():
                    raise Cancelled()
                return super().tick(n)

        _CANCELLABLE = CancellableInterpreter
    ip = _CANCELLABLE(module)
    ip.cancel_event = cancel
    return ip


# -- one run -------------------------------------------------------------------------


def _error(path: str, code: str, name: str, message: str, loc: Optional[Location]) -> Diagnostic:
    loc = loc or Location(1, 1)
    return Diagnostic(code=code, name=name, message=message, severity="error", filename=path, location=loc,
                      end_location=loc)


def analyse(source: str, path: str, settings: Settings, parser: Optional[IncrementalParser] = None,
            cancel: Optional[threading.Event] = None) -> Result:
    """Diagnostics (after suppression) and the analysis of ``source``, reported as the file ``path``.

    Never raises, except :class:`Cancelled`: a syntax error is an ``E999``
    diagnostic, a bug of ours a ``TL999`` one."""
    try:
        return _analyse(source, path, settings, parser or IncrementalParser(), cancel)
    except Cancelled:
        raise
    except SourceError as e:
        return Result(source, [_error(path, "E999", "syntax-error", e.message, e.location)], settings=settings)
    except RecursionError:
        return Result(source, [_error(path, "E999", "syntax-error",
                                      "the file is too deeply nested to analyse; torchlint skipped it", None)],
                      settings=settings)
    except Exception as e:  # an engine bug must not take the editor's server down
        return Result(source, [_error(path, "TL999", "internal-error",
                                      f"internal error while analysing this file: {type(e).__name__}: {e}; "
                                      f"please report this", None)], settings=settings)


def _check(cancel):
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _analyse(source: str, path: str, settings: Settings, parser: IncrementalParser, cancel) -> Result:
    import traceback

    from torchlint import registry
    from torchlint.analysis.context import FileContext
    from torchlint.analysis.sites import has_site
    from torchlint.engine import INTERNAL_ERROR_CODE, _precheck, _recursion_limit, drop_handled
    from torchlint.report import suppression
    from torchlint.runner import _per_file_codes

    summary: list = []
    tree = _precheck(source, path, summary)
    sites = summary[0]
    rules = [r() for r in registry.iter_selected(sorted(settings.select))]
    rules = [r for r in rules if has_site(r, sites)]
    _check(cancel)
    module, positions = parser.parse(source, path, tree)
    del tree
    _check(cancel)
    with _recursion_limit(10_000):
        try:
            analysis = _cancellable(module, cancel).run()
        except RecursionError:
            raise SourceError(path, "the file is too deeply nested to analyse") from None
    ctx = FileContext(source, path, module, analysis)
    # FileContext computes positions lazily with LibCST over the whole module; hand it the
    # incremental ones (same values: tests/test_server_pipeline.py compares them)
    ctx.__dict__["_positions"] = positions
    found: list = []
    for rule in rules:
        _check(cancel)
        try:
            with _recursion_limit(10_000):
                found.extend(drop_handled(rule, ctx, list(rule.check(ctx))))
        except Cancelled:
            raise
        except Exception as exc:  # as in the engine: one rule's bug must not hide the others' findings
            where = traceback.extract_tb(exc.__traceback__)[-1]
            found.append(_error(path, INTERNAL_ERROR_CODE, "internal-error",
                                f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc} "
                                f"[{where.filename.rsplit('/', 1)[-1]}:{where.lineno}]; please report this", None))
    unique = {(d.sort_key(), d.code): d for d in found}
    diags = sorted(unique.values(), key=Diagnostic.sort_key)
    ignored = _per_file_codes(Path(path), settings)
    if _MAY_SUPPRESS.search(source):
        diags = suppression.filter_diagnostics(diags, source, per_file_ignores_codes=ignored)
    else:  # no suppression comment at all: skip tokenizing the file (a sixth of a run on 1,000 lines)
        diags = [d for d in diags if d.code not in ignored]
    return Result(source, diags, ctx, settings)
