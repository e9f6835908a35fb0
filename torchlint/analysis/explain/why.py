"""Why a value is Unknown (or a tensor's size is): walk back from an expression to the construct that made it so.

The walk reads only what the interpreter recorded (the :class:`CallEvent` of
every call it evaluated, what each ``return`` returned, ``truncated``) and the
tree: from a name to the statement that bound it, from a call to its callee,
its arguments or the ``return`` of the user function it ran, from an attribute
or an item to its base, until it reaches a construct torchlint cannot see
through: an import from another module, ``**kwargs`` it cannot expand, a
parameter no call gives a value, an operation its PyTorch model has no rule
for, a call the analysis budget cut short, code it never reached.

The result is a :class:`Why`: the steps walked (``loss = criterion(out, y)``)
and the cause, each with its node for the line number.
"""
from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst

from torchlint.analysis.cstwalk import dotted, short_code, walk
from torchlint.analysis.explain.bindings import Resolver
from torchlint.analysis.explain.facts import is_unknown
from torchlint.analysis.values import (
    UNKNOWN_VERDICT,
    BoundMethod,
    ClassValue,
    DictValue,
    Function,
    Instance,
    ModuleRef,
    Seq,
    Tensor,
    TorchObject,
    UnknownValue,
    UserBound,
    format_shape,
    join_all,
)

MAX_STEPS = 60  # nodes walked (most steps, like ``a.b`` to ``a``, say nothing)
MAX_SHOWN = 20  # steps listed
_LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)


# The kind of construct a cause names (for ``--statistics``), by the words its message uses.
CAUSE_KINDS = (
    ("sees no attribute", "attribute"), ("budget", "analysis budget"), ("never evaluated", "code not analysed"), ("user calls deep", "call depth"),
    ("recursion", "recursion"), ("another module", "import from another module"),
    ("part of PyTorch", "PyTorch API model"), ("API model", "PyTorch API model"), ("forwards", "*args/**kwargs"),
    ("is a parameter", "parameter"), ("attribute", "attribute"), ("key", "dict key"), ("not bound", "unbound name"),
    ("iterates over", "iteration"), ("unpacked", "unpacking"), ("cannot build", "unknown base class"),
    ("derives from", "unknown base class"), ("whose call torchlint cannot see", "unknown base class"),
    ("paths meet", "undecided branch"),
)


@dataclass
class Why:
    cause: str
    node: object = None
    steps: list = field(default_factory=list)  # [(text, node)]

    @property
    def kind(self) -> str:
        return next((kind for words, kind in CAUSE_KINDS if words in self.cause), "other")


def unknown_value(v) -> bool:
    return is_unknown(v)


def unknown_size(v) -> bool:
    """Unknown, or a tensor whose element count is unknown (no verdict)."""
    return is_unknown(v) or (isinstance(v, Tensor) and v.verdict == UNKNOWN_VERDICT)


