"""The PyTorch API model: a declarative table from qualified op names to shape rules.

An entry (:class:`Op`) names the callables it models (``torch.sum``,
``Tensor.sum``), their signature (a Python-like parameter list, used to bind
positional and keyword arguments), a shape rule, flags that say how the rest of
a tensor's facts flow (``numel`` preserved, broadcasting, differentiable,
result dtype) and examples.  Every example is run by the test-suite twice:
through torchlint's interpreter and with real PyTorch, and the shapes must
agree.

Module classes (``nn.MSELoss``, ``nn.Linear``) are :class:`ModuleClass`
entries: a constructor signature whose bound arguments become the object's
attributes, and a forward rule.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Optional

from torchlint.analysis.shapes import ShapeUnknown
from torchlint.analysis.values import (
    UNKNOWN,
    Const,
    Number,
    Seq,
    Tensor,
    TorchObject,
    Value,
)

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    name: str
    default: object = _NO_DEFAULT
    kind: str = "pos"  # 'pos', 'kw' (keyword-only), 'var' (*args)


_SIGS: dict = {}  # signature text -> its parameters (the tables repeat a few hundred signatures 700 times; a
# run parses only the ones of the ops it calls)


def parse_sig(sig: str) -> tuple[Param, ...]:
    params = _SIGS.get(sig)
    if params is None:
        params = _SIGS[sig] = _parse_sig(sig)
    return params


def _parse_sig(sig: str) -> tuple[Param, ...]:
    params = []
    kwonly = False
    for raw in filter(None, (p.strip() for p in sig.split(","))):
        if raw == "*":
            kwonly = True
            continue
        if raw.startswith("*"):
            params.append(Param(raw[1:], (), "var"))
            kwonly = True
            continue
        if "=" in raw:
            name, default = (s.strip() for s in raw.split("=", 1))
            params.append(Param(name, _literal(default), "kw" if kwonly else "pos"))
        else:
            params.append(Param(raw, _NO_DEFAULT, "kw" if kwonly else "pos"))
    return tuple(params)


_SIMPLE_LITERALS = {"None": None, "True": True, "False": False, "()": ()}


def _literal(text: str):
    if text in _SIMPLE_LITERALS:
        return _SIMPLE_LITERALS[text]
    if text.lstrip("-").isdigit():
        return int(text)
    if text[:1] in "'\"" and text[-1:] == text[:1] and text[0] not in text[1:-1]:
        return text[1:-1]
    return ast.literal_eval(text)


class BindError(Exception):
    pass


def bind(params: tuple[Param, ...], args: list, kwargs: dict) -> dict:
    bound: dict = {}
    pos = [p for p in params if p.kind == "pos"]
    var = next((p for p in params if p.kind == "var"), None)
    args = list(args)
    for p in pos:
        if not args:
            break
        bound[p.name] = args.pop(0)
    if args:
        if var is None:
            raise BindError("too many positional arguments")
        bound[var.name] = Seq("tuple", tuple(args))
    by_name = {p.name: p for p in params}
    for k, v in kwargs.items():
        if k in bound or k not in by_name:
            # unknown keyword: the call would raise, or the model is incomplete
            raise BindError(f"unexpected keyword {k}")
        bound[k] = v
    for p in params:
        if p.name not in bound:
            if p.default is _NO_DEFAULT:
                raise BindError(f"missing {p.name}")
            bound[p.name] = Const(p.default) if p.kind != "var" else Seq("tuple", ())
    return bound


class Args:
    """Bound arguments of one call, with typed accessors for shape rules."""

    def __init__(self, bound: dict, env: "CallEnv"):
        self.bound = bound
        self.env = env

    def __getitem__(self, name: str) -> Value:
        return self.bound.get(name, UNKNOWN)

    def tensor(self, name: str) -> Tensor:
        v = self[name]
        if isinstance(v, Tensor):
            return v
        if isinstance(v, Const) and isinstance(v.value, (int, float, bool)):
            return Tensor(shape=(), requires_grad=False, dtype=_py_dtype(v.value))
        if isinstance(v, Number):
            return Tensor(shape=(), requires_grad=False, dtype=v.kind or None)
        raise ShapeUnknown(f"{name} is not a known tensor")

    def shape(self, name: str) -> tuple:
        s = self.tensor(name).shape
        if s is None:
            raise ShapeUnknown(f"{name} has unknown rank")
        return s

    def is_none(self, name: str) -> bool:
        v = self[name]
        return isinstance(v, Const) and v.value is None

    def const(self, name: str):
        v = self[name]
        if isinstance(v, Const):
            return v.value
        if isinstance(v, Seq) and v.items is not None and all(isinstance(i, Const) for i in v.items):
            return tuple(i.value for i in v.items)
        raise ShapeUnknown(f"{name} is not a known constant")

    def int(self, name: str) -> int:
        v = self.const(name)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ShapeUnknown(f"{name} is not an int")
        return v

    def opt_int(self, name: str) -> Optional[int]:
        return None if self.is_none(name) else self.int(name)

    def bool(self, name: str) -> bool:
        v = self.const(name)
        if not isinstance(v, (bool, int)):
            raise ShapeUnknown(f"{name} is not a bool")
        return bool(v)

    def str(self, name: str) -> str:
        v = self.const(name)
        if not isinstance(v, str):
            raise ShapeUnknown(f"{name} is not a string")
        return v

    def dims(self, name: str):
        """An int, a tuple of ints, or None (for ``dim`` arguments)."""
        v = self.const(name)
        if v is None or isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, tuple) and all(isinstance(i, int) for i in v):
            return v
        raise ShapeUnknown(f"{name} is not a dim")

    def size(self, name: str) -> tuple:
        """A size given as varargs (``randn(2, 3)``) or one sequence (``randn((2, 3))``)."""
        v = self[name]
        items = _seq_items(v)
        if items is None:
            raise ShapeUnknown(f"{name} has unknown length")
        if len(items) == 1:
            inner = _seq_items(items[0])
            if inner is not None:
                items = inner
            elif isinstance(items[0], (Seq, Tensor)) or items[0] is UNKNOWN:
                raise ShapeUnknown("size of unknown length")
        return tuple(dim_of(i) for i in items)

    def tensors(self, name: str) -> list:
        items = _seq_items(self[name])
        if items is None:
            raise ShapeUnknown(f"{name} has unknown length")
        return [self._as_tensor(i) for i in items]

    def _as_tensor(self, v):
        if isinstance(v, Tensor):
            return v
        raise ShapeUnknown("not a tensor")

    def tensor_inputs(self) -> list:
        out = []
        for v in self.bound.values():
            if isinstance(v, Tensor):
                out.append(v)
            elif isinstance(v, Seq) and v.items is not None:
                out.extend(i for i in v.items if isinstance(i, Tensor))
            elif isinstance(v, Seq):
                if isinstance(v.elem, Tensor):
                    out.append(v.elem)
        return out

    def unknown_inputs(self) -> bool:
        for v in self.bound.values():
            if v is UNKNOWN:
                return True
            if isinstance(v, Seq) and (v.items is None and v.elem is UNKNOWN or v.items and UNKNOWN in v.items):
                return True
        return False


def _seq_items(v: Value):
    if isinstance(v, Seq):
        return v.items
    if isinstance(v, Tensor):
        return None
    return None


def dim_of(v: Value):
    if isinstance(v, Const) and isinstance(v.value, int) and not isinstance(v.value, bool):
        return v.value
    if isinstance(v, Number) and v.sym is not None:
        return v.sym
    if isinstance(v, (Number, Const)) or v is UNKNOWN:
        return None
    if isinstance(v, Tensor) and v.shape == ():
        return None
    raise ShapeUnknown("not a dim")


def _py_dtype(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, complex):
        return "complex"
    return "float"


DTYPE_KINDS = {
    "float": "float", "float32": "float", "float64": "float", "double": "float", "half": "float",
    "float16": "float", "bfloat16": "float", "float8_e4m3fn": "float", "float8_e5m2": "float",
    "int": "int", "int8": "int", "int16": "int", "int32": "int", "int64": "int", "long": "int",
    "short": "int", "uint8": "int", "uint16": "int", "uint32": "int", "uint64": "int",
    "bool": "bool", "complex64": "complex", "complex128": "complex", "cfloat": "complex",
    "cdouble": "complex", "complex32": "complex", "chalf": "complex",
}


# The legacy tensor types (``torch.LongTensor``, ``torch.cuda.FloatTensor``): constructors, and dtypes for
# ``.type(...)``; the ``torch.cuda`` ones have the same dtype (on a machine without CUDA they cannot be made).
LEGACY_TENSOR_KINDS = {
    "FloatTensor": "float", "DoubleTensor": "float", "HalfTensor": "float", "BFloat16Tensor": "float",
    "LongTensor": "int", "IntTensor": "int", "ShortTensor": "int", "CharTensor": "int", "ByteTensor": "int",
    "BoolTensor": "bool",
}


def legacy_kind(qual: str) -> Optional[str]:
    """The dtype kind of a legacy tensor type name (``torch.LongTensor``, ``torch.cuda.FloatTensor``)."""
    for prefix in ("torch.cuda.", "torch."):
        if qual.startswith(prefix):
            return LEGACY_TENSOR_KINDS.get(qual[len(prefix):])
    return None


def dtype_value(kind: Optional[str]) -> Value:
    """What ``t.dtype`` evaluates to: a ``torch.dtype`` of the tensor's kind (unknown kind: still a dtype)."""
    return TorchObject("torch.dtype", (("kind", Const(kind)),) if kind else ())


