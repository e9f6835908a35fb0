"""benchmarks/op_usage.py: call names resolved through imports, tensor methods told from Python's own."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import op_usage  # noqa: E402

SOURCE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import Linear
from torch import cat as concat

x = torch.randn(2, 3)
y = F.relu(nn.Linear(3, 4)(x)) + Linear(3, 4)(x)
z = concat([x, x]).view(-1).view(3, 2)
parts = "a,b".split(",")
words = line.split(",")
d = {}.values()
x.frobnicate_unknown_method()
'''


def test_counts_resolve_aliases_and_skip_non_tensor_methods(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "broken.py").write_text("def (:\n")
    counts, files = op_usage.count([str(tmp_path)], op_usage.tensor_methods())
    assert files == 1
    assert counts["torch.randn"] == 1 and counts["torch.nn.functional.relu"] == 1
    assert counts["torch.nn.Linear"] == 2 and counts["torch.cat"] == 1
    assert counts["Tensor.view"] == 2
    assert not any(k in counts for k in ("Tensor.split", "Tensor.values", "Tensor.frobnicate_unknown_method"))


def test_modelled_names_and_coverage(tmp_path):
    extra = op_usage.interpreted()
    assert op_usage.is_modelled("torch.nn.functional.relu", extra)
    assert op_usage.is_modelled("Tensor.view", extra)
    assert op_usage.is_modelled("torch.no_grad", extra) and op_usage.is_modelled("Tensor.size", extra)
    assert not op_usage.is_modelled("torch.frobnicate", extra)
    ranked = [("a", 5, True), ("b", 3, False), ("c", 2, True)]
    assert op_usage.coverage(ranked, 2) == {"names": 2, "modelled": 1, "calls": 8, "calls_modelled": 5}
