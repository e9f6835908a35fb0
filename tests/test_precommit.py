"""The pre-commit hook, run by the real pre-commit tool against a temporary repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).backward()\n"
CLEAN = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).sum().backward()\n"


def _bin(name):
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def git(*args, cwd, env=None):
    e = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
             GIT_COMMITTER_EMAIL="t@example.com", **(env or {}))
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=e, timeout=900)


def test_pre_commit_hooks_manifest():
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "torchlint")
    assert hook["entry"] == "torchlint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "pyi", "jupyter"]
    assert hook["require_serial"] is True


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """A snapshot of this checkout (work tree as it is now) as a git repository with one commit."""
    if _bin("pre-commit") is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit, or pip install -e '.[test]')")
    repo = tmp_path_factory.mktemp("hook") / "torchlint"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", "*.egg-info", "__pycache__", ".pytest_cache", ".torchlint_cache", "build", "dist", ".ci-venv",
        "benchmarks", "fixtures"))
    assert git("init", "-q", ".", cwd=repo).returncode == 0
    git("add", "-A", cwd=repo)
    assert git("commit", "-qm", "snapshot", cwd=repo).returncode == 0
    return repo, git("rev-parse", "HEAD", cwd=repo).stdout.strip()


def test_commit_with_a_tl001_bug_is_refused_and_clean_code_passes(hook_repo, tmp_path):
    repo, rev = hook_repo
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", ".", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {repo}
            rev: {rev}
            hooks:
              - id: torchlint
    """))
    (work / "pyproject.toml").write_text('[tool.torchlint]\nextend-exclude = ["vendored"]\n')
    r = subprocess.run([_bin("pre-commit"), "install"], cwd=work, capture_output=True, text=True,
                       env=dict(os.environ, **env), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr

    (work / "train.py").write_text(BAD)
    git("add", "-A", cwd=work)
    r = git("commit", "-m", "add a bug", cwd=work, env=env)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "train.py:3:1: TL001" in out and "Failed" in out, out
    assert git("rev-parse", "--verify", "-q", "HEAD", cwd=work).returncode != 0  # nothing was committed

    (work / "train.py").write_text(CLEAN)
    (work / "notes.py").write_text("print('no trigger words here')\n")
    (work / "vendored").mkdir()
    (work / "vendored" / "third_party.py").write_text(BAD)  # excluded by the config: --force-exclude skips it
    git("add", "-A", cwd=work)
    r = git("commit", "-m", "clean", cwd=work, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "torchlint" in r.stdout + r.stderr and "Passed" in r.stdout + r.stderr


def test_pre_commit_run_on_a_notebook(hook_repo, tmp_path):
    import json

    repo, rev = hook_repo
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", ".", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: {repo}\n    rev: {rev}\n"
                                                  "    hooks:\n      - id: torchlint\n")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": BAD.splitlines(True)}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (work / "nb.ipynb").write_text(json.dumps(nb))
    git("add", "-A", cwd=work)
    r = subprocess.run([_bin("pre-commit"), "run", "--all-files"], cwd=work, capture_output=True, text=True,
                       env=env, timeout=900)
    assert r.returncode == 1 and "nb.ipynb:cell 1:3:1: TL001" in r.stdout, r.stdout + r.stderr


def test_pre_commit_with_a_sub_project_checks_each_file_with_its_own_configuration(hook_repo, tmp_path):
    """The issue's bug, with the real pre-commit: a sub-project that ignores TL001 sorts first among the
    staged files (alpha/ before train.py); the bug in train.py must still refuse the commit."""
    repo, rev = hook_repo
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", ".", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(f"repos:\n  - repo: {repo}\n    rev: {rev}\n"
                                                  "    hooks:\n      - id: torchlint\n")
    (work / "alpha").mkdir()
    (work / "alpha" / "pyproject.toml").write_text('[tool.torchlint]\nignore = ["TL001"]\n')
    (work / "alpha" / "legacy.py").write_text(BAD)  # ignored by its own project's configuration
    (work / "train.py").write_text(BAD)
    r = subprocess.run([_bin("pre-commit"), "install"], cwd=work, capture_output=True, text=True,
                       env=dict(os.environ, **env), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    git("add", "-A", cwd=work)
    r = git("commit", "-m", "a bug next to a sub-project", cwd=work, env=env)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "train.py:3:1: TL001" in out, out
    assert "alpha/legacy.py" not in out, out
    (work / "train.py").write_text(CLEAN)
    git("add", "-A", cwd=work)
    r = git("commit", "-m", "fixed", cwd=work, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