class Explainer:
    """Answers "why is this Unknown?" for the expressions of one analysed file."""

    def __init__(self, ctx, index):
        self.ctx = ctx
        self.analysis = ctx.analysis
        self.index = index  # torchlint.server.query.ValueIndex: node -> recorded values
        self.resolver = Resolver(ctx.module, self._position)
        self._entered = None
        self._pred = unknown_value

    # -- looking up ----------------------------------------------------------

    def _position(self, node):
        r = self.ctx.code_range(node)
        return r.start.line, r.start.column

    def code(self, node, limit: int = 40) -> str:
        try:
            return self.ctx.short_code(node, limit)
        except (KeyError, TypeError):  # a node without a position, or whose lpar is not a list (imports)
            text = short_code(node) or type(node).__name__
            return text if len(text) <= limit else text[: limit - 3] + "..."

    def value_of(self, node):
        """The value recorded for ``node`` (joined over the contexts: unknown when it is unknown in one of them),
        else, for a name, an attribute or an item, what its base's value gives; None when nothing is known."""
        values = self.index._values.get(node)
        if not values:
            values = [e.result for e in self.analysis.calls.get(node, ())]
        if values:
            joined = join_all(values)
            if isinstance(joined, UnknownValue) and not any(isinstance(v, UnknownValue) for v in values):
                # known in every context, but not alike: two instances of a class (the one a call built, the
                # one the method was analysed with on its own), a tensor and a list, ...
                return next((v for v in values if not getattr(v, "generic", False)), values[0])
            return joined
        if isinstance(node, cst.Attribute):
            base = self.value_of(node.value)
            attr = node.attr.value
            if isinstance(base, Instance):
                return base.attrs.get(attr)
            if isinstance(base, TorchObject):
                return base.attr(attr, None)
            if isinstance(base, ModuleRef):
                return ModuleRef(f"{base.qual}.{attr}")
        return None

    def entered(self) -> set:
        """Call nodes from which the interpreter entered a user function (they are on some event's stack)."""
        if self._entered is None:
            out = set()
            for events in self.analysis.calls.values():
                for e in events:
                    out.update(n for _, n in e.stack if n is not None)
            self._entered = out
        return self._entered

    # -- the walk ----------------------------------------------------------------

    def why(self, node, pred: Callable = unknown_value) -> Why:
        self._pred = pred
        steps: list = []
        seen: set = set()
        for _ in range(MAX_STEPS):
            if id(node) in seen:
                return Why("its value depends on itself (a cycle torchlint does not resolve)", node, steps)
            seen.add(id(node))
            if node not in self.resolver.parent and node is not self.ctx.module:
                # a function of another module of the project, which the interpreter followed
                return Why(f"`{short_code(node) or '...'}` is computed in another module of the project", None,
                           steps)
            nxt = self._step(node, pred)
            if isinstance(nxt, Why):
                nxt.steps = steps + nxt.steps
                return nxt
            text, node = nxt
            if text:
                steps.append((text, node))
                if len(steps) >= MAX_SHOWN:
                    break
        return Why(f"`{self.code(node)}` is several steps further back", node, steps)

    def _step(self, node, pred):
        """One step back from ``node``: (step text or "", next node), or the :class:`Why` that ends the walk."""
        while isinstance(node, (cst.Await,)):
            node = node.expression
        if isinstance(node, cst.Name):
            return self._name(node, pred)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, pred)
        if isinstance(node, cst.Call):
            return self._call(node, pred)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, pred)
        if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
            side = self._suspect((node.left, node.right), pred)
            if side is not None:
                return "", side
            return Why(f"torchlint does not model `{self.code(node)}` on these operands", node)
        if isinstance(node, cst.UnaryOperation):
            return "", node.expression
        if isinstance(node, (cst.IfExp, cst.Tuple, cst.List)):
            parts = (node.body, node.orelse) if isinstance(node, cst.IfExp) else [el.value for el in node.elements]
            part = self._suspect(parts, pred)
            if part is not None:
                return "", part
        if isinstance(node, _LITERALS):  # known itself: the walk came here through a name other paths also set
            return Why(f"`{self.code(node)}` is a constant, but where the paths meet other values reach it too (set "
                       f"on a branch or a loop iteration torchlint cannot decide), and together they are unknown", node)
        return Why(f"torchlint does not evaluate {_kind_of(node)} like `{self.code(node)}`", node)

    def _suspect(self, parts, pred):
        """The operand to follow back: one whose value is the kind asked about, else one with no recorded
        value that is not a literal (``2`` in ``2 * x`` is known even though no value was recorded for it)."""
        values = [self.value_of(p) for p in parts]
        for p, v in zip(parts, values):
            if v is not None and pred(v):
                return p
        return next((p for p, v in zip(parts, values) if v is None and not isinstance(p, _LITERALS)), None)

    def _name(self, name: cst.Name, pred):
        b = self.resolver.resolve(name)
        n = name.value
        if b is None:
            if any(isinstance(s, cst.ImportFrom) and isinstance(s.names, cst.ImportStar) for s in walk(self.ctx.module)
                   if isinstance(s, cst.ImportFrom)):
                return Why(f"`{n}` is not bound in this file; it may come from a `from ... import *`", name)
            return Why(f"`{n}` is not bound in this file", name)
        if b.kind in ("assign", "walrus"):
            return f"`{n} = {self.code(b.value)}`", b.value
        if b.kind == "augassign":
            return f"`{n} {self.code(b.node.operator).strip() or '?='} {self.code(b.value)}`", b.value
        if b.kind == "unpack":
            v = self.value_of(b.value)
            if v is not None and not pred(v):
                return Why(f"`{n}` is unpacked from `{self.code(b.value)}` ({v.describe()}), whose parts torchlint "
                           f"cannot tell apart", b.node)
            return f"`{n}` is unpacked from `{self.code(b.value)}`", b.value
        if b.kind in ("for", "comp"):
            v = self.value_of(b.value)
            if v is not None and not pred(v):
                events = self.analysis.calls.get(b.value) if isinstance(b.value, cst.Call) else None
                step = self._unknown_argument(b.value, events[0], unknown_value) if events else None
                if step is not None:  # enumerate(loader), zip(xs, ys): what they wrap is Unknown
                    return f"`{n}` iterates over `{self.code(b.value)}`; " + step[0], step[1]
                return Why(f"`{n}` iterates over `{self.code(b.value)}` ({_describe(v)}), whose elements torchlint "
                           f"does not know", b.node)
            return f"`{n}` iterates over `{self.code(b.value)}`", b.value
        if b.kind == "with":
            return Why(f"`{n}` is bound by `with {self.code(b.value)} as {n}`; torchlint does not follow context "
                       f"managers' values", b.node)
        if b.kind == "except":
            return Why(f"`{n}` is an exception caught by `except`", b.node)
        if b.kind == "import":
            return Why(self._import_cause(n, b.node), b.node)
        if b.kind == "param":
            return self._param(name, b)
        if b.kind == "def":
            return Why(f"`{n}` is the {'class' if isinstance(b.node, cst.ClassDef) else 'function'} defined here",
                       b.node)
        return Why(f"`{n}` is bound where torchlint does not follow it", b.node)

    def _import_cause(self, n: str, stmt) -> str:
        text = self.code(stmt, 60) if stmt is not None else n
        if isinstance(stmt, cst.ImportFrom):
            if stmt.relative:
                return f"`{n}` comes from another module of the package: `{text}`"
            mod = dotted(stmt.module) if stmt.module is not None else ""
        else:
            mod = next((dotted(a.name) for a in stmt.names
                        if (a.asname is not None and a.asname.name.value == n)
                        or dotted(a.name).split(".")[0] == n), n)
        if mod == "torch" or mod.startswith("torch."):
            return f"`{n}` comes from `{text}`: a part of PyTorch that torchlint's API model does not know"
        return f"`{n}` comes from another module: `{text}`"

    def _param(self, name: cst.Name, b):
        fn = b.scope
        fname = fn.name.value if isinstance(fn, cst.FunctionDef) else "<lambda>"
        n = name.value
        callers = [(call, e, t[2]) for call, events in self.analysis.calls.items() for e in events
                   for t in [_target_function(e.callee)] if t is not None and t[1] is fn]
        if not callers:
            return Why(f"`{n}` is a parameter of `{fname}()`, and no call in this file passes it (torchlint analysed "
                       f"the function with unknown arguments)", b.node)
        # the first followed call whose argument for this parameter is unknown
        entered = self.entered()
        for call, e, bound in callers:
            arg = _argument_for(call, fn, b.node, bound)
            if arg is None or call not in entered:
                continue
            v = self.value_of(arg)
            if v is None or self._pred(v):
                return f"`{n}` is a parameter of `{fname}()`, given `{self.code(arg)}`", arg
        if not any(call in entered for call, _, _ in callers):
            call, e, _ = callers[0]
            target = _target_function(e.callee)
            cut = self._cut(call, e, target[0], fn) if target is not None else None
            if cut is not None:
                return Why(f"`{n}` is a parameter of `{fname}()`, analysed only on its own: {cut.cause}", call)
        return Why(f"`{n}` is a parameter of `{fname}()`: the calls in this file give it known values, but "
                   f"torchlint also analyses the function on its own, with unknown arguments", b.node)

    def _attribute(self, node: cst.Attribute, pred):
        base = self.value_of(node.value)
        attr = node.attr.value
        if is_unknown(base) and isinstance(node.value, cst.Name):
            cls = self._self_class(node.value)
            if cls is not None:  # self.attr in a method: what the class stores there
                store = self._attribute_store(cls, attr)
                if store is not None:
                    return f"`self.{attr} = {self.code(store.value)}`", store.value
                return Why(f"`{self.code(node)}`: torchlint sees no attribute `{attr}` set on `{cls.name.value}` "
                           f"(a base class or another module may set it)", node)
        if base is None or isinstance(base, UnknownValue):
            return "", node.value
        if isinstance(base, ModuleRef):
            q = f"{base.qual}.{attr}"
            if q.startswith("torch.") or not q.startswith("builtins."):
                return "", node.value  # the import that bound the module explains it
        if isinstance(base, Instance):
            store = self._attribute_store(base.cls.node, attr)
            if store is not None:
                return f"`self.{attr} = {self.code(store.value)}`", store.value
            return Why(f"`{self.code(node)}`: torchlint sees no attribute `{attr}` set on `{base.cls.name}` "
                       f"(a base class or another module may set it)", node)
        if isinstance(base, TorchObject):
            return Why(f"torchlint does not know the attribute `{attr}` of `{base.qual}`", node)
        if isinstance(base, Tensor):
            return Why(f"torchlint does not model the tensor attribute `.{attr}`", node)
        return Why(f"torchlint does not know the attribute `{attr}` of {_describe(base)}", node)

    def _self_class(self, name: cst.Name):
        """The class whose method binds ``name`` as its first parameter (``self``), or None."""
        b = self.resolver.resolve(name)
        if b is None or b.kind != "param" or not isinstance(b.scope, cst.FunctionDef):
            return None
        params = list(b.scope.params.posonly_params) + list(b.scope.params.params)
        if not params or params[0] is not b.node:
            return None
        return self.resolver.class_of(b.scope)

    def _attribute_store(self, cls_node, attr: str):
        for n in walk(cls_node):
            if isinstance(n, cst.Assign):
                for t in n.targets:
                    tt = t.target
                    if isinstance(tt, cst.Attribute) and tt.attr.value == attr and isinstance(tt.value, cst.Name) \
                            and tt.value.value == "self":
                        return n
        return None

    def _subscript(self, node: cst.Subscript, pred):
        base = self.value_of(node.value)
        if base is None or isinstance(base, UnknownValue):
            return "", node.value
        key = self.code(node.slice[0].slice) if len(node.slice) == 1 else "..."
        if isinstance(base, DictValue):
            return Why(f"`{self.code(node)}`: the key {key} of `{self.code(node.value)}` is not set on every path "
                       f"torchlint sees", node)
        if isinstance(base, Seq):
            return Why(f"`{self.code(node.value)}` is a {base.kind} whose items torchlint does not know", node)
        return Why(f"torchlint does not model indexing {_describe(base)} with `{key}`", node)

    def _call(self, call: cst.Call, pred):
        events = self.analysis.calls.get(call)
        what = self.code(call)
        if not events:
            if self.analysis.truncated:
                return Why(f"the analysis budget ran out before `{what}` was reached", call)
            return Why(f"torchlint never evaluated `{what}` (code it does not run)", call)
        picked = next((e for e in events if pred(e.result)), events[0])
        callee = picked.callee
        if isinstance(callee, UnknownValue):
            return "", call.func
        star = next((a for a in call.args if a.star), None)
        if star is not None and not _expanded(self.value_of(star.value)):
            kind = "**kwargs" if star.star == "**" else "*args"
            return Why(f"`{what}` forwards {kind} (`{self.code(star.value, 30)}`) that torchlint cannot expand", call)
        if pred is not unknown_value and isinstance(picked.result, Tensor):
            if isinstance(callee, BoundMethod) and isinstance(callee.receiver, Tensor) and pred(callee.receiver):
                return "", call.func.value if isinstance(call.func, cst.Attribute) else call.func
            step = self._unknown_argument(call, picked, pred)
            if step is not None:
                return step
        if isinstance(callee, ModuleRef):
            q = callee.qual
            if q.startswith("torch.") or q == "torch":
                return self._unknown_argument(call, picked, pred) or Why(
                    f"torchlint's PyTorch API model gives no {'value' if pred is unknown_value else 'size'} for "
                    f"`{q}` here", call)
            if q.startswith("builtins."):
                return self._unknown_argument(call, picked, pred) or Why(
                    f"torchlint does not model the builtin `{q[9:]}()` on these arguments", call)
            return "", call.func  # the import of the callee explains it
        if isinstance(callee, BoundMethod):
            recv = callee.receiver
            if isinstance(recv, Tensor):
                on = " on a tensor of unknown shape" if recv.shape is None else ""
                return self._unknown_argument(call, picked, pred) or Why(
                    f"torchlint's PyTorch API model gives no {'value' if pred is unknown_value else 'size'} for "
                    f"`Tensor.{callee.name}()`{on} here", call)
            if isinstance(recv, DictValue) and callee.name == "get":
                return Why(f"`{what}`: the key is not set on every path torchlint sees", call)
            return Why(f"torchlint does not model `.{callee.name}()` on {_describe(recv)}", call)
        if isinstance(callee, TorchObject):
            return self._unknown_argument(call, picked, pred) or Why(
                f"torchlint does not model calling `{callee.qual}` on these arguments", call)
        target = _target_function(callee)
        if target is not None and not isinstance(callee, ClassValue):
            return self._user_call(call, picked, target[0], target[1], pred)
        if isinstance(callee, ClassValue):
            bases = [self.code(a.value) for a in callee.node.bases
                     if not isinstance(self.value_of(a.value), (ClassValue, ModuleRef))]
            base = self._class_base(callee)
            if base is not None:
                root = base
                while isinstance(root, cst.Attribute):
                    root = root.value
                bound = self.resolver.resolve(root) if isinstance(root, cst.Name) else None
                if bound is not None and bound.kind == "import":
                    return Why(f"`{callee.name}` derives from `{self.code(base)}`: "
                               + self._import_cause(root.value, bound.node), base)
                if bound is None and isinstance(root, cst.Name) and hasattr(builtins, root.value):
                    return Why(f"`{callee.name}` derives from the builtin `{root.value}`, whose methods torchlint "
                               f"does not model (cannot build a `{callee.name}`)", base)
                return f"`{callee.name}` derives from `{self.code(base)}`", base
            return Why(f"torchlint cannot build a `{callee.name}`" + (f" (base {', '.join(bases)})" if bases else ""),
                       call)
        if isinstance(callee, Instance):
            return Why(f"`{self.code(call.func)}` is a `{callee.cls.name}` whose call torchlint cannot see (no "
                       f"`forward` or `__call__` in the file)", call)
        return Why(f"torchlint does not know what calling {_describe(callee)} gives", call)

    def _class_base(self, cls: ClassValue):
        for a in cls.node.bases:
            d = dotted(a.value)
            if d and not d.startswith(("nn.", "torch.")) and d not in ("object", "Module"):
                return a.value
        return None

    def _unknown_argument(self, call, event, pred):
        """Step into the first argument whose value is unknown, or None."""
        positional = [a for a in call.args if a.keyword is None and not a.star]
        for i, a in enumerate(positional):
            v = event.args[i] if i < len(event.args) else None
            if v is None or is_unknown(v) or (pred is not unknown_value and pred(v)):
                return f"argument `{self.code(a.value)}` of `{self.code(call.func)}`", a.value
        for a in call.args:
            if a.keyword is not None:
                v = event.kwargs.get(a.keyword.value)
                if v is None or is_unknown(v):
                    return f"argument `{a.keyword.value}={self.code(a.value)}` of `{self.code(call.func)}`", a.value
        return None

    def _user_call(self, call, event, name: str, node, pred):
        cut = self._cut(call, event, name, node)
        if cut is not None:
            return cut
        return self._returns_step(name, node, pred, call)

    def _cut(self, call, event, name: str, node) -> Optional[Why]:
        """Why the interpreter did not follow ``call`` into the user function ``node``, or None."""
        stack_quals = [q for q, _ in event.stack]
        if name in stack_quals:
            return Why(f"`{name}` calls itself, and torchlint cuts recursion off", call)
        from torchlint.analysis.interp import state

        depth = getattr(state, "MAX_DEPTH", None)
        if call not in self.entered() and isinstance(depth, int) and len(event.stack) >= depth:
            return Why(f"the call of `{name}` is {len(event.stack) + 1} user calls deep; torchlint follows "
                       f"{depth}", call)
        if call not in self.entered() and self.analysis.truncated and _has_calls(node):
            return Why(f"the call of `{name}` was cut short by the analysis budget", call)
        return None

    def why_returns(self, at, name: str, node, pred: Callable = unknown_value) -> Why:
        """Why what the user function ``node`` returns is unknown (``torch.func.grad(f)``: f's output)."""
        nxt = self._returns_step(name, node, pred, at)
        if isinstance(nxt, Why):
            return nxt
        why = self.why(nxt[1], pred)
        why.steps.insert(0, nxt)
        return why

    def _returns_step(self, name: str, node, pred, call):
        if isinstance(node, cst.Lambda):
            return f"`{name}` returns `{self.code(node.body)}`", node.body
        if any(isinstance(n, (cst.Yield,)) for n in walk(node.body, prune=(cst.FunctionDef, cst.ClassDef, cst.Lambda))):
            return Why(f"`{name}` is a generator; torchlint does not follow what it yields", call)
        returns = [n for n in walk(node.body, prune=(cst.FunctionDef, cst.ClassDef, cst.Lambda))
                   if isinstance(n, cst.Return) and n.value is not None]
        if not returns:
            return Why(f"`{name}` returns nothing torchlint sees", node)
        for ret in returns:
            values = self.analysis.returns.get(ret)
            if not values or any(pred(v) for v in values):
                return f"`{name}` returns `{self.code(ret.value)}`", ret.value
        shown = []
        for ret in returns:
            for v in self.analysis.returns.get(ret, ()):
                d = f"shape {format_shape(v.shape)}" if isinstance(v, Tensor) else _describe(v)
                if d not in shown:
                    shown.append(d)
        lines = ", ".join(str(self.ctx.line_of(r)) for r in returns)
        return Why(f"`{name}` returns {' and '.join(shown[:3])} on different paths (lines {lines}): together "
                   f"their size is unknown", node)


