"""The fork-server oracle itself: outcomes, lines, silencing, timeouts, crashes."""
from __future__ import annotations

import time


def test_clean_program(oracle):
    assert oracle.run_source("import torch\nprint('noise' * 1000)\nx = torch.ones(2).sum()\n").outcome == "clean"


def test_raise_reports_type_message_and_fixture_lines(oracle):
    src = (
        "import torch\n"
        "def f(t):\n"
        "    t.backward()\n"
        "x = torch.ones(3, requires_grad=True) * 2\n"
        "f(x)\n"
    )
    r = oracle.run_source(src)
    assert r.outcome == "raised"
    assert r.type == "RuntimeError"
    assert "grad can be implicitly created only for scalar outputs" in r.message
    assert r.lines == [5, 3]  # only frames in the program, outermost first; torch's own frames are dropped


def test_exit_codes(oracle):
    assert oracle.run_source("import sys\nsys.exit(0)\n").outcome == "clean"
    r = oracle.run_source("import sys\nsys.exit(3)\n")
    assert (r.outcome, r.type, r.message) == ("raised", "SystemExit", "3")


def test_timeout_kills_the_child_and_the_server_goes_on(oracle, tmp_path):
    p = tmp_path / "spin.py"
    p.write_text("while True:\n    pass\n")
    t0 = time.monotonic()
    assert oracle.run(p, timeout=1).outcome == "timeout"
    assert time.monotonic() - t0 < 10
    assert oracle.run_source("x = 1\n").outcome == "clean"


def test_child_that_dies_without_reporting(oracle):
    assert oracle.run_source("import os\nos._exit(5)\n").outcome == "crashed"
    assert oracle.run_source("x = 1\n").outcome == "clean"


def test_effect_global_is_reported(oracle):
    assert oracle.run_source("EFFECT = 1 + 1 == 2\n").effect is True
    assert oracle.run_source("x = 1\n").effect is None


def test_children_do_not_leak_state_into_each_other(oracle):
    assert oracle.run_source("import torch\ntorch.leaked = 1\n").outcome == "clean"
    r = oracle.run_source("import torch\nassert not hasattr(torch, 'leaked')\n")
    assert r.outcome == "clean", r
