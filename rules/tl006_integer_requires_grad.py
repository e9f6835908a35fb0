"""TL006 integer-requires-grad."""
from __future__ import annotations

from torchlint.registry import Rule

INT_DTYPES = {"int", "int8", "int16", "int32", "int64", "long", "short", "uint8", "uint16", "uint32", "uint64", "bool"}
PARAMETERS = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}


class IntegerRequiresGrad(Rule):
    code = "TL006"
    name = "integer-requires-grad"
    summary = "requires_grad on an integer or boolean tensor (factory, nn.Parameter or requires_grad_())"
    # requires_grad=<anything that is True>, .requires_grad_(), nn.Parameter(...) (requires grad by default)
    triggers = ("requires_grad", "Parameter(")
    # ... and not where the flag is the literal False, nor on a tensor that is certainly a float one
    # (nn.Parameter(torch.zeros(n)), torch.randn(3, requires_grad=True)): see torchlint.analysis.sites
    sites = ("call:Parameter!float", "kw:requires_grad!float", "call:requires_grad_!False", "store:requires_grad!False")
    fix = "sometimes"
    file_facts = ()
    # factories: "Only Tensors of floating point and complex dtype can require gradients";
    # requires_grad_(): "only Tensors of floating point dtype can require gradients"
    runtime_error = ("RuntimeError", "dtype can require gradients")
    doc = """
## What it does
Finds tensors of an integer or boolean dtype asked to require grad:
`torch.tensor([1, 2], requires_grad=True)`, `torch.arange(5, requires_grad=True)`,
`torch.randint(..., requires_grad=True)`, a factory with `dtype=torch.long` (or
another integer or boolean dtype) and `requires_grad=True`,
`nn.Parameter(<integer tensor>)`, `Variable(torch.LongTensor(...), requires_grad=True)`
(the legacy constructors `torch.LongTensor`, `torch.IntTensor`, `torch.BoolTensor`,
... and their `torch.cuda` twins are integer or boolean tensors), and
`.requires_grad_()` on an integer tensor (`x.long().requires_grad_()`,
`(x > 0).requires_grad_()`, `x.to(dtype=ids.dtype)` of an integer `ids`) or
`x.requires_grad = True` on one.

## Why is this bad?
Gradients are only defined for floating-point and complex tensors. PyTorch
raises, at the line that makes the tensor:

    RuntimeError: Only Tensors of floating point and complex dtype can require gradients

(`.requires_grad_()` says "only Tensors of floating point dtype can require
gradients"). Integer literals silently pick `torch.int64`: `torch.tensor(3)`,
`torch.arange(5)` and `torch.full((2,), 1)` are all integer tensors.

## Example
```python
import torch
w = torch.tensor([1, 2, 3], requires_grad=True)
scale = torch.nn.Parameter(torch.tensor(10))
```

## Use instead
```python
import torch
w = torch.tensor([1, 2, 3], requires_grad=True, dtype=torch.float32)
scale = torch.nn.Parameter(torch.tensor(10.))
```

## Fix safety
The fix makes the smallest correct change to the call that makes the tensor
(for `nn.Parameter(torch.tensor(...))`, the inner call):
* an integer `dtype=` (or `dtype=None`) becomes `torch.float32`;
* a lone decimal integer literal becomes a float literal: `torch.tensor(3)` ->
  `torch.tensor(3.)`, `torch.arange(5)` -> `torch.arange(5.)` (the last of
  `arange`'s integer arguments), `torch.full(size, 1)` -> `torch.full(size, 1.)`;
* otherwise `dtype=torch.float32` is added (with the name `torch` is bound to).

It is **safe**: the original line always raised, and a float literal gives
the default float dtype, as a float tensor written by hand would. When the
file changes the default dtype (`torch.set_default_dtype`), a fix that writes
`torch.float32` is marked **unsafe**, since the rest of the program may use
`float64`. There is no fix for `.requires_grad_()` on an integer tensor (the
integer conversion may be wanted elsewhere), for a dtype held in a variable,
for `Variable(...)` and the legacy constructors (which float type the data
wants is the author's call), or when `torch` is not bound as a module name in
the file.

## Known limits
* Dtypes passed through variables of unknown value and data read from
  files are not followed. NumPy arrays are followed through their common
  constructors and casts (`np.array`, `np.zeros(..., dtype=)`, `.astype()`)
  into `torch.from_numpy` and `torch.as_tensor`; anything else is unknown.
* After a line that always raises, the rest of its block never runs: a second
  such line there is not reported until the first is fixed.
* `x.requires_grad = True` is followed only when `x` is a plain name.
"""

    def check(self, ctx):
        import libcst as cst

        from torchlint.rulekit import torch_alias
        from torchlint.analysis.values import BoundMethod, Const, ModuleRef, Tensor

        alias = None
        default_changed = "set_default_dtype" in ctx.source or "set_default_tensor_type" in ctx.source
        hits = []  # (call, kind, tensor, whether every context of the call raises)
        for call, events in ctx.analysis.calls.items():
            hit = None
            every = True
            for e in events:
                found = _hit(e, BoundMethod, Const, ModuleRef, Tensor)
                hit = hit or found
                every = every and found is not None
            if hit is not None:
                hits.append((call, *hit, every))
        dead = _unreachable(ctx, [call for call, _, _, every in hits if every])
        for call, kind, t, _ in hits:
            if ctx.line_of(call) in dead:
                continue  # an earlier line of the block always raised: this one never runs
            what = "a boolean" if t.dtype == "bool" else "an integer"
            fix = None
            if kind in ("factory", "parameter") and alias is None:
                alias = torch_alias(ctx.module) or ""
            if kind == "factory":
                # Variable(t, requires_grad=True) takes no dtype=, and a legacy constructor (torch.LongTensor)
                # is the dtype itself: which float type the data wants is the author's call
                fix = None if _legacy_or_variable(call) else _fix(ctx, call, alias, default_changed)
                message = (f"`{ctx.short_code(call.func)}(...)` makes {what} tensor that requires grad; only floating "
                           f"point and complex tensors can (RuntimeError): make it a float tensor")
            elif kind == "parameter":
                inner = _positional(call)[:1]
                if inner and isinstance(inner[0].value, cst.Call) and not _legacy_or_variable(inner[0].value):
                    fix = _fix(ctx, inner[0].value, alias, default_changed)
                message = (f"`{ctx.short_code(call.func)}(...)` wraps {what} tensor in a Parameter, which requires grad; "
                           f"only floating point and complex tensors can (RuntimeError): make the data a float "
                           f"tensor, or pass requires_grad=False for a constant")
            else:
                recv = call.func.value if isinstance(call.func, cst.Attribute) else call.func
                message = (f"`{ctx.short_code(recv, 40)}` is {what} tensor: requires_grad_() on it raises "
                           f"(only floating point tensors can require grad); convert it with .float() first")
            yield ctx.diagnostic(self, call, message, "error", fix)
        # x.requires_grad = True on an integer tensor x
        for target, stores in getattr(ctx.analysis, "attr_stores", {}).items():
            if target.attr.value != "requires_grad":
                continue
            hit = next((t for t, v in stores if isinstance(v, Const) and v.value is True
                        and isinstance(t, Tensor) and t.dtype in ("int", "bool")), None)
            if hit is None:
                continue
            what = "a boolean" if hit.dtype == "bool" else "an integer"
            message = (f"`{ctx.short_code(target.value, 40)}` is {what} tensor: setting requires_grad = True on it "
                       f"raises (only floating point and complex tensors can require grad); convert it with "
                       f".float() first")
            yield ctx.diagnostic(self, target, message, "error")


