"""Tensor ops that real repositories call often and the first tables lacked (``benchmarks/op_usage.py``):
scatter and index writes, repetition, grids and products, sliding windows, padding a batch of sequences,
complex views, quantiles, random sampling, distances, attention.

Shape rules follow PyTorch's documentation and are checked on their examples against real torch by
``tests/test_api_model.py``.
"""
from __future__ import annotations

import math

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, dim_of, module_class, op
from torchlint.analysis.api.layers import _param_out, _self
from torchlint.analysis.api.pointwise import r_same
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Const, Seq, Tensor

N = "torch.nn."
F = "torch.nn.functional."


# ---------------------------------------------------------------------------
# writes into a tensor of the same shape: scatter, index_add/copy/fill/put, masked_scatter

_WRITES = ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "index_put",
           "masked_scatter")
for _name in _WRITES:
    op([f"torch.{_name}", f"Tensor.{_name}", f"Tensor.{_name}_"],
       "input, *args, reduce=None, alpha=1, include_self=True, value=None, src=None, source=None, accumulate=False",
       r_same, flow="keeps", dtype="input", group="indexing",
       examples=[{"scatter": ("x.scatter(1, i, 1.0)", "x = torch.zeros(3, 4); i = torch.tensor([[0], [1], [2]])"),
                  "scatter_add": ("torch.scatter_add(x, 0, i, s)", "x = torch.zeros(3); i = torch.tensor([0, 0]); s = torch.ones(2)"),
                  "scatter_reduce": ("x.scatter_reduce(0, i, s, reduce='amax')",
                                     "x = torch.zeros(3); i = torch.tensor([0, 2]); s = torch.ones(2)"),
                  "index_add": ("x.index_add(0, i, s)", "x = torch.zeros(3, 2); i = torch.tensor([0, 2]); s = torch.ones(2, 2)"),
                  "index_copy": ("x.index_copy(1, i, s)", "x = torch.zeros(2, 3); i = torch.tensor([1]); s = torch.ones(2, 1)"),
                  "index_fill": ("x.index_fill(0, i, -1.0)", "x = torch.zeros(3, 2); i = torch.tensor([1])"),
                  "index_put": ("x.index_put((i,), s)", "x = torch.zeros(4); i = torch.tensor([1, 3]); s = torch.ones(2)"),
                  "masked_scatter": ("x.masked_scatter(m, s)", "x = torch.zeros(2, 2); m = x == 0; s = torch.ones(4)"),
                  }[_name]])


# ---------------------------------------------------------------------------
# repetition, windows, grids, products


def r_repeat_interleave(a: Args):
    t = a.tensor("input")
    if a.is_none("repeats"):  # torch.repeat_interleave(repeats): the indices repeated, a length data decides
        return Tensor(shape=(None,), dtype="int", requires_grad=False)
    reps = a["repeats"]
    factor = reps.value if isinstance(reps, Const) and isinstance(reps.value, int) and not isinstance(reps.value, bool) \
        else None
    shape = t.shape if a.is_none("dim") else a.shape("input")
    if a.is_none("dim"):
        n = S.numel(shape) if shape is not None else None
        return ((n * factor if n is not None and factor is not None else None),)
    d = S.norm_dim(a.int("dim"), len(shape))
    size = shape[d] * factor if isinstance(shape[d], int) and factor is not None else None
    return shape[:d] + (size,) + shape[d + 1:] if shape else (size,)


op("torch.repeat_interleave|Tensor.repeat_interleave", "input, repeats=None, dim=None, *, output_size=None",
   r_repeat_interleave, group="shape",
   examples=[("x.repeat_interleave(2)", "x = torch.randn(2, 3)"), ("x.repeat_interleave(3, dim=1)", "x = torch.randn(2, 3)"),
             ("torch.repeat_interleave(x, 2, dim=-2)", "x = torch.randn(2, 3)")])


def r_unfold(a: Args):
    shape = a.shape("input")
    d = S.norm_dim(a.int("dimension"), len(shape))
    size, step = a.int("size"), a.int("step")
    if not shape:
        return (size,)
    n = (shape[d] - size) // step + 1 if isinstance(shape[d], int) else None
    if n is not None and n < 1:
        raise ShapeUnknown("window larger than the dim")
    return shape[:d] + (n,) + shape[d + 1:] + (size,)


op("Tensor.unfold", "input, dimension, size, step", r_unfold, group="shape",
   examples=[("x.unfold(1, 3, 2)", "x = torch.randn(2, 7)"), ("x.unfold(0, 2, 1)", "x = torch.randn(4)")])


