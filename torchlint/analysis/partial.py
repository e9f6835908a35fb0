"""Parse less with LibCST: blank the top-level functions and classes that nothing the rules ask about reaches.

LibCST is the largest cost of a cold run, and most of a large file is often code that no site of a rule
and no fact of the file depends on: a test module's helper functions, a pipeline's unrelated classes.
The ``ast`` tree, already built for the gate (:mod:`torchlint.analysis.sites`), gives every top-level
statement's lines, the names it binds and the names it mentions.  :func:`reduce` keeps

* every statement that is not a ``def`` or a ``class`` (imports and module-level code run, and bind what
  the rest reads);
* every ``def`` and ``class`` that holds a word of :data:`FILE_WORDS`, a trigger word or a site name of
  a rule that runs (or an alias of one), or a *mark*: an in-place change (``x op= ...``, ``x[i] = ...``,
  a call of a method whose name ends in ``_``), ``global``/``nonlocal``, or an ``import``;
* every ``def`` and ``class`` that mentions a name a whole-file scan asks about (see ``_Scan.asked``);
* to a fixed point: the ``def`` or ``class`` that binds a name a kept statement mentions (a callee, a
  base, a decorator), that mentions a name a kept statement other than an import binds (a caller, or code
  that reads or changes the module's state), or that binds a name a kept statement binds too;
* the first ``def``/``class`` with an indented body (LibCST takes the file's default indentation from it,
  and the code of a kept node printed for a message depends on it), and every one before it.

and replaces the lines of the others by empty lines (keeping each line's own line break), so that every
kept node has the line and column it has in the file.  A dropped statement is then code that the
interpreter would only analyse on its own, with unknown arguments: nothing kept calls it, it reads no
module state but imports, it changes nothing in place and holds no word any rule, file-level fact
(grad mode, frozen parameters, "turns requires_grad on", the aliasing guard, the training-loop and graph
scans, the Lightning sites, the project pass) or site looks for.  Its analysis adds facts only to its
own nodes, so the findings, their locations and their fix edits (character offsets into the real
source, which the rules read from ``FileContext.source``) stay identical.  The one shared resource it
spends is the interpreter's step budget: the engine re-parses the whole file when the analysis of the
reduced one ran out of budget (:func:`torchlint.engine._lint`).

Only the check path (``engine.lint_source``) parses less; ``engine.parse`` (the fixer's syntax check,
``explain``), the LSP server and the other modules of the project pass parse what they always did.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from torchlint.analysis.lazymodule import _bound_names, _split_lines

# Words the file-level facts and whole-file scans look for (an identifier, attribute, keyword or string
# equal to one keeps its statement): backward sites and Lightning's (the project pass's site verdicts),
# grad mode set by a statement (interp/core.py), frozen and thawed parameters and "turns requires_grad on"
# (interp/params.py), the aliasing guard's requires_grad changes (semantic/aliasing.py), exec/eval and
# the namespace builtins.
FILE_WORDS = frozenset("""
backward manual_backward training_step set_grad_enabled requires_grad requires_grad_ setattr __setattr__
exec eval globals locals vars __dict__ __builtins__ __import__
""".split())
# A function that clears gradients (semantic/training.py's helpers: zero_grad, p.grad = None, a call of a
# name with "zero" in it, ...) is a helper of the training loops that call it by name.
_ZEROING_PARTS = ("zero", "grad")
# In-place methods the aliasing guard passes over (semantic/aliasing.py's _NEVER_GRAD_INPLACE).
_NEVER_GRAD_INPLACE = frozenset("""random_ uniform_ normal_ bernoulli_ exponential_ geometric_ cauchy_
log_normal_ xavier_normal_ xavier_uniform_ kaiming_normal_ kaiming_uniform_ orthogonal_ trunc_normal_ constant_
ones_ zeros_ eye_ dirac_ sparse_ clip_grad_norm_ clip_grad_value_ unscale_ zero_ detach_""".split())

_CANDIDATES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _literal(node) -> bool:
    while isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant)


@dataclass
class Reduced:
    source: str  # the source with the dropped statements' lines emptied
    kept_chars: int  # characters of the kept statements' lines (what LibCST parses)
    dropped: list  # [(first line, last line)] of each dropped statement, 1-based, inclusive


class _Stmt:
    __slots__ = ("node", "start", "end", "candidate", "binds", "names", "stores", "idents", "stored_attrs",
                 "marked", "import_only", "imports", "defnames", "zeroish")

    def __init__(self, node):
        self.node = node
        self.start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        self.end = node.end_lineno or node.lineno
        self.candidate = isinstance(node, _CANDIDATES)
        self.import_only = isinstance(node, (ast.Import, ast.ImportFrom))
        self.binds = _bound_names(node)
        self.names: set = set()  # names (loaded, stored, parameters, global) and identifier strings
        self.stores: set = set()  # names assigned or deleted anywhere in it (for module-level code: the state it
        # makes, walrus targets and ``except ... as e`` included)
        self.idents: set = set()  # names, attributes, keywords, definitions, imported names
        self.stored_attrs: set = set()  # attributes assigned or deleted (x.attr = ...)
        self.marked = False
        self.imports: set = set()  # (project key, the import's alias facts) of the imports inside a def/class
        self.defnames: set = set()  # the functions and methods it defines
        self.zeroish = False  # it may clear gradients (see _ZEROING_PARTS)

    def indents(self, lines: list) -> bool:
        """Does the statement certainly hold an indented block (an INDENT token: a statement of its body that
        begins a line of its own)?"""
        first = self.node.lineno
        for n in ast.walk(self.node):
            if isinstance(n, ast.stmt) and n.lineno > first and n.col_offset > 0 \
                    and lines[n.lineno - 1][:n.col_offset].isspace():
                return True
        return False


def _import_facts(n) -> set:
    """What an import inside a function tells the whole-file scans: (project key, kind, module, name, bound) per
    name; the project key is ``"."`` for a relative import, else its top-level package (see project.py's
    ``_imports_project``); kind, module, name and bound are what the aliasing guard records."""
    out = set()
    if isinstance(n, ast.ImportFrom):
        key = "." if n.level else (n.module or "").split(".")[0]
        for a in n.names:
            out.add((key, "from", n.module or "", a.name, a.asname or a.name))
    else:
        for a in n.names:
            out.add((a.name.split(".")[0], "import", a.name, "", a.asname or a.name.split(".")[0]))
    return out


class _Scan:
    """One walk of the tree: each top-level statement's facts, and the names the whole-file scans ask about."""

    def __init__(self, tree: ast.Module):
        self.stmts = [_Stmt(node) for node in tree.body]
        # Names whose every binding and use the aliasing guard reads: bare-name receivers and arguments of
        # in-place calls, bases of item stores, receivers of ``requires_grad`` stores; the attributes whose
        # stores it reads (``self.buf[i] = v``) and those of optimizers (semantic/training.py: ``self.opt =
        # ...`` of an optimizer stepped somewhere); and the names of those optimizers, whose assignments it reads.
        self.asked: set = set()
        self.asked_attrs: set = set()
        self.optimizers: set = set()
        self.top_imports: set = set()  # _import_facts of the module's own imports
        for st in self.stmts:
            self._walk(st)

    def _ask(self, node, names: set) -> None:
        if isinstance(node, ast.Name):
            names.add(node.id)
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
            if isinstance(node, ast.Attribute):
                self.asked_attrs.add(node.attr)
            node = node.func if isinstance(node, ast.Call) else node.value

    def _walk(self, st: _Stmt) -> None:
        names, idents, stored = st.names, st.idents, st.stored_attrs
        marked = False
        for n in ast.walk(st.node):
            t = type(n)
            if t is ast.Name:
                names.add(n.id)
                if not isinstance(n.ctx, ast.Load):
                    st.stores.add(n.id)
            elif t is ast.Attribute:
                idents.add(n.attr)
                if not isinstance(n.ctx, ast.Load):
                    stored.add(n.attr)
                    if n.attr == "requires_grad":
                        self._ask(n.value, self.asked)
            elif t is ast.Call:
                f = n.func
                attr = f.attr if isinstance(f, ast.Attribute) else None
                if attr is None:
                    continue
                if attr.endswith("_") and not attr.startswith("_") and attr not in _NEVER_GRAD_INPLACE:
                    self._ask(f.value, self.asked)
                    for a in n.args:
                        self._ask(a, self.asked)
                        if not _literal(a):
                            marked = True  # (an in-place change the aliasing guard may count)
                elif attr in ("step", "zero_grad"):
                    self._ask(f.value, self.optimizers)
                    for a in n.args:
                        self._ask(a, self.optimizers)  # scaler.step(optimizer)
            elif t is ast.keyword:
                if n.arg is not None:
                    idents.add(n.arg)
                    if n.arg == "out":  # torch.add(a, b, out=c) writes c in place
                        marked = True
            elif t is ast.arg:
                names.add(n.arg)
            elif t is ast.Constant:
                if isinstance(n.value, str) and n.value.isidentifier():
                    names.add(n.value)
            elif t is ast.Subscript:
                if not isinstance(n.ctx, ast.Load):
                    marked = True
                    self._ask(n.value, self.asked)
            elif t in (ast.Global, ast.Nonlocal):
                marked = True
                names.update(n.names)
            elif t in (ast.Import, ast.ImportFrom):
                facts = _import_facts(n)
                if n is st.node:
                    self.top_imports |= facts
                else:
                    st.imports |= facts
                for a in n.names:
                    idents.update(a.name.split("."))
                    if a.asname:
                        idents.add(a.asname)
            elif t in _DEFS:
                idents.add(n.name)
                st.defnames.add(n.name)
            elif t is ast.ClassDef:
                idents.add(n.name)
            elif t is ast.ExceptHandler:
                if n.name:
                    names.add(n.name)
                    st.stores.add(n.name)
            elif t in (ast.MatchAs, ast.MatchStar):
                if n.name:
                    names.add(n.name)
                    st.stores.add(n.name)
            elif t is ast.MatchMapping:
                if n.rest:
                    names.add(n.rest)
                    st.stores.add(n.rest)
        idents |= names
        st.marked = marked
        st.zeroish = any(p in i.lower() for i in idents for p in _ZEROING_PARTS)


