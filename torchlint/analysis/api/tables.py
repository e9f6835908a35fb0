"""The entries of the PyTorch API model.

Each ``op(...)``/``module_class(...)`` call below is one entry; see
:mod:`torchlint.analysis.api` for what the fields mean.  Examples are checked against
real PyTorch by ``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, dim_of, dtype_kind, module_class, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import MANY, UNKNOWN, Const, NDArray, Number, PyConverted, Seq, Tensor

# ---------------------------------------------------------------------------
# helpers for rules

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


# -- element-wise


def r_same(a: Args):
    t = a.tensor("input")
    return Tensor(shape=t.shape, numel=t.numel)


def r_binary(a: Args):
    return S.broadcast(a.tensor("input").shape, a.tensor("other").shape)


def r_ternary(name1, name2, name3):
    def rule(a: Args):
        return S.broadcast(a.tensor(name1).shape, a.tensor(name2).shape, a.tensor(name3).shape)

    return rule


def r_detach(a: Args):
    t = a.tensor("input")
    return Tensor(shape=t.shape, numel=t.numel, requires_grad=False, dtype=t.dtype,
                  grad_note="detached from the graph by .detach()", leaf=True)


def r_requires_grad_(a: Args):
    t = a.tensor("input")
    want = a["requires_grad"]
    rg = bool(want.value) if isinstance(want, Const) else None
    # a tensor that does not require grad is a leaf of the graph, whatever op made it: requires_grad_()
    # makes it a leaf that requires grad (``(torch.randn(3) * 0.5).requires_grad_()``)
    leaf = t.leaf or (t.requires_grad is False and rg is True)
    return Tensor(shape=t.shape, numel=t.numel, requires_grad=rg, dtype=t.dtype, leaf=leaf)


def r_cast(kind):
    def rule(a: Args):
        t = a.tensor("input")
        return Tensor(shape=t.shape, numel=t.numel, dtype=kind)

    return rule


# -- reductions


def r_reduce(a: Args):
    t = a.tensor("input")
    dim = a.dims("dim")
    keepdim = a.bool("keepdim")
    if dim is None and not keepdim:
        return ()
    return S.reduce_shape(t.shape, dim, keepdim)


def r_reduce_all(a: Args):
    return ()


def values_indices(shape) -> Seq:
    """A (values, indices) named tuple (torch.return_types), its values of ``shape``."""
    return Seq("tuple", (Tensor(shape=shape), Tensor(shape=shape, dtype="int", requires_grad=False)),
               names=("values", "indices"))


def r_values_indices(a: Args):
    """max/min/median/mode with a dim: a (values, indices) pair, whatever the input's shape."""
    t = a.tensor("input")
    if a.is_none("dim"):
        return ()
    try:
        shape = S.reduce_shape(t.shape, a.int("dim"), a.bool("keepdim"))
    except ShapeUnknown:
        shape = None
    return values_indices(shape)


def r_max(a: Args):
    other = a["dim"]
    if isinstance(other, Tensor):  # torch.max(a, b): element-wise
        return S.broadcast(a.tensor("input").shape, other.shape)
    return r_values_indices(a)


def r_arg(a: Args):
    t = a.tensor("input")
    if a.is_none("dim"):
        return Tensor(shape=(), dtype="int", requires_grad=False)
    return Tensor(shape=S.reduce_shape(t.shape, a.int("dim"), a.bool("keepdim")), dtype="int", requires_grad=False)


def r_std(a: Args):
    t = a.tensor("input")
    dim = a["dim"]
    # std(input, unbiased: bool) legacy form
    if isinstance(dim, Const) and isinstance(dim.value, bool):
        return ()
    d = a.dims("dim")
    keepdim = a.bool("keepdim")
    if d is None and not keepdim:
        return ()
    return S.reduce_shape(t.shape, d, keepdim)


def r_std_mean(a: Args):
    s = r_std(a)
    return Seq("tuple", (Tensor(shape=s), Tensor(shape=s)))


def r_norm(a: Args):
    t = a.tensor("input")
    d = a.dims("dim")
    keepdim = a.bool("keepdim")
    if d is None and not keepdim:
        return ()
    return S.reduce_shape(t.shape, d, keepdim)


def r_logsumexp(a: Args):
    return S.reduce_shape(a.shape("input"), a.dims("dim"), a.bool("keepdim"))


def r_cum(a: Args):
    t = a.tensor("input")
    S.norm_dim(a.int("dim"), len(a.shape("input")))
    return Tensor(shape=t.shape, numel=t.numel)


def r_softmax(a: Args):
    t = a.tensor("input")
    if not a.is_none("dim") and t.shape is not None:
        S.norm_dim(a.int("dim"), len(t.shape))
    return Tensor(shape=t.shape, numel=t.numel)


# -- linear algebra


def r_matmul(a: Args):
    return S.matmul(a.shape("input"), a.shape("other"))


def r_mm(a: Args):
    x, y = a.shape("input"), a.shape("mat2")
    if len(x) != 2 or len(y) != 2:
        raise ShapeUnknown("mm needs matrices")
    return (x[0], y[1])


def r_bmm(a: Args):
    x, y = a.shape("input"), a.shape("mat2")
    if len(x) != 3 or len(y) != 3:
        raise ShapeUnknown("bmm needs 3-d")
    return (x[0], x[1], y[2])


def r_mv(a: Args):
    x, _ = a.shape("input"), a.shape("vec")
    return (x[0],)


def r_dot(a: Args):
    return ()


def r_outer(a: Args):
    x, y = a.shape("input"), a.shape("vec2")
    return (x[0], y[0])


def r_addmm(a: Args):
    inner = S.matmul(a.shape("mat1"), a.shape("mat2"))
    return S.broadcast(a.shape("input"), inner)


