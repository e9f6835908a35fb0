"""The semantic model of one file: its statement blocks and loops, with the facts rules ask about them.

It is built lazily next to the abstract values of :mod:`torchlint.analysis.interp`: a fact is computed
the first time a rule asks for it, once per file. Rules ask; they never walk the tree for facts (only to
place their fix edits).

- structure: every statement block (:func:`statement_blocks`) and every loop, with its trip count when
  it is a literal ``range`` and whether an iteration can end early;
- bindings: the names a statement or block assigns (:func:`assigned_names`), names rebound through
  ``global``/``nonlocal``, and whether the file uses ``exec``/``eval``;
- aliasing: whether the file changes a tensor where the interpreter cannot follow it
  (:mod:`torchlint.analysis.semantic.aliasing`);
- training loops: backward passes, optimizer steps and gradient clearing per loop
  (:mod:`torchlint.analysis.semantic.training`);
- autograd graphs: backward passes through a graph that an earlier pass freed
  (:mod:`torchlint.analysis.semantic.graphs`), from the graph provenance on tensor values.
"""
from __future__ import annotations

from functools import cached_property

import libcst as cst

from torchlint.analysis.cstwalk import walk
from torchlint.analysis.semantic.blocks import statement_blocks


class SemanticModel:
    """Facts about one parsed file, each computed on first use."""

    def __init__(self, module: cst.Module, analysis, source: str):
        self.module = module
        self.analysis = analysis
        self.source = source

    @cached_property
    def blocks(self) -> list:
        """Every statement block (the module body and each indented block), outermost first."""
        return statement_blocks(self.module)

    @cached_property
    def statement_lines(self) -> dict:
        """{id(node): its statement line} for the nodes a fix can wrap in a new block: the only small
        statement of a line (``w -= ...``), the single target of ``w[i] = v``, and the call of
        ``w.add_(...)`` as a statement."""
        out: dict = {}
        for block in self.blocks:
            for stmt in block.body:
                if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                    continue
                small = stmt.body[0]
                if isinstance(small, cst.AugAssign):
                    out[id(small)] = stmt
                elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                    out[id(small.targets[0].target)] = stmt
                elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    out[id(small.value)] = stmt
        return out

    @cached_property
    def guarded_bodies(self) -> list:
        """[(try body, names of the exception types its handlers catch)], where a bare ``except:`` or a
        handler whose type is not a plain name catches ``*``; a handler that raises catches nothing."""
        out = []
        for block in self.blocks:
            for stmt in block.body:
                if not isinstance(stmt, (cst.Try, cst.TryStar)):
                    continue
                names: set = set()
                for h in stmt.handlers:
                    if any(isinstance(n, cst.Raise) for n in walk(h.body)):
                        continue  # it re-raises (or raises another error): the program still fails
                    types = h.type.elements if isinstance(h.type, cst.Tuple) else [h.type]
                    for t in types:
                        t = t.value if isinstance(t, cst.Element) else t
                        if t is None:
                            names.add("*")
                        elif isinstance(t, cst.Name):
                            names.add(t.value)
                        elif isinstance(t, cst.Attribute) and isinstance(t.attr, cst.Name):
                            names.add(t.attr.value)
                        else:
                            names.add("*")
                out.append((stmt.body, names))
        return out

    def catches(self, names: set, exc: str) -> bool:
        """Do handlers catching ``names`` catch the builtin exception ``exc`` (RuntimeError, AttributeError...)?"""
        return bool(names & {"*", exc, "Exception", "BaseException"})

    @cached_property
    def untracked_grad_change(self) -> bool:
        """Does the file change a tensor in place where the interpreter cannot follow it?"""
        from torchlint.analysis.semantic.aliasing import untracked_grad_change

        got = untracked_grad_change(self.module, self.analysis)
        if not got and "aliasing" in getattr(self.analysis, "lenient", ()):  # a reduced file (analysis/partial.py)
            from torchlint.diagnostics import WholeFileNeeded

            raise WholeFileNeeded()
        return got

    @cached_property
    def training_loops(self) -> list:
        """Loops whose every iteration backpropagates and steps an optimizer, with their gradient facts."""
        from torchlint.analysis.semantic.training import training_loops

        return training_loops(self)

    @cached_property
    def graph_reuses(self) -> list:
        """backward() passes that run through a graph an earlier pass freed."""
        from torchlint.analysis.semantic.graphs import graph_reuses

        return graph_reuses(self)
