"""Focused tests of TL002, TL003 and TL006: messages, severities, fix text, look-alikes, docs, triggers.

The fixture suite (tests/test_fixtures.py) runs every fixture under real torch; these tests pin what a
fixture cannot: the exact fix text and its safety, the wording, and silent look-alikes.
"""
from __future__ import annotations

import re
import textwrap

import pytest

from rulecheck import fixed, lint, none, one
from torchlint import registry
from torchlint.engine import lint_source
from torchlint.workspace.prefilter import triggers

CODES = ["TL002", "TL003", "TL006"]


# ---------------------------------------------------------------------------
# metadata and documentation


@pytest.mark.parametrize("code", CODES)
def test_rule_metadata_and_doc_sections(code):
    rule = registry.get_rule(code)
    assert rule.code == code
    assert rule.name == {"TL002": "grad-non-scalar-outputs", "TL003": "functional-grad-non-scalar",
                         "TL006": "integer-requires-grad"}[code]
    assert rule.summary and rule.fix in ("always", "sometimes", "none")
    assert rule.triggers
    kind, text = rule.runtime_error
    assert kind == "RuntimeError" and text
    sections = [line[3:].strip() for line in rule.doc.splitlines() if line.startswith("## ")]
    assert sections == ["What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Known limits"]


@pytest.mark.parametrize("code", CODES)
def test_doc_example_is_flagged_and_use_instead_is_not(code):
    rule = registry.get_rule(code)
    blocks = re.findall(r"```python\n(.*?)```", rule.doc, re.DOTALL)
    example, use_instead = blocks[0], blocks[1]
    prelude = "import torch\nimport torch.nn as nn\n"
    assert [d.code for d in lint_source(prelude + example, "t.py", select=[code])], f"{code}: example not flagged"
    assert lint_source(prelude + use_instead, "t.py", select=[code]) == []


# ---------------------------------------------------------------------------
# TL002


def test_tl002_message_fix_and_unsafe():
    src = """\
    import torch
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    g = torch.autograd.grad(y, x, create_graph=True)
    """
    d = one(src, "TL002")
    assert (d.location.row, d.location.column, d.severity) == (4, 5, "error")
    assert "`y` has shape (3,)" in d.message and "grad_outputs=torch.ones_like(y)" in d.message
    assert "jacrev" in d.message
    assert d.fix.applicability == "unsafe"
    assert "g = torch.autograd.grad(y, x, create_graph=True, grad_outputs=torch.ones_like(y))" in fixed(src, "TL002")
    # not applied without --unsafe-fixes
    assert fixed(src, "TL002", unsafe=False) == textwrap.dedent(src)


def test_tl002_fix_uses_the_alias():
    src = """\
    import torch as T
    from torch.autograd import grad
    x = T.randn(2, 3, requires_grad=True)
    y = x.pow(2).sum(dim=1)
    (g,) = grad(y, x)
    """
    assert "(g,) = grad(y, x, grad_outputs=T.ones_like(y))" in fixed(src, "TL002")


@pytest.mark.parametrize("src", [
    # torch not bound as a name
    "from torch import autograd, randn\nx = randn(4, requires_grad=True)\ny = x.exp()\nautograd.grad(y, x)\n",
    # a list of outputs (literal and variable)
    "import torch\nx = torch.randn(3, requires_grad=True)\ntorch.autograd.grad([x.sum(), x * 2], x)\n",
    "import torch\nx = torch.randn(3, requires_grad=True)\nouts = [x.sum(), x * 2]\ntorch.autograd.grad(outs, x)\n",
    # the outputs expression runs a model: duplicating it would run the model twice
    "import torch\nm = torch.nn.Linear(3, 2)\nx = torch.randn(4, 3, requires_grad=True)\ntorch.autograd.grad(m(x), x)\n",
])
def test_tl002_no_fix_when_none_is_correct(src):
    d = one(src, "TL002")
    assert d.fix is None


def test_tl002_list_message_names_an_element():
    d = one("import torch\nx = torch.randn(3, requires_grad=True)\nouts = [x.sum(), x * 2]\n"
            "torch.autograd.grad(outs, x)\n", "TL002")
    assert d.message.startswith("an output in `outs` has shape (3,)")