def _vectors(a: Args, name: str) -> list:
    items = a[name].items if isinstance(a[name], Seq) else None
    if items is not None and len(items) == 1 and isinstance(items[0], Seq):
        items = items[0].items  # meshgrid([x, y])
    if items is None or not all(isinstance(t, Tensor) and t.shape is not None and len(t.shape) <= 1 for t in items):
        raise ShapeUnknown("1-D tensors of known rank")
    return [t.shape[0] if t.shape else 1 for t in items]


def r_meshgrid(a: Args):
    lens = _vectors(a, "tensors")
    indexing = "ij" if a.is_none("indexing") else a.str("indexing")
    shape = tuple(lens)
    if indexing == "xy" and len(shape) >= 2:
        shape = (shape[1], shape[0]) + shape[2:]
    return Seq("tuple", tuple(Tensor(shape=shape) for _ in lens))


op("torch.meshgrid", "*tensors, indexing=None", r_meshgrid, group="shape",
   examples=[("torch.meshgrid(x, y, indexing='ij')", "x = torch.arange(3); y = torch.arange(4)"),
             ("torch.meshgrid([x, y], indexing='xy')", "x = torch.randn(3); y = torch.randn(4)")])


def r_cartesian_prod(a: Args):
    lens = _vectors(a, "tensors")
    if len(lens) == 1:
        return (lens[0],)
    total = math.prod(lens) if all(isinstance(n, int) for n in lens) else None
    return (total, len(lens))


op("torch.cartesian_prod", "*tensors", r_cartesian_prod, group="shape",
   examples=[("torch.cartesian_prod(x, y)", "x = torch.arange(3); y = torch.arange(2)"),
             ("torch.cartesian_prod(x)", "x = torch.randn(3)")])


def r_pad_sequence(a: Args):
    seqs = a["sequences"]
    if not isinstance(seqs, Seq):
        raise ShapeUnknown("sequences")
    items = seqs.items if seqs.items is not None else None
    tensors = items if items is not None else (seqs.elem,)
    if not tensors or not all(isinstance(t, Tensor) and t.shape for t in tensors):
        raise ShapeUnknown("tensors of known rank")
    rest = tensors[0].shape[1:]
    if any(len(t.shape) != len(tensors[0].shape) for t in tensors):
        raise ShapeUnknown("ranks differ")
    lens = [t.shape[0] for t in tensors]
    longest = max(lens) if items is not None and all(isinstance(n, int) for n in lens) else None
    batch = len(items) if items is not None else None
    return ((batch, longest) if a.bool("batch_first") else (longest, batch)) + tuple(rest)


op("torch.nn.utils.rnn.pad_sequence", "sequences, batch_first=False, padding_value=0.0, padding_side='right'",
   r_pad_sequence, flow="concat", group="shape",
   examples=[("pad_sequence([x, y])", "from torch.nn.utils.rnn import pad_sequence; x = torch.randn(3, 5); y = torch.randn(2, 5)"),
             ("pad_sequence([x, y], batch_first=True)",
              "from torch.nn.utils.rnn import pad_sequence; x = torch.randn(3); y = torch.randn(4)")])


# ---------------------------------------------------------------------------
# complex views, quantiles, sampling


def r_view_as_real(a: Args):
    return a.shape("input") + (2,)


def r_view_as_complex(a: Args):
    shape = a.shape("input")
    if not shape or shape[-1] not in (2, None):
        raise ShapeUnknown("last dim must be 2")
    return shape[:-1]


op("torch.view_as_real", "input", r_view_as_real, dtype="float", group="shape",
   examples=[("torch.view_as_real(x)", "x = torch.randn(3, dtype=torch.cfloat)")])
op("torch.view_as_complex", "input", r_view_as_complex, dtype="complex", group="shape",
   examples=[("torch.view_as_complex(x)", "x = torch.randn(3, 2)")])


def r_quantile(a: Args):
    t = a.tensor("input")
    q = a["q"]
    if isinstance(q, Tensor):
        if q.shape is None or len(q.shape) > 1:
            raise ShapeUnknown("q")
        lead = q.shape
    elif isinstance(q, Const) and isinstance(q.value, float):
        lead = ()
    else:
        raise ShapeUnknown("q")
    keep = a.bool("keepdim")
    if a.is_none("dim"):
        if keep:
            raise ShapeUnknown("keepdim without dim")
        return lead
    return lead + S.reduce_shape(t.shape, a.int("dim"), keep)


