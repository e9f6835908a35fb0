"""Dtypes: conversions (``.to()``, ``.type()``, ``.cuda()``/``.cpu()``) and the legacy constructors:
``torch.Tensor(...)``, the typed ``torch.FloatTensor``/``torch.LongTensor`` family (and their ``torch.cuda``
twins) and ``torch.autograd.Variable``.

A conversion's dtype argument may be a dtype (``torch.long``, ``ref.dtype``), a tensor (``.to(other)``), a
type name (``.type('torch.LongTensor')``) or no dtype at all (a device, an index, ``non_blocking``); an
argument that may be a dtype of unknown kind makes the result's dtype unknown, never the input's.

A typed constructor makes a tensor of its dtype, from nested data (``torch.LongTensor([[2, 3], [3, 4]])``)
or from sizes (``torch.Tensor(2, 3)``); ``torch.Tensor(t)`` of a tensor is that tensor's data, and a typed
one of a tensor of another dtype raises (TypeError).  None of them requires grad.  ``Variable(t)`` is
``t.detach()`` with ``requires_grad`` set from its flag (default False): a leaf, of ``t``'s dtype.
"""
from __future__ import annotations

from torchlint.analysis.api import LEGACY_TENSOR_KINDS, Args, dim_of, dtype_kind, legacy_kind, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import MANY, UNKNOWN, Const, NDArray, Number, Seq, Tensor, TorchObject

_NOTE = "created by a legacy constructor, which never requires grad"


# -- conversions

_KEEP = object()


def _target_kind(v):
    """The dtype kind an argument of ``.to(...)``/``.type(...)`` converts to: ``_KEEP`` for one that
    cannot be a dtype (a device, an index, ``non_blocking``), None when it may be one of unknown kind."""
    if isinstance(v, Const):
        if isinstance(v.value, str):  # a device ('cuda:0'), or for .type() a type name ('torch.LongTensor')
            return legacy_kind(v.value) if v.value.endswith("Tensor") else _KEEP
        return _KEEP  # None (the default), an int device index, a bool flag
    if isinstance(v, Number):
        return _KEEP
    if isinstance(v, TorchObject) and v.qual == "torch.device":
        return _KEEP
    if isinstance(v, Tensor):  # .to(other): other's dtype (and device)
        return v.dtype
    return dtype_kind(v)


def r_to(a: Args):
    t = a.tensor("input")
    kind = t.dtype
    items = a["args"].items
    if items is None:
        raise ShapeUnknown("arguments of unknown length")
    for v in list(items) + [a["dtype"]]:
        k = _target_kind(v)
        if k is not _KEEP:
            kind = k
    return Tensor(shape=t.shape, numel=t.numel, dtype=kind)


def r_keep_dtype(a: Args):
    t = a.tensor("input")
    return Tensor(shape=t.shape, numel=t.numel, dtype=t.dtype)


def r_type(a: Args):
    if not a["args"].items and a.is_none("dtype"):
        return UNKNOWN  # x.type() is the type's name, a str
    return r_to(a)


op("Tensor.to", "input, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None",
   r_to, flow="keeps", group="pointwise", dtype="rule",
   examples=[("x.to(torch.float64)", "x = torch.randn(2)"), ("x.to('cpu')", "x = torch.randn(2)"),
             ("x.to(y)", "x = torch.randn(2); y = torch.arange(3)"), ("x.to(dtype=y.dtype)", "x = torch.arange(2); y = torch.randn(3)"),
             ("x.to(y.device, torch.long)", "x = torch.randn(2); y = torch.randn(3)")])
op("Tensor.type", "input, *args, dtype=None, non_blocking=False", r_type, flow="keeps", group="pointwise", dtype="rule",
   examples=[("x.type(y.dtype)", "x = torch.randn(2) > 0; y = torch.randn(3)"), ("x.type(torch.LongTensor)", "x = torch.randn(2)"),
             ("x.type('torch.LongTensor')", "x = torch.randn(2)")])
op("Tensor.cuda|Tensor.cpu", "input, *args, device=None, non_blocking=False, memory_format=None", r_keep_dtype, flow="keeps",
   group="pointwise", examples=[("x.cpu()", "x = torch.arange(2)")])

op("torch.device", "type, index=None", lambda a: TorchObject("torch.device"), flow="new", differentiable=False,
   group="creation", examples=["torch.device('cpu')", "torch.device('cuda' if torch.cuda.is_available() else 'cpu')"])


# -- legacy constructors


