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

import libcst as cst

from torchlint.analysis import api
from torchlint.analysis.cstwalk import ends_early, walk
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
    param = Tensor(shape=None, requires_grad=None if ip.params_frozen else True, dtype="float", leaf=True)
    return Seq("list", None, Seq("tuple", (UNKNOWN, param)) if named else param)


def note_freeze(ip, target: Value, flag: Value) -> None:
    """Record that code turns ``requires_grad`` off (or to an unknown value) on a leaf tensor or a module:
    from then on parameters are not known to require grad."""
    if isinstance(target, Tensor) and not target.leaf:
        return
    if not (isinstance(flag, Const) and flag.value is False) and isinstance(target, (Tensor, TorchObject, Instance)):
        ip.params_thawed = True  # a parameter may require grad again: a frozen module is frozen no longer
    if isinstance(flag, Const) and flag.value is True:
        return
    if isinstance(target, (Tensor, TorchObject, Instance)):
        ip.params_frozen = True


# Freezing a whole module: ``for p in m.parameters(): p.requires_grad = False`` or ``m.requires_grad_(False)``.
# Its layers then compute nothing that requires grad from their parameters: the output of a frozen model on
# inputs that do not require grad does not either (TL005). Only followed where it certainly happens (not on a
# path that may be skipped, not in a function analysed on its own) and in a file that never turns
# requires_grad back on (a later unfreeze would be out of sight of the values computed in between).


def freezes_all(stmt: cst.For) -> Optional[cst.BaseExpression]:
    """The module expression ``m`` when ``stmt`` is ``for p in m.parameters():`` (``for name, p in
    m.named_parameters():``) whose every iteration turns ``p.requires_grad`` off; else None."""
    it = stmt.iter
    if not (isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value in PARAM_METHODS
            and not it.args) or stmt.orelse is not None or ends_early(stmt.body):
        return None
    target = stmt.target
    if it.func.attr.value == "named_parameters":
        if not (isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2):
            return None
        target = target.elements[1].value
    if not isinstance(target, cst.Name) or not isinstance(stmt.body, cst.IndentedBlock):
        return None
    for line in stmt.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if _turns_off(small, target.value):
                return it.func.value
    return None


def _turns_off(small, name: str) -> bool:
    """``name.requires_grad = False`` or ``name.requires_grad_(False)``."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        t = small.targets[0].target
        return isinstance(t, cst.Attribute) and t.attr.value == "requires_grad" and _is_name(t.value, name) \
            and _is_name(small.value, "False")
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        return isinstance(call.func, cst.Attribute) and call.func.attr.value == "requires_grad_" \
            and _is_name(call.func.value, name) and len(call.args) == 1 and _is_name(call.args[0].value, "False")
    return False


def _is_name(node, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def freeze(module: Value, seen: Optional[set] = None) -> Value:
    """``module`` with requires_grad off on every parameter of its layers; a user module changes in place."""
    seen = set() if seen is None else seen
    if id(module) in seen:
        return module
    seen.add(id(module))
    if isinstance(module, TorchObject):
        if module.qual == "torch.nn.Sequential":
            return _with_attr(module, "children", freeze(module.attr("children"), seen))
        if module.qual == "torch.nn.DataParallel":
            return _with_attr(module, "module", freeze(module.attr("module"), seen))
        if api.CLASSES.get(api.canonical(module.qual)) is not None:
            return _with_attr(module, api.FROZEN_ATTR, Const(False))
        return module
    if isinstance(module, Instance) and module.cls.is_torch_module():
        for k, v in list(module.attrs.items()):
            if isinstance(v, (TorchObject, Instance, Seq)):
                module.attrs[k] = freeze(v, seen)
        return module
    if isinstance(module, Seq):  # nn.ModuleList
        if module.items is not None:
            return Seq(module.kind, tuple(freeze(i, seen) for i in module.items))
        return Seq(module.kind, None, freeze(module.elem, seen))
    return module


def _with_attr(obj: TorchObject, name: str, value: Value) -> TorchObject:
    attrs = tuple((k, v) for k, v in obj.attrs if k != name) + ((name, value),)
    return TorchObject(obj.qual, attrs, node=obj.node, label=obj.label)


def can_freeze(ip) -> bool:
    """Is a module frozen here certainly frozen from now on? Not on a path that may not run (an unknown branch,
    a loop body, a try, after a return taken on some path), not in a function analysed on its own, and not in a
    file that turns requires_grad on again somewhere."""
    if ip.conditional or ip.generic or any(ip.returns) or ip.params_thawed:
        return False
    if ip.file_thaws is None:
        ip.file_thaws = _turns_on_somewhere(ip.module)
    return not ip.file_thaws


def _turns_on_somewhere(module) -> bool:
    """Does the file set ``requires_grad`` to anything but a literal False (``p.requires_grad = True``,
    ``m.requires_grad_()``, ``setattr(p, "requires_grad", flag)``)?"""
    for n in walk(module):
        if isinstance(n, cst.Assign):
            if any(isinstance(t.target, cst.Attribute) and t.target.attr.value == "requires_grad" for t in n.targets) \
                    and not _is_name(n.value, "False"):
                return True
        elif isinstance(n, cst.Call):
            f = n.func
            if isinstance(f, cst.Attribute) and f.attr.value == "requires_grad_" and not (
                    len(n.args) == 1 and _is_name(n.args[0].value, "False")):
                return True
            if isinstance(f, (cst.Name, cst.Attribute)) and (f.value if isinstance(f, cst.Name) else f.attr.value) in (
                    "setattr", "__setattr__"):
                return True
    return False
