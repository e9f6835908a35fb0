"""The site gate (torchlint.analysis.sites) never hides a finding, and it does skip LibCST.

* every fixture and every rule's documented examples: the findings with the
  gate equal the findings without it, rule by rule;
* renamed callees (import aliases, ``bw = loss.backward``) still count;
* a file that only mentions the trigger words (a ``def backward`` method, a
  docstring) is never parsed by LibCST.
"""
from __future__ import annotations

import ast
import re

import pytest

from conftest import FIXTURES
from torchlint import engine, registry
from torchlint.diagnostics import SourceError
from torchlint.engine import lint_source
from torchlint.analysis.sites import has_site, rule_sites, summarize

RULES = registry.all_rules()
ALL = sorted(r.code for r in RULES)
FILES = sorted(FIXTURES.rglob("*.py"))


def _key(diags):
    return [(d.location, d.code, d.message, d.fix) for d in diags]


def _both(source, path, select):
    try:
        return _key(lint_source(source, path, select=select)), _key(lint_source(source, path, select=select, gate=False))
    except SourceError:
        return None, None


def test_every_rule_declares_sites():
    # a rule without sites is never gated (correct, but slow); ours all have them
    for r in RULES:
        if r.phase == "analysis":  # TL100 judges comments after suppression: the engine never runs it
            assert rule_sites(r), r.code


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_gate_keeps_every_fixture_finding(path):
    source = path.read_text(encoding="utf-8")
    for code in ALL:
        gated, full = _both(source, str(path), [code])
        assert gated == full, f"{path}: {code}"


def test_gate_keeps_every_documented_example():
    n = 0
    for rule in RULES:
        for block in re.findall(r"```python\n(.*?)```", rule.doc, re.S):
            gated, full = _both(block, "<doc>", [rule.code])
            assert gated == full, f"{rule.code}: {block}"
            n += bool(full)
    # most examples are fragments with unknown names; some are complete programs
    assert n > 0, "the documented examples found nothing: the test would check nothing"


@pytest.mark.parametrize("source", [
    "from torch.autograd import backward as bw\nbw(t)\n",
    "f = loss.backward\nf()\n",
    "self.bw = loss.backward\nself.bw()\n",
    "g = h = loss.backward\nh()\n",
    "accelerator.backward(loss)\n",
    "self.manual_backward(loss)\n",
    "scaler.scale(loss).backward()\n",
    "(lambda l: l.backward())(loss)\n",
])
def test_renamed_and_framework_backward_calls_are_sites(source):
    assert has_site(registry.get_rule("TL001"), summarize(ast.parse(source)))


@pytest.mark.parametrize("source,code", [
    ("from torch.func import grad as G\nG(f)(x)\n", "TL003"),
    ("import torch.autograd.functional as AF\nAF.vjp(f, x)\n", "TL002"),
    ("x.requires_grad = True\n", "TL006"),
    ("torch.zeros(2, requires_grad=True)\n", "TL006"),
    ("from torch.nn import Parameter as P\nP(torch.arange(3))\n", "TL006"),
    ("x.long().requires_grad_()\n", "TL006"),
])
def test_other_rules_sites(source, code):
    assert has_site(registry.get_rule(code), summarize(ast.parse(source)))


@pytest.mark.parametrize("source", [
    '"""Call loss.backward() yourself."""\n',
    "class Plugin:\n    def backward(self, loss):\n        return loss\n",
    "# backward(loss) is done by the trainer\nx = 1\n",
    "print('requires_grad', model.parameters())\n",
])
def test_files_without_sites_never_reach_libcst(source, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("LibCST was asked to parse a file without sites")

    monkeypatch.setattr(engine, "_parse_cst", refuse)
    assert lint_source(source, "<t>", select=ALL) == []


def test_a_file_with_a_site_does_reach_libcst(monkeypatch):
    calls = []
    real = engine._parse_cst
    monkeypatch.setattr(engine, "_parse_cst", lambda s, p: calls.append(p) or real(s, p))
    src = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).backward()\n"
    assert [d.code for d in lint_source(src, "<t>", select=ALL)] == ["TL001"]
    assert calls == ["<t>"]


def test_a_lightning_training_step_is_a_site_without_any_backward_call():
    src = ("import torch.nn.functional as F\nimport lightning as L\n\n\nclass M(L.LightningModule):\n"
           "    def training_step(self, batch, i):\n        x, y = batch\n"
           "        return F.mse_loss(x, y, reduction='none')\n")
    assert has_site(registry.get_rule("TL001"), summarize(ast.parse(src)))
    from torchlint.workspace.prefilter import triggers

    assert "TL001" in triggers({"TL001"}).rules_for(src.encode())
