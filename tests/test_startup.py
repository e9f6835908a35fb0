"""Lazy start-up: a run that needs no parsing never imports libcst (nor the engine), nor rich when piped.

Checked in fresh subprocesses, by looking at ``sys.modules`` when the run ends.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("libcst", "torchlint.engine", "torchlint.analysis.interp", "torchlint.analysis.api", "torch")
BAD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"

CLI = ("import sys, runpy\n"
       "sys.argv = ['torchlint'] + sys.argv[1:]\n"
       "try:\n"
       "    runpy.run_module('torchlint', run_name='__main__')\n"
       "except SystemExit:\n"
       "    pass\n"
       "sys.stdout.flush()\n"
       "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")

RUNNER = ("import sys\n"
          "from pathlib import Path\n"
          "from torchlint import registry\n"
          "from torchlint.runner import check_files\n"
          "from torchlint.settings import Settings\n"
          "s = Settings(select=frozenset(r.code for r in registry.all_rules()), project_root=Path.cwd(),\n"
          "             no_cache='--no-cache' in sys.argv)\n"
          "res = check_files([Path(a) for a in sys.argv[1:] if not a.startswith('-')], s)\n"
          "print([(r.parsed, r.cached, len(r.diagnostics)) for r in res])\n"
          "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")


def _run(code, args, cwd):
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [x for x in r.stderr.splitlines() if x.startswith("MODULES ")]
    assert lines, r.stderr
    return set(lines[-1].split()[1:]), r


def _loaded(mods, name):
    return any(m == name or m.startswith(name + ".") for m in mods)


@pytest.fixture
def proj(tmp_path):
    (tmp_path / "plain.py").write_text("import torch\nprint(torch.ones(2))  # backward compatible\n")
    (tmp_path / "bad.py").write_text(BAD)
    return tmp_path


def test_cli_on_a_file_without_trigger_words_imports_nothing_heavy(proj):
    mods, r = _run(CLI, ["check", "plain.py", "--no-cache"], proj)
    assert "All checks passed!" in r.stdout, r
    for name in HEAVY + ("rich",):
        assert not _loaded(mods, name), name


def test_cli_imports_the_engine_only_when_a_file_needs_it(proj):
    mods, r = _run(CLI, ["check", "bad.py", "--no-cache"], proj)
    assert "TL001" in r.stdout and _loaded(mods, "libcst")
    assert not _loaded(mods, "rich")  # piped: no rich


def test_a_warm_cache_hit_needs_no_libcst(proj):
    _run(CLI, ["check", "bad.py", "--output-format", "concise"], proj)
    mods, r = _run(CLI, ["check", "bad.py", "--output-format", "concise"], proj)
    assert "TL001" in r.stdout
    assert not _loaded(mods, "libcst") and not _loaded(mods, "torchlint.engine")
    for name in ("torchlint.analysis", "torchlint.report.suppression", "pathspec", "rich"):
        assert not _loaded(mods, name), name  # a hit is one index read: no analysis, no suppression


def test_runner_alone(proj):
    mods, r = _run(RUNNER, ["plain.py", "--no-cache"], proj)
    assert r.stdout.strip() == "[(False, False, 0)]"
    for name in HEAVY + ("rich", "click"):
        assert not _loaded(mods, name), name
    mods, r = _run(RUNNER, ["plain.py", "bad.py", "--no-cache"], proj)
    assert r.stdout.strip() == "[(False, False, 0), (True, False, 1)]" and _loaded(mods, "libcst")