def _describe(v) -> str:
    d = v.describe() if hasattr(v, "describe") else type(v).__name__
    return d if d.startswith(("a ", "an ", "the ")) else f"a {d}"


def _kind_of(node) -> str:
    name = type(node).__name__
    return {"Lambda": "lambdas", "ListComp": "comprehensions", "GeneratorExp": "generator expressions",
            "DictComp": "comprehensions", "SetComp": "comprehensions", "Yield": "yield expressions"}.get(
        name, f"expressions ({name})")


def _expanded(v) -> bool:
    return (isinstance(v, DictValue) and v.complete) or (isinstance(v, Seq) and v.items is not None)


def _target_function(callee) -> Optional[tuple]:
    """(name, function node, whether ``self`` is bound) of the user code a call of ``callee`` runs, or None."""
    if isinstance(callee, Function):
        return callee.qual, callee.node, False
    if isinstance(callee, UserBound):
        return callee.func.qual, callee.func.node, True
    if isinstance(callee, (Instance, ClassValue)):
        cls = callee.cls if isinstance(callee, Instance) else callee
        names = ("__init__",) if isinstance(callee, ClassValue) else ("__call__", "forward")
        for want in names:
            for c in cls.mro():
                for stmt in c.node.body.body:
                    if isinstance(stmt, cst.FunctionDef) and stmt.name.value == want:
                        return f"{c.name}.{want}", stmt, True
    return None


def _argument_for(call: cst.Call, fn, param, bound: bool):
    """The argument expression of ``call`` that binds ``param`` of ``fn`` (None: a default, or unknown)."""
    if not isinstance(fn, (cst.FunctionDef, cst.Lambda)):
        return None
    params = fn.params
    positional = list(params.posonly_params) + list(params.params)
    name = param.name.value
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    if any(a.star for a in call.args):
        return None
    pos = [a for a in call.args if a.keyword is None]
    try:
        i = next(i for i, p in enumerate(positional) if p is param)
    except StopIteration:
        return None
    if bound:
        i -= 1
    return pos[i].value if 0 <= i < len(pos) else None


def _has_calls(node) -> bool:
    return any(isinstance(n, cst.Call) for n in walk(node))
