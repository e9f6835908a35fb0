"""Configuration: finding the file, reading [tool.torchlint], merging the command line, errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from tlcli import BAD, proj, tl  # noqa: F401  (proj is a fixture)
from torchlint.workspace.config import DEFAULT_EXCLUDES, ConfigError, build_settings, expand, find_config, read_config
from torchlint.registry import all_rules

ALL = {r.code for r in all_rules()}
DEFAULT = {r.code for r in all_rules() if r.default}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_expand_selectors():
    assert expand(["TL001"]) == {"TL001"}
    assert expand(["backward-non-scalar"]) == {"TL001"}
    assert expand(["ALL"]) == ALL and expand(["all"]) == ALL
    assert expand(["TL00"]) == {c for c in ALL if c.startswith("TL00")}
    assert expand(["tl001", " TL002 "]) == {"TL001", "TL002"}
    with pytest.raises(ConfigError, match=r"--select: unknown rule selector 'TL9'; use ALL, a code or prefix, or a "
                                          r"name: TL001 \(backward-non-scalar\)"):
        expand(["TL9"], "--select")


def test_closest_config_wins_and_pyproject_without_table_is_skipped(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.torchlint]\nselect = ["TL001"]\n')
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.torchlint]: skipped
    write(tmp_path / "sub" / "deeper" / "m.py", BAD)
    assert find_config(tmp_path / "sub" / "deeper" / "m.py") == tmp_path / "pyproject.toml"
    write(tmp_path / "sub" / "torchlint.toml", 'select = ["TL002"]\n')
    assert find_config(tmp_path / "sub" / "deeper") == tmp_path / "sub" / "torchlint.toml"
    s = build_settings([str(tmp_path / "sub" / "deeper")])
    assert s.select == frozenset({"TL002"}) and s.project_root == (tmp_path / "sub").resolve()


def test_torchlint_toml_beats_pyproject_in_the_same_directory(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.torchlint]\nselect = ["TL001"]\n')
    write(tmp_path / "torchlint.toml", 'select = ["TL003"]\n')
    assert build_settings([str(tmp_path)]).select == frozenset({"TL003"})


def test_torchlint_toml_may_use_a_tool_table(tmp_path):
    p = write(tmp_path / "torchlint.toml", '[tool.torchlint]\nselect = ["TL004"]\n')
    assert read_config(p) == {"select": ["TL004"]}


def test_defaults(tmp_path):
    s = build_settings([str(tmp_path)], isolated=True)
    assert s.select == frozenset(DEFAULT)
    assert s.exclude == DEFAULT_EXCLUDES and {".git", ".venv", "venv", "node_modules", "dist",
                                              "__pypackages__"} <= set(s.exclude)
    assert s.respect_gitignore is True and s.force_exclude is False and s.unsafe_fixes is False
    assert s.output_format == "full" and s.per_file_ignores == ()


def test_every_key(tmp_path):
    write(tmp_path / "pyproject.toml", """\
