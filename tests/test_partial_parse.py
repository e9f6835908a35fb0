"""LibCST parses only what the rules reach (torchlint/analysis/partial.py): which top-level statements are left
out, that every kept node keeps its position, that findings and fix edits are those of the whole parse, and that
--fix still edits the whole file."""
import ast
import textwrap

from torchlint import engine, registry
from torchlint.analysis.partial import reduce
from torchlint.analysis.sites import has_site, summarize
from torchlint.fix.fixer import apply_fixes
from torchlint.syntax.guards import run_deep

SOURCE = textwrap.dedent('''\
    import torch
    import torch.nn as nn

    def first(a):  # the file's first indented block is always kept (LibCST's default indentation)
        return a


    def unrelated(a, b):
        """Nothing reaches it."""
        total = 0
        for i in range(a):
            total += i * b
        return total


    @staticmethod
    def decorated(x):
        return x.clone()


    class Helper:
        def __init__(self, n):
            self.n = n

        def run(self, x):
            return x * self.n


    class Reached:
        def forward(self, x):
            return x * 2


    def train():
        x = torch.randn(3, requires_grad=True)
        loss = Reached().forward(x)
        loss.backward()


    def caller():
        return train()


    def reads_state():
        return SCALE * 2


    SCALE = 3
    train()
    ''')


def _rules():
    tree = ast.parse(SOURCE)
    sites = summarize(tree)
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    return tree, sites, [r for r in rules if has_site(r, sites)]


def test_the_statements_nothing_reaches_are_left_out_and_positions_kept():
    tree, sites, rules = _rules()
    red = reduce(SOURCE, tree, rules, sites)
    lines = SOURCE.splitlines(keepends=True)
    starts = {n.name: n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    dropped = {start for start, _ in red.dropped}
    # unrelated, decorated (its decorator line too) and Helper are left out ...
    assert starts["unrelated"] in dropped and starts["Helper"] in dropped
    assert starts["decorated"] - 1 in dropped
    # ... the site, its callee, its caller, code reading module state and the first indented block are kept
    for name in ("first", "Reached", "train", "caller", "reads_state"):
        assert starts[name] not in dropped, name
    out = red.source.splitlines(keepends=True)
    assert len(out) == len(lines)
    for i, (a, b) in enumerate(zip(lines, out), 1):
        if any(s <= i <= e for s, e in red.dropped):
            assert b == "\n"
        else:
            assert a == b
    assert red.kept_chars == sum(len(b) for b in out if b != "\n") + sum(
        1 for i, b in enumerate(out, 1) if b == "\n" and not any(s <= i <= e for s, e in red.dropped))


def test_line_breaks_of_every_kind_are_kept():
    src = SOURCE.replace("\n", "\r\n")
    tree, sites, rules = _rules()
    red = reduce(src, ast.parse(src), rules, summarize(ast.parse(src)))
    assert red is not None and red.source.count("\r\n") == src.count("\r\n")


def test_nothing_left_out_when_everything_is_reached():
    src = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).backward()\n"
    tree = ast.parse(src)
    sites = summarize(tree)
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    assert reduce(src, tree, [r for r in rules if has_site(r, sites)], sites) is None


def _lint(src, whole):
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    return run_deep(engine._lint, src, "<string>", rules, True, None, {}, whole)


def test_findings_and_fix_edits_equal_the_whole_parse():
    reduced, whole = _lint(SOURCE, False), _lint(SOURCE, True)
    assert reduced and reduced == whole
    assert [d.fix for d in reduced] == [d.fix for d in whole]
    assert reduced[0].location.row == SOURCE.splitlines().index("    loss.backward()") + 1


def test_a_site_in_a_statement_nothing_calls_keeps_it():
    src = SOURCE + textwrap.dedent('''\

        def lonely():
            y = torch.randn(4, requires_grad=True)
            (y * 3).backward()
        ''')
    got = _lint(src, False)
    assert {d.location.row for d in got} == {d.location.row for d in _lint(src, True)}
    assert len(got) == 2


def test_a_fix_edits_the_whole_file():
    fixed = apply_fixes(SOURCE, "<string>")
    assert fixed.applied
    assert fixed.source == SOURCE.replace("    loss.backward()", "    loss.sum().backward()")
    # the left-out code is still there
    assert "def unrelated(a, b):" in fixed.source and "class Helper:" in fixed.source


ALIASED = textwrap.dedent('''\
    import torch


    def first(a):
        return a


    def unrelated(buf, w):
        buf.add_(w)  # an in-place change the aliasing guard counts: `buf` may be anything
        return buf


    def train():
        x = torch.randn(3)
        loss = (x * 2).sum()
        loss.backward()


    train()
    ''')


def test_a_whole_file_fact_the_reduced_file_cannot_give_makes_it_whole():
    from torchlint.analysis.semantic.aliasing import untracked_grad_change

    tree = ast.parse(ALIASED)
    sites = summarize(tree)
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    red = reduce(ALIASED, tree, [r for r in rules if has_site(r, sites)], sites)
    assert red is not None and "aliasing" in red.lenient
    assert ALIASED.splitlines().index("def unrelated(buf, w):") + 1 in {s for s, _ in red.dropped}
    # the reduced file alone would not see the change, and TL005 would report the backward() ...
    assert not untracked_grad_change(engine._parse_cst(red.source, "<string>"))
    assert untracked_grad_change(engine._parse_cst(ALIASED, "<string>"))
    # ... so the engine analyses the whole file, as before: the file may change a tensor out of sight
    assert _lint(ALIASED, False) == _lint(ALIASED, True) == []


