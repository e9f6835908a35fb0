"""Syntax of a newer Python than the one running torchlint is not a syntax error (issue 11, item 3).

CPython's ``ast`` knows only its own grammar; LibCST knows up to 3.14.  Where ``ast`` refuses a file, LibCST
parses it and it uses newer syntax, torchlint goes on with LibCST's tree (without the ast-based site gate)."""
from __future__ import annotations

import sys

import libcst as cst
import pytest

from tlcli import tl
from torchlint.diagnostics import SourceError
from torchlint.engine import lint_source, parse
from torchlint.syntax.versions import newer_syntax

BUG = "x = torch.ones(2, requires_grad=True)\n(x * 2).backward()\n"

SAMPLES = [  # (the Python version that first accepts it, what, code, the line it is on)
    ((3, 11), "except*", "try:\n    pass\nexcept* ValueError:\n    pass\n", 1),
    ((3, 11), "a starred subscript", "y = x[*a]\n", 1),
    ((3, 12), "a type statement", "type Vec = torch.Tensor\n", 1),
    ((3, 12), "type parameters", "def first[T](xs: list[T]) -> T:\n    return xs[0]\n", 1),
    ((3, 12), "type parameters", "class Box[T]:\n    pass\n", 1),
    ((3, 12), "an f-string with quotes, backslashes or comments inside", 'name = f"{"loss"}"\n', 1),
    ((3, 13), "a type parameter default", "def f[T = int]():\n    pass\n", 1),
    ((3, 14), "a template string (t-string)", 'msg = t"loss {x}"\n', 1),
    ((3, 14), "except without parentheses", "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", 3),
]


@pytest.mark.parametrize("version,what,code,line", SAMPLES, ids=[s[1] + str(s[0]) for s in SAMPLES])
def test_newer_syntax_names_the_feature_and_its_version(version, what, code, line):
    module = cst.parse_module(code)
    just_older = (version[0], version[1] - 1)
    assert newer_syntax(module, running=just_older) == (version, what, line)
    assert newer_syntax(module, running=version) is None  # that Python accepts it itself


def test_old_syntax_is_not_newer():
    module = cst.parse_module("import torch\nwith (open('a') as f, open('b') as g):\n    pass\nmatch x:\n"
                              "    case 1:\n        pass\ny = f'{x!r:>10}'\n")
    assert newer_syntax(module, running=(3, 10)) is None


NEWER = [s for s in SAMPLES if s[0] > sys.version_info[:2]]


@pytest.mark.skipif(not NEWER, reason="no syntax newer than this Python that LibCST parses")
@pytest.mark.parametrize("version,what,code,line", NEWER, ids=[s[1] + str(s[0]) for s in NEWER])
def test_a_file_of_newer_syntax_is_checked_not_e999(version, what, code, line):
    src = "import torch\n" + code + BUG
    found = [(d.code, d.location.row) for d in lint_source(src, "<t>", select=["TL001"])]
    assert found == [("TL001", src.count("\n"))]
    parse(src, "<t>")  # the fixer's re-parse accepts it too


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the CLI case needs a Python older than 3.12")
def test_type_alias_under_an_older_python_is_linted_and_fixed(tmp_path):
    p = tmp_path / "alias.py"
    p.write_text("import torch\ntype Vec = torch.Tensor\n" + BUG)
    r = tl("check", "--no-cache", "--select", "TL001", "--output-format", "concise", "alias.py", cwd=tmp_path)
    assert (r.returncode, r.stdout.splitlines()[0][:20]) == (1, "alias.py:4:1: TL001 "), r.stdout + r.stderr
    r = tl("check", "--no-cache", "--select", "TL001", "--fix", "alias.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert p.read_text().endswith("(x * 2).sum().backward()\n")


@pytest.mark.parametrize("code,message", [
    # LibCST accepts these, CPython does not, and nothing in them is newer syntax: CPython's error stands
    ("f(**a, *b)\n", "SyntaxError: iterable argument unpacking follows keyword argument unpacking"),
    ("x = = 1\n", "SyntaxError: invalid syntax"),
])
def test_real_syntax_errors_keep_cpythons_message(code, message):
    with pytest.raises(SourceError) as e:
        lint_source("import torch\n" + code + BUG, "<t>", select=["TL001"])
    assert e.value.message == message and e.value.location.row == 2


@pytest.mark.skipif(not NEWER, reason="no syntax newer than this Python that LibCST parses")
def test_newer_syntax_with_an_error_libcst_refuses_keeps_cpythons_error():
    src = "import torch\n" + NEWER[-1][2] + "x = = 1\n" + BUG
    with pytest.raises(SourceError) as e:
        lint_source(src, "<t>", select=["TL001"])
    assert e.value.message.startswith("SyntaxError: ")


@pytest.mark.skipif(not NEWER, reason="no syntax newer than this Python that LibCST parses")
def test_newer_syntax_files_keep_the_depth_guards():
    src = "import torch\n" + NEWER[-1][2] + "y = " + " and ".join(["x"] * 5000) + "\n" + BUG
    with pytest.raises(SourceError) as e:
        lint_source(src, "<t>", select=["TL001"])
    assert "operators in one expression" in e.value.message