def _hit(e, BoundMethod, Const, ModuleRef, Tensor):
    """(kind, tensor) when the call event ``e`` asks an integer or boolean tensor to require grad."""
    res = e.result
    if isinstance(e.callee, ModuleRef) and e.callee.qual in PARAMETERS:
        data = e.args[0] if e.args else e.kwargs.get("data")
        rg = e.kwargs.get("requires_grad", e.args[1] if len(e.args) > 1 else Const(True))
        if isinstance(rg, Const) and rg.value is True and isinstance(data, Tensor) and data.dtype in ("int", "bool"):
            return ("parameter", data)
    elif isinstance(e.callee, ModuleRef) and e.callee.qual.startswith("torch."):
        rg = e.kwargs.get("requires_grad")
        if isinstance(rg, Const) and rg.value is True and isinstance(res, Tensor) and res.dtype in ("int", "bool"):
            return ("factory", res)
    elif isinstance(e.callee, BoundMethod) and e.callee.name == "requires_grad_" and isinstance(e.callee.receiver, Tensor):
        flag = e.args[0] if e.args else e.kwargs.get("requires_grad", Const(True))
        if isinstance(flag, Const) and flag.value is True and e.callee.receiver.dtype in ("int", "bool"):
            return ("method", e.callee.receiver)
    return None


