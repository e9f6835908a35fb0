"""Where a tensor reaches autograd's backward pass.

Every rule about backward() asks this module for the *backward sites* of a
file instead of matching calls itself:

* ``t.backward(...)`` on a tensor (``scaler.scale(t).backward()`` included:
  the interpreter knows ``GradScaler.scale`` returns its argument);
* ``torch.autograd.backward(tensors, grad_tensors=...)``, with a list too;
* framework wrappers that call ``loss.backward()`` for you:
  ``accelerator.backward(loss)`` (HF Accelerate), ``self.manual_backward(loss)``
  (Lightning), ``fabric.backward(loss)``, ``engine.backward(loss)`` and
  ``model_engine.backward(loss)`` (DeepSpeed).  The receiver's type is rarely
  known, so these are recognised by a conservative set of receiver names (see
  ``FRAMEWORK_RECEIVERS``) and only when the receiver is not a tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from torchlint.values import UNKNOWN, BoundMethod, Const, ModuleRef, Seq, Value

AUTOGRAD_BACKWARD = {"torch.autograd.backward"}
# Receiver names (last dotted component, lower-cased) of framework backward wrappers.
FRAMEWORK_RECEIVERS = {"accelerator", "fabric", "engine", "model_engine", "deepspeed_engine", "ds_engine"}
FRAMEWORK_METHODS = {"manual_backward"}  # self.manual_backward(loss) in Lightning


@dataclass
class BackwardSite:
    call: cst.Call
    kind: str  # 'method', 'function', 'framework'
    # The expression whose value is differentiated, and its value in each context.
    target: Optional[cst.BaseExpression]
    values: list = field(default_factory=list)
    gradient_given: bool = False
    events: list = field(default_factory=list)


def _arg(call: cst.Call, pos: int, name: str):
    """The argument node for a parameter, or None; ``...`` when it cannot be known (``*args``)."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if any(a.star for a in call.args):
        return ...
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    if pos < len(positional):
        return positional[pos]
    return None


def _given(arg) -> bool:
    if arg is None:
        return False
    if arg is ...:
        return True
    return not (isinstance(arg.value, cst.Name) and arg.value.value == "None")


def _receiver_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value.lower()
    if isinstance(node, cst.Attribute):
        return node.attr.value.lower()
    return ""


def backward_sites(analysis) -> list[BackwardSite]:
    cached = getattr(analysis, "_backward_sites", None)
    if cached is not None:
        return cached
    sites = []
    for call, events in analysis.calls.items():
        site = _site(call, events)
        if site is not None:
            sites.append(site)
    analysis._backward_sites = sites
    return sites


def _site(call: cst.Call, events: list) -> Optional[BackwardSite]:
    func = call.func
    fn_events = [e for e in events if isinstance(e.callee, ModuleRef) and e.callee.qual in AUTOGRAD_BACKWARD]
    if fn_events:
        arg = _arg(call, 0, "tensors")
        if arg is None or arg is ...:
            return None
        given = _given(_arg(call, 1, "grad_tensors")) or _given(_arg(call, 99, "grad_variables"))
        values = [e.args[0] if e.args else e.kwargs.get("tensors", UNKNOWN) for e in fn_events]
        return BackwardSite(call, "function", arg.value, values, given, fn_events)
    if isinstance(func, cst.Attribute) and func.attr.value == "backward":
        tensor_events = [e for e in events if isinstance(e.callee, BoundMethod) and e.callee.name == "backward"]
        if tensor_events:
            return BackwardSite(call, "method", func.value, [e.callee.receiver for e in tensor_events],
                                _given(_arg(call, 0, "gradient")), tensor_events)
        if _receiver_name(func.value) in FRAMEWORK_RECEIVERS:
            return _framework_site(call, events)
        return None
    if isinstance(func, cst.Attribute) and func.attr.value in FRAMEWORK_METHODS:
        return _framework_site(call, events)
    return None


def _framework_site(call, events) -> "BackwardSite | None":
    """``accelerator.backward(loss)``, ``self.manual_backward(loss)``, ...: the loss is the first argument."""
    arg = _arg(call, 0, "loss")
    if arg is None or arg is ...:
        return None
    values = [e.args[0] if e.args else e.kwargs.get("loss", UNKNOWN) for e in events]
    return BackwardSite(call, "framework", arg.value, values, _given(_arg(call, 99, "gradient")), events)


def flatten_targets(value: Value) -> list:
    """The tensors a backward target stands for (a list for torch.autograd.backward)."""
    if isinstance(value, Seq):
        return list(value.items) if value.items is not None else []
    return [value]


_ = Const
