"""What the analysis knows about the expression under the cursor (for hovers).

A read-only query over the interpreter's :class:`Analysis`, the same facts the
rules read: every call it evaluated (:class:`CallEvent`: the callee, with the
receiver of a method; the argument values; the result), what each ``return``
returned, attribute stores and in-place writes.  From them an expression gets
its value when it is

* a call (its result), the receiver of a method call (``loss`` in
  ``loss.backward()``), an argument of a call, a returned expression, or the
  target of an attribute store or an in-place write;
* a name anywhere else (an assignment target, a use the interpreter did not
  record): the value recorded for the same name in the same scope between the
  same two assignments of it, in source order, and the value of the
  assignment's right-hand side when that was recorded.

Values from several contexts (each call site of a function, and the function
on its own) are joined, as the rules see them.  Nothing is evaluated again and
the tree is not changed.
"""
from __future__ import annotations

import bisect
import re
from typing import Optional

import libcst as cst

from torchlint.analysis.cstwalk import children
from torchlint.analysis.values import (
    LIKELY_NON_SCALAR,
    NON_SCALAR,
    SCALAR,
    BoundMethod,
    Const,
    Gathered,
    Number,
    PyConverted,
    Tensor,
    TorchObject,
    UnknownValue,
    format_shape,
    join_all,
)

