"""Training-loop facts: which loops backpropagate, step an optimizer, and clear gradients.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from torchlint.analysis.cstwalk import child_list, walk
from torchlint.analysis.semantic.blocks import statement_blocks

# Calls that make a new tensor or array of zeros: their names mention "zero", but they clear no gradient
# (a helper building a one-hot matrix with torch.zeros() is no zero_grad()).
ZERO_FACTORIES = frozenset({"zeros", "zeros_like", "new_zeros"})

OPTIMIZER_NAME = re.compile(r"(^|_)(opt|optim|optimizer|optimiser)(_|\d|$)|optimizer|optimiser", re.I)


def _block_of(loop, stmt):
    """The innermost indented block of ``loop`` whose statements include ``stmt`` (or None)."""

    for n in walk(loop.body, prune=(cst.FunctionDef, cst.ClassDef)):
        if isinstance(n, cst.IndentedBlock) and any(st is stmt for st in n.body):
            return n
    return None


def _nested_under(block, stmt) -> bool:
    """Is ``stmt`` inside ``block`` but deeper than its own statements (under an if/with/try of it)?"""

    if block is None or any(st is stmt for st in block.body):
        return False
    return any(n is stmt for n in walk(block, prune=(cst.FunctionDef, cst.ClassDef)))


def _del_targets(target) -> list:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [el.value for el in target.elements]
    return [target]


def _runs_once(loop) -> bool:
    """An unconditional break/return/raise directly in the loop body: at most one iteration."""

    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else [loop.body]
    for stmt in body:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if any(isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in stmt.body):
                return True
    return False


_TARGET_HOLDERS = frozenset({cst.AssignTarget, cst.AnnAssign, cst.AugAssign})


def _rebinds_optimizer(loop, steps) -> bool:
    """Does the loop body assign the optimizer's name (a new optimizer, new parameters, every iteration)?"""

    roots = {s.split(".", 1)[0] for s in steps} | set(steps)
    for n in walk(loop.body, prune=(cst.FunctionDef, cst.ClassDef)):
        if type(n) in _TARGET_HOLDERS:
            t = n.target
            if _text(t) in roots:
                return True
    return False


def _loops(module):
    return [st for b in statement_blocks(module) for st in b.body if isinstance(st, (cst.For, cst.While))]


def _is_zeroing_call(call) -> bool:
    f = call.func
    if isinstance(f, cst.Attribute):
        if f.attr.value == "zero_grad":
            return True
        if f.attr.value in ("zero_", "detach_") and _mentions_grad(f.value):
            return True
        if f.attr.value == "requires_grad_":
            return False
    if isinstance(f, cst.Name) and f.value == "zero_grad":
        return True
    return False


def _writes_zeros(method: str, args) -> bool:
    """Does ``g.<method>(*args)`` set ``g`` to zeros: ``fill_(0)``, ``mul_(0)``, ``copy_(torch.zeros_like(g))``?"""
    if len(args) != 1 or args[0].keyword is not None:
        return False
    arg = args[0].value
    if method in ("fill_", "mul_"):
        return isinstance(arg, (cst.Integer, cst.Float)) and float(arg.value) == 0
    if method == "copy_" and isinstance(arg, cst.Call):
        return _text(arg.func).rsplit(".", 1)[-1] in ZERO_FACTORIES
    return False


def _mentions_grad(node) -> bool:
    while isinstance(node, cst.Attribute):
        if node.attr.value == "grad":
            return True
        node = node.value
    return False


_OPAQUE = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})  # their bodies run elsewhere
_VISITED = frozenset({cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del, cst.Call})  # what _Facts._visit reads


