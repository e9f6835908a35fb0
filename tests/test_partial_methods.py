"""LibCST parses the methods of a kept class only when something kept reaches them
(torchlint/analysis/partial_methods.py): which methods are left out, what stands in for them, that findings and
fix edits are those of the whole parse, and that a left-out method looked up makes the file whole."""
import ast
import re
import textwrap
from pathlib import Path

import pytest

from torchlint import engine, registry
from torchlint.analysis import partial, partial_methods
from torchlint.analysis.deferred import BLANKED_NAME
from torchlint.analysis.sites import has_site, summarize
from torchlint.syntax.guards import run_deep

HEAD = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    def first(a):
        return a


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x)

    ''')

TRAIN = textwrap.dedent('''\

        def train_step(self, x):
            loss = self(x) * 2
            loss.backward()


    Net().train_step(torch.randn(4, 3))
    ''')


@pytest.fixture(autouse=True)
def _reduce_small_files(monkeypatch):
    monkeypatch.setattr(partial, "MIN_SAVED", 0)
    monkeypatch.setattr(partial_methods, "MIN_LINES", 0)


def _reduce(src):
    tree = ast.parse(src)
    sites = summarize(tree)
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    return partial.reduce(src, tree, [r for r in rules if has_site(r, sites)], sites)


def _blanked(src) -> set:
    """The names of the methods the partial parse leaves out of ``src``."""
    red = _reduce(src)
    if red is None:
        return set()
    lines = src.splitlines()
    return {re.match(r"\s*def (\w+)", lines[start - 1]).group(1) for start, _ in red.blanked}


def _lint(src, whole, path="<string>"):
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    return [(d.location, d.end_location, d.code, d.message, d.fix)
            for d in run_deep(engine._lint, src, path, rules, True, None, {}, whole)]


def _method(body: str) -> str:
    return textwrap.indent(textwrap.dedent(body), "    ")


HELPER = _method('''\

    def helper(self, a, b):
        total = 0
        for i in range(a):
            total += i * b
        return total