def dtype_kind(v: Value) -> Optional[str]:
    from torchlint.analysis.values import ModuleRef

    if isinstance(v, TorchObject) and v.qual == "torch.dtype":
        kind = v.attr("kind", None)
        return kind.value if isinstance(kind, Const) else None
    if isinstance(v, ModuleRef) and v.qual.startswith("torch."):
        return DTYPE_KINDS.get(v.qual[len("torch."):]) or legacy_kind(v.qual)
    if isinstance(v, ModuleRef) and v.qual in ("builtins.float", "float"):
        return "float"
    if isinstance(v, ModuleRef) and v.qual in ("builtins.int", "int"):
        return "int"
    if isinstance(v, ModuleRef) and v.qual in ("builtins.bool", "bool"):
        return "bool"
    return None


def promote(*kinds) -> Optional[str]:
    order = ["bool", "int", "float", "complex"]
    if any(k is None for k in kinds):
        return None
    return max(kinds, key=order.index) if kinds else None


class CallEnv:
    """What a shape rule may know about the call site.

    ``label`` (the source text of the callee, for messages) is computed only
    when a rule asks for it: generating code for a node is not free.
    """

    __slots__ = ("grad_enabled", "grad_off", "node", "_label", "_label_node", "site", "context")

    def __init__(self, grad_enabled: Optional[bool] = True, node: object = None, label: Optional[str] = None,
                 label_node: object = None, grad_off: str = "under torch.no_grad()", site: object = None,
                 context: tuple = ()):
        self.grad_enabled = grad_enabled
        # where the op runs (the call or operator node) and the call nodes of the user functions it runs in:
        # together they name the autograd node it creates (graph provenance, see Tensor.graph)
        self.site = site
        self.context = context
        self.grad_off = grad_off  # how grad mode was turned off ("under torch.inference_mode()", ...), for messages
        self.node = node  # where the callee was built (module objects) or the call
        self._label = label
        self._label_node = label_node

    @property
    def label(self) -> Optional[str]:
        if self._label is None and self._label_node is not None:
            from torchlint.analysis.cstwalk import short_code as _short_code

            self._label = _short_code(self._label_node)
        return self._label


