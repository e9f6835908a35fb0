"""TL007 missing-zero-grad."""
from __future__ import annotations

import re

from torchlint.registry import Rule

OPTIMIZER_NAME = re.compile(r"(^|_)(opt|optim|optimizer|optimiser)(_|\d|$)|optimizer|optimiser", re.I)


class MissingZeroGrad(Rule):
    code = "TL007"
    name = "missing-zero-grad"
    summary = "a training loop calls backward() and optimizer.step() but never clears gradients"
    # both words are needed (a tuple is an AND group)
    triggers = (("backward(", "step("),)
    site_calls = ("~backward",)
    fix = "sometimes"
    runtime_error = None  # the bug does not raise: gradients silently accumulate
    doc = """
## What it does
Finds a loop whose body calls `backward()` and `optimizer.step()` on every
iteration but never clears the gradients: no `optimizer.zero_grad()`,
`model.zero_grad()`, `p.grad = None` or `p.grad.zero_()` anywhere in the loop
(looking through nested `if`/`with`/`try` blocks and into helper functions
defined in the same file).

## Why is this bad?
`backward()` *adds* to `.grad`. Without clearing, every step uses the sum of
all gradients so far: the effective learning rate grows with the step count
and training diverges or stalls. Nothing raises, so the bug hides.

## Example
```python
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
```

## Fix safety
The fix inserts `optimizer.zero_grad()` (with the receiver of the `.step()`
call) on its own line before the statement that calls `backward()`. When the
step sits deeper than the backward call (under `if (i + 1) % k == 0`,
accumulation that forgot to clear), it inserts the call right after the step instead, so
that the accumulation still works. It is
**unsafe**: the program runs today, and the fix changes the numbers it
computes (on purpose).

## Known limits
Distributed autograd (`dist_autograd.backward(context_id, ...)` with a
`DistributedOptimizer`) keeps gradients per context and is not reported.
Gradient accumulation (clearing every k steps, inside an `if`) is recognised
because the clearing call is still in the loop. Clearing done in a function
defined in another module is not seen, so a loop that calls an unknown
function whose name mentions `zero` (or `grad` with `clear`, `reset`, `none`
or `free`) is given the benefit of the doubt; other unknown calls are not,
since clearing gradients is what the loop itself is expected to do.
A loop that rebuilds its optimizer in every iteration (fresh parameters,
fresh gradients), or whose body ends every iteration with an unconditional
`break`/`return`/`raise` (it runs once), is not reported.
A step is an `optimizer`-like receiver (`optimizer`, `opt`, `optim_g`, ...)
or `scaler.step(...)`.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.rulekit import line_fix

        helpers = None  # computed only when a loop looks guilty: it walks every function
        for loop in _loops(ctx.module):
            facts = _Facts(set())
            facts.scan(loop.body)
            if not facts.backward or not facts.steps or facts.zeroes:
                continue
            if _runs_once(loop) or _rebinds_optimizer(loop, facts.steps):
                continue
            if helpers is None:
                helpers = _helpers_that_zero(ctx.module)
            if helpers:
                facts = _Facts(helpers)
                facts.scan(loop.body)
                if facts.zeroes:
                    continue
            call, stmt = facts.backward[0]
            opt = facts.steps[0]
            fix = None
            step_stmt = facts.step_stmts[0] if facts.step_stmts else None
            if stmt is not None and step_stmt is not None and _nested_under(_block_of(loop, stmt), step_stmt):
                # The step runs under a condition of its own (gradient accumulation done without clearing):
                # clearing before every backward() would undo the accumulation; clear right after the step.
                fix = line_fix(ctx, step_stmt, f"{opt}.zero_grad()", after=True,
                               message=f"Insert {opt}.zero_grad() after {opt}.step()")
            elif stmt is not None:
                fix = line_fix(ctx, stmt, f"{opt}.zero_grad()", after=False,
                               message=f"Insert {opt}.zero_grad() before the backward pass")
            message = (f"this loop calls backward() and {opt}.step() on every iteration but never clears the "
                       f"gradients, so they accumulate across steps; call {opt}.zero_grad() (or set p.grad = None) "
                       f"in the loop")
            yield ctx.diagnostic(self, call, message, "warning", fix)
        _ = cst


def _block_of(loop, stmt):
    """The innermost indented block of ``loop`` whose statements include ``stmt`` (or None)."""
    import libcst as cst

    from torchlint.analysis.cstwalk import walk

    for n in walk(loop.body, prune=(cst.FunctionDef, cst.ClassDef)):
        if isinstance(n, cst.IndentedBlock) and any(st is stmt for st in n.body):
            return n
    return None


def _nested_under(block, stmt) -> bool:
    """Is ``stmt`` inside ``block`` but deeper than its own statements (under an if/with/try of it)?"""
    import libcst as cst

    from torchlint.analysis.cstwalk import walk

    if block is None or any(st is stmt for st in block.body):
        return False
    return any(n is stmt for n in walk(block, prune=(cst.FunctionDef, cst.ClassDef)))


def _del_targets(target) -> list:
    import libcst as cst

    if isinstance(target, (cst.Tuple, cst.List)):
        return [el.value for el in target.elements]
    return [target]


def _runs_once(loop) -> bool:
    """An unconditional break/return/raise directly in the loop body: at most one iteration."""
    import libcst as cst

    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else [loop.body]
    for stmt in body:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if any(isinstance(small, (cst.Break, cst.Return, cst.Raise)) for small in stmt.body):
                return True
    return False


def _rebinds_optimizer(loop, steps) -> bool:
    """Does the loop body assign the optimizer's name (a new optimizer, new parameters, every iteration)?"""
    import libcst as cst

    from torchlint.analysis.cstwalk import walk

    roots = {s.split(".", 1)[0] for s in steps} | set(steps)
    for n in walk(loop.body, prune=(cst.FunctionDef, cst.ClassDef)):
        if isinstance(n, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign)):
            t = n.target
            if _text(t) in roots:
                return True
    return False


