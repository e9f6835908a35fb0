"""A fast pre-order walk over a LibCST tree.

``CSTNode.visit`` and ``CSTNode.children`` rebuild nodes through the visitor
machinery, which costs more than parsing on large files.  Rules that only need
to *find* nodes walk the dataclass fields directly, skipping whitespace and
punctuation.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, Optional

import libcst as cst

_SKIP = {"lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header", "footer",
         "equal", "colon", "dot", "newline", "indent", "lbracket", "rbracket", "lbrace", "rbrace", "asynchronous",
         "arrow", "star_tok"}
_FIELDS: dict = {}


def _fields(t) -> tuple:
    names = _FIELDS.get(t)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(t)
                      if f.name not in _SKIP and not f.name.startswith("whitespace"))
        _FIELDS[t] = names
    return names


# type -> 1 (a node), 2 (a list or tuple), 0 (anything else): ``isinstance(v, cst.CSTNode)`` goes through
# ``ABCMeta.__instancecheck__`` (CSTNode is an ABC), a large share of a walk's cost when asked per field
_KINDS: dict = {list: 2, tuple: 2, type(None): 0, str: 0}


def _kind(t) -> int:
    k = _KINDS.get(t)
    if k is None:
        k = _KINDS[t] = 1 if issubclass(t, cst.CSTNode) else 2 if issubclass(t, (list, tuple)) else 0
    return k


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return iter(child_list(node))


def child_list(node) -> list:
    """:func:`children` as a list (a new one)."""
    kinds, out = _KINDS, []
    fields = _FIELDS.get(type(node)) or _fields(type(node))
    for name in fields:
        v = getattr(node, name)
        k = kinds.get(type(v))
        if k is None:
            k = _kind(type(v))
        if k == 1:
            out.append(v)
        elif k == 2:
            for x in v:
                k = kinds.get(type(x))
                if k == 1 or k is None and _kind(type(x)) == 1:
                    out.append(x)
    return out


_FULL_WALKS: list = []  # [(root, nodes)]: the last few whole-tree walks, shared by every rule of a file


def walk(node: cst.CSTNode, prune=()) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), pre-order; subtrees of types in ``prune`` are not entered.

    A whole-module walk is computed once and reused: several rules ask for it.
    """
    if not prune and isinstance(node, cst.Module):
        for root, nodes in _FULL_WALKS:
            if root is node:
                return iter(nodes)
        nodes = list(_walk(node, ()))
        _FULL_WALKS.insert(0, (node, nodes))
        del _FULL_WALKS[2:]
        return iter(nodes)
    return _walk(node, prune)


def forget() -> None:
    """Drop the kept whole-tree walks (the engine, once a file's rules are done: its tree is freed now)."""
    _FULL_WALKS.clear()


_EXACT: dict = {}  # prune tuple -> the same classes as a frozenset, when none of them has a subclass


def _exact(prune) -> Optional[frozenset]:
    if type(prune) is not tuple:
        return None
    try:
        return _EXACT[prune]
    except KeyError:
        pass
    exact = _EXACT[prune] = None if any(c.__subclasses__() for c in prune) else frozenset(prune)
    return exact


def _walk(node, prune):
    exact = _exact(prune) if prune else None
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if prune and n is not node and (type(n) in exact if exact is not None else isinstance(n, prune)):
            continue
        kids = child_list(n)
        kids.reverse()
        stack.extend(kids)


def function_defs(node) -> Iterator[cst.FunctionDef]:
    """Every ``def`` under ``node`` (a module or a statement), nested ones included, in source order.  Only
    statements are entered, never an expression: a ``def`` is always a statement of a block."""
    stack = [node]
    while stack:
        n = stack.pop()
        if type(n) is cst.FunctionDef:
            yield n
        kids = []
        for name in _BLOCK_FIELDS:
            v = getattr(n, name, None)
            if v is None:
                continue
            for x in (v if type(v) in (list, tuple) else (v,)):
                if type(x) is cst.IndentedBlock:
                    kids.extend(x.body)
                elif type(x) not in _SIMPLE:
                    kids.append(x)  # an elif (If), else, except, finally, case, or a statement of a block
        kids.reverse()
        stack.extend(kids)


# the fields that hold statements (or the blocks, elifs and clauses that hold them)
_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")  # (in source order)
_SIMPLE = (cst.SimpleStatementLine, cst.SimpleStatementSuite)  # (small statements: never a def)


def enclosing_functions(node, targets: set) -> set:
    """The ``def``s under ``node`` whose body holds one of ``targets`` (at any depth, through nested ones)."""
    out: set = set()
    stack = [(node, ())]
    while stack:
        n, fns = stack.pop()
        if n in targets:
            out.update(fns)
        if type(n) is cst.FunctionDef:
            body, inner = n.body, fns + (n,)
            stack.extend((k, inner if k is body else fns) for k in child_list(n))
        else:
            stack.extend((k, fns) for k in child_list(n))
    return out


def dotted(node) -> str:
    """``a.b.c`` for a chain of names; ``""`` for anything else.  A chain on top of something that is not a
    name keeps its attribute part with a leading dot (``f().x`` gives ``".x"``)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


_CODE_MODULE = cst.Module(body=[])


def short_code(node) -> Optional[str]:
    """The source of ``node`` on one line, cut to 60 characters (for messages), or None."""
    try:
        code = _CODE_MODULE.code_for_node(node)
    except Exception:
        return None
    code = " ".join(code.split())
    return code if len(code) <= 60 else code[:57] + "..."


_EARLY_EXITS = (cst.Break, cst.Continue, cst.Return, cst.Raise, cst.Yield, cst.Await)


def ends_early(body) -> bool:
    """Can a run of ``body`` (a loop iteration) end before its last statement (break, continue, return,
    raise, yield)? Nested functions, classes and lambdas do not count."""
    return any(isinstance(n, _EARLY_EXITS) for n in walk(body, prune=(cst.FunctionDef, cst.ClassDef, cst.Lambda)))


def literal_range_count(it) -> Optional[int]:
    """How many numbers ``range(n)`` / ``range(a, b)`` with integer literals yields; None for anything else."""
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range" and it.args
            and len(it.args) <= 2 and all(isinstance(a.value, cst.Integer) and a.keyword is None for a in it.args)):
        return None
    try:
        nums = [a.value.evaluated_value for a in it.args]  # 0x10, 1_000, 0o7 as Python reads them
    except ValueError:  # a literal of more digits than int() accepts
        return None
    return nums[0] if len(nums) == 1 else nums[1] - nums[0]