op("torch.quantile|Tensor.quantile|torch.nanquantile|Tensor.nanquantile",
   "input, q, dim=None, keepdim=False, *, interpolation='linear', out=None", r_quantile, group="reduction",
   examples=[("torch.quantile(x, 0.5)", "x = torch.randn(2, 3)"), ("x.quantile(0.9, dim=1)", "x = torch.randn(2, 3)"),
             ("torch.quantile(x, q, dim=1, keepdim=True)", "x = torch.randn(2, 3); q = torch.tensor([0.1, 0.5])")])


def r_normal(a: Args):
    if not a.is_none("size"):  # normal(mean, std, size): a new leaf, like torch.randn
        rg = a["requires_grad"]
        rg = bool(rg.value) if isinstance(rg, Const) else None
        return Tensor(shape=a.size("size"), requires_grad=rg, leaf=True,
                      grad_note=None if rg else "created without requires_grad=True")
    return S.broadcast(a.tensor("mean").shape, a.tensor("std").shape)


op("torch.normal", "mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None, "
   "pin_memory=False, requires_grad=False", r_normal, dtype="float", group="sampling",
   examples=[("torch.normal(0, 0.01, size=(2, 1))", ""), ("torch.normal(0.0, 1.0, (3,), requires_grad=True)", ""),
             ("torch.normal(m, 1.0)", "m = torch.zeros(3, requires_grad=True)"),
             ("torch.normal(m, s)", "m = torch.zeros(2, 1); s = torch.ones(3)")])
op("torch.bernoulli|Tensor.bernoulli", "input, p=None, *, generator=None, out=None", r_same, flow="keeps", dtype="input",
   group="sampling", examples=[("torch.bernoulli(p)", "p = torch.rand(2, 3)")])


# ---------------------------------------------------------------------------
# distances and similarities


def r_cosine_similarity(a: Args):
    shape = S.broadcast(a.tensor("x1").shape, a.tensor("x2").shape)
    d = a.int("dim")
    return S.reduce_shape(shape, d, False)


def r_pairwise_distance(a: Args):
    shape = S.broadcast(a.tensor("x1").shape, a.tensor("x2").shape)
    if not shape:
        raise ShapeUnknown("rank")
    return S.reduce_shape(shape, -1, a.bool("keepdim"))


def r_cdist(a: Args):
    x1, x2 = a.shape("x1"), a.shape("x2")
    if len(x1) < 2 or len(x2) < 2:
        raise ShapeUnknown("cdist needs 2-D inputs")
    return S.broadcast(x1[:-2], x2[:-2]) + (x1[-2], x2[-2])


op(F + "cosine_similarity|torch.cosine_similarity", "x1, x2, dim=1, eps=1e-08", r_cosine_similarity, group="reduction",
   examples=[("F.cosine_similarity(x, y)", "x = torch.randn(3, 4); y = torch.randn(3, 4)"),
             ("F.cosine_similarity(x, y, dim=-1)", "x = torch.randn(2, 3, 4); y = torch.randn(1, 4)")])
op(F + "pairwise_distance|torch.pairwise_distance", "x1, x2, p=2.0, eps=1e-06, keepdim=False", r_pairwise_distance,
   group="reduction", examples=[("F.pairwise_distance(x, y)", "x = torch.randn(3, 4); y = torch.randn(3, 4)")])
op("torch.cdist", "x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'", r_cdist, group="linalg",
   examples=[("torch.cdist(x, y)", "x = torch.randn(3, 4); y = torch.randn(5, 4)"),
             ("torch.cdist(x, y)", "x = torch.randn(2, 3, 4); y = torch.randn(2, 5, 4)")])


def r_cosine_module(a: Args):
    shape = S.broadcast(a.tensor("x1").shape, a.tensor("x2").shape)
    return S.reduce_shape(shape, _self(a, "dim"), False)


def r_pairwise_module(a: Args):
    shape = S.broadcast(a.tensor("x1").shape, a.tensor("x2").shape)
    if not shape:
        raise ShapeUnknown("rank")
    return S.reduce_shape(shape, -1, bool(_self(a, "keepdim")))


module_class(N + "CosineSimilarity", "dim=1, eps=1e-08", "x1, x2", r_cosine_module, group="activations",
             examples=[("nn.CosineSimilarity()(x, y)", "x = torch.randn(3, 4); y = torch.randn(3, 4)")])
module_class(N + "PairwiseDistance", "p=2.0, eps=1e-06, keepdim=False", "x1, x2", r_pairwise_module, group="activations",
             examples=[("nn.PairwiseDistance(keepdim=True)(x, y)", "x = torch.randn(3, 4); y = torch.randn(3, 4)")])


# ---------------------------------------------------------------------------
# attention


