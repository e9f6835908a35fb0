"""Pure helpers of the interpreter: joins and widening of environments, tensor indexing, in-place updates, DataParallel gathering, truth and comparison folding."""
from __future__ import annotations

from dataclasses import replace
from typing import Optional
import libcst as cst
from torchlint.analysis.cstwalk import dotted, ends_early
from torchlint.analysis.values import (
    UNKNOWN,
    ClassValue,
    Const,
    DictValue,
    Function,
    Gathered,
    Instance,
    ModuleRef,
    Note,
    Number,
    Seq,
    Tensor,
    TorchObject,
    UnknownValue,
    Value,
    join,
    join_all,
    join_head,
    PREVIOUS,
    views_a_leaf,
)
from torchlint.analysis.cstwalk import short_code as _short_code
from torchlint.analysis.interp.state import ENABLE_GRAD_CONTEXTS, NO_GRAD_CONTEXTS


# The grad mode is interpreter state, but which mode holds after a branch depends on the path, as for a
# variable: `if c: torch.set_grad_enabled(False)` leaves it unknown.  It travels with the variables of a path
# under this key (no identifier can clash with it), so that branch joins, loop fixed points and widening treat
# it like any other value.
GRAD_KEY = "<grad mode>"


def grad_state(ip) -> tuple:
    return ip.grad_enabled, ip.grad_off, ip.grad_assumed


def set_grad_state(ip, state: tuple):
    ip.grad_enabled, ip.grad_off, ip.grad_assumed = state


def join_grad_states(states: list) -> tuple:
    first = states[0]
    if all(s == first for s in states):
        return first
    return None, None, any(s[2] for s in states)


def grad_into(ip, vars_: dict):
    """Record the current grad mode with a path's variables."""
    vars_[GRAD_KEY] = Const(grad_state(ip))


def grad_from(ip, vars_: dict, pop: bool = True):
    """Take the grad mode a path's variables carry (unknown when paths disagreed)."""
    v = vars_.pop(GRAD_KEY, None) if pop else vars_.get(GRAD_KEY)
    if v is None:
        return
    if isinstance(v, Const) and isinstance(v.value, tuple):
        set_grad_state(ip, v.value)
    else:
        ip.grad_enabled, ip.grad_off = None, None


_ABSENT = object()


def join_vars(states: list, head: bool = False) -> dict:
    """Join environments; at a loop ``head``, None before the loop and a tensor after it is a tensor that
    may be None (see :func:`join_head`)."""
    states = [s for s in states if s is not None]
    if len(states) == 1:
        return dict(states[0])
    if len(states) == 2:  # (the common case, an if/else or a loop head: most variables are the same object)
        a, b = states
        pair = join_head if head else join
        out = {}
        for k, v in a.items():
            w = b.get(k, _ABSENT)
            out[k] = v if w is v or w is _ABSENT else pair(v, w)
        for k, w in b.items():
            if k not in out:
                out[k] = w
        return out
    out = {}
    keys: list = []
    seen = set()
    for s in states:
        for k in s:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    for k in keys:
        vals = [s[k] for s in states if k in s]
        first = vals[0]
        if all(v is first for v in vals):  # (joining a value with itself gives it back)
            out[k] = first
        elif head:
            got = vals[0]
            for v in vals[1:]:
                got = join_head(got, v)
            out[k] = got
        else:
            out[k] = join_all(vals)
    return out


