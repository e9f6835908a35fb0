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


_NESTED = textwrap.dedent('''
    import torch

    def a(x=torch.ones(2).backward()):
        def b():
            class C:
                def training_step(self):
                    return 1
            return C
        if x:
            def c(): pass
        elif x is None:
            def d(): pass
        else:
            def e(): pass
        try:
            def f(): pass
        except ValueError:
            def g(): pass
        else:
            def h(): pass
        finally:
            def i(): pass
        for _ in x:
            def j(): pass
        else:
            def k(): pass
        while x:
            def l(): x.backward()
        with x:
            def m(): pass
        match x:
            case 1:
                def n(): pass
        if x: pass
        return b

    async def o():
        pass
''')


def test_function_defs_finds_every_def_without_entering_expressions():
    from torchlint.analysis.cstwalk import function_defs, walk

    module = cst.parse_module(_NESTED)
    found = [fn.name.value for fn in function_defs(module)]
    assert found == [n.name.value for n in walk(module) if type(n) is cst.FunctionDef]
    assert found == ["a", "b", "training_step", "c", "d", "e", "f", "g", "h", "i", "j", "k",
                     "l", "m", "n", "o"]


def test_enclosing_functions_counts_bodies_only():
    from torchlint.analysis.cstwalk import enclosing_functions, walk

    module = cst.parse_module(_NESTED)
    calls = [n for n in walk(module) if type(n) is cst.Call and type(n.func) is cst.Attribute
             and n.func.attr.value == "backward"]
    default, inner = calls  # a default argument is not in the function's body
    names = {fn.name.value for fn in enclosing_functions(module, {default})}
    assert names == set()
    assert {fn.name.value for fn in enclosing_functions(module, {inner})} == {"a", "l"}


_CLASS = '''import torch


class Engine:
    """doc"""

    width = 3

    def __init__(self):
        self.a = 1
        self.b = 2
        self.c = 3
        self.d = 4
        self.e = 5

    @property
    def long(self):
        # a comment
        y = 1
        z = """multi
line"""
        w = 3
        v = 4
        return y + w + v

    async def other(self, a,
                    b):
        q = 1
        if q:
            return 2
        else:
            return 3
        return 4

    def short(self): return 1
'''


def _engine_segment():
    from torchlint.analysis import lazymodule
    from torchlint.workspace.modules import ModuleFile

    m = lazymodule.LoadedModule(ModuleFile("pkg.engine", "/nowhere/pkg/engine.py", False, "/nowhere"))
    assert m.index(_CLASS)
    seg = m.segments[-1]
    return seg, m.lines[seg.start - 1: seg.end]


def test_a_class_of_another_module_is_parsed_without_its_long_method_bodies():
    from torchlint.analysis import deferred, lazymodule

    seg, lines = _engine_segment()
    # `long` and `other` (6 lines of body each) wait; __init__ (special) and `short` (one line) do not
    assert [(start, body, end) for _, start, body, end in seg.methods] == [(16, 19, 24), (26, 28, 33)]
    tree = lazymodule._parse_segment(seg, lines)
    waiting = [fn for fn in deferred.PENDING if deferred.PENDING[fn][0] is seg]
    assert [fn.name.value for fn in waiting] == ["long", "other"]
    assert tree.code.count('"""') == 2 + 4 and len(tree.code.splitlines()) == len(lines)  # line for line
    for fn in waiting:
        assert deferred.full_def(fn)
    assert tree.code == "".join(lines)  # each body in place, as parsed whole
    assert not [fn for fn in deferred.PENDING if deferred.PENDING[fn][0] is seg]


def test_a_method_body_that_does_not_parse_stays_unknown(monkeypatch):
    from torchlint.analysis import deferred, lazymodule

    seg, lines = _engine_segment()
    lazymodule._parse_segment(seg, lines)
    fn = next(fn for fn in deferred.PENDING if deferred.PENDING[fn][0] is seg)
    monkeypatch.setitem(deferred.PENDING, fn, (seg, ["    def long(self:\n"]))
    assert not deferred.full_def(fn) and not deferred.full_def(fn)  # (and it is not taken for an empty body later)
    assert '"""' in cst.Module([]).code_for_node(fn.body)
