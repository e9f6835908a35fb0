"""What an object's type is: ``isinstance(x, C)``, ``type(x)``, ``type(x) is C`` and ``type(x).__name__``.

Each is folded only where the answer is certain.  ``type(x)`` is known for a constant of a builtin type, a
Python list or tuple torchlint knows to be one, and an object of a class of this file that was not analysed on
its own (such an object may be of a subclass); it is then the builtin type (a ``ModuleRef`` such as
``builtins.int``) or the class (a ``ClassValue``).  Two such types are the same object only when they are
the same builtin or the same class, so ``type(target) is int`` decides a branch real code takes
(``if type(target_category) is int: target_category = [target_category] * n``).
"""
from __future__ import annotations

import libcst as cst
from torchlint.analysis.values import UNKNOWN, ClassValue, Const, DictValue, Instance, ModuleRef, Number, Seq, Tensor, Value

_TORCH_TENSOR_TYPES = {"torch.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter"}
_BUILTIN_TYPES = {"builtins.int": int, "builtins.float": float, "builtins.str": str, "builtins.bool": bool,
                  "builtins.list": list, "builtins.tuple": tuple, "builtins.dict": dict}


def is_instance(obj: Value, cls: Value) -> Value:
    """``isinstance(obj, cls)`` folded when the answer is certain: an object of a class of this file, a tensor,
    a constant; ``cls`` may be a tuple of classes. Otherwise an unknown bool."""
    if isinstance(cls, Seq) and cls.kind == "tuple" and cls.items is not None:
        answers = [is_instance(obj, c) for c in cls.items]
        if any(isinstance(a, Const) and a.value is True for a in answers):
            return Const(True)
        if answers and all(isinstance(a, Const) and a.value is False for a in answers):
            return Const(False)
        return Number("bool")
    if isinstance(obj, Instance) and isinstance(cls, ClassValue):
        order = obj.cls.mro()
        if cls in order:
            return Const(True)
        known = all(isinstance(b, ClassValue) or (isinstance(b, ModuleRef) and b.qual == "builtins.object")
                    for c in order for b in c.bases)
        # an object analysed on its own may be of a subclass: only a positive answer is certain there
        return Const(False) if known and not obj.generic else Number("bool")
    if isinstance(obj, Instance) and isinstance(cls, ModuleRef) and cls.qual in ("torch.nn.Module", "torch.nn.modules.module.Module"):
        return Const(True) if obj.cls.is_torch_module() else Number("bool")
    if isinstance(obj, Tensor) and isinstance(cls, ModuleRef) and cls.qual in _TORCH_TENSOR_TYPES:
        return Const(True) if cls.qual == "torch.Tensor" and not obj.maybe_none else Number("bool")
    if isinstance(obj, Const) and isinstance(cls, ModuleRef) and cls.qual in _BUILTIN_TYPES:
        return Const(isinstance(obj.value, _BUILTIN_TYPES[cls.qual]))
    if (isinstance(obj, ClassValue) or _torch_class(obj)) and isinstance(cls, ModuleRef) and cls.qual in _BUILTIN_TYPES:
        return Const(False)  # `eval(block) if isinstance(block, str) else block`: a class is no str, int, ...
    if isinstance(obj, (Seq, DictValue)) and isinstance(cls, ModuleRef):
        return _container_isinstance(obj, _ABC_ALIASES.get(cls.qual, cls.qual))
    return Number("bool")


# the abstract base classes of collections.abc (and their typing aliases) that isinstance() is asked about
_ABCS = {"Iterable", "Sized", "Container", "Collection", "Reversible", "Sequence", "MutableSequence", "Mapping",
         "MutableMapping"}
_ABC_ALIASES = {**{f"typing.{n}": f"collections.abc.{n}" for n in _ABCS},
                "typing.List": "builtins.list", "typing.Tuple": "builtins.tuple", "typing.Dict": "builtins.dict"}
# which of them a list and a tuple are
_SEQUENCE_TYPES = {
    "list": {"builtins.list"} | {f"collections.abc.{n}" for n in _ABCS - {"Mapping", "MutableMapping"}},
    "tuple": {"builtins.tuple"} | {f"collections.abc.{n}" for n in _ABCS - {"Mapping", "MutableMapping", "MutableSequence"}},
}
# what no list, tuple, dict, nn.ModuleList/ModuleDict, range, iterator or dict view is
_NEVER_CONTAINERS = {"builtins.str", "builtins.bytes", "builtins.bytearray", "builtins.int", "builtins.float",
                     "builtins.bool", "builtins.complex"}


