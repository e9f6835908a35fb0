"""Parse less with LibCST: blank the top-level functions and classes that nothing the rules ask about reaches.

LibCST is the largest cost of a cold run, and much of a large file is often code that no site of a rule
and no fact of the file depends on.  The ``ast`` tree, already built for the gate
(:mod:`torchlint.analysis.sites`), gives every top-level statement's lines, the names it binds and the
names it mentions.  :func:`reduce` keeps

* every statement that is not a ``def`` or a ``class`` (imports and module-level code run, and bind what
  the rest reads), and every ``def``/``class`` up to the first with an indented body (LibCST takes the
  file's default indentation from it, and the code of a kept node printed in a message depends on it);
* every ``def`` and ``class`` that mentions a word of :data:`FILE_WORDS` or :data:`NAME_WORDS` (or an
  alias of one), or holds ``global``/``nonlocal``; for a rule that reads the training-loop facts, one that
  assigns the name of an optimizer stepped somewhere;
* to a fixed point (``_close``): a ``def`` or ``class`` that binds a name a kept statement mentions (a
  callee, a base, a decorator) or binds too, that mentions a name kept code other than an import binds (a
  caller; code that reads or changes module state), that may clear gradients in a function kept code
  names, or whose imports tell the project pass or the aliasing guard something the kept code's do not;
* every group of the others that mention each other and hold a site of a rule that runs
  (:func:`torchlint.analysis.sites.has_site` on the group's code, with the file's aliases);

and replaces the lines of the others by empty lines (each keeps its own line break), so that every kept
node has its line and column in the file.  Inside the kept classes, the methods that nothing kept reaches are
left out too, with a one-line stand-in each (:mod:`torchlint.analysis.partial_methods`).  A dropped statement is code the interpreter would only analyse
on its own, with unknown arguments: nothing kept calls it, it calls nothing kept, it reads no module state
but imports, and it holds no site and no word that a file-level fact looks for (grad mode set by a
statement, frozen parameters and "turns requires_grad on", the Lightning sites and the project pass's
backward sites, exec/eval).  Its analysis adds facts to its own nodes only, so the facts of every kept
node, the findings, their locations and their fix edits (character offsets into the real source, which
rules read from ``FileContext.source``) are those of the whole file.  Two things it could still change
are checked after the fact: the interpreter's step budget (the engine analyses the whole file when the
reduced one's analysis ran out of budget), and the aliasing guard (see
:class:`torchlint.diagnostics.WholeFileNeeded`).

Only the check path (``engine.lint_source``) parses less; ``engine.parse`` (the fixer's syntax check,
``explain``), the LSP server and the other modules of the project pass parse what they always did.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from torchlint.analysis.lazymodule import _bound_names, _split_lines
from torchlint.analysis.partial_methods import blank_methods, groups
from torchlint.analysis.sites import STATEMENT_KINDS
from torchlint.syntax.astwalk import collect

# Words the file-level facts and whole-file scans look for (an identifier, attribute, keyword or string
# equal to one keeps its statement): backward sites and Lightning's (the project pass's site verdicts),
# grad mode set by a statement (interp/core.py), frozen and thawed parameters and "turns requires_grad on"
# (interp/params.py), the aliasing guard's requires_grad changes (semantic/aliasing.py), exec/eval and
# the namespace builtins.
FILE_WORDS = frozenset("""
backward manual_backward training_step set_grad_enabled requires_grad requires_grad_ setattr __setattr__ __dict__
""".split())
# The same, for builtins that only matter called by their own name (exec(...), not model.eval()).
NAME_WORDS = frozenset("setattr exec eval globals locals vars __builtins__ __import__".split())
# A function that clears gradients (semantic/training.py's helpers: zero_grad, p.grad = None, a call of a
# name with "zero" in it, ...) is a helper of the training loops that call it by name.
_ZEROING_PARTS = ("zero", "grad")

# The least share of a file's characters worth leaving out.
MIN_SAVED = 0.1

_CANDIDATES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Reduced:
    source: str  # the source with the dropped statements' lines emptied
    kept_chars: int  # characters of the kept statements' lines (what LibCST parses)
    dropped: list  # [(first line, last line)] of each dropped statement, 1-based, inclusive
    # Whole-file facts the dropped code may change, that hold on the reduced file only when true (see
    # :class:`torchlint.diagnostics.WholeFileNeeded`): "aliasing"
    lenient: frozenset = frozenset()
    # [(first line, last line)] of each method left out of a kept class (its first line holds a stand-in: see
    # :mod:`torchlint.analysis.partial_methods`)
    blanked: list = field(default_factory=list)


class _Stmt:
    __slots__ = ("node", "start", "end", "candidate", "binds", "names", "stores", "idents", "stored_attrs",
                 "marked", "import_only", "imports", "defnames", "zeroish", "defined")

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
        self.marked = False  # ``global`` or ``nonlocal``: it may rebind the module's names
        self.imports: set = set()  # (project key, the import's alias facts) of the imports inside a def/class
        self.defnames: set = set()  # the functions and methods it defines
        self.zeroish = False  # it may clear gradients (see _ZEROING_PARTS)
        self.defined: set = set()  # the names of functions and classes it defines and mentions nowhere else

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

    def __init__(self, tree: ast.Module, parts: Optional[list] = None):
        self.stmts = [_Stmt(node) for node in tree.body]
        # The names and attributes of the optimizers stepped or cleared somewhere (``opt``, ``self.opt``): the
        # training-loop scans read every assignment of them (semantic/training.py's _optimizer_sources).
        self.optimizers: set = set()
        self.top_imports: set = set()  # _import_facts of the module's own imports
        if parts is None or len(parts) != len(self.stmts):
            parts = [collect(st.node, STATEMENT_KINDS)[0] for st in self.stmts]
        self.found = parts  # each top-level statement's nodes by kind (partial_methods splits a class's by method)
        for st, found in zip(self.stmts, parts):
            self._walk(st, found)

    def _ask(self, node) -> None:
        while True:
            if isinstance(node, ast.Name):
                self.optimizers.add(node.id)
            elif isinstance(node, ast.Attribute):
                self.optimizers.add(node.attr)
            if not isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
                return
            node = node.func if isinstance(node, ast.Call) else node.value

    def _walk(self, st: _Stmt, found: dict) -> None:
        """Read a statement's facts from its nodes by kind (``found``)."""
        names, idents, stored, stores = st.names, st.idents, st.stored_attrs, st.stores
        Load = ast.Load
        got = found[ast.Name]
        names.update([n.id for n in got])
        stores.update([n.id for n in got if type(n.ctx) is not Load])
        got = found[ast.Attribute]
        idents.update([n.attr for n in got])
        stored.update([n.attr for n in got if type(n.ctx) is not Load])
        for n in found[ast.Call]:
            f = n.func
            if type(f) is ast.Attribute and f.attr in ("step", "zero_grad"):
                self._ask(f.value)
                for a in n.args:
                    self._ask(a)  # scaler.step(optimizer)
        idents.update(n.arg for n in found[ast.keyword] if n.arg is not None)
        names.update(n.arg for n in found[ast.arg])
        for n in found[ast.Constant]:
            value = n.value
            if isinstance(value, str) and value.isidentifier():
                names.add(value)
        for kind in (ast.Global, ast.Nonlocal):
            for n in found[kind]:
                st.marked = True
                names.update(n.names)
        for kind in (ast.Import, ast.ImportFrom):
            for n in found[kind]:
                facts = _import_facts(n)
                if n is st.node:
                    self.top_imports |= facts
                else:
                    st.imports |= facts
                for a in n.names:
                    idents.update(a.name.split("."))
                    if a.asname:
                        idents.add(a.asname)
        idents |= names
        defined = st.defined
        for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            for n in found[kind]:
                name = n.name
                if name not in idents:
                    defined.add(name)
                if kind is not ast.ClassDef:
                    st.defnames.add(name)
        idents |= defined
        for kind in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar, ast.MatchMapping):
            for n in found[kind]:
                name = n.rest if kind is ast.MatchMapping else n.name
                if name:
                    names.add(name)
                    stores.add(name)
        idents |= names
        words = " ".join(idents).lower()  # (no identifier holds a space: no part is found across two)
        st.zeroish = any(p in words for p in _ZEROING_PARTS)


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