def _unreachable(ctx, raising: list) -> set:
    """The lines that never run because a statement before them in their block always raises: a simple
    statement ``x = CALL`` (or ``CALL``) directly in the block whose call raises in every context.
    What follows it in the same block, to the block's end, is dead (a ``try`` around the block resumes
    after it, not inside it)."""
    import libcst as cst

    if not raising:
        return set()
    ids = {id(c) for c in raising}
    dead: set = set()
    for block in ctx.semantic.blocks:
        body = block.body
        for i, stmt in enumerate(body[:-1]):
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                continue
            small = stmt.body[0]
            value = getattr(small, "value", None) if isinstance(small, (cst.Assign, cst.AnnAssign, cst.Expr)) else None
            if value is not None and id(value) in ids:
                start = ctx.code_range(stmt).end.line + 1
                end = ctx.code_range(body[-1]).end.line
                dead.update(range(start, end + 1))
                break
    return dead


def _legacy_or_variable(call) -> bool:
    from torchlint.rulekit import dotted

    name = dotted(call.func).rsplit(".", 1)[-1]
    return name == "Variable" or name.endswith("Tensor")


def _positional(call):
    return [a for a in call.args if a.keyword is None and not a.star]


def _float_literal(node):
    """The float spelling of a decimal integer literal (``5`` -> ``5.``), or None (``0x5``, ``0o7``)."""
    import libcst as cst

    if not isinstance(node, cst.Integer):
        return None
    digits = node.value.replace("_", "")
    if digits.isdigit() and (digits == "0" or not digits.startswith("0")):
        return node.value + "."
    return None


def _fix(ctx, call, alias, default_changed):
    """The smallest correct change that makes ``call`` produce a float tensor, or None."""
    import libcst as cst

    from torchlint.diagnostics import Fix
    from torchlint.rulekit import dotted, keyword_insert_edit

    if any(a.star for a in call.args):
        return None
    applicability = "unsafe" if default_changed else "safe"
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "dtype":
            if isinstance(a.value, cst.Name) and a.value.value == "None" and alias:
                return Fix(f"Use dtype={alias}.float32", (ctx.replace(a.value, f"{alias}.float32"),), applicability)
            name = dotted(a.value)
            if "." in name and name.rsplit(".", 1)[-1] in INT_DTYPES:
                prefix = name.rsplit(".", 1)[0]
                return Fix(f"Use dtype={prefix}.float32", (ctx.replace(a.value, f"{prefix}.float32"),), applicability)
            return None
    positional = _positional(call)
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    fname = dotted(call.func).rsplit(".", 1)[-1]
    lit = None
    if fname == "arange" and positional and not keywords.keys() & {"start", "end", "step"}:
        if all(isinstance(a.value, cst.Integer) for a in positional[:3]):
            lit = positional[min(len(positional), 3) - 1].value
    elif fname == "tensor" and positional and isinstance(positional[0].value, cst.Integer):
        lit = positional[0].value
    elif fname == "tensor" and "data" in keywords and isinstance(keywords["data"].value, cst.Integer):
        lit = keywords["data"].value
    elif fname == "full" and len(positional) >= 2 and isinstance(positional[1].value, cst.Integer):
        lit = positional[1].value
    elif fname == "full" and "fill_value" in keywords and isinstance(keywords["fill_value"].value, cst.Integer):
        lit = keywords["fill_value"].value
    if lit is not None and _float_literal(lit):
        return Fix(f"Make {lit.value} a float literal", (ctx.replace(lit, _float_literal(lit)),), "safe")
    if alias:
        return Fix(f"Add dtype={alias}.float32", (keyword_insert_edit(ctx, call, f"dtype={alias}.float32"),), applicability)
    return None
