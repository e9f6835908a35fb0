"""Configuration per file, as Ruff resolves it: each file gets its closest configuration, ``extend`` inherits,
``--config`` and ``--isolated`` override, and the cache is keyed by each file's own settings."""
from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tlcli import BAD, tl
from torchlint.workspace.config import ConfigError, build_resolver, build_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path):
    """A repository whose sub-project ignores TL001; the same bug in a.py (root) and sub/b.py."""
    write(tmp_path / "pyproject.toml", '[project]\nname = "root"\n')  # no [tool.torchlint]: defaults
    write(tmp_path / "sub" / "pyproject.toml", '[tool.torchlint]\nignore = ["TL001"]\n')
    write(tmp_path / "a.py", BAD)
    write(tmp_path / "sub" / "b.py", BAD)
    return tmp_path


def findings(r) -> list:
    return [line.split(":")[0] for line in r.stdout.splitlines() if ": TL" in line]


@pytest.mark.parametrize("order", [("sub/b.py", "a.py"), ("a.py", "sub/b.py")])
def test_each_file_gets_its_closest_configuration_whatever_the_order(repo, order):
    """The bug from the issue: with sub/b.py first, a.py's finding was lost (sub's ignore held for both)."""
    r = tl("check", "--output-format", "concise", "--no-cache", *order, cwd=repo)
    assert (r.returncode, findings(r)) == (1, ["a.py"]), r.stdout + r.stderr


def test_a_directory_walk_switches_configuration_in_the_sub_project(repo):
    r = tl("check", "--output-format", "concise", "--no-cache", ".", cwd=repo)
    assert findings(r) == ["a.py"]
    r = tl("check", "--output-format", "concise", "--no-cache", "sub", cwd=repo)
    assert (r.returncode, findings(r)) == (0, [])


def test_the_cache_is_keyed_by_each_files_own_settings(repo):
    """a.py and sub/b.py have the same bytes; the cache must not hand one's result to the other."""
    for _ in range(2):  # cold, then warm
        r = tl("check", "--output-format", "concise", "sub/b.py", "a.py", cwd=repo)
        assert findings(r) == ["a.py"], r.stdout
        r = tl("check", "--output-format", "concise", "a.py", "sub/b.py", cwd=repo)
        assert findings(r) == ["a.py"], r.stdout


def test_config_and_isolated_override_every_files_configuration(repo):
    cfg = write(repo / "conf" / "strict.toml", 'select = ["TL001"]\n')
    r = tl("check", "--output-format", "concise", "--no-cache", "--config", str(cfg), "sub/b.py", "a.py", cwd=repo)
    assert sorted(findings(r)) == ["a.py", "sub/b.py"]
    r = tl("check", "--output-format", "concise", "--no-cache", "--isolated", "sub/b.py", "a.py", cwd=repo)
    assert sorted(findings(r)) == ["a.py", "sub/b.py"]
    # the command line still goes on top of the file each path gets
    r = tl("check", "--output-format", "concise", "--no-cache", "--extend-select", "TL001", "sub/b.py", "a.py",
           cwd=repo)
    assert sorted(findings(r)) == ["a.py", "sub/b.py"]


def test_show_settings_names_the_file_used_for_path(repo):
    r = tl("check", "--show-settings", "sub/b.py", cwd=repo)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0] == f'config-file = "{repo / "sub" / "pyproject.toml"}"', r.stdout
    assert "TL001" not in next(line for line in lines if line.startswith("select = "))
    r = tl("check", "--show-settings", "a.py", cwd=repo)
    lines = r.stdout.splitlines()
    assert lines[0] == "config-file = null" and "TL001" in next(x for x in lines if x.startswith("select = "))


def test_a_sub_projects_excludes_hold_below_it_only(tmp_path):
    write(tmp_path / "sub" / "torchlint.toml", 'extend-exclude = ["gen"]\n')
    for p in ("gen/x.py", "sub/gen/y.py", "sub/z.py"):
        write(tmp_path / p, BAD)
    r = tl("check", "--show-files", ".", cwd=tmp_path)
    assert r.stdout.splitlines() == ["gen/x.py", "sub/z.py"]


def test_a_broken_configuration_found_during_the_walk_is_exit_2(repo):
    write(repo / "sub" / "pyproject.toml", '[tool.torchlint]\nselec = ["TL001"]\n')
    r = tl("check", ".", cwd=repo)
    assert r.returncode == 2 and r.stderr.startswith("torchlint: error: sub/pyproject.toml: [tool.torchlint]: "
                                                     "unknown key 'selec'"), r.stderr


# -- extend ---------------------------------------------------------------------------------------------------

