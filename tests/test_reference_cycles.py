"""A checked file's tree, values and analysis are freed by reference counting as soon as the engine is done with
it, not left as cyclic garbage for the collector (runner._FileCollector then has nothing to find, and a collection
does not traverse the whole last tree).  The interpreters made for the file are closed (Interpreter.close); those
of the project's other modules, kept for later files, are not; nor are those made outside the engine's
``closing()`` (the language server and ``explain`` keep an analysis to use it later).
"""
from __future__ import annotations

import gc
import textwrap
from collections import Counter

import pytest

from conftest import FIXTURES
from torchlint import engine, registry
from torchlint.analysis import trail
from torchlint.analysis.interp import Interpreter, core
from torchlint.analysis.values import Function, Instance

ALL = sorted(r.code for r in registry.all_rules())

# closures, a class whose objects point at each other, methods, a loop and a branch that store attributes,
# comprehensions, lambdas, a generator, and a finding (its message and fix are made from the file's values)
TANGLED = '''
import torch
from torch import nn


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)
        self.grow = lambda: Node(self)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.root = Node()
        self.leaf = Node(self.root)

    def forward(self, x):
        def inner(y):
            return self.fc(y) * scale(y)

        def scale(y):
            return inner(y) if y is None else 1.0

        return inner(x)


def batches(n):
    for i in range(n):
        yield torch.randn(4, 3)


net = Net()
for x in batches(3):
    if x.sum() > 0:
        net.flag = True
    outs = [net(b) for b in [x]]
    y = net(x)
    loss = net.fc(x)
    loss.backward()  # TL001
'''


def _cyclic_garbage(run) -> Counter:
    """The objects of torchlint and LibCST that only the cycle collector frees after ``run()``, by type."""
    gc.collect()
    gc.disable()
    try:
        run()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage
                       if type(o).__module__.startswith(("torchlint", "libcst")))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_a_tangled_file_leaves_no_cyclic_garbage():
    found: list = []
    garbage = _cyclic_garbage(lambda: found.extend(engine.lint_source(TANGLED, "tangled.py", select=ALL)))
    assert [d.code for d in found] == ["TL001"]
    assert not garbage, garbage.most_common(10)


def test_the_fixtures_leave_no_cyclic_garbage():
    # every fixture, the multi-file projects with their path (the project pass keeps the other modules it reads)
    files = sorted(p for p in FIXTURES.rglob("*.py"))
    assert len(files) > 100

    def run():
        for p in files:
            engine.lint_source(p.read_text(), str(p), select=ALL)

    garbage = _cyclic_garbage(run)
    assert not garbage, garbage.most_common(10)


def test_a_project_module_outlives_the_file_that_read_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "losses.py").write_text(textwrap.dedent('''
        from torch import nn


        class Holder:
            def __init__(self):
                self.me = self


        HOLDER = Holder()


        def build_criterion():
            return nn.MSELoss(reduction="none")
    '''))
    main = textwrap.dedent('''
        import torch
        from pkg.losses import HOLDER, build_criterion

        def train(x, y):
            loss = build_criterion()(x, y)
            loss.backward()

        train(torch.randn(4, 3, requires_grad=True), torch.randn(4, 3))
    ''')
    paths = [str(tmp_path / f"train{i}.py") for i in range(2)]
    found: list = []
    garbage = _cyclic_garbage(lambda: [found.append([d.code for d in engine.lint_source(main, p, select=ALL)])
                                       for p in paths])
    assert found == [["TL001"], ["TL001"]]  # the second file reads the kept module, as the first did
    assert not garbage, garbage.most_common(10)


def test_only_the_interpreters_made_inside_are_closed():
    import libcst as cst

    outside = Interpreter(cst.parse_module("def f():\n    return f\n"))
    outside.run()
    with core.closing():
        inside = Interpreter(cst.parse_module("def g():\n    return g\n"))
        kept = Interpreter(cst.parse_module("def h():\n    return h\n"), lasting=True)
        inside.run()
        kept.run()
        assert isinstance(inside.module_frame.vars["g"], Function)
    assert not vars(inside)  # closed: its state is gone
    for ip, name in ((outside, "f"), (kept, "h")):
        fn = ip.module_frame.vars[name]
        assert isinstance(fn, Function) and fn.frame.vars[name] is fn  # untouched


def test_an_object_knows_its_attributes_without_a_cycle():
    import libcst as cst
    import weakref

    ip = Interpreter(cst.parse_module("class A:\n    pass\n"))
    ip.run()
    inst = Instance(ip.module_frame.vars["A"])
    inst.attrs["x"] = 1
    dead = weakref.ref(inst)
    attrs = inst.attrs
    del inst
    assert dead() is None  # freed by reference counting alone
    path = trail.Trail()
    trail.OPEN.append(path)
    try:
        attrs["y"] = 2  # (a store into the attributes of an object that is gone records nothing, and does not fail)
    finally:
        trail.OPEN.remove(path)
    assert attrs == {"x": 1, "y": 2} and not path.old


@pytest.mark.parametrize("source", ["x = 1\n", "import torch\nt = torch.randn(2, requires_grad=True)\nt.backward()\n"])
def test_closing_nests(source):
    with core.closing():
        outer = Interpreter(__import__("libcst").parse_module(source))
        found = engine.lint_source(source, "nested.py", select=ALL)  # (closes its own interpreters)
        assert vars(outer)  # not the outer one's
    assert not vars(outer)
    assert isinstance(found, list)
