"""Atomic file replacement, shared by ``--fix`` and the cache; where a write through a symbolic link lands."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def write_atomic(path: Path, data: bytes, *, prefix: str, suffix: str = "", mode: Optional[int] = None) -> None:
    """Replace ``path`` with ``data``: write a temporary file in the same directory, then rename it over.

    A reader sees the old file or the new one, never a part; two writers cannot
    interleave.  ``mode`` sets the permission bits (default: the temporary
    file's, 0600).  On any failure the temporary file is removed."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def link_target(path: Path, root: Optional[Path] = None) -> Path:
    """The file to write for ``path``: ``path`` itself, or, for a symbolic link, the file it points to.

    Writing a link's target keeps the link a link (a rename over ``path`` would
    replace the link with a regular file).  A link whose target lies outside
    ``root`` is refused with :class:`OSError`: fixing a file of another project
    (or of a virtual environment) through a link in this one is not what ``--fix``
    on this project should do.  Links in the directories above the file are
    judged the same way."""
    path = Path(path)
    plain = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    if real == plain:
        return path
    if not real.exists():
        raise OSError(f"{path} is a broken symbolic link (to {real})")
    if root is not None:
        base = Path(os.path.realpath(root))
        if real != base and base not in real.parents:
            raise OSError(f"{path} is a symbolic link to {real}, outside the project root {base}; "
                          f"torchlint does not write through it")
    return real
