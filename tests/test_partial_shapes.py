"""What a layer's partial rule keeps when an argument's value is unknown, checked against real torch.

Each case reads a size from the environment (torchlint does not know its value; the real run takes the
default) and calls a layer or function with it.  torchlint's prediction must agree with the real result on
every dim it claims, claim at least the dims ``keeps`` names, and claim "more than one element" only when
the real result has more than one.
"""
from __future__ import annotations

import pytest
from test_api_model import actual, predict

from torchlint.analysis.values import MANY, Tensor

ENV = "import os; k = int(os.environ.get('K', '3')); o = int(os.environ.get('O', '5')); "

# (setup, expression, known dims that must be predicted {index: size} or "many" when only numel is known)
CASES = [
    ("x = torch.randn(6, 4)", "nn.Linear(4, o)(x)", {0: 6}),
    ("x = torch.randn(2, 6, 4)", "nn.Linear(4, o)(x)", {0: 2, 1: 6}),
    ("x = torch.randn(2, 3, 8, 8)", "nn.Conv2d(3, 4, k)(x)", {0: 2, 1: 4}),
    ("x = torch.randn(3, 8)", "nn.Conv1d(3, 4, k, stride=k)(x)", {0: 4}),
    ("x = torch.randn(2, 3, 6, 6)", "nn.Conv2d(3, o, 3)(x)", {0: 2}),
    ("x = torch.randn(2, 3, 5, 5)", "nn.ConvTranspose2d(3, 4, k, stride=2)(x)", {0: 2, 1: 4}),
    ("x = torch.randn(2, 3, 8); w = torch.randn(4, 3, 3)", "F.conv1d(x, w, stride=k)", {0: 2, 1: 4}),
    ("x = torch.randn(2, 3, 9, 9)", "nn.MaxPool2d(k)(x)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 9)", "F.avg_pool1d(x, k)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 9, 9)", "F.max_pool2d(x, k, stride=1)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 9, 9)", "nn.AdaptiveAvgPool2d(k)(x)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 4, 4)", "F.interpolate(x, scale_factor=k)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 4, 4)", "nn.Upsample(scale_factor=k)(x)", {0: 2, 1: 3}),
    ("x = torch.randn(2, 3, 4, 4)", "nn.ReflectionPad2d(k)(x)", {0: 2, 1: 3}),
    ("i = torch.tensor([[1, 2], [3, 4]])", "nn.Embedding(10, o)(i)", {0: 2, 1: 2}),
    # an input torchlint does not know at all (taken from a dict by an unknown key): only numel stays
    ("x = {'a': torch.randn(3, 4)}[os.environ.get('KEY', 'a')]", "nn.Linear(4, 2)(x)", "many"),
    ("x = {'a': torch.randn(2, 3, 8, 8)}[os.environ.get('KEY', 'a')]", "nn.Conv2d(3, 4, 3)(x)", "many"),
    ("x = {'a': torch.randn(3, 4)}[os.environ.get('KEY', 'a')]", "F.linear(x, torch.randn(2, 4))", "many"),
]

# Cases where the known part leaves the element count open: the prediction must not claim it.
OPEN = [
    ("x = torch.randn(1, 1, 4, 4)", "nn.MaxPool2d(k + 1)(x)"),  # the kernel covers the map: one element
    ("x = torch.randn(1, 1, 4, 4)", "F.avg_pool2d(x, k + 1)"),
    ("x = torch.randn(1, 1, 4, 4)", "nn.AdaptiveMaxPool2d(k - 2)(x)"),
    ("x = {'a': torch.randn(1, 4)}[os.environ.get('KEY', 'a')]", "nn.Linear(4, 1)(x)"),
    ("x = torch.randn(1, 1, 3, 3)", "nn.Conv2d(1, 1, k)(x)"),
]


@pytest.mark.parametrize("setup,expr,keeps", CASES, ids=[c[1] for c in CASES])
def test_partial_result_agrees_with_torch(setup, expr, keeps):
    real, _ = actual(ENV + setup, expr)
    pred = predict(ENV + setup, expr)
    assert isinstance(pred, Tensor), pred
    if keeps == "many":
        assert pred.numel == MANY and real.numel() != 1
        return
    assert pred.shape is not None and len(pred.shape) == real.dim(), (pred.shape, tuple(real.shape))
    for i, d in enumerate(pred.shape):
        if isinstance(d, int):
            assert d == real.shape[i], (pred.shape, tuple(real.shape))
    for i, size in keeps.items():
        assert pred.shape[i] == size, (pred.shape, tuple(real.shape))
    assert any(d is None for d in pred.shape), "the case must leave a dim unknown (else it tests the exact rule)"
    if pred.numel == MANY:
        assert real.numel() != 1


@pytest.mark.parametrize("setup,expr", OPEN, ids=[c[1] for c in OPEN])
def test_partial_result_does_not_claim_what_is_open(setup, expr):
    real, _ = actual(ENV + setup, expr)
    assert real.numel() == 1
    pred = predict(ENV + setup, expr)
    assert isinstance(pred, Tensor) and pred.numel != MANY, pred


def test_max_pool_asked_for_indices_is_not_taken_for_one_tensor():
    pred = predict(ENV + "x = torch.randn(2, 3, 9, 9)", "nn.MaxPool2d(k, return_indices=True)(x)")
    assert not (isinstance(pred, Tensor) and pred.shape is not None)