def r_linear(a: Args):
    x, w = a.shape("input"), a.shape("weight")
    if len(w) == 1:
        return x[:-1]
    return x[:-1] + (w[0],)


def p_linear(a: Args):
    """F.linear with an input of unknown rank: a 2-D weight's first dim is the output's last dim."""
    w = a["weight"]
    if not isinstance(w, Tensor) or w.shape is None or len(w.shape) != 2:
        raise ShapeUnknown("weight rank")
    out = w.shape[0] if isinstance(w.shape[0], int) else None
    return Tensor(shape=None, numel=MANY if out is not None and out != 1 else None)


def r_einsum(a: Args):
    spec = a.str("equation").replace(" ", "")
    operands = a["operands"].items or ()
    if len(operands) == 1 and isinstance(operands[0], Seq):
        operands = operands[0].items or ()
    if "..." in spec:
        raise ShapeUnknown("ellipsis")
    if "->" in spec:
        lhs, rhs = spec.split("->")
    else:
        lhs = spec
        letters = [c for c in lhs.replace(",", "")]
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ShapeUnknown("operand count")
    sizes: dict = {}
    for term, operand in zip(terms, operands):
        if not isinstance(operand, Tensor) or operand.shape is None or len(operand.shape) != len(term):
            raise ShapeUnknown("operand")
        for c, d in zip(term, operand.shape):
            if c in sizes and sizes[c] != d:
                if sizes[c] == 1:
                    sizes[c] = d
                elif d != 1:
                    sizes[c] = None
            else:
                sizes.setdefault(c, d)
    return tuple(sizes.get(c) for c in rhs)


def r_tensordot(a: Args):
    x, y = a.shape("a"), a.shape("b")
    dims = a.const("dims")
    if isinstance(dims, int):
        return x[: len(x) - dims] + y[dims:]
    raise ShapeUnknown("dims form")


# -- shape ops


def _size_arg(a: Args, name="shape"):
    return a.size(name)


def r_view(a: Args):
    t = a.tensor("input")
    v = a["shape"]
    if isinstance(v, Seq) and v.items and len(v.items) == 1:
        only = v.items[0]
        k = dtype_kind(only)
        if k:  # view(dtype)
            return Tensor(shape=None, dtype=k)
    target = _size_arg(a)
    return S.reshape(t.shape, target)


def r_view_as(a: Args):
    return a.tensor("other").shape


def r_flatten(a: Args):
    return S.flatten(a.shape("input"), a.int("start_dim"), a.int("end_dim"))


