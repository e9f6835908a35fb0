"""Focused tests of TL004, TL005, TL007 and TL008: messages, severities, fix text, silence, documentation.

The fixture suite (tests/test_fixtures.py) checks every fixture against real torch; these tests pin the
details a fixture cannot: the exact fix text, the wording users read, and the look-alikes that must stay
silent without needing a runnable program.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES
from rulecheck import fixed, lint, one
from torchlint import registry

CODES = ["TL004", "TL005", "TL007", "TL008"]


# ---------------------------------------------------------------------------
# metadata and documentation


@pytest.mark.parametrize("code", CODES)
def test_rule_metadata_and_doc_sections(code):
    rule = registry.get_rule(code)
    assert rule.code == code
    assert rule.name and rule.name == rule.name.lower() and " " not in rule.name
    assert rule.summary and rule.fix in ("always", "sometimes", "none")
    assert rule.triggers
    sections = [line[3:].strip() for line in rule.doc.splitlines() if line.startswith("## ")]
    assert sections == ["What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Known limits"]
    if code == "TL007":
        assert rule.runtime_error is None  # the bug does not raise
    else:
        exc, fragment = rule.runtime_error
        assert exc in ("RuntimeError", "AttributeError") and fragment


def _trigger_groups(rule):
    return [(t,) if isinstance(t, str) else tuple(t) for t in rule.triggers]


@pytest.mark.parametrize("code", CODES)
def test_triggers_are_present_in_every_flagged_fixture(code):
    """Triggers are necessary words: a file the rule flags must contain one whole trigger group."""
    rule = registry.get_rule(code)
    flagged = [p for p in sorted((FIXTURES / code.lower()).glob("*.py")) if f"expect: {code}" in p.read_text()]
    assert len(flagged) >= 6
    for path in flagged:
        text = path.read_text()
        assert any(all(w in text for w in group) for group in _trigger_groups(rule)), path


@pytest.mark.parametrize("code", CODES)
def test_at_least_six_flagged_and_six_clean_fixtures(code):
    files = sorted((FIXTURES / code.lower()).glob("*.py"))
    flagged = [p for p in files if "# expect:" in p.read_text()]
    clean = [p for p in files if "# expect:" not in p.read_text()]
    assert len(flagged) >= 6 and len(clean) >= 6, (len(flagged), len(clean))
    assert all(p.name.endswith("_clean.py") for p in clean)


# ---------------------------------------------------------------------------
# TL004 backward-on-python-number

HEAD = """\
import torch
w = torch.randn(3, requires_grad=True)
loss = (w * w).sum()
"""


def test_tl004_item_receiver_message_and_safe_fix():
    src = HEAD + "loss.item().backward()\n"
    d = one(src, "TL004")
    assert (d.location.row, d.location.column, d.severity) == (4, 1, "error")
    assert "`loss.item()` is a Python number (made by .item())" in d.message
    assert "AttributeError" in d.message
    assert d.fix is not None and d.fix.applicability == "safe"
    assert fixed(src, "TL004").splitlines()[-1] == "loss.backward()"


def test_tl004_float_of_expression_keeps_parentheses():
    src = HEAD + "float(loss * 2).backward()\n"
    assert fixed(src, "TL004").splitlines()[-1] == "(loss * 2).backward()"


def test_tl004_int_and_tolist_wording():
    assert "is a Python int (made by int())" in one(HEAD + "int(loss).backward()\n", "TL004").message
    msg = one(HEAD + "loss.tolist().backward()\n", "TL004").message
    assert "is a Python list (or number, for a 0-d tensor)" in msg


def test_tl004_stored_number_has_no_fix():
    d = one(HEAD + "value = loss.item()\nvalue.backward()\n", "TL004")
    assert d.location.row == 5 and d.fix is None


def test_tl004_detached_conversion_has_no_fix():
    d = one(HEAD + "loss.detach().item().backward()\n", "TL004")
    assert d.fix is None


def test_tl004_numpy_of_grad_tensor_raises_earlier_and_is_not_reported():
    # t.numpy() raises "Can't call numpy() on Tensor that requires grad" before backward() is reached
    assert lint(HEAD + "arr = (w * 2).numpy()\narr.backward()\n", "TL004") == []
    assert lint(HEAD + "(w * 2).numpy().backward()\n", "TL004") == []
    # with force=True the conversion succeeds and the backward() fails
    assert len(lint(HEAD + "(w * 2).numpy(force=True).backward()\n", "TL004")) == 1


@pytest.mark.parametrize("src", [
    HEAD + "running = loss.item()\nloss.backward()\n",
    HEAD + "import sys\nif sys.argv:\n    loss = loss.item()\nloss.backward()\n",
    "class M:\n    def item(self):\n        return self\n    def backward(self):\n        pass\nM().item().backward()\n",
    HEAD + "x = torch.tensor(loss.item(), requires_grad=True)\nx.backward()\n",
])
def test_tl004_look_alikes_are_silent(src):
    assert lint(src, "TL004") == []


# ---------------------------------------------------------------------------
# TL005 backward-without-grad


def test_tl005_no_grad_message():
    src = """\
    import torch
    import torch.nn as nn
    model = nn.Linear(3, 1)
    with torch.no_grad():
        loss = model(torch.randn(2, 3)).sum()
    loss.backward()
    """
    d = one(src, "TL005")
    assert (d.location.row, d.severity, d.fix) == (6, "error", None)
    assert d.message == ("`loss` does not require grad (computed under torch.no_grad()), so backward() has no "
                         "graph to differentiate")


@pytest.mark.parametrize("how,said", [
    ("    with torch.inference_mode():\n        loss = model(x).sum()\n", "under torch.inference_mode()"),
    ("    with torch.set_grad_enabled(False):\n        loss = model(x).sum()\n",
     "under torch.set_grad_enabled(False)"),
    ("    torch.set_grad_enabled(False)\n    loss = model(x).sum()\n", "after torch.set_grad_enabled(False)"),
])
def test_tl005_names_what_turned_grad_off(how, said):
    src = ("import torch\nimport torch.nn as nn\nmodel = nn.Linear(3, 1)\nx = torch.randn(2, 3)\n\n\n"
           "def step():\n" + how + "    loss.backward()\n")
    d = one(src, "TL005")
    assert f"(computed {said})" in d.message


def test_tl005_names_a_no_grad_decorator():
    src = """\
    import torch
    import torch.nn as nn
    model = nn.Linear(3, 1)


    @torch.no_grad()
    def step(x):
        loss = model(x).pow(2).mean()
        loss.backward()
    """
    d = one(src, "TL005")
    assert "(computed in a function decorated with @torch.no_grad())" in d.message


def test_tl005_detach_reason():
    d = one(HEAD + "loss.detach().backward()\n", "TL005")
    assert ".detach()" in d.message


@pytest.mark.parametrize("src", [
    # the same object made trainable under another name
    "import torch\nx = torch.randn(3)\ny = x\ny.requires_grad_()\n(x * 2).sum().backward()\n",
    # a helper, a loop, a container, setattr
    "import torch\ndef on(t):\n    t.requires_grad_()\nx = torch.randn(3)\non(x)\n(x * 2).sum().backward()\n",
    "import torch\nxs = [torch.randn(3)]\nfor t in xs:\n    t.requires_grad = True\n(xs[0] * 2).sum().backward()\n",
    "import torch\nd = {'x': torch.randn(3)}\nd['x'].requires_grad_()\n(d['x'] * 2).sum().backward()\n",
    "import torch\nx = torch.randn(3)\nsetattr(x, 'requires_grad', True)\n(x * 2).sum().backward()\n",
    # a store of a tensor that requires grad into a buffer
    "import torch\nw = torch.randn(3, requires_grad=True)\nout = torch.zeros(3)\nout[0] = w.sum()\nout.sum().backward()\n",
    # .grad after backward(create_graph=True)
    "import torch\nx = torch.randn(3, requires_grad=True)\n(x ** 3).sum().backward(create_graph=True)\n"
    "(x.grad ** 2).sum().backward()\n",
    # a module's parameters and unknown inputs
    "import torch\nimport torch.nn as nn\nm = nn.Linear(3, 1)\nm(torch.randn(2, 3)).sum().backward()\n",
    "import torch\ndef f(x):\n    return (x * 2).sum()\ndef g(t):\n    f(t).backward()\n",
])
def test_tl005_uncertain_cases_are_silent(src):
    assert lint(src, "TL005") == []


def test_tl005_tracked_requires_grad_change_still_reports():
    # a plain name bound only to a fresh tensor and never aliased is followed by the interpreter
    src = "import torch\nw = torch.randn(3, requires_grad=True)\nw.requires_grad_(False)\n(w * w).sum().backward()\n"
    assert [d.location.row for d in lint(src, "TL005")] == [4]


# ---------------------------------------------------------------------------
# TL007 missing-zero-grad

LOOP = """\
import torch
import torch.nn as nn
model = nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for i in range(3):
    loss = model(torch.randn(4, 2)).pow(2).mean()
{body}"""


def loop(body: str) -> str:
    return LOOP.format(body=textwrap.indent(textwrap.dedent(body), "    "))


def test_tl007_warning_message_and_fix_before_backward():
    src = loop("loss.backward()\noptimizer.step()\n")
    d = one(src, "TL007")
    assert (d.location.row, d.location.column, d.severity) == (7, 5, "warning")
    assert "optimizer.step()" in d.message and "optimizer.zero_grad()" in d.message
    assert d.fix is not None and d.fix.applicability == "unsafe"
    out = fixed(src, "TL007").splitlines()
    assert out[6:9] == ["    optimizer.zero_grad()", "    loss.backward()", "    optimizer.step()"]
    assert lint(fixed(src, "TL007"), "TL007") == []


def test_tl007_fix_keeps_nested_indentation():
    src = loop("with torch.autocast('cpu'):\n    loss.backward()\noptimizer.step()\n")
    out = fixed(src, "TL007").splitlines()
    assert out[7:9] == ["        optimizer.zero_grad()", "        loss.backward()"]


def test_tl007_accumulation_without_clearing_is_fixed_after_the_step():
    src = loop("loss.backward()\nif (i + 1) % 2 == 0:\n    optimizer.step()\n")
    out = fixed(src, "TL007").splitlines()
    assert out[6:10] == ["    loss.backward()", "    if (i + 1) % 2 == 0:", "        optimizer.step()",
                           "        optimizer.zero_grad()"]


def test_tl007_uses_the_step_receiver():
    src = loop("loss.backward()\nself_opt = optimizer\nscaler = torch.amp.GradScaler('cpu')\nscaler.step(opt_d)\n")
    d = one(src, "TL007")
    assert "opt_d.zero_grad()" in d.message


@pytest.mark.parametrize("body", [
    "optimizer.zero_grad()\nloss.backward()\noptimizer.step()\n",
    "loss.backward()\noptimizer.step()\nmodel.zero_grad(set_to_none=True)\n",
    "loss.backward()\noptimizer.step()\nfor p in model.parameters():\n    p.grad = None\n",
    "loss.backward()\nif (i + 1) % 2 == 0:\n    optimizer.step()\n    optimizer.zero_grad()\n",
    "try:\n    loss.backward()\n    optimizer.step()\nfinally:\n    optimizer.zero_grad()\n",
    "loss.backward()\noptimizer.step()\nreset_grads(model)\n",  # an unknown helper named for it
    "loss.backward()\noptimizer.step()\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n",
    "loss.backward()\noptimizer.step()\nbreak\n",
    "loss.backward()\nscheduler.step()\n",
])
def test_tl007_look_alikes_are_silent(body):
    assert lint(loop(body), "TL007") == []


def test_tl007_helper_in_this_file_that_clears():
    src = """\
    import torch
    def clear(opt):
        opt.zero_grad()
    def train(model, opt, data):
        for x in data:
            model(x).sum().backward()
            opt.step()
            clear(opt)
    """
    assert lint(src, "TL007") == []


# ---------------------------------------------------------------------------
# TL008 backward-twice


def test_tl008_straight_line_message_and_fix():
    src = HEAD + "loss.backward()\nloss.backward()\n"
    d = one(src, "TL008")
    assert (d.location.row, d.severity) == (5, "error")
    assert d.message.startswith("`loss` was already backpropagated on line 4 without retain_graph=True")
    assert d.fix is not None and d.fix.applicability == "unsafe"
    out = fixed(src, "TL008").splitlines()
    assert out[3:5] == ["loss.backward(retain_graph=True)", "loss.backward()"]


def test_tl008_retain_graph_false_is_replaced():
    src = HEAD + "loss.backward(retain_graph=False)\nloss.backward()\n"
    assert fixed(src, "TL008").splitlines()[3] == "loss.backward(retain_graph=True)"


def test_tl008_loss_before_loop():
    src = HEAD + "for _ in range(2):\n    loss.backward()\n"
    d = one(src, "TL008")
    assert d.location.row == 5 and "computed before this loop" in d.message and d.fix is None


def test_tl008_shared_intermediate():
    src = """\
    import torch
    import torch.nn as nn
    enc = nn.Linear(4, 3)
    feats = enc(torch.randn(2, 4))
    for step in range(3):
        out = feats * 2
        loss = out.pow(2).mean()
        loss.backward()
    """
    d = one(src, "TL008")
    assert d.location.row == 8
    assert "`loss` is built from `feats`, which is computed once before this loop (line 4)" in d.message


@pytest.mark.parametrize("src", [
    # a sum saves nothing: a second pass is allowed
    "import torch\nx = torch.randn(3, requires_grad=True)\ny = x.sum()\ny.backward()\ny.backward()\n",
    HEAD + "loss.backward(retain_graph=True)\nloss.backward()\n",
    HEAD + "loss.backward()\nloss = (w * w).sum()\nloss.backward()\n",
    HEAD + "for _ in range(1):\n    loss.backward()\n",
    HEAD + "for _ in range(3):\n    loss.backward()\n    break\n",
    HEAD + "for i in range(3):\n    if i:\n        continue\n    loss.backward()\n",
    HEAD + "def again():\n    global loss\n    loss = (w * w).sum()\nloss.backward()\nagain()\nloss.backward()\n",
    # shared intermediate: detached, recomputed, or kept
    "import torch\nw = torch.randn(2, requires_grad=True)\nh = w.exp().detach()\n"
    "for _ in range(3):\n    loss = (h * w).sum()\n    loss.backward()\n",
    "import torch\nw = torch.randn(2, requires_grad=True)\nh = w.exp()\n"
    "for _ in range(3):\n    h = w.exp()\n    loss = (h * 2).sum()\n    loss.backward()\n",
    "import torch\nw = torch.randn(2, requires_grad=True)\nh = w.exp()\n"
    "for _ in range(3):\n    loss = (h * 2).sum()\n    loss.backward(retain_graph=True)\n",
    # a loop of unknown length may run once
    "import torch\nw = torch.randn(2, requires_grad=True)\nh = w.exp()\n"
    "for _ in data:\n    loss = (h * 2).sum()\n    loss.backward()\n",
    # the loss goes through a helper torchlint does not treat as carrying the graph
    "import torch\nw = torch.randn(2, requires_grad=True)\nh = w.exp()\n"
    "for _ in range(3):\n    loss = helper(h).sum()\n    loss.backward()\n",
])
def test_tl008_look_alikes_are_silent(src):
    assert lint(src, "TL008") == []


def test_fixture_dirs_exist():
    for code in CODES:
        assert Path(FIXTURES / code.lower()).is_dir()


def test_tl007_del_grad_clears():
    assert lint(loop("loss.backward()\noptimizer.step()\nfor p in model.parameters():\n    del p.grad\n"), "TL007") == []


def test_tl008_create_graph_retains_the_graph():
    assert lint(HEAD + "loss.backward(create_graph=True)\nloss.backward()\n", "TL008") == []
    assert lint(HEAD + "loss.backward(None, None, True)\nloss.backward()\n", "TL008") == []
    # an explicit retain_graph=False wins over create_graph
    assert len(lint(HEAD + "loss.backward(retain_graph=False, create_graph=True)\nloss.backward()\n", "TL008")) == 1


@pytest.mark.parametrize("line", [
    "nn.init.normal_(w, 0.0, 0.02)",
    "torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)",
    "m.weight.data.copy_(torch.ones(1, 3) * g)",
    "stats['norm'] = m.weight.norm()",
    "os.environ['RANK'] = str(rank)",
    "self_like = 1\nbuf = np.zeros(3)\nbuf[0] = rank",
    "fill = 0.0\nw.fill_(fill)",
])
def test_tl005_in_place_changes_that_cannot_add_grad_keep_the_rule_on(line):
    src = ("import os\nimport numpy as np\nimport torch\nimport torch.nn as nn\nm = nn.Linear(3, 1)\n"
           "w = torch.empty(3)\nrank = 0\ng = 2.0\n" + line + "\n(w * 2).sum().backward()\n")
    assert [d.code for d in lint(src, "TL005")] == ["TL005"]


@pytest.mark.parametrize("line", [
    "w.add_(m.weight[0])",  # followed by the interpreter: w now requires grad
    "ws = [w]\nws[0].add_(m.weight[0])",
    "box = [torch.empty(3)]\nbox[0] = m.weight[0]\nw = box[0]",
])
def test_tl005_in_place_changes_that_may_add_grad(line):
    src = ("import torch\nimport torch.nn as nn\nm = nn.Linear(3, 1)\nw = torch.empty(3)\n" + line +
           "\n(w * 2).sum().backward()\n")
    assert lint(src, "TL005") == []


@pytest.mark.parametrize("line", [
    "start = torch.ones(1, 1).fill_(g)",       # in place on a fresh tensor, result bound to a new name
    "torch.ones(1, 1).fill_(g)",
    "acc = torch.zeros(2)\nacc[0] += m.weight.sum().detach()",
    "table = torch.zeros(2)\ntable[0] = m.weight.sum().item()",
    "logs = {}\nlogs[rank] = {'loss': 1.0}",
])
def test_tl005_more_changes_that_cannot_add_grad(line):
    src = ("import torch\nimport torch.nn as nn\nm = nn.Linear(3, 1)\nw = torch.empty(3)\nrank = 0\ng = 2.0\n" + line +
           "\n(w * 2).sum().backward()\n")
    assert [d.code for d in lint(src, "TL005")] == ["TL005"]


def test_tl005_autograd_backward_list_element():
    src = ("import torch\nw = torch.randn(3, requires_grad=True)\na = (w * 2).sum()\nb = torch.ones(3).sum()\n"
           "torch.autograd.backward([a, b])\n")
    d = one(src, "TL005")
    assert d.message.startswith("`b` (element 1 of the tensors passed to torch.autograd.backward) does not require grad")
    assert lint(src.replace("torch.ones(3).sum()", "(w * 3).sum()"), "TL005") == []
    # a list of unknown length, or with a starred element, is not judged
    assert lint(src.replace("[a, b]", "[a, *rest]").replace("b = ", "rest = [") .replace(".sum()\ntorch", ".sum()]\ntorch"),
                "TL005") == []


def test_tl008_autograd_grad_then_backward():
    src = HEAD + "g = torch.autograd.grad(loss, w)[0]\nloss.backward()\n"
    d = one(src, "TL008")
    assert d.message.startswith("`loss` was already differentiated by torch.autograd.grad() on line 4")
    assert fixed(src, "TL008").splitlines()[3] == "g = torch.autograd.grad(loss, w, retain_graph=True)[0]"
    assert lint(HEAD + "g = torch.autograd.grad(loss, w, create_graph=True)\nloss.backward()\n", "TL008") == []
    assert lint(HEAD + "g = torch.autograd.grad(loss, w, None, True)\nloss.backward()\n", "TL008") == []


def test_tl008_straight_line_and_loop_findings_in_one_file():
    src = HEAD + "loss.backward()\nloss.backward()\nother = (w.exp() * 2).sum()\nfor _ in range(2):\n    other.backward()\n"
    found = lint(src, "TL008")
    assert [(d.code, d.location.row) for d in found] == [("TL008", 5), ("TL008", 8)]


def test_tl008_shared_intermediate_in_straight_line():
    src = """\
    import torch
    import torch.nn as nn
    trunk, head = nn.Linear(4, 6), nn.Linear(6, 1)
    h = trunk(torch.randn(3, 4))
    a = head(h).mean()
    a.backward()
    b = (h * 2).sum()
    b.backward()
    """
    src = textwrap.dedent(src)
    d = one(src, "TL008")
    assert d.location.row == 8 and d.fix is None
    assert d.message.startswith("`b` is built from `h` (line 4), whose graph the backward() on line 6 already freed")
    assert lint(src.replace("(h * 2)", "(h.detach() * 2)"), "TL008") == []
    assert lint(src.replace("a.backward()", "a.backward(retain_graph=True)"), "TL008") == []
    assert lint(src.replace("b = (h * 2).sum()", "h = trunk(torch.randn(3, 4))\nb = (h * 2).sum()"), "TL008") == []
