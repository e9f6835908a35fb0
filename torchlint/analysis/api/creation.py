"""Creation ops: ``torch.tensor`` (the shape and dtype kind of nested literal data), ``randn``/``zeros``/... of
sizes, ``full``, ``arange``, ``linspace``, ``eye``, ``randint``, the ``*_like`` and ``Tensor.new_*`` families, and
``as_tensor``/``from_numpy``.

A created tensor is a leaf that requires grad only with ``requires_grad=True``; one made from NumPy or other
non-tensor data never does.  One ``op(...)`` call is one entry (see :mod:`torchlint.analysis.api`); its examples
are checked against real PyTorch by ``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis.api import Args, dim_of, dtype_kind, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Const, NDArray, Number, Seq, Tensor


CREATE_KW = "*, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None, generator=None"


def _rg(a: Args):
    v = a["requires_grad"]
    if isinstance(v, Const):
        return bool(v.value)
    return None


def _created(a: Args, shape, default_dtype="float") -> Tensor:
    dt = dtype_kind(a["dtype"]) if not a.is_none("dtype") else default_dtype
    rg = _rg(a)
    note = None if rg else "created without requires_grad=True"
    return Tensor(shape=shape, requires_grad=rg, dtype=dt, grad_note=note, leaf=True)


def _literal_shape(v):
    """Shape and dtype kind of a nested literal for ``torch.tensor``."""
    if isinstance(v, Const):
        if isinstance(v.value, bool):
            return (), "bool"
        if isinstance(v.value, int):
            return (), "int"
        if isinstance(v.value, float):
            return (), "float"
        if isinstance(v.value, complex):
            return (), "complex"
        raise ShapeUnknown("not a number")
    if isinstance(v, Number):
        return (), v.kind
    if isinstance(v, (Tensor, NDArray)):
        if v.shape is None:
            raise ShapeUnknown("unknown")
        return v.shape, v.dtype
    if isinstance(v, Seq) and v.items is not None:
        if not v.items:
            return (0,), "float"
        subs = [_literal_shape(i) for i in v.items]
        first = subs[0][0]
        if any(s != first for s, _ in subs):
            raise ShapeUnknown("ragged")
        kinds = [k for _, k in subs]
        order = ["bool", "int", "float", "complex"]
        kind = None if None in kinds else max(kinds, key=order.index)
        return (len(v.items),) + first, kind
    raise ShapeUnknown("unknown literal")


def r_tensor(a: Args):
    shape, kind = _literal_shape(a["data"])
    t = _created(a, shape, default_dtype=kind)
    if a.is_none("dtype"):
        t = t.with_(dtype=kind, shape=shape)
    return t


def r_size_create(a: Args):
    return _created(a, a.size("size"))


def r_full(a: Args):
    kind = None
    fv = a["fill_value"]
    if isinstance(fv, Const):
        kind = "bool" if isinstance(fv.value, bool) else "int" if isinstance(fv.value, int) else "float"
    return _created(a, a.size("size"), default_dtype=kind)


def r_like(a: Args):
    src = a.tensor("input")
    t = _created(a, src.shape, default_dtype=src.dtype)
    if src.shape is None:
        t = t.with_(numel=src.numel)
    return t


def r_full_like(a: Args):
    return r_like(a)


def r_randint(a: Args):
    # randint(high, size) or randint(low, high, size)
    third = a["size"]
    if isinstance(third, Const) and third.value is None:
        size_val = a["high"]
    else:
        size_val = third
    items = size_val.items if isinstance(size_val, Seq) else None
    if items is None:
        raise ShapeUnknown("size")
    return _created(a, tuple(dim_of(i) for i in items), default_dtype="int")


def r_randint_like(a: Args):
    src = a.tensor("input")
    return _created(a, src.shape, default_dtype=src.dtype)


def r_arange(a: Args):
    start, end, step = a["start"], a["end"], a["step"]
    if isinstance(end, Const) and end.value is None:
        start, end = Const(0), start
    vals = []
    for v in (start, end, step):
        if not isinstance(v, Const) or not isinstance(v.value, (int, float)):
            return _created(a, (None,), default_dtype=None)
        vals.append(v.value)
    s, e, st = vals
    import math

    n = max(0, math.ceil((e - s) / st))
    kind = "int" if all(isinstance(x, int) and not isinstance(x, bool) for x in vals) else "float"
    return _created(a, (n,), default_dtype=kind)


def r_linspace(a: Args):
    return _created(a, (a.int("steps"),))


def r_eye(a: Args):
    n = dim_of(a["n"])
    m = n if a.is_none("m") else dim_of(a["m"])
    return _created(a, (n, m))


def r_randperm(a: Args):
    return _created(a, (dim_of(a["n"]),), default_dtype="int")


def r_new_size(a: Args):
    src = a.tensor("input")
    t = _created(a, a.size("size"), default_dtype=src.dtype)
    return t


def r_new_full(a: Args):
    src = a.tensor("input")
    return _created(a, a.size("size"), default_dtype=src.dtype)


def r_no_data(a: Args):
    # torch.as_tensor / from_numpy: does not require grad; the shape is a NumPy array's, or nested data's
    data = a["data"]
    if isinstance(data, NDArray):
        return Tensor(shape=data.shape, requires_grad=False, dtype=data.dtype, grad_note="converted from a NumPy array")
    if isinstance(data, Tensor):
        return Tensor(shape=data.shape, numel=data.numel, dtype=data.dtype)  # as_tensor(t): t itself, grad and all
    try:
        shape, kind = _literal_shape(data)
    except ShapeUnknown:
        shape, kind = None, None
    return Tensor(shape=shape, requires_grad=False, dtype=kind, grad_note="converted from non-tensor data")


# ---------------------------------------------------------------------------
# the entries

for _name in ("randn", "rand", "zeros", "ones", "empty"):
    op(f"torch.{_name}", f"*size, {CREATE_KW}", r_size_create, flow="new", group="creation",
       examples=[f"torch.{_name}(2, 3)", f"torch.{_name}((4,))", f"torch.{_name}(size=(1, 1))", f"torch.{_name}(())"])
op("torch.tensor", "data, *, dtype=None, device=None, requires_grad=False, pin_memory=False", r_tensor, flow="new",
   group="creation",
   examples=["torch.tensor([[1.0, 2.0], [3.0, 4.0]])", "torch.tensor(2.0)", "torch.tensor([5.0])", "torch.tensor([])"])
op("torch.full", f"size, fill_value, {CREATE_KW}", r_full, flow="new", group="creation",
   examples=["torch.full((2, 3), 1.5)", "torch.full([1], 7.0)"])
op("torch.randint", f"low, high=None, size=None, {CREATE_KW}", r_randint, flow="new", group="creation",
   examples=["torch.randint(5, (3,))", "torch.randint(0, 5, (2, 2))"])
op("torch.arange", f"start, end=None, step=1, {CREATE_KW}", r_arange, flow="new", group="creation",
   examples=["torch.arange(5)", "torch.arange(1, 4)", "torch.arange(0, 1, 0.25)", "torch.arange(3.0)"])
op("torch.linspace|torch.logspace", f"start, end, steps, {CREATE_KW}", r_linspace, flow="new", group="creation",
   examples=["torch.linspace(0, 1, 5)", "torch.logspace(0, 1, 1)"])
op("torch.eye", f"n, m=None, {CREATE_KW}", r_eye, flow="new", group="creation",
   examples=["torch.eye(3)", "torch.eye(2, 4)"])
op("torch.randperm", f"n, {CREATE_KW}", r_randperm, flow="new", group="creation", examples=["torch.randperm(4)"])
for _name in ("zeros_like", "ones_like", "randn_like", "rand_like", "empty_like"):
    op(f"torch.{_name}", "input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None",
       r_like, flow="new", group="creation", examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)")])
op("torch.full_like", "input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None",
   r_full_like, flow="new", group="creation", examples=[("torch.full_like(x, 2.0)", "x = torch.randn(3)")])
op("torch.randint_like", "input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None",
   r_randint_like, flow="new", group="creation", examples=[("torch.randint_like(x, 5)", "x = torch.randn(2, 2)")])
for _name in ("new_zeros", "new_ones", "new_empty"):
    op(f"Tensor.{_name}", "input, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False",
       r_new_size, flow="new", group="creation", examples=[(f"x.{_name}((2, 5))", "x = torch.randn(3)"), (f"x.{_name}(4)", "x = torch.randn(3)")])
op("Tensor.new_full", "input, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False",
   r_new_full, flow="new", group="creation", examples=[("x.new_full((2,), 1.0)", "x = torch.randn(3)")])
op("Tensor.new_tensor", "input, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False",
   lambda a: r_tensor(Args({**a.bound, "data": a["data"]}, a.env)), flow="new", group="creation",
   examples=[("x.new_tensor([1.0, 2.0])", "x = torch.randn(3)")])
op("torch.as_tensor|torch.from_numpy|torch.asarray", "data, *args, dtype=None, device=None, copy=None, requires_grad=False",
   r_no_data, flow="new", group="creation")
