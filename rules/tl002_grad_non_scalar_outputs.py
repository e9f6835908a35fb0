"""TL002 grad-non-scalar-outputs."""
from __future__ import annotations

from torchlint.registry import Rule


class GradNonScalarOutputs(Rule):
    code = "TL002"
    name = "grad-non-scalar-outputs"
    summary = "torch.autograd.grad() (or vjp()) of non-scalar outputs without grad_outputs (or v)"
    # torch.autograd.grad and torch.autograd.functional.vjp are reached only through a
    # spelling that names "autograd" (torch.autograd.grad, from torch import autograd, ...).
    triggers = ("autograd",)
    site_calls = ("grad", "vjp")
    fix = "sometimes"
    file_facts = ()
    # "grad can be implicitly created only for scalar outputs" or "The vector v can only be None ..."
    runtime_error = ("RuntimeError", "only")
    doc = """
## What it does
Finds `torch.autograd.grad(outputs, inputs)` where `outputs` has more than one
element and neither `grad_outputs=` nor `is_grads_batched=True` is given, and
`torch.autograd.functional.vjp(func, inputs)` without `v` where `func` returns
more than one element.

## Why is this bad?
Like `backward()`, `autograd.grad` can only make the initial gradient itself
for a one-element output. Otherwise it raises
`RuntimeError: grad can be implicitly created only for scalar outputs`; `vjp`
raises `RuntimeError: The vector v can only be None if the user-provided
function returns a single Tensor with a single element.` The classic case is a
gradient penalty computed on a batch of critic outputs.

## Example
```python
critic = nn.Linear(4, 1)
interpolated = torch.randn(8, 4, requires_grad=True)
scores = critic(interpolated)          # shape (8, 1)
grads = torch.autograd.grad(scores, interpolated, create_graph=True)[0]
```

## Use instead
```python
critic = nn.Linear(4, 1)
interpolated = torch.randn(8, 4, requires_grad=True)
scores = critic(interpolated)
grads = torch.autograd.grad(
    scores, interpolated, grad_outputs=torch.ones_like(scores), create_graph=True
)[0]
```

## Fix safety
The fix adds `grad_outputs=torch.ones_like(<outputs>)` (with the name `torch`
is bound to in the file), which makes `autograd.grad` return the gradient of
the *sum* of the outputs: what a gradient penalty wants, and exactly what
PyTorch does by itself for a one-element output.

By the letter of the definition it could be called safe, since the call
raised before. It is marked **unsafe** anyway, because the fix turns a loud
error into a program that runs and may compute something else than meant:
`autograd.grad` of a vector is often written by someone who wanted a Jacobian
or per-sample gradients (the gradient of the sum equals per-sample gradients
only when every output depends on its own row of the inputs, which a
`BatchNorm` in the model breaks), and a `try`/`except RuntimeError` around the
call would stop taking its fallback. Review it; use `torch.func.jacrev` or
`is_grads_batched=True` for a Jacobian.

There is no fix for a list or tuple of outputs, for `vjp`, when the outputs
expression contains a call (the fix would evaluate it twice, running the model
again), or when `torch` is not bound as a module name in the file.

## Known limits
* Outputs whose shape comes from outside the file are unknown and not reported.
* `is_grads_batched=True` without `grad_outputs` also raises, but is left alone.
* `vjp` of a function that returns a tuple (which raises without `v` too) is
  not reported; only a single returned tensor with more than one element is.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.diagnostics import Fix
        from torchlint.rulekit import arg_given, call_arg, torch_alias
        from torchlint.analysis.values import NON_SCALAR, ModuleRef, Seq, Tensor, format_shape

        alias = None
        for call, events in ctx.analysis.calls.items():
            grad_events = [e for e in events if isinstance(e.callee, ModuleRef) and e.callee.qual == "torch.autograd.grad"]
            if not grad_events:
                continue
            if arg_given(call_arg(call, 2, "grad_outputs")):
                continue
            batched = call_arg(call, 99, "is_grads_batched")
            if batched is ... or (batched is not None and not (isinstance(batched.value, cst.Name) and batched.value.value == "False")):
                continue
            out_arg = call_arg(call, 0, "outputs")
            if out_arg is None or out_arg is ...:
                continue
            bad = None
            for e in grad_events:
                v = e.args[0] if e.args else e.kwargs.get("outputs")
                items = list(v.items) if isinstance(v, Seq) and v.items is not None else [v]
                for t in items:
                    if isinstance(t, Tensor) and t.requires_grad is not False and t.verdict == NON_SCALAR:
                        bad = t
            if bad is None:
                continue
            expr = ctx.short_code(out_arg.value)
            fix = None
            all_tensors = all(isinstance(e.args[0] if e.args else e.kwargs.get("outputs"), Tensor) for e in grad_events)
            if all_tensors and not isinstance(out_arg.value, (cst.List, cst.Tuple)) and not _has_call(out_arg.value):
                alias = alias or torch_alias(ctx.module)
                if alias:
                    from torchlint.rulekit import keyword_insert_edit

                    code = ctx.code(out_arg.value)
                    fix = Fix(f"Pass grad_outputs={alias}.ones_like({ctx.short_code(out_arg.value, 30)})",
                              (keyword_insert_edit(ctx, call, f"grad_outputs={alias}.ones_like({code})"),), "unsafe")
            origin = "; ".join(n.render(ctx.line_of) for n in bad.origin)
            what = f"`{expr}` has" if all_tensors else f"an output in `{expr}` has"
            hint = f"torch.ones_like({ctx.short_code(out_arg.value, 30)})" if all_tensors else "[torch.ones_like(o) for o in outputs]"
            message = (f"{what} shape {format_shape(bad.shape)}{': ' + origin if origin else ''}; "
                       f"torch.autograd.grad() without grad_outputs= needs one-element outputs: pass "
                       f"grad_outputs={hint} for the gradient of the sum (a gradient penalty), "
                       f"or use torch.func.jacrev for a Jacobian")
            yield ctx.diagnostic(self, call, message, "error", fix)
        # vjp(func, inputs) without v
        for call, outs in ctx.analysis.func_outputs.items():
            events = ctx.analysis.calls.get(call, [])
            if not any(isinstance(e.callee, ModuleRef) and e.callee.qual == "torch.autograd.functional.vjp" for e in events):
                continue
            if arg_given(call_arg(call, 2, "v")):
                continue
            bad = next((o for o in outs if isinstance(o, Tensor) and o.verdict == NON_SCALAR), None)
            if bad is None:
                continue
            fn = call_arg(call, 0, "func")
            name = ctx.short_code(fn.value) if fn not in (None, ...) else "the function"
            message = (f"`{name}` returns shape {format_shape(bad.shape)}; vjp() without v needs a function that "
                       f"returns one element: pass v= (e.g. torch.ones_like of the output)")
            yield ctx.diagnostic(self, call, message, "error")


def _has_call(node) -> bool:
    """Whether evaluating ``node`` calls anything (duplicating it in a fix would run the call twice)."""
    import libcst as cst

    found = []

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, _node):
            found.append(True)
            return False

    node.visit(_Finder())
    return bool(found)
