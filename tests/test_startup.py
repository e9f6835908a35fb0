"""Lazy start-up: a run that needs no parsing never imports libcst (nor the engine), nor rich when piped.

Checked in fresh subprocesses, by looking at ``sys.modules`` when the run ends.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("libcst", "torchlint.engine", "torchlint.analysis.interp", "torchlint.analysis.api", "torch")
BAD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"

CLI = ("import sys, runpy\n"
       "sys.argv = ['torchlint'] + sys.argv[1:]\n"
       "try:\n"
       "    runpy.run_module('torchlint', run_name='__main__')\n"
       "except SystemExit:\n"
       "    pass\n"
       "sys.stdout.flush()\n"
       "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")

RUNNER = ("import sys\n"
          "from pathlib import Path\n"
          "from torchlint import registry\n"
          "from torchlint.runner import check_files\n"
          "from torchlint.settings import Settings\n"
          "s = Settings(select=frozenset(r.code for r in registry.all_rules()), project_root=Path.cwd(),\n"
          "             no_cache='--no-cache' in sys.argv)\n"
          "res = check_files([Path(a) for a in sys.argv[1:] if not a.startswith('-')], s)\n"
          "print([(r.parsed, r.cached, len(r.diagnostics)) for r in res])\n"
          "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n")


def _run(code, args, cwd):
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    lines = [x for x in r.stderr.splitlines() if x.startswith("MODULES ")]
    assert lines, r.stderr
    return set(lines[-1].split()[1:]), r


def _loaded(mods, name):
    return any(m == name or m.startswith(name + ".") for m in mods)


@pytest.fixture
def proj(tmp_path):
    (tmp_path / "plain.py").write_text("import torch\nprint(torch.ones(2))  # backward compatible\n")
    (tmp_path / "bad.py").write_text(BAD)
    return tmp_path


def test_cli_on_a_file_without_trigger_words_imports_nothing_heavy(proj):
    mods, r = _run(CLI, ["check", "plain.py", "--no-cache"], proj)
    assert "All checks passed!" in r.stdout, r
    for name in HEAVY + ("rich",):
        assert not _loaded(mods, name), name


def test_cli_imports_the_engine_only_when_a_file_needs_it(proj):
    mods, r = _run(CLI, ["check", "bad.py", "--no-cache"], proj)
    assert "TL001" in r.stdout and _loaded(mods, "libcst")
    assert not _loaded(mods, "rich")  # piped: no rich


def test_a_warm_cache_hit_needs_no_libcst(proj):
    _run(CLI, ["check", "bad.py", "--output-format", "concise"], proj)
    mods, r = _run(CLI, ["check", "bad.py", "--output-format", "concise"], proj)
    assert "TL001" in r.stdout
    assert not _loaded(mods, "libcst") and not _loaded(mods, "torchlint.engine")
    for name in ("torchlint.analysis", "torchlint.report.suppression", "pathspec", "rich"):
        assert not _loaded(mods, name), name  # a hit is one index read: no analysis, no suppression


def test_runner_alone(proj):
    mods, r = _run(RUNNER, ["plain.py", "--no-cache"], proj)
    assert r.stdout.strip() == "[(False, False, 0)]"
    for name in HEAVY + ("rich", "click"):
        assert not _loaded(mods, name), name
    mods, r = _run(RUNNER, ["plain.py", "bad.py", "--no-cache"], proj)
    assert r.stdout.strip() == "[(False, False, 0), (True, False, 1)]" and _loaded(mods, "libcst")


# -- the dataclasses' generated code, compiled once per install (torchlint/startup.py) ---------------------------

def _make_class():
    import dataclasses

    @dataclasses.dataclass(frozen=True, order=True)
    class Point:
        x: int
        label: "str" = "p"
        tags: tuple = dataclasses.field(default_factory=tuple)

    return Point


GENERATED = ("__init__", "__repr__", "__eq__", "__lt__", "__ge__", "__hash__", "__setattr__", "__delattr__")


@pytest.fixture
def store(tmp_path, monkeypatch):
    """torchlint.startup with an empty store at a temporary path, written even where bytecode is not."""
    from torchlint import startup

    path = tmp_path / "__pycache__" / "dataclass_code.marshal"
    monkeypatch.setattr(startup, "store_path", lambda: str(path))
    monkeypatch.setattr(startup, "_store", None)
    monkeypatch.setattr(startup, "_used", {})
    monkeypatch.setattr(startup, "_missed", False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return startup, path


def _fresh_process(startup, monkeypatch):
    monkeypatch.setattr(startup, "_store", None)
    monkeypatch.setattr(startup, "_used", {})


def test_a_dataclass_made_in_a_window_has_the_code_exec_would_give(store):
    import dataclasses

    startup, _ = store
    plain = _make_class()
    with startup.compiled_once():
        first = _make_class()
        assert dataclasses.exec is startup._exec
    with startup.compiled_once():
        again = _make_class()  # (from the codes the first window compiled)
    assert "exec" not in vars(dataclasses)  # the window is closed
    for name in GENERATED:
        codes = {getattr(cls, name).__code__ for cls in (plain, first, again)}
        assert len(codes) == 1, name
        assert getattr(plain, name).__annotations__ == getattr(first, name).__annotations__, name
    p = again(1, tags=("a",))
    assert p == again(1, "p", ("a",)) and p < again(2) and repr(p).endswith("Point(x=1, label='p', tags=('a',))")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2


def test_the_store_is_written_when_code_was_missing_and_read_by_the_next_process(store, monkeypatch):
    startup, path = store
    with startup.compiled_once():
        with startup.compiled_once():  # (nested: written once, at the end of the outer one)
            _make_class()
        assert not path.exists()
    assert path.exists()
    written = path.stat().st_mtime_ns
    _fresh_process(startup, monkeypatch)
    with startup.compiled_once():
        cls = _make_class()
    assert not startup._missed and path.stat().st_mtime_ns == written  # every code came from the store
    assert cls(3).x == 3


def test_a_store_of_another_interpreter_or_a_broken_one_is_not_used(store, monkeypatch):
    import marshal

    startup, path = store
    path.parent.mkdir()
    path.write_bytes(marshal.dumps((("torchlint-dataclass-code-1", b"\0\0\r\n", "2.7", 0), {})))
    with startup.compiled_once():
        _make_class()
    assert startup._read() != {}  # rewritten with this interpreter's header
    path.write_bytes(b"not marshal data")
    _fresh_process(startup, monkeypatch)
    with startup.compiled_once():
        assert _make_class()(1).x == 1
    assert startup._read() != {}


def test_no_store_is_written_without_bytecode(store, monkeypatch):
    startup, path = store
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    with startup.compiled_once():
        _make_class()
    assert not path.exists()
