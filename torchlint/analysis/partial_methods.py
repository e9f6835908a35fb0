"""Parse less with LibCST inside the classes :func:`torchlint.analysis.partial.reduce` keeps: blank the methods
that nothing the rules ask about reaches.

A kept class is often one big pipeline or model of which one method holds a site.  Its other methods are
interpreted only on their own (with the class's generic ``self`` and unknown arguments), so, as for a dropped
top-level statement, their analysis adds facts to their own nodes only, provided that nothing kept reaches them
and that they reach nothing kept.  :func:`blank_methods` leaves out a ``def`` directly in the body of a kept
top-level class when, to a fixed point with the other methods it leaves out,

* it is ordinary: not special (``__x__``), not ``forward`` (``module(x)`` calls it), not decorated (a property
  runs when read; a decorator may register or wrap it); its name is bound once in the class body, the class's
  name once in the file (a unit's qualified name, ``C.m``, is what the project pass's roots name);
* no kept code names it: as a name, an attribute, a keyword or a string (``getattr(self, "m")``), and no
  optimizer stepped in the file has its name (the training-loop scans);
* it holds no site of a rule that runs (alone, and with the left-out methods that name each other), no word
  of :data:`~torchlint.analysis.partial.FILE_WORDS` (or an alias) or
  :data:`~torchlint.analysis.partial.NAME_WORDS`, no ``global``/``nonlocal``, no import, and none of
  :data:`REFLECTIVE` (``getattr``/``hasattr`` with a computed name, ``type(self)(...)``, ``self.__class__``
  would reach code by a name no scan sees);
* it stores no attribute (the class's generic ``self`` is shared by all its methods: what one stores, another
  reads, ``self.parameters()`` counts), and, for the training-loop scans, assigns no name of an optimizer;
* it mentions no name of the module's state (a name bound at module level other than by an import: a kept
  function or class, an object module code made), nor any member of kept code (a function or method defined
  in it, an attribute it stores, a name bound in a kept class's body): it calls nothing kept and reads nothing
  kept code made;
* it is not the first method of its class to take the generic ``self`` while a later one is kept: that
  method's analysis builds the generic ``self`` (the ``__init__`` run seals the objects it makes in that unit's
  epoch, interp/sealed.py), and the builder must stay the same.

A left-out method's lines become empty lines, except its ``def`` line, which becomes ``name =
__torchlint_blanked__`` at the method's indentation: the class's namespace keeps every name it had (what
``torch_base_alone`` and the seal test read; a class whose every statement is left out keeps a body), and the
name's value (:data:`torchlint.analysis.deferred.BLANKED`) asks for the whole file when anything looks it up
(a base class of another module calling it, a computed ``getattr``, ``hasattr``): the interpreter raises
:class:`torchlint.diagnostics.WholeFileNeeded` (interp/objects.py), and the engine analyses the whole file.
"""
from __future__ import annotations

import ast
from bisect import bisect_right

from torchlint.analysis.deferred import BLANKED_NAME
from torchlint.analysis.lazymodule import _bound_names
from torchlint.analysis.sites import STATEMENT_KINDS

# Names and attributes that reach a class's members by a name computed at run time, its bases or its
# constructor (``type(self)(...)``); ``getattr``/``hasattr`` count only with a computed name (a literal name is one
# of the method's names, which the fixed point reads)
REFLECTIVE = frozenset({"type", "__class__", "__self__", "__func__", "__get__", "__dict__", "__getattribute__",
                        "__mro__", "__bases__", "__subclasses__", "mro"})
_BY_NAME = frozenset({"getattr", "hasattr"})

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
# The fewest lines of a class's methods that may be left out worth splitting the class for
MIN_LINES = 20


def _special(name: str) -> bool:
    return name == "forward" or (name.startswith("__") and name.endswith("__"))


def _static(fn) -> bool:
    return any(type(d) is ast.Name and d.id == "staticmethod" for d in fn.decorator_list)


class _Class:
    """A kept top-level class: its methods that may be left out, and the rest of it (``rest``)."""

    __slots__ = ("first", "found", "index", "methods", "node", "rest", "rest_binds")

    def __init__(self, index, node, methods, found, rest, rest_binds, first):
        self.index, self.node, self.methods, self.found, self.rest = index, node, methods, found, rest
        self.rest_binds = rest_binds  # the names the class body binds but by its methods that may be left out
        self.first = first  # the method whose analysis builds the generic self, if it may be left out


