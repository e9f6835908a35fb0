"""Code that would make a naive constant folder stall or crash the run.

Found by running torchlint over CPython's own library with a backward() call
appended to every file: hexadecimal range() bounds crashed TL008, and a
range() past sys.maxsize crashed the interpreter."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from torchlint.engine import lint_source

HOSTILE = textwrap.dedent("""\
    import torch
    a = 10 ** 10 ** 10
    b = "x" * 10 ** 9
    c = 10 ** 63
    d = c ** 63
    e = d ** 63
    f = e ** 63
    h = [0] * 10 ** 9
    for i in range(10 ** 30):
        pass
    for j in range(0x10):
        pass
    for k in range(0o2, 0x8):
        pass
    big = 123456789012345678901234567890 ** 40
    x = torch.ones(3, requires_grad=True)
    (x * 2).backward()
    """)


def test_huge_constants_are_left_unknown_quickly():
    # in a subprocess with a timeout: a regression here would hang, not fail
    code = ("import sys; from torchlint.engine import lint_source; "
            "print([(d.code, d.location.row) for d in lint_source(sys.stdin.read(), '<h>', "
            "select=['TL001','TL002','TL003','TL004','TL005','TL006','TL007','TL008'])])")
    r = subprocess.run([sys.executable, "-c", code], input=HOSTILE, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[('TL001', 17)]"


def test_hex_and_octal_range_bounds_in_tl008():
    src = textwrap.dedent("""\
        import torch
        w = torch.ones(2, requires_grad=True)
        y = (w * w).sum()
        for i in range(0x2):
            y.backward()  # second pass through a freed graph
        """)
    assert [(d.code, d.location.row) for d in lint_source(src, "<t>", select=["TL008"])] == [("TL008", 5)]


def test_code_python_accepts_but_libcst_does_not_is_reported_as_such():
    import pytest

    from torchlint.diagnostics import SourceError

    src = "import torch\n\n(pars): bool = True\nx = torch.ones(2, requires_grad=True)\n(x * 2).backward()\n"
    compile(src, "<t>", "exec")  # valid Python
    with pytest.raises(SourceError) as e:
        lint_source(src, "<t>")
    assert "LibCST" in e.value.message and "although Python can" in e.value.message
    assert (e.value.location.row, e.value.location.column) == (3, 9)
