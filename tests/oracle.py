"""Run fixture programs with real PyTorch, fast.

``import torch`` costs seconds, so one server process imports it once and then
forks a child per program.  The child runs the file as ``__main__`` with its
output silenced and reports how it ended: clean, or the exception's type, its
message, and the lines of the program that were on the traceback.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SERVER = r'''
import json, os, runpy, select, signal, sys, traceback
import torch
torch.set_num_threads(1)
# Warm up what fixtures load lazily (optimizer.step() pulls in torch._dynamo, about
# 1.2 s): imported once here, shared by every forked child.
for _mod in ("torch._dynamo", "torch.func", "torch.autograd.functional", "torch.nn.parallel"):
    try:
        __import__(_mod)
    except Exception:
        pass
out = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    path, timeout = req["path"], req.get("timeout", 20)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1); os.dup2(devnull, 2)
        sys.argv = [path]
        sys.path[:0] = req.get("sys_path", [])  # a project's roots (fixtures/projects), as `pip install -e` would
        result = {"outcome": "clean"}
        try:
            ns = runpy.run_path(path, run_name="__main__")
            if "EFFECT" in ns:
                result["effect"] = bool(ns["EFFECT"])
        except SystemExit as e:
            if e.code not in (None, 0):
                result = {"outcome": "raised", "type": "SystemExit", "message": str(e.code), "lines": []}
        except BaseException as e:
            tb = traceback.extract_tb(e.__traceback__)
            lines = [f.lineno for f in tb if os.path.abspath(f.filename) == os.path.abspath(path)]
            result = {"outcome": "raised", "type": type(e).__name__, "message": str(e), "lines": lines}
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        result = {"outcome": "timeout"}
    else:
        chunks = []
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        os.waitpid(pid, 0)
        try:
            result = json.loads(b"".join(chunks) or b'{"outcome": "crashed"}')
        except ValueError:
            result = {"outcome": "crashed"}
    out.write(json.dumps(result) + "\n")
    out.flush()
'''


@dataclass
class Outcome:
    outcome: str  # 'clean', 'raised', 'timeout', 'crashed'
    type: str = ""
    message: str = ""
    lines: list = field(default_factory=list)
    effect: object = None  # the fixture's EFFECT global, for '# oracle: effect' fixtures

    def __str__(self) -> str:
        if self.outcome == "raised":
            return f"raised {self.type}: {self.message} (lines {self.lines})"
        return self.outcome


def torch_available(python: str = sys.executable) -> bool:
    try:
        return subprocess.run([python, "-c", "import torch"], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Oracle:
    def __init__(self, python: str = sys.executable):
        self.proc = subprocess.Popen([python, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.tmp = tempfile.TemporaryDirectory(prefix="torchlint-oracle-")

    def run(self, path, timeout: float = 20, sys_path=()) -> Outcome:
        req = {"path": str(Path(path).resolve()), "timeout": timeout}
        if sys_path:
            req["sys_path"] = [str(p) for p in sys_path]
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the oracle server died")
        return Outcome(**json.loads(line))

    def run_source(self, source: str, name: str = "program.py") -> Outcome:
        path = Path(self.tmp.name) / name
        path.write_text(source, encoding="utf-8")
        return self.run(path)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.tmp.cleanup()