def _buckets(found: dict, ranges: list) -> list:
    """``found`` (nodes by kind) split by line: one dict for the code outside ``ranges`` (sorted, disjoint line
    ranges), then one per range."""
    starts = [r[0] for r in ranges]
    out = [{k: [] for k in STATEMENT_KINDS} for _ in range(len(ranges) + 1)]
    for kind, nodes in found.items():
        for n in nodes:
            line = n.lineno
            i = bisect_right(starts, line) - 1
            out[i + 1 if i >= 0 and line <= ranges[i][1] else 0][kind].append(n)
    return out


def _classes(scan, keep: list, make_stmt) -> list:
    """The kept top-level classes with methods that may be left out, each split into its parts."""
    names: dict = {}
    for found in scan.found:
        for n in found[ast.ClassDef]:
            names[n.name] = names.get(n.name, 0) + 1
    out = []
    kept = [st for st, k in zip(scan.stmts, keep) if k]
    for i, (st, k) in enumerate(zip(scan.stmts, keep)):
        node = st.node
        if not k or type(node) is not ast.ClassDef or st.marked or names.get(node.name) != 1:
            continue
        bound: dict = {}
        binds = [_bound_names(b) for b in node.body]
        for names_of in binds:
            for name in names_of:
                bound[name] = bound.get(name, 0) + 1
        methods = [b for b in node.body if type(b) in _DEFS and not b.decorator_list and not _special(b.name)
                   and bound.get(b.name) == 1]
        # (one that another kept statement names stays: found before the class is split, which costs more)
        methods = [b for b in methods if not any(b.name in o.idents and b.name not in o.defined
                                                  for o in kept if o is not st)]
        if methods:  # (and one the rest of the class names as an attribute, self.m, stays)
            ranges = {b.name: (b.lineno, b.end_lineno or b.lineno) for b in methods}
            named = set()
            for n in scan.found[i][ast.Attribute]:
                r = ranges.get(n.attr)
                if r is not None and not any(a <= n.lineno <= z for a, z in ranges.values()):
                    named.add(n.attr)
            methods = [b for b in methods if b.name not in named]
        if sum((b.end_lineno or b.lineno) - b.lineno + 1 for b in methods) < MIN_LINES:
            continue
        rest_binds = set().union(*(names_of for b, names_of in zip(node.body, binds) if b not in methods))
        ranges = [(m.lineno, m.end_lineno or m.lineno) for m in methods]
        parts = _buckets(scan.found[i], ranges)
        rest = make_stmt(node)
        scan._walk(rest, parts[0])
        members = []
        for m, found in zip(methods, parts[1:]):
            ms = make_stmt(m)
            scan._walk(ms, found)
            members.append(ms)
        first = next((b for b in node.body if type(b) in _DEFS and not _static(b)), None)
        out.append(_Class(i, node, members, parts[1:], rest, rest_binds, first))
    return out


