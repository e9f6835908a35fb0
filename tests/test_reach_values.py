"""Real-world reach (issue 9), the values side: tensor facts (dtype, device, legacy constructors, iteration),
Python numbers (math.*, arithmetic on .item()), module parameters, and the false positives that an
unknown dtype argument, an unknown operand, an appended layer list or a layer's bias flag used to cause.
The fixtures check the same end to end against real torch; these pin down the values."""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from rulecheck import lint
from torchlint.analysis.interp import Interpreter
from torchlint.analysis.values import UNKNOWN, Const, Number, Tensor, TorchObject
from torchlint.workspace.prefilter import triggers

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n" \
         "from torch.autograd import Variable\n"


def run(src: str) -> dict:
    interp = Interpreter(cst.parse_module(HEADER + textwrap.dedent(src)))
    interp.run()
    return interp.module_frame.vars


# -- tensor facts


def test_dtype_and_device_are_known_values():
    v = run("x = torch.randn(2)\nd = x.dtype\ndev = x.device\ni = torch.arange(3).to(dtype=x.dtype)\n"
            "j = torch.randn(3).type(torch.arange(2).dtype)\nk = torch.randn(2, requires_grad=True).to(x.device)\n")
    assert isinstance(v["d"], TorchObject) and v["d"].qual == "torch.dtype"
    assert v["i"].dtype == "float" and v["j"].dtype == "int"
    assert v["k"].dtype == "float" and v["k"].requires_grad is True


def test_to_or_type_with_an_unknown_dtype_forgets_the_dtype():
    v = run("x = torch.randn(3) if cond else torch.arange(3)\ndt = cfg.dtype\n"
            "a = (x > 0).type(x.dtype)\nb = (x > 0).to(dt)\nc = (x > 0).to('cpu')\n")
    assert v["a"].dtype is None and v["b"].dtype is None
    assert v["c"].dtype == "bool"  # a device string is no dtype


def test_promotion_counts_python_numbers_and_unknown_operands():
    v = run("a = torch.arange(3) * 0.5\nb = torch.mul(torch.arange(3), 2)\nc = torch.minimum(unknown, torch.tensor(1))\n"
            "d = torch.minimum(torch.arange(3), torch.tensor(1))\ne = torch.where(torch.rand(2) > 0, torch.arange(2), 0.0)\n")
    assert v["a"].dtype == "float" and v["b"].dtype == "int"
    assert v["c"].dtype is None and v["d"].dtype == "int"
    assert v["e"].dtype == "float"


def test_legacy_constructors():
    v = run("a = torch.Tensor([[1, 2], [0.5, 1]])\nb = torch.LongTensor([0, 1, 1])\nc = torch.Tensor(2, 3)\n"
            "d = torch.cuda.FloatTensor\ne = torch.Tensor(torch.arange(2))\nf = torch.FloatTensor(torch.arange(2))\n"
            "x = torch.randn(2, 3)\ng = torch.Tensor(x.shape)\n")
    assert (v["a"].shape, v["a"].dtype, v["a"].requires_grad, v["a"].leaf) == ((2, 2), "float", False, True)
    assert (v["b"].shape, v["b"].dtype) == ((3,), "int")
    assert (v["c"].shape, v["c"].dtype) == ((2, 3), "float")
    assert v["e"].dtype == "int"  # torch.Tensor(t) is t's data
    assert v["f"] is UNKNOWN  # a typed constructor of a tensor of another dtype raises TypeError
    assert v["g"].shape is None and v["g"].dtype == "float"  # a tuple of ints may be a torch.Size


def test_cuda_and_cpu_legacy_types_join():
    v = run("T = torch.cuda.LongTensor if cond else torch.LongTensor\nt = T([1, 2])\n")
    assert v["t"].dtype == "int" and v["t"].shape == (2,)


def test_variable_is_a_detached_leaf():
    v = run("x = torch.randn(2, requires_grad=True) * 2\na = Variable(x)\nb = Variable(torch.randn(3), requires_grad=True)\n")
    assert v["a"].requires_grad is False and v["a"].leaf
    assert v["b"].requires_grad is True and v["b"].leaf and v["b"].graph == frozenset()


def test_requires_grad_on_an_op_result_makes_a_leaf():
    v = run("a = (torch.randn(3) * 0.5).requires_grad_()\nx = torch.randn(3, requires_grad=True)\nb = (x * 2).requires_grad_()\n"
            "s = torch.randn(3, requires_grad=flag)\nc = (torch.randn(3) * s).requires_grad_()\n")
    assert v["a"].leaf and v["a"].requires_grad is True
    assert not v["b"].leaf  # it already required grad: still computed by an op
    assert not v["c"].leaf  # times a tensor that may require grad: it may require grad already


