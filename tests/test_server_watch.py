"""``torchlint check --watch``: edit a watched file, and a new report appears."""
from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("watchfiles")

CLEAN = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * x).sum().backward()\n"
BUGGY = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * x).backward()\n"


class Watcher:
    def __init__(self, args, cwd):
        self.proc = subprocess.Popen([sys.executable, "-m", "torchlint", "check", "--watch", *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> list:
        """The lines printed until one containing ``text``."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            seen.append(line)
            if text in line:
                return seen
        raise AssertionError(f"no line with {text!r} in {timeout} s; got: {''.join(seen)!r}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def test_watch_reports_again_after_an_edit(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(CLEAN)
    w = Watcher(["--output-format", "concise", "--no-cache", "--select", "TL001", "."], tmp_path)
    try:
        first = w.wait_for("Watching for file changes.")
        assert any("All checks passed!" in line for line in first)
        time.sleep(0.3)  # let the watcher settle before the edit
        target.write_text(BUGGY)
        report = w.wait_for("Watching for file changes.")
        assert any("File change detected" in line for line in report)
        assert any("train.py:3:1: TL001" in line for line in report)
        # a change torchlint does not read (not Python, not configuration) starts no run
        (tmp_path / "notes.txt").write_text("hello\n")
        time.sleep(1.0)
        assert w.lines.empty()
        target.write_text(CLEAN)
        again = w.wait_for("Watching for file changes.")
        assert any("All checks passed!" in line for line in again)
    finally:
        w.stop()


def test_watch_refuses_stdin(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "torchlint", "check", "--watch", "--stdin-filename", "a.py"],
                          input="", capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "--watch cannot be combined with --stdin-filename" in proc.stderr
