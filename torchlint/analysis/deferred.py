"""Method bodies of other modules' classes, parsed when the method is first called.

:mod:`torchlint.analysis.lazymodule` parses a class of another module with the
bodies of its longer ordinary methods read as one string each (over the same
lines), and records here how to parse each of them.  Whatever runs or reads such
a method's body asks :func:`full_def` first (the interpreter's ``call_user``, the
graph provenance of TL008).  This module imports nothing of the engine, so that the
interpreter can ask it without an import cycle.
"""
from __future__ import annotations

from torchlint.analysis.values import UnknownValue

PENDING: dict = {}  # FunctionDef node whose body is that string -> (its segment, the lines of the whole def)


def full_def(fn) -> bool:
    """Make sure the ``def`` ``fn`` has its real body (parsing it now if its class was parsed without it); False
    when it cannot be parsed (then nothing may be assumed of what it does, now or later)."""
    pending = PENDING.get(fn)
    if pending is None:
        return True
    seg, lines = pending
    if lines is None:
        return False
    import libcst as cst

    try:
        real = next(s for s in cst.parse_module("class _:\n" + "".join(lines)).body[0].body.body
                    if type(s) is type(fn))
    except Exception:
        PENDING[fn] = (seg, None)
        return False
    del PENDING[fn]
    object.__setattr__(fn, "body", real.body)  # (the node is this module's own; its other fields are the same)
    seg.positions = None  # (positions are found again with the body in place: see LoadedModule.line_of)
    return True


# A method the partial parse left out (analysis/partial_methods.py) stands in its class's body as ``name =
# __torchlint_blanked__``: the interpreter gives that name this value, and looking it up in a class namespace
# asks for the whole file (interp/objects.py).
BLANKED_NAME = "__torchlint_blanked__"
BLANKED = UnknownValue()