def _sensitive_words(aliases: dict, words) -> set:
    """``words`` and every alias of one of them, to a fixed point."""
    out = set(words)
    changed = True
    while changed:
        changed = False
        for alias, originals in aliases.items():
            if alias not in out and originals & out:
                out.add(alias)
                changed = True
    return out


def _holds_site(stmts: list, rules, sites) -> bool:
    """Does the code of ``stmts`` (the file's imports and aliases aside) hold a site of one of ``rules``?"""
    from torchlint.analysis.sites import has_site, summarize

    part = summarize(ast.Module(body=[st.node for st in stmts], type_ignores=[]), within=sites)
    return any(has_site(r, part) for r in rules)


def reduce(source: str, tree: ast.Module, rules, sites) -> Optional[Reduced]:
    """``source`` with the top-level functions and classes that nothing kept reaches blanked (see the module's
    documentation); None when every statement is kept.  ``rules`` are the rules that run on the file, ``sites``
    the file's summary (:func:`torchlint.analysis.sites.summarize`)."""
    if not isinstance(tree, ast.Module) or not tree.body:
        return None
    lines = _split_lines(source)  # (the line breaks CPython counts: \n, \r\n and \r)
    scan = _Scan(tree)
    hot = _sensitive_words(sites.aliases, FILE_WORDS)
    keep = []
    seen_indent = False
    for st in scan.stmts:
        k = (not st.candidate or not seen_indent or st.marked or not st.idents.isdisjoint(hot)
             or not st.names.isdisjoint(scan.asked) or not st.stored_attrs.isdisjoint(scan.asked_attrs)
             or not st.stores.isdisjoint(scan.optimizers) or not st.stored_attrs.isdisjoint(scan.optimizers))
        seen_indent = seen_indent or st.indents(lines)
        keep.append(k)
    if all(keep):
        return None
    while True:
        _close(scan, keep)
        left = [i for i, k in enumerate(keep) if not k]
        if not left:
            return None
        # a group of dropped statements that mention each other is analysed together: it must hold no site
        held = False
        for group in _groups(scan, left):
            if _holds_site([scan.stmts[i] for i in group], rules, sites):
                for i in group:
                    keep[i] = True
                held = True
        if not held:
            break
    blank = [False] * (len(lines) + 2)
    for st, k in zip(scan.stmts, keep):
        if not k:
            for line in range(st.start, st.end + 1):
                blank[line] = True
    for st, k in zip(scan.stmts, keep):
        if k and any(blank[line] for line in range(st.start, st.end + 1)):
            return None  # a kept statement shares a line with a dropped one (no real code does)
    out, kept_chars = [], 0
    for i, line in enumerate(lines, 1):
        if blank[i]:
            body = line.rstrip("\r\n")
            out.append(line[len(body):])
        else:
            out.append(line)
            kept_chars += len(line)
    dropped = [(st.start, st.end) for st, k in zip(scan.stmts, keep) if not k]
    return Reduced("".join(out), kept_chars, dropped)


