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
  ``FRAMEWORK_RECEIVERS``) and only when the receiver is not a tensor;
* what ``training_step`` returns in a ``LightningModule`` subclass with
  automatic optimisation: Lightning calls ``.backward()`` on the returned
  tensor (or on its ``"loss"`` entry when it returns a dict), with no check
  that it is a scalar.  Base classes are recognised by the name
  ``LightningModule`` (``L.LightningModule``, ``pl.LightningModule``, ...),
  directly or through other classes of the file; a class that mentions
  ``automatic_optimization`` is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from torchlint.analysis.sites import BACKWARD_METHODS
from torchlint.analysis.values import UNKNOWN, BoundMethod, Const, DictValue, ModuleRef, Seq, Tensor, Value

AUTOGRAD_BACKWARD = {"torch.autograd.backward"}
# Receiver names (last dotted component, lower-cased) of framework backward wrappers.
FRAMEWORK_RECEIVERS = {"accelerator", "fabric", "engine", "model_engine", "deepspeed_engine", "ds_engine"}
FRAMEWORK_METHODS = BACKWARD_METHODS - {"backward"}  # self.manual_backward(loss) in Lightning


@dataclass
class BackwardSite:
    call: cst.Call
    kind: str  # 'method', 'function', 'framework'
    # The expression whose value is differentiated, and its value in each context.
    target: Optional[cst.BaseExpression]
    values: list = field(default_factory=list)
    gradient_given: bool = False
    events: list = field(default_factory=list)
    step: Optional[cst.FunctionDef] = None  # a Lightning site's ``training_step``


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


def from_this_file(event) -> bool:
    """Whether a call event comes from running the file itself (the module body and the calls it makes),
    rather than from the analysis of a function on its own with unknown arguments."""
    return not event.stack or event.stack[0][1] is not None


def decisive_values(site: BackwardSite) -> list:
    """The target's values that decide a "does not require grad" question: the values met when the file runs,
    when there are any and no context at all has the target require grad; otherwise every context's value.

    A function the file calls is also analysed on its own, with unknown arguments, where the target is
    often unknown; that does not contradict what the file's own run shows."""
    run = [v for v, e in zip(site.values, site.events) if from_this_file(e)]
    if not run or len(run) == len(site.values):
        return site.values
    if any(isinstance(t, Tensor) and t.requires_grad for v in site.values for t in flatten_targets(v)):
        return site.values
    return run


def flatten_targets(value: Value) -> list:
    """The tensors a backward target stands for (a list for torch.autograd.backward)."""
    if isinstance(value, Seq):
        return list(value.items) if value.items is not None else []
    return [value]


_ = Const


LIGHTNING_BASES = {"LightningModule"}


def _base_names(cls: cst.ClassDef) -> list:
    out = []
    for arg in cls.bases:
        node = arg.value
        if isinstance(node, cst.Attribute):
            out.append(node.attr.value)
        elif isinstance(node, cst.Name):
            out.append(node.value)
    return out


def _is_lightning(cls: cst.ClassDef, classes: dict, seen=()) -> bool:
    """Does ``cls`` derive from a Lightning base, through ``classes`` (the module's, by name)?  (Not a closure: one
    that calls itself is a reference cycle, and would keep the module's classes for the garbage collector.)"""
    for name in _base_names(cls):
        if name in LIGHTNING_BASES:
            return True
        parent = classes.get(name)
        if parent is not None and parent is not cls and name not in seen:
            if _is_lightning(parent, classes, seen + (name,)):
                return True
    return False


def lightning_sites(module: cst.Module, analysis) -> list[BackwardSite]:
    """Backward sites made by Lightning's automatic optimisation: each ``return`` of a ``training_step``."""
    cached = getattr(analysis, "_lightning_sites", None)
    if cached is not None:
        return cached
    classes = {}
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            classes[stmt.name.value] = stmt

    def mentions_manual(cls: cst.ClassDef) -> bool:
        from torchlint.analysis.cstwalk import walk

        return any(isinstance(n, cst.Name) and n.value == "automatic_optimization" for n in walk(cls))

    sites = []
    for cls in classes.values():
        if not _is_lightning(cls, classes):
            continue
        step = next((s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "training_step"),
                    None)
        if step is None or mentions_manual(cls):  # (the walk of the class last: most have no training_step)
            continue
        for ret in _returns(step):
            values = analysis.returns.get(ret)
            if not values or ret.value is None:
                continue
            target, picked = ret.value, list(values)
            if isinstance(target, cst.Dict):
                entry = next((el for el in target.elements if isinstance(el, cst.DictElement)
                              and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == "loss"), None)
                if entry is None:
                    continue
                target = entry.value
                picked = [v.get("loss") if isinstance(v, DictValue) else UNKNOWN for v in values]
            else:
                # a tensor; a dict built elsewhere or None (skip the step) is not followed
                picked = [v for v in values if isinstance(v, Tensor)]
                if not picked:
                    continue
            sites.append(BackwardSite(target, "lightning", target, picked, False, [], step))
    analysis._lightning_sites = sites
    return sites


def _returns(fn: cst.FunctionDef) -> list:
    """The return statements of ``fn`` itself (not of functions or lambdas nested in it)."""
    from torchlint.analysis.cstwalk import walk

    return [n for n in walk(fn.body, prune=(cst.FunctionDef, cst.ClassDef, cst.Lambda)) if isinstance(n, cst.Return)]