def vars_equal(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if x is y:
            continue
        if isinstance(x, Instance) or isinstance(y, Instance):
            if x is not y:
                return False
            continue
        try:
            if x != y:
                return False
        except Exception:
            return False
    return True


def widen(old: dict, new: dict) -> dict:
    out = dict(new)
    for k, v in new.items():
        if k in old and not vars_equal({k: old[k]}, {k: v}):
            if isinstance(v, Tensor):
                out[k] = Tensor(shape=None if v.shape is None or old[k].__class__ is not Tensor or
                                (old[k].shape is None or len(old[k].shape) != len(v.shape)) else tuple(None for _ in v.shape),
                                numel=v.numel, likely=v.likely, per_element=v.per_element,
                                requires_grad=v.requires_grad, dtype=v.dtype, origin=v.origin,
                                maybe_none=v.maybe_none or getattr(old[k], "maybe_none", False))
            else:
                out[k] = UNKNOWN
    return out


def _basic_index(kind, v) -> bool:
    """Whether one index of a subscript is basic (PyTorch then returns a view): a slice, an int, None, ``...``."""
    if kind == "slice":
        return True
    if isinstance(v, Const):
        return v.value is None or v.value is Ellipsis or (isinstance(v.value, int) and not isinstance(v.value, bool))
    return isinstance(v, Number) and v.kind == "int"


def index_tensor(t: Tensor, index: list, grad_enabled) -> Value:
    """Basic and (simple) advanced indexing, following PyTorch/NumPy rules."""
    shape = t.shape
    base = dict(requires_grad=t.requires_grad if grad_enabled is not False else False, dtype=t.dtype, origin=t.origin,
                graph=t.graph if grad_enabled is not False and t.requires_grad else frozenset())
    items = list(index)
    if grad_enabled is True and views_a_leaf(t) and all(_basic_index(kind, v) for kind, v in items):
        base["leaf_view"] = True  # basic indexing (ints, slices, None, ...) makes a view: w[0] of a leaf
    if shape is None:
        return Tensor(shape=None, **base)
    if any(kind == "star" for kind, _ in items):
        return Tensor(shape=None, **base)
    n_ellipsis = sum(1 for kind, v in items if kind == "index" and isinstance(v, Const) and v.value is Ellipsis)
    if n_ellipsis > 1:
        return Tensor(shape=None, **base)
    # a single index that is a tuple: x[(0, 1)]
    if len(items) == 1 and items[0][0] == "index" and isinstance(items[0][1], Seq) and items[0][1].kind == "tuple":
        seq = items[0][1]
        if seq.items is None:
            return Tensor(shape=None, **base)
        items = [("index", v) for v in seq.items]

    def consumes(kind, v):
        if kind == "slice":
            return 1
        if isinstance(v, Const):
            if v.value is None or v.value is Ellipsis:
                return 0
            return 1
        if isinstance(v, Tensor) and v.dtype == "bool" and v.shape is not None:
            return max(len(v.shape), 1) if v.shape else 1
        return 1

    used = sum(consumes(k, v) for k, v in items)
    out: list = []
    dim = 0
    advanced = 0
    for kind, v in items:
        if kind == "index" and isinstance(v, Const) and v.value is Ellipsis:
            fill = len(shape) - used
            if fill < 0:
                return Tensor(shape=None, **base)
            out.extend(shape[dim: dim + fill])
            dim += fill
            continue
        if kind == "index" and isinstance(v, Const) and v.value is None:
            out.append(1)
            continue
        if dim >= len(shape) and not (kind == "index" and isinstance(v, Tensor) and v.dtype == "bool" and v.shape == ()):
            return Tensor(shape=None, **base)
        if kind == "slice":
            lo, hi, st = v
            size = shape[dim]
            if isinstance(size, int) and all(isinstance(p, Const) and (p.value is None or isinstance(p.value, int)) for p in (lo, hi, st)):
                try:
                    out.append(len(range(*slice(lo.value, hi.value, st.value).indices(size))))
                except ValueError:
                    return Tensor(shape=None, **base)
            elif all(isinstance(p, Const) and p.value is None for p in (lo, hi, st)):
                out.append(size)
            else:
                out.append(None)
            dim += 1
            continue
        if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
            dim += 1
            continue
        if isinstance(v, Number) and v.kind == "int":
            dim += 1
            continue
        if isinstance(v, Tensor):
            if v.dtype == "bool":
                if v.shape is None:
                    return Tensor(shape=None, **base)
                k = len(v.shape)
                out.append(None)
                dim += k
                advanced += 1
                continue
            if v.dtype == "int" and v.shape is not None:
                out.extend(v.shape)
                dim += 1
                advanced += 1
                continue
            return Tensor(shape=None, **base)
        if isinstance(v, Seq) and v.items is not None and all(isinstance(i, Const) and isinstance(i.value, int) for i in v.items):
            out.append(len(v.items))
            dim += 1
            advanced += 1
            continue
        return Tensor(shape=None, **base)
    if advanced > 1:
        return Tensor(shape=None, **base)
    out.extend(shape[dim:])
    return Tensor(shape=tuple(out), **base)


def _after_inplace(current: Tensor, result: Value, grad_enabled: Optional[bool]) -> Tensor:
    """What ``x`` is after an in-place op on it (``x -= y``, ``x.add_(y)``, ``x[i] = v``): the same tensor.

    It keeps its shape and dtype. With grad disabled it also keeps requires_grad and leaf-ness (a parameter
    updated under ``torch.no_grad()`` still requires grad); with grad enabled it requires grad when it did or
    when what was written into it does, and then it is no longer a leaf."""
    if grad_enabled is True and views_a_leaf(current):
        return current  # PyTorch refuses this op on a leaf or a view of one (TL009): the tensor stays as it was
    out = result if isinstance(result, Tensor) else Tensor(shape=current.shape)
    keep = dict(shape=current.shape, numel=current.numel, dtype=current.dtype or out.dtype, likely=current.likely,
                per_element=current.per_element)
    if grad_enabled is False:
        return replace(out, requires_grad=current.requires_grad, grad_note=current.grad_note, leaf=current.leaf,
                       leaf_view=current.leaf_view, origin=current.origin, **keep)
    if current.requires_grad:  # an in-place op never takes requires_grad away
        rg = True
    elif out.requires_grad:
        rg = True if grad_enabled else None
    elif current.requires_grad is False and out.requires_grad is False:
        rg = False
    else:
        rg = None
    return replace(out, requires_grad=rg, grad_note=current.grad_note if rg is False else None,
                   leaf=current.leaf and rg is False, leaf_view=False, **keep)


def _gather(out: Value, dp: TorchObject, label_node) -> Value:
    """What nn.DataParallel returns on several GPUs for a forward result ``out``."""
    if not isinstance(out, (Tensor, Seq, DictValue, UnknownValue)):
        return UNKNOWN
    label = _short_code(label_node) if label_node is not None else None
    name = f"`{label}`" if label else "the model"
    note = Note(f"{name} is wrapped in nn.DataParallel (line {{line}}): a 0-d loss computed in forward() comes back as "
                f"one value per GPU, so this works on one GPU and fails on several", dp.node)
    if isinstance(out, UnknownValue):  # a module torchlint cannot see: only its loss is known to be gathered
        return Gathered(note)
    if isinstance(out, Tensor):
        if out.shape == ():
            return Tensor(shape=None, likely=note, per_element=True, requires_grad=out.requires_grad, dtype=out.dtype,
                          origin=(note,))
        return out
    if isinstance(out, Seq) and out.items is not None:
        return Seq(out.kind, tuple(_gather(i, dp, label_node) for i in out.items), names=out.names)
    if isinstance(out, DictValue):
        return DictValue(tuple((k, _gather(v, dp, label_node)) for k, v in out.items), out.complete, out.exact)
    return UNKNOWN


def _truth(v: Value) -> Optional[bool]:
    if isinstance(v, Const):
        try:
            return bool(v.value)
        except Exception:
            return None
    if isinstance(v, (Function, ClassValue)):
        return True
    if isinstance(v, ModuleRef):
        # `import config` binds a module (truthy); `config.DEBUG`, `from config import DEBUG` or
        # `torch.backends.cudnn.enabled` may be any value, False included.
        return True if "." not in v.qual else None
    return None


def _compare(op, a, b):
    if op is cst.Equal:
        return a == b
    if op is cst.NotEqual:
        return a != b
    if op is cst.LessThan:
        return a < b
    if op is cst.LessThanEqual:
        return a <= b
    if op is cst.GreaterThan:
        return a > b
    if op is cst.GreaterThanEqual:
        return a >= b
    if op is cst.Is:
        return a is b
    if op is cst.IsNot:
        return a is not b
    if op is cst.In:
        return a in b
    if op is cst.NotIn:
        return a not in b
    raise ValueError(op)


def _kind(v: Value) -> Optional[str]:
    if isinstance(v, Number):
        return v.kind
    if isinstance(v, Const):
        return "bool" if isinstance(v.value, bool) else "int" if isinstance(v.value, int) else "float"
    return None


def _name_of(node) -> str:
    return node.value if isinstance(node, cst.Name) else dotted(node)


def _callable_qual(v: Value) -> Optional[str]:
    if isinstance(v, ModuleRef):
        q = v.qual
        return q[len("builtins."):] if q.startswith("builtins.") else q
    if isinstance(v, TorchObject):
        return v.qual
    return None


def _grad_mode_of(ctx: Value):
    q = _callable_qual(ctx)
    if q in ("torch.inference_mode", "torch.autograd.inference_mode") and isinstance(ctx, TorchObject):
        # torch.inference_mode(False) leaves grad mode alone
        arg = ctx.attr("arg", None)
        if isinstance(arg, Const):
            return False if arg.value else None
        if arg is not None:
            return "unknown"
    if q in NO_GRAD_CONTEXTS:
        return False
    if q in ENABLE_GRAD_CONTEXTS:
        return True
    if q in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and isinstance(ctx, TorchObject):
        arg = ctx.attr("arg")
        if isinstance(arg, Const):
            return bool(arg.value)
        return "unknown"
    return None


def _grad_off_label(ctx: Value) -> str:
    """How the code turned grad mode off, as it would read it: ``torch.inference_mode()``, ..."""
    q = _callable_qual(ctx) or ""
    if q.endswith("inference_mode"):
        return "torch.inference_mode()"
    if q.endswith("set_grad_enabled"):
        return "torch.set_grad_enabled(False)"
    return "torch.no_grad()"


def _is_static(node: cst.FunctionDef) -> bool:
    return any(dotted(d.decorator) in ("staticmethod",) for d in node.decorators)


def _is_classmethod(node: cst.FunctionDef) -> bool:
    return any(dotted(d.decorator) in ("classmethod", "builtins.classmethod") for d in node.decorators)


def _is_property(node: cst.FunctionDef) -> bool:
    return any(dotted(d.decorator) in ("property", "functools.cached_property", "cached_property") for d in node.decorators)


def _is_plain_base(b: Value) -> bool:
    return isinstance(b, ClassValue) or (isinstance(b, ModuleRef) and b.qual in ("builtins.object",))


def rebase_graphs(value: Value, old: tuple, new: tuple) -> Value:
    """``value`` as a call made in context ``new`` returns it, when it was computed by the same call made in
    context ``old`` (a memoised summary): the graph nodes created during that call are renamed to this one's,
    so that two calls of one function never share a graph node, and the nodes of the arguments stay as
    they are."""
    if old == new:
        return value
    if isinstance(value, Tensor):
        if not value.graph:
            return value
        k = len(old)
        graph = frozenset((node, new + ctx[k:]) if ctx[:k] == old else (node, ctx) for node, ctx in value.graph)
        return replace(value, graph=graph)
    if isinstance(value, Seq):
        if value.items is not None:
            return Seq(value.kind, tuple(rebase_graphs(v, old, new) for v in value.items), names=value.names)
        return Seq(value.kind, None, rebase_graphs(value.elem, old, new))
    if isinstance(value, DictValue):
        return DictValue(tuple((k, rebase_graphs(v, old, new)) for k, v in value.items), value.complete, value.exact)
    return value


def previous_iteration(value: Value, made: set, context: tuple, loop) -> Value:
    """``value`` at the head of ``loop`` (in call ``context``), with the graph nodes made in its body (``made``:
    ids of the body's nodes) renamed ``((PREVIOUS, loop, op), ctx)``: at the start of an iteration, what the
    body made is from an earlier iteration. TL008 tells them from the ones this iteration makes."""
    if isinstance(value, Tensor) and value.graph:
        k = len(context)

        def mark(g):
            op, ctx = g
            if isinstance(op, tuple) or ctx[:k] != context:
                return g
            anchor = ctx[k] if len(ctx) > k else op
            return ((PREVIOUS, loop, op), ctx) if id(anchor) in made else g

        graph = frozenset(mark(g) for g in value.graph)
        return value if graph == value.graph else replace(value, graph=graph)
    if isinstance(value, Seq):
        if value.items is not None:
            return Seq(value.kind, tuple(previous_iteration(v, made, context, loop) for v in value.items))
        return Seq(value.kind, None, previous_iteration(value.elem, made, context, loop))
    return value


def same_iteration(value: Value, loop) -> Value:
    """``value`` with the nodes :func:`previous_iteration` renamed for ``loop`` named as before."""
    if isinstance(value, Tensor) and value.graph:
        graph = frozenset(((g[0][2], g[1]) if isinstance(g[0], tuple) and g[0][1] is loop else g) for g in value.graph)
        return value if graph == value.graph else replace(value, graph=graph)
    if isinstance(value, Seq):
        if value.items is not None:
            return Seq(value.kind, tuple(same_iteration(v, loop) for v in value.items))
        return Seq(value.kind, None, same_iteration(value.elem, loop))
    return value


NO_KEY = object()


def dict_key(v: Value):
    """The Python key a value stands for in a dict: a hashable constant, or a tuple of them
    (``d["color", 0]``, ``{("disp", 0): x}``); ``NO_KEY`` when it is not known."""
    if isinstance(v, Const):
        try:
            hash(v.value)
        except TypeError:
            return NO_KEY
        return v.value
    if isinstance(v, Seq) and v.kind == "tuple" and v.items is not None:
        parts = tuple(dict_key(i) for i in v.items)
        return NO_KEY if any(p is NO_KEY for p in parts) else parts
    return NO_KEY


UNROLL_MODULES = 12  # loops over up to this many modules (a ModuleList of blocks) run once per module
# a constructor's loop over up to this many items runs once per item: a model built from a config table of
# its layers (YOLO's [from, block, args] rows) gets each layer, in order
UNROLL_BUILD = 64


def _unrollable(stmt, iterable, any_items: bool = False) -> bool:
    """A loop over a known list of modules or objects, or over a dict's keys or items (of anything with
    ``any_items``: a loop of a constructor, which builds an object's layers once, such as
    ``for i in range(depth): layers["conv" + str(i)] = ...``), with no else and no way to end an iteration early."""
    if not (isinstance(iterable, Seq) and iterable.items and len(iterable.items) <= (UNROLL_BUILD if any_items else UNROLL_MODULES)):
        return False
    if stmt.orelse is not None:
        return False
    if not (any_items or any(isinstance(i, (Instance, TorchObject)) for i in iterable.items)
            or all(_key_like(i) for i in iterable.items)):
        return False
    return not ends_early(stmt.body)


def _unmark(state: dict, loop) -> dict:
    return {k: same_iteration(v, loop) for k, v in state.items()}


def _key_like(v) -> bool:
    """A dict key as loops over ``d``, ``d.keys()`` or ``d.items()`` give it: a string or a tuple of constants
    (``("color", 0)``), or a (key, value) pair: each iteration then stores under its own key."""
    if isinstance(v, Seq) and v.kind == "tuple" and v.items is not None and len(v.items) == 2 and _key_like(v.items[0]):
        return True
    return isinstance(v, Const) and (isinstance(v.value, str) or
                                     isinstance(v.value, tuple) and any(isinstance(p, str) for p in v.value))
