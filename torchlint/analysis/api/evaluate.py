"""Evaluating an API entry at a call: bind the arguments, run its shape rule, and give the result what
every op shares (requires_grad, dtype promotion, saved tensors, graph provenance, per-element losses)."""
from __future__ import annotations

from typing import Optional
from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import Const, MANY, Number, Seq, Tensor, TorchObject, UNKNOWN, Value, views_a_leaf
from torchlint.analysis.api import Args, BindError, CLASSES, CallEnv, FUNCTIONS, METHODS, ModuleClass, _py_dtype, bind, canonical, load, promote


def _inherit(entry, args: Args, result: Tensor, env: CallEnv, params: Optional[bool] = False) -> Tensor:
    """``params``: whether the entry is a layer with parameters (None: maybe), which are inputs too."""
    inputs = args.tensor_inputs()
    first = inputs[0] if inputs else None
    changes: dict = {}
    # requires_grad
    if result.requires_grad is None:
        if env.grad_enabled is False or not entry_differentiable(entry):
            changes["requires_grad"] = False
            if env.grad_enabled is False:
                changes["grad_note"] = f"computed {env.grad_off}"
            else:
                changes["grad_note"] = "the result of a non-differentiable op"
        elif any(t.requires_grad for t in inputs):
            changes["requires_grad"] = True if env.grad_enabled else None
        elif inputs and all(t.requires_grad is False for t in inputs) and not args.unknown_inputs() and params is False:
            changes["requires_grad"] = False
            notes = [t.grad_note for t in inputs if t.grad_note]
            changes["grad_note"] = notes[0] if notes else "no input requires grad"
    # dtype
    if result.dtype is None:
        kinds = _operand_kinds(args, inputs)
        want = getattr(entry, "dtype", None)
        if want == "input" and first is not None:
            changes["dtype"] = first.dtype
        elif want == "real" and first is not None:  # abs/angle of a complex tensor are real
            changes["dtype"] = "float" if first.dtype == "complex" else first.dtype
        elif want in ("float", "int", "bool", "complex"):
            changes["dtype"] = want
        elif want is None and kinds:
            changes["dtype"] = promote(*kinds)
        # want == "rule": the rule's dtype stands, unknown included (x.to(dt) with dt unknown)
    rg_after = changes.get("requires_grad", result.requires_grad)
    if result.leaf:  # a leaf (a factory's tensor, Variable(t)) has no graph behind it
        rg_after = False
    if rg_after and not result.saved and (getattr(entry, "saves", False) or any(t.saved for t in inputs)):
        changes["saved"] = True
    # graph provenance: a result that requires grad runs backward through its inputs' graphs, and through
    # the node this op creates when that node saves tensors
    graph = frozenset()
    if rg_after is True:
        graph = frozenset().union(*(t.graph for t in inputs if t.requires_grad), result.graph)
        if getattr(entry, "saves", False) and env.site is not None:
            graph |= {(env.site, env.context)}
    if graph != result.graph:
        changes["graph"] = graph
    # a view of a leaf that requires grad (not x.view(torch.int32), which cannot require grad)
    src = args.bound.get("input")
    if getattr(entry, "view", False) and env.grad_enabled is True and isinstance(src, Tensor) and views_a_leaf(src) \
            and changes.get("dtype", result.dtype) not in ("int", "bool"):
        changes["leaf_view"] = True
    flow = entry.flow
    if flow in ("keeps", "broadcast", "concat", "spatial") and first is not None:
        if result.numel is None:
            if flow == "keeps" and result.shape is None:
                changes["numel"] = first.numel
            elif flow == "broadcast" and any(t.numel == MANY for t in inputs):
                # broadcasting never shrinks: 0 stays 0, two or more stay two or more
                changes["numel"] = MANY
        likely = next((t.likely for t in inputs if t.likely), None)
        if likely and result.numel is None and changes.get("numel") is None:
            changes["likely"] = likely
        changes["per_element"] = any(t.per_element for t in inputs)
        origin = next((t.origin for t in inputs if t.origin), ())
        changes["origin"] = origin
    if changes:
        from dataclasses import replace

        result = replace(result, **changes)
        if result.numel is not None and result.likely:
            result = replace(result, likely=None)
    return result


# The arguments whose dtypes type promotion combines (a Python number by its category: float beats an
# integer tensor); parameters such as ``alpha`` or ``dim`` take no part in it.
OPERANDS = ("input", "other", "end", "weight", "tensor1", "tensor2")


