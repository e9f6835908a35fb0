"""The sharper gates: a trigger word or a site that cannot lead to a finding sends no file on.

Each case is syntax that used to send a file to ``ast`` or to LibCST and the
interpreter for nothing (``no_grad(``, ``requires_grad_(False)``, a Parameter
of a float tensor, a backward *hook*, ...), next to the syntax that still must.
That the gates hide no finding is checked on every fixture and documented
example by tests/test_sites.py and tests/test_prefilter.py, and on the corpora
by ``benchmarks/stages.py --ungated`` and ``benchmarks/compare.py``.
"""
from __future__ import annotations

import ast

import pytest

from torchlint import engine, registry
from torchlint.analysis.sites import Sites, has_site, matched_sites, rule_sites, summarize
from torchlint.engine import lint_source
from torchlint.workspace.prefilter import triggers

ALL = sorted(r.code for r in registry.all_rules() if r.phase == "analysis")
HEAD = "import torch\nimport torch.nn as nn\n"


def _sites(code: str, source: str) -> bool:
    return has_site(registry.get_rule(code), summarize(ast.parse(HEAD + source)))


def _triggered(source: str) -> set:
    return set(triggers(ALL).rules_for((HEAD + source).encode()))


@pytest.mark.parametrize("source", [
    "import torch.nn.functional as F\nwith torch.no_grad():\n    y = F.relu(x)\n",  # "func" and "grad"
    "@torch.no_grad()\ndef f(x):\n    return torch.nn.functional.relu(x)\n",
    "def backward_hook(m, g):\n    return g\nm.register_full_backward_hook(backward_hook)\n",
    '"""Parameters:\n    x: the input"""\n',  # "Parameter" in prose is no Parameter(...) call
])
def test_trigger_words_that_are_not_calls_parse_nothing(source):
    assert _triggered(source) == set()


@pytest.mark.parametrize("source,code", [
    ("from torch.func import grad\ngrad(f)(x)\n", "TL003"),
    ("from torch.func import grad as G\nG(f)(x)\n", "TL003"),
    ("g = torch.func.grad\ng(f)(x)\n", "TL003"),
    ("import functorch\nfunctorch.grad(f)(x)\n", "TL003"),
    ("self.manual_backward(loss)\n", "TL001"),
    ("self.manual_backward(loss)\n", "TL005"),
    ("self.manual_backward(loss)\nopt.step()\n", "TL007"),
    ("w = nn.Parameter(torch.arange(3))\n", "TL006"),
    ("w = nn.Parameter (torch.arange(3))\n", "TL009"),
])
def test_trigger_words_of_real_calls_still_match(source, code):
    assert code in _triggered(source)


@pytest.mark.parametrize("code", ["TL006", "TL009"])
@pytest.mark.parametrize("source", [
    "model.requires_grad_(False)\n",
    "vae.requires_grad_(requires_grad=False)\n",
    "x = torch.ones(3, requires_grad=False)\n",
    "p = nn.Parameter(torch.ones(3), requires_grad=False)\n",
    "p.requires_grad = False\n",
])
def test_switching_grad_off_is_no_site(source, code):
    assert not _sites(code, source)


@pytest.mark.parametrize("source,site", [
    ("w = nn.Parameter(torch.zeros(3))\n", False),
    ("w = nn.Parameter(torch.randn(3, 4) * 0.02)\n", False),
    ("w = nn.Parameter(0.5 * torch.ones(3))\n", False),
    ("w = nn.Parameter(torch.tensor([1.0, 2]))\n", False),
    ("w = nn.Parameter(torch.empty(3).float())\n", False),
    ("x = torch.randn(3, requires_grad=True)\n", False),
    ("from torch import zeros\nw = nn.Parameter(zeros(3))\n", False),
    ("w = nn.Parameter(torch.arange(3))\n", True),
    ("w = nn.Parameter(torch.tensor([1, 2]))\n", True),
    ("w = nn.Parameter(torch.zeros(3, dtype=torch.long))\n", True),
    ("w = nn.Parameter(torch.tensor(1000.0, dtype=torch.float32))\n", False),  # a float dtype given
    ("w = nn.Parameter(torch.arange(3, dtype=torch.float))\n", False),
    ("x = torch.zeros(3, dtype=torch.bfloat16, requires_grad=True)\n", False),
    ("w = nn.Parameter(torch.arange(3, dtype=torch.int64))\n", True),
    ("w = nn.Parameter(torch.arange(3, dtype=dtype))\n", True),  # any dtype
    ("w = nn.Parameter(torch.arange(3, dtype=np.float32))\n", True),  # not torch's
    ("w = nn.Parameter(torch.full_like(x, 1, dtype=torch.float32))\n", True),  # (not a factory it knows)
    ("w = nn.Parameter(torch.zeros(3, **kw))\n", True),
    ("w = nn.Parameter(data)\n", True),
    ("w = nn.Parameter(torch.randn(3) > 0)\n", True),  # a comparison is a bool tensor
    ("x = torch.tensor([1, 2], requires_grad=True)\n", True),
    ("x = torch.arange(3, requires_grad=flag)\n", True),
    ("x = make(3, requires_grad=True)\n", True),  # not torch's: anything
    ("def zeros(n):\n    return torch.arange(n)\nw = nn.Parameter(zeros(3))\n", True),
    ("x.long().requires_grad_()\n", True),
    ("x.requires_grad_(flag)\n", True),
    ("x.requires_grad = True\n", True),
])
def test_tl006_sites_need_a_tensor_that_may_be_an_integer_one(source, site):
    assert _sites("TL006", source) is site


