"""NumPy arrays, as far as their shapes go: training code often builds its batches with NumPy (a replay buffer,
a data pipeline) and converts them with ``torch.from_numpy``/``torch.FloatTensor``; the batch dimension is
often the only proof that a loss has more than one element.

A NumPy array is an :class:`NDArray` (shape and dtype kind). Modelled: the constructors (``np.array``,
``np.asarray``, ``np.zeros``/``ones``/``empty``/``full`` and their ``_like`` forms, ``np.arange``), joining
(``np.stack``, ``np.concatenate``, ``np.expand_dims``), random arrays (``np.random.randn``/``rand``/
``randint``/``choice``/``normal``/``uniform``), dtype casts (``np.float32(a)``, ``a.astype(...)``), element-wise
arithmetic with broadcasting, reductions, indexing (as for tensors), ``len``, iteration and ``.shape``.
Anything else is unknown.
"""
from __future__ import annotations

from typing import Optional

from torchlint.analysis import shapes as S
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import UNKNOWN, Const, ModuleRef, NDArray, Number, Seq, Tensor, Value

_KINDS = {"float": ("float16", "float32", "float64", "float_", "double", "single", "half", "longdouble"),
          "int": ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intp", "int_", "intc",
                  "uint"),
          "bool": ("bool_", "bool8"), "complex": ("complex64", "complex128", "complex_", "cdouble")}
DTYPES = {name: kind for kind, names in _KINDS.items() for name in names}
_BUILTIN_KINDS = {"builtins.float": "float", "builtins.int": "int", "builtins.bool": "bool", "builtins.complex": "complex"}
_UNARY = frozenset("""abs absolute sqrt exp log log2 log10 log1p expm1 sin cos tan tanh sign square negative floor ceil
round clip""".split())
_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "prod", "std", "var", "amax", "amin"})


def dtype_kind(v: Value, default: Optional[str] = None) -> Optional[str]:
    """The kind of a NumPy dtype argument (``np.float32``, ``"float32"``, ``float``); ``default`` for None."""
    if v is None or isinstance(v, Const) and v.value is None:
        return default
    if isinstance(v, ModuleRef):
        if v.qual in _BUILTIN_KINDS:
            return _BUILTIN_KINDS[v.qual]
        if v.qual.startswith("numpy."):
            return DTYPES.get(v.qual[len("numpy."):])
    if isinstance(v, Const) and isinstance(v.value, str):
        return DTYPES.get(v.value) or DTYPES.get(v.value + "_") or _BUILTIN_KINDS.get("builtins." + v.value)
    return None


def _dims(v: Value) -> Optional[tuple]:
    """A shape argument: an int or a sequence of ints (unknown ints are unknown dims)."""
    if isinstance(v, Const) and type(v.value) is int:
        return (v.value,)
    if isinstance(v, Number) and v.kind == "int":
        return (None,)
    if isinstance(v, Seq) and v.items is not None:
        out = []
        for i in v.items:
            if isinstance(i, Const) and type(i.value) is int:
                out.append(i.value)
            elif isinstance(i, Number) and i.kind == "int":
                out.append(None)
            else:
                return None
        return tuple(out)
    return None


def data_shape(v: Value):
    """(shape, kind) of array-like data: an array, a number, nested lists and tuples of them; None when unknown."""
    if isinstance(v, NDArray):
        return v.shape, v.dtype
    if isinstance(v, Const) and isinstance(v.value, (bool, int, float, complex)):
        return (), ("bool" if isinstance(v.value, bool) else "int" if isinstance(v.value, int)
                    else "float" if isinstance(v.value, float) else "complex")
    if isinstance(v, Number):
        return (), v.kind
    if isinstance(v, Seq) and v.items is not None:
        if not v.items:
            return (0,), "float"
        subs = [data_shape(i) for i in v.items]
        if any(s is None or s[0] is None for s in subs):
            return None
        if any(s[0] != subs[0][0] for s in subs):
            return None  # ragged
        kinds = {s[1] for s in subs}
        kind = next(iter(kinds)) if len(kinds) == 1 else "float" if kinds <= {"int", "float", "bool"} else None
        return (len(v.items),) + subs[0][0], kind
    return None


def _array(shape, kind) -> NDArray:
    return NDArray(shape=None if shape is None else tuple(shape), dtype=kind)


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def call(name: str, args: list, kwargs: dict) -> Value:
    """``numpy.NAME(*args, **kwargs)`` (``name`` without the ``numpy.`` prefix)."""
    try:
        return _call(name, args, kwargs)
    except (ShapeUnknown, TypeError, ValueError, IndexError):
        return UNKNOWN


