"""Syntax of Pythons newer than the one running torchlint.

CPython's ``ast`` checks a file's syntax first (:mod:`torchlint.engine`), but it
knows only its own version's grammar: under Python 3.11, ``type Vec =
torch.Tensor`` (3.12) is a syntax error.  LibCST's parser knows the grammar up
to Python 3.14.  When ``ast`` refuses a file and LibCST parses it, this module
says which newer syntax the file uses; the engine then goes on with LibCST's
tree.  A file that ``ast`` refuses and that uses no syntax newer than the
running Python keeps CPython's error (LibCST accepts a few things CPython does
not, such as ``f(**a, *b)``).
"""
from __future__ import annotations

import sys
from typing import Optional


def newer_syntax(module, running: tuple = sys.version_info[:2]) -> Optional[tuple]:
    """``((major, minor), what, line)`` for the first syntax in ``module`` newer than ``running``, or None."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    found: list = []

    class Finder(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def _note(self, version, what, node) -> None:
            if version > running:
                found.append((version, what, self.get_metadata(PositionProvider, node).start.line))

        def visit_TryStar(self, node):
            self._note((3, 11), "except*", node)

        def visit_TypeAlias(self, node):
            self._note((3, 12), "a type statement", node)

        def visit_TypeParameters(self, node):
            self._note((3, 12), "type parameters", node)

        def visit_TypeParam(self, node):
            if getattr(node, "default", None) is not None:
                self._note((3, 13), "a type parameter default", node)

        def visit_TemplatedString(self, node):
            self._note((3, 14), "a template string (t-string)", node)

        def visit_ExceptHandler(self, node):
            if isinstance(node.type, cst.Tuple) and not node.type.lpar:
                self._note((3, 14), "except without parentheses", node)

        def visit_SubscriptElement(self, node):
            if isinstance(node.slice, cst.Index) and getattr(node.slice, "star", None):
                self._note((3, 11), "a starred subscript", node)

        def visit_Param(self, node):
            if node.star == "*" and node.annotation is not None and isinstance(
                    node.annotation.annotation, cst.StarredElement):
                self._note((3, 11), "a starred annotation", node)

        def visit_FormattedString(self, node):
            if running < (3, 12) and not _old_fstring_ok(cst.Module([]).code_for_node(node)):
                self._note((3, 12), "an f-string with quotes, backslashes or comments inside", node)
                return False
            return None

    MetadataWrapper(module, unsafe_skip_copy=True).visit(Finder())
    return min(found) if found else None


def _old_fstring_ok(code: str) -> bool:
    """Whether this Python's own parser accepts the f-string ``code`` (before 3.12's PEP 701)."""
    import ast

    try:
        ast.parse("(" + code + ")", mode="eval")
    except SyntaxError:
        return False
    except (RecursionError, MemoryError, ValueError):
        return True
    return True
