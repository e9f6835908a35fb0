"""A tiny smoke run of benchmarks/run.py (numbers are not checked: speed is never a test)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_script_runs(tmp_path):
    (tmp_path / "a.py").write_text("import torch\nx = torch.randn(2, requires_grad=True)\n(x * 2).backward()\n")
    (tmp_path / "b.py").write_text("print('no triggers')\n")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), str(tmp_path), "--runs", "1", "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["files"] == 2 and data["parsed"] == 1 and data["skipped"] == 1
    assert set(data["median_seconds"]) >= {"torchlint cold", "torchlint warm", "libcst parse floor"}
