"""# noqa, # torchlint: ignore[...], file-level # torchlint: noqa, per-file-ignores."""
from __future__ import annotations

import pytest

from torchlint.diagnostics import Diagnostic, Location
from torchlint.report.suppression import file_is_noqa, file_noqa_codes, filter_diagnostics, line_suppressions, path_ignores


def D(row, code="TL001", col=1):
    return Diagnostic(code, "x", "msg", "error", "m.py", Location(row, col), Location(row, col + 1))


def kept(source, diags, **kw):
    return [(d.location.row, d.code) for d in filter_diagnostics(diags, source, **kw)]


@pytest.mark.parametrize("comment, suppressed", [
    ("# noqa", {"TL001", "TL002"}),
    ("# NOQA", {"TL001", "TL002"}),
    ("#noqa", {"TL001", "TL002"}),
    ("# noqa: TL001", {"TL001"}),
    ("# noqa:TL001", {"TL001"}),
    ("# noqa: TL002, TL001", {"TL001", "TL002"}),
    ("# noqa: TL002,TL001", {"TL001", "TL002"}),
    ("# noqa: TL002 TL001", {"TL001", "TL002"}),
    ("# noqa: tl001", {"TL001"}),
    ("# noqa: E501", set()),
    ("# noqa: E501 -- long line", set()),
    ("# torchlint: ignore[TL001]", {"TL001"}),
    ("# torchlint: ignore[TL001, TL002]", {"TL001", "TL002"}),
    ("# torchlint: ignore[]", {"TL001", "TL002"}),
    ("# type: ignore  # noqa: TL002", {"TL002"}),
    ("# a comment", set()),
])
def test_line_comments(comment, suppressed):
    src = f"y.backward()  {comment}\n"
    left = kept(src, [D(1, "TL001"), D(1, "TL002")])
    assert {c for _, c in left} == {"TL001", "TL002"} - suppressed


def test_noqa_only_covers_its_own_line():
    src = "a()  # noqa\nb()\n"
    assert kept(src, [D(1), D(2)]) == [(2, "TL001")]


def test_noqa_inside_a_string_does_not_count():
    src = 'x = "# noqa"\ny = """\n# noqa\n"""\n'
    assert kept(src, [D(1), D(3)]) == [(1, "TL001"), (3, "TL001")]


def test_noqa_on_the_last_line_of_a_multiline_statement_covers_it():
    src = "loss = (a *\n    b)\nloss.backward(\n    retain_graph=False,\n)  # noqa: TL001\nz()\n"
    assert kept(src, [D(1), D(3), D(4), D(6)]) == [(1, "TL001"), (6, "TL001")]
    # on the first line it covers only that line (as in Ruff)
    src = "loss.backward(  # noqa: TL001\n    retain_graph=False,\n)\n"
    assert kept(src, [D(1), D(2)]) == [(2, "TL001")]


def test_noqa_after_a_multiline_string():
    src = 'f("""\nabc\n""").backward()  # noqa\n'
    assert kept(src, [D(1), D(3)]) == []


def test_statement_spreading_does_not_cross_statements():
    src = "if x:\n    y.backward()  # noqa\nz.backward()\n"
    assert kept(src, [D(1), D(2), D(3)]) == [(1, "TL001"), (3, "TL001")]


def test_file_level_noqa():
    src = "import torch\n# torchlint: noqa\ny.backward()\n"
    assert file_is_noqa(src)
    assert kept(src, [D(3), D(1, "E999")]) == [(1, "E999")]  # syntax errors are never hidden
    assert not file_is_noqa("x = 1  # torchlint: noqa\n")  # must be on a line of its own
    assert not file_is_noqa("# torchlint: noqa: TL001\n")
    assert file_noqa_codes("# torchlint: noqa: TL001, TL002\n") == {"TL001", "TL002"}
    assert kept("# torchlint: noqa: TL001\n", [D(1, "TL001"), D(1, "TL002")]) == [(1, "TL002")]


def test_per_file_ignores():
    pfi = (("tests/*", frozenset({"TL001"})), ("conftest.py", frozenset({"TL002"})))
    assert path_ignores("tests/test_x.py", pfi) == {"TL001"}
    assert path_ignores("pkg/conftest.py", pfi) == {"TL002"}
    assert path_ignores("pkg/m.py", pfi) == frozenset()
    assert path_ignores(None, pfi) == frozenset()
    assert kept("a()\n", [D(1, "TL001"), D(1, "TL002")], per_file_ignores_codes=frozenset({"TL001"})) == \
        [(1, "TL002")]


def test_untokenizable_source_falls_back_to_line_comments():
    src = "x = (\ny.backward()  # noqa: TL001\n"  # unterminated bracket: tokenize fails
    assert line_suppressions(src) == {2: {"TL001"}}
    assert kept(src, [D(2), D(1)]) == [(1, "TL001")]


def test_no_diagnostics_is_cheap_and_empty():
    assert filter_diagnostics([], "anything # noqa") == []


def test_end_to_end_with_the_engine():
    from torchlint.engine import lint_source

    src = ("import torch\nx = torch.randn(3, requires_grad=True)\n"
           "(x * 2).backward()  # noqa: TL001\n"
           "(x *\n 3).backward(\n)  # torchlint: ignore[TL001]\n"
           "(x * 4).backward()\n")
    found = lint_source(src, "m.py", select=["TL001"])
    assert [d.location.row for d in found] == [3, 4, 7]
    assert [d.location.row for d in filter_diagnostics(found, src)] == [7]


def test_suppression_through_the_cli(tmp_path):
    from tlcli import BAD, tl

    p = tmp_path / "m.py"
    for variant, code in [
        (BAD.replace("y.backward()", "y.backward()  # noqa: TL001"), 0),
        (BAD.replace("y.backward()", "y.backward()  # noqa"), 0),
        (BAD.replace("y.backward()", "y.backward()  # torchlint: ignore[TL001]"), 0),
        ("# torchlint: noqa\n" + BAD, 0),
        ("# torchlint: noqa: TL001\n" + BAD, 0),
        (BAD.replace("y.backward()", "y.backward()  # noqa: E501"), 1),
        (BAD.replace("y.backward()", "y.backward()  # torchlint: ignore[TL002]"), 1),
        (BAD.replace("y.backward()", "y.backward(\n)  # noqa: TL001"), 0),
    ]:
        p.write_text(variant)
        r = tl("check", "m.py", "--no-cache", cwd=tmp_path)
        assert r.returncode == code, (variant, r.stdout)
    p.write_text(BAD.replace("y.backward()", "y.backward()  # noqa: TL001"))
    r = tl("check", "m.py", "--fix", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0 and p.read_text() == BAD.replace("y.backward()", "y.backward()  # noqa: TL001")


@pytest.mark.parametrize("path,glob,hit", [
    ("tests/test_a.py", "tests/**/*.py", True),  # `**/` is zero or more directories, as in Ruff
    ("tests/unit/deep/test_a.py", "tests/**/*.py", True),
    ("src/tests/test_a.py", "tests/**/*.py", False),
    ("src/pkg/test_a.py", "**/test_*.py", True),
    ("test_a.py", "**/test_*.py", True),
    ("pkg/__init__.py", "__init__.py", True),  # a bare file name matches anywhere
    ("pkg/stub.pyi", "*.pyi", True),
    ("pkg/a.py", "pkg/*", True),
    ("pkg/a.py", "other/*", False),
])
def test_per_file_ignore_globs(path, glob, hit):
    assert path_ignores(path, ((glob, frozenset({"TL001"})),)) == (frozenset({"TL001"}) if hit else frozenset())
