"""TL001 backward-non-scalar."""
from __future__ import annotations

from torchlint.registry import Rule


class BackwardNonScalar(Rule):
    code = "TL001"
    name = "backward-non-scalar"
    summary = "backward() without gradient= on a tensor that has more than one element"
    # Every backward sink TL001 knows is a call spelled "...backward(": t.backward(),
    # torch.autograd.backward(...), accelerator.backward(...), self.manual_backward(...).
    # backward(...) calls, and a Lightning module's training_step, whose result Lightning backpropagates
    triggers = ("backward(", "manual_backward(", ("training_step", "LightningModule"))
    # .backward(), autograd.backward, accelerator.backward, manual_backward; a LightningModule's training_step
    sites = ("call:backward", "call:manual_backward", ("base:LightningModule", "def:training_step"))
    fix = "sometimes"
    file_facts = ()
    runtime_error = ("RuntimeError", "grad can be implicitly created only for")
    doc = """
## What it does
Finds `t.backward()` (and `torch.autograd.backward(t)`, and framework wrappers
such as `accelerator.backward(t)`) where `t` has more than one element and no
`gradient=` (or `grad_tensors=`) is passed. It also finds a Lightning
`training_step` that returns such a tensor (or a dict whose `"loss"` is one):
with automatic optimisation, Lightning calls `backward()` on it for you.

## Why is this bad?
Autograd can only make the initial gradient by itself for a tensor with exactly
one element. For anything else PyTorch raises, at run time:

    RuntimeError: grad can be implicitly created only for scalar outputs

The usual cause is a loss that was never reduced: a loss module built with
`reduction='none'`, an element-wise expression such as `(pred - y) ** 2`, a
`sum(dim=...)` that keeps a dimension, or a model wrapped in `nn.DataParallel`,
which returns one loss per GPU. The error often shows up only after the data
has loaded, or only on a machine with several GPUs.

A complex-valued one-element tensor fails the same way ("grad can be implicitly
created only for real scalar outputs").

torchlint reports an **error** when it can prove the tensor has more than one
element, and a **warning** when it is likely but not provable (an unreduced
loss of unknown shape, a `DataParallel` output). When it cannot tell, it says
nothing.

## Example
```python
criterion = nn.MSELoss(reduction="none")
loss = criterion(model(x), y)
loss.backward()
```

## Use instead
```python
criterion = nn.MSELoss(reduction="none")
loss = criterion(model(x), y)
loss.mean().backward()
```
or pass the vector-Jacobian product's vector explicitly:
`loss.backward(gradient=torch.ones_like(loss))`.

## Fix safety
The fix inserts `.mean()` when the tensor holds one loss per element (a loss
with `reduction='none'`, a `DataParallel` output), and `.sum()` otherwise,
adding parentheses when the receiver is not a primary expression. It is
**safe**: on a one-element tensor both are the identity, and on any other
tensor the original program raised.

## Known limits
* Shapes that come from outside the file (data loaders, models defined
  elsewhere, `torch.load`) are unknown, so a non-scalar backward on them is
  only found when an unreduced loss is visible in this file.
* Functions are followed into the same file only, up to three calls deep;
  recursion is cut off.
* Framework wrappers are recognised by the receiver's name (`accelerator`,
  `fabric`, `engine`, `model_engine`) and by `self.manual_backward`.
* For a `DataParallel` model whose forward torchlint cannot see (a library
  model, a model passed in as an argument), only what is certainly its loss
  counts as one value per GPU: `outputs.loss`, `outputs["loss"]`, or the
  output itself when `backward()` is called on it. `outputs[0]` stays unknown.
  A loss averaged on some path (`if n_gpu > 1: loss = loss.mean()`) is not
  reported.
* A Lightning module is recognised by a base class named `LightningModule`
  (directly or through classes of the same file). A class that mentions
  `automatic_optimization` is skipped (manual optimisation does not
  backpropagate the result), and so is a `return` of a dict that is not a
  literal with a `"loss"` key.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.analysis.sinks import backward_sites, lightning_sites
        from torchlint.analysis.values import Seq

        sites = backward_sites(ctx.analysis)
        if "training_step" in ctx.source:
            sites = sites + lightning_sites(ctx.module, ctx.analysis)
        for site in sites:
            if site.gradient_given or site.target is None:
                continue
            target = site.target
            # torch.autograd.backward([a, b]): judge each element of a literal list on its own.
            if isinstance(target, (cst.List, cst.Tuple)) and not target.lpar and site.kind == "function":
                nodes = [el.value for el in target.elements if not isinstance(el, cst.StarredElement)]
                if len(nodes) != len(target.elements):
                    continue
                per_element = []
                for i, node in enumerate(nodes):
                    vals = [v.items[i] for v in site.values
                            if isinstance(v, Seq) and v.items is not None and len(v.items) == len(nodes)]
                    per_element.append((node, _worst(vals)))
                bad = [(node, w) for node, w in per_element if w is not None]
                if not bad:
                    continue
                rank = max(w[0] for _, w in bad)
                node, (_, t) = next((n, w) for n, w in bad if w[0] == rank)
                fix_edits = []
                for n, (r, tt) in bad:
                    if r != 2:
                        fix_edits.extend(_reduce_edits(ctx, n, "mean" if tt.per_element else "sum"))
                yield self._report(ctx, site, node, rank, t, tuple(fix_edits))
                continue
            worst = _worst(site.values)
            if worst is None:
                continue
            rank, t = worst
            edits = _reduce_edits(ctx, target, "mean" if t.per_element else "sum") if rank != 2 else ()
            yield self._report(ctx, site, target, rank, t, edits)

    def _report(self, ctx, site, node, rank, t, edits):
        from torchlint.diagnostics import Fix
        from torchlint.analysis.values import format_shape

        expr = ctx.short_code(node)
        if rank == 2:
            message = (f"`{expr}` is complex: backward() without gradient= needs a real scalar "
                       f"(RuntimeError: grad can be implicitly created only for real scalar outputs); "
                       f"take .real or .abs() first, or pass gradient=")
            return ctx.diagnostic(self, site.call, message, "error")
        reducer = "mean" if t.per_element else "sum"
        fix = Fix(f"Reduce `{ctx.short_code(node, 30)}` with .{reducer}() before backward()", edits, "safe") if edits else None
        origin = "; ".join(n.render(ctx.line_of) for n in t.origin)
        if site.kind == "lightning":
            # the backward() call is Lightning's, on what training_step returns: no gradient= to pass
            subject = f"`{expr}`, which training_step returns for Lightning to backpropagate,"
            remedy = f"reduce it with .{reducer}()"
        else:
            subject, remedy = f"`{expr}`", f"reduce it with .{reducer}() or pass gradient="
        if rank == 3:
            because = f": {origin}" if origin else ""
            what = f"has shape {format_shape(t.shape)}" if t.shape is not None else "has more than one element"
            message = f"{subject} {what}{because}; backward() needs one element, {remedy}"
            return ctx.diagnostic(self, site.call, message, "error", fix)
        message = f"{subject} is probably not a scalar: {t.likely.render(ctx.line_of)}; {remedy}"
        return ctx.diagnostic(self, site.call, message, "warning", fix)


def _worst(values):
    """The most certain problem among a target's values in every context: (rank, tensor) or None.

    Rank 3: provably more than one element; 2: a complex scalar; 1: likely non-scalar.
    A tensor that cannot require grad is left to TL005 (PyTorch raises that error first).
    """
    from torchlint.analysis.sinks import flatten_targets
    from torchlint.analysis.values import LIKELY_NON_SCALAR, NON_SCALAR, SCALAR, Tensor

    worst = None
    for value in values:
        for t in flatten_targets(value):
            if not isinstance(t, Tensor) or t.requires_grad is False:
                continue
            v = t.verdict
            rank = 3 if v == NON_SCALAR else 2 if (v == SCALAR and t.dtype == "complex") else 1 if v == LIKELY_NON_SCALAR else 0
            if rank and (worst is None or rank > worst[0]):
                worst = (rank, t)
    return worst


def _reduce_edits(ctx, node, reducer):
    """Edits that append .mean()/.sum() to ``node``, parenthesising a non-primary expression."""
    import libcst as cst

    primary = isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or bool(getattr(node, "lpar", None))
    if primary:
        return (ctx.insert_after(node, f".{reducer}()"),)
    return (ctx.insert_before(node, "("), ctx.insert_after(node, f").{reducer}()"))
