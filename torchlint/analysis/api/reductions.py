"""Reductions: ``sum``/``mean``/``prod``/``amax``/``all``/..., ``max``/``min``/``median``/``mode`` (a
``(values, indices)`` pair with a ``dim``), ``argmax``, ``std``/``var`` (and ``*_mean``), ``norm``, ``logsumexp``,
``dist``, ``trace``, and the cumulative ops (``cumsum``, ``cummax``, ...).

Without ``dim`` (and ``keepdim``) a reduction gives a 0-d tensor: what ``backward()`` needs.  One ``op(...)``
call is one entry (see :mod:`torchlint.analysis.api`); its examples are checked against real PyTorch by
``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Const, Seq, Tensor


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
    a.tensor("input")  # (not a tensor: ShapeUnknown, whatever the form)
    dim = a["dim"]
    # std(input, unbiased: bool) legacy form
    if isinstance(dim, Const) and isinstance(dim.value, bool):
        return ()
    return r_reduce(a)


def r_std_mean(a: Args):
    s = r_std(a)
    return Seq("tuple", (Tensor(shape=s), Tensor(shape=s)))


def r_logsumexp(a: Args):
    return S.reduce_shape(a.shape("input"), a.dims("dim"), a.bool("keepdim"))


def r_cum(a: Args):
    t = a.tensor("input")
    S.norm_dim(a.int("dim"), len(a.shape("input")))
    return Tensor(shape=t.shape, numel=t.numel)


def r_sort(a: Args):
    return values_indices(a.tensor("input").shape)


# ---------------------------------------------------------------------------
# the entries

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
op("torch.norm|Tensor.norm", "input, p='fro', dim=None, keepdim=False, out=None, dtype=None", r_reduce, group="reduction",
   examples=[("torch.norm(x)", "x = torch.randn(2, 3)"), ("x.norm(dim=1)", "x = torch.randn(2, 3)"), ("x.norm(2, 0)", "x = torch.randn(2, 3)")])
op("torch.linalg.norm|torch.linalg.vector_norm", "input, ord=None, dim=None, keepdim=False, *, out=None, dtype=None", r_reduce,
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