def _call(name: str, args: list, kwargs: dict) -> Value:
    if name in DTYPES:  # np.float32(x): a cast
        x = _arg(args, kwargs, 0, "x")
        if isinstance(x, NDArray):
            return NDArray(x.shape, DTYPES[name])
        got = data_shape(x) if x is not None else None
        if got is not None and got[0] == ():
            return Number(DTYPES[name] if DTYPES[name] != "complex" else None)
        return _array(got[0], DTYPES[name]) if got is not None else UNKNOWN
    if name in ("zeros", "ones", "empty"):
        return _array(_dims(_arg(args, kwargs, 0, "shape")), dtype_kind(_arg(args, kwargs, 1, "dtype"), "float"))
    if name == "full":
        fill = _arg(args, kwargs, 1, "fill_value")
        got = data_shape(fill) if fill is not None else None
        return _array(_dims(_arg(args, kwargs, 0, "shape")),
                      dtype_kind(_arg(args, kwargs, 2, "dtype"), got[1] if got else None))
    if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        src = _arg(args, kwargs, 0, "a")
        got = data_shape(src) if src is not None else None
        if got is None:
            return NDArray()
        return _array(got[0], dtype_kind(kwargs.get("dtype"), got[1]))
    if name in ("array", "asarray", "ascontiguousarray", "copy"):
        got = data_shape(_arg(args, kwargs, 0, "object", UNKNOWN))
        kind = dtype_kind(_arg(args, kwargs, 1, "dtype"), got[1] if got else None)
        return _array(got[0], kind) if got is not None else NDArray(dtype=kind)
    if name == "arange":
        nums = [a.value for a in args if isinstance(a, Const) and type(a.value) is int]
        if len(nums) == len(args) and 1 <= len(nums) <= 3 and not kwargs:
            return NDArray((len(range(*nums)),), "int")
        return NDArray((None,), None)
    if name in ("stack", "concatenate", "vstack", "hstack"):
        return _join(name, args, kwargs)
    if name == "expand_dims":
        a, axis = _arg(args, kwargs, 0, "a"), _arg(args, kwargs, 1, "axis")
        if isinstance(a, NDArray) and a.shape is not None and isinstance(axis, Const) and type(axis.value) is int:
            n = axis.value if axis.value >= 0 else len(a.shape) + 1 + axis.value
            if 0 <= n <= len(a.shape):
                return NDArray(a.shape[:n] + (1,) + a.shape[n:], a.dtype)
        return NDArray(dtype=a.dtype if isinstance(a, NDArray) else None)
    if name.startswith("random."):
        return _random(name[len("random."):], args, kwargs)
    if name in _UNARY:
        x = _arg(args, kwargs, 0, "x")
        return NDArray(x.shape, x.dtype) if isinstance(x, NDArray) else UNKNOWN
    if name in _REDUCTIONS:
        x = _arg(args, kwargs, 0, "a")
        return reduce(x, _arg(args, kwargs, 1, "axis"), kwargs.get("keepdims")) if isinstance(x, NDArray) else UNKNOWN
    return UNKNOWN


def _join(name, args, kwargs):
    seq = _arg(args, kwargs, 0, "arrays")
    axis = _arg(args, kwargs, 1, "axis", Const(0))
    if not (isinstance(seq, Seq) and seq.items and isinstance(axis, Const) and type(axis.value) is int):
        return NDArray()
    got = [data_shape(i) for i in seq.items]
    if any(g is None for g in got):
        return NDArray()
    shapes = [g[0] for g in got]
    kinds = {g[1] for g in got}
    kind = next(iter(kinds)) if len(kinds) == 1 else None
    if name == "vstack":
        shapes = [s if len(s) >= 2 else (1,) + s for s in shapes]
        name, axis = "concatenate", Const(0)
    if name == "hstack":
        name, axis = "concatenate", Const(0 if len(shapes[0]) == 1 else 1)
    first = shapes[0]
    if name == "stack":
        if any(s != first for s in shapes):
            return NDArray(dtype=kind)
        n = axis.value if axis.value >= 0 else len(first) + 1 + axis.value
        return NDArray(first[:n] + (len(shapes),) + first[n:], kind) if 0 <= n <= len(first) else NDArray()
    n = axis.value if axis.value >= 0 else len(first) + axis.value
    if not 0 <= n < len(first) or any(len(s) != len(first) for s in shapes):
        return NDArray(dtype=kind)
    if any(s[:n] + s[n + 1:] != first[:n] + first[n + 1:] for s in shapes):
        return NDArray(dtype=kind)
    along = [s[n] for s in shapes]
    total = sum(along) if all(isinstance(d, int) for d in along) else None
    return NDArray(first[:n] + (total,) + first[n + 1:], kind)