def _close(scan: _Scan, keep: list) -> None:
    """Keep, to a fixed point, every dropped statement that binds a name a kept one mentions (a callee, a base, a
    decorator) or binds too, that mentions a name kept code other than an import binds (a caller, code that
    reads or changes module state), that defines a function kept code names while it may clear gradients, or
    whose imports tell the whole-file scans something the kept code's do not."""
    stmts = scan.stmts
    while True:
        names, state, binds, idents = set(), set(), set(), set()
        imports = set(scan.top_imports)
        for st, k in zip(stmts, keep):
            if k:
                names |= st.names
                idents |= st.idents
                binds |= st.binds
                imports |= st.imports
                if not st.import_only:
                    state |= st.binds
                    if not st.candidate:
                        state |= st.stores
        keys = {f[0] for f in imports}
        changed = False
        for i, st in enumerate(stmts):
            if keep[i]:
                continue
            if not st.binds.isdisjoint(names) or not st.names.isdisjoint(state) or not st.binds.isdisjoint(binds) \
                    or (st.zeroish and not st.defnames.isdisjoint(idents)) \
                    or any(f[0] not in keys or (f[4] in names and f not in imports) for f in st.imports):
                keep[i] = True
                changed = True
        if not changed:
            return


def _groups(scan: _Scan, left: list) -> list:
    """The dropped statements in groups that mention each other's names."""
    parent = {i: i for i in left}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_name: dict = {}
    for i in left:
        for name in scan.stmts[i].binds:
            by_name.setdefault(name, []).append(i)
    for i in left:
        for name in scan.stmts[i].names:
            for j in by_name.get(name, ()):
                parent[find(i)] = find(j)
    out: dict = {}
    for i in left:
        out.setdefault(find(i), []).append(i)
    return list(out.values())
