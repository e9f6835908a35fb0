"""Multi-file projects (fixtures/projects/<name>/): findings that need the project's other modules.

Each project has an entry point, ``main.py``, whose ``# expect:`` annotations
are the findings; every other file of the project runs clean under torchlint.
Three ways, as for single-file fixtures: the static findings of ``torchlint
check`` on the project directory equal the annotations; real torch, running
``main.py`` with the project's roots on ``sys.path``, raises the predicted error
on the annotated line (or runs clean); and applying the fixes makes it run and
lint clean.  Then every entry point: a single file named alone, ``--stdin-filename``,
and the cache (a warm run sees an edit to an imported module).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from test_fixtures import annotations
from torchlint import registry

PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if (p / "main.py").is_file())


def _ids(paths):
    return [p.name for p in paths]


def _check(*args, cwd=None, stdin=None) -> list:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "torchlint", "check", "--select", "ALL", "--output-format", "json",
                          "--exit-zero", *args], capture_output=True, text=True, cwd=cwd, input=stdin, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout or "[]")


def _expected(project: Path) -> set:
    found = set()
    for path in sorted(project.rglob("*.py")):
        for line, code, _ in annotations(path.read_text(encoding="utf-8")):
            found.add((path.relative_to(project).as_posix(), line, code))
    return found


def _roots(project: Path) -> list:
    return [project] + ([project / "src"] if (project / "src").is_dir() else [])


def test_there_are_enough_projects():
    flagged = [p for p in PROJECTS if _expected(p)]
    assert len(PROJECTS) >= 12 and len(flagged) * 2 == len(PROJECTS), [p.name for p in flagged]


@pytest.mark.parametrize("project", PROJECTS, ids=_ids(PROJECTS))
def test_static_findings_equal_annotations(project: Path):
    got = _check("--no-cache", ".", cwd=project)
    found = {(d["filename"].removeprefix("./"), d["location"]["row"], d["code"]) for d in got}
    assert found == _expected(project), "\n".join(f"{d['filename']}:{d['location']['row']}: {d['message']}" for d in got)


@pytest.mark.parametrize("project", PROJECTS, ids=_ids(PROJECTS))
def test_real_torch_agrees(project: Path, oracle):
    expected = sorted((line, code) for f, line, code in _expected(project) if f == "main.py")
    result = oracle.run(project / "main.py", sys_path=_roots(project))
    if not expected:
        assert result.outcome == "clean", f"expected a clean run, got {result}"
        return
    line, code = expected[0]
    exc_type, fragment = registry.get_rule(code).runtime_error
    assert result.outcome == "raised" and result.type == exc_type and fragment in result.message, str(result)
    assert line in result.lines, f"expected the error at line {line}, traceback lines {result.lines}"


FLAGGED = [p for p in PROJECTS if _expected(p)]


@pytest.mark.parametrize("project", FLAGGED, ids=_ids(FLAGGED))
def test_fixes_run_clean_and_lint_clean(project: Path, oracle, tmp_path):
    copy = tmp_path / project.name
    shutil.copytree(project, copy)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "torchlint", "check", "--no-cache", "--fix", "--unsafe-fixes", "--exit-zero",
                    "."], cwd=copy, env=env, capture_output=True, check=True)
    assert _check("--no-cache", ".", cwd=copy) == []
    result = oracle.run(copy / "main.py", sys_path=_roots(copy))
    assert result.outcome == "clean", str(result)


def test_a_single_file_still_reads_the_modules_it_imports():
    """A pre-commit run that stages only main.py: pkg/losses.py is read from disk."""
    project = FIXTURES / "projects" / "factory_criterion"
    got = _check("--no-cache", "main.py", cwd=project)
    assert [(d["filename"], d["location"]["row"]) for d in got] == [("main.py", 11)]
    assert "built with reduction='none' in pkg/losses.py:8" in got[0]["message"]


def test_stdin_filename_resolves_from_the_given_name(tmp_path):
    project = FIXTURES / "projects" / "src_layout"
    source = (project / "main.py").read_text(encoding="utf-8")
    got = _check("--stdin-filename", str(project / "main.py"), "-", stdin=source, cwd=tmp_path)
    assert [d["location"]["row"] for d in got] == [10]
    assert "src/mylib/objective.py:4" in got[0]["message"]


def test_a_notebook_resolves_from_its_directory(tmp_path):
    project = tmp_path / "nbproj"
    shutil.copytree(FIXTURES / "projects" / "factory_criterion", project)
    source = (project / "main.py").read_text(encoding="utf-8")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": source.splitlines(keepends=True)}
    (project / "train.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                     "nbformat_minor": 5}), encoding="utf-8")
    got = _check("--no-cache", "train.ipynb", cwd=project)
    assert [d["code"] for d in got] == ["TL001"]


def test_a_warm_run_sees_an_edit_to_an_imported_module(tmp_path):
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "projects" / "factory_criterion_clean", project)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert _check(*cache, ".", cwd=project) == []
    assert _check(*cache, ".", cwd=project) == []  # warm
    losses = project / "pkg" / "losses.py"
    losses.write_text(losses.read_text(encoding="utf-8").replace('"mean"', '"none"'), encoding="utf-8")
    got = _check(*cache, ".", cwd=project)  # main.py did not change; what it imports did
    assert [(d["filename"].removeprefix("./"), d["code"]) for d in got] == [("main.py", "TL001")]
    # and back: the finding goes away again, still with main.py untouched
    time.sleep(0.01)
    losses.write_text(losses.read_text(encoding="utf-8").replace('"none"', '"mean"'), encoding="utf-8")
    assert _check(*cache, ".", cwd=project) == []


def test_outside_the_project_nothing_is_read(tmp_path):
    """A script with no project around it: an import that names no file of it stays unknown (no finding)."""
    (tmp_path / "main.py").write_text(
        "import torch\nfrom missing_pkg.losses import build_criterion\n"
        "criterion = build_criterion()\nloss = criterion(torch.randn(4, 2), torch.randn(4, 2))\nloss.backward()\n",
        encoding="utf-8")
    assert _check("--no-cache", "main.py", cwd=tmp_path) == []


def test_resolution_rules(tmp_path):
    from torchlint.workspace import modules

    (tmp_path / "setup.cfg").write_text("", encoding="utf-8")
    (tmp_path / "src" / "lib" / "sub").mkdir(parents=True)
    for rel in ("src/lib/__init__.py", "src/lib/sub/__init__.py", "src/lib/sub/mod.py", "scripts/run.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    roots = modules.roots_for(str(tmp_path / "src" / "lib" / "sub" / "mod.py"))
    assert roots == (str(tmp_path / "src"), str(tmp_path))
    finder = modules.Finder(modules.roots_for(str(tmp_path / "scripts" / "run.py")))
    assert finder.find("lib.sub.mod").path == str(tmp_path / "src" / "lib" / "sub" / "mod.py")
    assert finder.find("lib.sub").is_package and finder.find("torch") is None and finder.find("os") is None
    assert modules.module_name(str(tmp_path / "src" / "lib" / "sub" / "mod.py"), roots) == ("lib.sub.mod", False)
    assert modules.resolve_relative("lib.sub.mod", False, 1, "other") == "lib.sub.other"
    assert modules.resolve_relative("lib.sub.mod", False, 2, None) == "lib"
    assert modules.resolve_relative("lib.sub", True, 1, "mod") == "lib.sub.mod"
    assert modules.resolve_relative("lib", False, 3, "x") is None


def test_src_setting_adds_import_roots(tmp_path):
    (tmp_path / "libs" / "mylib").mkdir(parents=True)
    (tmp_path / "app").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.torchlint]\nsrc = ["libs"]\n', encoding="utf-8")
    (tmp_path / "libs" / "mylib" / "__init__.py").write_text(
        'import torch.nn as nn\ncriterion = nn.MSELoss(reduction="none")\n', encoding="utf-8")
    (tmp_path / "app" / "train.py").write_text(
        "import torch\nfrom mylib import criterion\n"
        "loss = criterion(torch.randn(3, requires_grad=True), torch.randn(3))\nloss.backward()\n", encoding="utf-8")
    got = _check("--no-cache", "app/train.py", cwd=tmp_path)
    assert [d["location"]["row"] for d in got] == [4] and "libs/mylib/__init__.py:2" in got[0]["message"]
    (tmp_path / "pyproject.toml").write_text("[tool.torchlint]\n", encoding="utf-8")
    assert _check("--no-cache", "app/train.py", cwd=tmp_path) == []  # without it, mylib is not the project's


def test_a_method_parsed_when_called_names_its_line():
    """Engine's long methods are parsed only when called (analysis/deferred.py); the message still names the
    line of the method's body where the criterion was built."""
    project = FIXTURES / "projects" / "deferred_method"
    got = _check("--no-cache", "main.py", cwd=project)
    assert [(d["filename"], d["location"]["row"]) for d in got] == [("main.py", 11)]
    assert "built with reduction='none' in pkg/engine.py:25" in got[0]["message"]
