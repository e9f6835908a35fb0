"""Bad input never stops the run; excludes, .gitignore and --force-exclude decide what is checked."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from tlcli import BAD, proj, tl  # noqa: F401  (proj is a fixture)


def test_bad_inputs_never_stop_the_run(proj):
    (proj / "pkg" / "syntax.py").write_text("import torch\ndef f(:\n    x.backward()\n")
    (proj / "pkg" / "undecodable.py").write_bytes(b"x = '\xff\xfe'\nx.backward()\n")
    (proj / "pkg" / "badcookie.py").write_bytes(b"# -*- coding: klingon -*-\nx.backward()\n")
    (proj / "pkg" / "deep.py").write_text("x = " + "(" * 3000 + "1" + ")" * 3000 + "\nx.backward()\n")
    (proj / "pkg" / "nul.py").write_bytes(b"x = 1\x00\nx.backward()\n")
    (proj / "pkg" / "empty.py").write_text("")
    (proj / "pkg" / "notebook.ipynb").write_text("{not json backward(")
    (proj / "pkg" / "loop").symlink_to(proj / "pkg", target_is_directory=True)
    (proj / "pkg" / "broken.py").symlink_to(proj / "missing.py")
    r = tl("check", "pkg", "missing_dir", "--output-format", "concise", cwd=proj)
    out = r.stdout
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert "pkg/syntax.py:2:7: E999 SyntaxError: invalid syntax" in out
    assert "pkg/undecodable.py:1:1: E902 cannot decode the file" in out
    assert "pkg/badcookie.py:1:1: E902 cannot decode the file" in out
    assert any(l.startswith("pkg/deep.py:1:") and " E999 " in l for l in out.splitlines())  # CPython's message
    assert "pkg/nul.py:1:1: E999 SyntaxError: source code string cannot contain null bytes" in out
    assert "pkg/notebook.ipynb:1:1: E902 not a valid Jupyter notebook" in out
    assert "missing_dir:1:1: E902 missing_dir: No such file or directory" in out
    assert "pkg/loop:1:1: E902 pkg/loop: directory loop (a symbolic link points back to a parent); skipped" in out
    assert "pkg/broken.py:1:1: E902 pkg/broken.py: broken symbolic link" in out
    assert "pkg/bad.py:4:1: TL001" in out  # the good findings are still there
    assert "empty.py" not in out
    assert tl("check", "pkg/broken.py", cwd=proj).stdout.startswith("pkg/broken.py:1:1: E902 pkg/broken.py: broken "
                                                                   "symbolic link")


def test_syntax_error_in_full_format_shows_where(proj):
    (proj / "pkg" / "syntax.py").write_text("import torch\ndef f(:\n    x.backward()\n")
    out = tl("check", "pkg/syntax.py", cwd=proj).stdout
    assert out.splitlines()[:4] == ["pkg/syntax.py:2:7: E999 SyntaxError: invalid syntax", "1 | import torch",
                                    "2 | def f(:", "          ^"]


def _invoke(args, cwd):
    from torchlint.cli import cli

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_unreadable_file_is_a_diagnostic(proj, monkeypatch):
    """As root, chmod 0 does not stop reads, so the read itself is made to fail."""
    from pathlib import Path

    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "bad.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    r = _invoke(["check", "pkg", "--output-format", "concise", "--no-cache", "--jobs", "1"], proj)
    assert r.exit_code == 1
    assert "pkg/bad.py:1:1: E902 cannot read the file: Permission denied" in r.output


def test_unwritable_fix_is_reported_and_the_file_kept(proj, monkeypatch):
    import torchlint.runner as runner

    def fail(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(runner, "write_atomic", fail)
    r = _invoke(["check", "pkg/bad.py", "--fix", "--no-cache", "--jobs", "1"], proj)
    assert r.exit_code == 2
    assert "torchlint: error: pkg/bad.py: cannot write the fixed file" in r.output
    assert (proj / "pkg" / "bad.py").read_text() == BAD


def test_internal_error_in_a_rule_is_reported_and_exits_2(proj, monkeypatch):
    from torchlint.registry import get_rule

    rule = get_rule("TL001")

    def boom(self, ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(rule, "check", boom)
    (proj / "pkg" / "loop.py").write_text(
        "import torch\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for step in range(3):\n    loss = model(torch.randn(4, 2)).mean()\n    loss.backward()\n    opt.step()\n")
    r = _invoke(["check", "pkg", "--output-format", "concise", "--no-cache", "--jobs", "1"], proj)
    assert r.exit_code == 2
    assert "pkg/bad.py:1:1: TL999 internal error in rule TL001 (backward-non-scalar): ZeroDivisionError: boom" in r.output
    assert "pkg/loop.py:6:5: TL007 " in r.output  # the other rules' findings are still there


def test_fix_that_would_break_syntax_is_rolled_back(proj, monkeypatch):
    """A fix-it that produces invalid code: the file is left as it was and the user is told why."""
    import torchlint.engine as engine
    from torchlint.diagnostics import Edit, Fix

    real = engine.lint_source

    def lint_source(source, path="<string>", *, select=None, **_):  # deps=, facts= of the runner
        out = []
        for d in real(source, path, select=select):
            if d.fix:
                e = d.fix.edits[0]
                d = type(d)(**{**d.__dict__, "fix": Fix(d.fix.message, (Edit(e.start, e.end, ".sum((", e.location,
                                                                           e.end_location),), "safe")})
            out.append(d)
        return out

    monkeypatch.setattr(engine, "lint_source", lint_source)
    r = _invoke(["check", "pkg/bad.py", "--fix", "--no-cache", "--jobs", "1"], proj)
    assert r.exit_code == 2
    assert "torchlint: error: pkg/bad.py: the fix for TL001 at 4:1 would have produced invalid code" in r.output
    assert "rolled back" in r.output
    assert (proj / "pkg" / "bad.py").read_text() == BAD


def test_excludes_and_gitignore(proj):
    (proj / "venv").mkdir()
    (proj / "venv" / "bad.py").write_text(BAD)
    (proj / "node_modules").mkdir()
    (proj / "node_modules" / "bad.py").write_text(BAD)
    (proj / "gen").mkdir()
    (proj / "gen" / "bad.py").write_text(BAD)
    (proj / "pkg" / "scratch_bad.py").write_text(BAD)
    (proj / ".gitignore").write_text("gen/\n")
    (proj / "pkg" / ".gitignore").write_text("scratch_*.py\n")
    (proj / ".git").mkdir()
    r = tl("check", ".", "--output-format", "concise", cwd=proj)
    assert r.stdout.splitlines()[:-1] == [l for l in r.stdout.splitlines()[:-1] if l.startswith("pkg/bad.py:")]
    r = tl("check", ".", "--no-respect-gitignore", "--output-format", "concise", cwd=proj)
    assert "gen/bad.py" in r.stdout and "pkg/scratch_bad.py" in r.stdout and "venv/" not in r.stdout
    # the root .gitignore also applies when checking from a subdirectory
    r = tl("check", ".", "--output-format", "concise", cwd=proj / "pkg")
    assert "scratch_bad.py" not in r.stdout and r.stdout.startswith("bad.py:4:1")
    # explicitly named files are checked unless --force-exclude
    assert "venv/bad.py:4:1: TL001" in tl("check", "venv/bad.py", cwd=proj).stdout
    assert "gen/bad.py:4:1: TL001" in tl("check", "gen/bad.py", cwd=proj).stdout
    assert tl("check", "venv/bad.py", "--force-exclude", cwd=proj).returncode == 0
    assert tl("check", "gen/bad.py", "--force-exclude", cwd=proj).returncode == 0
    assert tl("check", "pkg/bad.py", "--force-exclude", cwd=proj).returncode == 1
    assert tl("check", ".", "--extend-exclude", "pkg", cwd=proj).returncode == 0
    assert tl("check", ".", "--exclude", "pkg", "--output-format", "concise", cwd=proj).stdout.count("venv/bad.py") == 1


def test_excludes_from_config(proj):
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nextend-exclude = ["pkg/bad.py"]\nforce-exclude = true\n')
    assert tl("check", ".", cwd=proj).returncode == 0
    assert tl("check", "pkg/bad.py", cwd=proj).returncode == 0  # force-exclude from the config
    assert tl("check", "pkg/bad.py", "--no-force-exclude", cwd=proj).returncode == 1


def test_double_star_exclude_covers_zero_directories(tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "deep").mkdir()
    for p in ("gen/a_pb2.py", "gen/deep/b_pb2.py", "keep.py"):
        (tmp_path / p).write_text(BAD)
    r = tl("check", ".", "--extend-exclude", "gen/**/*_pb2.py", "--output-format", "concise", cwd=tmp_path)
    files = sorted({l.split(":")[0] for l in r.stdout.splitlines() if "TL001" in l})
    assert files == ["keep.py"]


def test_file_types(tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.pyi").write_text(BAD)
    (tmp_path / "c.txt").write_text(BAD)
    (tmp_path / "d.pyw").write_text(BAD)
    r = tl("check", ".", "--output-format", "concise", cwd=tmp_path)
    files = sorted({l.split(":")[0] for l in r.stdout.splitlines() if ":" in l and "TL001" in l})
    assert files == ["a.py", "b.pyi"]
    # a file named explicitly is checked whatever its suffix (as Ruff does)
    assert "c.txt:4:1: TL001" in tl("check", "c.txt", cwd=tmp_path).stdout


def test_same_file_twice_is_reported_once(proj):
    r = tl("check", "pkg", "pkg/bad.py", "./pkg/bad.py", "--output-format", "concise", cwd=proj)
    assert r.stdout.count("TL001") == 1


def test_a_crash_outside_the_rules_is_one_line_and_exit_2(proj, monkeypatch, capsys):
    import torchlint.workspace.discovery as discovery
    from torchlint.cli import main

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(discovery, "discover", boom)
    monkeypatch.chdir(proj)
    monkeypatch.delenv("TORCHLINT_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["check", "pkg"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err == ("torchlint: internal error: RuntimeError: disk on fire (set TORCHLINT_TRACEBACK=1 to see the "
                   "traceback); please report this\n")