def _data_shape(v):
    """The shape of nested literal data (numbers in lists and tuples), or None when ``v`` is not such data."""
    if isinstance(v, Const) and isinstance(v.value, (bool, int, float)):
        return ()
    if isinstance(v, Number):
        return ()
    if isinstance(v, NDArray):
        return v.shape
    if isinstance(v, Seq) and v.items is not None:
        if not v.items:
            return (0,)
        subs = [_data_shape(i) for i in v.items]
        if any(s is None or s != subs[0] for s in subs):
            return None
        return (len(v.items),) + subs[0]
    return None


def _legacy(kind):
    def rule(a: Args):
        items = a["args"].items
        if items is None:
            return Tensor(shape=None, requires_grad=False, dtype=kind, grad_note=_NOTE, leaf=True)
        if not items:
            return Tensor(shape=(0,), requires_grad=False, dtype=kind or "float", grad_note=_NOTE, leaf=True)
        first = items[0]
        if len(items) == 1 and isinstance(first, NDArray):  # torch.FloatTensor(a): a copy, converted
            return Tensor(shape=first.shape, requires_grad=False, dtype=kind or first.dtype, grad_note=_NOTE, leaf=True)
        if len(items) == 1 and isinstance(first, Tensor):
            if kind is not None and first.dtype != kind:
                # torch.FloatTensor(long_tensor) raises TypeError; with an unknown dtype we cannot tell
                return UNKNOWN
            return Tensor(shape=first.shape, numel=first.numel, requires_grad=False, dtype=first.dtype,
                          grad_note=_NOTE, leaf=True)
        if len(items) == 1 and isinstance(first, Seq):
            ints = first.items is not None and all(isinstance(i, Const) and type(i.value) is int for i in first.items)
            # a list, or a tuple holding anything but ints, is data; a tuple of ints may be a torch.Size
            shape = _data_shape(first) if first.kind == "list" or not ints else None
            if shape is None:
                # data of unknown elements: its first dim is its length, so two or more make a non-scalar
                # (a tuple of ints is left alone: it may be a torch.Size)
                many = first.items is not None and len(first.items) >= 2 and not any(
                    isinstance(i, Const) and type(i.value) is int or isinstance(i, Number) and i.kind == "int"
                    for i in first.items)
                return Tensor(shape=None, numel=MANY if many else None, requires_grad=False, dtype=kind or "float",
                              grad_note=_NOTE, leaf=True)
            return Tensor(shape=shape, requires_grad=False, dtype=kind or "float", grad_note=_NOTE, leaf=True)
        if all(isinstance(i, Const) and type(i.value) is int or isinstance(i, Number) and i.kind == "int" for i in items):
            return Tensor(shape=tuple(dim_of(i) for i in items), requires_grad=False, dtype=kind or "float",
                          grad_note=_NOTE, leaf=True)
        # an unknown argument may be a tensor (of any dtype, for torch.Tensor) or data
        return Tensor(shape=None, requires_grad=False, dtype=kind, grad_note=_NOTE, leaf=True)

    return rule


op("torch.Tensor", "*args, device=None", _legacy(None), flow="new", group="creation",
   examples=["torch.Tensor([[1, 2], [0.5, 1]])", "torch.Tensor(2, 3)", "torch.Tensor()", "torch.Tensor([])"])
for _name, _kind in LEGACY_TENSOR_KINDS.items():
    op(f"torch.{_name}|torch.cuda.{_name}", "*args, device=None", _legacy(_kind), flow="new", group="creation",
       dtype=_kind, examples=[f"torch.{_name}([[2, 3], [3, 4], [4, 5]])", f"torch.{_name}(3)"]
       if _name != "HalfTensor" and _name != "BFloat16Tensor" else [f"torch.{_name}(2, 3)"])


def r_variable(a: Args):
    t = a.tensor("data")
    flag = a["requires_grad"]
    rg = bool(flag.value) if isinstance(flag, Const) else None
    return Tensor(shape=t.shape, numel=t.numel, requires_grad=rg, dtype=t.dtype, leaf=True,
                  grad_note="wrapped in Variable() without requires_grad=True" if rg is False else None)


op("torch.autograd.Variable|torch.autograd.variable.Variable", "data, requires_grad=False, volatile=False", r_variable,
   flow="keeps", group="creation",
   examples=[("Variable(x)", "from torch.autograd import Variable; x = torch.randn(2, requires_grad=True) * 2"),
             ("Variable(x, requires_grad=True)", "from torch.autograd import Variable; x = torch.randn(2, 3)")])
