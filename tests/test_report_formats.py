"""The machine formats as their consumers read them: SARIF URIs and levels, GitLab paths, JUnit counts,
notebook cells (order, edits), terminal-cell carets, colour, and file names of any bytes in every format."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from urllib.parse import unquote_to_bytes

import pytest

from torchlint.diagnostics import Diagnostic, Edit, Fix, Location
from torchlint.report import reporters
from tlcli import BAD, tl


def diag(filename, row=1, col=1, code="TL001", severity="error", message="m", fix=None):
    return Diagnostic(code, "backward-non-scalar", message, severity, filename, Location(row, col),
                      Location(row, col + 3), fix)


def _uri(doc, i=0):
    return doc["runs"][0]["results"][i]["locations"][0]["physicalLocation"]["artifactLocation"]


# -- SARIF ---------------------------------------------------------------------------


def test_sarif_uris_are_relative_to_the_repository_and_percent_encoded(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "src dir"
    sub.mkdir()
    monkeypatch.chdir(sub)  # a run from a subdirectory: the URIs still start at the repository
    outside = tmp_path.parent / "elsewhere #1.py"
    doc = json.loads(reporters.sarif([diag("my file%.py"), diag(str(outside)), diag(str(sub / "a.py"))], {}))
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == tmp_path.as_uri() + "/" and base.startswith("file:///")
    assert _uri(doc, 0) == {"uri": "src%20dir/my%20file%25.py", "uriBaseId": "%SRCROOT%"}
    assert _uri(doc, 1) == {"uri": outside.as_uri()} and "%20%231.py" in _uri(doc, 1)["uri"]
    assert _uri(doc, 2) == {"uri": "src%20dir/a.py", "uriBaseId": "%SRCROOT%"}


def test_sarif_without_a_repository_is_relative_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if any((p / ".git").exists() for p in [tmp_path, *tmp_path.parents]):
        pytest.skip("the temporary directory is inside a git repository")
    doc = json.loads(reporters.sarif([diag("a.py")], {}))
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    assert _uri(doc) == {"uri": "a.py", "uriBaseId": "%SRCROOT%"}


def test_sarif_fix_uses_the_same_artifact_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    edit = Edit(0, 0, ".sum()", Location(1, 2), Location(1, 2))
    doc = json.loads(reporters.sarif([diag("a b.py", fix=Fix("f", (edit,)))], {}))
    change = doc["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"] == _uri(doc)


def test_sarif_rule_levels_follow_each_rules_severity():
    from torchlint.registry import all_rules

    rules = {r["id"]: r for r in json.loads(reporters.sarif([], {}))["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["TL007"]["defaultConfiguration"]["level"] == "warning"  # a missing zero_grad is likely, not sure
    assert rules["TL001"]["defaultConfiguration"]["level"] == "error"
    for r in all_rules():
        assert rules[r.code]["defaultConfiguration"]["level"] == r.severity
    assert {r.severity for r in all_rules()} == {"error", "warning"}


# -- GitLab --------------------------------------------------------------------------


def test_gitlab_paths_are_relative_to_the_repository(tmp_path, monkeypatch):
    (tmp_path / ".git").write_text("gitdir: ../real.git\n")  # a worktree's .git is a file
    (tmp_path / "pkg").mkdir()
    monkeypatch.chdir(tmp_path / "pkg")
    data = json.loads(reporters.gitlab([diag(str(tmp_path / "pkg" / "m.py")), diag("n.py"),
                                        diag(str(tmp_path.parent / "out.py"))], {}))
    assert [d["location"]["path"] for d in data] == ["pkg/m.py", "pkg/n.py", str(tmp_path.parent / "out.py")]
    # the same finding named two ways (absolute, relative) has one fingerprint
    again = json.loads(reporters.gitlab([diag("m.py")], {}))
    assert again[0]["fingerprint"] == data[0]["fingerprint"]


def test_gitlab_cli_with_an_absolute_path(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "bad.py").write_text(BAD)
    r = tl("check", str(tmp_path / "bad.py"), "--output-format", "gitlab", "--isolated", "--no-cache",
           cwd=tmp_path)
    assert json.loads(r.stdout)[0]["location"]["path"] == "bad.py"


# -- notebooks -----------------------------------------------------------------------


def test_junit_counts_a_notebook_with_findings_once():
    out = reporters.junit([diag("nb.ipynb:cell 2"), diag("nb.ipynb:cell 10")], {}, files=["nb.ipynb", "ok.py"])
    suite = ET.fromstring(out).find("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names == ["nb.ipynb:cell 2:1:1 TL001", "nb.ipynb:cell 10:1:1 TL001", "ok.py"]
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    assert {c.get("classname") for c in suite.findall("testcase")[:2]} == {"nb.ipynb"}


def test_notebook_findings_sort_by_cell_number():
    ds = [diag("nb.ipynb:cell 10", 1), diag("nb.ipynb:cell 2", 5), diag("nb.ipynb", 1), diag("a.py", 9),
          diag("nb.ipynb:cell 2", 1, 7), diag("nb.ipynb:cell 2", 1, 3)]
    got = [(d.filename, d.location.row, d.location.column) for d in sorted(ds, key=Diagnostic.sort_key)]
    assert got == [("a.py", 9, 1), ("nb.ipynb", 1, 1), ("nb.ipynb:cell 2", 1, 3), ("nb.ipynb:cell 2", 1, 7),
                   ("nb.ipynb:cell 2", 5, 1), ("nb.ipynb:cell 10", 1, 1)]


def _notebook(cells) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [],
                                  "execution_count": None} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_json_notebook_fix_edits_are_cell_relative_and_cells_sort_numerically(tmp_path):
    cells = ["import torch\n"] + ["x = 1\n"] * 8 + [
        "w = torch.ones(2, requires_grad=True)\n", "y = w * 2\ny.backward()\n"]
    cells += ["z = w * 3\nz.backward()\n"]  # cell 12, after cell 11: cell 10 < 11 < 12 as numbers
    (tmp_path / "nb.ipynb").write_text(_notebook(cells))
    for fmt in ("json", "json-lines"):
        r = tl("check", "nb.ipynb", "--output-format", fmt, "--isolated", "--no-cache", cwd=tmp_path)
        data = json.loads(r.stdout) if fmt == "json" else [json.loads(x) for x in r.stdout.splitlines()]
        assert [(d["cell"], d["location"]["row"]) for d in data] == [(11, 2), (12, 2)]
        for d in data:
            edit = d["fix"]["edits"][0]
            assert edit["location"] == {"row": 2, "column": 2}, fmt  # `y|.sum()` on the cell's line 2
    r = tl("check", "nb.ipynb", "--output-format", "concise", "--isolated", "--no-cache", cwd=tmp_path)
    assert [line.split(":")[1] for line in r.stdout.splitlines()[:2]] == ["cell 11", "cell 12"]


def test_notebook_edit_at_a_cell_boundary_maps_to_the_end_of_its_cell():
    from torchlint.workspace import notebook as nbmod

    nb = nbmod.load(_notebook(["a = 1\nb = 2", "c = 3"]))
    lines = nb.source.split("\n")
    assert lines[3].startswith("# torchlint-cell-boundary")
    start_of_boundary = len("\n".join(lines[:3])) + 1
    e = Edit(start_of_boundary, start_of_boundary, "x\n", Location(4, 1), Location(4, 1))
    d = Diagnostic("TL007", "n", "m", "warning", "nb.ipynb", Location(3, 1), Location(3, 6),
                   Fix("f", (e,), "unsafe"))
    mapped = nbmod.map_diagnostic(nb, d, "nb.ipynb")
    assert mapped.filename == "nb.ipynb:cell 1" and mapped.location == Location(2, 1)
    assert mapped.fix.edits[0].location == Location(3, 1)  # after the cell's last line


# -- terminal output -------------------------------------------------------------------


@pytest.mark.parametrize("prefix,cells", [("名前 = ", 7), ("😀 + ", 5), ("e\u0301 = ", 4)])
def test_caret_counts_terminal_cells(prefix, cells):
    line = f"{prefix}y.backward()"
    col = len(prefix) + 1
    d = Diagnostic("TL001", "n", "m", "error", "w.py", Location(1, col), Location(1, col + 12))
    out = reporters.full([d], {"w.py": line + "\n"}).splitlines()
    from rich.cells import cell_len

    assert cell_len(prefix) == cells
    assert out[2] == " " * (len("1 | ") + cells) + "^" * 12


def test_ascii_reports_do_not_import_rich_but_wide_text_does():
    code = ("import sys\nfrom torchlint.report import reporters\nfrom torchlint.diagnostics import *\n"
            "d = Diagnostic('TL001','n','m','error','f.py',Location(1,3),Location(1,4))\n"
            "reporters.full([d], {'f.py': sys.argv[1]})\nprint('rich' in sys.modules)")
    run = [sys.executable, "-c", code]
    assert subprocess.run(run + ["ab.backward()\n"], capture_output=True, text=True).stdout.strip() == "False"
    assert subprocess.run(run + ["名前.backward()\n"], capture_output=True, text=True).stdout.strip() == "True"


def test_concise_is_coloured_when_asked():
    d = diag("a[1].py", message="index [0]")
    out = reporters.concise([d], {}, color=True)
    assert "[bold red]TL001[/bold red]" in out and "a\\[1].py" in out and "index \\[0]" in out
    from rich.console import Console

    console = Console(record=True, force_terminal=True, width=200)
    console.print(out, end="")
    assert console.export_text() == "a[1].py:1:1: TL001 index [0]\n"
    assert reporters.concise([d], {}) == "a[1].py:1:1: TL001 index [0]\n"


def test_concise_is_coloured_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    (tmp_path / "bad.py").write_text(BAD)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    out = []
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "torchlint", "check", "bad.py", "--isolated",
                                   "--no-cache", "--output-format", "concise"], env)
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out.append(chunk)
    os.waitpid(pid, 0)
    text = b"".join(out).decode()
    assert "\x1b[" in text and "TL001" in text


# -- file names of any bytes ------------------------------------------------------------

FORMATS = ["full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit"]


@pytest.fixture
def bad_name(tmp_path):
    if sys.platform == "darwin":  # pragma: no cover - APFS refuses names that are not UTF-8
        pytest.skip("the file system refuses names that are not UTF-8")
    (tmp_path / ".git").mkdir()
    raw = os.fsencode(str(tmp_path)) + b"/bad\xff name.py"
    try:
        with open(raw, "wb") as f:
            f.write(BAD.encode())
    except OSError:  # pragma: no cover
        pytest.skip("the file system refuses names that are not UTF-8")
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_name_that_is_not_utf8_works_in_every_format(bad_name, fmt):
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8:strict")  # a strict UTF-8 terminal
    r = subprocess.run([sys.executable, "-m", "torchlint", "check", ".", "--isolated", "--no-cache",
                        "--output-format", fmt], cwd=bad_name, capture_output=True, env=env, timeout=300)
    assert r.returncode == 1, r.stderr.decode("utf-8", "replace")
    text = r.stdout.decode("utf-8")  # valid UTF-8: no raw bytes, no lone surrogates
    assert "\udcff" not in text and "internal error" not in r.stderr.decode("utf-8", "replace")
    if fmt == "sarif":
        uri = _uri(json.loads(text))
        assert uri == {"uri": "bad%FF%20name.py", "uriBaseId": "%SRCROOT%"}
        assert unquote_to_bytes(uri["uri"]) == b"bad\xff name.py"  # the real bytes, so a viewer finds the file
        return
    if fmt in ("json", "json-lines", "gitlab"):
        data = json.loads(text) if fmt != "json-lines" else [json.loads(text)]
        names = [d["filename"] if "filename" in d else d["location"]["path"] for d in data]
        assert names == ["bad\ufffd name.py"]
        return
    if fmt == "junit":
        ET.fromstring(r.stdout)
    assert "bad\ufffd name.py" in text


def test_display_name_escapes_as_ruff_does():
    assert reporters.display_name("ok.py") == "ok.py"
    assert reporters.display_name("名前.py") == "名前.py"
    assert reporters.display_name(os.fsdecode(b"bad\xff.py")) == "bad\ufffd.py"
    assert reporters.display_name("lone\ud800.py") == "lone\ufffd\ufffd\ufffd.py"
