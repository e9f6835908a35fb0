"""Every command the README shows, run as a user would, with its shown output checked.

* ``console`` blocks: a ``$ `` line is a command (run by bash, so pipes and
  ``echo "exit code: $?"`` work), and the lines after it are output that must
  appear, in that order, each inside one line of the real output (stdout and
  stderr together, as a terminal shows them).  The exit code must be 0 or 1,
  or 2 when the shown output is a ``torchlint: error:``.
* ``bash`` blocks (set-up): run minus their ``pip install`` steps (which
  ``.ci/run`` runs for real) and minus the test suite itself (no recursion).
* ``yaml`` blocks: the pre-commit snippet must name this repository's hook; the
  GitHub Actions workflow's ``run:`` steps are run, and the SARIF file it
  uploads must be SARIF 2.1.0.
* ``toml`` blocks: a valid configuration (loaded, and used for a check).
* ``python`` blocks (suppression comments): each really suppresses a finding.
* inline code spans that are torchlint commands must be among the commands run.

Each block runs in a fresh directory holding a copy of ``fixtures/`` and
``benchmarks/``, so ``--fix`` examples change nothing in the checkout.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.M | re.S)


def _blocks(kind: str) -> list:
    out = []
    for m in BLOCK.finditer(README):
        if m.group(2) != kind:
            continue
        indent = m.group(1)
        out.append([ln[len(indent):] if ln.startswith(indent) else ln for ln in m.group(3).splitlines()])
    return out


def steps_of(kind: str, lines: list) -> list:
    steps = []
    if kind == "console":
        for ln in lines:
            if ln.startswith("$ "):
                steps.append([ln[2:], []])
            elif steps and ln.strip():
                steps[-1][1].append(ln)
    else:
        for ln in lines:
            parts = [p.strip() for p in ln.split("&&")]
            cmd = " && ".join(p for p in parts if p and not p.startswith("pip install"))
            if cmd:
                steps.append([cmd, []])
    return steps


def command_blocks():
    out = []
    for kind in ("console", "bash"):
        for i, lines in enumerate(_blocks(kind)):
            steps = steps_of(kind, lines)
            if steps:
                out.append(pytest.param(steps, id=f"{kind}-{i}-{steps[0][0][:40]}"))
    return out


def localise(cmd: str) -> str:
    """Run the README's command with this interpreter's torchlint/flake8/python."""
    py = sys.executable
    cmd = re.sub(r"(^|\| |&& |; )torchlint ", rf"\1{py} -m torchlint ", cmd)
    cmd = re.sub(r"(^|\| |&& |; )flake8 ", rf"\1{py} -m flake8 ", cmd)
    cmd = re.sub(r"(^|&& )python -m pytest[^&;|]*", rf"\1{py} -c 'import pytest'", cmd)  # not recursively
    cmd = re.sub(r"(^|\| |&& |; )python ", rf"\1{py} ", cmd)
    return cmd


@pytest.fixture
def sandbox(tmp_path):
    for name in ("fixtures", "benchmarks"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def run(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return subprocess.run(["bash", "-c", localise(cmd)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, timeout=600)


def assert_shown(cmd: str, expected: list, output: str) -> None:
    """Each expected line lies inside one output line, in order."""
    lines = output.splitlines()
    pos = 0
    for want in expected:
        want = want.strip()
        while pos < len(lines) and want not in lines[pos]:
            pos += 1
        assert pos < len(lines), f"{cmd!r}: expected {want!r} (in this order) in\n{output}"
        pos += 1


@pytest.mark.parametrize("steps", command_blocks())
def test_readme_block(steps, sandbox):
    for cmd, expected in steps:
        r = run(cmd, sandbox)
        allowed = (0, 1, 2) if any("torchlint: error:" in e for e in expected) else (0, 1)
        assert r.returncode in allowed, f"{cmd!r} exited {r.returncode}\n{r.stdout}"
        assert "Traceback" not in r.stdout, f"{cmd!r}\n{r.stdout}"
        assert_shown(cmd, expected, r.stdout)


def test_assert_shown_can_fail():
    assert_shown("x", ["a", "c"], "a\nb\nc\n")
    with pytest.raises(AssertionError):
        assert_shown("x", ["c", "a"], "a\nb\nc\n")


def test_pre_commit_snippet_names_our_hook():
    yaml = pytest.importorskip("yaml")
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    snippets = [yaml.safe_load("\n".join(b)) for b in _blocks("yaml") if "repos:" in "\n".join(b)]
    assert snippets, "the README shows no pre-commit snippet"
    for snippet in snippets:
        for repo in snippet["repos"]:
            assert repo["rev"] and {h["id"] for h in repo["hooks"]} <= hooks


def test_github_actions_workflow_runs(sandbox):
    yaml = pytest.importorskip("yaml")
    workflows = [yaml.safe_load("\n".join(b)) for b in _blocks("yaml") if "jobs:" in "\n".join(b)]
    assert workflows, "the README shows no GitHub Actions workflow"
    steps = [s for w in workflows for job in w["jobs"].values() for s in job["steps"]]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    runs = [s["run"] for s in steps if "run" in s and not s["run"].startswith("pip install")]
    assert runs
    for cmd in runs:
        r = run(cmd, sandbox)
        if "--output-format github" in cmd:
            assert r.returncode == 1 and "::error title=torchlint (TL001),file=fixtures/" in r.stdout, r.stdout
        else:
            assert r.returncode == 0, f"{cmd!r} exited {r.returncode}: {r.stdout}"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    doc = json.loads((sandbox / upload["with"]["sarif_file"]).read_text())
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "TL001"


def test_toml_configuration_is_valid(sandbox, monkeypatch):
    from torchlint.workspace.config import build_settings

    blocks = _blocks("toml")
    assert blocks, "the README shows no configuration"
    for lines in blocks:
        if any(ln.startswith("[language-server.") for ln in lines):  # Helix's languages.toml, not ours
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib

            helix = tomllib.loads("\n".join(lines))
            assert helix["language-server"]["torchlint"]["args"] == ["server"]
            continue
        (sandbox / "pyproject.toml").write_text("\n".join(lines) + "\n")
        monkeypatch.chdir(sandbox)
        settings = build_settings(["fixtures"])
        assert settings.config_file is not None and settings.select
        r = run("torchlint check fixtures/tl001/seed_vector_product.py", sandbox)
        assert r.returncode in (0, 1) and "error:" not in r.stdout.split("\n")[0], r.stdout


def test_python_suppression_comments_suppress(sandbox):
    """Every comment of the suppression block, on a real finding, silences it."""
    blocks = [b for b in _blocks("python") if any("noqa" in ln or "ignore[" in ln for ln in b)]
    assert blocks
    program = "import torch\nx = torch.ones(2, requires_grad=True)\nloss = x * 2\n"
    for line in blocks[0]:
        comment = line.split("(")[0].rstrip() if "  (" in line else line
        if line.startswith("#"):
            text = comment + "\n" + program + "loss.backward()\n"
        else:
            text = program + comment + "\n"
        (sandbox / "m.py").write_text(text)
        r = run("torchlint check --no-cache m.py", sandbox)
        assert r.returncode == 0, f"{comment!r} did not suppress:\n{r.stdout}"
        (sandbox / "m.py").write_text(program + "loss.backward()\n")
        assert run("torchlint check --no-cache m.py", sandbox).returncode == 1


# Inline commands that are tested elsewhere, with where.
TESTED_ELSEWHERE = {
    "torchlint check --force-exclude": "tests/test_precommit.py runs the hook with the real pre-commit tool",
    "torchlint check --watch": "tests/test_server_watch.py edits a watched file and reads the new report",
}


def test_every_inline_command_is_run():
    commands = [c for p in command_blocks() for c, _ in p.values[0]]
    for lines in _blocks("yaml"):
        commands += [ln.split("run:", 1)[1].strip() for ln in lines if "run:" in ln]
    inline = set(re.findall(r"`(torchlint [^`]+)`", README))
    for cmd in sorted(inline):
        if "[" in cmd or "CODE" in cmd or cmd in TESTED_ELSEWHERE:
            continue
        assert any(cmd in c for c in commands), f"the README mentions `{cmd}` but no block runs it"


def test_every_check_option_is_documented():
    r = run("torchlint check --help", ROOT)
    options = set(re.findall(r"(--[a-z][a-z-]+)", r.stdout)) - {"--help", "--no-unsafe-fixes", "--no-force-exclude",
                                                                 "--respect-gitignore"}
    missing = sorted(o for o in options if o not in README)
    assert not missing, f"options of `torchlint check` missing from the README: {missing}"
