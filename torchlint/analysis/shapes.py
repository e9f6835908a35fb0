"""Shape arithmetic following PyTorch's rules.

Every function takes and returns shapes as described in
:mod:`torchlint.analysis.values` (tuples of dims, ``None`` for unknown rank).  When the
rule cannot say, the result is ``None`` (unknown), never a guess.  When PyTorch
would raise (incompatible shapes), the result is also ``None``: a shape error
is not this linter's business, and it must not invent a verdict from it.
"""
from __future__ import annotations

from math import prod
from typing import Optional, Sequence

from torchlint.analysis.values import Shape, Sym


class ShapeUnknown(Exception):
    """Raised inside a shape rule to mean "unknown"; callers turn it into None."""


def norm_dim(dim: int, rank: int) -> int:
    """Normalise a possibly negative dim; PyTorch treats rank 0 like rank 1 here."""
    r = max(rank, 1)
    if not -r <= dim < r:
        raise ShapeUnknown(f"dim {dim} out of range for rank {rank}")
    return dim % r


def broadcast(*shapes: Shape) -> Shape:
    if any(s is None for s in shapes):
        return None
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        out.append(_broadcast_dims(dims))
    return tuple(out)


def _broadcast_dims(dims: Sequence) -> object:
    known = {d for d in dims if isinstance(d, int)}
    others = [d for d in dims if not isinstance(d, int)]
    non_one = known - {1}
    if len(non_one) > 1:
        raise ShapeUnknown("incompatible broadcast")
    if non_one:
        return next(iter(non_one))
    # every known dim is 1 (or there is none)
    if not others:
        return 1
    syms = {d for d in others if isinstance(d, Sym)}
    if len(syms) == 1 and None not in others:
        return next(iter(syms))
    return None


def reduce_shape(shape: Shape, dim, keepdim: bool) -> Shape:
    """Shape after reducing ``dim`` (None: all dims; an int or a tuple of ints)."""
    if dim is None:
        if keepdim:
            return None if shape is None else tuple(1 for _ in shape)
        return ()
    if shape is None:
        if keepdim:
            return None
        raise ShapeUnknown("rank unknown")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) == 0:  # sum(dim=()) reduces everything, like dim=None
        return tuple(1 for _ in shape) if keepdim else ()
    if len(shape) == 0:
        for d in dims:
            norm_dim(d, 0)
        return ()
    normed = {norm_dim(d, len(shape)) for d in dims}
    if keepdim:
        return tuple(1 if i in normed else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in normed)


def numel(shape: Shape) -> Optional[int]:
    if shape is None or not all(isinstance(d, int) for d in shape):
        return None
    return prod(shape)


def reshape(shape: Shape, target: Sequence) -> Shape:
    """``view``/``reshape`` with at most one -1 in ``target`` (dims may be None)."""
    target = list(target)
    if target.count(-1) > 1:
        raise ShapeUnknown("two -1")
    if -1 in target:
        idx = target.index(-1)
        total = numel(shape)
        rest = [d for i, d in enumerate(target) if i != idx]
        if total is not None and all(isinstance(d, int) for d in rest):
            denom = prod(rest)
            if denom == 0 or total % denom:
                raise ShapeUnknown("bad reshape")
            target[idx] = total // denom
        else:
            target[idx] = None
    return tuple(target)


def flatten(shape: Shape, start: int = 0, end: int = -1) -> Shape:
    if shape is None:
        raise ShapeUnknown("rank unknown")
    if len(shape) == 0:
        return (1,)
    s, e = norm_dim(start, len(shape)), norm_dim(end, len(shape))
    if s > e:
        raise ShapeUnknown("start > end")
    middle = shape[s : e + 1]
    merged = prod(middle) if all(isinstance(d, int) for d in middle) else None
    return shape[:s] + (merged,) + shape[e + 1 :]


def squeeze(shape: Shape, dim=None) -> Shape:
    if shape is None:
        raise ShapeUnknown("rank unknown")
    if dim is None:
        if any(not isinstance(d, int) for d in shape):
            raise ShapeUnknown("unknown dims may be 1")
        return tuple(d for d in shape if d != 1)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if len(shape) == 0:
        return ()
    normed = {norm_dim(d, len(shape)) for d in dims}
    out = []
    for i, d in enumerate(shape):
        if i in normed:
            if d == 1:
                continue
            if not isinstance(d, int):
                raise ShapeUnknown("unknown dim may be 1")
        out.append(d)
    return tuple(out)