@pytest.mark.parametrize("source,site", [
    # module code: grad mode is known there
    ("w = torch.randn(3, requires_grad=True)\nw -= 0.1\n", True),
    ("w = torch.randn(3, requires_grad=True)\nw.add_(1)\n", True),
    ("lin = nn.Linear(2, 2)\nlin.weight[0] = 0.0\n", True),
    # a function analysed on its own (grad mode only assumed) can report nothing ...
    ("def step(w):\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\n", False),
    ("logger = get_logger(__name__)\n\nclass M(nn.Module):\n    def __init__(self):\n"
     "        self.w = nn.Parameter(torch.ones(3))\n    def forward(self, x):\n        x += self.w\n"
     "        return x\n", False),
    # ... unless module code runs it, or it sets grad mode itself
    ("def step():\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\nstep()\n", True),
    ("def main():\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\n"
     "if __name__ == '__main__':\n    main()\n", True),
    ("def main():\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\nmp.spawn(main, nprocs=2)\n", True),
    ("def main():\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\nTABLE = {'m': main}\n"
     "TABLE['m']()\n", True),
    ("def reg(f):\n    return f\n@reg\ndef main():\n    w = torch.randn(3, requires_grad=True)\n    w -= 0.1\n", True),
    ("def f():\n    w = torch.randn(3, requires_grad=True)\n    with torch.enable_grad():\n        w -= 0.1\n", True),
    # no in-place change, or no leaf that requires grad
    ("w = torch.randn(3, requires_grad=True)\nw = w - 0.1\n", False),
    ("w = torch.randn(3)\nw -= 0.1\n", False),
])
def test_tl009_sites_need_an_inplace_change_a_leaf_and_known_grad_mode(source, site):
    assert _sites("TL009", source) is site


@pytest.mark.parametrize("source,codes", [
    ("m.register_full_backward_hook(hook)\n", set()),  # the old "~backward" made this a site
    ("strategy.pre_backward(loss)\nwith model.no_backward_sync():\n    pass\n", set()),
    ("loss.backward()\n", {"TL001", "TL004", "TL005", "TL008"}),
    ("loss.backward()\nopt.step()\n", {"TL001", "TL004", "TL005", "TL007", "TL008"}),
    ("self.manual_backward(loss)\n", {"TL001", "TL005"}),
    ("class M(L.LightningModule):\n    def forward(self, x):\n        return x\n", set()),
    ("class M(L.LightningModule):\n    def training_step(self, b, i):\n        return b\n", {"TL001"}),
])
def test_backward_sites_are_the_sinks_calls(source, codes):
    found = {c for c in ("TL001", "TL004", "TL005", "TL007", "TL008") if _sites(c, source)}
    assert found == codes


def test_a_file_without_a_site_never_reaches_libcst(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("LibCST was asked to parse a file without sites")

    monkeypatch.setattr(engine, "_parse_cst", refuse)
    src = HEAD + "vae.requires_grad_(False)\nw = nn.Parameter(torch.zeros(3))\nwith torch.no_grad():\n    pass\n"
    assert lint_source(src, "<t>", select=ALL) == []


def test_every_declared_atom_is_known_and_matched_sites_agree_with_has_site():
    s = summarize(ast.parse(HEAD + "loss.backward()\nw = nn.Parameter(torch.arange(3))\nw.add_(1)\nopt.step()\n"))
    for rule in registry.all_rules():
        for group in rule_sites(rule):
            for item in group:
                for atom in (item,) if isinstance(item, str) else item:
                    s.atom(atom)  # raises on a misspelt atom
        assert bool(matched_sites(rule, s)) == has_site(rule, s), rule.code
    with pytest.raises(ValueError):
        Sites().atom("cal:backward")


def test_call_words_start_at_a_word_boundary():
    from torchlint.workspace.prefilter import _pattern

    m = _pattern(b"grad(")
    assert m(b"grad(f)(x)") and m(b"y = torch.func.grad (f)") and m(b"from torch.func import grad as g\n")
    assert not m(b"with torch.no_grad():") and not m(b"x.requires_grad(") and not m(b"p.grad is None")
    assert m(b"with torch.no_grad():\n    g = grad(f)\n")  # a later whole-word call still counts
    assert m("\u00e9grad(x)".encode())  # a non-ASCII identifier byte lets the file through (never hides it)
