"""Every autograd site of a file, with the values the interpreter recorded there.

Kinds:

* ``backward``: the backward sinks of :mod:`torchlint.analysis.sinks` (``t.backward()``,
  ``torch.autograd.backward``, framework wrappers, what a Lightning ``training_step``
  returns), and also the ``x.backward()`` calls whose receiver the interpreter could not
  evaluate (its value is Unknown) or never reached: those are the sites a rule is silent on;
* ``autograd.grad``: ``torch.autograd.grad(outputs, ...)`` (its outputs) and
  ``torch.autograd.functional.vjp(f, ...)`` (what ``f`` returns);
* ``func.grad``: ``torch.func.grad(f)(x)`` and ``grad_and_value`` (what ``f`` returns);
* ``inplace``: in-place writes on tensors (``w -= ...``, ``w[i] = ...``, ``w.add_(...)``);
* ``requires_grad``: ``requires_grad=`` keywords, ``.requires_grad_()``, ``x.requires_grad = ...``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from torchlint.analysis.cstwalk import dotted, walk
from torchlint.analysis.sinks import backward_sites, lightning_sites
from torchlint.analysis.values import UNKNOWN, BoundMethod, DictValue, ModuleRef, Tensor, TorchObject, UnknownValue

KINDS = ("backward", "autograd.grad", "func.grad", "inplace", "requires_grad")
_NOT_INPLACE = {"requires_grad_", "share_memory_", "detach_", "retain_grad_"}


@dataclass
class Site:
    kind: str
    via: str  # how it reaches autograd: "x.backward()", "torch.autograd.grad", "training_step return", ...
    node: cst.CSTNode  # where it is (the call, the statement, the returned expression)
    target: Optional[cst.CSTNode]  # the expression whose value is shown
    values: list = field(default_factory=list)  # its value in each analysed context
    reached: bool = True  # False: the interpreter never evaluated it
    note: Optional[str] = None  # e.g. "gradient= is given"
    func_target: object = None  # func.grad / vjp: the user function whose output is differentiated


def collect(ctx) -> list:
    """The autograd sites of one analysed file, in source order."""
    analysis, module = ctx.analysis, ctx.module
    out: list = []
    covered: set = set()
    for s in backward_sites(analysis):
        via = {"method": ".backward()", "function": "torch.autograd.backward", "framework":
               f"{ctx.short_code(s.call.func, 30)}()"}.get(s.kind, s.kind)
        out.append(Site("backward", via, s.call, s.target, list(s.values),
                        note="gradient= is given" if s.gradient_given else None))
        covered.add(s.call)
    lightning = {s.target for s in lightning_sites(module, analysis)}
    for ret in _training_step_returns(module):
        values = analysis.returns.get(ret, [])
        target = ret.value
        if isinstance(target, cst.Dict):
            entry = next((el for el in target.elements if isinstance(el, cst.DictElement)
                          and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == "loss"), None)
            if entry is None:
                continue
            target = entry.value
            values = [v.get("loss") if isinstance(v, DictValue) else UNKNOWN for v in values]
        elif target in lightning:
            values = [v for v in values if isinstance(v, Tensor)]
        elif any(not isinstance(v, UnknownValue) for v in values):
            continue  # a dict built elsewhere, None: not a loss torchlint follows
        out.append(Site("backward", "training_step return (Lightning)", target, target, list(values),
                        reached=bool(values)))
    calls = analysis.calls
    for node in walk(module):
        if isinstance(node, cst.Call):
            _call_sites(ctx, node, calls.get(node, []), covered, out)
    for node, writes in analysis.inplace.items():
        target = node.target if isinstance(node, cst.AugAssign) else node
        out.append(Site("inplace", _inplace_via(ctx, node), node, target, [before for before, _ in writes]))
    for target, stores in analysis.attr_stores.items():
        if target.attr.value == "requires_grad":
            out.append(Site("requires_grad", f"{ctx.short_code(target, 30)} = ...", target, target.value,
                            [base for base, _ in stores]))
    # only this file's sites (the interpreter also records what it ran in the project's other modules)
    out = [s for s in out if _position(ctx, s.node) is not None]
    out.sort(key=lambda s: _position(ctx, s.node))
    return out


def _position(ctx, node):
    try:
        r = ctx.code_range(node)
        return r.start.line, r.start.column
    except KeyError:
        return None


def _call_sites(ctx, call: cst.Call, events: list, covered: set, out: list) -> None:
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    reached = bool(events)
    # backward calls the sinks do not list: an Unknown receiver, or code the interpreter never reached
    if call not in covered and name in ("backward", "manual_backward") and isinstance(func, cst.Attribute):
        callees = [e.callee for e in events]
        if not callees or all(isinstance(c, UnknownValue) for c in callees):
            if dotted(func).endswith("autograd.backward"):
                target = call.args[0].value if call.args else None
                out.append(Site("backward", "torch.autograd.backward", call, target, [UNKNOWN] if reached else [],
                                reached))
            elif name == "backward":
                out.append(Site("backward", ".backward()", call, func.value, [UNKNOWN] if reached else [], reached))
            elif call.args:
                out.append(Site("backward", f"{ctx.short_code(func, 30)}()", call, call.args[0].value,
                                [UNKNOWN] if reached else [], reached))
    grad_events = [e for e in events if isinstance(e.callee, ModuleRef) and e.callee.qual == "torch.autograd.grad"]
    if grad_events or (not reached and dotted(func).endswith("autograd.grad")):
        target = _arg(call, 0, "outputs")
        values = [e.args[0] if e.args else e.kwargs.get("outputs", UNKNOWN) for e in grad_events]
        given = _arg(call, 2, "grad_outputs") is not None
        out.append(Site("autograd.grad", "torch.autograd.grad", call, target, values, reached,
                        note="grad_outputs= is given" if given else None))
    if any(isinstance(e.callee, ModuleRef) and e.callee.qual == "torch.autograd.functional.vjp" for e in events):
        outs = ctx.analysis.func_outputs.get(call, [])
        given = _arg(call, 2, "v") is not None
        out.append(Site("autograd.grad", "torch.autograd.functional.vjp", call, _arg(call, 0, "func"), list(outs),
                        note="v= is given" if given else None))
    transform = next((e.callee for e in events if isinstance(e.callee, TorchObject)
                      and e.callee.qual == "torch.func.grad"), None)
    if transform is not None:
        kind = transform.attr("kind")
        outs = ctx.analysis.func_outputs.get(call, [])
        out.append(Site("func.grad", f"torch.func.{getattr(kind, 'value', 'grad')}", call, call.func, list(outs),
                        func_target=transform.attr("func")))
    # requires_grad= on a call, .requires_grad_()
    if any(a.keyword is not None and a.keyword.value == "requires_grad" for a in call.args):
        out.append(Site("requires_grad", "requires_grad=", call, call, [e.result for e in events], reached))
    methods = [e for e in events if isinstance(e.callee, BoundMethod) and isinstance(e.callee.receiver, Tensor)]
    if name == "requires_grad_" and methods:
        out.append(Site("requires_grad", ".requires_grad_()", call, call, [e.result for e in methods]))
    elif name.endswith("_") and not name.startswith("_") and name not in _NOT_INPLACE and methods \
            and all(e.callee.name == name for e in methods):
        out.append(Site("inplace", f".{name}()", call, func.value, [e.callee.receiver for e in methods]))


def _inplace_via(ctx, node) -> str:
    if isinstance(node, cst.AugAssign):
        return f"{ctx.code(node.operator).strip()} (augmented assignment)"
    return "item assignment"


def _arg(call: cst.Call, pos: int, name: str):
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if any(a.star for a in call.args):
        return None
    return positional[pos].value if pos < len(positional) else None


def _training_step_returns(module: cst.Module) -> list:
    """Each ``return`` of a ``training_step`` of a Lightning module with automatic optimisation
    (the classes :func:`torchlint.analysis.sinks.lightning_sites` recognises)."""
    classes = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}

    def bases(cls):
        return [a.value.attr.value if isinstance(a.value, cst.Attribute) else a.value.value
                for a in cls.bases if isinstance(a.value, (cst.Attribute, cst.Name))]

    def lightning(cls, seen=()):
        for b in bases(cls):
            if b == "LightningModule":
                return True
            parent = classes.get(b)
            if parent is not None and parent is not cls and b not in seen and lightning(parent, seen + (b,)):
                return True
        return False

    out = []
    for cls in classes.values():
        if not lightning(cls) or any(isinstance(n, cst.Name) and n.value == "automatic_optimization"
                                     for n in walk(cls)):
            continue
        for stmt in cls.body.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "training_step":
                out.extend(n for n in walk(stmt.body, prune=(cst.FunctionDef, cst.ClassDef, cst.Lambda))
                           if isinstance(n, cst.Return) and n.value is not None)
    return out
