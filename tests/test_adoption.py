"""Ruff's adoption verbs: TL100 unused-noqa, --fix-only, --exit-non-zero-on-fix, `-` for standard input,
and --statistics one row per rule."""
from __future__ import annotations

import json

import pytest

from torchlint.report import suppression
from torchlint.engine import lint_source
from torchlint.fix.fixer import apply_fixes
from tlcli import BAD, FIXED, tl

ALLSEL = frozenset({"TL001", "TL005", "TL100"})
HEAD = "import torch\nx = torch.ones(2, requires_grad=True)\n"


def keep_for(judged=ALLSEL):
    return lambda ds, text: suppression.filter_diagnostics(ds, text, unused_noqa=judged, filename="t.py")


def tl100(src: str, judged=ALLSEL) -> list:
    raw = lint_source(src, "t.py", select=sorted(judged))
    return [d for d in keep_for(judged)(raw, src) if d.code == "TL100"]


def fixed(src: str, judged=ALLSEL) -> str:
    return apply_fixes(src, "t.py", select=sorted(judged), keep=keep_for(judged)).source


# -- what is unused -----------------------------------------------------------------------


def test_a_noqa_that_suppresses_a_finding_is_used():
    src = HEAD + "(x * x).backward()  # noqa: TL001\n"
    assert tl100(src) == []


def test_a_noqa_for_a_fixed_finding_is_reported_and_removed():
    src = HEAD + "(x * x).sum().backward()  # noqa: TL001\n"
    [d] = tl100(src)
    assert (d.location.row, d.location.column, d.end_location.column) == (3, 27, 40)
    assert d.message == "unused `noqa` directive (unused: `TL001`)" and d.severity == "warning"
    assert d.fix.applicability == "safe"
    assert fixed(src) == HEAD + "(x * x).sum().backward()\n"


@pytest.mark.parametrize("line,after", [
    ("y = 1  # noqa: E501, TL001\n", "y = 1  # noqa: E501\n"),  # other tools' codes stay
    ("y = 1  # expect: nothing  # noqa: TL001\n", "y = 1  # expect: nothing\n"),
    ("y = 1  # noqa: TL001  # why\n", "y = 1  # why\n"),
    ("y = 1  # noqa: TL001 because reasons\n", "y = 1  # because reasons\n"),
    ("y = 1  # torchlint: ignore[TL001]\n", "y = 1\n"),
    ("y = 1  # torchlint: ignore[TL001, TL005]\n", "y = 1\n"),
    ("y = (1,\n     # noqa: TL001\n     2)\n", "y = (1,\n     2)\n"),  # a comment on its own line: the line goes
    ("y = 1  # noqa: TL042\n", "y = 1\n"),  # an unknown code of ours
    ("y = 1\r\nz = 2  # noqa: TL001\r\n", "y = 1\r\nz = 2\r\n"),
])
def test_the_fix_removes_only_the_dead_part(line, after):
    assert len(tl100(HEAD + line)) == 1
    out = fixed(HEAD + line)
    assert out == HEAD + after
    assert tl100(out) == []  # and a second run finds nothing


@pytest.mark.parametrize("line", [
    "y = 1  # noqa\n",  # bare: other tools read it too
    "y = 1  # noqa: E501\n",  # another tool's code
    "y = 1  # noqa: TL001, TL100\n",  # the user asked to keep it
    "s = '# noqa: TL001'\n",  # not a comment
    "y = 1  # noqa: TL999\n",  # internal errors are ours, but not a rule's
])
def test_left_alone(line):
    assert tl100(HEAD + line) == []


def test_codes_of_rules_that_did_not_run_are_left_alone():
    src = HEAD + "y = 1  # noqa: TL001\n"
    assert tl100(src, judged=frozenset({"TL005", "TL100"})) == []
    assert len(tl100(src)) == 1


def test_a_noqa_at_the_end_of_a_multiline_statement_is_used_by_any_of_its_lines():
    src = HEAD + "(x *\n x).backward(\n)  # noqa: TL001\n"
    assert tl100(src) == []
    assert len(tl100(HEAD + "(x *\n x).sum().backward(\n)  # noqa: TL001\n")) == 1


def test_a_half_used_directive_keeps_the_used_code():
    src = HEAD + "(x * x).backward()  # noqa: TL001, TL005\n"
    [d] = tl100(src)
    assert d.message == "unused `noqa` directive (unused: `TL005`)"
    assert fixed(src) == HEAD + "(x * x).backward()  # noqa: TL001\n"