def reduce(source: str, tree: ast.Module, rules, sites, parts: Optional[list] = None) -> Optional[Reduced]:
    """``source`` with the top-level functions and classes that nothing kept reaches blanked (see the module's
    documentation); None when every statement is kept.  ``rules`` are the rules that run on the file, ``sites``
    the file's summary (:func:`torchlint.analysis.sites.summarize`), ``parts`` the nodes of each top-level
    statement that its walk gathered (its ``parts``; walked again when not given)."""
    if not isinstance(tree, ast.Module) or not tree.body:
        return None
    lines = _split_lines(source)  # (the line breaks CPython counts: \n, \r\n and \r)
    scan = _Scan(tree, parts)
    hot = _sensitive_words(sites.aliases, FILE_WORDS)
    names = NAME_WORDS
    facts = {f for r in rules for f in getattr(r, "file_facts", ("aliasing", "training", "graphs"))}
    aliasing, training = "aliasing" in facts, "training" in facts
    if training:  # a function that calls a helper clearing gradients clears them too (training.py's helpers)
        zeroing = set().union(*(st.defnames for st in scan.stmts if st.zeroish))
        changed = True
        while changed:
            changed = False
            for st in scan.stmts:
                if not st.zeroish and not st.idents.isdisjoint(zeroing):
                    st.zeroish = changed = True
                    zeroing |= st.defnames
    keep = []
    seen_indent = False
    for st in scan.stmts:
        k = (not st.candidate or not seen_indent or st.marked or not st.idents.isdisjoint(hot)
             or not st.names.isdisjoint(names) or (training and (not st.stores.isdisjoint(scan.optimizers)
                                                                 or not st.stored_attrs.isdisjoint(scan.optimizers))))
        seen_indent = seen_indent or st.indents(lines)
        keep.append(k)
    while not all(keep):
        _close(scan, keep, aliasing, training)
        left = [i for i, k in enumerate(keep) if not k]
        # a group of dropped statements that mention each other is analysed together: it must hold no site
        held = False
        for group in _groups(scan, left):
            if _holds_site([scan.stmts[i] for i in group], rules, sites):
                for i in group:
                    keep[i] = True
                held = True
        if not held:
            break
    # the methods of the kept classes that nothing kept reaches (analysis/partial_methods.py)
    methods = blank_methods(scan, keep, lines, source, rules, sites, hot, names, training, _Stmt, _holds_site)
    if all(keep) and not methods:
        return None
    blank = [False] * (len(lines) + 2)
    for st, k in zip(scan.stmts, keep):
        if not k:
            for line in range(st.start, st.end + 1):
                blank[line] = True
    for st, k in zip(scan.stmts, keep):
        if k and any(blank[line] for line in range(st.start, st.end + 1)):
            return None  # a kept statement shares a line with a dropped one (no real code does)
    stand_in = {}
    for start, end, text in methods:
        stand_in[start] = text
        for line in range(start, end + 1):
            blank[line] = True
    out, kept_chars = [], 0
    for i, line in enumerate(lines, 1):
        if blank[i]:
            body = line.rstrip("\r\n")
            text = stand_in.get(i, "")
            out.append(text + line[len(body):])
            kept_chars += len(text)
        else:
            out.append(line)
            kept_chars += len(line)
    if kept_chars > (1 - MIN_SAVED) * len(source):
        return None  # not worth it: a reduced file whose analysis runs out of budget is analysed twice
    dropped = [(st.start, st.end) for st, k in zip(scan.stmts, keep) if not k]
    return Reduced("".join(out), kept_chars, dropped, frozenset({"aliasing"} if aliasing else ()),
                   [(start, end) for start, end, _ in methods])


def _close(scan: _Scan, keep: list, aliasing: bool, training: bool) -> None:
    """Keep, to a fixed point, every dropped statement that binds a name a kept one mentions (a callee, a base, a
    decorator) or binds too, that mentions a name kept code other than an import binds (a caller, code that
    reads or changes module state), that defines a function kept code names while it may clear gradients (for
    the training-loop scans), or whose imports tell the project pass (or the aliasing guard) something the kept
    code's do not."""
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
                    or (training and st.zeroish and not st.defnames.isdisjoint(idents)) \
                    or any(f[0] not in keys or (aliasing and f[4] in names and f not in imports) for f in st.imports):
                keep[i] = True
                changed = True
        if not changed:
            return


def _groups(scan: _Scan, left: list) -> list:
    """The dropped statements in groups that mention each other's names."""
    return groups(left, lambda i: scan.stmts[i].binds, lambda i: scan.stmts[i].names)