class _Facts:
    def __init__(self, helpers):
        self.helpers = helpers
        self.backward: list = []  # (call, enclosing simple statement)
        self.steps: list = []  # receiver text of optimizer steps
        self.step_stmts: list = []  # the simple statements holding them
        self.zeroes = False
        # receivers of `X.zero_grad()` calls; `cleared_other` when gradients are cleared any other way
        self.zero_receivers: list = []
        self.cleared_other = False

    def scan(self, root, stmt=None):
        # (exact types: LibCST's concrete node classes have no subclasses, and ``isinstance`` on its ABCs is
        # slow enough to matter in a walk of every loop body)
        stack = [(root, stmt)]
        visited = _VISITED
        while stack:
            node, stmt = stack.pop()
            kind = type(node)
            if kind in _OPAQUE:
                continue
            if kind is cst.SimpleStatementLine:
                stmt = node
            elif kind in visited:
                self._visit(node, stmt)
            kids = child_list(node)
            kids.reverse()
            stack.extend([(c, stmt) for c in kids])

    def _visit(self, node, stmt):
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Attribute) and t.attr.value == "grad" for t in targets):
                self.zeroes = self.cleared_other = True
        if isinstance(node, cst.Del) and any(_mentions_grad(t) for t in _del_targets(node.target)):
            self.zeroes = self.cleared_other = True  # del p.grad
        if isinstance(node, cst.Call):
            f = node.func
            if _is_zeroing_call(node):
                self.zeroes = True
                if isinstance(f, cst.Attribute) and f.attr.value == "zero_grad" and not node.args:
                    self.zero_receivers.append(_text(f.value))
                else:
                    self.cleared_other = True
            elif isinstance(f, cst.Attribute) and f.attr.value in ("backward", "manual_backward"):
                # Distributed autograd keeps gradients per context (dist_autograd.backward(context_id, ...)):
                # nothing accumulates across iterations.
                if not _text(f.value).endswith(("dist_autograd", "distributed.autograd")):
                    self.backward.append((node, stmt))
            elif isinstance(f, cst.Attribute) and f.attr.value == "step":
                recv = _text(f.value)
                last = recv.rsplit(".", 1)[-1]
                if "sched" in last.lower() or last.lower().startswith("lr"):
                    pass
                elif node.args and "scaler" not in last.lower() and not (
                        node.args[0].keyword is not None and node.args[0].keyword.value == "closure"):
                    pass  # DistributedOptimizer.step(context_id): not a local optimizer step
                elif OPTIMIZER_NAME.search(last):
                    self.steps.append(recv)
                    self.step_stmts.append(stmt)
                elif "scaler" in last.lower() and node.args and not node.args[0].keyword:
                    self.steps.append(_text(node.args[0].value))
                    self.step_stmts.append(stmt)
            # (the last part of _text(f), without generating code for the receiver of a method)
            name = f.attr.value if type(f) is cst.Attribute else f.value if type(f) is cst.Name else \
                _text(f).rsplit(".", 1)[-1]
            low = name.lower()
            if not _is_zeroing_call(node) and (name in self.helpers or ("zero" in low and low not in ZERO_FACTORIES) or (
                    "grad" in low and any(w in low for w in ("clear", "reset", "none", "free")))):
                self.zeroes = self.cleared_other = True
            elif isinstance(f, cst.Attribute) and _mentions_grad(f.value) and _writes_zeros(f.attr.value, node.args):
                self.zeroes = self.cleared_other = True  # p.grad.fill_(0), p.grad.copy_(torch.zeros_like(p))


_TEXT_CHAIN_LIMIT = 16  # receivers deeper than this (x()()()...) are nobody's optimizer


