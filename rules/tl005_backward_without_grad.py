"""TL005 backward-without-grad."""
from __future__ import annotations

from torchlint.registry import Rule


class BackwardWithoutGrad(Rule):
    code = "TL005"
    name = "backward-without-grad"
    summary = "backward() on a tensor that cannot require grad (no_grad, detach, no input requires grad)"
    triggers = ("backward(", "manual_backward(")
    sites = ("call:backward", "call:manual_backward")  # every backward sink of torchlint.analysis.sinks
    fix = "none"
    file_facts = ("aliasing",)
    runtime_error = ("RuntimeError", "does not require grad")
    doc = """
## What it does
Finds `backward()` (and `torch.autograd.backward`) on a tensor that certainly
does not require grad: it was computed entirely inside `torch.no_grad()` or
`torch.inference_mode()`, it went through `.detach()` or `.data`, or it was
built only from tensors that do not require grad (factories without
`requires_grad=True`, `torch.from_numpy`, `torch.as_tensor`), or by layers
whose parameters were all frozen (`model.requires_grad_(False)`, or a loop
`for p in model.parameters(): p.requires_grad = False`) from such tensors. For
`torch.autograd.backward([a, b])` one such element is enough: PyTorch raises
"element 1 of tensors does not require grad".

## Why is this bad?
There is no graph to differentiate, so PyTorch raises
`RuntimeError: element 0 of tensors does not require grad and does not have a
grad_fn`. Often a validation-time `no_grad` block or a `.detach()` meant for
logging crept into the training path.

## Example
```python
with torch.no_grad():
    loss = criterion(model(x), y)
loss.backward()
```

## Use instead
```python
loss = criterion(model(x), y)
loss.backward()
```

## Fix safety
No fix: which tensor should require grad is the author's call.

## Known limits
Only reported when torchlint is certain: module parameters, function
arguments and anything it cannot see are assumed to require grad.
torchlint follows values, not objects, so a change made through another
name cannot be seen (`y = x; y.requires_grad_()`, `out[0] = w`,
`buf.add_(w)` through an alias, `p.requires_grad = True` in a loop,
`setattr(t, "requires_grad", True)`, `out=`). When a file makes such a
change anywhere, the rule says nothing in that file. A frozen module counts
only where the freeze certainly happens (not inside a branch, loop or `try`
that may not run it) and in a file that never turns `requires_grad` on again. A `.grad` tensor is
only trusted not to require grad when the file never asks for
`create_graph`.
"""

    def check(self, ctx):
        from torchlint.analysis.sinks import backward_sites, decisive_values, flatten_targets
        from torchlint.analysis.values import Tensor

        sites = backward_sites(ctx.analysis)
        if not sites:
            return
        # Cheap first: a site where some tensor certainly lacks grad.  Only then pay for the file scan.
        if not any(isinstance(t, Tensor) and t.requires_grad is False
                   for site in sites for v in decisive_values(site) for t in _flat(v)):
            return
        if ctx.semantic.untracked_grad_change:
            return
        create_graph = "create_graph" in ctx.source
        for site in sites:
            values = decisive_values(site)
            if site.target is None or not values:
                continue
            tensors = [t for v in values for t in flatten_targets(v)]
            expr = ctx.short_code(site.target)
            if not tensors or not all(isinstance(t, Tensor) and t.requires_grad is False for t in tensors):
                # torch.autograd.backward([a, b]) raises as soon as one element lacks grad
                element = _element_without_grad(site, create_graph)
                if element is not None:
                    i, t, node = element
                    why = t.grad_note or "nothing it was computed from requires grad"
                    message = (f"`{ctx.short_code(node)}` (element {i} of the tensors passed to "
                               f"torch.autograd.backward) does not require grad ({why}), so backward() raises")
                    yield ctx.diagnostic(self, site.call, message, "error")
                continue
            # x.grad requires grad after backward(create_graph=True) (double backward)
            if create_graph and any(t.grad_note and ".grad" in t.grad_note for t in tensors):
                continue
            t = tensors[0]
            why = t.grad_note or "nothing it was computed from requires grad"
            message = f"`{expr}` does not require grad ({why}), so backward() has no graph to differentiate"
            yield ctx.diagnostic(self, site.call, message, "error")


def _flat(value):
    from torchlint.analysis.sinks import flatten_targets

    return flatten_targets(value)


def _element_without_grad(site, create_graph):
    """(index, tensor, node) of the first element of a literal list given to torch.autograd.backward that
    certainly does not require grad in every context."""
    import libcst as cst

    from torchlint.analysis.sinks import decisive_values
    from torchlint.analysis.values import Seq, Tensor

    target = site.target
    values = decisive_values(site)
    if site.kind != "function" or not isinstance(target, (cst.List, cst.Tuple)) or target.lpar:
        return None
    if any(isinstance(el, cst.StarredElement) for el in target.elements):
        return None
    n = len(target.elements)
    if not all(isinstance(v, Seq) and v.items is not None and len(v.items) == n for v in values):
        return None
    for i in range(n):
        items = [v.items[i] for v in values]
        if all(isinstance(t, Tensor) and t.requires_grad is False for t in items):
            if create_graph and any(t.grad_note and ".grad" in t.grad_note for t in items):
                continue
            return i, items[0], target.elements[i].value
    return None


# ---------------------------------------------------------------------------
# Changes to a tensor that the abstract interpreter cannot attribute.
#
# The interpreter follows values bound to names: `x.requires_grad_()` or
# `x.add_(w)` on a plain name updates `x`, and nothing else.  The same tensor
# object may also be reachable under another name (`y = x`), inside a
# container (`xs = [x]`), as a function parameter, or as an attribute, and
# changing it there makes `x` require grad too.  Since TL005 must be certain,
# one such change anywhere in the file makes every "does not require grad"
# fact of the file doubtful.


