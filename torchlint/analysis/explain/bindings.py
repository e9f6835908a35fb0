"""Which statement gave a name its value at a use: a small resolver over the LibCST tree.

Good enough to explain a value, not to compute one: the binding is the last one
of the name in the use's scope before the use in source order (or, in a loop,
the last one after it), else the enclosing function's, else the module's, as
Python looks names up (class bodies are skipped from the methods they hold).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from torchlint.analysis.cstwalk import children, walk

SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


@dataclass
class Binding:
    kind: str  # 'assign', 'unpack', 'augassign', 'for', 'with', 'import', 'param', 'def', 'except', 'walrus', 'comp'
    node: cst.CSTNode  # the statement (or Param, alias, CompFor, ...) that binds
    name: cst.Name  # the bound name node
    value: Optional[cst.CSTNode] = None  # what was assigned (right-hand side, iterable, context manager)
    scope: Optional[cst.CSTNode] = None  # the FunctionDef/Lambda/ClassDef, or None for the module


class Resolver:
    """Parents, scopes and bindings of one module, built on first use."""

    def __init__(self, module: cst.Module, position):
        self.module = module
        self.position = position  # node -> (line, column)
        self.parent: dict = {}
        for node in walk(module):
            for child in children(node):
                self.parent[child] = node
        self._bindings: dict = {}  # scope node (or module) -> {name: [Binding]}

    def scope_of(self, node) -> Optional[cst.CSTNode]:
        """The function, lambda or class whose body holds ``node`` (None: the module)."""
        child, p = node, self.parent.get(node)
        while p is not None:
            if isinstance(p, (cst.FunctionDef, cst.ClassDef)) and child is not p.name \
                    and not isinstance(child, cst.Decorator) and not (isinstance(p, cst.ClassDef) and isinstance(child, cst.Arg)):
                # a parameter's default value belongs to the enclosing scope
                if not (isinstance(p, cst.FunctionDef) and child is p.params and _in_default(node, self.parent, p)):
                    return p
            if isinstance(p, cst.Lambda):
                return p
            child, p = p, self.parent.get(p)
        return None

    def enclosing(self, scope) -> Optional[cst.CSTNode]:
        """The scope a scope's names fall back to (class bodies are not visible from their methods)."""
        s = self.scope_of(scope)
        while isinstance(s, cst.ClassDef):
            s = self.scope_of(s)
        return s

    def bindings(self, scope) -> dict:
        key = scope if scope is not None else self.module
        found = self._bindings.get(key)
        if found is None:
            found = self._bindings[key] = _collect(scope if scope is not None else self.module, scope)
        return found

    def resolve(self, name: cst.Name) -> Optional[Binding]:
        """The binding that most likely gave ``name`` (a use) its value, or None (a builtin, undefined)."""
        scope = self.scope_of(name)
        where = self.position(name)
        first = True
        while True:
            found = self.bindings(scope).get(name.value, [])
            if found:
                if not first or isinstance(scope, cst.ClassDef):
                    return found[-1]
                before = [b for b in found if self.position(b.name) < where
                          and not (b.value is not None and _contains(b.value, name))]
                return before[-1] if before else found[-1]
            if scope is None:
                return None
            scope = self.enclosing(scope)
            first = False

    def function_of(self, node) -> Optional[cst.FunctionDef]:
        s = self.scope_of(node)
        while s is not None and not isinstance(s, cst.FunctionDef):
            s = self.scope_of(s)
        return s

    def class_of(self, fn) -> Optional[cst.ClassDef]:
        s = self.scope_of(fn)
        return s if isinstance(s, cst.ClassDef) else None


def _in_default(node, parent, fn) -> bool:
    p = node
    while p is not None and p is not fn:
        q = parent.get(p)
        if isinstance(q, cst.Param) and p is q.default:
            return True
        p = q
    return False


def _contains(root, node) -> bool:
    return any(n is node for n in walk(root))


def _collect(root, scope) -> dict:
    out: dict = {}

    def add(kind, stmt, target, value=None):
        if isinstance(target, cst.Name):
            out.setdefault(target.value, []).append(Binding(kind, stmt, target, value, scope))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                add("unpack" if kind == "assign" else kind, stmt, el.value, value)
        elif isinstance(target, cst.StarredElement):
            add(kind, stmt, target.value, value)

    if isinstance(root, (cst.FunctionDef, cst.Lambda)):
        params = root.params
        for p in (*params.posonly_params, *params.params, *params.kwonly_params):
            add("param", p, p.name)
        for p in (params.star_arg, params.star_kwarg):
            if isinstance(p, cst.Param):
                add("param", p, p.name)
    body = root.body if not isinstance(root, cst.Module) else root
    stack = [body]
    while stack:
        node = stack.pop()
        t = type(node)
        if t is cst.Assign:
            for target in node.targets:
                add("assign", node, target.target, node.value)
        elif t is cst.AnnAssign and node.value is not None:
            add("assign", node, node.target, node.value)
        elif t is cst.AugAssign:
            add("augassign", node, node.target, node.value)
        elif t is cst.For:
            add("for", node, node.target, node.iter)
        elif t is cst.CompFor:
            add("comp", node, node.target, node.iter)
        elif t is cst.WithItem and node.asname is not None:
            add("with", node, node.asname.name, node.item)
        elif t is cst.ExceptHandler and node.name is not None:
            add("except", node, node.name.name)
        elif t is cst.NamedExpr:
            add("walrus", node, node.target, node.value)
        elif t in (cst.Import, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.asname is not None:
                    add("import", node, alias.asname.name)
                else:
                    n = alias.name
                    while isinstance(n, cst.Attribute):
                        n = n.value
                    add("import", node, n)
        if node is not body and isinstance(node, SCOPES):
            if not isinstance(node, cst.Lambda):
                add("def", node, node.name)
            # decorators and defaults run in this scope
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                stack.extend(reversed(list(node.decorators)))
            continue
        kids = list(children(node))
        kids.reverse()
        stack.extend(kids)
    return out  # in source order: the walk is pre-order
