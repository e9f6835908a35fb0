"""Atomic file replacement, shared by ``--fix`` and the cache."""
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
