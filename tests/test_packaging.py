"""Packaging: the licence ships in the wheel and the sdist, the sdist carries what its tests need, and every
subpackage is installed."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_and_metadata():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert set(project["urls"]) >= {"Homepage", "Repository", "Issues", "Documentation"}
    assert all(u.startswith("https://") for u in project["urls"].values())
    assert any(c.startswith("Programming Language :: Python :: 3.10") for c in project["classifiers"])
    # a PEP 639 licence expression forbids the old licence classifiers
    assert not any(c.startswith("License ::") for c in project["classifiers"])


def test_every_subpackage_is_installed():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {"torchlint." + ".".join(p.parent.relative_to(ROOT / "torchlint").parts)
               for p in (ROOT / "torchlint").rglob("__init__.py") if p.parent != ROOT / "torchlint"}
    on_disk |= {"torchlint"}
    missing = sorted(on_disk - listed)
    assert not missing, f"packages missing from [tool.setuptools] packages in pyproject.toml: {missing}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An sdist and a wheel, built from a copy of the source tree (the checkout stays clean)."""
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src") / "torchlint"
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".torchlint_cache", ".pytest_cache",
                                    ".hypothesis", ".benchmarks", "build", "dist")
    shutil.copytree(ROOT, src, ignore=ignore)
    out = src.parent / "dist"
    names = src.parent / "built.txt"
    code = ("import sys\nfrom setuptools import build_meta as b\n"
            "out, result = sys.argv[1:3]\n"  # (setuptools rewrites sys.argv)
            "names = [b.build_sdist(out), b.build_wheel(out)]\n"
            "open(result, 'w').write('\\n'.join(names))\n")
    r = subprocess.run([sys.executable, "-c", code, str(out), str(names)], cwd=src, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0 and "license-files" in r.stderr + r.stdout:  # pragma: no cover
        pytest.skip("this setuptools predates PEP 639 (pyproject.toml asks for setuptools>=77)")
    assert r.returncode == 0, r.stderr[-3000:]
    sdist, wheel = names.read_text().split("\n")
    return out / sdist, out / wheel


def test_the_wheel_ships_the_license_and_the_rules(built):
    _, wheel = built
    names = zipfile.ZipFile(wheel).namelist()
    assert "torchlint-0.1.0.dist-info/licenses/LICENSE" in names
    assert "torchlint/rules/tl001_backward_non_scalar.py" in names
    assert "torchlint/report/reporters.py" in names
    meta = zipfile.ZipFile(wheel).read("torchlint-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta and "Project-URL: Repository, https://" in meta


def test_the_sdist_carries_what_its_tests_need(built):
    sdist, _ = built
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    for needed in ("LICENSE", "README.md", "tests/conftest.py", "tests/tlcli.py", "docs/rules.md",
                   "fixtures/tl001/seed_vector_product.py", ".pre-commit-hooks.yaml", "rules/tl100_unused_noqa.py",
                   "benchmarks/run.py"):
        assert needed in names, needed
    assert not any(".torchlint_cache" in n or "__pycache__" in n for n in names)