def _text(node) -> str:
    """The source text of a receiver (``opt``, ``self.optimizers[0]``); "" for anything long or odd. Code is
    generated only for short chains: generating it for every link of a 500-deep ``x()()()...`` is
    quadratic."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = _text(node.value)
        return f"{inner}.{node.attr.value}" if inner else node.attr.value
    depth, n = 0, node
    while isinstance(n, (cst.Call, cst.Subscript, cst.Attribute)):
        n = n.func if isinstance(n, cst.Call) else n.value
        depth += 1
        if depth > _TEXT_CHAIN_LIMIT:
            return ""
    try:
        return cst.Module(body=[]).code_for_node(node)
    except Exception:
        return ""


def _helpers_that_zero(module) -> set:
    """Names of functions/methods in this file that clear gradients (directly or through each other)."""

    defs: dict = {}
    for node in walk(module):
        if isinstance(node, cst.FunctionDef):
            defs.setdefault(node.name.value, []).append(node)
    zeroing: set = set()
    for _ in range(3):
        for name, nodes in defs.items():
            if name in zeroing:
                continue
            for fn in nodes:
                facts = _Facts(zeroing)
                for stmt in fn.body.body if isinstance(fn.body, cst.IndentedBlock) else fn.body.body:
                    facts.scan(stmt)
                if facts.zeroes:
                    zeroing.add(name)
    return zeroing


@dataclass
class TrainingLoop:
    """A loop that calls backward() and steps an optimizer on every iteration and never clears gradients."""

    loop: cst.CSTNode
    backward: cst.Call  # the first backward call of the loop
    backward_stmt: Optional[cst.CSTNode]  # the simple statement holding it
    optimizer: str  # the source text of the first optimizer stepped
    step_stmt: Optional[cst.CSTNode]  # the simple statement holding that step
    step_nested: bool  # the step runs under a condition of its own, deeper than the backward pass
    cleared: tuple = ()  # the other optimizers or models the loop does clear (several optimizers)


def training_loops(model) -> list:
    """Every loop of the file that backpropagates and steps an optimizer on every iteration but never clears
    the gradients, directly, through a helper function of the same file, or with ``p.grad = None``."""
    out = []
    helpers = None  # computed only when a loop looks guilty: it walks every function
    sources = None  # optimizer name -> the text whose .parameters() it optimizes
    for loop in _loops(model.module):
        facts = _Facts(set())
        facts.scan(loop.body)
        if not facts.backward or not facts.steps:
            continue
        if _runs_once(loop) or _rebinds_optimizer(loop, facts.steps):
            continue
        if facts.zeroes:
            # Several optimizers, and one of them is never cleared: its model's gradients accumulate,
            # unless another clearing call covers its parameters (told by what each optimizer was built on).
            if facts.cleared_other or len(set(facts.steps)) < 2:
                continue
            if sources is None:
                sources = _optimizer_sources(model.module)
            left = _uncleared(facts, sources)
            if left is not None:
                out.append(TrainingLoop(loop, *left))
            continue
        if helpers is None:
            helpers = _helpers_that_zero(model.module)
        if helpers:
            facts = _Facts(helpers)
            facts.scan(loop.body)
            if facts.zeroes:
                continue
        call, stmt = facts.backward[0]
        step_stmt = facts.step_stmts[0] if facts.step_stmts else None
        nested = stmt is not None and step_stmt is not None and _nested_under(_block_of(loop, stmt), step_stmt)
        out.append(TrainingLoop(loop, call, stmt, facts.steps[0], step_stmt, nested))
    return out


def _optimizer_sources(module) -> dict:
    """{optimizer text: model text} for assignments ``X = <...>.Name(M.parameters(), ...)`` (the one binding
    of X in the file); anything else bound to X makes its source unknown (None)."""
    out: dict = {}
    for n in walk(module):
        if not isinstance(n, cst.Assign) or len(n.targets) != 1:
            continue
        target = _text(n.targets[0].target)
        if not target:
            continue
        v = n.value
        src = None
        if isinstance(v, cst.Call) and v.args and v.args[0].keyword is None and isinstance(v.args[0].value, cst.Call):
            inner = v.args[0].value
            if isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "parameters" and not inner.args:
                src = _text(inner.func.value) or None
        out[target] = src if target not in out else None
    return out


def _covers(a: str, b: str) -> bool:
    """Does clearing the gradients of model text ``a`` clear those of ``b`` (the same, or one inside the other)?"""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _uncleared(facts, sources):
    """(backward call, its statement, optimizer, its step statement, nested) for the first optimizer this loop
    steps whose parameters no `X.zero_grad()` of the loop certainly clears; None when that is not certain."""
    cleared = []
    for r in facts.zero_receivers:
        src = sources[r] if r in sources else r  # an optimizer's model, or a model itself
        if src is None:
            return None
        cleared.append(src)
    for opt, stmt in zip(facts.steps, facts.step_stmts):
        src = sources.get(opt)
        if src is None:
            return None  # what it optimizes is not known: a clearing call may cover it
        if opt in facts.zero_receivers or any(_covers(c, src) for c in cleared):
            continue
        call, bstmt = facts.backward[0]
        return call, bstmt, opt, stmt, False, tuple(dict.fromkeys(facts.zero_receivers))
    return None
