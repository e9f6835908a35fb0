"""A small deterministic slice of the fuzz harness (benchmarks/fuzz.py) in CI: a few hundred mutated fixtures
and, when hypothesmith is installed, generated programs; none may crash, hang, or get a corrupt fix."""
from __future__ import annotations

import importlib.util
import os
import random
import signal
import sys

import pytest

from tlcli import ROOT

spec = importlib.util.spec_from_file_location("fuzz", ROOT / "benchmarks" / "fuzz.py")
fuzz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz)


def test_a_deterministic_slice_finds_nothing(tmp_path):
    try:
        import hypothesmith  # noqa: F401
        generated = 15
    except ImportError:
        generated = 0
    summary = fuzz.run(count=200, seed=2026, corpora=[], generated=generated, timeout=10.0, keep=tmp_path / "kept",
                       batch=200)
    assert summary["inputs"] == 200
    assert (summary["crashes"], summary["hangs"], summary["corrupt_fixes"], summary["wrong_exit_codes"],
            summary["internal_errors"]) == (0, 0, 0, 0, 0), summary["failures"]
    assert summary["fixed_files"] > 0 and summary["refused"] > 0  # the slice reaches both paths


def test_mutations_are_reproducible_from_the_seed():
    data = (ROOT / "fixtures" / "tl001" / "seed_vector_product.py").read_bytes()
    one = [fuzz.mutate(data, random.Random(7)) for _ in range(3)]
    two = [fuzz.mutate(data, random.Random(7)) for _ in range(3)]
    assert one == two
    outs = {fuzz.mutate(data, random.Random(s))[0] for s in range(40)}
    assert len(outs) > 30


def test_splice_puts_an_autograd_call_into_the_program():
    rng = random.Random(3)
    out = fuzz.splice("def f(a):\n    b = a\n    return b\n", rng)
    assert "import torch" in out or "backward" in out or "grad" in out
    compile(fuzz.splice("x = 1\n", random.Random(0)), "<s>", "exec")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_worker_that_dies_is_a_crash_and_one_that_stalls_is_a_hang(tmp_path):
    p = tmp_path / "a.py"
    p.write_text(fuzz.BUG)
    w = fuzz.Worker()
    try:
        kind, res = w.run(p, timeout=60)
        assert kind == "ok" and res["codes"] == ["TL001"] and res["fixed"], res
        os.kill(w.proc.pid, signal.SIGSEGV)
        w.proc.wait()
        assert w.run(p, timeout=10)[0] == "crash"
    finally:
        w.close()
    w = fuzz.Worker()
    try:
        os.kill(w.proc.pid, signal.SIGSTOP)
        assert w.run(p, timeout=1)[0] == "hang"
    finally:
        w.close()