def test_tl100_is_itself_suppressible_and_never_stale():
    src = HEAD + "y = 1  # noqa: TL001\n"
    first = tl100(src)
    # filtering twice recomputes (no duplicate, no stale finding)
    again = suppression.filter_diagnostics(first, src, unused_noqa=ALLSEL, filename="t.py")
    assert again == first
    assert suppression.filter_diagnostics([], src, per_file_ignores_codes=frozenset({"TL100"}),
                                          unused_noqa=ALLSEL, filename="t.py") == []
    assert suppression.filter_diagnostics([], "# torchlint: noqa\n" + src, unused_noqa=ALLSEL) == []


def test_add_noqa_never_writes_tl100():
    src = HEAD + "y = 1  # noqa: TL001\n(x * x).backward()\n"
    diags = keep_for()(lint_source(src, "t.py", select=sorted(ALLSEL)), src)
    assert {d.code for d in diags} == {"TL001", "TL100"}
    out, added = suppression.add_noqa(src, diags)
    assert added == 1 and out.endswith("(x * x).backward()  # noqa: TL001\n") and "TL100" not in out


# -- through the command line -------------------------------------------------------------


def test_tl100_is_off_by_default_and_documented(tmp_path):
    (tmp_path / "t.py").write_text(HEAD + "(x * x).sum().backward()  # noqa: TL001\n")
    assert tl("check", "t.py", "--isolated", "--no-cache", cwd=tmp_path).returncode == 0
    r = tl("check", "t.py", "--isolated", "--no-cache", "--extend-select", "TL100", "--output-format", "concise",
           cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith(
        "t.py:3:27: TL100 [*] unused `noqa` directive (unused: `TL001`)\n")
    doc = tl("rule", "TL100").stdout
    assert doc.startswith("# unused-noqa (TL100)") and "## Fix safety" in doc
    assert "TL100\tunused-noqa\toff\tfix=always" in tl("rules").stdout


def test_add_noqa_then_fix_then_tl100_removes_the_dead_comment(tmp_path):
    f = tmp_path / "t.py"
    f.write_text(BAD)
    assert tl("check", "t.py", "--isolated", "--no-cache", "--add-noqa", cwd=tmp_path).returncode == 0
    assert f.read_text().endswith("y.backward()  # noqa: TL001\n")
    # --add-noqa with TL100 on: the comments it writes are used, so nothing is left
    r = tl("check", "t.py", "--isolated", "--no-cache", "--extend-select", "TL100", cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    f.write_text(f.read_text().replace("y.backward()", "y.sum().backward()"))  # the bug is fixed by hand
    r = tl("check", "t.py", "--isolated", "--extend-select", "TL100", "--fix", cwd=tmp_path)
    assert r.returncode == 0 and "1 fixed, 0 remaining" in r.stdout
    assert f.read_text() == FIXED


def test_tl100_on_a_file_without_other_triggers_is_never_parsed(tmp_path):
    from torchlint.runner import check_files
    from torchlint.settings import Settings

    f = tmp_path / "plain.py"
    f.write_text("import os  # noqa: TL001\n")
    [res] = check_files([f], Settings(select=ALLSEL, no_cache=True, project_root=tmp_path, jobs=1))
    assert [d.code for d in res.diagnostics] == ["TL100"]
    [res] = check_files([f], Settings(select=frozenset({"TL001"}), no_cache=True, project_root=tmp_path))
    assert res.parsed is False


def test_tl100_in_a_notebook_points_into_its_cell(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "import os\n", "metadata": {}, "outputs": [],
                     "execution_count": None},
                    {"cell_type": "code", "source": "y = 1  # noqa: TL001\n", "metadata": {}, "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    r = tl("check", "nb.ipynb", "--isolated", "--no-cache", "--select", "TL001,TL100", "--output-format", "json",
           cwd=tmp_path)
    [d] = json.loads(r.stdout)
    assert (d["code"], d["cell"], d["location"]) == ("TL100", 2, {"row": 1, "column": 8})
    assert d["fix"]["edits"][0]["location"] == {"row": 1, "column": 6}
    r = tl("check", "nb.ipynb", "--isolated", "--no-cache", "--select", "TL001,TL100", "--fix", cwd=tmp_path)
    assert r.returncode == 0
    assert json.loads((tmp_path / "nb.ipynb").read_text())["cells"][1]["source"] == "y = 1\n"


def test_fix_only_fixes_and_does_not_report_what_is_left(tmp_path):
    f = tmp_path / "t.py"
    left = "import torch\nw = torch.ones(2, requires_grad=True)\nl = (w * w).sum()\nl.backward()\nl.backward()\n"
    f.write_text(BAD + left.replace("import torch\n", ""))
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix-only", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "Fixed 1 problem.\n", "")  # TL008 (unsafe fix) is left
    assert "y.sum().backward()" in f.read_text()
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix-only", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "")
    r = tl("check", "t.py", "--isolated", "--no-cache", cwd=tmp_path)
    assert r.returncode == 1 and "TL008" in r.stdout


def test_exit_non_zero_on_fix(tmp_path):
    f = tmp_path / "t.py"
    f.write_text(BAD)
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix", "--exit-non-zero-on-fix", cwd=tmp_path)
    assert r.returncode == 1 and "1 fixed, 0 remaining" in r.stdout and f.read_text() == FIXED
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix", "--exit-non-zero-on-fix", cwd=tmp_path)
    assert r.returncode == 0  # nothing to fix this time
    f.write_text(BAD)
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix-only", "--exit-non-zero-on-fix", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "Fixed 1 problem.\n")
    f.write_text(BAD)
    r = tl("check", "t.py", "--isolated", "--no-cache", "--fix", "--exit-non-zero-on-fix", "--exit-zero",
           cwd=tmp_path)
    assert r.returncode == 0  # --exit-zero wins, as in Ruff
    r = tl("check", "--stdin-filename", "s.py", "--fix", "--exit-non-zero-on-fix", input=BAD, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, FIXED)
    twice = "l = (x * x).sum()\nl.backward()\nl.backward()\n"  # TL008: its fix is unsafe, so it stays
    r = tl("check", "--stdin-filename", "s.py", "--fix-only", input=BAD + twice, cwd=tmp_path)
    # what --fix-only cannot fix is neither reported nor fails the run
    assert (r.returncode, r.stdout, r.stderr) == (0, FIXED + twice, "")
    r = tl("check", "--stdin-filename", "s.py", "--fix", input=BAD + twice, cwd=tmp_path)
    assert r.returncode == 1 and "TL008" in r.stderr


def test_dash_reads_standard_input(tmp_path):
    r = tl("check", "-", "--isolated", "--output-format", "concise", input=BAD, cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("-:4:1: TL001 [*] ")
    r = tl("check", "-", "--stdin-filename", "named.py", "--output-format", "concise", input=BAD, cwd=tmp_path)
    assert r.stdout.startswith("named.py:4:1: TL001")
    r = tl("check", "-", "--fix", input=BAD, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, FIXED)
    r = tl("check", "-", "a.py", input=BAD, cwd=tmp_path)
    assert r.returncode == 2 and "'-' (standard input) cannot be combined with other paths" in r.stderr


def test_statistics_one_row_per_rule_with_partly_fixable_marked(tmp_path):
    src = BAD + "z = x * 3\nz.backward()\n"
    (tmp_path / "t.py").write_text(src)
    (tmp_path / "u.py").write_text(HEAD + "y = 1  # noqa: TL005\n")
    r = tl("check", ".", "--isolated", "--no-cache", "--statistics", "--extend-select", "TL100", cwd=tmp_path)
    assert r.stdout.splitlines()[:2] == ["    2\tTL001\t[*] backward-non-scalar", "    1\tTL100\t[*] unused-noqa"]
    from torchlint.diagnostics import Diagnostic, Location
    from torchlint.report.output import statistics_rows, statistics_text

    a = Diagnostic("TL008", "backward-twice", "m", "error", "a.py", Location(1, 1), Location(1, 1))
    rows = statistics_rows([a, a])
    assert rows == [{"code": "TL008", "name": "backward-twice", "count": 2, "fixable": False, "fixable_count": 0}]
    import dataclasses

    from torchlint.diagnostics import Fix

    b = dataclasses.replace(a, fix=Fix("f", (), "safe"))
    assert statistics_text([a, b, b]) == "    3\tTL008\t[~] backward-twice\n"  # one row, partly fixable
    assert statistics_rows([a, b, b])[0]["fixable_count"] == 2