class ValueIndex:
    """Expression values of one analysed file, looked up by character offset."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._values: dict = {}  # node -> [Value]
        self._record_events(ctx.analysis)
        self._record_names(ctx.module)
        spans = []
        for node in self._values:
            try:
                start, end = ctx.span(node)
            except KeyError:  # a node without a position (cannot happen for parsed code)
                continue
            spans.append((start, end, node))
        spans.sort(key=lambda s: (s[0], -s[1]))
        self._spans = spans
        self._starts = [s[0] for s in spans]

    # -- building --------------------------------------------------------------

    def _add(self, node, values) -> None:
        if node is None:
            return
        vals = [v for v in values if v is not None]
        if vals:
            self._values.setdefault(node, []).extend(vals)

    def _record_events(self, analysis) -> None:
        for call, events in analysis.calls.items():
            self._add(call, [e.result for e in events])
            if isinstance(call.func, cst.Attribute):
                self._add(call.func.value, [e.callee.receiver for e in events if isinstance(e.callee, BoundMethod)])
            if any(a.star for a in call.args):
                continue
            positional = [a for a in call.args if a.keyword is None]
            for i, arg in enumerate(positional):
                self._add(arg.value, [e.args[i] for e in events if i < len(e.args)])
            for arg in call.args:
                if arg.keyword is not None:
                    name = arg.keyword.value
                    self._add(arg.value, [e.kwargs.get(name) for e in events])
        for stmt, values in getattr(analysis, "returns", {}).items():
            if getattr(stmt, "value", None) is not None:
                self._add(stmt.value, values)
        for target, stores in getattr(analysis, "attr_stores", {}).items():
            self._add(target.value, [base for base, _ in stores])
            self._add(target, [value for _, value in stores])
        for target, writes in getattr(analysis, "inplace", {}).items():
            node = target.target if isinstance(target, cst.AugAssign) else target
            self._add(node, [before for before, _ in writes])

    def _record_names(self, module) -> None:
        """Give names the value recorded elsewhere between the same two assignments (see the module doc)."""
        by_name: dict = {}  # (scope, name) -> [(Name node, is a store, right-hand side)], in source order
        prune_cache(module.body)
        for stmt in module.body:
            for scope, node, store, rhs in name_occurrences(stmt):
                by_name.setdefault((scope, node.value), []).append((node, store, rhs))
        values = self._values
        for occurrences in by_name.values():
            segments, current = [], ([], None)
            for node, store, rhs in occurrences:
                if store:
                    segments.append(current)
                    current = ([], rhs)
                current[0].append(node)
            segments.append(current)
            for nodes, rhs in segments:
                known = [v for n in nodes for v in values.get(n, ())]
                if rhs is not None:
                    known = list(values.get(rhs, ())) + known
                if known:
                    for n in nodes:
                        if n not in values:
                            values[n] = known

    # -- querying --------------------------------------------------------------

    def at(self, offset: int):
        """(node, joined value) of the smallest expression with a known value around ``offset``, or None."""
        best = None
        i = bisect.bisect_right(self._starts, offset)
        for start, end, node in reversed(self._spans[:i]):
            if start <= offset < end or (start <= offset == end and isinstance(node, cst.Name)):
                if best is None or end - start < best[1] - best[0]:
                    best = (start, end, node)
            if best is not None and start < best[0] - 2000:
                break
        if best is None:
            return None
        node = best[2]
        return node, join_all(self._values[node])


_OCCURRENCES: dict = {}  # id(statement) -> (statement, occurrences); the statement is kept so its id stays its own
_MAX_CACHED = 20_000


def prune_cache(keep) -> None:
    """Forget the statements not in ``keep`` once the cache is large (LibCST nodes take no weak references)."""
    if len(_OCCURRENCES) > _MAX_CACHED:
        ids = {id(s) for s in keep}
        for k in [k for k in _OCCURRENCES if k not in ids]:
            del _OCCURRENCES[k]


def name_occurrences(stmt) -> list:
    """(scope, Name node, is a store, right-hand side or None) of every variable name in a top-level
    statement, in source order; the scope is the enclosing function, class or lambda node (None: the module).

    Cached per statement node: the incremental parser reuses the nodes of unchanged statements, so an edit
    walks only what it changed."""
    hit = _OCCURRENCES.get(id(stmt))
    if hit is None or hit[0] is not stmt:
        hit = _OCCURRENCES[id(stmt)] = (stmt, _walk_names(stmt))
    return hit[1]


def _walk_names(root) -> list:
    out: list = []
    stores: dict = {}  # Name node -> right-hand side (or None)
    stack = [(root, None)]
    while stack:
        node, scope = stack.pop()
        t = type(node)
        if t is cst.Name:
            out.append((scope, node, node in stores, stores.get(node)))
            continue
        if t is cst.Attribute:  # ``attr`` in ``x.attr`` is not a variable
            stack.append((node.value, scope))
            continue
        if t is cst.Arg:  # nor is the keyword in ``f(x=1)``
            stack.append((node.value, scope))
            continue
        kids = None
        if t is cst.FunctionDef or t is cst.ClassDef:
            inner = [(c, node) for c in children(node) if c is not node.name and not isinstance(c, cst.Decorator)
                     and not (t is cst.ClassDef and isinstance(c, cst.Arg))]
            outer = [(c, scope) for c in children(node) if isinstance(c, cst.Decorator)
                     or (t is cst.ClassDef and isinstance(c, cst.Arg))]
            kids = outer + inner
        elif t is cst.Lambda:
            kids = [(c, node) for c in children(node)]
        else:
            if t is cst.Assign:
                for target in node.targets:
                    _mark(target.target, node.value, stores)
            elif t is cst.AnnAssign and node.value is not None:
                _mark(node.target, node.value, stores)
            elif t is cst.AugAssign or t is cst.For:
                _mark(node.target, None, stores)
            elif t is cst.AsName:
                _mark(node.name, None, stores)
            elif t is cst.NamedExpr:
                _mark(node.target, node.value, stores)
            elif t is cst.Param:
                _mark(node.name, None, stores)
            kids = [(c, scope) for c in children(node)]
        stack.extend(reversed(kids))
    return out


def _mark(target, value, stores: dict) -> None:
    if isinstance(target, cst.Name):
        stores[target] = value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _mark(el.value, None, stores)
    elif isinstance(target, cst.StarredElement):
        _mark(target.value, None, stores)


# -- what a hover says ------------------------------------------------------------------


def _render(note, ctx) -> str:
    if note is None:
        return ""
    if hasattr(note, "render"):
        return note.render(ctx.line_of)
    return str(note)


def describe(node, value, ctx) -> Optional[str]:
    """Markdown for a hover on ``node`` whose joined value is ``value``; None when nothing is known."""
    if value is None or isinstance(value, UnknownValue):
        return None
    expr = ctx.short_code(node, 60)
    if isinstance(value, (Number, PyConverted)) and value.conv:
        return f"`{expr}`: a Python {getattr(value, 'kind', None) or getattr(value, 'what', 'object')}, made from a " \
               f"tensor by {value.conv}: it has no autograd graph"
    if isinstance(value, TorchObject):
        consts = ", ".join(f"{k}={v.value!r}" for k, v in value.attrs
                           if isinstance(v, Const) and v.value is not None)
        return f"`{expr}`: `{value.qual}`" + (f" ({consts})" if consts else "")
    if isinstance(value, Gathered):
        return f"`{expr}`: {value.describe()}: {_render(value.note, ctx)}"
    if not isinstance(value, Tensor):
        return None  # Python constants, modules, functions: nothing autograd-related to say
    lines = [f"`{expr}`: tensor"]
    n = value.verdict
    count = {SCALAR: "one element (a scalar for backward())", NON_SCALAR: "more than one element",
             LIKELY_NON_SCALAR: f"probably more than one element: {_render(value.likely, ctx)}"}.get(n, "unknown")
    lines.append(f"- shape: `{format_shape(value.shape)}` ({count})")
    lines.append(f"- dtype: {value.dtype or 'unknown'}")
    rg = {True: "True", False: "False", None: "unknown"}[value.requires_grad]
    if value.requires_grad is False and value.grad_note:
        rg += f" ({value.grad_note})"
    lines.append(f"- requires_grad: {rg}")
    if value.leaf:
        leaf = "yes"
    elif value.requires_grad is False:
        leaf = "yes (a tensor that does not require grad is a leaf)"
    elif value.requires_grad:
        leaf = "no (made by an operation autograd records)"
    else:
        leaf = "unknown"
    lines.append(f"- leaf: {leaf}")
    if value.per_element:
        lines.append("- one loss per element (not reduced)")
    origin = "; ".join(o for o in (_render(n, ctx) for n in value.origin) if o)
    if origin:
        lines.append(f"- origin: {origin}")
    return "\n".join(lines)


# ``# noqa: TL001, TL002``, ``# torchlint: ignore[TL001]``, ``# torchlint: noqa: TL001``
_DIRECTIVE = re.compile(r"#\s*(?:torchlint:\s*)?(?:noqa\s*:|ignore\[)(?P<codes>[^#\]]*)", re.I)
_CODE = re.compile(r"[A-Za-z]+\d+")


def noqa_code_at(line: str, column: int) -> Optional[tuple]:
    """(code, start column, end column) of the rule code of a suppression comment under ``column`` (0-based)."""
    for m in _DIRECTIVE.finditer(line):
        base = m.start("codes")
        for c in _CODE.finditer(m.group("codes")):
            start, end = base + c.start(), base + c.end()
            if start <= column <= end:
                return c.group().upper(), start, end
    return None


def rule_markdown(code: str) -> Optional[str]:
    """The rule's documentation, as ``torchlint rule CODE`` prints it."""
    from torchlint.registry import get_rule

    rule = get_rule(code)
    if rule is None:
        return None
    return (f"# {rule.name} ({rule.code})\n\n{rule.summary}.\n\nFix: {rule.fix}. "
            f"[Documentation]({rule.url()})\n\n{rule.doc.strip()}\n")
