"""The content cache: exact round trips, the right key, never fatal, safe with concurrent runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from torchlint.workspace import cache
from torchlint import registry
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location
from torchlint.runner import check_files
from torchlint.settings import Settings

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
    assert [r.cached for r in warm] == [True, False, True, True]  # b.py never needs parsing, nor the cache
    assert warm[0].diagnostics[0].fix is not None
    root = tmp_path / ".torchlint_cache"
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (root / ".gitignore").read_text() == "*\n"
    assert not list(root.rglob(".tmp-*"))


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


def test_per_file_ignores_are_part_of_the_key(tmp_path):
    (tmp_path / "gen").mkdir()
    files = [tmp_path / "gen" / "a.py", tmp_path / "b.py"]
    for f in files:
        f.write_text(BAD)
    s = _settings(tmp_path, per_file_ignores=(("gen/*.py", frozenset({"TL001"})),))
    for _ in range(2):  # cold, then warm: same bytes, different answers by path
        ra, rb = check_files(files, s)
        assert ra.diagnostics == [] and len(rb.diagnostics) == 1


def test_key_changes_with_settings_code_and_content(tmp_path, monkeypatch):
    s = _settings(tmp_path)
    k = cache.key_for(b"x", s)
    assert k == cache.key_for(b"x", _settings(tmp_path))
    assert k != cache.key_for(b"y", s)
    assert k != cache.key_for(b"x", _settings(tmp_path, select=frozenset({"TL001"})))
    assert k != cache.key_for(b"x", s, extra="TL001")
    monkeypatch.setattr(cache, "_code_fingerprint", "a different checkout")
    assert k != cache.key_for(b"x", s)


def test_code_fingerprint_covers_rules_and_engine():
    import torchlint

    fp = cache.code_fingerprint()
    assert len(fp) == 20 and fp == cache.code_fingerprint()
    assert (Path(torchlint.__file__).parent / "engine.py").exists()


def test_corrupt_entries_warn_and_are_rewritten(tmp_path, capsys):
    files = _files(tmp_path)
    cold = check_files(files, _settings(tmp_path))
    entries = sorted((tmp_path / ".torchlint_cache").rglob("*.json"))
    assert len(entries) == 3
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"format": 1, "diagnostics": [{"code": "TL001"}], "error": None}))
    entries[2].write_text(json.dumps([1, 2]))
    capsys.readouterr()
    again = check_files(files, _settings(tmp_path))
    err = capsys.readouterr().err
    assert err.count("ignoring unreadable cache entry") == 3
    assert _dump(again) == _dump(cold)
    assert [r.cached for r in check_files(files, _settings(tmp_path))] == [True, False, True, True]


def test_unwritable_cache_warns_once_and_the_run_goes_on(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory should be")
    files = _files(tmp_path)
    res = check_files(files, _settings(tmp_path, cache_dir=blocker / "cache"))
    err = capsys.readouterr().err
    assert "cannot write the cache" in err
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
    entries = list((tmp_path / ".torchlint_cache").rglob("*.json"))
    assert len(entries) == 30
    for e in entries:
        assert json.loads(e.read_text())["format"] == cache.FORMAT
    assert not list((tmp_path / ".torchlint_cache").rglob(".tmp-*"))