def test_tl002_vjp_without_v():
    d = one("""\
    import torch
    def f(x):
        return x.sin()
    torch.autograd.functional.vjp(f, torch.randn(4))
    """, "TL002")
    assert d.location.row == 4 and "`f` returns shape (4,)" in d.message and "v=" in d.message
    assert d.fix is None


@pytest.mark.parametrize("src", [
    # scalar outputs
    "x = torch.randn(3, requires_grad=True)\ntorch.autograd.grad((x ** 2).sum(), x)\n",
    # one element with one dim is accepted by autograd.grad
    "x = torch.randn(3, requires_grad=True)\ntorch.autograd.grad(x.sum(0, keepdim=True), x)\n",
    # grad_outputs positional / keyword
    "x = torch.randn(3, requires_grad=True)\ny = x * 2\ntorch.autograd.grad(y, x, torch.ones_like(y))\n",
    "x = torch.randn(3, requires_grad=True)\ny = x * 2\ntorch.autograd.grad(y, x, grad_outputs=torch.ones(3))\n",
    # batched grads
    "x = torch.randn(3, requires_grad=True)\ny = x * 2\ntorch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True)\n",
    "x = torch.randn(3, requires_grad=True)\ny = x * 2\ntorch.autograd.grad(y, x, is_grads_batched=True)\n",
    # unknown shapes
    "def pen(s, i):\n    return torch.autograd.grad(s, i)\n",
    # outputs that do not require grad raise a different error
    "x = torch.randn(3, requires_grad=True)\ny = (x * 2).detach()\ntorch.autograd.grad(y, x)\n",
    # *args: cannot tell what is passed
    "x = torch.randn(3, requires_grad=True)\nargs = (x * 2, x)\ntorch.autograd.grad(*args)\n",
    # vjp with v, of a scalar function, and torch.func.vjp
    "def f(x):\n    return x.sin()\ntorch.autograd.functional.vjp(f, torch.randn(4), torch.ones(4))\n",
    "def f(x):\n    return x.sin().sum()\ntorch.autograd.functional.vjp(f, torch.randn(4))\n",
    "def f(x):\n    return x.sin()\nout, fn = torch.func.vjp(f, torch.randn(4))\n",
    # jacobian
    "def f(x):\n    return x.sin()\ntorch.autograd.functional.jacobian(f, torch.randn(4))\n",
])
def test_tl002_look_alikes_stay_silent(src):
    none("import torch\n" + src, "TL002")


# ---------------------------------------------------------------------------
# TL003


def test_tl003_message_and_no_fix():
    d = one("""\
    from torch.func import grad
    import torch
    def f(x):
        return x.sin()
    grad(f)(torch.randn(3))
    """, "TL003")
    assert (d.location.row, d.severity) == (5, "error")
    assert "`grad(f)` differentiates a function that returns shape (3,)" in d.message
    assert "jacrev/jacfwd" in d.message and ".sum()" in d.message
    assert d.fix is None


def test_tl003_one_element_with_dims():
    d = one("""\
    import torch
    def f(x):
        return x.sum(0, keepdim=True)
    torch.func.grad(f)(torch.randn(3))
    """, "TL003")
    assert "shape (1,): one element, but 1 dim" in d.message and "0-dim" in d.message


@pytest.mark.parametrize("spelling", [
    "import torch\ng = torch.func.grad",
    "import torch\nimport torch as T\ng = T.func.grad",
    "import torch\nfrom torch import func\ng = func.grad",
    "import torch\nfrom torch.func import grad as g",
    "import torch\nimport functorch\ng = functorch.grad",
    "import torch\nfrom functorch import grad_and_value as g",
])
def test_tl003_spellings(spelling):
    src = spelling + "\ndef f(x):\n    return x * 2\ng(f)(torch.randn(3))\n"
    assert [d.location.row for d in lint_source(src, "t.py", select=["TL003"])] == [len(spelling.splitlines()) + 3]
    assert triggers({"TL003"}).matches(src.encode())