def _random(name, args, kwargs):
    if name in ("randn", "rand", "random_sample"):
        dims = tuple(a.value if isinstance(a, Const) and type(a.value) is int else None for a in args)
        return Number("float") if not dims else NDArray(dims, "float")
    if name in ("randint", "normal", "uniform", "choice", "random", "standard_normal", "binomial", "poisson"):
        pos = {"randint": 2, "normal": 2, "uniform": 2, "choice": 1, "binomial": 2, "poisson": 1}.get(name, 0)
        size = _arg(args, kwargs, pos, "size", Const(None))
        kind = "int" if name in ("randint", "binomial", "poisson") else "float"
        if name == "choice":
            a = _arg(args, kwargs, 0, "a")
            kind = a.dtype if isinstance(a, NDArray) else "int" if isinstance(a, Const) and type(a.value) is int \
                or isinstance(a, Number) and a.kind == "int" else None
        if isinstance(size, Const) and size.value is None:
            return Number(kind if kind in ("int", "float") else None)
        dims = _dims(size)
        return NDArray(dims, kind) if dims is not None else NDArray(dtype=kind)
    return UNKNOWN


def reduce(a: NDArray, axis: Value, keepdims=None) -> Value:
    """``a.sum(axis)``, ``np.mean(a, axis)``...: a number for a reduction over everything."""
    keep = isinstance(keepdims, Const) and bool(keepdims.value)
    if axis is None or isinstance(axis, Const) and axis.value is None:
        if keep:
            return NDArray(None if a.shape is None else (1,) * len(a.shape), a.dtype)
        return Number(a.dtype if a.dtype in ("int", "float", "bool") else None)
    dim = axis.value if isinstance(axis, Const) and type(axis.value) is int else None
    if dim is None or a.shape is None:
        return NDArray(dtype=a.dtype)
    try:
        return NDArray(S.reduce_shape(a.shape, dim, keep), a.dtype)
    except ShapeUnknown:
        return NDArray(dtype=a.dtype)


def method(a: NDArray, name: str, args: list, kwargs: dict) -> Value:
    """``a.NAME(*args, **kwargs)`` on an array."""
    if name == "astype":
        return NDArray(a.shape, dtype_kind(_arg(args, kwargs, 0, "dtype")))
    if name == "copy":
        return a
    if name in ("flatten", "ravel"):
        n = S.numel(a.shape)
        return NDArray((n,) if n is not None else (None,), a.dtype)
    if name == "reshape":
        target = args[0] if len(args) == 1 and isinstance(args[0], Seq) else Seq("tuple", tuple(args))
        dims = _dims(target) if not kwargs else None
        if dims is None:
            return NDArray(dtype=a.dtype)
        try:
            return NDArray(S.reshape(a.shape, [-1 if d == -1 else d for d in dims]), a.dtype)
        except ShapeUnknown:
            return NDArray(dtype=a.dtype)
    if name in _REDUCTIONS:
        return reduce(a, _arg(args, kwargs, 0, "axis"), kwargs.get("keepdims"))
    if name == "item":
        return Number(a.dtype if a.dtype in ("int", "float", "bool") else None)
    if name == "tolist":
        return UNKNOWN
    return UNKNOWN


def attr(a: NDArray, name: str) -> Value:
    if name == "shape":
        if a.shape is None:
            return Seq("tuple", None, Number("int"))
        return Seq("tuple", tuple(Const(d) if isinstance(d, int) else Number("int") for d in a.shape))
    if name == "ndim":
        return Const(len(a.shape)) if a.shape is not None else Number("int")
    if name == "size":
        n = S.numel(a.shape)
        return Const(n) if n is not None else Number("int")
    if name == "T":
        return NDArray(None if a.shape is None else tuple(reversed(a.shape)), a.dtype)
    return UNKNOWN


def binop(left: Value, right: Value, divide: bool = False) -> Value:
    """Element-wise arithmetic with an array: broadcasting, as for tensors."""
    shapes, kinds = [], []
    for v in (left, right):
        got = data_shape(v) if not isinstance(v, Seq) else None
        if got is None:
            return UNKNOWN
        shapes.append(got[0])
        kinds.append(got[1])
    try:
        shape = S.broadcast(*shapes)
    except ShapeUnknown:
        return UNKNOWN
    kind = "float" if divide or "float" in kinds else kinds[0] if kinds[0] == kinds[1] else None
    return NDArray(shape, kind)


def element(a: NDArray) -> Value:
    """What iterating an array gives: a row, or a number for a 1-D array."""
    if a.shape is None:
        return UNKNOWN
    if len(a.shape) == 1:
        return Number(a.dtype if a.dtype in ("int", "float", "bool") else None)
    return NDArray(a.shape[1:], a.dtype) if a.shape else UNKNOWN


def as_tensor_data(a: NDArray, kind: Optional[str] = None) -> Tensor:
    """The tensor ``torch.from_numpy(a)`` / ``torch.tensor(a)`` / ``torch.FloatTensor(a)`` makes."""
    return Tensor(shape=a.shape, requires_grad=False, dtype=kind or a.dtype, grad_note="converted from a NumPy array",
                  leaf=True)
