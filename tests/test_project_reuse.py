"""The project pass reuses the first run's analyses of the functions it analyses quietly (analysis/project.py).

A function outside the roots (``scale``: its own analysis reaches no unknown backward site) is not analysed
again; one that finds a root (``make_step`` defines ``step``) is, so that the root is analysed with the
project's names; and the result is the same as a whole second run's.
"""
from __future__ import annotations

import textwrap

import libcst as cst

from torchlint import engine
from torchlint.analysis import project as proj
from torchlint.analysis.interp import Interpreter, core

MAIN = '''
import torch
from torch import nn

from pkg.losses import build_criterion


def scale(x):
    return x * 2


def train(model, x, y):
    criterion = build_criterion()
    loss = criterion(model(x), scale(y))
    loss.backward()


def make_step():
    def step(x, y):
        loss = build_criterion()(x, y)
        loss.backward()
    return step


train(nn.Linear(3, 1), torch.randn(4, 3), torch.randn(4, 1))
'''


def _project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "losses.py").write_text(textwrap.dedent('''
        from torch import nn


        def build_criterion():
            return nn.MSELoss(reduction="none")
    '''))
    main = tmp_path / "main.py"
    main.write_text(MAIN)
    return str(main)


def test_quiet_functions_are_not_analysed_again(tmp_path, monkeypatch):
    path = _project(tmp_path)
    module = cst.parse_module(MAIN)
    seen = []
    generic = core.Interpreter.analyse_generic

    def spy(self, fn):
        seen.append((self.project is not None, fn.qual))
        return generic(self, fn)

    monkeypatch.setattr(core.Interpreter, "analyse_generic", spy)
    analysis, link = proj.analyse(module, path)
    assert link is not None and link.roots[0] == {"train", "step"}
    assert [q for with_project, q in seen if with_project] == ["train", "make_step", "step"]

    # the same verdicts as a second run that analyses every function again
    again = proj.link_for(path)
    again.roots = link.roots
    whole = Interpreter(module, project=again).run()
    assert proj.site_verdicts(module, analysis) == proj.site_verdicts(module, whole)
    assert set(proj.site_verdicts(module, analysis).values()) == {"non_scalar", "likely_non_scalar"}


def test_findings_with_reuse(tmp_path):
    path = _project(tmp_path)
    found = engine.lint_source(MAIN, path)
    assert [(d.location.row, d.code) for d in found] == [(15, "TL001"), (21, "TL001")]


def test_a_run_cut_by_the_budget_is_redone_whole(tmp_path, monkeypatch):
    from torchlint.analysis.interp import state

    path = _project(tmp_path)
    module = cst.parse_module(MAIN)
    for where in (core, state):
        monkeypatch.setattr(where, "STEP_BUDGET", 60)
    reused = []
    replayable = core.Interpreter.replayable
    monkeypatch.setattr(core.Interpreter, "replayable", lambda self, fn: reused.append(fn) or replayable(self, fn))
    analysis, link = proj.analyse(module, path)
    assert analysis.truncated and not reused  # (no unit of a run cut short stands for a function)
    again = proj.link_for(path)
    again.roots = link.roots
    whole = Interpreter(module, project=again).run()
    assert proj.site_verdicts(module, analysis) == proj.site_verdicts(module, whole)
