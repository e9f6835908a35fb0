"""Tensor facts: attributes (shape, dtype, grad, T...), subscripts and iteration."""
from __future__ import annotations

from torchlint.analysis import api
from torchlint.analysis.values import (
    UNKNOWN,
    BoundMethod,
    Const,
    DictValue,
    Gathered,
    Instance,
    NDArray,
    Number,
    Seq,
    Sym,
    Tensor,
    TorchObject,
    Value,
    join_all,
    views_a_leaf,
)
from torchlint.analysis.interp import arrays
from torchlint.analysis.interp.helpers import NO_KEY, dict_key, index_tensor
from torchlint.analysis.interp.state import UNROLL_LIMIT


class TensorAccess:
    """Tensor facts of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def tensor_attr(self, t: Tensor, name: str) -> Value:
        if name == "shape":
            if t.shape is None:
                return Seq("tuple", None, Number("int"))
            return Seq("tuple", tuple(Const(d) if isinstance(d, int) else Number("int", sym=d if isinstance(d, Sym) else None) for d in t.shape))
        if name == "ndim":
            return Const(len(t.shape)) if t.shape is not None else Number("int")
        if name in ("T", "mT", "H", "mH"):  # views: of a leaf that requires grad, a leaf_view
            view = self.ip.grad_enabled is True and views_a_leaf(t)
            if t.shape is None:
                return Tensor(shape=None, numel=t.numel, likely=t.likely, per_element=t.per_element,
                              requires_grad=t.requires_grad, dtype=t.dtype, origin=t.origin, leaf_view=view)
            shape = tuple(reversed(t.shape)) if name in ("T", "H") else (t.shape[:-2] + (t.shape[-1], t.shape[-2]) if len(t.shape) >= 2 else None)
            return Tensor(shape=shape, numel=t.numel, requires_grad=t.requires_grad, dtype=t.dtype, origin=t.origin,
                          per_element=t.per_element, leaf_view=view)
        if name == "data":
            return Tensor(shape=t.shape, numel=t.numel, likely=t.likely, per_element=t.per_element, requires_grad=False,
                          dtype=t.dtype, origin=t.origin, grad_note="taken from .data, which is detached from the graph")
        if name == "grad":
            return Tensor(shape=t.shape, numel=t.numel, requires_grad=False, dtype=t.dtype,
                          grad_note="a .grad tensor, which does not require grad")
        if name in ("real", "imag"):
            return Tensor(shape=t.shape, numel=t.numel, requires_grad=t.requires_grad, dtype="float", origin=t.origin)
        if name == "requires_grad":
            return Const(t.requires_grad) if t.requires_grad is not None else Number("bool")
        if name in ("is_leaf", "is_cuda", "is_sparse"):
            return Number("bool")
        if name == "dtype":  # known as far as its kind is: x.to(dtype=ref.dtype), x.type(ref.dtype)
            return api.dtype_value(t.dtype)
        if name == "device":
            return TorchObject("torch.device")
        if name in ("layout", "grad_fn", "names"):
            return UNKNOWN
        return BoundMethod(t, name)

    def subscript(self, base: Value, index: list, node) -> Value:
        if isinstance(base, Tensor):
            return index_tensor(base, index, self.ip.grad_enabled)
        if isinstance(base, NDArray):  # NumPy indexes as torch does (basic, one advanced index, masks)
            if any(kind == "index" and not isinstance(v, (Const, Number, NDArray)) for kind, v in index):
                return UNKNOWN
            as_tensor = [(k, Tensor(shape=v.shape, dtype=v.dtype) if isinstance(v, NDArray) else v) for k, v in index]
            got = index_tensor(Tensor(shape=base.shape, dtype=base.dtype), as_tensor, False)
            if not isinstance(got, Tensor):
                return UNKNOWN
            if got.shape == ():
                return Number(base.dtype if base.dtype in ("int", "float", "bool") else None)
            return NDArray(got.shape, base.dtype)
        if isinstance(base, Gathered):
            if len(index) == 1 and index[0][0] == "index" and index[0][1] == Const("loss"):
                return base.as_loss()
            return UNKNOWN
        if isinstance(base, Seq):
            if len(index) == 1 and index[0][0] == "index":
                i = index[0][1]
                if isinstance(i, Const) and isinstance(i.value, int) and base.items is not None:
                    try:
                        return base.items[i.value]
                    except IndexError:
                        return UNKNOWN
                one_of = join_instances(base.items) if base.items else None
                return base.element() if one_of is None else one_of
            if len(index) == 1 and index[0][0] == "slice":
                parts = index[0][1]
                if base.items is not None and all(isinstance(p, Const) and (p.value is None or isinstance(p.value, int)) for p in parts):
                    try:
                        return Seq(base.kind, base.items[slice(*(p.value for p in parts))])
                    except ValueError:
                        return UNKNOWN
                return Seq(base.kind, None, base.element())
            return UNKNOWN
        if isinstance(base, DictValue):
            key = subscript_key(index)
            if key is not NO_KEY:
                return base.get(key)
            if len(index) == 1 and index[0][0] == "index" and base.complete and base.items:
                # a key torchlint does not know, in a dict whose every entry it knows: one of them (or KeyError)
                return join_all([v for _, v in base.items])
            return UNKNOWN
        if isinstance(base, TorchObject) and base.qual == "torch.nn.Sequential":
            children = base.attr("children")
            if len(index) == 1 and index[0][0] == "index" and isinstance(index[0][1], Const) and isinstance(children, Seq) \
                    and children.items is not None and isinstance(index[0][1].value, int):
                try:
                    return children.items[index[0][1].value]
                except IndexError:
                    return UNKNOWN
        return UNKNOWN

    def items_of(self, v: Value):
        """The elements of ``v`` one by one, when their number is known: a list or tuple's items, the
        rows of a tensor or a NumPy array of known length (up to ``UNROLL_LIMIT``); None otherwise."""
        if isinstance(v, Seq):
            return v.items
        if isinstance(v, NDArray) and v.shape and isinstance(v.shape[0], int) and v.shape[0] <= UNROLL_LIMIT:
            return (arrays.element(v),) * v.shape[0]
        if isinstance(v, Tensor) and v.shape and isinstance(v.shape[0], int) and v.shape[0] <= UNROLL_LIMIT:
            return (self.element_of(v),) * v.shape[0]
        return None

    def element_of(self, v: Value) -> Value:
        if isinstance(v, TorchObject):
            got = self.ip.data.element(v)
            return UNKNOWN if got is None else got
        if isinstance(v, Seq):
            return v.element()
        if isinstance(v, Tensor):
            if v.shape:
                return Tensor(shape=v.shape[1:], requires_grad=v.requires_grad, dtype=v.dtype, origin=v.origin,
                              per_element=v.per_element)
            if v.shape is None:
                return Tensor(shape=None, requires_grad=v.requires_grad, dtype=v.dtype)
            return UNKNOWN
        if isinstance(v, NDArray):
            return arrays.element(v)
        return UNKNOWN


def subscript_key(index: list):
    """The dict key of a subscript's index: ``d[k]``, or the tuple of ``d[a, b]``; ``NO_KEY`` when unknown."""
    if not index or any(kind != "index" for kind, _ in index):
        return NO_KEY
    if len(index) == 1:
        return dict_key(index[0][1])
    return dict_key(Seq("tuple", tuple(v for _, v in index)))


