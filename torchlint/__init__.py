"""torchlint: static analysis for PyTorch autograd misuse."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "lint_source"]


def lint_source(source: str, path: str = "<string>", *, select=None):
    """Lint a source string; see :func:`torchlint.engine.lint_source`."""
    from torchlint.engine import lint_source as _lint

    return _lint(source, path, select=select)