[tool.torchlint]
select = ["TL0"]
ignore = ["TL002"]
extend-select = ["TL001"]
per-file-ignores = {"tests/*" = ["TL001", "backward-twice"]}
exclude = ["gen"]
extend-exclude = ["legacy"]
respect-gitignore = false
force-exclude = true
unsafe-fixes = true
output-format = "concise"
cache-dir = ".cache/tl"
""")
    s = build_settings([str(tmp_path)])
    assert s.select == frozenset(c for c in ALL if c.startswith("TL0") and c != "TL002")
    assert s.per_file_ignores == (("tests/*", frozenset({"TL001", "TL008"})),)
    assert s.exclude == ("gen",) and s.extend_exclude == ("legacy",)
    assert (s.respect_gitignore, s.force_exclude, s.unsafe_fixes) == (False, True, True)
    assert s.output_format == "concise"
    assert s.cache_dir == tmp_path.resolve() / ".cache" / "tl"
    assert s.config_file == tmp_path / "pyproject.toml"


def test_command_line_overrides_the_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.torchlint]\nselect = ["TL001", "TL002"]\nignore = ["TL002"]\n'
                                       'respect-gitignore = false\noutput-format = "json"\nexclude = ["a"]\n')
    base = build_settings([str(tmp_path)])
    assert base.select == frozenset({"TL001"})
    s = build_settings([str(tmp_path)], select=["TL003"], respect_gitignore=True, output_format="github",
                       exclude=["b"], extend_exclude=["c"])
    assert s.select == frozenset({"TL003"})  # --select replaces the file's select and ignore, as in Ruff
    assert s.respect_gitignore is True and s.output_format == "github"
    assert s.exclude == ("b",) and s.extend_exclude == ("c",)
    s = build_settings([str(tmp_path)], extend_select=["TL004"], ignore=["TL001"])
    assert s.select == frozenset({"TL004"})
    assert build_settings([str(tmp_path)], isolated=True).select == frozenset(DEFAULT)


def test_explicit_config_path(tmp_path):
    cfg = write(tmp_path / "conf" / "custom.toml", 'select = ["TL005"]\n')
    assert build_settings([str(tmp_path)], config=str(cfg)).select == frozenset({"TL005"})
    with pytest.raises(ConfigError, match="--config: nope.toml: no such file"):
        build_settings([str(tmp_path)], config="nope.toml")


@pytest.mark.parametrize("body, message", [
    ('selec = ["TL001"]', "[tool.torchlint]: unknown key 'selec' (did you mean 'select'?); valid keys are: "
                          "cache-dir, exclude, extend, extend-exclude, extend-select, force-exclude, ignore, output-format, "
                          "per-file-ignores, respect-gitignore, select, src, unsafe-fixes"),
    ('output-format = "xml"', "[tool.torchlint]: 'output-format' is 'xml'; valid values are: full, concise, json, "
                              "json-lines, sarif, github, gitlab, junit"),
    ('respect-gitignore = "yes"', "[tool.torchlint]: 'respect-gitignore' must be true or false, got \"yes\""),
    ('select = "TL001"', "[tool.torchlint]: 'select' must be a list of strings, got \"TL001\""),
    ('ignore = [1]', "[tool.torchlint]: 'ignore' must be a list of strings, got the item 1"),
    ('select = ["TL9"]', "[tool.torchlint]: 'select': unknown rule selector 'TL9'; use ALL, a code or prefix"),
    ('per-file-ignores = {"a.py" = "TL001"}', "[tool.torchlint]: 'per-file-ignores' entry 'a.py' must be a list of "
                                              "rule codes"),
    ('per-file-ignores = {"a.py" = ["XX1"]}', "'per-file-ignores' entry 'a.py': unknown rule selector 'XX1'"),
    ('select = ["TL001"', "invalid TOML: "),
])
def test_bad_config_is_one_line_naming_file_key_and_choices(tmp_path, body, message, monkeypatch):
    p = write(tmp_path / "sub" / "pyproject.toml", f"[tool.torchlint]\n{body}\n")
    with pytest.raises(ConfigError) as e:
        build_settings([str(tmp_path / "sub")])
    text = str(e.value)
    assert text.startswith(str(p) + ": ") and message in text and "\n" not in text
    monkeypatch.chdir(tmp_path)  # shown relative to the current directory when below it
    with pytest.raises(ConfigError) as e:
        build_settings(["sub"])
    assert str(e.value).startswith("sub/pyproject.toml: ")


def test_bad_config_through_the_cli(proj):
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nselec = ["TL001"]\n')
    r = tl("check", "pkg", cwd=proj)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("torchlint: error: pyproject.toml: [tool.torchlint]: unknown key 'selec' "
                               "(did you mean 'select'?); valid keys are: ") and r.stderr.count("\n") == 1
    assert tl("check", "pkg", "--isolated", cwd=proj).returncode == 1  # --isolated ignores the file
    r = tl("check", "pkg", "--config", "missing.toml", cwd=proj)
    assert r.returncode == 2 and "--config: missing.toml: no such file" in r.stderr
    (proj / "torchlint.toml").write_text("unsafe-fixes = 1\n")
    r = tl("check", "pkg", cwd=proj)
    assert r.returncode == 2 and "torchlint.toml: 'unsafe-fixes' must be true or false, got 1" in r.stderr


def test_config_select_and_per_file_ignores_through_the_cli(proj):
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nselect = ["TL002"]\n')
    assert tl("check", "pkg", cwd=proj).returncode == 0  # TL001 not selected
    assert tl("check", "pkg", "--extend-select", "TL001", cwd=proj).returncode == 1
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nper-file-ignores = {"pkg/bad.py" = ["TL001"]}\n')
    assert tl("check", "pkg", cwd=proj).returncode == 0
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nper-file-ignores = {"bad.py" = ["TL0"]}\n')
    assert tl("check", "pkg", cwd=proj).returncode == 0  # a bare file name matches in any directory
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nper-file-ignores = {"other/*" = ["TL001"]}\n')
    assert tl("check", "pkg", cwd=proj).returncode == 1


def test_cli_selection_forms(proj):
    for sel in ("TL001", "TL0", "ALL", "backward-non-scalar", "TL002,TL001"):
        assert tl("check", "pkg", "--select", sel, cwd=proj).returncode == 1, sel
    assert tl("check", "pkg", "--select", "TL002", cwd=proj).returncode == 0
    assert tl("check", "pkg", "--ignore", "TL001", cwd=proj).returncode == 0
    assert tl("check", "pkg", "--select", "ALL", "--ignore", "backward-non-scalar", cwd=proj).returncode == 0


def test_show_settings_and_show_files(tmp_path):
    from tlcli import BAD, tl

    (tmp_path / "pyproject.toml").write_text('[tool.torchlint]\nselect = ["TL001"]\n'
                                             'per-file-ignores = {"tests/*" = ["TL001"]}\nextend-exclude = ["gen"]\n')
    for p in ("a.py", "gen/b.py", "pkg/c.py", "notes.txt"):
        (tmp_path / p).parent.mkdir(exist_ok=True)
        (tmp_path / p).write_text(BAD)
    r = tl("check", "--show-settings", cwd=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert 'select = ["TL001"]' in lines
    assert 'per-file-ignores = {"tests/*": ["TL001"]}' in lines
    assert 'extend-exclude = ["gen"]' in lines
    assert f'config-file = "{tmp_path / "pyproject.toml"}"' in lines
    r = tl("check", "--show-files", cwd=tmp_path)
    assert (r.returncode, r.stdout.splitlines()) == (0, ["a.py", "pkg/c.py"])
    r = tl("check", "--show-files", "a.py", "missing.py", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout.splitlines() == ["a.py"] and "missing.py" in r.stderr