def test_iterating_a_tensor_of_known_length():
    v = run("r = torch.randn(3, 2, requires_grad=True)\ns = sum(r)\nz = list(zip(torch.randn(2), torch.randn(2)))\n"
            "e = list(enumerate(torch.randn(4), 1))\n")
    assert v["s"].shape == (2,) and v["s"].requires_grad is True
    assert len(v["z"].items) == 2 and len(v["e"].items) == 4 and v["e"].items[0].items[0] == Const(1)


# -- Python numbers


def test_math_on_a_tensor_and_arithmetic_keep_the_conversion():
    v = run("x = torch.tensor([3.0], requires_grad=True)\ny = math.sin(x)\nz = 3 * y\nf = math.floor(x)\n"
            "s = x.item() * 2 + 1\nq = math.sqrt(x.item())\nm = math.sin(torch.randn(3))\nc = math.sqrt(2.0)\n")
    assert isinstance(v["y"], Number) and v["y"].conv == "math.sin()" and v["z"].conv == "math.sin()"
    assert v["f"].kind == "int"
    assert v["s"].conv == ".item()" and v["q"].conv == ".item()"
    assert v["m"] is UNKNOWN  # a multi-element tensor raises ValueError first
    assert isinstance(v["c"], Number) and v["c"].conv is None


# -- module parameters


def test_parameters_of_torch_and_user_modules():
    v = run("""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())

class Empty(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.ReLU()

lin = list(nn.Linear(2, 3).parameters())
act = list(nn.Sequential(nn.ReLU(), nn.Tanh()).parameters())
norm = list(nn.LayerNorm(3, elementwise_affine=False).parameters())
net = list(Net().parameters())
named = list(Net().named_parameters())
empty = list(Empty().parameters())
""")
    p = v["lin"].elem
    assert isinstance(p, Tensor) and p.leaf and p.requires_grad is True
    assert v["act"].items == () and v["norm"].items == ()
    assert v["net"].elem.leaf and v["net"].elem.requires_grad is True
    assert v["named"].elem.items[1].requires_grad is True
    assert v["empty"] is UNKNOWN or v["empty"].elem is UNKNOWN  # not known to have parameters: no claim


@pytest.mark.parametrize("freeze", ["p.requires_grad = False", "p.requires_grad_(False)"])
def test_freezing_a_parameter_makes_parameters_unknown(freeze):
    v = run(f"m = nn.Linear(2, 2)\nfor p in m.parameters():\n    {freeze}\nafter = list(nn.Linear(2, 2).parameters())\n")
    assert v["after"].elem.requires_grad is None


def test_layer_bias_is_the_parameter_not_the_flag():
    v = run("b = nn.Linear(3, 2).bias\nnone = nn.Linear(3, 2, bias=False).bias\nw = nn.Linear(3, 2).weight\n")
    assert isinstance(v["b"], Tensor) and v["b"].requires_grad is True and v["b"].leaf
    assert v["none"] == Const(None)
    assert isinstance(v["w"], Tensor)


def test_self_list_append_is_tracked():
    v = run("""
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = []
        self.layers.append(nn.Linear(3, 4))
        self.layers.append(nn.ReLU())
        self.model = nn.Sequential(*self.layers)

out = M().model(torch.randn(2, 3))
""")
    assert v["out"].shape == (2, 4) and v["out"].requires_grad is True


# -- rules


def test_tl006_line_after_a_certain_raise_in_its_block_never_runs():
    src = ("import torch\nfrom torch.autograd import Variable\n"
           "a = Variable(torch.LongTensor([1, 2]), requires_grad=True)\n"
           "b = Variable(torch.LongTensor([3, 4]), requires_grad=True)\n")
    assert [d.location.row for d in lint(src, "TL006")] == [3]
    # in different branches both may run
    src = ("import torch\nimport sys\nif len(sys.argv) > 1:\n    a = torch.arange(3, requires_grad=True)\n"
           "else:\n    b = torch.arange(3, requires_grad=True)\n")
    assert [d.location.row for d in lint(src, "TL006")] == [4, 6]


def test_tl006_variable_and_legacy_constructors_get_no_dtype_fix():
    src = "import torch\nimport torch.nn as nn\nfrom torch.autograd import Variable\n" \
          "def f():\n    return Variable(torch.LongTensor([1]), requires_grad=True)\n" \
          "def g():\n    return nn.Parameter(torch.LongTensor([1]))\n"
    found = lint(src, "TL006")
    assert [d.location.row for d in found] == [5, 7] and all(d.fix is None for d in found)


def test_tl009_is_checked_in_a_file_that_only_iterates_parameters():
    src = b"import torch\nlin = torch.nn.Linear(2, 1)\nfor p in lin.parameters():\n    p.sub_(0.1)\n"
    t = triggers(["TL009"])
    assert "TL009" in t.rules_for(src)
    assert [d.location.row for d in lint(src.decode(), "TL009")] == [4]
