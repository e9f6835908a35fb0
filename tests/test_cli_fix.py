"""``torchlint check --fix`` on disk: encodings, line endings, file mode, rollback, the fixtures."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tlcli import BAD, FIXED, ROOT, proj, tl  # noqa: F401  (proj is a fixture)


def test_fix_keeps_crlf_comments_mode_and_is_idempotent(proj):
    p = proj / "pkg" / "bad.py"
    p.write_bytes(BAD.replace("\n", "\r\n").encode())
    p.chmod(0o754)
    r = tl("check", "pkg/bad.py", "--fix", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "Found 1 problem (1 fixed, 0 remaining).\n"
    data = p.read_bytes()
    assert data == FIXED.replace("\n", "\r\n").encode()
    assert (p.stat().st_mode & 0o777) == 0o754
    r = tl("check", "pkg/bad.py", "--fix", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")
    assert p.read_bytes() == data
    assert not [x for x in p.parent.iterdir() if x.name.endswith(".torchlint")]  # no temp files left behind


def test_fix_keeps_bom_latin1_cookie_and_missing_final_newline(proj):
    bom = proj / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + BAD.encode())
    latin = proj / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n" + BAD.replace("keep this comment", "caf\xe9").encode("latin-1"))
    tail = proj / "tail.py"
    tail.write_bytes(BAD.rstrip("\n").encode())
    r = tl("check", "bom.py", "latin.py", "tail.py", "--fix", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Found 3 problems (3 fixed, 0 remaining)." in r.stdout
    assert bom.read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()
    assert latin.read_bytes() == (b"# -*- coding: latin-1 -*-\n"
                                  + FIXED.replace("keep this comment", "caf\xe9").encode("latin-1"))
    assert tail.read_bytes() == FIXED.rstrip("\n").encode()


def test_fix_reports_what_is_left(tmp_path):
    src = BAD + "z = torch.randn(3, requires_grad=True).detach()\nz.sum().backward()\n"
    (tmp_path / "m.py").write_text(src)
    r = tl("check", "m.py", "--fix", "--output-format", "concise", cwd=tmp_path)
    assert r.returncode == 1
    assert "m.py:6:1: TL005" in r.stdout and "TL001" not in r.stdout
    assert "Found 2 problems (1 fixed, 1 remaining)." in r.stdout
    assert "y.sum().backward()" in (tmp_path / "m.py").read_text()


def test_fix_of_a_read_only_directory_is_an_error_not_a_crash(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write into read-only directories")
    d = tmp_path / "ro"
    d.mkdir()
    (d / "m.py").write_text(BAD)
    d.chmod(0o555)
    try:
        r = tl("check", "ro", "--fix", cwd=tmp_path)
    finally:
        d.chmod(0o755)
    assert r.returncode == 2 and "cannot write the fixed file" in r.stderr
    assert (d / "m.py").read_text() == BAD


def test_fix_on_notebook_writes_back_into_the_cell(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["import torch\n", "x = torch.randn(3, requires_grad=True)"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["y = x * 2\n", "y.backward()"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(nb, indent=1) + "\n")
    r = tl("check", "nb.ipynb", "--diff", cwd=tmp_path)
    assert r.returncode == 1 and '-    "y.backward()"' in r.stdout and '+    "y.sum().backward()"' in r.stdout
    assert tl("check", "nb.ipynb", "--fix", cwd=tmp_path).returncode == 0
    nb["cells"][1]["source"][1] = "y.sum().backward()"
    assert p.read_text() == json.dumps(nb, indent=1) + "\n"  # only the fixed line changed


def _fixture_copy(tmp_path) -> Path:
    dst = tmp_path / "fixtures"
    shutil.copytree(ROOT / "fixtures", dst)
    return dst


def _predicted(outcome) -> bool:
    """Is this the failure some rule predicts (the one its fix should have removed)?"""
    from torchlint import registry

    for rule in registry.all_rules():
        err = getattr(rule, "runtime_error", None)
        if err and outcome.type == err[0] and err[1] in outcome.message:
            return True
    return False


def test_fix_on_all_fixtures_runs_clean_under_torch_and_is_idempotent(tmp_path, oracle):
    """--fix --unsafe-fixes over every fixture, through the CLI: every fixed program that lints
    clean runs clean under real torch, and a second --fix changes no byte."""
    fx = _fixture_copy(tmp_path)
    before = {p: p.read_bytes() for p in fx.rglob("*.py")}
    r = tl("check", "fixtures", "--fix", "--unsafe-fixes", "--select", "ALL", "--no-cache", "--output-format",
           "json", cwd=tmp_path, timeout=900)
    assert r.returncode in (0, 1), r.stderr
    remaining = {Path(d["filename"]).resolve() for d in json.loads(r.stdout)}
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    assert len(changed) >= 40, f"only {len(changed)} fixtures were changed by --fix"
    failures = []
    for p in changed:
        if p.resolve() in remaining:
            continue  # a finding without a fix is left; the program may still raise for it
        if "projects" in p.relative_to(fx).parts:
            continue  # a multi-file project runs with its roots on the path: tests/test_projects.py
        outcome = oracle.run(p)
        if outcome.outcome != "clean":
            if "real" in p.relative_to(fx).parts and outcome.outcome == "raised" and not _predicted(outcome):
                continue  # a real program may fail later for another reason; the fixed failures are gone
            failures.append(f"{p.relative_to(tmp_path)}: {outcome}")
    assert not failures, "\n".join(failures)
    after = {p: p.read_bytes() for p in fx.rglob("*.py")}
    r = tl("check", "fixtures", "--fix", "--unsafe-fixes", "--select", "ALL", "--no-cache", "-q", cwd=tmp_path,
           timeout=900)
    assert {p: p.read_bytes() for p in fx.rglob("*.py")} == after, "a second --fix changed files again"
    r = tl("check", "fixtures", "--diff", "--unsafe-fixes", "--select", "ALL", "--no-cache", cwd=tmp_path,
           timeout=900)
    assert r.stdout == "" and r.returncode == 0