def test_a_reduced_file_out_of_budget_is_analysed_whole(monkeypatch):
    from torchlint.analysis.interp import core

    monkeypatch.setattr(core, "STEP_BUDGET", 40)
    whole = _lint(SOURCE, True)
    assert _lint(SOURCE, False) == whole


def _all_fixtures():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "fixtures"
    return sorted(p for p in root.rglob("*.py") if "projects" not in p.parts)


# Appended to every fixture: a function nothing calls, that the partial parse leaves out, and whose analysis
# (a call of code torchlint does not see, given an unknown value) would move the seal epoch on.
UNREACHED = """


def _nothing_calls_this(_value):
    _foreign(_value)
    return _value
"""


def test_every_fixture_gives_the_whole_parse_findings_and_fix_edits(monkeypatch):
    """On every fixture with a function nothing calls, the check path (which leaves it out) gives the findings,
    messages and fix edits of the whole parse, and those of the fixture alone: what the interpreter analyses
    in code the partial parse leaves out never changes a fact of the code it keeps (interp/sealed.py)."""
    from torchlint.analysis import partial

    monkeypatch.setattr(partial, "MIN_SAVED", 0)  # (leave code out even where it saves little)
    reduced = 0
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    for path in _all_fixtures():
        alone = path.read_text(encoding="utf-8")
        src = alone.rstrip("\n") + "\n" + UNREACHED
        tree = ast.parse(src)
        sites = summarize(tree)
        ran = [r for r in rules if has_site(r, sites)]
        reduced += ran != [] and reduce(src, tree, ran, sites) is not None

        def seen(found):
            return [(d.location, d.code, d.message, d.fix) for d in found]

        got = seen(_lint(src, False))
        assert got == seen(_lint(src, True)) == seen(_lint(alone, True)), path
    assert reduced >= 200


def test_a_file_of_a_project_gives_the_whole_parse_findings(monkeypatch, tmp_path):
    """The project pass (analysis/project.py) runs on the reduced file too: on every file of the project
    fixtures, with a function nothing calls appended, the findings and fix edits are the whole parse's."""
    import shutil
    from pathlib import Path

    from torchlint.analysis import partial

    monkeypatch.setattr(partial, "MIN_SAVED", 0)
    projects = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
    checked = reduced = 0
    parsed: list = []
    parse = engine._parse_cst
    monkeypatch.setattr(engine, "_parse_cst", lambda source, path: parsed.append(path) or parse(source, path))
    for project in sorted(p for p in projects.iterdir() if p.is_dir()):
        root = tmp_path / project.name
        shutil.copytree(project, root)
        for path in sorted(root.rglob("*.py")):  # (the first indented block is always kept: a second one)
            path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + UNREACHED + UNREACHED.replace(
                "_nothing_calls_this", "_nor_this"), encoding="utf-8")
        for path in sorted(root.rglob("*.py")):
            src = path.read_text(encoding="utf-8")
            rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
            tree = ast.parse(src)
            sites = summarize(tree)
            ran = [r for r in rules if has_site(r, sites)]
            reduced += ran != [] and reduce(src, tree, ran, sites) is not None
            before = len(parsed)
            got = run_deep(engine._lint, src, str(path), rules, True, None, {}, False)
            assert len(parsed) <= before + 1, path  # (parsed once at most, reduced or not: never again whole)
            want = run_deep(engine._lint, src, str(path), rules, True, None, {}, True)
            assert [(d.location, d.code, d.message, d.fix) for d in got] == \
                [(d.location, d.code, d.message, d.fix) for d in want], path
            checked += bool(want)
    assert checked >= 5 and reduced >= 10  # (files with findings: the project pass finds them)


def test_the_site_summarys_walk_gives_reduce_what_its_own_walk_would(monkeypatch):
    """The engine hands reduce() each top-level statement's nodes from the site summary's walk (``parts``):
    the summary, the guards' measure and every reduction are those of separate walks."""
    from torchlint.analysis import partial
    from torchlint.syntax import guards

    monkeypatch.setattr(partial, "MIN_SAVED", 0)
    rules = [r() for r in registry.iter_selected(None) if r.phase == "analysis"]
    reduced = 0
    for path in _all_fixtures():
        src = path.read_text(encoding="utf-8").rstrip("\n") + "\n" + UNREACHED
        tree = ast.parse(src)
        parts: list = []
        alone, shared = guards.Measure(tree), guards.Measure(tree)
        sites = summarize(tree, alone)
        assert summarize(tree, shared, parts=parts) == sites and len(parts) == len(tree.body), path
        assert (shared.deepest, shared.longest) == (alone.deepest, alone.longest), path
        ran = [r for r in rules if has_site(r, sites)]
        if ran:
            red = reduce(src, tree, ran, sites, parts)
            assert red == reduce(src, tree, ran, sites), path
            reduced += red is not None
    assert reduced >= 200
