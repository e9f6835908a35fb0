"""The cache index: exact round trips, the right key, one read per warm run, pruning, never fatal, safe
with concurrent runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from torchlint import registry
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location
from torchlint.runner import check_files
from torchlint.settings import Settings
from torchlint.workspace import cache, index

ALL = frozenset(r.code for r in registry.all_rules())
BAD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"


def _settings(root: Path, **kw) -> Settings:
    kw.setdefault("jobs", 1)
    kw.setdefault("select", ALL)
    return Settings(project_root=root, **kw)


def _dump(results):
    return [(str(r.path), r.error, r.diagnostics) for r in results]


def _files(tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text("print('nothing to see')\n")
    (tmp_path / "c.py").write_text("import torch\nx.backward(\n")
    (tmp_path / "d.py").write_text(BAD.replace("y = x * 2", "y = (x * 2)  # note\nz = 1"))
    return [tmp_path / n for n in ("a.py", "b.py", "c.py", "d.py")]


def _index_file(settings) -> Path:
    return cache.cache_root(settings) / index.__version__ / "index.json"


def _entries(settings) -> dict:
    return json.loads(_index_file(settings).read_text())["files"]


@pytest.fixture
def trusted_stats(monkeypatch):
    """Trust the stat of files written a moment ago (the tests' files are all 'racy' otherwise)."""
    monkeypatch.setattr(index, "RACY_NS", -10**12)


def test_diagnostics_round_trip_exactly():
    loc, end = Location(4, 1), Location(4, 13)
    d = Diagnostic("TL001", "backward-non-scalar", "msg `y` \u00e9", "warning", "f.py", loc, end,
                   Fix("Reduce", (Edit(40, 41, ".sum()", loc, end), Edit(1, 1, "", loc, loc)), "unsafe"),
                   ("note 1", "note 2"))
    assert cache.load_diag(json.loads(json.dumps(cache.dump_diag(d)))) == d
    plain = Diagnostic("E999", "syntax-error", "SyntaxError: x", "error", "f.py", loc, loc)
    assert cache.load_diag(json.loads(json.dumps(cache.dump_diag(plain)))) == plain


def test_warm_run_hits_and_equals_cold(tmp_path):
    files = _files(tmp_path)
    cold = check_files(files, _settings(tmp_path, no_cache=True))
    first = check_files(files, _settings(tmp_path))
    warm = check_files(files, _settings(tmp_path))
    assert _dump(cold) == _dump(first) == _dump(warm)
    assert [r.cached for r in first] == [False] * 4
    assert [r.cached for r in warm] == [True] * 4  # b.py too: the index knows it has no trigger words
    assert warm[0].diagnostics[0].fix is not None and warm[2].error.code == "E999"
    root = tmp_path / ".torchlint_cache"
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (root / ".gitignore").read_text() == "*\n"
    # one index for the project, no small entry per file, no temporary file left behind
    assert [p.relative_to(root).as_posix() for p in root.rglob("*.json")] == [f"{index.__version__}/index.json"]
    assert sorted(_entries(_settings(tmp_path))) == ["a.py", "b.py", "c.py", "d.py"]
    assert not list(root.rglob(".tmp-*"))


def test_a_warm_run_reads_no_file_and_loads_no_rule(tmp_path, monkeypatch, trusted_stats):
    files = _files(tmp_path)
    first = check_files(files, _settings(tmp_path))
    import torchlint.runner as runner

    def refuse(*a, **k):
        raise AssertionError("a warm run read a file or compiled the triggers")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(runner, "triggers", refuse)
    warm = check_files(files, _settings(tmp_path))
    assert _dump(warm) == _dump(first) and all(r.cached for r in warm)


def test_an_unchanged_warm_run_does_not_rewrite_the_index(tmp_path, trusted_stats):
    files = _files(tmp_path)
    s = _settings(tmp_path)
    check_files(files, s)
    check_files(files, s)  # the first run stored the stats; this one may refresh nothing more
    before = _index_file(s).stat().st_mtime_ns, _index_file(s).stat().st_ino
    check_files(files, s)
    assert (_index_file(s).stat().st_mtime_ns, _index_file(s).stat().st_ino) == before


def test_a_touched_file_is_a_hit_by_content_and_its_stat_is_refreshed(tmp_path, trusted_stats):
    files = _files(tmp_path)
    s = _settings(tmp_path)
    check_files(files, s)
    old = _entries(s)["a.py"][0]
    os.utime(files[0], ns=(1_000_000_000, 1_000_000_000))
    res = check_files(files, s)
    assert res[0].cached and res[0].diagnostics
    assert _entries(s)["a.py"][0] not in (0, old)


def test_a_changed_file_is_checked_again(tmp_path, trusted_stats):
    files = _files(tmp_path)
    s = _settings(tmp_path)
    check_files(files, s)
    files[0].write_text(BAD.replace("x * 2", "(x * 2).sum()"))
    res = check_files(files, s)
    assert not res[0].cached and res[0].diagnostics == []
    files[1].write_text(BAD)  # a file without trigger words gains some
    res = check_files(files, s)
    assert not res[1].cached and [d.code for d in res[1].diagnostics] == ["TL001"]


def test_a_racy_entry_keeps_no_stat():
    # a file changed just before the run may change again within one tick of the clock with the
    # same stat: its entry is verified by content next time
    from types import SimpleNamespace

    ix = index.Index.__new__(index.Index)
    ix.started = 10_000_000_000
    recent = SimpleNamespace(st_mtime_ns=1_000_000_000, st_ctime_ns=9_000_000_000, st_size=10, st_ino=7)
    old = SimpleNamespace(st_mtime_ns=1_000_000_000, st_ctime_ns=1_000_000_000, st_size=10, st_ino=7)
    assert ix._stat_or_racy(recent) == 0
    assert ix._stat_or_racy(old) == [1_000_000_000, 1_000_000_000, 10, 7]


def test_no_cache_writes_nothing(tmp_path):
    check_files(_files(tmp_path), _settings(tmp_path, no_cache=True))
    assert not (tmp_path / ".torchlint_cache").exists()


def test_cache_dir_setting(tmp_path):
    where = tmp_path / "elsewhere"
    check_files(_files(tmp_path), _settings(tmp_path, cache_dir=where))
    assert (where / "CACHEDIR.TAG").exists() and not (tmp_path / ".torchlint_cache").exists()


def test_same_content_under_two_names(tmp_path):
    (tmp_path / "one.py").write_text(BAD)
    (tmp_path / "two.py").write_text(BAD)
    files = [tmp_path / "one.py", tmp_path / "two.py"]
    check_files(files, _settings(tmp_path))
    warm = check_files(files, _settings(tmp_path))
    assert [r.cached for r in warm] == [True, True]
    assert [r.diagnostics[0].filename for r in warm] == [str(f) for f in files]


def test_names_are_relabelled_to_how_the_run_spells_the_path(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(BAD)
    check_files([tmp_path / "a.py"], _settings(tmp_path))
    monkeypatch.chdir(tmp_path)
    warm = check_files([Path("a.py")], _settings(tmp_path))
    assert warm[0].cached and warm[0].diagnostics[0].filename == "a.py"


def test_per_file_ignores_are_part_of_the_key(tmp_path):
    (tmp_path / "gen").mkdir()
    files = [tmp_path / "gen" / "a.py", tmp_path / "b.py"]
    for f in files:
        f.write_text(BAD)
    s = _settings(tmp_path, per_file_ignores=(("gen/*.py", frozenset({"TL001"})),))
    for _ in range(2):  # cold, then warm: same bytes, different answers by path
        ra, rb = check_files(files, s)
        assert ra.diagnostics == [] and len(rb.diagnostics) == 1
    ra, rb = check_files(files, _settings(tmp_path))  # the ignores gone: a miss, not the stored answer
    assert not ra.cached and len(ra.diagnostics) == 1


def test_other_settings_are_a_miss(tmp_path, trusted_stats):
    files = _files(tmp_path)
    check_files(files, _settings(tmp_path))
    res = check_files(files, _settings(tmp_path, select=frozenset({"TL005"})))
    assert not res[0].cached and res[0].diagnostics == []


def test_another_torchlint_starts_a_new_index(tmp_path, monkeypatch):
    files = _files(tmp_path)
    check_files(files, _settings(tmp_path))
    monkeypatch.setattr(cache, "_code_fingerprint", "a different checkout")
    res = check_files(files, _settings(tmp_path))
    assert not any(r.cached for r in res)
    assert json.loads(_index_file(_settings(tmp_path)).read_text())["code"] == "a different checkout"


def test_code_fingerprint_covers_rules_and_engine(tmp_path, monkeypatch):
    import torchlint

    fp = cache.code_fingerprint()
    assert len(fp) == 20 and fp == cache.code_fingerprint()
    assert (Path(torchlint.__file__).parent / "engine.py").exists()
    # an edited source file (its size or time changes) gives another fingerprint
    fake = tmp_path / "pkg"
    (fake / "sub").mkdir(parents=True)
    (fake / "sub" / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(torchlint, "__file__", str(fake / "__init__.py"))
    monkeypatch.setattr(cache, "_code_fingerprint", None)
    one = cache.code_fingerprint()
    monkeypatch.setattr(cache, "_code_fingerprint", None)
    assert cache.code_fingerprint() == one
    (fake / "sub" / "m.py").write_text("x = 22\n")
    monkeypatch.setattr(cache, "_code_fingerprint", None)
    assert cache.code_fingerprint() != one


def test_a_full_run_forgets_files_it_did_not_see(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "other").mkdir()
    keep, gone, outside = tmp_path / "src" / "keep.py", tmp_path / "src" / "gone.py", tmp_path / "other" / "o.py"
    for f in (keep, gone, outside):
        f.write_text(BAD)
    s = _settings(tmp_path)
    check_files([keep, gone, outside], s, roots=[str(tmp_path)])
    assert sorted(_entries(s)) == ["other/o.py", "src/gone.py", "src/keep.py"]
    gone.unlink()
    check_files([keep], s, roots=[str(tmp_path / "src")])  # a run over src/ forgets only src/'s files
    assert sorted(_entries(s)) == ["other/o.py", "src/keep.py"]
    check_files([keep], s, roots=[str(keep)])  # a run over one named file forgets nothing else
    assert sorted(_entries(s)) == ["other/o.py", "src/keep.py"]
    check_files([keep], s)  # without roots (the API), nothing is forgotten
    assert sorted(_entries(s)) == ["other/o.py", "src/keep.py"]
    check_files([keep], s, roots=[str(tmp_path)])
    assert sorted(_entries(s)) == ["src/keep.py"]


def test_the_index_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "MAX_ENTRIES", 3)
    files = []
    for n in range(5):
        f = tmp_path / f"f{n}.py"
        f.write_text(BAD + f"# {n}\n")
        files.append(f)
    s = _settings(tmp_path)
    for f in files:
        check_files([f], s)
    assert sorted(_entries(s)) == ["f2.py", "f3.py", "f4.py"]  # the least recently written went first


def test_a_corrupt_index_warns_once_and_is_rebuilt(tmp_path, capsys):
    files = _files(tmp_path)
    s = _settings(tmp_path)
    cold = check_files(files, s)
    for bad in ("{not json", json.dumps([1, 2]), json.dumps({"format": index.FORMAT, "code": cache.code_fingerprint(),
                                                              "files": {"a.py": [0, "x", "y", {"diagnostics": 3}]}})):
        _index_file(s).write_text(bad)
        capsys.readouterr()
        again = check_files(files, s)
        err = capsys.readouterr().err
        assert err.count("ignoring unreadable cache index") <= 1 and _dump(again) == _dump(cold)
        cache._warned.clear()
    assert all(r.cached for r in check_files(files, s))


def test_unwritable_cache_warns_once_and_the_run_goes_on(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory should be")
    files = _files(tmp_path)
    res = check_files(files, _settings(tmp_path, cache_dir=blocker / "cache"))
    err = capsys.readouterr().err
    assert err.count("cannot write the cache") == 1
    assert _dump(res) == _dump(check_files(files, _settings(tmp_path, no_cache=True)))


def test_internal_errors_are_not_cached(tmp_path, monkeypatch):
    import torchlint.engine

    (tmp_path / "a.py").write_text(BAD)
    monkeypatch.setattr(torchlint.engine, "lint_source", lambda *a, **k: 1 / 0)
    assert check_files([tmp_path / "a.py"], _settings(tmp_path))[0].error.code == "TL999"
    monkeypatch.undo()
    res = check_files([tmp_path / "a.py"], _settings(tmp_path))[0]
    assert res.error is None and not res.cached and res.diagnostics


def test_clean(tmp_path):
    check_files(_files(tmp_path), _settings(tmp_path))
    assert cache.clean(_settings(tmp_path)) is True
    assert not (tmp_path / ".torchlint_cache").exists()
    assert cache.clean(_settings(tmp_path)) is False


def test_clean_refuses_a_directory_that_is_not_a_cache(tmp_path, capsys):
    mine = tmp_path / "src"
    mine.mkdir()
    (mine / "precious.py").write_text("x = 1\n")
    assert cache.clean(_settings(tmp_path, cache_dir=mine)) is False
    assert (mine / "precious.py").exists() and "not removing it" in capsys.readouterr().err


def test_register_clean_adds_a_click_command(tmp_path):
    import click
    from click.testing import CliRunner

    @click.group()
    def cli():
        pass

    cache.register_clean(cli)
    check_files(_files(tmp_path), _settings(tmp_path, cache_dir=tmp_path / "c"))
    r = CliRunner().invoke(cli, ["clean", "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 0 and "Removed" in r.output and not (tmp_path / "c").exists()


CONCURRENT = """
import sys
from pathlib import Path
from torchlint import registry
from torchlint.runner import check_files
from torchlint.settings import Settings
root = Path(sys.argv[1])
files = sorted(root.glob("*.py"))
s = Settings(select=frozenset(r.code for r in registry.all_rules()), project_root=root, jobs=1)
for _ in range(3):
    res = check_files(files, s)
print(sum(len(r.diagnostics) for r in res))
"""


def test_two_concurrent_runs_share_the_cache_safely(tmp_path):
    for i in range(30):
        (tmp_path / f"f{i:02}.py").write_text(BAD + f"w = x * {i}\nw.backward()\n")
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == ["60", "60"]
    assert not any("warning" in o[1] for o in outs), outs
    s = _settings(tmp_path)
    data = json.loads(_index_file(s).read_text())
    assert data["format"] == index.FORMAT and len(data["files"]) == 30
    assert not list((tmp_path / ".torchlint_cache").rglob(".tmp-*"))


def test_concurrent_writers_merge_their_entries(tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    (tmp_path / "b.py").write_text(BAD)
    s = _settings(tmp_path)
    one, two = index.Index(s, cache.cache_root(s)), index.Index(s, cache.cache_root(s))
    st = os.stat(tmp_path / "a.py")
    for ix, name in ((one, "a.py"), (two, "b.py")):
        res = check_files([tmp_path / name], _settings(tmp_path, no_cache=True))[0]
        ix.put(tmp_path / name, st, index.digest((tmp_path / name).read_bytes()), s, res)
    one.save()
    two.save()  # written after `one`: keeps what `one` wrote
    assert sorted(_entries(s)) == ["a.py", "b.py"]


def test_a_freed_settings_object_cannot_lend_its_digest_to_another(tmp_path):
    # the digest is memoised per Settings object; CPython gives a new object the id of one just freed
    one, other = frozenset({"TL001"}), frozenset({"TL005"})
    ix = index.Index(_settings(tmp_path), cache.cache_root(_settings(tmp_path)))
    first = ix.settings_id(Settings(select=one, project_root=tmp_path))  # freed right after the call
    assert all(ix.settings_id(Settings(select=other, project_root=tmp_path)) != first for _ in range(50))
