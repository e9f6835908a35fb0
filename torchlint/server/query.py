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

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


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
        walker = _Names()
        module.visit(walker)
        for occurrences in walker.scopes.values():
            segment: list = []
            rhs = None

            def close():
                values = [v for node in segment for v in self._values.get(node, ())]
                if rhs is not None:
                    values = list(self._values.get(rhs, ())) + values
                if values:
                    for node in segment:
                        if node not in self._values:
                            self._values[node] = values

            by_name: dict = {}
            for node, store, value in occurrences:
                by_name.setdefault(node.value, []).append((node, store, value))
            for occ in by_name.values():
                segment, rhs = [], None
                for node, store, value in occ:
                    if store:
                        close()
                        segment, rhs = [], value
                    segment.append(node)
                close()

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


class _Names(cst.CSTVisitor):
    """Every Name occurrence per scope, in source order, with whether it is assigned there."""

    def __init__(self):
        self.scopes: dict = {}
        self._stack: list = [None]
        self._stores: dict = {}  # Name node -> the right-hand side it was bound to (or None)

    def _scope(self):
        return self.scopes.setdefault(self._stack[-1], [])

    def _mark(self, target, value) -> None:
        if isinstance(target, cst.Name):
            self._stores[target] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._mark(el.value, None)
        elif isinstance(target, cst.StarredElement):
            self._mark(target.value, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._mark(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._mark(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._mark(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._mark(node.target, None)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._mark(node.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._mark(node.target, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._mark(node.name, None)

    def visit_Name(self, node: cst.Name) -> None:
        self._scope().append((node, node in self._stores, self._stores.get(node)))

    def visit_Attribute(self, node: cst.Attribute) -> Optional[bool]:
        node.value.visit(self)  # ``attr`` in ``x.attr`` is not a variable
        return False

    def visit_Arg(self, node: cst.Arg) -> Optional[bool]:
        node.value.visit(self)  # nor is the keyword in ``f(x=1)``
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        for d in node.decorators:
            d.visit(self)
        self._stack.append(node)
        node.params.visit(self)
        node.body.visit(self)
        self._stack.pop()
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        for d in node.decorators:
            d.visit(self)
        for b in node.bases:
            b.visit(self)
        self._stack.append(node)
        node.body.visit(self)
        self._stack.pop()
        return False

    def visit_Lambda(self, node: cst.Lambda) -> Optional[bool]:
        self._stack.append(node)
        node.params.visit(self)
        node.body.visit(self)
        self._stack.pop()
        return False


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
