"""``module.parameters()`` and ``module.named_parameters()``: the leaf tensors that require grad.

A module's parameters are those of its torch layers (``nn.Linear``, the children of an ``nn.Sequential``,
the module a ``DataParallel`` wraps) and, for a user ``nn.Module``, those of the layers, submodules and
``nn.Parameter`` tensors stored on ``self``, recursively.  Each is a leaf of the graph that requires grad,
so an in-place change to one while autograd records raises (TL009): the hand-written SGD step
``for p in model.parameters(): p.sub_(lr * p.grad)``.

Only a module that certainly has a parameter yields one (a loop over the parameters of a module that may
have none may never run); one that certainly has none yields nothing.  Once code has turned
``requires_grad`` off on some leaf tensor or module (``p.requires_grad = False``, ``m.requires_grad_(False)``:
freezing a part of a model), a parameter is no longer known to require grad.
"""
from __future__ import annotations

from typing import Optional

from torchlint.analysis import api
from torchlint.analysis.values import UNKNOWN, Const, Instance, Seq, Tensor, TorchObject, Value

PARAM_METHODS = ("parameters", "named_parameters")


def has_parameters(module: Value, seen: Optional[set] = None) -> Optional[bool]:
    """True when ``module`` certainly has a parameter, False when it certainly has none, None otherwise."""
    seen = set() if seen is None else seen
    if id(module) in seen:
        return None
    seen.add(id(module))
    if isinstance(module, TorchObject):
        if module.qual == "torch.nn.Sequential":
            children = module.attr("children")
            return _any_of(children.items if isinstance(children, Seq) else None, seen)
        if module.qual == "torch.nn.DataParallel":
            return has_parameters(module.attr("module"), seen)
        entry = api.CLASSES.get(api.canonical(module.qual))
        if entry is None:
            return None
        if module.attr("_freeze", Const(False)) != Const(False):  # nn.Embedding(..., _freeze=True)
            return None
        flag = entry.params
        if isinstance(flag, str):
            v = module.attr(flag, None)
            if v is None:
                default = next((p.default for p in entry.init_sig if p.name == flag), None)
                v = Const(default)
            return bool(v.value) if isinstance(v, Const) else None
        return bool(flag)
    if isinstance(module, Instance):
        if not module.cls.is_torch_module():
            return None
        # a user module: certain when one of the layers or submodules stored on it has a parameter
        found = _any_of(tuple(module.attrs.values()), seen, lenient=True)
        return True if found else None
    if isinstance(module, Seq):  # nn.ModuleList
        return _any_of(module.items, seen)
    return None


def _any_of(items, seen: set, lenient: bool = False) -> Optional[bool]:
    """True when one of ``items`` certainly has a parameter; False when none can (``lenient``: skip the
    items that are no module at all, as a user module's other attributes are)."""
    if items is None:
        return None
    unknown = False
    for v in items:
        if lenient and not isinstance(v, (TorchObject, Instance, Seq)):
            continue
        got = has_parameters(v, seen)
        if got:
            return True
        if got is None:
            unknown = True
    return None if unknown else False


def parameters(ip, module: Value, named: bool) -> Value:
    """What ``module.parameters()`` (``named_parameters()``) iterates over."""
    has = has_parameters(module)
    if has is None:
        return UNKNOWN
    if not has:
        return Seq("list", ())
    frozen = getattr(ip, "params_frozen", False)
    param = Tensor(shape=None, requires_grad=None if frozen else True, dtype="float", leaf=True)
    return Seq("list", None, Seq("tuple", (UNKNOWN, param)) if named else param)


def note_freeze(ip, target: Value, flag: Value) -> None:
    """Record that code turns ``requires_grad`` off (or to an unknown value) on a leaf tensor or a module:
    from then on parameters are not known to require grad."""
    if isinstance(flag, Const) and flag.value is True:
        return
    if isinstance(target, Tensor) and not target.leaf:
        return
    if isinstance(target, (Tensor, TorchObject, Instance)):
        ip.params_frozen = True
