"""Objects whose attribute names torchlint knows exactly: ``'config' in vars(self)`` and ``hasattr(obj, "x")``.

An object of the file's classes is *sealed* while every store into its attributes was seen: it was made by
the file's own code, from a class whose bases are all the file's classes (no ``__slots__``, ``__getattr__``,
``__setattr__``, metaclass or decorator that could change its ``__dict__``), and since then nothing that
torchlint does not follow could have reached it.  Anything that might have (a call of code torchlint does not
see with an argument that is an object or unknown, a user function it did not run, a store into an attribute
of an unknown value, a ``try`` that may stop half-way, a property that ``hasattr`` runs, a read of a class
attribute torchlint cannot see, which may be a descriptor such as ``functools.cached_property``, ...) moves
the epoch on, which unseals every object made before (analysis/trail.py).  Each function analysed on its own starts a new epoch (:func:`new_unit`): it sees
no object sealed that its own run did not make, and takes no call summary that made one in another unit's run,
so that what it finds never depends on which functions were analysed before it (the partial parse,
analysis/partial.py, leaves some out).  An attribute that a branch or a loop may have set, or not, leaves its names
unknown too (``Instance.maybe``); and where an object is not sealed, an attribute torchlint saw no store into
may have one it did not see (interp/heap.py).
"""
from __future__ import annotations

import libcst as cst
from torchlint.analysis import trail
from torchlint.analysis.interp.helpers import _is_plain_base, _is_property
from torchlint.analysis.values import (UNKNOWN, BoundMethod, ClassValue, Const, DictValue, Function, Gathered, Instance, ModuleRef,
                                       NDArray, Number, PyConverted, Seq, Tensor, TorchObject, UserBound, Value)

# class members that let an object's __dict__ change, or its attributes come from elsewhere, out of sight
_HOOKS = {"__slots__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__new__", "__init_subclass__",
          "__class_getitem__", "__dict__"}

# builtins that neither run user code nor change an object (getattr runs a property, which is followed)
_PURE_BUILTINS = {"builtins.isinstance", "builtins.issubclass", "builtins.hasattr", "builtins.getattr",
                  "builtins.type", "builtins.id", "builtins.callable", "builtins.super"}

# builtins that can change any object whatever their arguments
_REFLECTIVE = {"builtins.exec", "builtins.eval", "builtins.globals", "builtins.locals", "builtins.vars",
               "builtins.setattr", "builtins.delattr", "builtins.__import__", "builtins.compile"}


MADE = [0]  # how many objects were sealed (or taken sealed from a call summary) so far: see made_since


def moved_on():
    """Something torchlint does not follow may have changed any object made so far."""
    trail.EPOCH[0] += 1


def new_unit(ip) -> None:
    """A function is analysed on its own from here (``ip.unit`` tells its summaries from other units'): the
    objects of earlier units are not its to know, nor those made for its generic ``self``, which is shared by
    every method of the class and made by whichever unit needed it first."""
    ip.unit += 1
    moved_on()


def made_since(count: int) -> bool:
    """Has a call that started when :data:`MADE` was ``count`` made a sealed object?  Its summary is then
    only for its own unit (interp/objects.py): another unit's run would make that object anew, and sealed."""
    return MADE[0] != count


def seal(inst: Instance, cls: ClassValue, class_ns) -> None:
    """Mark a new object sealed when its class lets only the stores torchlint sees change its ``__dict__``."""
    for c in cls.mro():
        node = c.node
        if not isinstance(node, cst.ClassDef) or node.keywords or node.decorators:
            return
        if not all(_is_plain_base(b) for b in c.bases):
            return
        ns = class_ns.get(node)
        if ns is None or any(h in ns for h in _HOOKS):
            return
    inst.sealed = trail.EPOCH[0]
    MADE[0] += 1


def is_sealed(v: Value) -> bool:
    return isinstance(v, Instance) and v.sealed is not None and v.sealed == trail.EPOCH[0] and not v.generic


def user_code(callee: Value) -> bool:
    """A callee whose code the interpreter runs itself (it moves the epoch on when it cannot)."""
    return isinstance(callee, (Function, UserBound, ClassValue)) or (
        isinstance(callee, Instance) and callee.cls.node is not None)


def plain(v: Value, budget: list) -> bool:
    """A value that holds no object of the file's classes, no user code and nothing unknown (which could be
    either): a foreign call given only such values cannot reach the file's objects."""
    budget[0] -= 1
    if budget[0] < 0:
        return False
    if isinstance(v, (Tensor, Const, Number, NDArray, ModuleRef, PyConverted, Gathered)):
        return True
    if isinstance(v, Seq):
        return all(plain(i, budget) for i in v.items) if v.items is not None else plain(v.elem, budget)
    if isinstance(v, DictValue):
        return all(plain(i, budget) for _, i in v.items)
    if isinstance(v, TorchObject):
        return all(plain(i, budget) for _, i in v.attrs)
    return False


def after_call(callee: Value, args, kwargs, star: bool) -> None:
    """Move the epoch on after a call of code the interpreter does not run, unless it can reach no object."""
    if user_code(callee) and not star:
        return
    if isinstance(callee, ModuleRef) and callee.qual in _REFLECTIVE:
        moved_on()
        return
    if isinstance(callee, ModuleRef) and callee.qual in _PURE_BUILTINS and not star:
        return
    budget = [64]
    # a method of a tensor, a torch object, an nn.Module or a container (or object.__init__) runs none of the
    # file's code and changes at most its receiver, never a sealed object (an nn.Module has a base torchlint
    # cannot see): only its arguments count
    if star or not isinstance(callee, (ModuleRef, TorchObject, BoundMethod)) or \
            not all(plain(a, budget) for a in list(args) + list(kwargs.values())):
        moved_on()


def has_key(obj: Value, name: str):
    """``name in vars(obj)``: True or False on a sealed object with no maybe-present attribute, else None."""
    if not is_sealed(obj) or obj.maybe:
        return None
    return name in obj.attrs


def has_attr(objects, obj: Value, name: str) -> Value:
    """``hasattr(obj, name)`` on a sealed object: its own attributes, then its class's.  A property, or a class
    attribute torchlint cannot see (a descriptor: ``functools.cached_property`` stores its value into the
    object's ``__dict__``), leaves it unknown: hasattr runs it, and is False if it raises AttributeError, and
    what it runs is not followed, so the epoch moves on."""
    if not is_sealed(obj):
        return Number("bool")
    if name in obj.attrs:
        return Number("bool") if obj.maybe else Const(True)
    attr = objects.class_attr(obj.cls, name)
    if attr is UNKNOWN or isinstance(attr, Function) and isinstance(attr.node, cst.FunctionDef) and \
            _is_property(attr.node):
        moved_on()
        return Number("bool")
    if obj.maybe:
        return Number("bool")
    return Const(False) if attr is None else Const(True)