def r_sdpa(a: Args):
    q, k, v = a.shape("query"), a.shape("key"), a.shape("value")
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        raise ShapeUnknown("attention needs 2-D or more")
    return S.broadcast(q[:-2], k[:-2], v[:-2]) + (q[-2], v[-1])


op(F + "scaled_dot_product_attention",
   "query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False", r_sdpa,
   group="linalg",
   examples=[("F.scaled_dot_product_attention(q, k, v)", "q = torch.randn(2, 3, 5, 8); k = torch.randn(2, 3, 7, 8); v = torch.randn(2, 3, 7, 6)"),
             ("F.scaled_dot_product_attention(q, k, v, is_causal=True)", "q = torch.randn(5, 8); k = torch.randn(5, 8); v = torch.randn(5, 4)")])


def r_mha(a: Args):
    """nn.MultiheadAttention: (output, weights); the output has the query's shape with embed_dim last, the
    weights (averaged over heads unless asked not to) are (batch, [heads,] L, S), None with need_weights=False."""
    q, k = a.shape("query"), a.shape("key")
    e = _self(a, "embed_dim")
    if len(q) not in (2, 3) or len(k) != len(q):
        raise ShapeUnknown("query rank")
    out = _param_out(a, q[:-1] + (e,))
    if not a.bool("need_weights"):
        return Seq("tuple", (out, Const(None)))
    if len(q) == 3:
        bf = _self(a, "batch_first")
        batch, L, Sk = (q[0], q[1], k[1]) if bf else (q[1], q[0], k[0])
        lead = (batch,)
    else:
        L, Sk, lead = q[0], k[0], ()
    heads = () if a.bool("average_attn_weights") else (_self(a, "num_heads"),)
    return Seq("tuple", (out, _param_out(a, lead + heads + (L, Sk))))


module_class(N + "MultiheadAttention", "embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False, "
             "kdim=None, vdim=None, batch_first=False, device=None, dtype=None",
             "query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True, "
             "is_causal=False", r_mha, group="layers", params=True,
             examples=[("nn.MultiheadAttention(8, 2)(x, x, x)", "x = torch.randn(5, 3, 8)"),
                       ("nn.MultiheadAttention(8, 2, batch_first=True)(q, kv, kv, average_attn_weights=False)",
                        "q = torch.randn(3, 4, 8); kv = torch.randn(3, 6, 8)"),
                       ("nn.MultiheadAttention(8, 2, batch_first=True)(q, kv, kv, need_weights=False)[0]",
                        "q = torch.randn(3, 4, 8); kv = torch.randn(3, 6, 8)"),
                       ("nn.MultiheadAttention(8, 2, kdim=5, vdim=7)(q, k, v)",
                        "q = torch.randn(4, 3, 8); k = torch.randn(6, 3, 5); v = torch.randn(6, 3, 7)"),
                       ("nn.MultiheadAttention(8, 2)(q, k, k)", "q = torch.randn(4, 8); k = torch.randn(6, 8)")])


# ---------------------------------------------------------------------------
# more of the long tail: in-place ternaries, functional norms and embedding, grid sampling, searching


op("Tensor.addcmul_|Tensor.addcdiv_|Tensor.lerp_|Tensor.clamp_min_|Tensor.clamp_max_", "input, *args, value=1, weight=None",
   r_same, flow="keeps", dtype="input", group="pointwise",
   examples=[("x.addcmul_(y, y, value=0.5)", "x = torch.zeros(2, 3); y = torch.ones(3)"),
             ("x.lerp_(y, 0.5)", "x = torch.zeros(2, 3); y = torch.ones(2, 3)"), ("x.clamp_min_(0.1)", "x = torch.zeros(3)")])
op("torch.clamp_min|Tensor.clamp_min|torch.clamp_max|Tensor.clamp_max", "input, other", r_same, flow="keeps", group="pointwise",
   examples=[("torch.clamp_min(x, 1e-6)", "x = torch.randn(2, 3)"), ("x.clamp_max(1.0)", "x = torch.randn(4)")])


def r_broadcast_to(a: Args):
    t = a.tensor("input")
    size = a.size("size")
    if t.shape is not None and len(size) >= len(t.shape):
        lead = len(size) - len(t.shape)
        return tuple(t.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(size))
    return size


op("torch.broadcast_to|Tensor.broadcast_to", "input, size", r_broadcast_to, flow="broadcast", group="shape",
   examples=[("torch.broadcast_to(x, (2, 3))", "x = torch.randn(3)"), ("x.broadcast_to((4, -1))", "x = torch.randn(1, 5)")])
