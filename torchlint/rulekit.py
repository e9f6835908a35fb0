"""Small helpers shared by rules (source-level facts that are not abstract values)."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from torchlint.analysis.sinks import _arg as call_arg  # noqa: F401  (re-exported)
from torchlint.analysis.sinks import _given as arg_given  # noqa: F401


def torch_alias(module: cst.Module) -> Optional[str]:
    """The name ``torch`` is bound to at module level (``import torch`` / ``import torch as T``), if any."""
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if isinstance(alias.name, cst.Name) and alias.name.value == "torch":
                            if alias.asname is None:
                                return "torch"
                            if isinstance(alias.asname.name, cst.Name):
                                return alias.asname.name.value
                        if alias.asname is None and isinstance(alias.name, cst.Attribute):
                            root = alias.name
                            while isinstance(root, cst.Attribute):
                                root = root.value
                            if isinstance(root, cst.Name) and root.value == "torch":
                                return "torch"
    return None


def dotted(node) -> str:
    """``a.b.c`` for a chain of names only; ``""`` when any part is something else (``f().x``)."""
    from torchlint.analysis import cstwalk

    name = cstwalk.dotted(node)
    return "" if name.startswith(".") else name


def keyword_insert_edit(ctx, call: cst.Call, text: str):
    """An edit that adds ``text`` (e.g. ``dtype=torch.float32``) as the last argument of ``call``."""
    if call.args:
        last = call.args[-1]
        start, end = ctx.span(last.value)
        return ctx.edit(end, end, f", {text}")
    # no arguments: insert between the parentheses
    _, end = ctx.span(call)
    return ctx.edit(end - 1, end - 1, text)


def line_fix(ctx, stmt, text, *, after, message):
    """An unsafe fix putting ``text`` on its own line before/after the simple statement ``stmt``, same indent."""
    from torchlint.diagnostics import Fix

    start, end = ctx.span(stmt)
    line_start = ctx.source.rfind("\n", 0, start) + 1
    indent = ctx.source[line_start:start]
    if indent.strip() != "":
        return None  # `if c: loss.backward()` on one line: no safe place for a new line
    newline = ctx.module.default_newline
    if not after:
        return Fix(message, (ctx.edit(line_start, line_start, f"{indent}{text}{newline}"),), "unsafe")
    # the statement's span ends at the end of its line (its newline included, or end of file)
    tail = ctx.source[:end]
    if not tail.endswith(("\n", "\r")):
        return Fix(message, (ctx.edit(end, end, f"{newline}{indent}{text}"),), "unsafe")
    return Fix(message, (ctx.edit(end, end, f"{indent}{text}{newline}"),), "unsafe")
