"""The trigger prefilter never hides a finding.

* every fixture: each finding the engine gives on the whole file (all rules)
  comes from a rule whose own triggers occur in the file, and the runner (with
  the prefilter and per-file rule selection) gives exactly the engine's findings;
* every rule's documented example: the same, rule by rule;
* spellings Python allows that a naive substring test would miss.
"""
from __future__ import annotations

import re

import pytest

from conftest import FIXTURES
from torchlint import registry
from torchlint.diagnostics import SourceError
from torchlint.engine import lint_source
from torchlint.workspace.prefilter import ALWAYS, Triggers, rule_groups, triggers
from torchlint.runner import check_files
from torchlint.settings import Settings
from torchlint.report.suppression import filter_diagnostics

RULES = registry.all_rules()
ALL = frozenset(r.code for r in RULES)
FILES = sorted(FIXTURES.rglob("*.py"))


def _examples():
    out = []
    for rule in RULES:
        for n, block in enumerate(re.findall(r"```python\n(.*?)```", rule.doc, re.S)):
            out.append(pytest.param(rule.code, block, id=f"{rule.code}-example{n}"))
    return out


def _key(diags):
    return [(d.location, d.end_location, d.code, d.message, d.fix) for d in diags]


def test_there_are_fixtures_and_examples():
    assert len(FILES) > 50, "the fixtures moved? this test would check nothing"
    assert len(_examples()) >= len(RULES)


def test_every_fixture_finding_comes_from_a_rule_whose_triggers_occur():
    flagged = 0
    for path in FILES:
        data = path.read_bytes()
        try:
            found = lint_source(data.decode("utf-8"), str(path), select=sorted(ALL))
        except SourceError:
            continue
        fired = {d.code for d in found if d.code in ALL}
        flagged += bool(fired)
        assert fired <= triggers(ALL).rules_for(data), f"{path}: {fired - triggers(ALL).rules_for(data)} hidden"
        for code in fired:
            assert triggers({code}).matches(data), f"{path}: {code} fires but its triggers do not occur"
    assert flagged > 20


def test_runner_gives_the_engines_findings_on_every_fixture(tmp_path):
    settings = Settings(select=ALL, no_cache=True, jobs=1, project_root=tmp_path)
    results = check_files(FILES, settings)
    for path, res in zip(FILES, results):
        assert res.path == path
        text = path.read_text(encoding="utf-8")
        try:
            direct = filter_diagnostics(lint_source(text, str(path), select=sorted(ALL)), text)
        except SourceError as e:
            assert res.error is not None and res.error.code == "E999", (path, e)
            continue
        assert res.error is None, (path, res.error)
        assert _key(res.diagnostics) == _key(direct), path
        if direct:
            assert res.parsed


@pytest.mark.parametrize("code,example", _examples())
def test_rule_examples_survive_the_prefilter(code, example, tmp_path):
    try:
        found = [d for d in lint_source(example, "example.py", select=[code]) if d.code == code]
    except SourceError:
        found = []
    if found:
        assert triggers({code}).matches(example.encode()), f"{code}'s example is hidden by its triggers"
    p = tmp_path / "example.py"
    p.write_text(example, encoding="utf-8")
    res = check_files([p], Settings(select=frozenset({code}), no_cache=True, jobs=1, project_root=tmp_path))[0]
    assert [(d.location, d.code) for d in res.diagnostics] == \
        [(d.location, d.code) for d in filter_diagnostics(found, example)]


BASE = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\n"


@pytest.mark.parametrize("tail", [
    "y.backward()\n",
    "y.backward ()\n",
    "y.backward\t(\n)\n",
    "y.backward\\\n()\n",
    "torch.autograd.backward(y)\n",
    "from torch.autograd import backward as bw\nbw(y)\n",
    "from torch.autograd import (backward  as  bw)\nbw(y)\n",
    "from torch.autograd import (\n    backward\n    as bw,\n)\nbw(y)\n",
])
def test_spellings_of_a_call_are_not_hidden(tail, tmp_path):
    src = BASE + tail
    direct = lint_source(src, "t.py", select=sorted(ALL))
    assert any(d.code == "TL001" for d in direct), "the engine should flag this (else the case is moot)"
    p = tmp_path / "t.py"
    p.write_text(src)
    res = check_files([p], Settings(select=ALL, no_cache=True, jobs=1, project_root=tmp_path))[0]
    assert res.parsed
    assert [(d.location, d.code) for d in res.diagnostics] == [(d.location, d.code) for d in direct]


def test_files_without_trigger_words_are_not_parsed(tmp_path):
    p = tmp_path / "plain.py"
    p.write_text("import torch\nx = torch.randn(3)\nprint(x.sum())  # backward compatible\n")
    res = check_files([p], Settings(select=ALL, no_cache=True, project_root=tmp_path))[0]
    assert res.parsed is False and res.diagnostics == [] and res.error is None and res.source is None


def test_call_triggers_need_the_call_not_just_the_word():
    t = Triggers({"TLX": (("backward(",),)})
    assert not t.matches(b"# backward compatible\nx = 1\n")
    assert not t.matches(b"def backwards(): pass\n")  # "backward" then "s", not "("
    assert t.matches(b"loss.backward()\n")
    assert t.matches(b"loss.backward ()\n")
    assert t.matches(b"loss.backward \\\n ()\n")
    assert t.matches(b"from torch.autograd import backward as b\n")
    assert not t.matches(b"backward_hooks = 1\n")


def test_groups_need_all_their_words_and_rules_are_selected_per_file():
    t = Triggers({"TLA": (("backward(", "step("),), "TLB": (("autograd",), ("vjp",)), "TLC": ALWAYS})
    assert t.rules_for(b"x.backward()\n") == {"TLC"}
    assert t.rules_for(b"x.backward()\nopt.step()\n") == {"TLA", "TLC"}
    assert t.rules_for(b"torch.func.vjp(f, x)\n") == {"TLB", "TLC"}
    assert Triggers({"TLA": (("backward(", "step("),)}).rules_for(b"opt.step()\n") == frozenset()


def test_a_rule_without_triggers_runs_on_every_file():
    class Bare:
        triggers = ()

    assert rule_groups(Bare) == ALWAYS
    assert Triggers({"TLZ": ALWAYS}).rules_for(b"") == {"TLZ"}


def test_no_selected_rules_means_nothing_is_parsed(tmp_path):
    p = tmp_path / "t.py"
    p.write_text(BASE + "y.backward()\n")
    res = check_files([p], Settings(select=frozenset(), no_cache=True, project_root=tmp_path))[0]
    assert res.parsed is False and res.diagnostics == []


def test_every_rule_declares_triggers():
    for rule in RULES:
        assert rule.triggers, f"{rule.code} has no triggers: every file would be parsed for it"
        for group in rule_groups(rule):
            assert all(isinstance(w, str) and w and w.isascii() for w in group), rule.code