def r_unflatten(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    sizes = list(a.size("sizes"))
    inner = S.reshape((shape[d],), sizes)
    return shape[:d] + inner + shape[d + 1 :]


def r_squeeze(a: Args):
    return S.squeeze(a.shape("input"), a.dims("dim"))


def r_unsqueeze(a: Args):
    return S.unsqueeze(a.shape("input"), a.int("dim"))


def r_permute(a: Args):
    dims = a.size("dims")
    if any(not isinstance(d, int) for d in dims):
        raise ShapeUnknown("dims")
    return S.permute(a.shape("input"), dims)


def r_transpose(a: Args):
    return S.transpose(a.shape("input"), a.int("dim0"), a.int("dim1"))


def r_t(a: Args):
    s = a.shape("input")
    if len(s) > 2:
        raise ShapeUnknown("t() needs <= 2-D")
    return tuple(reversed(s))


def r_expand(a: Args):
    shape = a.shape("input")
    sizes = _size_arg(a, "size")
    if len(sizes) < len(shape):
        raise ShapeUnknown("expand to fewer dims")
    out = []
    offset = len(sizes) - len(shape)
    for i, d in enumerate(sizes):
        if d == -1:
            if i < offset:
                raise ShapeUnknown("-1 in new leading dim")
            out.append(shape[i - offset])
        else:
            out.append(d)
    return tuple(out)


def r_expand_as(a: Args):
    return a.tensor("other").shape


def r_repeat(a: Args):
    shape = a.shape("input")
    reps = _size_arg(a, "repeats")
    if len(reps) < len(shape):
        raise ShapeUnknown("repeat with fewer dims")
    padded = (1,) * (len(reps) - len(shape)) + shape
    return tuple(d * r if isinstance(d, int) and isinstance(r, int) else None for d, r in zip(padded, reps))


def r_tile(a: Args):
    shape = a.shape("input")
    reps = _size_arg(a, "dims")
    n = max(len(shape), len(reps))
    padded = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + tuple(reps)
    return tuple(d * r if isinstance(d, int) and isinstance(r, int) else None for d, r in zip(padded, reps))


def _tensor_list(a: Args, name="tensors"):
    v = a[name]
    if isinstance(v, Seq) and v.items is None:
        el = v.elem
        if isinstance(el, Tensor):
            return None, el
        raise ShapeUnknown("unknown list")
    return a.tensors(name), None


def r_cat(a: Args):
    items, elem = _tensor_list(a)
    dim = a.int("dim")
    if items is None:
        if elem.shape is None:
            raise ShapeUnknown("rank")
        d = S.norm_dim(dim, len(elem.shape))
        # k >= 1 copies (cat of an empty list raises) of a tensor with numel != 1
        return Tensor(shape=tuple(None if i == d else x for i, x in enumerate(elem.shape)),
                      numel=MANY if elem.numel == MANY else None)
    return S.cat([t.shape for t in items], dim)


def r_stack(a: Args):
    items, elem = _tensor_list(a)
    dim = a.int("dim")
    if items is None:
        return S.stack([elem.shape], dim, None)
    return S.stack([t.shape for t in items], dim, len(items))


def r_hstack(a: Args):
    items, _ = _tensor_list(a)
    if items is None:
        raise ShapeUnknown("unknown list")
    shapes = [t.shape for t in items]
    if any(s is None for s in shapes):
        raise ShapeUnknown("rank")
    shapes = [s if len(s) else (1,) for s in shapes]
    return S.cat(shapes, 0 if len(shapes[0]) == 1 else 1)


def r_vstack(a: Args):
    items, _ = _tensor_list(a)
    if items is None:
        raise ShapeUnknown("unknown list")
    shapes = []
    for t in items:
        if t.shape is None:
            raise ShapeUnknown("rank")
        s = t.shape
        shapes.append((1, 1) if len(s) == 0 else (1,) + s if len(s) == 1 else s)
    return S.cat(shapes, 0)


def r_chunk(a: Args):
    shape = a.shape("input")
    n = a.int("chunks")
    d = S.norm_dim(a.int("dim"), len(shape))
    size = shape[d]
    if not isinstance(size, int):
        return Seq("tuple", None, Tensor(shape=tuple(None if i == d else x for i, x in enumerate(shape))))
    step = -(-size // n)
    parts = []
    start = 0
    while start < size:
        length = min(step, size - start)
        parts.append(Tensor(shape=tuple(length if i == d else x for i, x in enumerate(shape))))
        start += step
    return Seq("tuple", tuple(parts))


def r_split(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    size = shape[d]
    sec = a.const("split_size_or_sections")
    if isinstance(sec, int):
        if not isinstance(size, int):
            return Seq("tuple", None, Tensor(shape=tuple(None if i == d else x for i, x in enumerate(shape))))
        lengths = [min(sec, size - s) for s in range(0, size, sec)]
    else:
        lengths = list(sec)
    return Seq("tuple", tuple(Tensor(shape=tuple(n if i == d else x for i, x in enumerate(shape))) for n in lengths))


def r_unbind(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    rest = shape[:d] + shape[d + 1 :]
    if isinstance(shape[d], int):
        return Seq("tuple", tuple(Tensor(shape=rest) for _ in range(shape[d])))
    return Seq("tuple", None, Tensor(shape=rest))


def r_narrow(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    return tuple(dim_of(a["length"]) if i == d else x for i, x in enumerate(shape))


def r_select(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    return shape[:d] + shape[d + 1 :]


def r_index_select(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    idx = a.shape("index")
    n = idx[0] if idx else 1
    return tuple(n if i == d else x for i, x in enumerate(shape))


def r_gather(a: Args):
    return a.shape("index")


def r_masked_select(a: Args):
    return (None,)


def r_nonzero(a: Args):
    shape = a.shape("input")
    if a.bool("as_tuple"):
        return Seq("tuple", tuple(Tensor(shape=(None,), dtype="int", requires_grad=False) for _ in shape))
    return Tensor(shape=(None, len(shape)), dtype="int", requires_grad=False)


def r_topk(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    k = dim_of(a["k"])
    out = tuple(k if i == d else x for i, x in enumerate(shape))
    return values_indices(out)


def r_sort(a: Args):
    return values_indices(a.tensor("input").shape)


def r_eigh(a: Args):
    """(eigenvalues, eigenvectors) of a batch of symmetric matrices: shapes (..., n) and (..., n, n)."""
    shape = a.tensor("input").shape
    if shape is None:
        return Seq("tuple", (Tensor(shape=None), Tensor(shape=None)))
    if len(shape) < 2:
        raise ShapeUnknown("eigh of a tensor with fewer than 2 dims")
    return Seq("tuple", (Tensor(shape=shape[:-1]), Tensor(shape=shape)))


def r_movedim(a: Args):
    shape = a.shape("input")
    src, dst = a.const("source"), a.const("destination")
    src = (src,) if isinstance(src, int) else tuple(src)
    dst = (dst,) if isinstance(dst, int) else tuple(dst)
    n = len(shape)
    src = [S.norm_dim(s, n) for s in src]
    dst = [S.norm_dim(s, n) for s in dst]
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return tuple(shape[o] for o in order)


def r_diag(a: Args):
    shape = a.shape("input")
    off = abs(a.int("diagonal"))
    if len(shape) == 1:
        n = shape[0] + off if isinstance(shape[0], int) else None
        return (n, n)
    if len(shape) == 2:
        r, c = shape
        if isinstance(r, int) and isinstance(c, int):
            k = a.int("diagonal")
            return (max(0, min(r, c - k) if k >= 0 else min(r + k, c)),)
        return (None,)
    raise ShapeUnknown("diag rank")


def r_diff(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dim"), len(shape))
    n = a.int("n")
    return tuple((x - n if isinstance(x, int) else None) if i == d else x for i, x in enumerate(shape))


def r_where(a: Args):
    if a.is_none("input") and a.is_none("other"):
        shape = a.shape("condition")
        return Seq("tuple", tuple(Tensor(shape=(None,), dtype="int", requires_grad=False) for _ in shape))
    return S.broadcast(a.tensor("condition").shape, a.tensor("input").shape, a.tensor("other").shape)


# -- item family (results are Python objects)


def r_item(a: Args):
    t = a.tensor("input")
    return Number(kind=t.dtype if t.dtype in ("int", "float", "bool") else None, conv=".item()")


def r_tolist(a: Args):
    return PyConverted(".tolist()", "list")


def r_numpy(a: Args):
    # t.numpy() raises on a tensor that requires grad (unless force=True): nothing after it is known.
    force = a["force"]
    if isinstance(a["input"], Tensor) and a["input"].requires_grad and not (isinstance(force, Const) and force.value):
        return UNKNOWN
    return PyConverted(".numpy()", "NumPy array")


# ---------------------------------------------------------------------------
# creation ops

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

# ---------------------------------------------------------------------------
# element-wise

UNARY = """abs absolute neg negative exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh
asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sigmoid relu sqrt rsqrt square floor ceil round trunc fix frac sign sgn
reciprocal erf erfc erfinv lgamma digamma deg2rad rad2deg nan_to_num positive conj angle i0 sinc logit signbit isnan
isinf isfinite isposinf isneginf logical_not bitwise_not clone contiguous cpu""".split()
NON_DIFF_UNARY = {"sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "signbit", "isnan", "isinf", "isfinite", "isposinf",
                  "isneginf", "logical_not", "bitwise_not"}
REAL_UNARY = {"abs", "absolute", "angle"}
BOOL_UNARY = {"signbit", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_not"}
for _name in UNARY:
    _names = [f"Tensor.{_name}"]
    if _name not in ("cpu", "contiguous"):
        _names.append(f"torch.{_name}")
    if _name in ("sigmoid", "tanh", "relu"):
        _names.append(f"torch.nn.functional.{_name}")
    op(_names, "input", r_same, flow="keeps", differentiable=_name not in NON_DIFF_UNARY,
       dtype="bool" if _name in BOOL_UNARY else "real" if _name in REAL_UNARY else None, group="pointwise",
       examples=[(f"{_names[-1] if _names[-1].startswith('torch') else 'torch.' + _name}(x)" if len(_names) > 1 else f"x.{_name}()",
                  "x = torch.randint(0, 4, (2, 3))" if _name == "bitwise_not" else "x = torch.rand(2, 3) + 0.5")])
    if _name in ("abs", "neg", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "clamp", "floor", "ceil", "round",
                 "reciprocal", "sin", "cos", "square", "rsqrt", "log1p", "expm1", "sign", "trunc", "frac", "erf"):
        op(f"Tensor.{_name}_", "input", r_same, flow="keeps", group="pointwise",
           examples=[(f"x.{_name}_()", "x = torch.rand(2, 3) + 0.5")])
op("Tensor.detach|torch.detach", "input", r_detach, flow="keeps", group="pointwise", examples=[("x.detach()", "x = torch.randn(3)")])
op("Tensor.detach_", "input", r_detach, flow="keeps", group="pointwise")
op("Tensor.requires_grad_", "input, requires_grad=True", r_requires_grad_, flow="keeps", group="pointwise",
   examples=[("x.requires_grad_()", "x = torch.randn(3)")])
for _name, _kind in (("float", "float"), ("double", "float"), ("half", "float"), ("bfloat16", "float"), ("long", "int"),
                     ("int", "int"), ("short", "int"), ("byte", "int"), ("char", "int"), ("bool", "bool"),
                     ("cfloat", "complex"), ("cdouble", "complex")):
    op(f"Tensor.{_name}", "input, memory_format=None", r_cast(_kind), flow="keeps", differentiable=_kind in ("float", "complex"),
       group="pointwise", examples=[(f"x.{_name}()", "x = torch.randn(2, 2)")])
op("Tensor.type_as", "input, other", r_same, flow="keeps", group="pointwise", dtype=None,
   examples=[("x.type_as(y)", "x = torch.randn(3); y = torch.randn(1)")])
op("torch.clamp|torch.clip|Tensor.clamp|Tensor.clip|Tensor.clamp_|Tensor.clip_", "input, min=None, max=None", r_same, flow="keeps",
   group="pointwise", examples=[("torch.clamp(x, min=0.0)", "x = torch.randn(4)"), ("x.clamp(-1, 1)", "x = torch.randn(2, 2)")])
op("torch.nn.functional.softmax|torch.nn.functional.log_softmax|torch.softmax|torch.log_softmax|Tensor.softmax|Tensor.log_softmax",
   "input, dim=None, _stacklevel=3, dtype=None", r_softmax, flow="keeps", group="pointwise",
   examples=[("F.softmax(x, dim=1)", "x = torch.randn(2, 3)"), ("x.log_softmax(-1)", "x = torch.randn(4)")])
for _name in ("relu", "relu6", "gelu", "silu", "mish", "elu", "selu", "celu", "softplus", "softsign", "tanhshrink",
              "hardtanh", "hardswish", "hardsigmoid", "leaky_relu", "logsigmoid", "sigmoid", "tanh", "dropout",
              "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "softshrink", "hardshrink", "rrelu"):
    op(f"torch.nn.functional.{_name}", "input, *args, inplace=False, approximate='none', training=True, p=0.5, beta=1.0, threshold=20.0, negative_slope=0.01, alpha=1.0, min_val=-1.0, max_val=1.0, lambd=0.5, lower=0.125, upper=0.3333333333333333",
       r_same, flow="keeps", group="activations", examples=[(f"F.{_name}(x)", "x = torch.randn(2, 5)")])
op("torch.nn.functional.normalize", "input, p=2.0, dim=1, eps=1e-12, out=None", r_same, flow="keeps", group="pointwise",
   examples=[("F.normalize(x)", "x = torch.randn(3, 4)")])
op("torch.nn.functional.layer_norm", "input, normalized_shape, weight=None, bias=None, eps=1e-05", r_same, flow="keeps",
   group="pointwise", examples=[("F.layer_norm(x, (4,))", "x = torch.randn(3, 4)")])
op("torch.nn.functional.one_hot", "input, num_classes=-1", lambda a: Tensor(shape=a.shape("input") + (None if a.int("num_classes") < 0 else a.int("num_classes"),), dtype="int", requires_grad=False),
   flow="new", group="pointwise", examples=[("F.one_hot(t, 5)", "t = torch.tensor([0, 3, 1])")])

BINARY = """add sub subtract mul multiply div divide true_divide floor_divide pow maximum minimum fmax fmin atan2 arctan2 fmod
remainder hypot copysign xlogy logaddexp logaddexp2 nextafter""".split()
COMPARE = """eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or logical_xor
bitwise_and bitwise_or bitwise_xor isclose""".split()
for _name in BINARY:
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, other, *, alpha=1, rounding_mode=None, out=None", r_binary,
       flow="broadcast", differentiable=_name != "floor_divide", group="pointwise",
       examples=[(f"torch.{_name}(x, y)", "x = torch.rand(2, 3) + 0.5; y = torch.rand(3) + 0.5"),
                 (f"x.{_name}(y)", "x = torch.rand(4, 1) + 0.5; y = torch.rand(1, 5) + 0.5")])
    if _name in ("add", "sub", "mul", "div", "pow"):
        op(f"Tensor.{_name}_", "input, other, *, alpha=1, rounding_mode=None", lambda a: a.tensor("input").shape, flow="keeps",
           group="pointwise", examples=[(f"x.{_name}_(y)", "x = torch.rand(2, 3) + 0.5; y = torch.rand(3) + 0.5")])
for _name in COMPARE:
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, other, *, out=None, rtol=1e-05, atol=1e-08, equal_nan=False", r_binary,
       flow="broadcast", differentiable=False, dtype=None if _name.startswith("bitwise") else "bool", group="pointwise",
       examples=[(f"torch.{_name}(x, y)", "x = torch.randint(0, 3, (2, 3)); y = torch.randint(0, 3, (3,))")])
op("torch.where|Tensor.where", "condition, input=None, other=None", r_where, flow="broadcast", group="pointwise",
   examples=[("torch.where(c, x, y)", "c = torch.rand(2, 3) > 0.5; x = torch.randn(2, 3); y = torch.randn(3)")])
op("torch.lerp|Tensor.lerp", "input, end, weight", r_ternary("input", "end", "weight"), flow="broadcast", group="pointwise",
   examples=[("torch.lerp(x, y, 0.5)", "x = torch.randn(3); y = torch.randn(2, 3)")])
op("torch.addcmul|torch.addcdiv|Tensor.addcmul|Tensor.addcdiv", "input, tensor1, tensor2, *, value=1",
   r_ternary("input", "tensor1", "tensor2"), flow="broadcast", group="pointwise",
   examples=[("torch.addcmul(x, y, z)", "x = torch.randn(3); y = torch.randn(2, 1); z = torch.randn(3)")])
op("Tensor.masked_fill|Tensor.masked_fill_", "input, mask, value", lambda a: a.shape("input"), flow="keeps", group="pointwise",
   examples=[("x.masked_fill(m, 0.0)", "x = torch.randn(2, 3); m = torch.rand(2, 3) > 0.5")])

# ---------------------------------------------------------------------------
# reductions

for _name in ("sum", "mean", "nansum", "nanmean"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, keepdim=False, *, dtype=None, out=None", r_reduce, group="reduction",
       examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)"), (f"x.{_name}(dim=1)", "x = torch.randn(2, 3)"),
                 (f"x.{_name}(0, keepdim=True)", "x = torch.randn(2, 3)"), (f"x.{_name}((0, 1))", "x = torch.randn(2, 3, 4)"),
                 (f"x.{_name}(-1)", "x = torch.randn(5)")])
for _name in ("amax", "amin"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=(), keepdim=False, *, out=None", r_reduce, group="reduction",
       examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)"), (f"x.{_name}(1)", "x = torch.randn(2, 3)")])
op("torch.prod|Tensor.prod", "input, dim=None, keepdim=False, *, dtype=None", r_reduce, group="reduction",
   examples=[("torch.prod(x)", "x = torch.randn(2, 3)"), ("x.prod(1)", "x = torch.randn(2, 3)")])
for _name in ("all", "any"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, keepdim=False, *, out=None", r_reduce, differentiable=False,
       dtype="bool", group="reduction", examples=[(f"x.{_name}()", "x = torch.rand(3) > 0.5"), (f"x.{_name}(0)", "x = torch.rand(3, 2) > 0.5")])
op("torch.count_nonzero|Tensor.count_nonzero", "input, dim=None", lambda a: S.reduce_shape(a.tensor("input").shape, a.dims("dim"), False),
   differentiable=False, dtype="int", group="reduction", examples=[("torch.count_nonzero(x)", "x = torch.randn(2, 3)"), ("x.count_nonzero(1)", "x = torch.randn(2, 3)")])
for _name in ("max", "min"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, keepdim=False, *, out=None", r_max, group="reduction",
       examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)"), (f"x.{_name}(dim=1)", "x = torch.randn(2, 3)"),
                 (f"torch.{_name}(x, y)", "x = torch.randn(2, 3); y = torch.randn(3)"), (f"x.{_name}(0, keepdim=True)", "x = torch.randn(2, 3)")])
for _name in ("median", "nanmedian", "mode"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, keepdim=False", r_values_indices, group="reduction",
       examples=[(f"x.{_name}(1)", "x = torch.randn(2, 3)")] + ([(f"torch.{_name}(x)", "x = torch.randn(2, 3)")] if _name != "mode" else []))
for _name in ("argmax", "argmin"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, keepdim=False", r_arg, differentiable=False, group="reduction",
       examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)"), (f"x.{_name}(1)", "x = torch.randn(2, 3)")])
for _name in ("std", "var"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim=None, unbiased=True, keepdim=False, *, correction=None", r_std,
       group="reduction", examples=[(f"torch.{_name}(x)", "x = torch.randn(2, 3)"), (f"x.{_name}(1)", "x = torch.randn(2, 3)"),
                                    (f"x.{_name}(dim=0, keepdim=True)", "x = torch.randn(2, 3)")])
    op(f"torch.{_name}_mean", "input, dim=None, unbiased=True, keepdim=False, *, correction=None", r_std_mean, group="reduction",
       examples=[(f"torch.{_name}_mean(x, 1)", "x = torch.randn(2, 3)")])
op("torch.norm|Tensor.norm", "input, p='fro', dim=None, keepdim=False, out=None, dtype=None", r_norm, group="reduction",
   examples=[("torch.norm(x)", "x = torch.randn(2, 3)"), ("x.norm(dim=1)", "x = torch.randn(2, 3)"), ("x.norm(2, 0)", "x = torch.randn(2, 3)")])
op("torch.linalg.norm|torch.linalg.vector_norm", "input, ord=None, dim=None, keepdim=False, *, out=None, dtype=None", r_norm,
   group="reduction", examples=[("torch.linalg.norm(x)", "x = torch.randn(2, 3)"), ("torch.linalg.vector_norm(x, dim=1)", "x = torch.randn(2, 3)")])
op("torch.logsumexp|Tensor.logsumexp", "input, dim, keepdim=False", r_logsumexp, group="reduction",
   examples=[("torch.logsumexp(x, 1)", "x = torch.randn(2, 3)"), ("x.logsumexp(dim=(0, 1))", "x = torch.randn(2, 3)")])
op("torch.dist", "input, other, p=2", r_reduce_all, group="reduction", examples=[("torch.dist(x, y)", "x = torch.randn(3); y = torch.randn(3)")])
op("torch.trace|Tensor.trace", "input", r_reduce_all, group="reduction", examples=[("torch.trace(x)", "x = torch.randn(3, 3)")])
for _name in ("cumsum", "cumprod", "logcumsumexp"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim, *, dtype=None", r_cum, flow="keeps", group="reduction",
       examples=[(f"torch.{_name}(x, 1)", "x = torch.randn(2, 3)")])
for _name in ("cummax", "cummin"):
    op([f"torch.{_name}", f"Tensor.{_name}"], "input, dim", lambda a: r_sort(a), group="reduction",
       examples=[(f"torch.{_name}(x, 0)", "x = torch.randn(2, 3)")])

# ---------------------------------------------------------------------------
# linear algebra

op("torch.linalg.eigh", "input, UPLO='L', *, out=None", r_eigh, group="linalg",
   examples=[("torch.linalg.eigh(x)", "x = torch.randn(3, 3); x = x @ x.T"), ("torch.linalg.eigh(x)", "x = torch.randn(2, 4, 4)")])
op("torch.matmul|Tensor.matmul", "input, other", r_matmul, group="linalg",
   examples=[("torch.matmul(x, y)", "x = torch.randn(2, 3); y = torch.randn(3, 4)"), ("x.matmul(y)", "x = torch.randn(3); y = torch.randn(3)"),
             ("torch.matmul(x, y)", "x = torch.randn(5, 2, 3); y = torch.randn(3)"), ("torch.matmul(x, y)", "x = torch.randn(3); y = torch.randn(3, 4)"),
             ("torch.matmul(x, y)", "x = torch.randn(2, 1, 2, 3); y = torch.randn(4, 3, 5)")])
op("torch.mm|Tensor.mm", "input, mat2", r_mm, group="linalg", examples=[("torch.mm(x, y)", "x = torch.randn(2, 3); y = torch.randn(3, 4)")])
op("torch.bmm|Tensor.bmm", "input, mat2", r_bmm, group="linalg", examples=[("torch.bmm(x, y)", "x = torch.randn(2, 3, 4); y = torch.randn(2, 4, 5)")])
op("torch.mv|Tensor.mv", "input, vec", r_mv, group="linalg", examples=[("torch.mv(x, v)", "x = torch.randn(2, 3); v = torch.randn(3)")])
op("torch.dot|Tensor.dot|torch.vdot|Tensor.vdot|torch.inner", "input, other", r_dot, group="linalg",
   examples=[("torch.dot(x, y)", "x = torch.randn(3); y = torch.randn(3)")])
op("torch.outer|torch.ger|Tensor.outer", "input, vec2", r_outer, group="linalg", examples=[("torch.outer(x, y)", "x = torch.randn(3); y = torch.randn(4)")])
op("torch.addmm|Tensor.addmm", "input, mat1, mat2, *, beta=1, alpha=1", r_addmm, group="linalg",
   examples=[("torch.addmm(b, x, y)", "b = torch.randn(4); x = torch.randn(2, 3); y = torch.randn(3, 4)")])
op("torch.nn.functional.linear", "input, weight, bias=None", r_linear, group="linalg", partial=p_linear,
   examples=[("F.linear(x, w)", "x = torch.randn(5, 3); w = torch.randn(4, 3)"), ("F.linear(x, w, b)", "x = torch.randn(3); w = torch.randn(2, 3); b = torch.randn(2)")])
op("torch.einsum", "equation, *operands", r_einsum, group="linalg",
   examples=[("torch.einsum('ij,jk->ik', x, y)", "x = torch.randn(2, 3); y = torch.randn(3, 4)"),
             ("torch.einsum('i,i->', x, y)", "x = torch.randn(3); y = torch.randn(3)"),
             ("torch.einsum('bij->bji', x)", "x = torch.randn(2, 3, 4)"), ("torch.einsum('ij', x)", "x = torch.randn(2, 3)"),
             ("torch.einsum('ii', x)", "x = torch.randn(3, 3)"), ("torch.einsum('ij,ij->i', [x, x])", "x = torch.randn(2, 3)")])
op("torch.tensordot", "a, b, dims=2", r_tensordot, group="linalg",
   examples=[("torch.tensordot(x, y, dims=1)", "x = torch.randn(2, 3); y = torch.randn(3, 4)")])

# ---------------------------------------------------------------------------
# shape and view ops

# view=True: the result is always a view of the input (reshape may copy, so it is not one)
op("Tensor.view", "input, *shape", r_view, flow="keeps", group="shape", view=True,
   examples=[("x.view(3, 2)", "x = torch.randn(2, 3)"), ("x.view(-1)", "x = torch.randn(2, 3)"), ("x.view(())", "x = torch.randn(1)")])
op("Tensor.reshape|torch.reshape", "input, *shape", r_view, flow="keeps", group="shape",
   examples=[("x.reshape((1, -1))", "x = torch.randn(2, 3)"), ("torch.reshape(x, (6,))", "x = torch.randn(2, 3)")])
op("Tensor.view_as", "input, other", r_view_as, flow="keeps", group="shape", view=True,
   examples=[("x.view_as(y)", "x = torch.randn(2, 3); y = torch.randn(3, 2)")])
op("Tensor.reshape_as", "input, other", r_view_as, flow="keeps", group="shape",
   examples=[("x.reshape_as(y)", "x = torch.randn(2, 3); y = torch.randn(3, 2)")])
op("torch.flatten|Tensor.flatten", "input, start_dim=0, end_dim=-1", r_flatten, flow="keeps", group="shape",
   examples=[("torch.flatten(x)", "x = torch.randn(2, 3, 4)"), ("x.flatten(1)", "x = torch.randn(2, 3, 4)"), ("x.flatten()", "x = torch.tensor(3.0)")])
op("torch.ravel|Tensor.ravel", "input", lambda a: S.flatten(a.shape("input")), flow="keeps", group="shape",
   examples=[("x.ravel()", "x = torch.randn(2, 3)")])
op("torch.unflatten|Tensor.unflatten", "input, dim, sizes", r_unflatten, flow="keeps", group="shape",
   examples=[("x.unflatten(1, (2, 2))", "x = torch.randn(3, 4)")])
op("torch.squeeze|Tensor.squeeze", "input, dim=None", r_squeeze, flow="keeps", group="shape", view=True,
   examples=[("x.squeeze()", "x = torch.randn(1, 3, 1)"), ("x.squeeze(0)", "x = torch.randn(1, 3)"), ("x.squeeze(1)", "x = torch.randn(1, 3)"),
             ("torch.squeeze(x)", "x = torch.randn(1, 1)")])
op("torch.unsqueeze|Tensor.unsqueeze", "input, dim", r_unsqueeze, flow="keeps", group="shape", view=True,
   examples=[("x.unsqueeze(0)", "x = torch.randn(3)"), ("x.unsqueeze(-1)", "x = torch.randn(2, 3)"), ("torch.unsqueeze(x, 0)", "x = torch.tensor(1.0)")])
op("Tensor.squeeze_|Tensor.unsqueeze_", "input, dim=None", lambda a: S.squeeze(a.shape("input"), a.dims("dim")), flow="keeps", group="shape")
op("torch.permute|Tensor.permute", "input, *dims", r_permute, flow="keeps", group="shape", view=True,
   examples=[("x.permute(2, 0, 1)", "x = torch.randn(2, 3, 4)"), ("torch.permute(x, (1, 0))", "x = torch.randn(2, 3)")])
op("torch.transpose|Tensor.transpose|torch.swapaxes|Tensor.swapaxes|torch.swapdims|Tensor.swapdims", "input, dim0, dim1", r_transpose,
   flow="keeps", group="shape", view=True, examples=[("x.transpose(0, 1)", "x = torch.randn(2, 3)"), ("torch.transpose(x, -1, -2)", "x = torch.randn(2, 3, 4)")])
op("torch.t|Tensor.t", "input", r_t, flow="keeps", group="shape", view=True, examples=[("x.t()", "x = torch.randn(2, 3)"), ("x.t()", "x = torch.randn(3)")])
op("Tensor.expand", "input, *size", r_expand, flow="broadcast", group="shape",
   examples=[("x.expand(3, 4)", "x = torch.randn(3, 1)"), ("x.expand(2, -1)", "x = torch.randn(1, 5)"), ("x.expand(2, 3, 1)", "x = torch.randn(1)")])
op("Tensor.expand_as", "input, other", r_expand_as, flow="broadcast", group="shape", examples=[("x.expand_as(y)", "x = torch.randn(3, 1); y = torch.randn(3, 4)")])
op("Tensor.repeat", "input, *repeats", r_repeat, flow="broadcast", group="shape",
   examples=[("x.repeat(2, 3)", "x = torch.randn(2, 3)"), ("x.repeat(4, 1, 1)", "x = torch.randn(2)")])
op("torch.tile|Tensor.tile", "input, *dims", r_tile, flow="broadcast", group="shape", examples=[("torch.tile(x, (2,))", "x = torch.randn(2, 3)")])
op("torch.cat|torch.concat|torch.concatenate", "tensors, dim=0, *, out=None", r_cat, flow="concat", group="shape",
   examples=[("torch.cat([x, y])", "x = torch.randn(2, 3); y = torch.randn(1, 3)"), ("torch.cat((x, y), dim=1)", "x = torch.randn(2, 3); y = torch.randn(2, 1)"),
             ("torch.cat([x])", "x = torch.randn(1)")])
op("torch.stack", "tensors, dim=0, *, out=None", r_stack, flow="concat", group="shape",
   examples=[("torch.stack([x, y])", "x = torch.randn(3); y = torch.randn(3)"), ("torch.stack((x, x), dim=1)", "x = torch.randn(2, 3)"),
             ("torch.stack([x])", "x = torch.tensor(1.0)")])
op("torch.hstack", "tensors, *, out=None", r_hstack, flow="concat", group="shape",
   examples=[("torch.hstack([x, y])", "x = torch.randn(3); y = torch.randn(2)")])
op("torch.vstack|torch.row_stack", "tensors, *, out=None", r_vstack, flow="concat", group="shape",
   examples=[("torch.vstack([x, y])", "x = torch.randn(3); y = torch.randn(3)")])
op("torch.chunk|Tensor.chunk", "input, chunks, dim=0", r_chunk, flow="reduce", group="shape",
   examples=[("torch.chunk(x, 2)", "x = torch.randn(5, 2)"), ("x.chunk(3, dim=1)", "x = torch.randn(2, 6)")])
op("torch.split|Tensor.split", "input, split_size_or_sections, dim=0", r_split, flow="reduce", group="shape",
   examples=[("torch.split(x, 2)", "x = torch.randn(5, 2)"), ("x.split([1, 2], dim=1)", "x = torch.randn(2, 3)")])
op("torch.unbind|Tensor.unbind", "input, dim=0", r_unbind, flow="reduce", group="shape", examples=[("x.unbind(1)", "x = torch.randn(2, 3)")])
op("torch.narrow|Tensor.narrow", "input, dim, start, length", r_narrow, flow="reduce", group="shape", view=True,
   examples=[("x.narrow(1, 0, 2)", "x = torch.randn(3, 4)")])
op("torch.select|Tensor.select", "input, dim, index", r_select, flow="reduce", group="shape", view=True, examples=[("x.select(0, 1)", "x = torch.randn(3, 4)")])
op("torch.index_select|Tensor.index_select", "input, dim, index", r_index_select, flow="reduce", group="shape",
   examples=[("torch.index_select(x, 1, i)", "x = torch.randn(3, 4); i = torch.tensor([0, 2])")])
op("torch.gather|Tensor.gather", "input, dim, index, *, sparse_grad=False", r_gather, flow="reduce", group="shape",
   examples=[("torch.gather(x, 1, i)", "x = torch.randn(3, 4); i = torch.tensor([[0], [1], [2]])")])
op("torch.masked_select|Tensor.masked_select", "input, mask", r_masked_select, flow="reduce", group="shape")
op("torch.nonzero|Tensor.nonzero", "input, *, as_tuple=False", r_nonzero, flow="reduce", differentiable=False, group="shape")
op("torch.topk|Tensor.topk", "input, k, dim=-1, largest=True, sorted=True", r_topk, group="shape",
   examples=[("torch.topk(x, 2)", "x = torch.randn(3, 4)"), ("x.topk(1, dim=0)", "x = torch.randn(3, 4)")])
op("torch.sort|Tensor.sort", "input, dim=-1, descending=False, stable=False", r_sort, group="shape", examples=[("torch.sort(x)", "x = torch.randn(3, 4)")])
op("torch.argsort|Tensor.argsort", "input, dim=-1, descending=False, stable=False", lambda a: Tensor(shape=a.tensor("input").shape, dtype="int", requires_grad=False),
   differentiable=False, group="shape", examples=[("x.argsort()", "x = torch.randn(3, 4)")])
op("torch.flip|Tensor.flip|torch.roll|Tensor.roll|torch.fliplr|torch.flipud", "input, *args, dims=None, shifts=None", r_same, flow="keeps", group="shape",
   examples=[("torch.flip(x, (0,))", "x = torch.randn(3, 4)"), ("x.roll(1, 0)", "x = torch.randn(3)")])
op("torch.tril|torch.triu|Tensor.tril|Tensor.triu", "input, diagonal=0", r_same, flow="keeps", group="shape",
   examples=[("torch.tril(x)", "x = torch.randn(3, 3)")])
op("torch.movedim|Tensor.movedim|torch.moveaxis|Tensor.moveaxis", "input, source, destination", r_movedim, flow="keeps", group="shape", view=True,
   examples=[("torch.movedim(x, 0, -1)", "x = torch.randn(2, 3, 4)"), ("x.movedim((0, 1), (2, 0))", "x = torch.randn(2, 3, 4)")])
op("torch.diag|Tensor.diag", "input, diagonal=0", r_diag, group="shape", examples=[("torch.diag(x)", "x = torch.randn(3)"), ("torch.diag(x)", "x = torch.randn(2, 3)")])
op("torch.diff|Tensor.diff", "input, n=1, dim=-1, prepend=None, append=None", r_diff, group="shape", examples=[("torch.diff(x)", "x = torch.randn(2, 5)")])

# ---------------------------------------------------------------------------
# Python conversions

op("Tensor.item", "input", r_item, group="conversion", examples=[("x.item()", "x = torch.randn(1)"), ("x.sum().item()", "x = torch.randn(3)")])
op("Tensor.tolist", "input", r_tolist, group="conversion", examples=[("x.tolist()", "x = torch.randn(3)")])
op("Tensor.numpy", "input, *, force=False", r_numpy, group="conversion", examples=[("x.numpy()", "x = torch.randn(3)")])

# losses and layers live in their own modules
from torchlint.analysis.api import losses as _losses  # noqa: E402,F401
from torchlint.analysis.api import layers as _layers  # noqa: E402,F401
from torchlint.analysis.api import dtypes as _dtypes  # noqa: E402,F401
from torchlint.analysis.api import vision as _vision  # noqa: E402,F401
from torchlint.analysis.api import spectral as _spectral  # noqa: E402,F401
from torchlint.analysis.api import runtime as _runtime  # noqa: E402,F401
from torchlint.analysis.api import indexing as _indexing  # noqa: E402,F401

_ = (UNKNOWN, module_class)
