"""The statement blocks of a module: the structure every other semantic fact is read from."""
from __future__ import annotations

import libcst as cst

_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def statement_blocks(module: cst.Module):
    """Every statement list of the module: the module body and each indented block, outermost first.

    Walks statements only (never into expressions), which is several times cheaper than a full tree walk on
    real files; a rule that looks for loops or blocks needs nothing more.
    """
    out = []
    stack: list = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Module, cst.IndentedBlock)):
            out.append(node)
            stack.extend(reversed([s for s in node.body if not isinstance(s, cst.SimpleStatementLine)]))
            continue
        for name in _BLOCK_FIELDS:
            v = getattr(node, name, None)
            if v is None or isinstance(v, (str, tuple)) and not v:
                continue
            if isinstance(v, (list, tuple)):
                stack.extend(reversed([x for x in v if isinstance(x, cst.CSTNode)]))
            elif isinstance(v, cst.CSTNode) and not isinstance(v, cst.SimpleStatementSuite):
                stack.append(v)
    return out
