"""Helpers for the focused rule tests: lint or fix a dedented snippet with one rule."""
from __future__ import annotations

import textwrap

from torchlint.engine import lint_source
from torchlint.fix.fixer import apply_fixes


def lint(src: str, code: str):
    return lint_source(textwrap.dedent(src), "t.py", select=[code])


def fixed(src: str, code: str, unsafe: bool = True) -> str:
    """The snippet after --fix (with unsafe fixes unless told otherwise); the fix must not fail."""
    result = apply_fixes(textwrap.dedent(src), "t.py", select=[code], unsafe=unsafe)
    assert result.error is None, result.error
    return result.source


def one(src: str, code: str):
    """The snippet's only finding for ``code``."""
    found = lint(src, code)
    assert len(found) == 1, [(d.location.row, d.code, d.message) for d in found]
    return found[0]


def none(src: str, code: str):
    """Assert the snippet has no finding for ``code``."""
    found = lint(src, code)
    assert found == [], [(d.location.row, d.message) for d in found]
