"""Linear algebra: ``matmul``/``@``, ``mm``, ``bmm``, ``mv``, ``dot``, ``outer``, ``addmm``, ``F.linear``,
``einsum`` (its equation parsed), ``tensordot`` and ``linalg.eigh``.

One ``op(...)`` call is one entry (see :mod:`torchlint.analysis.api`); its examples are checked against real
PyTorch by ``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis import shapes as S
from torchlint.analysis.api import Args, op
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import MANY, Seq, Tensor


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


def r_eigh(a: Args):
    """(eigenvalues, eigenvectors) of a batch of symmetric matrices: shapes (..., n) and (..., n, n)."""
    shape = a.tensor("input").shape
    if shape is None:
        return Seq("tuple", (Tensor(shape=None), Tensor(shape=None)))
    if len(shape) < 2:
        raise ShapeUnknown("eigh of a tensor with fewer than 2 dims")
    return Seq("tuple", (Tensor(shape=shape[:-1]), Tensor(shape=shape)))


# ---------------------------------------------------------------------------
# the entries

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
