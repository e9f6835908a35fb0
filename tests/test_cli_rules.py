"""``torchlint rule``, ``torchlint rules``, ``api-coverage``, and a lean start-up."""
from __future__ import annotations

import json
import subprocess
import sys

from tlcli import BAD, tl
from torchlint.registry import all_rules


def test_rule_prints_markdown_doc():
    r = tl("rule", "TL001")
    assert r.returncode == 0
    assert r.stdout.startswith("# backward-non-scalar (TL001)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in r.stdout, section
    assert tl("rule", "backward-non-scalar").stdout == r.stdout
    assert tl("rule", "tl001").stdout == r.stdout


def test_rule_unknown_lists_the_known_ones():
    r = tl("rule", "TL998")
    assert r.returncode == 2
    assert "unknown rule 'TL998'; known rules: TL001 (backward-non-scalar)" in r.stderr


def test_rule_json():
    data = json.loads(tl("rule", "TL001", "--output-format", "json").stdout)
    assert data["code"] == "TL001" and data["name"] == "backward-non-scalar" and "## What it does" in data["explanation"]


def _on_a_terminal(*args, cwd=None, stderr_too=False) -> str:
    """Run torchlint with stdout (and stderr) on a pseudo-terminal, as a user at a shell sees it."""
    import os
    import pty  # noqa: F401  (POSIX only, like the rest of these tests)

    master, slave = os.openpty()
    env = dict(os.environ, COLUMNS="100", TERM="xterm")
    env.pop("NO_COLOR", None)
    p = subprocess.Popen([sys.executable, "-m", "torchlint", *args], stdout=slave,
                         stderr=slave if stderr_too else subprocess.DEVNULL, cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_rule_on_a_terminal_is_rendered_with_rich_markdown():
    import re

    out = _on_a_terminal("rule", "TL001")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    assert "\x1b[" in out  # styled
    assert "What it does" in plain and "## What it does" not in plain  # headings rendered, not raw Markdown


def test_rules_on_a_terminal_is_a_table():
    import re

    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", _on_a_terminal("rules"))
    assert "torchlint rules" in plain and "backward-non-scalar" in plain and "│" in plain


def test_check_on_a_terminal_is_coloured(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    out = _on_a_terminal("check", "bad.py", "--no-cache", cwd=tmp_path)
    assert "\x1b[" in out and "TL001" in out and "4 | y.backward()" in out


def test_rules_table_and_json():
    codes = [r.code for r in all_rules()]
    data = json.loads(tl("rules", "--output-format", "json").stdout)
    assert [d["code"] for d in data] == codes
    assert set(data[0]) >= {"code", "name", "summary", "fix", "default", "url"}
    lines = tl("rules").stdout.splitlines()
    assert len(lines) == len(codes)
    assert lines[0].startswith("TL001\tbackward-non-scalar\ton\tfix=")


def test_docs_rules_md_is_generated_and_every_rule_url_resolves():
    """docs/rules.md is what `torchlint rules --output-format markdown` prints, and each
    rule's url (used by json, sarif and the flake8 plugin) points at an anchor in it."""
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    out = tl("rules", "--output-format", "markdown").stdout
    assert out == page, "docs/rules.md is stale: run `torchlint rules --output-format markdown > docs/rules.md`"
    for r in all_rules():
        path, _, anchor = r.url().partition("#")
        assert path.endswith("docs/rules.md")
        assert f'<a id="{anchor}"></a>' in page, r.code
        assert f"## {r.code} `{r.name}`" in page
        assert "### What it does" in page.split(f"## {r.code} ", 1)[1]


def test_api_coverage():
    cov = json.loads(tl("api-coverage", "--output-format", "json").stdout)
    assert cov["names"] >= 300
    assert tl("api-coverage").stdout.startswith("PyTorch API model: ")


def test_progress_bar_only_on_a_terminal_with_many_files(tmp_path):
    for i in range(12):
        (tmp_path / f"m{i:02}.py").write_text(BAD)
    out = _on_a_terminal("check", ".", "--no-cache", "--jobs", "1", cwd=tmp_path, stderr_too=True)
    assert "checking" in out and "12/12" in out
    out = _on_a_terminal("check", ".", "--no-cache", "--output-format", "json", cwd=tmp_path, stderr_too=True)
    assert "checking" not in out  # never for machine formats
    out = _on_a_terminal("check", "m00.py", "m01.py", "--no-cache", cwd=tmp_path, stderr_too=True)
    assert "checking" not in out  # not for a handful of files


IMPORTS = ("import sys, runpy\nsys.argv = ['torchlint'] + sys.argv[1:]\n"
           "try:\n    runpy.run_module('torchlint', run_name='__main__')\n"
           "except SystemExit as e:\n    code = e.code\n"
           "print('\\nIMPORTED', 'libcst' in sys.modules, 'rich' in sys.modules, code, file=sys.stderr)")


def _imports(*args, cwd):
    r = subprocess.run([sys.executable, "-c", IMPORTS, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return r.stderr.strip().splitlines()[-1]


def test_startup_is_lean(tmp_path):
    """A file without trigger words never costs a libcst import; rich only for a terminal."""
    (tmp_path / "plain.py").write_text("print('nothing to see')\n")
    (tmp_path / "bad.py").write_text(BAD)
    assert _imports("check", "plain.py", cwd=tmp_path) == "IMPORTED False False 0"
    assert _imports("check", "plain.py", "--output-format", "sarif", cwd=tmp_path) == "IMPORTED False False 0"
    assert _imports("rules", cwd=tmp_path) == "IMPORTED False False 0"
    # a file that needs parsing does import libcst, but piped output still needs no rich
    assert _imports("check", "bad.py", "--no-cache", cwd=tmp_path) == "IMPORTED True False 1"
