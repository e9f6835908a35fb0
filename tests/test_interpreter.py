"""Unit tests of the abstract interpreter: constructs, precision, termination.

The fixtures check the same machinery end to end against real torch; these
tests pin down the domain's behaviour where a fixture would be awkward
(non-termination risks, unresolvable names, budget limits).
"""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

import torchlint
from torchlint.analysis.interp import Interpreter
from torchlint.analysis.values import LIKELY_NON_SCALAR, NON_SCALAR, SCALAR, UNKNOWN, Tensor, UnknownValue


def run(src: str):
    interp = Interpreter(cst.parse_module(textwrap.dedent(src)))
    interp.run()
    return interp.module_frame.vars


def findings(src: str):
    return [(d.location.row, d.code, d.severity) for d in torchlint.lint_source(textwrap.dedent(src), "t.py", select=["TL001"])]


HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def test_branch_join_keeps_non_scalar_when_both_sides_are():
    v = run(HEADER + """
x = torch.randn(3, 4)
if x.sum() > 0:
    y = x.sum(0)
else:
    y = x.sum(1)
""")
    assert v["y"].shape == (None,) and v["y"].verdict == NON_SCALAR


def test_branch_join_scalar_and_non_scalar_is_unknown():
    v = run(HEADER + """
x = torch.randn(3, 4)
y = x.sum() if x.sum() > 0 else x
""")
    assert v["y"].verdict not in (NON_SCALAR, LIKELY_NON_SCALAR)


def test_loop_fixed_point_terminates_on_growing_shapes():
    v = run(HEADER + """
x = torch.randn(2)
while True:
    x = torch.cat([x, x])
    if x.shape[0] > 100:
        break
""")
    # it terminates; cat may meet empty tensors, so (?,) is not provably non-scalar
    assert isinstance(v["x"], Tensor) and v["x"].shape == (None,)


def test_augmented_assignment_in_loop_stays_scalar():
    v = run(HEADER + """
x = torch.randn(3, requires_grad=True)
total = 0
for i in range(10):
    total += (x * i).sum()
""")
    assert v["total"].verdict == SCALAR


def test_recursion_is_cut_off():
    v = run(HEADER + """
def f(t, n):
    if n == 0:
        return t
    return f(t.sum(0), n - 1)
y = f(torch.randn(3, 4), 2)
""")
    assert "y" in v  # terminated; the value may be unknown


def test_unresolved_names_are_unknown_never_non_scalar():
    assert findings("""
from mylib import criterion, model
loss = criterion(model(1), 2)
loss.backward()
x = load_tensor()
(x * x).backward()
""") == []


def test_elementwise_on_unknown_shapes_is_silent():
    assert findings(HEADER + """
def step(a, b):
    loss = a * b + a
    loss.backward()
""") == []


def test_local_class_named_like_a_torch_loss_is_not_torch():
    assert findings(HEADER + """
class CrossEntropyLoss:
    def __init__(self, reduction):
        self.reduction = reduction
    def __call__(self, a, b):
        return load()
crit = CrossEntropyLoss(reduction="none")
loss = crit(torch.randn(3, 2, requires_grad=True), torch.tensor([0, 1, 1]))
loss.backward()
""") == []


def test_shadowed_functional_alias_is_not_functional():
    assert findings(HEADER + """
F = object()
x = torch.randn(3, requires_grad=True)
loss = F.mse_loss(x, x, reduction="none")
loss.backward()
""") == []


def test_import_aliases_resolve():
    src = """
import torch as T
from torch.nn import MSELoss as M
from torch.nn import functional as Fn
x = T.randn(3, requires_grad=True)
M(reduction="none")(x, x).backward()
Fn.l1_loss(x, x, reduce=False).backward()
"""
    assert [r[1:] for r in findings(src)] == [("TL001", "error"), ("TL001", "error")]


def test_function_summary_per_call_site():
    src = HEADER + """
def per_sample(a, b):
    return F.mse_loss(a, b, reduction="none")
x = torch.randn(4, requires_grad=True)
per_sample(x, x).backward()
per_sample(x, x).mean().backward()
"""
    assert [r[0] for r in findings(src)] == [8]


def test_method_sees_init_attributes():
    src = HEADER + """
class Trainer:
    def __init__(self):
        self.crit = nn.CrossEntropyLoss(reduction="none")
    def step(self, logits, y):
        loss = self.crit(logits, y)
        loss.backward()
"""
    # generic analysis: shapes unknown, but the loss is unreduced -> warning
    assert findings(src) == [(10, "TL001", "warning")]


def test_no_grad_block_sets_requires_grad_false():
    v = run(HEADER + """
x = torch.randn(3, requires_grad=True)
with torch.no_grad():
    y = x * 2
z = x * 2
""")
    assert v["y"].requires_grad is False and v["z"].requires_grad is True


def test_data_parallel_output_is_a_warning_and_ddp_is_silent():
    src = HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)
    def forward(self, x, y):
        return F.mse_loss(self.fc(x), y)
x, y = torch.randn(4, 3), torch.randn(4, 1)
dp = nn.DataParallel(Net())
dp(x, y).backward()
ddp = nn.parallel.DistributedDataParallel(Net())
ddp(x, y).backward()
"""
    assert findings(src) == [(13, "TL001", "warning")]


def test_budget_bounds_work_on_huge_files():
    body = "\n".join(f"def f{i}(x):\n    return f{i + 1}(x) + f{i + 1}(x)" for i in range(60))
    src = HEADER + body + "\ndef f60(x):\n    return x\ny = f0(torch.randn(2))\n"
    run(src)  # must terminate quickly despite 2**60 call paths


@pytest.mark.parametrize("expr,expected", [
    ("x[0]", (4,)), ("x[:, 1]", (3,)), ("x[None]", (1, 3, 4)), ("x[..., 0]", (3,)),
    ("x[1:, ::2]", (2, 2)), ("x[[0, 2]]", (2, 4)), ("x[0, 0]", ()),
])
def test_indexing(expr, expected):
    v = run(HEADER + f"x = torch.randn(3, 4)\ny = {expr}\n")
    assert v["y"].shape == expected


def test_unknown_value_singleton():
    assert isinstance(UNKNOWN, UnknownValue)


def test_generic_analysis_does_not_assume_parameter_defaults():
    # Callers elsewhere may pass reduction="mean"; only a call in this file can tell.
    src = HEADER + """
def train_step(x, y, reduction="none"):
    loss = F.mse_loss(x, y, reduction=reduction)
    loss.backward()
"""
    assert findings(src) == []
    called = src + "train_step(torch.randn(3, requires_grad=True), torch.randn(3))\n"
    assert findings(called) == [(7, "TL001", "error")]


def test_dict_get_of_a_missing_key_is_the_default():
    v = run(HEADER + """
cfg = {"lr": 0.1}
kind = cfg.get("kind")
other = cfg.get("kind", "mse")
lr = cfg.get("lr")
""")
    assert v["kind"].value is None and v["other"].value == "mse" and v["lr"].value == 0.1

