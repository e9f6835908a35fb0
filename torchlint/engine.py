"""Analyse one source string: parse, interpret, run the rules.

This is the only entry point that needs libcst; the CLI imports it lazily so
that files without trigger words never pay for the import.
"""
from __future__ import annotations

import re
import sys
from typing import Iterable

from torchlint.diagnostics import Diagnostic, Location, SourceError

INTERNAL_ERROR_CODE = "TL999"


class _Limit:
    """At least ``n`` frames of recursion inside, the old limit back on exit."""

    __slots__ = ("n", "old")

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.old = sys.getrecursionlimit()
        if self.old < self.n:
            sys.setrecursionlimit(self.n)

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.old)


def _recursion_limit(n: int) -> _Limit:
    # (one class for every call: a class made per call is a cycle of its own, garbage for the collector)
    return _Limit(n)


MAX_SOURCE_CHARS = 5_000_000
# LibCST's parser is superlinear in the length of one expression chain
# (a + b + ... or a.b().c()...); a line this dense would take minutes.
MAX_LINE_OPERATORS = 1000
_OPERATOR_CHARS = "+-*/.(%@&|^"


class _CPythonSyntaxError(SourceError):
    """CPython's parser refused the file (perhaps only because it is older than the file's syntax)."""


def _precheck(source: str, path: str, sites: list | None = None, parts: list | None = None):
    """Reject what LibCST cannot parse safely, with the reason a user understands; the ``ast`` tree.

    ``sites``, when given, receives the tree's site summary (:func:`torchlint.analysis.sites.summarize`),
    computed in the same walk as the depth guards; ``parts`` then receives the nodes of each top-level statement
    that the same walk gathered for :func:`torchlint.analysis.partial.reduce`.

    CPython's own parser (``ast``, in C) runs first: it is a few percent of the
    cost of LibCST's, gives the syntax error messages users know, and refuses
    most nesting that would make LibCST's parser overflow its stack; the depth
    and chain guards of :mod:`torchlint.syntax.guards` refuse the rest.
    """
    import ast
    import warnings

    from torchlint.syntax import guards

    if len(source) > MAX_SOURCE_CHARS:
        raise SourceError(path, f"the file has {len(source):,} characters; torchlint skips files over "
                                f"{MAX_SOURCE_CHARS:,} characters")
    try:
        with warnings.catch_warnings():  # CPython's warnings about the checked code are not ours to print
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        msg = e.msg or "invalid syntax"
        loc = Location(e.lineno, max(e.offset or 1, 1)) if e.lineno else None
        raise _CPythonSyntaxError(path, f"SyntaxError: {msg}", loc) from None
    except (RecursionError, MemoryError):
        raise SourceError(path, "the file is too deeply nested for Python to compile; torchlint skipped it") from None
    except ValueError as e:  # e.g. source code string cannot contain null bytes
        raise SourceError(path, f"cannot parse: {e}") from None
    if sites is None:
        guards.check_tree(tree, path)
    else:
        from torchlint.analysis.sites import summarize

        measured = guards.Measure(tree)
        sites.append(summarize(tree, measured, parts=parts))
        guards.check_tree(tree, path, measured)
    _check_lines(source, path)
    return tree


def _check_lines(source: str, path: str) -> None:
    for lineno, line in enumerate(source.splitlines(), 1):
        if len(line) > 4 * MAX_LINE_OPERATORS:
            ops = sum(line.count(c) for c in _OPERATOR_CHARS) + line.count(" and ") + line.count(" or ")
            if ops > MAX_LINE_OPERATORS:
                raise SourceError(path, f"line {lineno} has {ops:,} operators in one expression; torchlint skips "
                                        f"files with lines this complex", Location(lineno, 1))


def _prepare(source: str, path: str, sites: list | None = None, parts: list | None = None):
    """(``ast`` tree, None), or (None, LibCST module) for a file whose syntax is newer than this Python's.

    ``sites``, ``parts``: see :func:`_precheck`.  Raises :class:`SourceError` for a file that cannot be checked."""
    try:
        return _precheck(source, path, sites, parts), None
    except _CPythonSyntaxError as refused:
        # Python 3.12 syntax under Python 3.11 is not an error in the file: if LibCST (which knows the
        # newer grammars) parses it and it uses syntax newer than this Python, go on with LibCST's tree.
        from torchlint.syntax.versions import newer_syntax

        _check_lines(source, path)
        try:
            module = _parse_cst(source, path)
        except SourceError:
            raise refused from None
        if newer_syntax(module) is None:
            raise refused from None
        return None, module