JOIN_DEPTH = 4  # nested objects joined field by field (block.attention.output.dense), deeper ones to Unknown


def join_instances(items, depth: int = JOIN_DEPTH):
    """One of several objects of one class of the file, not knowing which (``self.layer[i]`` of an nn.ModuleList
    of identical blocks, ``i`` unknown): a snapshot that has the attributes all of them have, each the join of
    theirs; nested objects of one class and lists of equal length are joined the same way, ``depth`` levels deep.
    The snapshot is generic (what it was built with is not one call's arguments) and writes to it reach none of
    the objects. None when the items are not all objects of one class."""
    if not items or not all(isinstance(it, Instance) for it in items):
        return None
    first = items[0]
    if any(it.cls is not first.cls for it in items):
        return None
    if all(it is first for it in items):
        return first
    out = Instance(first.cls, generic=True)
    for key, value in first.attrs.items():
        if not all(key in it.attrs for it in items):
            continue
        out.attrs[key] = _join_field([value] + [it.attrs[key] for it in items[1:]], depth - 1)
    return out


def _join_field(values, depth: int):
    if depth > 0 and all(isinstance(v, Instance) for v in values):
        got = join_instances(values, depth)
        if got is not None:
            return got
    if depth > 0 and all(isinstance(v, Seq) and v.items is not None for v in values) \
            and len({len(v.items) for v in values}) == 1 and len({v.kind for v in values}) == 1:
        first = values[0]
        return Seq(first.kind, tuple(_join_field([v.items[j] for v in values], depth - 1)
                                     for j in range(len(first.items))),
                   params=any(v.params for v in values))
    return join_all(values)
