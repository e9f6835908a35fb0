"""TL008 backward-twice."""
from __future__ import annotations

from torchlint.registry import Rule


class BackwardTwice(Rule):
    code = "TL008"
    name = "backward-twice"
    summary = "a second backward() through a graph whose saved tensors the first one freed"
    triggers = ("backward(",)
    sites = ("call:backward",)  # the second call is always name.backward(...)
    fix = "sometimes"
    file_facts = ("graphs",)
    runtime_error = ("RuntimeError", "Trying to backward through the graph a second time")
    doc = """
## What it does
Finds a second `t.backward()` on the same tensor when the first call did not
pass `retain_graph=True`: twice in a row in the same block (the first pass may
also be `torch.autograd.grad(t, ...)`), or once inside a loop that runs at
least twice when `t` is computed before the loop. It also finds two losses
built from one intermediate and backpropagated one after the other (a GAN
step feeding the same, not detached, fake batch to both losses), a loss
built in a loop from an intermediate computed once before it, and a recurrent
state fed back from one iteration to the next without `detach()` (truncated
backpropagation through time done without truncating: `h = cell(x, h)`,
`out, (h, c) = lstm(x, (h, c))`, `h = torch.tanh(x @ W + h @ U)`).

## Why is this bad?
`backward()` frees the tensors its graph saved for the backward pass. A second
pass through the same graph raises
`RuntimeError: Trying to backward through the graph a second time (or directly
access saved tensors after they have already been freed)`.

Two losses that share an intermediate are the same bug: the first backward()
frees the intermediate's graph, the second needs it. So is a loss built inside
a loop from an intermediate computed once before the loop, and so is an RNN's
hidden state carried across iterations: the second iteration's graph reaches
back into the first one's through the state.

## Example
```python
loss = criterion(model(x), y)
loss.backward()
loss.backward()
```
```python
features = backbone(x)          # once
for step in range(3):
    loss = head(features).mean()
    loss.backward()             # raises on the second iteration
```

## Use instead
Recompute the loss for each backward pass, or keep the graph on purpose:
```python
loss.backward(retain_graph=True)
loss.backward()
```
For a shared intermediate, compute it again, use `features.detach()` where
its producer should not be trained (the discriminator's loss in a GAN), or sum
the losses and call backward() once. For a recurrent state, detach it once per
iteration:
```python
for chunk in chunks:
    h, c = h.detach(), c.detach()
    out, (h, c) = lstm(chunk, (h, c))
    loss = criterion(head(out), target)
    loss.backward()
```

## Fix safety
For the straight-line case the fix adds `retain_graph=True` to the first call;
it is **unsafe**, because a second pass doubles the gradients and keeps memory
alive: recomputing may be what was meant. For a recurrent state the fix inserts
`h = h.detach()` (all states of the statement) before the statement that feeds
it back; it is **unsafe** too, because it truncates backpropagation through
time, which is usually the intent but changes the gradients. The other loop
cases have no fix.

## Known limits
Only reported when certain: the graph must contain an op whose backward
certainly needs saved tensors (a product, a loss, a layer...), and the loop
must run a known number of times (`range(3)`) with no `break`, `continue`,
`return`, `raise` or `yield` in its body. For the shared intermediate, the
loss must be built from it in straight-line statements of the loop body by
PyTorch operators, tensor methods, `torch` functions and `torch.nn` layers
known to be differentiable; anything else (a helper function, a branch) keeps
the rule silent. A recurrent state is followed only when a torch.nn RNN,
LSTM, GRU or cell module takes it as its hidden state, or a differentiable
expression with saved tensors (a product, `tanh`, a layer's input) is built
from it, and when it appears nowhere else in the loop (a helper that detaches
it, or any later use, keeps the rule silent). Followed by graph provenance
instead, a state may also go through user functions and modules and start as
None (`h = None`, then `out, h = model(x, h)`): it is taken to carry the
previous iteration's graph only when every iteration certainly leaves a tensor
in it. A loop over an object of the file's classes with `__iter__` and
`__next__` counts as running at least once only when its first `__next__`
certainly returns (checked on a copy of the object); a second iteration is
never assumed there. A name that a function rebinds with `global`, or a file
that uses `exec`/`eval`, is not followed.
"""

    def check(self, ctx):
        for r in ctx.semantic.graph_reuses:
            fix = None
            if r.kind == "again":
                yield self._again(ctx, r)
                continue
            if r.kind == "before_loop":
                msg = (f"`{r.name}` is computed before this loop, so the second iteration backpropagates through a "
                       f"graph the first one freed; compute `{r.name}` inside the loop")
            elif r.kind == "carried":
                from torchlint.rulekit import line_fix

                shown = ", ".join(f"`{st}`" for st in r.states)
                detach = f"{', '.join(r.states)} = {', '.join(st + '.detach()' for st in r.states)}"
                fix = line_fix(ctx, r.where, detach, after=False,
                               message=f"Detach {shown} from the previous iteration's graph before use")
                msg = (f"`{r.name}` is built from {shown}, which line {ctx.line_of(r.where)} feeds back from the "
                       f"previous iteration with its graph: the first backward() frees that graph, so the "
                       f"second iteration raises; detach the state every iteration (`{detach}`, truncated "
                       f"backpropagation through time) or pass retain_graph=True")
            elif r.kind == "shared_before_loop":
                msg = (f"`{r.name}` is built from `{r.inter}`, which is computed once before this loop (line "
                       f"{ctx.line_of(r.where)}): the first backward() frees the graph behind `{r.inter}`, so the "
                       f"second iteration raises; compute `{r.inter}` inside the loop, use `{r.inter}.detach()`, or "
                       f"pass retain_graph=True")
            elif r.kind == "shared_in_block":
                msg = (f"`{r.name}` is built from `{r.inter}` (line {ctx.line_of(r.where)}), whose graph the "
                       f"backward() on line {ctx.line_of(r.first)} already freed; build it from `{r.inter}.detach()`, "
                       f"recompute `{r.inter}`, or pass retain_graph=True to the first backward()")
            elif r.kind == "carried_graph":
                expr = ctx.short_code(r.call.func.value)
                made = ctx.short_code(r.where)
                msg = (f"`{expr}` backpropagates through what `{made}` (line {ctx.line_of(r.where)}) built in the "
                       f"previous iteration, carried into this one by a value the loop feeds back without "
                       f"detach(); that iteration's backward() freed it, so this one raises; detach the carried "
                       f"state every iteration (truncated backpropagation through time) or pass retain_graph=True")
            else:  # "freed": found by graph provenance
                expr = ctx.short_code(r.call.func.value)
                made = ctx.short_code(r.where)
                first = ctx.line_of(r.first)
                if ctx.line_of(r.where) == ctx.line_of(r.call) or r.first is r.call:
                    msg = (f"the graph behind `{expr}` runs through `{made}`, which the previous iteration's "
                           f"backward() already freed; recompute it in the loop, detach it, or pass retain_graph=True")
                else:
                    msg = (f"`{expr}` backpropagates through the graph of `{made}` (line {ctx.line_of(r.where)}), "
                           f"which the backward() on line {first} already freed; recompute it, detach it, or pass "
                           f"retain_graph=True to the first backward()")
            yield ctx.diagnostic(self, r.call, msg, "error", fix)

    def _again(self, ctx, r):
        import libcst as cst

        from torchlint.diagnostics import Fix
        from torchlint.rulekit import call_arg, keyword_insert_edit

        first = r.first
        by_grad = not (isinstance(first.func, cst.Attribute) and first.func.attr.value == "backward")
        kept = call_arg(first, 3 if by_grad else 1, "retain_graph")
        edit = ctx.replace(kept.value, "True") if kept not in (None, ...) \
            else keyword_insert_edit(ctx, first, "retain_graph=True")
        what = "torch.autograd.grad()" if by_grad else "backward()"
        fix = Fix(f"Keep the graph in the first {what} with retain_graph=True", (edit,), "unsafe")
        done = "differentiated by torch.autograd.grad()" if by_grad else "backpropagated"
        msg = (f"`{r.name}` was already {done} on line {ctx.line_of(first)} without "
               f"retain_graph=True, which freed its graph; recompute `{r.name}` or retain the graph")
        return ctx.diagnostic(self, r.call, msg, "error", fix)
