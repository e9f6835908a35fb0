"""Python conversions: ``.item()``, ``.tolist()`` and ``.numpy()``, whose results are Python objects (a number,
a list, a NumPy array) that ``backward()`` cannot be called on.

One ``op(...)`` call is one entry (see :mod:`torchlint.analysis.api`); its examples are checked against real
PyTorch by ``tests/test_api_model.py``.
"""
from __future__ import annotations

from torchlint.analysis.api import Args, op
from torchlint.analysis.values import UNKNOWN, Const, Number, PyConverted, Tensor


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
# the entries

op("Tensor.item", "input", r_item, group="conversion", examples=[("x.item()", "x = torch.randn(1)"), ("x.sum().item()", "x = torch.randn(3)")])
op("Tensor.tolist", "input", r_tolist, group="conversion", examples=[("x.tolist()", "x = torch.randn(3)")])
op("Tensor.numpy", "input, *, force=False", r_numpy, group="conversion", examples=[("x.numpy()", "x = torch.randn(3)")])