def parse(source: str, path: str = "<string>"):
    """Parse ``source`` with LibCST; raise :class:`SourceError` with a clear message when it cannot."""
    from torchlint.syntax.guards import run_deep

    return run_deep(_parse_checked, source, path)


def _parse_checked(source: str, path: str):
    tree, module = _prepare(source, path)
    del tree
    return module if module is not None else _parse_cst(source, path)


def _parse_cst(source: str, path: str):
    from torchlint.startup import import_libcst

    cst = import_libcst()

    try:
        with _recursion_limit(10_000):
            return cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        # CPython's parser accepted the file (_precheck runs first): this is a gap in
        # LibCST's grammar (e.g. a parenthesised annotated target, ``(x): int = 1``)
        msg = " ".join(str(e.message).split()) or "invalid syntax"
        # the "error at LINE:COL" (0-based column) in the message is more accurate than raw_line
        at = re.search(r"error at (\d+):(\d+)", msg)
        loc = Location(int(at.group(1)), int(at.group(2)) + 1) if at else Location(e.raw_line, e.raw_column + 1)
        raise SourceError(path, f"torchlint's parser (LibCST) cannot parse this file, although Python can; "
                                f"it was not checked: {msg}", loc) from None
    except RecursionError:
        raise SourceError(path, "the file is too deeply nested to parse") from None
    except MemoryError:
        raise SourceError(path, "the file is too large to parse") from None


def lint_source(source: str, path: str = "<string>", *, select: Iterable[str] | None = None,
                gate: bool = True, deps: list | None = None, facts: dict | None = None) -> list[Diagnostic]:
    """Return the findings of the selected rules on ``source``, sorted.

    ``select`` is an iterable of rule codes (None: the default rules).  No
    suppression (``# noqa``) is applied here; that is the runner's job.
    Raises :class:`SourceError` when the source cannot be parsed or analysed.
    With ``gate`` (the default), rules with no site in the file (see
    :mod:`torchlint.analysis.sites`) are dropped before LibCST parses it, and a file
    left with no rule is not parsed by LibCST at all.
    A rule that crashes yields one ``TL999`` diagnostic naming the rule and
    the file; the other rules' findings are kept.
    ``path`` also places the file in its project: names it imports from the
    project's other modules are read from disk (see :mod:`torchlint.analysis.project`);
    ``deps``, when given, receives ``[path, stat, digest]`` of each module used.
    ``facts``, when given, receives ``truncated``: whether the interpreter's budget cut the analysis short.
    """
    from torchlint import registry

    # a "suppression" rule (TL100) judges the # noqa comments after suppression, never the tree
    rules = [r() for r in registry.iter_selected(select) if r.phase == "analysis"]
    if not rules:
        return []
    from torchlint.syntax.guards import run_deep

    return run_deep(_lint, source, path, rules, gate, deps, facts)


def drop_handled(rule, ctx, found: list) -> list:
    """``found`` without the findings inside a ``try`` whose handlers catch the error ``rule`` predicts:
    the program handles it there."""
    exc = (getattr(rule, "runtime_error", None) or (None,))[0]
    if exc and found and ctx.semantic.guarded_bodies:
        return [d for d in found if not ctx.handled(d, exc)]
    return found


def parse_reduced(source: str, path: str, tree, rules: list, sites=None, parts: list | None = None):
    """(LibCST module, :class:`torchlint.analysis.partial.Reduced` or None): the file parsed without the top-level
    functions and classes, and the methods of kept classes, that nothing ``rules`` ask about reaches (their lines
    are empty but for a method's stand-in, every other node keeps its position); the whole file when ``tree`` is None or nothing is left out.  ``parts``: what the site
    summary's walk gathered for it (see :func:`_precheck`)."""
    from torchlint.analysis.partial import reduce

    reduced = reduce(source, tree, rules, sites, parts) if tree is not None and sites is not None else None
    return _parse_cst(reduced.source if reduced is not None else source, path), reduced


