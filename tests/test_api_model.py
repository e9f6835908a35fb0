"""Every entry of the PyTorch API model, checked op by op against real PyTorch.

Each example of each entry is run twice: through torchlint's interpreter (the
predicted value of ``out``) and with real torch (the actual ``out``).  The
predicted shape must be fully known and equal to the real one, and a predicted
dtype kind must match.
"""
from __future__ import annotations

import pytest

from torchlint.analysis import api
from torchlint.analysis.values import Const, Number, PyConverted, Seq, Tensor, TorchObject

api.load()

# Examples exercise deprecated-but-supported arguments (reduce=, size_average=).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PRELUDE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\ntorch.manual_seed(0)\n"

CASES = []
for entry in api.ALL_ENTRIES:
    for i, ex in enumerate(entry.examples):
        CASES.append(pytest.param(entry, ex, id=f"{entry.key()}[{i}]"))


def predict(setup: str, expr: str):
    import libcst as cst

    from torchlint.analysis.interp import Interpreter

    source = PRELUDE + setup.replace("; ", "\n") + f"\nout = {expr}\n"
    interp = Interpreter(cst.parse_module(source))
    interp.run()
    return interp.module_frame.vars.get("out")


def actual(setup: str, expr: str):
    torch = pytest.importorskip("torch")
    env: dict = {}
    exec(PRELUDE + setup.replace("; ", "\n") + f"\nout = {expr}\n", env)
    return env["out"], torch


KIND = {"float": "float", "int": "int", "bool": "bool", "complex": "complex"}


def dtype_kind(t, torch):
    if t.dtype == torch.bool:
        return "bool"
    if t.dtype.is_complex:
        return "complex"
    if t.dtype.is_floating_point:
        return "float"
    return "int"


def compare(pred, real, torch, where="out"):
    if isinstance(real, torch.Tensor):
        assert isinstance(pred, Tensor), f"{where}: predicted {pred!r}, real is a tensor of shape {tuple(real.shape)}"
        assert pred.shape is not None and all(isinstance(d, int) for d in pred.shape), \
            f"{where}: predicted shape {pred.shape} is not fully known (real {tuple(real.shape)})"
        assert pred.shape == tuple(real.shape), f"{where}: predicted {pred.shape}, real {tuple(real.shape)}"
        expected_numel = "one" if real.numel() == 1 else "many"
        assert pred.numel == expected_numel
        if pred.dtype is not None:
            assert pred.dtype == dtype_kind(real, torch), f"{where}: predicted dtype {pred.dtype}, real {real.dtype}"
        if pred.requires_grad is not None:
            assert pred.requires_grad == real.requires_grad, f"{where}: predicted requires_grad {pred.requires_grad}"
    elif isinstance(pred, PyConverted):
        assert not isinstance(real, torch.Tensor) and isinstance(real, (list, float, int)) or type(real).__name__ == "ndarray", \
            f"{where}: predicted a Python object made by {pred.conv}, real {type(real).__name__}"
    elif isinstance(real, (tuple, list)):
        assert isinstance(pred, Seq) and pred.items is not None, f"{where}: predicted {pred!r} for a {type(real).__name__}"
        assert len(pred.items) == len(real), f"{where}: predicted {len(pred.items)} items, real {len(real)}"
        for i, (p, r) in enumerate(zip(pred.items, real)):
            compare(p, r, torch, f"{where}[{i}]")
    elif isinstance(real, (int, float, bool)):
        if isinstance(pred, Const):  # a value known exactly must be the real one
            assert pred.value == real and type(pred.value) is type(real), f"{where}: predicted {pred!r}, real {real!r}"
        else:
            assert isinstance(pred, Number), f"{where}: predicted {pred!r} for a Python number"
    elif real is None:
        assert pred == Const(None), f"{where}: predicted {pred!r}, real None"
    elif isinstance(real, torch.Generator):
        assert isinstance(pred, TorchObject) and pred.qual == "torch.Generator", f"{where}: predicted {pred!r}"
    elif isinstance(real, (torch.device, torch.dtype)):
        assert isinstance(pred, TorchObject) and pred.qual == f"torch.{type(real).__name__}", f"{where}: predicted {pred!r}"
    else:
        assert isinstance(pred, PyConverted), f"{where}: predicted {pred!r} for {type(real).__name__}"


@pytest.mark.parametrize("entry,example", CASES)
def test_entry_matches_torch(entry, example):
    real, torch = actual(example.setup, example.expr)
    pred = predict(example.setup, example.expr)
    compare(pred, real, torch)


def test_table_size():
    cov = api.coverage()
    # The issue asks for at least 300 ops and methods; the table must not shrink below that.
    assert cov["names"] >= 300, cov


def test_every_entry_has_an_example_or_is_documented_as_unknown_shape():
    missing = [e.key() for e in api.ALL_ENTRIES if not e.examples and e.key() not in UNTESTABLE]
    assert not missing, f"entries without examples: {missing}"


# Entries whose result shape is data-dependent or that only make Python objects:
# they predict an unknown shape by design, so an example would have nothing to compare.
UNTESTABLE = {
    "torch.as_tensor", "torch.masked_select", "torch.nonzero", "Tensor.detach_", "Tensor.squeeze_",
    "torch.distributed.get_world_size",  # raises without a process group
    "torch.unique", "torch.bincount", "torch.distributed.barrier",
}