def test_tl003_lambda_method_and_argnums():
    assert one("import torch\ntorch.func.grad(lambda x: x ** 2)(torch.randn(4))\n", "TL003")
    assert one("import torch\nclass M:\n    def loss(self, x):\n        return x * 2\n"
               "torch.func.grad(M().loss)(torch.randn(3))\n", "TL003")
    assert one("import torch\ndef f(a, b):\n    return a * b\n"
               "torch.func.grad(f, argnums=1)(torch.randn(3), torch.randn(3))\n", "TL003")


@pytest.mark.parametrize("src", [
    # scalar functions
    "def f(x):\n    return x.sin().sum()\ntorch.func.grad(f)(torch.randn(3))\n",
    "torch.func.grad(lambda x: (x ** 2).mean())(torch.randn(3))\n",
    # element-wise f on a 0-dim input
    "def f(x):\n    return x * 2\ntorch.func.grad(f)(torch.tensor(3.0))\n",
    # has_aux with a scalar first value; has_aux with a bare tensor or a list raises another error
    "def f(x):\n    return x.sum(), x\ntorch.func.grad(f, has_aux=True)(torch.randn(3))\n",
    "def f(x):\n    return x * 2\ntorch.func.grad(f, has_aux=True)(torch.randn(3))\n",
    "def f(x):\n    return [x.sum(), x]\ntorch.func.grad(f, has_aux=True)(torch.randn(3))\n",
    # the call fails before f runs: keyword-only input, integer input
    "def f(x):\n    return x * 2\ntorch.func.grad(f)(x=torch.randn(3))\n",
    "def f(x):\n    return x * 2\ntorch.func.grad(f)(torch.arange(3))\n",
    # not called / Jacobians / vmap'ed per-sample grads / unknown function
    "def f(x):\n    return x * 2\nd = torch.func.grad(f)\n",
    "def f(x):\n    return x.sin()\ntorch.func.jacrev(f)(torch.randn(3))\ntorch.func.jacfwd(f)(torch.randn(3))\n",
    "def f(w, x):\n    return x @ w\ntorch.func.vmap(torch.func.grad(f), in_dims=(None, 0))(torch.randn(3), torch.randn(5, 3))\n",
    "g = torch.func.grad(getattr(torch, 'sum'))(torch.randn(3))\n",
])
def test_tl003_look_alikes_stay_silent(src):
    none("import torch\n" + src, "TL003")


# ---------------------------------------------------------------------------
# TL006


@pytest.mark.parametrize("line, after", [
    ("torch.arange(5, requires_grad=True)", "torch.arange(5., requires_grad=True)"),
    ("torch.arange(0, 10, 2, requires_grad=True)", "torch.arange(0, 10, 2., requires_grad=True)"),
    ("torch.tensor(3, requires_grad=True)", "torch.tensor(3., requires_grad=True)"),
    ("torch.full((2,), 1, requires_grad=True)", "torch.full((2,), 1., requires_grad=True)"),
    ("torch.tensor([1, 2], requires_grad=True)", "torch.tensor([1, 2], requires_grad=True, dtype=torch.float32)"),
    ("torch.tensor([1., 2.], dtype=torch.long, requires_grad=True)",
     "torch.tensor([1., 2.], dtype=torch.float32, requires_grad=True)"),
    ("torch.zeros(3, dtype=torch.int32, requires_grad=True)", "torch.zeros(3, dtype=torch.float32, requires_grad=True)"),
    ("torch.arange(5, requires_grad=True, dtype=None)", "torch.arange(5, requires_grad=True, dtype=torch.float32)"),
    ("torch.randint(0, 10, (4,), requires_grad=True)",
     "torch.randint(0, 10, (4,), requires_grad=True, dtype=torch.float32)"),
    # hexadecimal literals have no float spelling: add the dtype instead
    ("torch.arange(0x5, requires_grad=True)", "torch.arange(0x5, requires_grad=True, dtype=torch.float32)"),
    ("torch.nn.Parameter(torch.tensor(10))", "torch.nn.Parameter(torch.tensor(10.))"),
])
def test_tl006_fix_is_the_smallest_correct_change(line, after):
    src = f"import torch\nt = {line}\n"
    d = one(src, "TL006")
    assert d.severity == "error" and d.fix is not None and d.fix.applicability == "safe"
    assert fixed(src, "TL006", unsafe=False) == f"import torch\nt = {after}\n"


