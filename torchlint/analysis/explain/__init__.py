"""``torchlint explain``: what torchlint inferred at every autograd site of a file, and why it is silent.

Like mypy's ``reveal_type``, for autograd: each site (see
:mod:`torchlint.analysis.explain.sites`) with the shape, dtype kind,
requires_grad, leaf-ness and scalar verdict of the value there and its origin
chain (:mod:`~torchlint.analysis.explain.facts`); where the value is Unknown,
or its size is, the construct that made it so
(:mod:`~torchlint.analysis.explain.why`).  It reads the interpreter's results
only; nothing here changes what the rules see.

:func:`explain_source` is the entry point; :func:`wanted` is the cheap gate
that tells, from CPython's ``ast``, whether a file has a site at all.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from torchlint.analysis.explain.facts import VERDICTS

__all__ = ["FileExplanation", "VERDICTS", "explain_source", "wanted"]

# Calls and keywords that make a file worth analysing (cheap, from the ast tree).
_SITE_CALLS = {"backward", "manual_backward", "grad", "grad_and_value", "vjp", "requires_grad_"}
_WORDS = (b"backward", b"grad", b"training_step")


@dataclass
class FileExplanation:
    path: str
    sites: list = field(default_factory=list)  # JSON-able dicts, one per site
    truncated: bool = False  # the interpreter's budget cut the analysis of this file short
    error: Optional[str] = None  # the file could not be analysed (and why)
    analysed: bool = True  # False: no autograd site (the gate), never parsed with LibCST


def wanted(source: str) -> Optional[bool]:
    """Whether ``source`` may hold an autograd site: True, False, or None when CPython cannot parse it."""
    if not any(w.decode() in source for w in _WORDS):
        return False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name in _SITE_CALLS or any(k.arg == "requires_grad" for k in node.keywords):
                return True
        elif isinstance(node, ast.Attribute) and node.attr == "requires_grad" and isinstance(node.ctx, ast.Store):
            return True
        elif isinstance(node, ast.FunctionDef) and node.name == "training_step":
            return True
    return False


def analyse(source: str, path: str):
    """The :class:`~torchlint.analysis.context.FileContext` of ``source`` (raises SourceError)."""
    from torchlint import engine

    module = engine.parse(source, path)
    try:
        from torchlint.syntax.guards import run_deep
    except ImportError:  # pragma: no cover - an engine without the deep-stack thread
        def run_deep(fn, *args):
            return fn(*args)
    return run_deep(_interpret, source, path, module)


def _interpret(source, path, module):
    import sys

    from torchlint.analysis.context import FileContext
    from torchlint.analysis.interp import Interpreter
    from torchlint.diagnostics import SourceError

    kwargs = {}
    try:  # the project's other modules, as the engine reads them (when the interpreter can)
        from torchlint.analysis.project import link_for

        kwargs["project"] = link_for(path)
    except ImportError:  # pragma: no cover - an interpreter of a single file
        pass
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10_000))
    try:
        try:
            interpreter = Interpreter(module, **kwargs)
        except TypeError:  # pragma: no cover - an interpreter without project links
            interpreter = Interpreter(module)
        analysis = interpreter.run()
    except RecursionError:
        raise SourceError(path, "the file is too deeply nested to analyse") from None
    finally:
        sys.setrecursionlimit(old)
    return FileContext(source, path, module, analysis)


def explain_source(source: str, path: str = "<string>", lines: Optional[set] = None,
                   gate: bool = True) -> FileExplanation:
    """Explain every autograd site of ``source`` (only those on ``lines``, when given)."""
    from torchlint.diagnostics import SourceError

    if gate and wanted(source) is False:
        return FileExplanation(path, analysed=False)
    try:
        ctx = analyse(source, path)
    except SourceError as e:
        return FileExplanation(path, error=e.message)
    from torchlint.analysis.explain.report import site_reports

    try:
        reports = site_reports(ctx, lines)
    except Exception as e:  # a bug of ours must not end a run over a whole repository
        return FileExplanation(path, truncated=bool(ctx.analysis.truncated),
                               error=f"internal error: {type(e).__name__}: {e}; please report this")
    return FileExplanation(path, reports, bool(ctx.analysis.truncated))
