"""The abstract interpreter, split by concern (see docs/architecture.md)."""
from __future__ import annotations

from torchlint.analysis.interp.core import Interpreter
from torchlint.analysis.interp.state import Analysis, CallEvent

__all__ = ["Analysis", "CallEvent", "Interpreter"]