def test_extend_inherits_and_overrides(tmp_path):
    write(tmp_path / "pyproject.toml", textwrap.dedent("""\
        [tool.torchlint]
        select = ["TL001", "TL002", "TL004"]
        ignore = ["TL004"]
        extend-exclude = ["legacy"]
        per-file-ignores = {"sub/tests/*" = ["TL002"], "conftest.py" = ["TL001"]}
        unsafe-fixes = true
        cache-dir = ".cache/tl"
        """))
    write(tmp_path / "sub" / "pyproject.toml", textwrap.dedent("""\
        [tool.torchlint]
        extend = "../pyproject.toml"
        extend-select = ["TL005"]
        ignore = ["TL001"]
        extend-exclude = ["gen"]
        """))
    s = build_settings([str(tmp_path / "sub")])
    assert s.config_file.resolve() == (tmp_path / "sub" / "pyproject.toml").resolve()
    assert [p.resolve() for p in s.extends] == [(tmp_path / "pyproject.toml").resolve()]
    assert s.select == frozenset({"TL002", "TL005"})  # base: 001, 002 (004 ignored); then +005, -001
    assert s.extend_exclude == ("legacy", "gen")  # accumulates
    # the base's globs, written relative to the base, now relative to sub/ (the project root)
    assert dict(s.per_file_ignores) == {"tests/*": frozenset({"TL002"}), "conftest.py": frozenset({"TL001"})}
    assert s.project_root == (tmp_path / "sub").resolve()
    assert s.unsafe_fixes is True  # inherited
    assert s.cache_dir == (tmp_path / ".cache" / "tl").resolve()  # relative to the file that says it


def test_select_in_the_extending_file_starts_over(tmp_path):
    write(tmp_path / "base.toml", 'select = ["TL001"]\nextend-select = ["TL002"]\n')
    write(tmp_path / "torchlint.toml", 'extend = "base.toml"\nselect = ["TL003"]\n')
    assert build_settings([str(tmp_path)]).select == frozenset({"TL003"})


def test_extend_through_the_cli_with_a_sub_project(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.torchlint]\nper-file-ignores = {"sub/legacy.py" = ["TL001"]}\n')
    write(tmp_path / "sub" / "pyproject.toml", '[tool.torchlint]\nextend = "../pyproject.toml"\n')
    write(tmp_path / "sub" / "legacy.py", BAD)
    write(tmp_path / "sub" / "new.py", BAD)
    r = tl("check", "--output-format", "concise", "--no-cache", ".", cwd=tmp_path)
    assert findings(r) == ["sub/new.py"], r.stdout
    r = tl("check", "--output-format", "concise", "--no-cache", ".", cwd=tmp_path / "sub")
    assert findings(r) == ["new.py"], r.stdout + r.stderr  # the base's glob, rebased onto sub/


@pytest.mark.parametrize("files, message", [
    ({"torchlint.toml": 'extend = "nope.toml"\n'}, "torchlint.toml: 'extend' names 'nope.toml', which is not a file"),
    ({"torchlint.toml": 'extend = "b.toml"\n', "b.toml": 'extend = "torchlint.toml"\n'}, "'extend' loops back"),
    ({"torchlint.toml": "extend = 3\n"}, "torchlint.toml: 'extend' must be a string, got 3"),
    ({"torchlint.toml": 'extend = "b.toml"\n', "b.toml": 'selec = ["TL001"]\n'}, "b.toml: unknown key 'selec'"),
])
def test_extend_errors_name_the_file(tmp_path, monkeypatch, files, message):
    for name, text in files.items():
        write(tmp_path / name, text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_resolver().run  # the current directory's configuration, read when asked for


# -- git's own excludes ---------------------------------------------------------------------------------------

def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)


def test_git_info_exclude_and_core_excludes_file_are_honoured(tmp_path):
    work = tmp_path / "work"
    _git("init", "-q", str(work), cwd=tmp_path)
    for p in ("keep.py", "local_only.py", "scratch/s.py", "mine.py", "xdg.py"):
        write(work / p, BAD)
    write(work / ".git" / "info" / "exclude", "local_only.py\nscratch/\n")
    write(tmp_path / "my-ignores", "mine.py\n")
    _git("config", "core.excludesFile", str(tmp_path / "my-ignores"), cwd=work)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    r = tl("check", "--show-files", cwd=work, env=env)
    assert r.stdout.splitlines() == ["keep.py", "xdg.py"], r.stdout + r.stderr
    # without core.excludesFile, git's default file: $XDG_CONFIG_HOME/git/ignore
    _git("config", "--unset", "core.excludesFile", cwd=work)
    write(tmp_path / "xdg" / "git" / "ignore", "xdg.py\n")
    r = tl("check", "--show-files", cwd=work, env=env)
    assert r.stdout.splitlines() == ["keep.py", "mine.py"], r.stdout + r.stderr
    r = tl("check", "--show-files", "--no-respect-gitignore", cwd=work, env=env)
    assert r.stdout.splitlines() == ["keep.py", "local_only.py", "mine.py", "scratch/s.py", "xdg.py"]
    # pre-commit names files: --force-exclude applies git's excludes to them too
    r = tl("check", "--show-files", "--force-exclude", "keep.py", "local_only.py", cwd=work, env=env)
    assert r.stdout.splitlines() == ["keep.py"]