''')


def test_a_method_nothing_reaches_is_left_out_and_positions_kept():
    src = HEAD + HELPER + TRAIN
    red = _reduce(src)
    assert red is not None and _blanked(src) == {"helper"}
    (start, end), = red.blanked
    lines, out = src.splitlines(keepends=True), red.source.splitlines(keepends=True)
    assert len(out) == len(lines)
    assert out[start - 1] == f"    helper = {BLANKED_NAME}\n"
    assert all(out[i] == "\n" for i in range(start, end))
    assert all(a == b for i, (a, b) in enumerate(zip(lines, out), 1) if not start <= i <= end)
    got = _lint(src, False)
    assert got and got == _lint(src, True)
    assert got[0][0].row == lines.index("        loss.backward()\n") + 1


@pytest.mark.parametrize("use", [
    "loss = self.helper(2, 3) * self(x)",  # called by kept code
    'loss = getattr(self, "helper")(2, 3) * self(x)',  # named by a string
    "loss = self(x) * 2; self.run = self.helper",  # an attribute read
])
def test_a_method_kept_code_names_is_kept(use):
    src = HEAD + HELPER + TRAIN.replace("loss = self(x) * 2", use)
    assert "helper" not in _blanked(src)
    assert _lint(src, False) == _lint(src, True)


def test_a_method_that_stores_an_attribute_is_kept():
    # the class's generic self is shared by its methods: what `setup` stores, `train_step` (analysed after it, on its
    # own) reads
    src = HEAD + _method('''\

        def setup(self):
            self.scale = torch.ones(2)
    ''') + TRAIN.replace("loss = self(x) * 2", "loss = self(x) * self.scale")
    assert "setup" not in _blanked(src)
    assert _lint(src, False) == _lint(src, True)


def test_a_method_that_reads_what_kept_code_made_is_kept():
    src = HEAD + _method('''\

        def report(self, x):
            return self.lin(x)
    ''') + TRAIN
    assert "report" not in _blanked(src)  # `lin` is stored by __init__: it may hold the file's own objects


@pytest.mark.parametrize("decorator", ["@property", "@staticmethod", "@torch.no_grad()"])
def test_a_decorated_method_is_kept(decorator):
    src = HEAD + _method(f'''\

        {decorator}
        def helper(self):
            return 1
    ''') + TRAIN
    assert "helper" not in _blanked(src)


def test_a_class_whose_every_method_is_left_out_keeps_its_namespace():
    """``Wrapped`` has a member of its own, so it is no plain nn.DataParallel (objects.torch_base_alone): its output
    is unknown, and nothing is reported.  With its body left out and nothing in its place, it would build and call
    as a DataParallel, whose gathered output backward() reports."""
    src = textwrap.dedent('''\
        import torch
        import torch.nn as nn


        def first(a):
            return a


        class Wrapped(nn.DataParallel):
            def helper(self, a):
                return a + 1


        model = Wrapped(nn.Linear(3, 1))
        out = model(torch.randn(4, 3))
        out.backward()
        ''')
    red = _reduce(src)
    assert _blanked(src) == {"helper"}
    tree = ast.parse(red.source)  # (the stand-in is the class's whole body)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    assert [type(s) for s in cls.body] == [ast.Assign]
    assert _lint(src, False) == _lint(src, True) == []
    assert _lint(src.replace("    def helper(self, a):\n        return a + 1\n", "    pass\n"), True)


def test_a_left_out_method_looked_up_makes_the_file_whole(monkeypatch):
    """No kept code names ``helper``, but ``getattr`` finds it by a name the code computes: the interpreter asks
    for the whole file, and the findings are the whole file's."""
    src = HEAD + _method('''\

        def helper(self, x):
            return x * 2
    ''') + TRAIN.replace("loss = self(x) * 2", 'name = "hel" + "per"\n        loss = getattr(self, name)(self(x))')
    assert _blanked(src) == {"helper"}
    again = []
    real = engine._lint

    def spy(*a, **k):
        again.append(k.get("whole", a[6] if len(a) > 6 else False))
        return real(*a, **k)

    monkeypatch.setattr(engine, "_lint", spy)
    got = _lint(src, False)
    assert again == [False, True]  # (the reduced run asked for the whole file once)
    assert got == _lint(src, True) and got


def test_a_file_that_uses_the_reserved_name_leaves_no_method_out():
    src = HEAD + HELPER + TRAIN + f"{BLANKED_NAME} = 1\n"
    assert _blanked(src) == set()


def test_the_first_method_to_take_self_is_kept_when_a_later_one_is():
    """The analysis of a class's first method that takes ``self`` builds the generic ``self`` all of them share."""
    src = HEAD.replace("    def __init__(self):\n        super().__init__()\n        self.lin = nn.Linear(3, 2)\n\n",
                       "    def helper(self, a):\n        return a\n\n") + TRAIN
    assert "helper" not in _blanked(src)


def _fixtures():
    root = Path(__file__).resolve().parent.parent / "fixtures"
    return sorted(p for p in root.rglob("*.py") if "projects" not in p.parts)


UNREACHED = '''
    def _nothing_calls_this(self, _value):
        _foreign(_value)
        return _value
'''


def test_every_fixture_class_with_a_method_nothing_calls_gives_the_whole_parse_findings():
    """On every fixture, with a method nothing calls added to each top-level class, the check path (which leaves
    the method out) gives the findings, messages and fix edits of the whole parse."""
    blanked = 0
    for path in _fixtures():
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        lines = src.splitlines(keepends=True)
        ends = sorted((n.end_lineno for n in tree.body if isinstance(n, ast.ClassDef)
                       and n.body[-1].lineno > n.lineno and n.body[-1].col_offset == 4), reverse=True)
        if not ends:
            continue
        for end in ends:
            if not lines[end - 1].endswith("\n"):
                lines[end - 1] += "\n"
            lines.insert(end, UNREACHED)
        src = "".join(lines)
        blanked += "_nothing_calls_this" in _blanked(src)
        assert _lint(src, False) == _lint(src, True), path
    assert blanked >= 20
