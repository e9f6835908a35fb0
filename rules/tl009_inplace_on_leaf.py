"""TL009 inplace-on-leaf."""
from __future__ import annotations

from torchlint.registry import Rule

# In-place tensor methods that raise on a leaf that requires grad while grad mode is on (each checked
# against torch 2.13; requires_grad_(), detach_() and share_memory_() do not, resize_() fails differently).
INPLACE_METHODS = frozenset("""
abs_ add_ addcdiv_ addcmul_ bernoulli_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ copy_ cos_ div_ erf_ exp_
expm1_ exponential_ fill_ floor_ fmod_ frac_ index_add_ index_fill_ lerp_ log1p_ log_ masked_fill_ mul_
nan_to_num_ neg_ normal_ pow_ random_ reciprocal_ relu_ remainder_ round_ rsqrt_ scatter_ sigmoid_ sign_
sin_ sqrt_ square_ squeeze_ sub_ swapaxes_ t_ tanh_ transpose_ trunc_ uniform_ unsqueeze_ zero_
""".split())


class InplaceOnLeaf(Rule):
    code = "TL009"
    name = "inplace-on-leaf"
    summary = "an in-place change (w -= ..., w.add_(), w[i] = ...) to a leaf tensor that requires grad, outside no_grad"
    # ... or parameters reached through a module: for p in model.parameters(): p.sub_(lr * p.grad)
    triggers = ("requires_grad", "Parameter(", "parameters(", "named_parameters(")
    # an in-place change, a leaf that requires grad, and code that runs with grad mode known (module
    # code and what it calls, or under enable_grad/set_grad_enabled), all in the file
    sites = ((("inplace",) + tuple(f"call:{m}" for m in sorted(INPLACE_METHODS)),
              ("call:Parameter!False", "kw:requires_grad!False", "call:requires_grad_!False",
               "store:requires_grad!False", "name:weight", "name:bias", "call:parameters", "call:named_parameters"),
              ("module-code", "name:enable_grad", "name:set_grad_enabled")),)
    fix = "sometimes"
    file_facts = ()
    runtime_error = ("RuntimeError", "leaf Variable that requires grad is being used in an in-place operation")
    doc = """
## What it does
Finds in-place changes to a leaf tensor that requires grad (a tensor made with
`requires_grad=True`, an `nn.Parameter`, a layer's `weight` or `bias`) while
autograd is recording: augmented assignment (`w -= lr * w.grad`, `w += 1`),
in-place methods (`w.add_(...)`, `w.zero_()`, `w.normal_()`, `w.clamp_(...)`),
and item assignment (`w[0] = 0.0`), also through a view of such a tensor
(`b = conv.bias.view(3, -1); b[:, 4] += 1.0`, `w.t().mul_(2)`, `w[0].add_(1)`).

## Why is this bad?
Autograd cannot record an in-place change to a tensor whose gradient it is
about to compute, so PyTorch refuses it at that line:

    RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.

(`a view of a leaf Variable ...` for item assignment). It is the usual first
error of a hand-written gradient-descent step: the update of the weights must
not itself become part of the graph.

## Example
```python
w = torch.randn(3, requires_grad=True)
loss = (x @ w).pow(2).mean()
loss.backward()
w -= 0.1 * w.grad
```

## Use instead
```python
w = torch.randn(3, requires_grad=True)
loss = (x @ w).pow(2).mean()
loss.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
```
or let an optimizer (`torch.optim.SGD`) do the update.

## Fix safety
The fix puts the statement under `with torch.no_grad():`. It is **unsafe**:
it is what a parameter update needs, but if the change was meant to be part of
the computation that gets differentiated, the right fix is an out-of-place
operation (`w = w - ...`) on a non-leaf instead. There is no fix for a
statement that shares its line with others, or when `torch` is not imported
under a name.

## Known limits
Only reported when certain for at least one way the file runs the code: the tensor is
known to be a leaf, or a view of one made with grad mode on by an op that always
returns a view (`view`, `view_as`, `t`, `.T`, `transpose`, `permute`, `squeeze`,
`unsqueeze`, `narrow`, `select`, `movedim`, basic indexing; not `reshape` or
`flatten`, which may copy) — a leaf (a factory call with `requires_grad=True`, `nn.Parameter`,
`.requires_grad_()` on a tensor that did not require grad, a `torch.nn` layer's
`weight` or `bias`, a parameter from `model.parameters()` or
`named_parameters()` of a torch layer or of a user `nn.Module` whose layers are
known) and grad mode is known to be on: in module-level code and in the
functions it calls, not in a function analysed on its own, whose callers may
run it under `torch.no_grad()`. Once the file turns `requires_grad` off on a
parameter or a module (freezing part of a model), parameters are no longer
known to require grad. Parameters reached through an optimizer's
`param_groups` are not followed.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.analysis.values import BoundMethod, Tensor, views_a_leaf

        def hits(pairs) -> list:
            # one context that certainly raises is enough (a call from module code with a parameter); a
            # function analysed on its own has grad mode None here and unknown arguments: it proves nothing.
            # The tensor is a leaf that requires grad, or a view of one (w.view(...), w[0], w.t())
            return [t for t, grad in pairs if isinstance(t, Tensor) and views_a_leaf(t) and grad is True]

        lines = ctx.semantic.statement_lines
        reported = set()  # the targets of reported augmented assignments (w[0] *= 2 also writes w[0])
        for node, pairs in ctx.analysis.inplace.items():
            found = hits(pairs)
            if not found or id(node) in reported:
                continue
            if isinstance(node, cst.AugAssign):
                reported.add(id(node.target))
                sub = isinstance(node.target, cst.Subscript)
                what = f"`{ctx.short_code(node.target)} {_op(node)}` {'writes into' if sub else 'changes'} it in place"
                name = ctx.short_code(node.target.value if sub else node.target)
            else:  # a subscript target: x[i] = v
                what = f"`{ctx.short_code(node)} = ...` writes into it in place"
                name = ctx.short_code(node.value)
            yield self._report(ctx, node, name, what, lines, _is_view(found))
        for call, events in ctx.analysis.calls.items():
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value in INPLACE_METHODS):
                continue
            pairs = [(e.callee.receiver, e.grad_enabled if e.grad_known else None) for e in events
                     if isinstance(e.callee, BoundMethod) and e.callee.name == func.attr.value]
            found = hits(pairs)
            if not found:
                continue
            name = ctx.short_code(func.value)
            yield self._report(ctx, call, name, f"`.{func.attr.value}()` changes it in place", lines, _is_view(found))

    def _report(self, ctx, node, name, what, lines, view=False):
        from torchlint.diagnostics import Fix
        from torchlint.rulekit import torch_alias

        kind = "a view of a leaf tensor" if view else "a leaf tensor"
        message = (f"`{name}` is {kind} that requires grad, and {what} while autograd is recording "
                   f"(RuntimeError: a {'view of a ' if view else ''}leaf Variable that requires grad is being used in "
                   f"an in-place operation); do it under `with torch.no_grad():`")
        fix = None
        stmt = lines.get(id(node))
        alias = torch_alias(ctx.module)
        if stmt is not None and alias is not None:
            start, _ = ctx.span(stmt)
            line_start = ctx.source.rfind("\n", 0, start) + 1
            indent = ctx.source[line_start:start]
            if indent.strip() == "":
                unit = "\t" if "\t" in indent else "    "
                newline = ctx.module.default_newline
                edit = ctx.edit(line_start, line_start, f"{indent}with {alias}.no_grad():{newline}{unit}")
                fix = Fix("Do the in-place change under torch.no_grad()", (edit,), "unsafe")
        return ctx.diagnostic(self, node, message, "error", fix)


def _is_view(found) -> bool:
    """Whether every tensor found is a view of a leaf rather than the leaf itself (for the message)."""
    return all(not t.leaf for t in found)


def _op(node) -> str:
    ops = {"AddAssign": "+=", "SubtractAssign": "-=", "MultiplyAssign": "*=", "DivideAssign": "/=",
           "PowerAssign": "**=", "FloorDivideAssign": "//=", "ModuloAssign": "%=", "MatrixMultiplyAssign": "@="}
    return ops.get(type(node.operator).__name__, "op=")
