"""What the speed work promises, checked as behaviour (never as timings).

* the trigger prefilter never hides a finding: every fixture and every rule's
  documented example gives the same findings through the runner (prefilter on)
  as through the engine directly;
* ``torchlint check`` on files without trigger words never imports libcst, and
  imports rich only to print to a terminal.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import FIXTURES
from torchlint import registry
from torchlint.engine import lint_source
from torchlint.runner import check_files, needs_parsing, triggers_for
from torchlint.settings import Settings

ALL = frozenset(r.code for r in registry.all_rules())
FILES = sorted(FIXTURES.rglob("*.py"))


def _examples():
    out = []
    for rule in registry.all_rules():
        for block in re.findall(r"```python\n(.*?)```", rule.doc, re.S):
            out.append(pytest.param(rule.code, block, id=f"{rule.code}-{len(out)}"))
    return out


def test_prefilter_keeps_every_fixture_finding(tmp_path):
    settings = Settings(select=ALL, no_cache=True, jobs=1, project_root=tmp_path)
    results = check_files(FILES, settings)
    for path, res in zip(FILES, results):
        direct = lint_source(path.read_text(encoding="utf-8"), str(path), select=sorted(ALL))
        assert [(d.location, d.code) for d in res.diagnostics] == [(d.location, d.code) for d in direct], path


@pytest.mark.parametrize("code,example", _examples())
def test_prefilter_keeps_rule_examples(code, example):
    try:
        found = lint_source(example, "example.py", select=[code])
    except Exception:
        found = []
    if found:
        assert needs_parsing(example.encode(), triggers_for({code})), f"{code}'s example is hidden by its triggers"


def test_files_without_trigger_words_are_skipped(tmp_path):
    p = tmp_path / "plain.py"
    p.write_text("import torch\nx = torch.randn(3)\nprint(x.sum())\n")
    res = check_files([p], Settings(select=ALL, no_cache=True, project_root=tmp_path))
    assert res[0].parsed is False and res[0].diagnostics == []


def _imported_modules(args, cwd):
    code = ("import sys, runpy\n"
            "sys.argv = ['torchlint'] + sys.argv[1:]\n"
            "try:\n"
            "    runpy.run_module('torchlint', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    line = [x for x in r.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return set(line.split()[1:]), r


def test_no_libcst_and_no_rich_when_nothing_needs_parsing(tmp_path):
    (tmp_path / "plain.py").write_text("import torch\nprint(torch.ones(2))\n")
    mods, r = _imported_modules(["check", "plain.py", "--no-cache"], tmp_path)
    assert "All checks passed!" in r.stdout
    assert not any(m == "libcst" or m.startswith("libcst.") for m in mods)
    assert not any(m == "rich" or m.startswith("rich.") for m in mods)


def test_libcst_is_imported_when_a_file_needs_it(tmp_path):
    (tmp_path / "t.py").write_text("import torch\nx = torch.randn(2, requires_grad=True)\n(x * 2).backward()\n")
    mods, r = _imported_modules(["check", "t.py", "--no-cache"], tmp_path)
    assert "libcst" in mods and "TL001" in r.stdout
    assert not any(m.startswith("rich") for m in mods)  # piped: no rich