def _insert_dim(shape: Shape, dim: int, size) -> Shape:
    """``shape`` with a new dimension of ``size`` at ``dim`` (negative counts from the new end)."""
    if shape is None:
        raise ShapeUnknown("rank unknown")
    rank = len(shape) + 1
    if not -rank <= dim < rank:
        raise ShapeUnknown("dim out of range")
    d = dim % rank
    return shape[:d] + (size,) + shape[d:]


def unsqueeze(shape: Shape, dim: int) -> Shape:
    return _insert_dim(shape, dim, 1)


def permute(shape: Shape, dims: Sequence[int]) -> Shape:
    if shape is None:
        raise ShapeUnknown("rank unknown")
    if len(dims) != len(shape):
        raise ShapeUnknown("wrong number of dims")
    return tuple(shape[norm_dim(d, len(shape))] for d in dims)


def transpose(shape: Shape, a: int, b: int) -> Shape:
    if shape is None:
        raise ShapeUnknown("rank unknown")
    if len(shape) == 0:
        return ()
    a, b = norm_dim(a, len(shape)), norm_dim(b, len(shape))
    out = list(shape)
    out[a], out[b] = out[b], out[a]
    return tuple(out)


def matmul(a: Shape, b: Shape) -> Shape:
    if a is None or b is None:
        raise ShapeUnknown("rank unknown")
    if len(a) == 0 or len(b) == 0:
        raise ShapeUnknown("matmul of a 0-d tensor")
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(a) == 2 and len(b) == 1:
        return (a[0],)
    if len(a) == 1 and len(b) == 2:
        return (b[1],)
    if len(a) == 2 and len(b) == 2:
        return (a[0], b[1])
    # batched
    a_mat = a if len(a) > 1 else (1,) + a
    b_mat = b if len(b) > 1 else b + (1,)
    batch = broadcast(a_mat[:-2], b_mat[:-2])
    out = batch + (a_mat[-2],) if len(a) > 1 else batch
    if len(b) > 1:
        out = out + (b_mat[-1],)
    return out


def cat(shapes: Sequence[Shape], dim: int) -> Shape:
    # Legacy: 1-d empty tensors (0,) are skipped by torch.cat.
    shapes = [s for s in shapes if s != (0,)]
    if not shapes:
        return (0,)
    if any(s is None for s in shapes):
        ranks = {len(s) for s in shapes if s is not None}
        if len(ranks) == 1:
            rank = ranks.pop()
            return tuple(None for _ in range(rank))
        raise ShapeUnknown("rank unknown")
    rank = len(shapes[0])
    if rank == 0 or any(len(s) != rank for s in shapes):
        raise ShapeUnknown("cat of mismatched ranks")
    d = norm_dim(dim, rank)
    total = 0
    for s in shapes:
        if not isinstance(s[d], int):
            total = None
            break
        total += s[d]
    out = []
    for i in range(rank):
        if i == d:
            out.append(total)
        else:
            col = {s[i] for s in shapes}
            out.append(col.pop() if len(col) == 1 else None)
    return tuple(out)


def stack(shapes: Sequence[Shape], dim: int, count: Optional[int]) -> Shape:
    if not shapes:
        raise ShapeUnknown("empty")
    base = shapes[0]
    for s in shapes[1:]:
        if s != base:
            base = None if (s is None or base is None or len(s) != len(base)) else tuple(
                x if x == y else None for x, y in zip(base, s)
            )
    return _insert_dim(base, dim, count)


def conv_out(size, kernel, stride=1, padding=0, dilation=1):
    if not all(isinstance(v, int) for v in (size, kernel, stride, padding, dilation)):
        return None
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_out(size, kernel, stride, padding=0, dilation=1, ceil_mode=False):
    if not all(isinstance(v, int) for v in (size, kernel, stride, padding, dilation)):
        return None
    num = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-num // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return num // stride + 1


def conv_transpose_out(size, kernel, stride=1, padding=0, dilation=1, output_padding=0):
    if not all(isinstance(v, int) for v in (size, kernel, stride, padding, dilation, output_padding)):
        return None
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def scaled(size, factor):
    """``floor(size * factor)``: a spatial size after ``F.interpolate(scale_factor=...)``."""
    import math

    if not isinstance(size, int) or isinstance(factor, bool) or not isinstance(factor, (int, float)):
        return None
    return math.floor(float(size) * factor)