def _loops(module):
    import libcst as cst

    from torchlint.rulekit import statement_blocks

    return [st for b in statement_blocks(module) for st in b.body if isinstance(st, (cst.For, cst.While))]


def _is_zeroing_call(call) -> bool:
    import libcst as cst

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


def _mentions_grad(node) -> bool:
    import libcst as cst

    while isinstance(node, cst.Attribute):
        if node.attr.value == "grad":
            return True
        node = node.value
    return False


class _Facts:
    def __init__(self, helpers):
        self.helpers = helpers
        self.backward: list = []  # (call, enclosing simple statement)
        self.steps: list = []  # receiver text of optimizer steps
        self.step_stmts: list = []  # the simple statements holding them
        self.zeroes = False

    def scan(self, root, stmt=None):
        import libcst as cst

        from torchlint.analysis.cstwalk import children

        stack = [(root, stmt)]
        while stack:
            node, stmt = stack.pop()
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            if isinstance(node, cst.SimpleStatementLine):
                stmt = node
            self._visit(node, stmt)
            stack.extend((c, stmt) for c in reversed(list(children(node))))

    def _visit(self, node, stmt):
        import libcst as cst

        if isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Attribute) and t.attr.value == "grad" for t in targets):
                self.zeroes = True
        if isinstance(node, cst.Del) and any(_mentions_grad(t) for t in _del_targets(node.target)):
            self.zeroes = True  # del p.grad
        if isinstance(node, cst.Call):
            f = node.func
            if _is_zeroing_call(node):
                self.zeroes = True
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
            name = _text(f).rsplit(".", 1)[-1]
            low = name.lower()
            if name in self.helpers or "zero" in low or (
                    "grad" in low and any(w in low for w in ("clear", "reset", "none", "free"))):
                self.zeroes = True


def _text(node) -> str:
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = _text(node.value)
        return f"{inner}.{node.attr.value}" if inner else node.attr.value
    try:
        return cst.Module(body=[]).code_for_node(node)
    except Exception:
        return ""


def _helpers_that_zero(module) -> set:
    """Names of functions/methods in this file that clear gradients (directly or through each other)."""
    import libcst as cst

    from torchlint.analysis.cstwalk import walk

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