def _operand_kinds(args: Args, inputs: list) -> list:
    """The dtype kinds that decide an op's result dtype: the operands' (None for an operand of unknown
    type, which makes the promoted dtype unknown), or, for ops without such operands (``torch.cat``),
    the tensor inputs' (None when some input is unknown)."""
    kinds = []
    for name in OPERANDS:
        if name not in args.bound:
            continue
        v = args.bound[name]
        if isinstance(v, Tensor):
            kinds.append(v.dtype)
        elif isinstance(v, Const) and v.value is None:
            continue  # an optional operand left out (F.layer_norm's weight=None)
        elif isinstance(v, Const) and isinstance(v.value, (bool, int, float, complex)):
            kinds.append(_py_dtype(v.value))
        elif isinstance(v, Number):
            kinds.append(v.kind if v.kind in ("bool", "int", "float") else None)
        else:
            kinds.append(None)
    if kinds:
        return kinds
    kinds = [t.dtype for t in inputs]
    if kinds and args.unknown_inputs():
        kinds.append(None)
    return kinds


def entry_differentiable(entry) -> bool:
    return getattr(entry, "differentiable", True)


def _params_require_grad(out: Value) -> Value:
    from dataclasses import replace

    if isinstance(out, Tensor) and out.requires_grad is None:
        return replace(out, requires_grad=True)
    if isinstance(out, Seq) and out.items is not None:
        return Seq(out.kind, tuple(_params_require_grad(i) for i in out.items), names=out.names)
    return out


_RULE_ERRORS = (ShapeUnknown, TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError)


def _partial(entry, args: Args) -> Tensor:
    """What ``entry.partial`` knows of a result its rule could not compute; a tensor of unknown shape
    otherwise (or when it cannot tell either)."""
    if entry.partial is not None:
        try:
            out = entry.partial(args)
        except _RULE_ERRORS:
            out = None
        if isinstance(out, tuple):
            return Tensor(shape=out)
        if isinstance(out, Tensor):
            return out
    return Tensor(shape=None)


def apply_rule(entry, bound: dict, env: CallEnv) -> Value:
    args = Args(bound, env)
    try:
        out = entry.rule(args)
    except _RULE_ERRORS:
        out = _partial(entry, args)
        if isinstance(entry, ModuleClass) and isinstance(out, Tensor) and out.requires_grad is None:
            # a layer's parameters require grad even when its output shape is unknown
            if entry.has_params(bound) and env.grad_enabled:
                out = out.with_(requires_grad=True)
            elif entry.has_params(bound) is None and env.grad_enabled is False:
                out = out.with_(requires_grad=False)
    if out is None or isinstance(out, tuple):  # a shape rule returned a shape (None: unknown)
        out = Tensor(shape=out)
    if isinstance(entry, ModuleClass) and entry.has_params(bound) and env.grad_enabled:
        # every tensor a layer with parameters returns (an RNN's hidden state
        # as much as its output) is computed from those parameters
        out = _params_require_grad(out)
    params = entry.has_params(bound) if isinstance(entry, ModuleClass) else False
    if isinstance(out, Tensor):
        return _inherit(entry, args, out, env, params)
    if isinstance(out, Seq) and out.items is not None:
        return Seq(out.kind, tuple(_inherit(entry, args, i, env, params) if isinstance(i, Tensor) else i for i in out.items), names=out.names)
    return out


def call_function(qual: str, args: list, kwargs: dict, env: CallEnv) -> Optional[Value]:
    """Evaluate ``qual(*args, **kwargs)``; None when the API model does not know ``qual``."""
    load()
    qual = canonical(qual)
    entry = FUNCTIONS.get(qual)
    if entry is not None:
        try:
            bound = bind(entry.sig, args, kwargs)
        except BindError:
            return UNKNOWN
        return apply_rule(entry, bound, env)
    cls = CLASSES.get(qual)
    if cls is not None:
        try:
            bound = bind(cls.init_sig, args, kwargs)
        except BindError:
            return TorchObject(qual, (), node=env.node, label=env._label, label_node=env._label_node)
        return TorchObject(qual, tuple(sorted(bound.items())), node=env.node, label=env._label,
                           label_node=env._label_node)
    return None


def call_method(receiver: Tensor, name: str, args: list, kwargs: dict, env: CallEnv) -> Optional[Value]:
    load()
    entry = METHODS.get(name)
    if entry is None:
        return None
    try:
        bound = bind(entry.sig, [receiver] + list(args), kwargs)
    except BindError:
        return UNKNOWN
    return apply_rule(entry, bound, env)


def call_module(obj: TorchObject, args: list, kwargs: dict, env: CallEnv) -> Optional[Value]:
    load()
    cls = CLASSES.get(obj.qual)
    if cls is None:
        return None
    try:
        bound = bind(cls.forward_sig, args, kwargs)
    except BindError:
        return UNKNOWN
    for k, v in obj.attrs:
        bound.setdefault("self." + k, v)
    bound["self"] = obj
    return apply_rule(cls, bound, env)
