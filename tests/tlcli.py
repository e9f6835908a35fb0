"""Helpers for the command-line tests: run torchlint as a user would (a subprocess)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BAD = textwrap.dedent("""\
    import torch
    x = torch.randn(3, requires_grad=True)
    y = x * 2  # keep this comment
    y.backward()
""")
FIXED = BAD.replace("y.backward()", "y.sum().backward()")
CLEAN = "import torch\nx = torch.randn(3, requires_grad=True)\n(x * 2).sum().backward()\n"


def tl(*args, cwd=None, input=None, env=None, timeout=300):
    """``python -m torchlint ARGS`` with colour off; returns the CompletedProcess (text mode)."""
    e = dict(os.environ, NO_COLOR="1", **(env or {}))
    e.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "torchlint", *args], cwd=cwd, input=input, capture_output=True,
                          text=True, env=e, timeout=timeout)


@pytest.fixture
def proj(tmp_path):
    """A project: pkg/bad.py (one TL001 at 4:1), pkg/clean.py, pkg/nothing.py (no trigger words)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    (tmp_path / "pkg" / "nothing.py").write_text("print('hello')\n")
    return tmp_path
