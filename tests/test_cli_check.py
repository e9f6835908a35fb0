"""``torchlint check`` as a user runs it: exit codes, output, --diff, --stdin-filename, cache, jobs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlcli import BAD, CLEAN, FIXED, proj, tl  # noqa: F401  (proj is a fixture)

LOOP = """\
import torch
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    loss = model(torch.randn(4, 2)).mean()
    loss.backward()
    opt.step()
"""


def test_exit_codes(proj):
    r = tl("check", "pkg/clean.py", "pkg/nothing.py", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")
    r = tl("check", "pkg", cwd=proj)
    assert r.returncode == 1
    assert "pkg/bad.py:4:1: TL001 [*] `y` has shape (3,)" in r.stdout
    assert r.stdout.endswith("Found 1 problem (1 fixable with --fix).\n")
    assert tl("check", "pkg", "--exit-zero", cwd=proj).returncode == 0
    r = tl("check", "--select", "NOPE", "pkg", cwd=proj)
    assert r.returncode == 2 and "unknown rule selector 'NOPE'" in r.stderr and r.stdout == ""
    r = tl("check", "--output-format", "xml", "pkg", cwd=proj)
    assert r.returncode == 2 and "'xml' is not one of" in r.stderr


def test_default_path_is_the_current_directory(proj):
    r = tl("check", "--output-format", "concise", cwd=proj)
    assert r.returncode == 1 and r.stdout.startswith("pkg/bad.py:4:1: TL001")


def test_full_format_has_code_frame_caret_and_help(proj):
    first = tl("check", "pkg/bad.py", cwd=proj).stdout
    out = tl("check", "pkg/bad.py", cwd=proj).stdout  # from the cache this time
    assert out == first
    lines = out.splitlines()
    assert lines[0].startswith("pkg/bad.py:4:1: TL001 [*] ")
    assert lines[1:4] == ["3 | y = x * 2  # keep this comment", "4 | y.backward()", "    ^^^^^^^^^^^^"]
    assert "  = error: backward-non-scalar" in lines
    assert "  = help: Reduce `y` with .sum() before backward() [safe fix]" in lines
    assert "5 | " not in out  # no phantom line after the last one


def test_quiet_drops_the_summary(proj):
    r = tl("check", "pkg", "--quiet", "--output-format", "concise", cwd=proj)
    assert r.returncode == 1 and r.stdout.splitlines() == [r.stdout.splitlines()[0]]
    assert "Found" not in r.stdout
    assert tl("check", "pkg/clean.py", "-q", cwd=proj).stdout == ""


def test_every_format_end_to_end(proj):
    for fmt, check in [
        ("concise", lambda o: o.startswith("pkg/bad.py:4:1: TL001 [*] ")),
        ("json", lambda o: json.loads(o)[0]["location"] == {"row": 4, "column": 1}),
        ("json-lines", lambda o: [json.loads(x)["code"] for x in o.splitlines()] == ["TL001"]),
        ("sarif", lambda o: json.loads(o)["runs"][0]["results"][0]["ruleId"] == "TL001"),
        ("github", lambda o: o.startswith("::error title=torchlint (TL001),file=pkg/bad.py,line=4,col=1,")),
        ("junit", lambda o: '<failure type="TL001"' in o),
    ]:
        r = tl("check", "pkg", "--output-format", fmt, cwd=proj)
        assert r.returncode == 1 and check(r.stdout), (fmt, r.stdout, r.stderr)
        assert ("Found 1 problem" in r.stdout) == (fmt == "concise")  # machine formats carry no summary


def test_several_formats_in_one_run(proj):
    r = tl("check", "pkg", "--output-format", "concise", "--output-format", "sarif:out/r.sarif", "--output-format",
           "json-lines:r.jsonl", cwd=proj)
    assert r.returncode == 2 and "--output-file: cannot write out/r.sarif" in r.stderr  # no such directory
    (proj / "out").mkdir()
    r = tl("check", "pkg", "--output-format", "concise", "--output-format", "sarif:out/r.sarif", "--output-format",
           "json-lines:r.jsonl", "--output-format", "full:r.txt", cwd=proj)
    assert r.returncode == 1 and r.stdout.startswith("pkg/bad.py:4:1: TL001 [*]") and "4 | " not in r.stdout
    assert json.loads((proj / "out" / "r.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "TL001"
    assert json.loads((proj / "r.jsonl").read_text().splitlines()[0])["code"] == "TL001"
    assert "4 | y.backward()" in (proj / "r.txt").read_text()
    r = tl("check", "pkg", "--output-format", "github:gh.txt", cwd=proj)  # only files: stdout gets the default
    assert "4 | y.backward()" in r.stdout and (proj / "gh.txt").read_text().startswith("::error ")
    r = tl("check", "--stdin-filename", "s.py", "--output-format", "json:s.json", "-q", input=BAD, cwd=proj)
    assert r.returncode == 1 and json.loads((proj / "s.json").read_text())[0]["filename"] == "s.py"
    for bad, message in [(["json", "concise"], "only one format can go to standard output"),
                         (["json:"], "give a file name after the colon"),
                         (["xml:r.xml"], "'xml' is not one of full, concise")]:
        r = tl("check", "pkg", *[a for f in bad for a in ("--output-format", f)], cwd=proj)
        assert r.returncode == 2 and message in r.stderr, r.stderr


def test_output_format_from_config(proj):
    (proj / "pyproject.toml").write_text('[tool.torchlint]\noutput-format = "json-lines"\n')
    out = tl("check", "pkg", cwd=proj).stdout
    assert json.loads(out.splitlines()[0])["code"] == "TL001"
    assert tl("check", "pkg", "--output-format", "concise", cwd=proj).stdout.startswith("pkg/bad.py:4:1:")


def test_output_file(proj):
    r = tl("check", "pkg", "--output-format", "json", "--output-file", "report.json", cwd=proj)
    assert r.returncode == 1 and r.stdout == ""
    assert json.loads((proj / "report.json").read_text())[0]["code"] == "TL001"
    r = tl("check", "pkg", "-o", "no/such/dir/r.txt", cwd=proj)
    assert r.returncode == 2 and "--output-file: cannot write no/such/dir/r.txt" in r.stderr


def test_color(proj):
    plain = tl("check", "pkg/bad.py", cwd=proj).stdout
    assert "\x1b[" not in plain  # piped: no colour
    colored = tl("check", "pkg/bad.py", "--color", "always", cwd=proj).stdout
    assert "\x1b[" in colored and "TL001" in colored and "[bold]" not in colored
    assert tl("check", "pkg/bad.py", "--color", "always", "--output-format", "json", cwd=proj).stdout.startswith("[")
    tl("check", "pkg/bad.py", "--color", "always", "-o", "out.txt", cwd=proj)
    assert "\x1b[" in (proj / "out.txt").read_text()
    tl("check", "pkg/bad.py", "-o", "out2.txt", cwd=proj)
    assert "\x1b[" not in (proj / "out2.txt").read_text() and "4 | y.backward()" in (proj / "out2.txt").read_text()


def test_no_progress_bar_when_piped(tmp_path):
    for i in range(15):
        (tmp_path / f"m{i}.py").write_text(BAD)
    r = tl("check", ".", "--no-cache", cwd=tmp_path)
    assert "checking" not in r.stderr and "\x1b[" not in r.stderr


def test_diff_writes_nothing(proj):
    before = (proj / "pkg" / "bad.py").read_text()
    r = tl("check", "pkg", "--diff", cwd=proj)
    assert r.returncode == 1
    assert "--- a/pkg/bad.py" in r.stdout and "-y.backward()" in r.stdout and "+y.sum().backward()" in r.stdout
    assert "Would fix 1 problem." in r.stderr
    assert (proj / "pkg" / "bad.py").read_text() == before
    r = tl("check", "pkg/clean.py", "--diff", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "")


def test_unsafe_fixes_need_the_flag(tmp_path):
    (tmp_path / "loop.py").write_text(LOOP)
    r = tl("check", "loop.py", cwd=tmp_path)
    assert "loop.py:6:5: TL007 this loop" in r.stdout  # no [*]: not fixable without --unsafe-fixes
    assert "Insert opt.zero_grad() before the backward pass [unsafe fix (needs --unsafe-fixes)]" in r.stdout
    assert "1 hidden fix can be enabled with the --unsafe-fixes option." in r.stdout
    assert tl("check", "loop.py", "--fix", cwd=tmp_path).returncode == 1
    assert (tmp_path / "loop.py").read_text() == LOOP
    r = tl("check", "loop.py", "--unsafe-fixes", "--output-format", "concise", cwd=tmp_path)
    assert "TL007 [*]" in r.stdout and "(1 fixable with --fix)" in r.stdout
    r = tl("check", "loop.py", "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "    opt.zero_grad()\n    loss.backward()" in (tmp_path / "loop.py").read_text()
    (tmp_path / "loop.py").write_text(LOOP)
    (tmp_path / "torchlint.toml").write_text("unsafe-fixes = true\n")
    assert tl("check", "loop.py", "--fix", cwd=tmp_path).returncode == 0
    assert "opt.zero_grad()" in (tmp_path / "loop.py").read_text()


def test_stdin(proj):
    r = tl("check", "--stdin-filename", "snippet.py", input=BAD, cwd=proj)
    assert r.returncode == 1 and "snippet.py:4:1: TL001" in r.stdout and "4 | y.backward()" in r.stdout
    r = tl("check", "--stdin-filename", "snippet.py", "--fix", input=BAD, cwd=proj)
    assert (r.returncode, r.stdout) == (0, FIXED)
    r = tl("check", "--stdin-filename", "snippet.py", "--diff", input=BAD, cwd=proj)
    assert r.returncode == 1 and "+y.sum().backward()" in r.stdout
    r = tl("check", "--stdin-filename", "snippet.py", "--output-format", "json", input=CLEAN, cwd=proj)
    assert (r.returncode, r.stdout) == (0, "[]\n")
    r = tl("check", "--stdin-filename", "snippet.py", input="print('no trigger words')\n", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")


def test_stdin_bad_input(proj):
    broken = "import torch\ndef f(:\n    y.backward()\n"
    r = tl("check", "--stdin-filename", "s.py", "--output-format", "concise", input=broken, cwd=proj)
    assert r.returncode == 1 and "s.py:2:7: E999 SyntaxError: invalid syntax" in r.stdout
    r = tl("check", "--stdin-filename", "s.py", "--fix", input=broken, cwd=proj)
    assert r.returncode == 1 and r.stdout == broken and "s.py:2:7: E999" in r.stderr  # text passed through
    nocr = BAD.rstrip("\n")
    r = tl("check", "--stdin-filename", "s.py", "--diff", input=nocr, cwd=proj)
    assert "+y.sum().backward()\n\\ No newline at end of file\n" in r.stdout


def test_stdin_respects_noqa_per_file_ignores_and_force_exclude(proj):
    r = tl("check", "--stdin-filename", "s.py", input=BAD.replace("y.backward()", "y.backward()  # noqa"), cwd=proj)
    assert r.returncode == 0
    (proj / "pyproject.toml").write_text('[tool.torchlint]\nper-file-ignores = {"gen/*" = ["TL001"]}\n'
                                         'extend-exclude = ["vendored"]\n')
    assert tl("check", "--stdin-filename", "gen/s.py", input=BAD, cwd=proj).returncode == 0
    assert tl("check", "--stdin-filename", "vendored/s.py", input=BAD, cwd=proj).returncode == 1
    r = tl("check", "--stdin-filename", "vendored/s.py", "--force-exclude", input=BAD, cwd=proj)
    assert (r.returncode, r.stdout) == (0, "")
    r = tl("check", "--stdin-filename", "vendored/s.py", "--force-exclude", "--fix", input=BAD, cwd=proj)
    assert (r.returncode, r.stdout) == (0, BAD)


def test_statistics_mark_only_what_fix_would_fix(tmp_path):
    # TL008's retain_graph fix is unsafe: [*] only with --unsafe-fixes, as in the full output
    src = ("import torch\nw = torch.ones(2, requires_grad=True)\nloss = (w * w).sum()\n"
           "loss.backward()\nloss.backward()\n")
    (tmp_path / "t.py").write_text(src)
    r = tl("check", "t.py", "--statistics", "--isolated", cwd=tmp_path)
    assert r.stdout.splitlines()[0] == "    1\tTL008\t[ ] backward-twice"
    r = tl("check", "t.py", "--statistics", "--isolated", "--unsafe-fixes", cwd=tmp_path)
    assert r.stdout.splitlines()[0] == "    1\tTL008\t[*] backward-twice"


def test_statistics_and_show_fixes(proj):
    (proj / "pkg" / "bad2.py").write_text(BAD + "z = x * 3\nz.backward()\n")
    r = tl("check", "pkg", "--statistics", cwd=proj)
    assert r.stdout == "    3\tTL001\t[*] backward-non-scalar\nFound 3 problems (3 fixable with --fix).\n"
    r = tl("check", "pkg", "--statistics", "--output-format", "json", cwd=proj)  # as Ruff: the counts, as JSON
    assert json.loads(r.stdout) == [{"code": "TL001", "name": "backward-non-scalar", "count": 3, "fixable": True,
                                     "fixable_count": 3}] and r.stderr == ""
    r = tl("check", "pkg", "--statistics", "--output-format", "sarif", cwd=proj)  # other formats: counts on stderr
    assert json.loads(r.stdout)["version"] == "2.1.0" and r.stderr == "    3\tTL001\t[*] backward-non-scalar\n"
    (proj / "pkg" / "bad2.py").unlink()
    r = tl("check", "pkg", "--fix", "--show-fixes", cwd=proj)
    assert "Fixed:\n  pkg/bad.py: 1 x TL001 (backward-non-scalar)" in r.stdout
    assert "Found 1 problem (1 fixed, 0 remaining)." in r.stdout


def test_cache_is_used_and_clean_removes_it(proj):
    r1 = tl("check", "pkg", "--output-format", "json", cwd=proj)
    cache = proj / ".torchlint_cache"
    assert (cache / "CACHEDIR.TAG").is_file() and (cache / ".gitignore").read_text() == "*\n"
    r2 = tl("check", "pkg", "--output-format", "json", cwd=proj)
    assert r1.stdout == r2.stdout
    for entry in cache.rglob("*.json"):
        entry.write_text("{corrupt")
    r3 = tl("check", "pkg", "--output-format", "json", cwd=proj)
    assert r3.stdout == r1.stdout and "ignoring unreadable cache index" in r3.stderr
    assert "Removed" in tl("clean", cwd=proj).stdout and not cache.exists()
    tl("check", "pkg", "--no-cache", cwd=proj)
    assert not cache.exists()


def test_jobs_give_identical_output(tmp_path):
    for i in range(12):
        (tmp_path / f"m{i:02}.py").write_text(BAD if i % 2 else CLEAN)
    one = tl("check", ".", "--no-cache", "--jobs", "1", "--output-format", "json", cwd=tmp_path).stdout
    two = tl("check", ".", "--no-cache", "--jobs", "3", "--output-format", "json", cwd=tmp_path).stdout
    data = json.loads(one)
    assert one == two and len(data) == 6
    assert [d["filename"] for d in data] == sorted(d["filename"] for d in data)


def test_python_dash_m_and_console_script_agree(proj):
    exe = shutil.which("torchlint", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("console script not installed (pip install -e .)")
    a = subprocess.run([exe, "check", "pkg", "--output-format", "json"], cwd=proj, capture_output=True, text=True)
    assert a.returncode == 1
    assert a.stdout == tl("check", "pkg", "--output-format", "json", cwd=proj).stdout


def test_version_and_help():
    assert tl("--version").stdout.startswith("torchlint 0.")
    assert tl("version").stdout == tl("--version").stdout
    out = tl("check", "--help").stdout
    for flag in ("--fix", "--unsafe-fixes", "--diff", "--show-fixes", "--select", "--ignore", "--extend-select",
                 "--exit-zero", "--statistics", "--output-format", "--output-file", "--quiet", "--color",
                 "--stdin-filename", "--config", "--isolated"):
        assert flag in out, flag
    r = tl("check", "--no-such-flag")
    assert r.returncode == 2 and "No such option" in r.stderr