# ---------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class Example:
    """``expr`` evaluated after ``setup`` (Python source using torch, nn and F)."""

    expr: str
    setup: str = ""


@dataclass(frozen=True)
class Op:
    names: tuple
    sig_text: str  # the signature as written in the table; parsed when an op is first called (see sig)
    rule: Callable
    # How facts other than the shape flow:
    #   'keeps' – numel preserved (views, copies): numel/likely/per_element carried over
    #   'broadcast' – element-wise: MANY in any input makes MANY, likely carried over
    #   'spatial' – resampling (pools): likely/per_element carried over, numel not (a pool may leave one element)
    #   'reduce' – a reduction: nothing carried over
    #   'new' – a fresh tensor (creation ops)
    flow: str = "reduce"
    differentiable: bool = True
    dtype: Optional[str] = None  # None: promote inputs; 'float', 'int', 'bool', 'input', 'rule' (the rule's)
    examples: tuple = ()
    group: str = ""
    saves: bool = False  # its backward certainly needs saved tensors (see SAVING)
    # What is certain when ``rule`` cannot give the whole result (an argument of unknown value): a shape
    # with unknown dims where the others are known (a pool keeps the batch and channel dims), or a tensor
    # of unknown shape whose numel is still known (see PARTIAL in api/layers.py).  None: nothing.
    partial: Optional[Callable] = None
    # The result is always a view of ``input`` (x.view(...), x.t(), x.select(0, 1)): of a leaf that requires
    # grad, made with grad mode on, it is a ``leaf_view`` (values.Tensor), which no in-place op may change.
    view: bool = False

    @property
    def sig(self) -> tuple[Param, ...]:
        return parse_sig(self.sig_text)

    def key(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class ModuleClass:
    names: tuple
    init_sig_text: str  # (parsed when first used, as Op.sig_text)
    forward_sig_text: str
    rule: Callable  # rule(obj: TorchObject, args: Args) -> shape | Value
    flow: str = "reduce"
    examples: tuple = ()
    group: str = ""
    saves: bool = False
    # Does the module own parameters (so its output requires grad whatever its input)?
    # True, False, or the name of the constructor flag that decides (e.g. "affine").
    params: object = False
    partial: Optional[Callable] = None  # as Op.partial

    @property
    def init_sig(self) -> tuple[Param, ...]:
        return parse_sig(self.init_sig_text)

    @property
    def forward_sig(self) -> tuple[Param, ...]:
        return parse_sig(self.forward_sig_text)

    def has_params(self, bound: dict) -> Optional[bool]:
        """Does the layer have parameters that require grad? (None: it depends on an unknown flag.)"""
        if is_frozen(bound):
            return False
        if isinstance(self.params, str):
            v = bound.get("self." + self.params)
            return bool(v.value) if isinstance(v, Const) else None
        return bool(self.params)

    def key(self) -> str:
        return self.names[0]


# A layer whose parameters all have requires_grad off (m.requires_grad_(False), or a loop over m.parameters()
# turning each off: interp/params.py) carries this attribute set to False.
FROZEN_ATTR = "_requires_grad"


def is_frozen(bound: dict) -> bool:
    return bound.get("self." + FROZEN_ATTR) == Const(False)


# Ops whose backward certainly uses tensors saved in the forward pass (checked
# against real torch: a second backward() through them raises).  Ops outside
# this set (add, sum, views, ...) may not save anything, so TL008 stays silent.
SAVING = set("""mul multiply div divide true_divide pow exp exp2 log log2 log10 log1p expm1 sqrt rsqrt square sin cos
tan tanh sigmoid relu relu6 gelu silu mish elu selu celu softplus leaky_relu hardtanh logsigmoid abs absolute
reciprocal erf softmax log_softmax matmul mm bmm mv dot outer einsum linear norm std var prod max min amax amin
logsumexp maximum minimum atan2 hypot addcmul addcdiv cumprod clamp clip dist vector_norm eigh""".split())
NOT_SAVING_CLASSES = {"Flatten", "Identity", "Unflatten"}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


FUNCTIONS: dict[str, Op] = {}   # "torch.sum", "torch.nn.functional.mse_loss"
METHODS: dict[str, Op] = {}     # "sum" (Tensor methods)
CLASSES: dict[str, ModuleClass] = {}
ALL_ENTRIES: list = []


def op(names, sig: str, rule, *, flow="reduce", differentiable=True, dtype=None, examples=(), group="", partial=None,
       view=False):
    """Register one entry.  ``names`` are qualified names; ``Tensor.x`` means a method."""
    if isinstance(names, str):
        names = tuple(n.strip() for n in names.split("|"))
    saves = any(_short(n) in SAVING for n in names) or group == "loss"
    entry = Op(tuple(names), sig, rule, flow, differentiable, dtype,
               tuple(e if isinstance(e, Example) else Example(*e) if isinstance(e, tuple) else Example(e) for e in examples),
               group, saves, partial, view)
    for n in names:
        if n.startswith("Tensor."):
            METHODS[n[len("Tensor."):]] = entry
        else:
            FUNCTIONS[n] = entry
    ALL_ENTRIES.append(entry)
    return entry


def module_class(names, init_sig: str, forward_sig: str, rule, *, flow="reduce", examples=(), group="", params=False,
                 partial=None):
    if isinstance(names, str):
        names = tuple(n.strip() for n in names.split("|"))
    saves = group in ("loss", "layers", "activations") and not any(_short(n) in NOT_SAVING_CLASSES for n in names) \
        and not any(_short(n).startswith(("Dropout", "AlphaDropout")) for n in names)
    entry = ModuleClass(tuple(names), init_sig, forward_sig, rule, flow,
                        tuple(e if isinstance(e, Example) else Example(*e) if isinstance(e, tuple) else Example(e) for e in examples),
                        group, saves, params, partial)
    for n in names:
        CLASSES[n] = entry
    ALL_ENTRIES.append(entry)
    return entry


_loaded = False


def load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from torchlint.analysis.api import tables  # noqa: F401  (registers the entries)


def coverage() -> dict:
    """Counts for ``torchlint api-coverage``."""
    load()
    names = set(FUNCTIONS) | {f"Tensor.{m}" for m in METHODS} | set(CLASSES)
    groups: dict = {}
    for e in ALL_ENTRIES:
        groups.setdefault(e.group or "other", set()).update(e.names)
    return {
        "entries": len(ALL_ENTRIES),
        "names": len(names),
        "functions": len(FUNCTIONS),
        "methods": len(METHODS),
        "classes": len(CLASSES),
        "examples": sum(len(e.examples) for e in ALL_ENTRIES),
        "groups": {g: len(v) for g, v in sorted(groups.items())},
    }


CANONICAL_PREFIXES = (
    ("torch.nn.modules.", "torch.nn."),
    ("torch.functional.", "torch."),
    ("torch._tensor.Tensor.", "Tensor."),
)


def canonical(qual: str) -> str:
    if qual.startswith("torch.nn.modules."):
        return "torch.nn." + qual.rsplit(".", 1)[1]
    if qual.startswith("torch.functional."):
        return "torch." + qual[len("torch.functional."):]
    if qual.startswith("torch.autograd.Variable"):
        return qual
    return qual


def is_tensor_method(name: str) -> bool:
    load()
    return name in METHODS


def is_known(qual: str) -> bool:
    load()
    q = canonical(qual)
    return q in FUNCTIONS or q in CLASSES


# the evaluation of entries lives in its own module (it needs everything above)
from torchlint.analysis.api.evaluate import (  # noqa: E402,F401
    _inherit,
    apply_rule,
    call_function,
    call_method,
    call_module,
    entry_differentiable,
)