def test_tl006_messages():
    d = one("import torch\nw = torch.tensor([1, 2, 3], requires_grad=True)\n", "TL006")
    assert d.message.startswith("`torch.tensor(...)` makes an integer tensor that requires grad")
    d = one("import torch\nm = torch.ones(3, dtype=torch.bool, requires_grad=True)\n", "TL006")
    assert "a boolean tensor" in d.message
    d = one("import torch\nx = torch.randn(3)\ny = x.long().requires_grad_()\n", "TL006")
    assert d.message.startswith("`x.long()` is an integer tensor: requires_grad_()") and d.fix is None
    d = one("import torch\nimport torch.nn as nn\np = nn.Parameter(torch.arange(3))\n", "TL006")
    assert "Parameter" in d.message and "requires_grad=False" in d.message


def test_tl006_fix_without_torch_name_and_with_changed_default():
    # only names imported from torch: a float literal works, a dtype cannot be named
    # (each in its own function: after a line that always raises, the rest of its block never runs)
    src = "from torch import tensor\ndef f():\n    t = tensor(7, requires_grad=True)\ndef g():\n" \
          "    u = tensor([1, 2], requires_grad=True)\n"
    found = lint(src, "TL006")
    assert [d.location.row for d in found] == [3, 5]
    assert found[0].fix is not None and found[1].fix is None
    # the default dtype changed: writing torch.float32 is unsafe, a float literal stays safe
    src = "import torch\ntorch.set_default_dtype(torch.float64)\nn = 4\ndef f():\n    a = torch.arange(n, requires_grad=True)\n" \
          "def g():\n    b = torch.arange(4, requires_grad=True)\n"
    found = lint(src, "TL006")
    assert [d.fix.applicability for d in found] == ["unsafe", "safe"]


@pytest.mark.parametrize("src", [
    "torch.tensor([1., 2.], requires_grad=True)",
    "torch.tensor([1, 2.5], requires_grad=True)",
    "torch.tensor([1, 2], dtype=torch.float, requires_grad=True)",
    "torch.tensor([1, 2], requires_grad=False)",
    "torch.arange(5.)",
    "torch.arange(5, dtype=torch.float32, requires_grad=True)",
    "torch.linspace(0, 1, 5, requires_grad=True)",
    "torch.full((2,), 1.0, requires_grad=True)",
    "torch.randint(0, 10, (3,), dtype=torch.float32, requires_grad=True)",
    "torch.randint_like(torch.randn(3), 10, requires_grad=True)",
    "torch.randn(2, dtype=torch.cfloat, requires_grad=True)",
    "torch.zeros(3, dtype=torch.long).requires_grad_(False)",
    "torch.randint(0, 5, (3,)).float().requires_grad_()",
    "torch.nn.Parameter(torch.arange(3), requires_grad=False)",
    "torch.nn.Parameter(torch.randn(3))",
    "torch.tensor(data, requires_grad=True)",
    "torch.zeros(3, dtype=dt, requires_grad=True)",
])
def test_tl006_look_alikes_stay_silent(src):
    none(f"import torch\ndata = object()\ndt = object()\nt = {src}\n", "TL006")


def test_triggers_are_necessary_words():
    assert triggers({"TL002"}).matches(b"from torch import autograd\nautograd.grad(y, x)\n")
    assert not triggers({"TL002"}).matches(b"import torch\ny.backward()\n")
    assert triggers({"TL006"}).matches(b"rg = True\nt = torch.tensor([1], requires_grad=rg)\n")
    assert triggers({"TL006"}).matches(b"p = nn.Parameter(torch.tensor(1))\n")
    assert not triggers({"TL003"}).matches(b"import torch\nx = torch.randn(3)\n")


def test_tl006_requires_grad_attribute_store():
    d = one("import torch\nlabels = torch.arange(4)\nlabels.requires_grad = True\n", "TL006")
    assert (d.location.row, d.location.column) == (3, 1) and d.fix is None
    assert d.message.startswith("`labels` is an integer tensor: setting requires_grad = True")
    none("import torch\nw = torch.arange(4.)\nw.requires_grad = True\n"
         "i = torch.arange(4)\ni.requires_grad = False\n", "TL006")
