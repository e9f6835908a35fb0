"""Demand-driven analysis: the work spent on a file follows what its autograd sites need (issue 13, issue 10).

These are tests of behaviour, not of speed (``benchmarks/run.py`` measures speed): which modules of the project
are read, which functions are analysed.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

from torchlint import engine
from torchlint.analysis.sites import summarize
from torchlint.syntax import guards

LOSSES = 'import torch.nn as nn\n\ndef build_criterion():\n    return nn.MSELoss(reduction="none")\n'
OTHER = "def helper(n):\n    return [n] * n\n"


def _project(tmp_path: Path, main: str) -> Path:
    (tmp_path / "setup.cfg").write_text("", encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "losses.py").write_text(LOSSES, encoding="utf-8")
    (tmp_path / "pkg" / "other.py").write_text(OTHER, encoding="utf-8")
    (tmp_path / "main.py").write_text(main, encoding="utf-8")
    return tmp_path / "main.py"


def _lint(path: Path) -> tuple:
    deps: list = []
    found = engine.lint_source(path.read_text(encoding="utf-8"), str(path), deps=deps)
    return [(d.code, d.location.row) for d in found], sorted(os.path.basename(p) for p, _, _ in deps)


def test_a_file_whose_backward_sites_are_known_reads_no_project_module(tmp_path):
    main = _project(tmp_path, (
        "import torch\nfrom pkg.other import helper\nfrom pkg.losses import build_criterion\n\n"
        "def sizes():\n    return helper(3)\n\n"
        "def train():\n    w = torch.randn(3, requires_grad=True)\n    (w * 2).sum().backward()\n"))
    assert _lint(main) == ([], [])


def test_only_functions_that_reach_an_unknown_site_read_the_project(tmp_path):
    # `sizes` uses a project name too, but no backward site depends on it: pkg/other.py is never read
    main = _project(tmp_path, (
        "import torch\nfrom pkg.other import helper\nfrom pkg.losses import build_criterion\n\n"
        "def sizes():\n    return helper(3)\n\n"
        "def train():\n    criterion = build_criterion()\n"
        "    loss = criterion(torch.randn(4, requires_grad=True), torch.randn(4))\n    loss.backward()\n"))
    assert _lint(main) == ([("TL001", 11)], ["losses.py"])


def test_a_site_reached_through_a_caller_is_analysed_with_its_callers(tmp_path):
    # the backward call is in `step`; its unknown loss comes from the caller, which must read the project
    main = _project(tmp_path, (
        "import torch\nfrom pkg.other import helper\nfrom pkg.losses import build_criterion\n\n"
        "def step(loss):\n    loss.backward()\n\n"
        "def sizes():\n    return helper(3)\n\n"
        "def train():\n    criterion = build_criterion()\n"
        "    step(criterion(torch.randn(4, requires_grad=True), torch.randn(4)))\n"))
    assert _lint(main) == ([("TL001", 6)], ["losses.py"])


def test_the_site_gate_and_the_depth_guards_share_one_walk():
    source = "import torch\nx = a and b and c\ny = (p < q < r < s)\nw = torch.randn(3, requires_grad=True)\n" \
             "def f(t):\n    t.backward()\n"
    tree = ast.parse(source)
    measured = guards.Measure(tree)
    assert summarize(tree, measured) == summarize(tree)
    assert measured.result() == guards.measure(tree)
    box: list = []
    engine._precheck(source, "x.py", box)
    assert box == [summarize(tree)]


def test_a_module_kept_for_later_files_lets_go_of_the_file_that_used_it(tmp_path):
    # pkg/losses.py stays loaded for the next files; it must not keep main.py's analysis alive (its frame, values
    # and tree), which would then live on, and be walked by the garbage collector, until another file uses it
    from torchlint.analysis import cstwalk
    from torchlint.analysis.project import _PROJECT

    main = _project(tmp_path, (
        "import torch\nfrom pkg.losses import build_criterion\n\n"
        "def train():\n    criterion = build_criterion()\n"
        "    loss = criterion(torch.randn(4, requires_grad=True), torch.randn(4))\n    loss.backward()\n"))
    assert _lint(main) == ([("TL001", 7)], ["losses.py"])
    kept = [m for m in _PROJECT.modules.values() if m.file.path == str(tmp_path / "pkg" / "losses.py")]
    assert kept and all(m.link is not None for m in kept)
    assert all(m.link.own_frame is None and not m.link.completed and m.link.roots is None for m in kept)
    assert cstwalk._FULL_WALKS == []


def test_the_site_summary_gives_the_project_pass_what_a_walk_of_the_tree_would(monkeypatch):
    from torchlint.analysis import cstwalk
    from torchlint.analysis.interp import Interpreter
    from torchlint.analysis.project import site_verdicts

    reached = ("import torch\nimport numpy as np\nfrom os import path\nfrom .pkg import m\n\n"
               "def f():\n    w = torch.randn(3, requires_grad=True)\n    (w * 2).backward()\n    (w * 2).sum().backward()\n")
    dead = reached + "    return\n    w.backward()\n"  # a site the analysis never reaches: the walk finds it
    for source, calls in ((reached, 2), (dead, 3)):
        sites = summarize(ast.parse(source))
        assert (sites.imports, sites.relative_import, sites.backward_calls, sites.training_steps) == \
            ({"torch", "numpy", "os"}, True, calls, 0)
        module = engine._parse_cst(source, "x.py")
        analysis = Interpreter(module).run()
        walked = []
        with monkeypatch.context() as m:
            m.setattr(cstwalk, "walk", lambda *a: walked.append(a) or cstwalk._walk(a[0], ()))
            verdicts = site_verdicts(module, analysis, sites)
        assert bool(walked) == (calls == 3)  # the walk only when a site was not reached
        assert verdicts == site_verdicts(module, analysis)
        assert sorted(verdicts.values()) == sorted(["non_scalar", "scalar"] + ["unknown"] * (calls - 2))
