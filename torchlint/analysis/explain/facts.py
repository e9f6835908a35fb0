"""What torchlint inferred about one value: shape, dtype kind, requires_grad, leaf-ness, verdict, origin.

Plain data (JSON-able), read off the abstract value the interpreter gave an
expression; nothing is evaluated again.
"""
from __future__ import annotations

from typing import Optional

from torchlint.analysis.values import (
    NON_SCALAR,
    SCALAR,
    UNKNOWN_VERDICT,
    Gathered,
    Number,
    PyConverted,
    Seq,
    Tensor,
    UnknownValue,
    Value,
    format_shape,
)

VERDICTS = (SCALAR, NON_SCALAR, "likely_non_scalar", UNKNOWN_VERDICT)


def is_unknown(value: Optional[Value]) -> bool:
    """No value at all, or the Unknown value."""
    return value is None or isinstance(value, UnknownValue)


def tensors_of(value: Optional[Value]) -> list:
    """The tensors a value stands for: itself, the items of a list or tuple (``torch.autograd.backward([a, b])``),
    the loss a ``DataParallel`` output is taken for."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, Gathered):
        return [value.as_loss()]
    if isinstance(value, Seq):
        items = value.items if value.items is not None else (value.elem,)
        return [t for v in items for t in tensors_of(v)]
    return []


def verdict_of(value: Optional[Value]) -> str:
    """The scalar verdict of a value: a tensor's own, the worst of a sequence's tensors, ``unknown`` otherwise."""
    tensors = tensors_of(value)
    if not tensors or (isinstance(value, Seq) and value.items is None):
        return UNKNOWN_VERDICT if not tensors else _worst([t.verdict for t in tensors], partial=True)
    return _worst([t.verdict for t in tensors])


def _worst(verdicts: list, partial: bool = False) -> str:
    if NON_SCALAR in verdicts:
        return NON_SCALAR
    if "likely_non_scalar" in verdicts:
        return "likely_non_scalar"
    if verdicts and all(v == SCALAR for v in verdicts) and not partial:
        return SCALAR
    return UNKNOWN_VERDICT


def render_note(note, line_of) -> str:
    if note is None:
        return ""
    if hasattr(note, "render"):
        return note.render(line_of)
    return str(note)


def describe_value(value: Optional[Value]) -> str:
    """A few words for a value that is not a tensor (or the Unknown value)."""
    if is_unknown(value):
        return "Unknown"
    if isinstance(value, (Number, PyConverted)) and value.conv:
        kind = getattr(value, "kind", None) or getattr(value, "what", None) or "object"
        return f"a Python {kind} made from a tensor by {value.conv} (no autograd graph)"
    if isinstance(value, Gathered):
        return "the gathered output of a DataParallel model"
    return value.describe()


def facts(value: Optional[Value], line_of) -> dict:
    """The facts of a value as a JSON-able dict (``shape`` etc. are None for what is not a tensor)."""
    tensors = tensors_of(value)
    out = {"value": "tensor" if isinstance(value, Tensor) else describe_value(value), "shape": None,
           "dtype": None, "requires_grad": None, "leaf": None, "verdict": verdict_of(value), "origin": []}
    t = value if isinstance(value, Tensor) else (tensors[0] if len(tensors) == 1 else None)
    if t is None:
        return out
    out["shape"] = format_shape(t.shape) if t.shape is not None else None
    out["dtype"] = t.dtype
    out["requires_grad"] = t.requires_grad
    # a tensor that does not require grad is a leaf; one an op made while recording is not
    out["leaf"] = True if (t.leaf or t.requires_grad is False) else (False if t.requires_grad else None)
    notes = list(t.origin)
    if t.likely and t.likely not in notes:
        notes.insert(0, t.likely)
    if t.requires_grad is False and t.grad_note:
        notes.append(t.grad_note)
    out["origin"] = [text for text in (render_note(n, line_of) for n in notes) if text]
    if t.per_element:
        out["per_element"] = True
    return out
