"""The semantic model: structure, bindings, loops and their facts, next to the abstract values."""
from __future__ import annotations

from torchlint.analysis.semantic.blocks import statement_blocks
from torchlint.analysis.semantic.model import SemanticModel

__all__ = ["SemanticModel", "statement_blocks"]
