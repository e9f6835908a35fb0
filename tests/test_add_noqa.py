"""``torchlint check --add-noqa``: silence existing findings in place, as Ruff's flag does."""
from __future__ import annotations

import json

from tlcli import BAD, tl
from torchlint.diagnostics import Diagnostic, Location
from torchlint.report.suppression import add_noqa


def _d(row, code="TL001"):
    return Diagnostic(code, "n", "m", "error", "f.py", Location(row, 1), Location(row, 1))


def test_comment_goes_on_the_statement_last_line_and_merges_codes():
    src = ("a = 1\nx = (foo(\n   1))\ny.backward()  # noqa: TL008\nz.backward()  # noqa\n"
           "w.backward()  # keep me\r\nv = 2\n")
    out, n = add_noqa(src, [_d(2), _d(4), _d(5), _d(6), _d(6, "TL008"), _d(1, "E999"), _d(7, "TL999")])
    assert out == ("a = 1\nx = (foo(\n   1))  # noqa: TL001\ny.backward()  # noqa: TL001, TL008\n"
                   "z.backward()  # noqa\nw.backward()  # keep me  # noqa: TL001, TL008\r\nv = 2\n")
    assert n == 3
    assert add_noqa(out, [_d(2), _d(4), _d(6)]) == (out, 0)  # nothing left to add


def test_cli_adds_comments_keeps_encoding_and_line_endings(tmp_path):
    latin = "# -*- coding: latin-1 -*-\n# café\n" + BAD.replace("\n", "\r\n")
    (tmp_path / "a.py").write_bytes(latin.encode("latin-1"))
    (tmp_path / "b.py").write_text(BAD)
    r = tl("check", "--add-noqa", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Added 2 noqa directives." in r.stderr
    data = (tmp_path / "a.py").read_bytes()
    assert data.decode("latin-1").startswith("# -*- coding: latin-1 -*-\n# café\n")
    assert b"y.backward()  # noqa: TL001\r\n" in data  # CRLF kept
    assert data.count(b"\r\n") == BAD.count("\n")
    assert tl("check", ".", cwd=tmp_path).returncode == 0
    r = tl("check", "--add-noqa", ".", cwd=tmp_path)
    assert r.returncode == 0 and "Added 0 noqa directives." in r.stderr


def test_add_noqa_leaves_what_it_cannot_silence(tmp_path):
    (tmp_path / "bad.py").write_text("import torch\ndef f(:\n    x.backward()\n")
    r = tl("check", "--add-noqa", "bad.py", "--output-format", "json", cwd=tmp_path)
    assert r.returncode == 1
    assert [d["code"] for d in json.loads(r.stdout)] == ["E999"]
    assert (tmp_path / "bad.py").read_text() == "import torch\ndef f(:\n    x.backward()\n"


def test_add_noqa_with_fix_is_a_usage_error(tmp_path):
    (tmp_path / "b.py").write_text(BAD)
    r = tl("check", "--add-noqa", "--fix", ".", cwd=tmp_path)
    assert r.returncode == 2 and "--add-noqa cannot be combined" in r.stderr
    assert (tmp_path / "b.py").read_text() == BAD
