"""Walk CPython ``ast`` trees at the cost of the nodes, not of their fields.

``ast.walk`` (a generator frame per node, ``iter_fields`` over every field) and a loop over
``type(node)._fields`` with ``getattr``/``isinstance`` per field ask every field of every node: the name of
a ``Name``, its ``Load`` marker, the operator of a ``BinOp``, each position attribute's neighbours.  Over a
real file that was most of the site gate's cost, nearly as much as ``ast.parse`` itself.  Which fields can
hold a node is a property of the node *type*, and CPython documents each node class with its grammar
(ASDL) signature, ``Call(expr func, expr* args, keyword* keywords)``; :func:`_entry` reads it once per type
and keeps one :func:`operator.attrgetter` of exactly those fields.  A type whose signature it cannot read
falls back to asking every field, as before.

Every walk here leaves out the expression contexts (``Load``/``Store``/``Del``) and the operator markers
(``Add``, ``And``, ``Eq``, ``Not``, ...): leaves without a line that no reader of these walks looks at.
"""
from __future__ import annotations

import ast
from operator import attrgetter

# ASDL field types that never hold a node (builtins of the grammar) or hold only markers nobody reads
_PLAIN = frozenset({"identifier", "int", "string", "constant", "object", "bytes"})
_MARKERS = frozenset({"expr_context", "boolop", "operator", "unaryop", "cmpop"})

# how a node's children are fetched (see _entry)
_LEAF, _ONE, _MANY, _GENERIC, _LIST, _NONE, _BOOLOP, _COMPARE = range(8)


def _child_fields(kind: type):
    """The fields of ``kind`` that can hold a node or a list of nodes, in field order, from its ASDL signature;
    None when the signature cannot be read (or does not name exactly the type's ``_fields``)."""
    doc = kind.__doc__ or ""
    fields = getattr(kind, "_fields", None)
    if fields is None:
        return None
    if doc == kind.__name__ and not fields:  # ``Pass``, ``Load``, ``Add``
        return ()
    head, paren, rest = doc.partition("(")
    if head != kind.__name__ or not paren or not rest.endswith(")"):
        return None
    names, out = [], []
    for part in rest[:-1].split(","):
        typ, _, name = part.strip().partition(" ")
        names.append(name)
        base = typ.rstrip("*?")
        if not base.isidentifier() or not name.isidentifier():
            return None
        if base not in _PLAIN and base not in _MARKERS:
            out.append(name)
    return tuple(out) if tuple(names) == tuple(fields) else None


def _generic(node) -> list:
    """``node``'s children by asking every field (a type whose signature :func:`_child_fields` cannot read)."""
    out = []
    for name in type(node)._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(v for v in value if isinstance(v, ast.AST) and not _skipped(v))
        elif isinstance(value, ast.AST) and not _skipped(value):
            out.append(value)
    return out


def _skipped(node) -> bool:
    return isinstance(node, (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop))


# type -> (mode, getter, None); in the tables of :func:`collect` (one per tuple of kinds asked for, in _TABLES),
# a kind asked for has its index in that tuple in place of None
_ENTRIES: dict = {list: (_LIST, None, None), type(None): (_NONE, None, None), ast.BoolOp: (_BOOLOP, None, None),
                  ast.Compare: (_COMPARE, attrgetter("left", "comparators"), None)}


_TABLES: dict = {}


def _entry(kind: type) -> tuple:
    """(mode, getter, None) for a node type: no children (``_LEAF``), one field (``_ONE``: the getter gives its
    value, a node, a list or None), several (``_MANY``: the getter gives a tuple of them), or ``_GENERIC``."""
    entry = _ENTRIES.get(kind)
    if entry is None:
        fields = _child_fields(kind)
        if fields is None:
            entry = (_GENERIC, _generic, None)
        elif not fields:
            entry = (_LEAF, None, None)
        elif len(fields) == 1:
            entry = (_ONE, attrgetter(fields[0]), None)
        else:
            entry = (_MANY, attrgetter(*fields), None)
        _ENTRIES[kind] = entry
    return entry


def collect(tree: ast.AST, kinds=()) -> tuple:
    """({kind: [the nodes of that kind]} for each of ``kinds`` (exact types), nesting, longest chain) of the tree.

    Every node is visited once, breadth first, so a node comes after its parent in its kind's list.  Nesting
    is counted as LibCST nests (:mod:`torchlint.syntax.guards`): one level per node, and one more per extra
    operand of a boolean chain (``a and b and c`` is two nested operations in LibCST); the longest chain is
    the most operands of one boolean operation or comparison.  Iterative."""
    kinds = tuple(kinds)
    table = _TABLES.get(kinds)
    if table is None:
        table = _TABLES[kinds] = dict(_ENTRIES)
        for i, k in enumerate(kinds):
            table[k] = _entry(k)[:2] + (i,)
    buckets = [[] for _ in kinds]
    level = [tree]
    depth = deepest = longest = 0
    later: dict = {}  # depth -> the lists of operands of boolean chains that start there
    while True:
        nxt: list = []
        push, extend, grow = nxt.append, nxt.extend, level.extend
        lists = nones = 0
        for node in level:
            kind = type(node)
            try:
                entry = table[kind]
            except KeyError:
                entry = table[kind] = _entry(kind)
            mode, get, index = entry
            if index is not None:
                buckets[index].append(node)
            if mode == _LEAF:
                continue
            if mode == _ONE:
                push(get(node))
            elif mode == _MANY:
                extend(get(node))
            elif mode == _LIST:  # a field's list: its items are at this level too
                lists += 1
                grow(node)
            elif mode == _NONE:
                nones += 1
            elif mode == _COMPARE:
                n = len(node.ops) + 1
                if n > longest:
                    longest = n
                extend(get(node))
            elif mode == _BOOLOP:
                operands = node.values
                n = len(operands)
                if n > longest:
                    longest = n
                if n > 1:
                    later.setdefault(depth + n, []).append(operands)
                else:
                    push(operands)
            else:
                extend(get(node))
        if len(level) > lists + nones:
            deepest = depth
        depth += 1
        if later:
            more = later.pop(depth, None)
            if more:
                nxt.extend(more)
            if not nxt and later:
                depth = min(later)
                nxt = later.pop(depth)
        if not nxt:
            break
        level = nxt
    return dict(zip(kinds, buckets)), deepest, longest


def nodes(tree: ast.AST) -> list:
    """Every node of the tree (markers aside, see the module's documentation), the tree first, breadth first."""
    out = [tree]
    grow = out.extend
    lookup = _ENTRIES.get
    none, list_ = type(None), list
    keep = []
    for node in out:
        kind = type(node)
        if kind is list_:
            grow(node)
            continue
        if kind is none:
            continue
        keep.append(node)
        mode, get, _ = lookup(kind) or _entry(kind)
        if mode == _ONE:
            out.append(get(node))
        elif mode == _MANY or mode == _GENERIC:
            grow(get(node))
        elif mode == _BOOLOP:
            out.append(node.values)
        elif mode == _COMPARE:
            grow(get(node))
    return keep


def children(node: ast.AST) -> list:
    """The child nodes of ``node`` (markers aside), in field order."""
    mode, get, _ = _ENTRIES.get(type(node)) or _entry(type(node))
    if mode == _LEAF:
        return []
    if mode == _ONE:
        values = (get(node),)
    elif mode == _BOOLOP:
        values = (node.values,)
    else:
        values = get(node)
    if mode == _GENERIC:
        return values
    out = []
    for value in values:
        if type(value) is list:
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out