op("torch.baddbmm|Tensor.baddbmm", "input, batch1, batch2, *, beta=1, alpha=1",
   lambda a: S.broadcast(a.shape("input"), S.matmul(a.shape("batch1"), a.shape("batch2"))), group="linalg",
   examples=[("torch.baddbmm(b, x, y)", "b = torch.randn(4); x = torch.randn(2, 3, 5); y = torch.randn(2, 5, 4)")])
op("torch.inverse|Tensor.inverse|torch.linalg.inv", "input, *, out=None", r_same, group="linalg",
   examples=[("torch.inverse(x)", "x = torch.eye(3) + 0.1"), ("torch.linalg.inv(x)", "x = torch.eye(2).expand(4, 2, 2)")])


def r_embedding_f(a: Args):
    w = a.shape("weight")
    if len(w) != 2:
        raise ShapeUnknown("embedding weight")
    return a.shape("input") + (w[1],)


op(F + "embedding", "input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False",
   r_embedding_f, dtype="float", group="layers",
   examples=[("F.embedding(i, w)", "i = torch.tensor([[1, 2], [0, 3]]); w = torch.randn(5, 3, requires_grad=True)")])
op(F + "batch_norm|" + F + "instance_norm|" + F + "group_norm|" + F + "rms_norm|" + F + "local_response_norm",
   "input, *args, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05, running_mean=None, running_var=None, "
   "use_input_stats=True, num_groups=None, normalized_shape=None, size=None, alpha=0.0001, beta=0.75, k=1.0",
   r_same, flow="keeps", group="layers",
   examples=[("F.batch_norm(x, m, v)", "x = torch.randn(2, 3, 4); m = torch.zeros(3); v = torch.ones(3)"),
             ("F.instance_norm(x)", "x = torch.randn(2, 3, 4)"), ("F.group_norm(x, 3)", "x = torch.randn(2, 6, 4)"),
             ("F.rms_norm(x, (4,))", "x = torch.randn(2, 3, 4)"), ("F.local_response_norm(x, 2)", "x = torch.randn(2, 3, 4, 4)")])


def r_grid_sample(a: Args):
    x, g = a.shape("input"), a.shape("grid")
    if len(x) not in (4, 5) or len(g) != len(x):
        raise ShapeUnknown("grid_sample ranks")
    return S.broadcast(x[:1], g[:1]) + (x[1],) + g[1:-1]


op(F + "grid_sample", "input, grid, mode='bilinear', padding_mode='zeros', align_corners=None", r_grid_sample,
   dtype="input", group="layers",
   examples=[("F.grid_sample(x, g, align_corners=False)", "x = torch.randn(2, 3, 5, 5); g = torch.rand(2, 4, 6, 2) * 2 - 1")])


def r_search(a: Args):
    """searchsorted(sorted, values) / bucketize(input, boundaries): one index per value."""
    name = "values" if "values" in a.bound else "input"
    t = a.tensor(name)
    return Tensor(shape=t.shape, numel=t.numel, dtype="int", requires_grad=False)


op("torch.searchsorted", "sorted_sequence, values, *, out_int32=False, right=False, side=None, out=None, sorter=None",
   r_search, differentiable=False, group="indexing",
   examples=[("torch.searchsorted(s, v)", "s = torch.tensor([1.0, 3.0, 5.0]); v = torch.tensor([[2.0, 6.0]])")])
op("torch.bucketize|Tensor.bucketize", "input, boundaries, *, out_int32=False, right=False, out=None", r_search,
   differentiable=False, group="indexing",
   examples=[("torch.bucketize(v, s)", "s = torch.tensor([1.0, 3.0, 5.0]); v = torch.randn(2, 3)")])


def r_unique(a: Args):
    a.tensor("input")
    out = Tensor(shape=(None,) if a.is_none("dim") else None, requires_grad=False)
    extra = []
    if a.bool("return_inverse"):
        t = a.tensor("input")
        extra.append(Tensor(shape=t.shape if a.is_none("dim") else None, dtype="int", requires_grad=False))
    if a.bool("return_counts"):
        extra.append(Tensor(shape=(None,), dtype="int", requires_grad=False))
    return Seq("tuple", (out,) + tuple(extra)) if extra else out


op("torch.unique|Tensor.unique|torch.unique_consecutive|Tensor.unique_consecutive",
   "input, sorted=True, return_inverse=False, return_counts=False, dim=None", r_unique, differentiable=False,
   dtype="input", group="indexing")
op("torch.bincount|Tensor.bincount", "input, weights=None, minlength=0",
   lambda a: Tensor(shape=(None,), dtype="int" if a.is_none("weights") else None, requires_grad=False),
   differentiable=False, group="indexing")
