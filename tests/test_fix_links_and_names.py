"""``--fix`` and the file system: symbolic links stay links, links out of the project are not written
through, and file names that are not UTF-8 work for fixing and for the cache."""
from __future__ import annotations

import os
import sys

import pytest

from tlcli import BAD, FIXED, tl

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links and byte file names")


@pytest.fixture
def linked(tmp_path):
    """proj/link.py -> sub/real.py (inside), proj/out.py -> ../outside/o.py (outside the project)."""
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[tool.torchlint]\n")
    (proj / "sub" / "real.py").write_text(BAD)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.py").write_text(BAD)
    os.symlink("sub/real.py", proj / "link.py")
    os.symlink("../outside/o.py", proj / "out.py")
    return proj


def test_fix_through_a_link_fixes_the_target_and_keeps_the_link(linked):
    r = tl("check", "--no-cache", "--fix", "link.py", cwd=linked)
    assert (r.returncode, r.stdout) == (0, "Found 1 problem (1 fixed, 0 remaining).\n"), r.stderr
    assert os.path.islink(linked / "link.py") and os.readlink(linked / "link.py") == "sub/real.py"
    assert (linked / "sub" / "real.py").read_text() == FIXED
    assert not [p for p in (linked / "sub").iterdir() if p.name.endswith(".torchlint")]


def test_add_noqa_through_a_link_keeps_the_link(linked):
    r = tl("check", "--no-cache", "--add-noqa", "link.py", cwd=linked)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.islink(linked / "link.py")
    assert "# noqa: TL001" in (linked / "sub" / "real.py").read_text()


def test_fix_refuses_to_write_through_a_link_out_of_the_project(linked):
    r = tl("check", "--no-cache", "--fix", "out.py", cwd=linked)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "out.py is a symbolic link to" in r.stderr and "outside the project root" in r.stderr
    assert os.path.islink(linked / "out.py")
    assert (linked.parent / "outside" / "o.py").read_text() == BAD  # untouched
    assert "(0 fixed, 1 remaining)" in r.stdout


def test_fix_of_a_directory_with_links_keeps_every_link(linked):
    os.symlink("sub", linked / "alias_dir")
    r = tl("check", "--no-cache", "--fix", ".", cwd=linked)
    assert r.returncode == 2  # out.py is refused; the rest is fixed
    assert os.path.islink(linked / "link.py") and os.path.islink(linked / "alias_dir")
    assert (linked / "sub" / "real.py").read_text() == FIXED
    assert (linked.parent / "outside" / "o.py").read_text() == BAD


NAMES = [b"bad\xff.py", b"d\xfe/x\xff.py"]


def _write_byte_names(root: bytes):
    os.makedirs(os.path.join(root, b"d\xfe"), exist_ok=True)
    for n in NAMES:
        with open(os.path.join(root, n), "wb") as f:
            f.write(BAD.encode())


def test_file_names_that_are_not_utf8_are_fixed_and_cached(tmp_path):
    root = os.fsencode(tmp_path)
    _write_byte_names(root)
    (tmp_path / "pyproject.toml").write_text('[tool.torchlint]\nper-file-ignores = { "d*/*" = ["TL001"] }\n')
    first = tl("check", "--output-format", "json-lines", ".", cwd=tmp_path)
    again = tl("check", "--output-format", "json-lines", ".", cwd=tmp_path)  # from the cache
    assert first.returncode == again.returncode == 1, first.stderr
    assert first.stdout == again.stdout and first.stdout.count("\n") == 1  # d\xfe/ is ignored per file
    assert any(os.scandir(tmp_path / ".torchlint_cache"))
    r = tl("check", "--fix", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(os.path.join(root, NAMES[0]), "rb") as f:
        assert f.read() == FIXED.encode()
    with open(os.path.join(root, NAMES[1]), "rb") as f:
        assert f.read() == BAD.encode()  # its finding is ignored, so it is not fixed


def test_fix_through_a_link_with_a_byte_name(tmp_path):
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"t\xff.py"), "wb") as f:
        f.write(BAD.encode())
    os.symlink(b"t\xff.py", os.path.join(root, b"l\xfe.py"))
    r = tl("check", "--no-cache", "--fix", os.fsdecode(b"l\xfe.py"), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.path.islink(os.path.join(root, b"l\xfe.py"))
    with open(os.path.join(root, b"t\xff.py"), "rb") as f:
        assert f.read() == FIXED.encode()
