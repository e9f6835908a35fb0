"""The runner: results per file in input order, every bad file guarded, identical for any --jobs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from torchlint import registry, runner
from torchlint.diagnostics import Diagnostic, Location
from torchlint.runner import FileResult, check_files
from torchlint.settings import Settings

ALL = frozenset(r.code for r in registry.all_rules())
BAD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"
GOOD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = (x * 2).sum()\ny.backward()\n"


def _settings(root: Path, **kw) -> Settings:
    kw.setdefault("no_cache", True)
    kw.setdefault("jobs", 1)
    return Settings(select=ALL, project_root=root, **kw)


def _one(tmp_path, text, name="t.py", **kw) -> FileResult:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return check_files([p], _settings(tmp_path, **kw))[0]


def test_tl001_through_the_runner(tmp_path):
    res = _one(tmp_path, BAD)
    assert res.error is None and res.parsed and res.source == BAD
    [d] = res.diagnostics
    assert (d.code, d.location, d.severity, d.filename) == ("TL001", Location(4, 1), "error", str(tmp_path / "t.py"))
    assert d.end_location == Location(4, 13)
    fixed = BAD[:d.fix.edits[0].start] + d.fix.edits[0].content + BAD[d.fix.edits[0].end:]
    assert fixed.splitlines()[3] == "y.sum().backward()"


def test_clean_file(tmp_path):
    res = _one(tmp_path, GOOD)
    assert res.parsed and res.diagnostics == [] and res.error is None


def test_results_are_in_input_order_and_sorted(tmp_path):
    files = []
    for i in range(12):
        p = tmp_path / f"f{i:02}.py"
        p.write_text(BAD + "z = x * 3\nz.backward()\n" if i % 3 == 0 else (GOOD if i % 3 == 1 else "print(1)\n"))
        files.append(p)
    files.reverse()  # the caller's order, whatever it is, is kept
    res = check_files(files, _settings(tmp_path))
    assert [r.path for r in res] == files
    for r in res:
        assert r.diagnostics == sorted(r.diagnostics, key=Diagnostic.sort_key)
    assert [len(r.diagnostics) for r in res][::-1] == [2 if i % 3 == 0 else 0 for i in range(12)]
    assert [r.parsed for r in res][::-1] == [i % 3 != 2 for i in range(12)]


def _corpus(tmp_path, n=14):
    files = []
    for i in range(n):
        p = tmp_path / f"m{i:02}.py"
        body = BAD if i % 2 else GOOD
        p.write_text(body + "".join(f"w{k} = x * {k}\nw{k}.backward()\n" for k in range(i % 4)))
        files.append(p)
    (tmp_path / "syntax.py").write_text("x.backward(\n")
    (tmp_path / "undecodable.py").write_bytes(b"x.backward()\n\xff\xfe\n")
    files += [tmp_path / "syntax.py", tmp_path / "undecodable.py", tmp_path / "missing.py"]
    return files


def _dump(results):
    return [(str(r.path), r.parsed, r.error, [(d.code, d.location, d.end_location, d.message, d.fix) for d in
                                              r.diagnostics]) for r in results]


def test_jobs_1_and_jobs_2_give_identical_results(tmp_path, monkeypatch):
    files = _corpus(tmp_path)
    serial = check_files(files, _settings(tmp_path, jobs=1))
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(runner, "POOL_MIN_FILES", 2)
    used = []
    real = runner._run_pool
    monkeypatch.setattr(runner, "_run_pool", lambda *a, **k: (used.append(1), real(*a, **k))[1])
    parallel = check_files(files, _settings(tmp_path, jobs=2))
    assert used, "the pool was not used"
    assert _dump(parallel) == _dump(serial)
    assert sum(len(r.diagnostics) for r in serial) > 10


def test_small_runs_stay_in_one_process(tmp_path, monkeypatch):
    p = tmp_path / "t.py"
    p.write_text(BAD)
    monkeypatch.setattr(runner, "_run_pool", lambda *a, **k: pytest.fail("a pool for one small file"))
    assert check_files([p], _settings(tmp_path, jobs=4))[0].diagnostics


def test_progress_is_reported(tmp_path):
    files = _corpus(tmp_path, 4)
    calls = []
    check_files(files, _settings(tmp_path), progress=lambda n, total: calls.append((n, total)))
    assert calls == [(i, len(files)) for i in range(1, len(files) + 1)]


def test_syntax_error_is_E999_with_location(tmp_path):
    res = _one(tmp_path, "import torch\nx.backward(\n")
    assert res.diagnostics == [] and res.parsed
    e = res.error
    assert (e.code, e.severity, e.filename) == ("E999", "error", str(tmp_path / "t.py"))
    assert e.location.row >= 2 and "SyntaxError" in e.message


def test_undecodable_file_is_E902_with_location(tmp_path):
    res = _one(tmp_path, b"x = 1\ny.backward()  # \xff\n")
    e = res.error
    assert e.code == "E902" and "decode" in e.message and e.location == Location(2, 17)


def test_coding_cookie_and_bom(tmp_path):
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD).encode("latin-1")
    res = _one(tmp_path, latin, "latin.py")
    assert res.error is None and [d.location.row for d in res.diagnostics] == [6]
    res = _one(tmp_path, b"\xef\xbb\xbf" + BAD.encode(), "bom.py")
    assert res.error is None and [d.location.row for d in res.diagnostics] == [4]
    assert not res.source.startswith("\ufeff")


def test_unreadable_file_is_E902(tmp_path):
    res = check_files([tmp_path / "nope.py"], _settings(tmp_path))[0]
    assert res.error.code == "E902" and "cannot read" in res.error.message and res.error.filename.endswith("nope.py")
    d = tmp_path / "dir.py"
    d.mkdir()
    assert check_files([d], _settings(tmp_path))[0].error.code == "E902"


def test_engine_crash_is_an_internal_error_naming_the_file(tmp_path, monkeypatch):
    import torchlint.engine

    def boom(*a, **k):
        raise ValueError("kaput")

    monkeypatch.setattr(torchlint.engine, "lint_source", boom)
    res = _one(tmp_path, BAD)
    assert res.error.code == "TL999" and "kaput" in res.error.message and res.error.filename.endswith("t.py")


@pytest.mark.parametrize("exc,code", [(RecursionError, "E999"), (MemoryError, "E902")])
def test_recursion_and_memory_errors_are_diagnostics(tmp_path, monkeypatch, exc, code):
    import torchlint.engine

    def boom(*a, **k):
        raise exc()

    monkeypatch.setattr(torchlint.engine, "lint_source", boom)
    res = _one(tmp_path, BAD)
    assert res.error.code == code and "torchlint skipped it" in res.error.message


def test_deeply_nested_code_does_not_crash(tmp_path):
    deep = "import torch\nx = torch.randn(3, requires_grad=True)\ny = " + "(" * 300 + "x" + ")" * 300 + \
        "\ny.backward()\n"
    res = _one(tmp_path, deep)
    assert res.error is not None or res.diagnostics
    deep_lists = "y = " + "[" * 150 + "1" + "]" * 150 + "\ny.backward()\n"
    res = _one(tmp_path, deep_lists, "lists.py")
    assert isinstance(res, FileResult)


def test_huge_files(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_FILE_BYTES", 1000)
    res = _one(tmp_path, BAD + "#" * 2000 + "\n")
    assert res.error.code == "E902" and "does not analyse files over" in res.error.message and not res.parsed
    res = _one(tmp_path, "print(1)\n" + "#" * 2000 + "\n", "plain.py")  # no trigger words: nothing to say
    assert res.error is None and not res.parsed


def test_noqa_and_per_file_ignores(tmp_path):
    res = _one(tmp_path, BAD.replace("y.backward()", "y.backward()  # noqa: TL001"))
    assert res.diagnostics == []
    (tmp_path / "gen").mkdir()
    a, b = tmp_path / "gen" / "a.py", tmp_path / "b.py"
    a.write_text(BAD)
    b.write_text(BAD)
    s = _settings(tmp_path, per_file_ignores=(("gen/*.py", frozenset({"TL001"})),))
    ra, rb = check_files([a, b], s)
    assert ra.diagnostics == [] and [d.code for d in rb.diagnostics] == ["TL001"]


def test_notebooks(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["import torch\n", "x = torch.randn(3, requires_grad=True)\n"]},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["%time 1\n", "y = x * 2\n", "y.backward()\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    res = _one(tmp_path, json.dumps(nb, indent=1), "nb.ipynb")
    assert res.error is None, res.error
    [d] = res.diagnostics
    assert d.code == "TL001" and "cell" in d.filename and d.location.row == 3
    bad = _one(tmp_path, '{"cells": 3, "x": "backward("}', "bad.ipynb")
    assert bad.error.code == "E902" and "notebook" in bad.error.message


def test_a_dying_worker_is_blamed_on_its_file_only(tmp_path, monkeypatch):
    import os

    import torchlint.engine

    real = torchlint.engine.lint_source

    def crashy(source, path, **kw):
        if path.endswith("crash.py"):
            os._exit(7)  # like a segfault in native code
        return real(source, path, **kw)

    monkeypatch.setattr(torchlint.engine, "lint_source", crashy)
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    files = _corpus(tmp_path, 6)
    (tmp_path / "crash.py").write_text(BAD)
    files.insert(2, tmp_path / "crash.py")
    res = check_files(files, _settings(tmp_path, jobs=2))
    assert res[2].error.code == "TL999" and "worker process died" in res[2].error.message
    monkeypatch.setattr(torchlint.engine, "lint_source", real)
    expect = check_files(files[:2] + files[3:], _settings(tmp_path, jobs=1))
    assert _dump(res[:2] + res[3:]) == _dump(expect)


def test_usable_cores_is_positive():
    assert runner._usable_cores() >= 1


def test_a_clean_files_source_is_not_kept(tmp_path):
    # only a code frame reads it; a run over thousands of files must not hold them all
    assert _one(tmp_path, GOOD).source is None
    broken = "import torch\nloss.backward(\n"
    res = _one(tmp_path, broken, name="bad.py")
    assert res.error is not None and res.error.code == "E999" and res.source == broken  # an error keeps it


def test_the_collector_is_paced_by_files_and_left_as_it_was(tmp_path, monkeypatch):
    import gc

    files = []
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text(BAD)
        files.append(tmp_path / f"m{i}.py")
    seen = []
    real = runner.lint_file

    def spy(*a, **kw):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return real(*a, **kw)

    monkeypatch.setattr(runner, "lint_file", spy)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    res = check_files(files, _settings(tmp_path))
    assert [len(r.diagnostics) for r in res] == [1, 1, 1]
    assert seen == [(runner._FileCollector.YOUNG, True)] * 3  # what lived before each file was frozen
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0  # and the process is as it was
    gc.disable()
    try:  # a process that manages the collector itself is left alone
        seen.clear()
        check_files(files[:1], _settings(tmp_path))
        assert seen == [(before[0], False)] and not gc.isenabled()
    finally:
        gc.enable()
