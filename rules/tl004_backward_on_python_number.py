"""TL004 backward-on-python-number."""
from __future__ import annotations

from torchlint.registry import Rule


class BackwardOnPythonNumber(Rule):
    code = "TL004"
    name = "backward-on-python-number"
    summary = "backward() on a Python number or list made from a tensor (.item(), float(), .tolist(), .numpy())"
    triggers = ("backward(",)
    sites = ("call:backward",)  # x.backward() on what .item(), float(), ... made
    fix = "sometimes"
    file_facts = ()
    runtime_error = ("AttributeError", "has no attribute 'backward'")
    doc = """
## What it does
Finds `.backward()` called on the result of `.item()`, `float(t)`, `int(t)`,
`.tolist()`, `.numpy()` or a `math` function of a tensor (`math.sin(t)`), also
after arithmetic on that number (`s = w.item() * 2; s.backward()`).

## Why is this bad?
Those conversions leave autograd: they return a Python number, a list or a
NumPy array, none of which has a `backward` method, so the call raises
`AttributeError: 'float' object has no attribute 'backward'`. It usually comes
from logging code (`loss = criterion(...).item()`) that was moved one line too
far.

## Example
```python
loss = criterion(model(x), y).item()
loss.backward()
```

## Use instead
```python
loss = criterion(model(x), y)
loss.backward()
running_loss += loss.item()
```

## Fix safety
When the conversion is the receiver itself (`loss.item().backward()`,
`float(loss).backward()`), the fix removes the conversion. It is **safe**: the
original line always raised. When the number was stored in a variable first,
there is no fix: where the tensor is still available is the author's call.
There is no fix either when the tensor under the conversion does not require
grad (`loss.detach().item()`): dropping the conversion would only trade this
error for "element 0 of tensors does not require grad" (TL005).

## Known limits
`t.numpy()` on a tensor that requires grad raises earlier, at the conversion
itself ("Can't call numpy() on Tensor that requires grad"); that line is not
this rule's, so the `backward()` after it is not reported.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.diagnostics import Fix
        from torchlint.analysis.values import BoundMethod, Number, PyConverted

        for call, events in ctx.analysis.calls.items():
            func = call.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "backward"):
                continue
            conv = number = None
            for e in events:
                recv = e.callee.receiver if isinstance(e.callee, BoundMethod) and e.callee.name == "backward" else None
                if isinstance(recv, (Number, PyConverted)) and recv.conv:
                    conv, number = recv.conv, recv
            if conv is None:
                continue
            receiver = func.value
            inner = _conversion_operand(receiver)
            sources = _converted_tensors(ctx, receiver) if inner is not None else []
            if conv == ".numpy()" and inner is not None and not _call_args(receiver) \
                    and any(t.requires_grad for t in sources):
                # t.numpy() on a tensor that requires grad raises first (RuntimeError, "Can't call numpy()"):
                # the backward() on this line is never reached.
                continue
            what = KINDS.get(conv) or (f"a Python {number.kind}" if isinstance(number, Number) and number.kind
                                       else "a Python number" if isinstance(number, Number) else "a Python object")
            expr = ctx.short_code(receiver)
            fix = None
            if inner is not None and sources and all(t.requires_grad is not False for t in sources) \
                    and not _call_args(receiver):
                text = ctx.code(inner)
                if not isinstance(inner, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not getattr(inner, "lpar", None):
                    text = f"({text})"
                fix = Fix(f"Call backward() on the tensor, not on its {conv} conversion",
                          (ctx.replace(receiver, text),), "safe")
            message = (f"`{expr}` is {what} (made by {conv}), which has no backward() "
                       f"(AttributeError at run time): call backward() on the tensor before converting it")
            yield ctx.diagnostic(self, call, message, "error", fix)


KINDS = {".item()": "a Python number", "float()": "a Python float", "int()": "a Python int",
         "bool()": "a Python bool", ".tolist()": "a Python list (or number, for a 0-d tensor)",
         ".numpy()": "a NumPy array"}


def _conversion_operand(receiver):
    """``t`` when ``receiver`` is itself the conversion: ``t.item()``, ``t.tolist()``, ``t.numpy()``, ``float(t)``."""
    import libcst as cst

    if not isinstance(receiver, cst.Call) or receiver.lpar:
        return None
    rf = receiver.func
    if isinstance(rf, cst.Attribute) and rf.attr.value in ("item", "tolist", "numpy"):
        return rf.value
    if isinstance(rf, cst.Name) and rf.value in ("float", "int", "bool") and len(receiver.args) == 1 \
            and not receiver.args[0].keyword and not receiver.args[0].star:
        return receiver.args[0].value
    return None


def _call_args(receiver) -> bool:
    """Does a method conversion take arguments (``t.numpy(force=True)``)?  float(t) has its operand as argument."""
    import libcst as cst

    return isinstance(receiver.func, cst.Attribute) and bool(receiver.args)


def _converted_tensors(ctx, receiver) -> list:
    """The tensors the conversion ``receiver`` was applied to, in every context."""
    from torchlint.analysis.values import BoundMethod, Tensor

    out = []
    for e in ctx.analysis.calls.get(receiver, []):
        if isinstance(e.callee, BoundMethod):
            v = e.callee.receiver
        else:
            v = e.args[0] if e.args else None
        if not isinstance(v, Tensor):
            return []
        out.append(v)
    return out
