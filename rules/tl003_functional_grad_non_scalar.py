"""TL003 functional-grad-non-scalar."""
from __future__ import annotations

from torchlint.registry import Rule


class FunctionalGradNonScalar(Rule):
    code = "TL003"
    name = "functional-grad-non-scalar"
    summary = "torch.func.grad(f) / grad_and_value(f) called where f does not return a 0-dim tensor"
    # Every spelling (torch.func.grad, from torch import func, T.func.grad, functorch.grad,
    # torch._functorch...) has "func" in the file, and a call of grad or grad_and_value (``grad(``
    # is a whole word: not ``no_grad(``), or a rename such as ``g = torch.func.grad``.
    triggers = (("func", "grad("), ("func", "grad_and_value("), "func.grad", "functorch")
    site_calls = ("grad", "grad_and_value")
    fix = "none"
    file_facts = ()
    runtime_error = ("RuntimeError", "Expected f(*args) to return a scalar Tensor")
    doc = """
## What it does
Finds calls of `torch.func.grad(f)(...)` and `torch.func.grad_and_value(f)(...)`
(also spelled `functorch.grad`, `from torch.func import grad`,
`from torch import func`) where `f`, a function, method or lambda of this
file, returns a tensor that is not 0-dimensional for those arguments: one with
more than one element, or a one-element tensor of shape `(1,)`.

## Why is this bad?
`grad` computes the gradient of a scalar-valued function, and unlike
`backward()` it insists on a 0-dim output. For anything else it raises, when
the transformed function is called:

    RuntimeError: grad_and_value(f)(*args): Expected f(*args) to return a
    scalar Tensor, got tensor with 1 dims. Maybe you wanted to use the vjp or
    jacrev APIs instead?

Usually either a reduction is missing (a per-sample loss) or a Jacobian was
meant.

## Example
```python
from torch.func import grad

def f(x):
    return x.sin()

grad(f)(torch.randn(3))
```

## Use instead
If you want the gradient of a scalar, reduce inside `f`:
```python
from torch.func import grad

def f(x):
    return x.sin().sum()

grad(f)(torch.randn(3))
```
If you want the Jacobian (one gradient per output), use `torch.func.jacrev`
or `torch.func.jacfwd`; for per-sample gradients, reduce per sample and wrap
the transform in `torch.func.vmap`.

## Fix safety
There is no fix: whether a reduction (and which one) or a Jacobian was meant
is the author's call, and the change belongs inside `f`, possibly far from the
call.

## Known limits
* Only functions, methods and lambdas defined in the file, and torch functions
  themselves (`grad(torch.tanh)`, `grad(torch.sin)` also through an alias), are
  followed; a function from elsewhere, an `nn.Module`, or `functools.partial` is
  unknown and not reported.
* Inside `torch.func.vmap`, the per-sample shapes are not modelled, so calls
  of `grad(f)` through `vmap` are not checked.
* With `has_aux=True` the first element of the returned 2-tuple is checked;
  other returns raise a different error and are left alone. Calls that fail
  before `f` runs (an `argnums` past the positional arguments, an integer
  input) are left alone too.
"""

    def check(self, ctx):
        from torchlint.analysis.values import NON_SCALAR, Tensor, TorchObject, format_shape

        for call, outs in ctx.analysis.func_outputs.items():
            events = ctx.analysis.calls.get(call, [])
            transform = next((e.callee for e in events if isinstance(e.callee, TorchObject) and e.callee.qual == "torch.func.grad"), None)
            if transform is None:
                continue
            # grad insists on a 0-dim output: a known rank >= 1 fails even with one element.
            bad = [o for o in outs if isinstance(o, Tensor) and o.shape is not None and len(o.shape) >= 1]
            if not bad:
                continue
            worst = next((o for o in bad if o.verdict == NON_SCALAR), bad[0])
            kind = transform.attr("kind")
            kind = getattr(kind, "value", "grad")
            fname = ctx.short_code(call.func)
            dims = len(worst.shape)
            if worst.verdict == NON_SCALAR:
                message = (f"`{fname}` differentiates a function that returns shape {format_shape(worst.shape)}; "
                           f"{kind}() needs a 0-dim (scalar) output: reduce inside the function (.sum()/.mean()), "
                           f"or use torch.func.jacrev/jacfwd if you meant a Jacobian")
            else:
                message = (f"`{fname}` differentiates a function that returns shape {format_shape(worst.shape)}: one "
                           f"element, but {dims} dim{'s' if dims != 1 else ''}; {kind}() needs a 0-dim output: "
                           f"reduce with .sum() or drop the dims with .squeeze() inside the function")
            yield ctx.diagnostic(self, call, message, "error")
