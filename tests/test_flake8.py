"""The flake8 plugin: ``flake8 --select TL`` runs torchlint's rules through flake8."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BAD = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).backward()\n"
CLEAN = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).sum().backward()\n"


@pytest.fixture
def flake8():
    exe = shutil.which("flake8", path=str(Path(sys.executable).parent)) or shutil.which("flake8")
    if exe is None:
        pytest.skip("flake8 is not installed (pip install flake8)")
    return exe


def run(flake8, *args, cwd):
    return subprocess.run([flake8, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_flake8_select_tl(flake8, tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / "plain.py").write_text("import os\n")
    r = run(flake8, "--select", "TL", "bad.py", "clean.py", "plain.py", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.splitlines() == [r.stdout.splitlines()[0]]
    assert r.stdout.startswith("bad.py:3:1: TL001 `(x * 2)` has shape (3,)")


def test_flake8_noqa_and_select_one_code(flake8, tmp_path):
    (tmp_path / "bad.py").write_text(BAD.replace("backward()", "backward()  # noqa: TL001"))
    assert run(flake8, "--select", "TL", "bad.py", cwd=tmp_path).returncode == 0
    (tmp_path / "bad.py").write_text(BAD)
    assert run(flake8, "--select", "TL002", "bad.py", cwd=tmp_path).returncode == 0
    assert run(flake8, "--select", "TL001", "bad.py", cwd=tmp_path).returncode == 1
    assert run(flake8, "--select", "TL", "--extend-ignore", "TL001", "bad.py", cwd=tmp_path).returncode == 0


def test_flake8_syntax_error_is_flake8s_own(flake8, tmp_path):
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n    x.backward()\n")
    r = run(flake8, "--select", "TL,E999", "broken.py", cwd=tmp_path)
    assert "E999" in r.stdout and "Traceback" not in r.stderr and "TL" not in r.stdout


def test_plugin_class_directly():
    from torchlint.flake8_plugin import TorchlintChecker

    found = list(TorchlintChecker(None, "m.py", BAD.splitlines(True)).run())
    assert [(row, col, msg.split()[0]) for row, col, msg, _ in found] == [(3, 0, "TL001")]
    assert list(TorchlintChecker(None, "m.py", ["import os\n"]).run()) == []