def _lint(source: str, path: str, rules: list, gate: bool, deps: list | None = None, facts: dict | None = None,
          whole: bool = False) -> list:
    """:func:`lint_source`'s work, in a thread with a deep stack.  Unless ``whole``, LibCST parses only what the
    rules reach (:func:`parse_reduced`); a reduced file is analysed whole when its analysis ran out of budget or
    a rule asked a whole-file fact the reduced file cannot give (:class:`torchlint.diagnostics.WholeFileNeeded`)."""
    summary: list = []
    parts: list = []  # (each top-level statement's nodes, for parse_reduced; let go of with the tree)
    sites = None
    tree, module = _prepare(source, path, summary if gate else None, parts if gate and not whole else None)
    if gate and tree is not None:  # (a file of newer syntax has no ast tree: every rule runs)
        from torchlint.analysis.sites import has_site

        sites = summary[0]
        rules = [r for r in rules if has_site(r, sites)]
        if not rules:
            return []
    reduced = None
    if module is None:
        module, reduced = parse_reduced(source, path, None if whole or not gate else tree, rules, sites, parts)
    del tree, parts

    from torchlint.startup import compiled_once

    with compiled_once():  # (the first time: the analysis' dataclasses, see torchlint/startup.py)
        import torchlint.analysis.interp  # noqa: F401  (analyse() imports it)
        import torchlint.analysis.context  # (_check imports them)
        import torchlint.analysis.project
    from torchlint.analysis.interp.core import closing

    with closing():  # (the file's interpreters are closed once its rules ran: see Interpreter.close)
        return _check(source, path, module, reduced, sites, rules, gate, deps, facts)


def _check(source: str, path: str, module, reduced, sites, rules: list, gate: bool, deps, facts) -> list:
    """:func:`_lint` after the parse: analyse ``module`` (alone, and with its project where it needs it) and run
    ``rules`` on it."""
    from torchlint.analysis.context import FileContext
    from torchlint.analysis.project import analyse

    from torchlint.analysis import cstwalk
    from torchlint.diagnostics import WholeFileNeeded

    try:
        with _recursion_limit(10_000):
            # the file alone; again with the project's other modules, read lazily from disk, when a backward
            # site is unknown alone (analysis/project.py)
            analysis, project = analyse(module, path, sites)
    except RecursionError:
        raise SourceError(path, "the file is too deeply nested to analyse") from None
    except WholeFileNeeded:  # a method left out of a kept class was looked up (analysis/partial_methods.py)
        cstwalk.forget()
        if reduced is None:  # (the file's own code looked up a class attribute of that name)
            raise SourceError(path, "the file uses __torchlint_blanked__, a name torchlint reserves") from None
        return _lint(source, path, rules, gate, deps, facts, whole=True)

    try:
        if reduced is not None:
            # the left-out code's share of the budget was not spent (in the first run or with the project)
            if analysis.budget_spent:
                return _lint(source, path, rules, gate, deps, facts, whole=True)
            analysis.lenient = reduced.lenient
        if facts is not None:
            facts["truncated"] = bool(analysis.truncated)
        ctx = FileContext(source, path, module, analysis)
        found: list[Diagnostic] = []

        for rule in rules:
            try:
                with _recursion_limit(10_000):
                    got = list(rule.check(ctx))
                found.extend(drop_handled(rule, ctx, got))
            except WholeFileNeeded:
                return _lint(source, path, rules, gate, deps, facts, whole=True)
            except Exception as exc:  # a bug in one rule must not hide the others' findings
                import traceback

                where = traceback.extract_tb(exc.__traceback__)[-1]
                found.append(Diagnostic(
                    code=INTERNAL_ERROR_CODE,
                    name="internal-error",
                    message=(f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc} "
                             f"[{where.filename.rsplit('/', 1)[-1]}:{where.lineno}]; please report this"),
                    severity="error",
                    filename=path,
                    location=Location(1, 1),
                    end_location=Location(1, 1),
                ))
        if project is not None and deps is not None:
            deps.extend(project.deps())  # [path, stat, digest] of the other modules used, for the cache
    finally:
        cstwalk.forget()  # (the tree and this file's analysis are freed with this call, not kept for the next)
        if project is not None:
            project.release()
    unique = {(d.sort_key(), d.code): d for d in found}
    return sorted(unique.values(), key=Diagnostic.sort_key)