def blank_methods(scan, keep: list, lines: list, source: str, rules, sites, hot: set, names_words, training: bool,
                  make_stmt, holds_site) -> list:
    """[(first line, last line, stand-in line)] of the methods of kept classes to leave out (see the module's
    documentation); ``scan`` and ``keep`` are :func:`torchlint.analysis.partial.reduce`'s, after its fixed point."""
    if BLANKED_NAME in source:
        return []
    classes = _classes(scan, keep, make_stmt)
    if not classes:
        return []
    by_index = {c.index: c for c in classes}
    optimizers = scan.optimizers
    # the module's state: every name bound at module level other than by an import, kept or not (a left-out
    # statement that a method names is kept: see partial._close)
    state: set = set()
    for st, found in zip(scan.stmts, scan.found):
        if st.candidate:
            state |= st.binds
            if st.marked:
                state |= st.stores
        elif not st.import_only:  # (``if ...: import x`` binds x by an import only)
            imported = {a.asname or a.name.split(".")[0] for kind in (ast.Import, ast.ImportFrom)
                        for n in found[kind] for a in n.names}
            state |= (st.binds - imported) | st.stores
    blanked = set()  # the _Stmt of each method left out
    for c in classes:
        for m, found in zip(c.methods, c.found):
            if not (m.marked or m.imports or m.stored_attrs or not m.idents.isdisjoint(hot)
                    or not m.names.isdisjoint(names_words) or not m.idents.isdisjoint(REFLECTIVE)
                    or not m.names.isdisjoint(state) or m.node.name in optimizers
                    or (training and not m.stores.isdisjoint(optimizers))
                    or (not m.names.isdisjoint(_BY_NAME) and _computed_lookup(found))):
                blanked.add(m)
    while blanked:
        _close(scan, keep, classes, by_index, blanked)
        if not blanked:
            break
        held = False
        for group in groups(sorted(blanked, key=lambda m: m.start), lambda m: (m.node.name,), lambda m: m.idents):
            if holds_site(group, rules, sites):
                blanked.difference_update(group)
                held = True
        if not held:
            break
    out = []
    for c in classes:
        body = c.node.body
        for m in c.methods:
            if m not in blanked:
                continue
            k = body.index(m.node)
            start, end = m.node.lineno, m.node.end_lineno or m.node.lineno
            before = body[k - 1].end_lineno if k else c.node.lineno
            after = body[k + 1] if k + 1 < len(body) else None
            after = min([after.lineno] + [d.lineno for d in getattr(after, "decorator_list", ())]) if after else None
            line = lines[start - 1]
            if before >= start or (after is not None and after <= end) \
                    or not line[:m.node.col_offset].isspace():
                continue  # (shares a line with kept code: no real code does)
            out.append((start, end, f"{line[:m.node.col_offset]}{m.node.name} = {BLANKED_NAME}"))
    return out


def _computed_lookup(found: dict) -> bool:
    """Does the code look a member up by a name it computes (``getattr(self, name)``, ``hasattr(obj, k)``), or
    use ``getattr``/``hasattr`` otherwise than called?"""
    called = 0
    for n in found[ast.Call]:
        f = n.func
        if type(f) is ast.Name and f.id in _BY_NAME:
            called += 1
            if len(n.args) < 2 or n.keywords or not (type(n.args[1]) is ast.Constant and isinstance(n.args[1].value, str)):
                return True
    return called != sum(1 for n in found[ast.Name] if n.id in _BY_NAME)


def _close(scan, keep: list, classes: list, by_index: dict, blanked: set) -> None:
    """Keep, to a fixed point, every method of ``blanked`` that kept code names, that names a member of kept
    code, or that builds its class's generic ``self`` while a later method of the class is kept."""
    fixed = []  # the kept code that stays whatever methods are left out
    members: set = set()
    for i, (st, k) in enumerate(zip(scan.stmts, keep)):
        if not k:
            continue
        c = by_index.get(i)
        if c is None:
            fixed.append(st)
            if type(st.node) is ast.ClassDef:
                for b in st.node.body:
                    members |= _bound_names(b)
        else:
            fixed.append(c.rest)
            members |= c.rest_binds
    idents: set = set()
    for p in fixed:
        idents |= p.idents
        members |= p.defnames
        members |= p.stored_attrs
    own = {m: m.idents - m.defined for c in classes for m in c.methods if m in blanked}
    while True:
        kept = [m for c in classes for m in c.methods if m not in blanked]
        now_idents, now_members = set(idents), set(members)
        for m in kept:
            now_idents |= m.idents
            now_members |= m.defnames
            now_members |= m.stored_attrs
        changed = False
        for c in classes:
            kept_method = any(m not in blanked for m in c.methods) or len(c.methods) < sum(
                1 for b in c.node.body if type(b) in _DEFS and not _static(b))
            for m in c.methods:
                if m not in blanked:
                    continue
                name = m.node.name
                if (name in now_idents and any(name in p.idents and name not in p.defined for p in fixed + kept)) \
                        or not own[m].isdisjoint(now_members) or (m.node is c.first and kept_method):
                    blanked.discard(m)
                    changed = True
        if not changed:
            return


def groups(items: list, binds, mentions) -> list:
    """``items`` in groups (lists, in order) that mention each other: ``binds(item)`` are the names an item binds,
    ``mentions(item)`` those it mentions."""
    parent = list(range(len(items)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_name: dict = {}
    for i, item in enumerate(items):
        for name in binds(item):
            by_name.setdefault(name, []).append(i)
    for i, item in enumerate(items):
        for name in mentions(item):
            for j in by_name.get(name, ()):
                parent[find(i)] = find(j)
    out: dict = {}
    for i, item in enumerate(items):
        out.setdefault(find(i), []).append(item)
    return list(out.values())
