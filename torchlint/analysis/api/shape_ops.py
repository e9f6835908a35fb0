"""Shape and view ops: ``view``/``reshape``, ``flatten``, ``squeeze``/``unsqueeze``, ``permute``/``transpose``/``t``,
``expand``/``repeat``/``tile``, joining (``cat``, ``stack``, ``hstack``, ``vstack``) and splitting (``chunk``,
``split``, ``unbind``), selecting (``narrow``, ``select``, ``index_select``, ``gather``, ``masked_select``,
``nonzero``, ``topk``, ``sort``), ``flip``/``roll``, ``tril``/``triu``, ``movedim``, ``diag``, ``diff``.

``view=True`` marks the ops whose result is always a view of their input.  One ``op(...)`` call is one entry
(see :mod:`torchlint.analysis.api`); its examples are checked against real PyTorch by
``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, dim_of, dtype_kind, op
from torchlint.analysis.api.pointwise import r_same
from torchlint.analysis.api.reductions import r_sort, values_indices
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import MANY, Seq, Tensor


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


# ---------------------------------------------------------------------------
# the entries

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