def _container_isinstance(obj: Value, qual: str) -> Value:
    """``isinstance(x, cls)`` for a sequence or dict value ``x`` and a builtin type or an ABC of collections.abc:
    certain for a Python list or tuple torchlint knows to be one (``Seq.builtin``); for the other sequence and dict
    values (which may also stand for an nn.ModuleList or ModuleDict, a range, an iterator, a dict view) only
    the answers true of all of them are: iterable, never a string or a number, a dict value never a sequence."""
    if qual in _NEVER_CONTAINERS:
        return Const(False)
    if qual == "collections.abc.Iterable":
        return Const(True)
    if isinstance(obj, Seq) and obj.builtin:
        return Const(qual in _SEQUENCE_TYPES[obj.kind]) if qual.startswith("collections.abc.") or qual in (
            "builtins.list", "builtins.tuple", "builtins.dict") else Number("bool")
    if isinstance(obj, DictValue) and qual in ("builtins.list", "builtins.tuple", "collections.abc.Sequence",
                                               "collections.abc.MutableSequence"):
        return Const(False)
    return Number("bool")


# the builtin types whose objects torchlint keeps as constants, by the qualified name `int`, `str`, ... resolve to
_CONST_TYPES = {int: "builtins.int", float: "builtins.float", str: "builtins.str", bool: "builtins.bool",
                complex: "builtins.complex", bytes: "builtins.bytes"}
# the builtin types that are distinct objects, so two different names are two different types
_DISTINCT_BUILTINS = frozenset(_CONST_TYPES.values()) | {"builtins.list", "builtins.tuple", "builtins.dict"}


def type_of(v: Value) -> Value:
    """``type(v)`` where it is certain; Unknown otherwise."""
    if isinstance(v, Const) and type(v.value) in _CONST_TYPES:
        return ModuleRef(_CONST_TYPES[type(v.value)])
    if isinstance(v, Seq) and v.builtin:
        return ModuleRef(f"builtins.{v.kind}")
    if isinstance(v, Instance) and not v.generic:
        return v.cls
    return UNKNOWN


def _torch_class(v: Value) -> bool:
    """Whether ``v`` is certainly a torch.nn class (``nn.Conv2d``): a capitalised name in torch.nn."""
    return isinstance(v, ModuleRef) and v.qual.startswith("torch.nn.") and v.qual.rsplit(".", 1)[-1][:1].isupper()


def _is_type(v: Value) -> bool:
    return isinstance(v, ClassValue) or (isinstance(v, ModuleRef) and v.qual in _DISTINCT_BUILTINS) or _torch_class(v)


def same_type(op, a: Value, b: Value):
    """``a is b`` / ``a == b`` (and their negations) for two types: True or False when certain, else None."""
    if op not in (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual) or not (_is_type(a) and _is_type(b)):
        return None
    if isinstance(a, ModuleRef) and isinstance(b, ModuleRef):
        if a.qual != b.qual and (_torch_class(a) or _torch_class(b)):
            return None  # torch.nn.Conv2d is also torch.nn.modules.conv.Conv2d: other names may be one class
        same = a.qual == b.qual
    elif isinstance(a, ClassValue) and isinstance(b, ClassValue):
        if a.node is not b.node:
            same = False
        elif a is b or a.frame is b.frame:
            same = True
        else:
            return None  # one class statement run twice makes two classes
    else:
        same = False  # a class of this file is no builtin type and no torch class (`block is Detect`)
    return same is (op in (cst.Is, cst.Equal))


def type_name(v: Value):
    """``C.__name__`` for a type torchlint knows (a class of this file, a builtin type); None otherwise."""
    if isinstance(v, ClassValue):
        return Const(v.name) if all(_plain_class(c) for c in v.mro()) else None
    if isinstance(v, ModuleRef) and v.qual in _DISTINCT_BUILTINS:
        return Const(v.qual.split(".", 1)[1])
    return None


def _plain_class(c: ClassValue) -> bool:
    """A class statement of this file, undecorated, whose metaclass is ``type``: no keyword (``metaclass=``) and
    every base a class of this file, ``object`` or a PyTorch class."""
    node = c.node
    return isinstance(node, cst.ClassDef) and not node.decorators and not node.keywords and node.name.value == c.name \
        and all(isinstance(b, ClassValue) or (isinstance(b, ModuleRef) and (
            b.qual == "builtins.object" or b.qual.startswith("torch."))) for b in c.bases)
