"""TL007 missing-zero-grad."""
from __future__ import annotations

from torchlint.registry import Rule


class MissingZeroGrad(Rule):
    code = "TL007"
    name = "missing-zero-grad"
    summary = "a training loop calls backward() and optimizer.step() but never clears gradients"
    # both words are needed (a tuple is an AND group)
    triggers = (("backward(", "step("), ("manual_backward(", "step("))
    sites = (("call:backward", "call:step"), ("call:manual_backward", "call:step"))  # both, in some loop
    fix = "sometimes"
    file_facts = ("training",)
    severity = "warning"  # every finding is a likely bug, not a certain one
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
since clearing gradients is what the loop itself is expected to do. Making a
tensor of zeros (`torch.zeros`, `zeros_like`, `new_zeros`, also inside a helper
of the file) clears nothing; `p.grad.fill_(0)`, `p.grad.mul_(0)` and
`p.grad.copy_(torch.zeros_like(p))` do.
A loop that rebuilds its optimizer in every iteration (fresh parameters,
fresh gradients), or whose body ends every iteration with an unconditional
`break`/`return`/`raise` (it runs once), is not reported.
A step is an `optimizer`-like receiver (`optimizer`, `opt`, `optim_g`, ...)
or `scaler.step(...)`.
"""

    def check(self, ctx):
        from torchlint.rulekit import line_fix

        for found in ctx.semantic.training_loops:
            opt = found.optimizer
            fix = None
            if found.step_nested:
                # The step runs under a condition of its own (gradient accumulation done without clearing):
                # clearing before every backward() would undo the accumulation; clear right after the step.
                fix = line_fix(ctx, found.step_stmt, f"{opt}.zero_grad()", after=True,
                               message=f"Insert {opt}.zero_grad() after {opt}.step()")
            elif found.backward_stmt is not None:
                fix = line_fix(ctx, found.backward_stmt, f"{opt}.zero_grad()", after=False,
                               message=f"Insert {opt}.zero_grad() before the backward pass")
            if found.cleared:
                others = ", ".join(f"`{c}.zero_grad()`" for c in found.cleared)
                message = (f"this loop steps {opt} on every iteration but never clears its gradients (only "
                           f"{others}, which does not cover what {opt} optimizes), so they accumulate across steps; "
                           f"call {opt}.zero_grad() in the loop")
            else:
                message = (f"this loop calls backward() and {opt}.step() on every iteration but never clears the "
                           f"gradients, so they accumulate across steps; call {opt}.zero_grad() (or set p.grad = "
                           f"None) in the loop")
            yield ctx.diagnostic(self, found.backward, message, "warning", fix)
