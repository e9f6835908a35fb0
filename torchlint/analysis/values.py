"""The abstract domain: what torchlint knows about the value of an expression.

Every value is immutable and hashable (so that function summaries can be
memoised on their arguments), except :class:`Instance`, which stands for one
object of a class defined in the analysed file and is compared by identity.

Shapes are tuples of dims.  A dim is an ``int`` (known), a :class:`Sym`
(unknown size, but the same symbol means the same size) or ``None`` (unknown).
A shape of ``None`` means the rank itself is unknown.

The scalar verdict of a tensor is derived from its element count class
(``numel``): ``ONE`` (provably one element), ``MANY`` (provably not one: two or
more, or zero) or ``None`` (unknown), plus an optional ``likely`` reason for
the warning-level verdict.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Optional, Union

from torchlint.analysis.trail import Attrs, new_serial

ONE = "one"
MANY = "many"

SCALAR = "scalar"
NON_SCALAR = "non_scalar"
LIKELY_NON_SCALAR = "likely_non_scalar"
UNKNOWN_VERDICT = "unknown"


@dataclass(frozen=True)
class Sym:
    """A symbolic dim: unknown size, equal to every other use of the same symbol."""

    name: str

    def __repr__(self) -> str:
        return self.name


Dim = Union[int, Sym, None]
Shape = Optional[tuple]


def numel_of_shape(shape: Shape) -> Optional[str]:
    if shape is None:
        return None
    known = [d for d in shape if isinstance(d, int)]
    # One known dim other than 1 settles it: numel is 0 or >= 2 either way.
    if any(d != 1 for d in known):
        return MANY
    if len(known) == len(shape):
        return ONE
    return None


def format_shape(shape: Shape) -> str:
    if shape is None:
        return "unknown shape"
    parts = ["?" if d is None else str(d) for d in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Note:
    """One link of an origin chain.  ``{line}`` in ``text`` is the line of ``node``."""

    text: str
    node: Any = field(default=None, compare=False, hash=False)

    def render(self, line_of) -> str:
        if self.node is not None and "{line}" in self.text:
            try:
                where = line_of(self.node)
                if isinstance(where, str):  # in another module of the project: "pkg/losses.py:3"
                    return self.text.replace("(line {line})", f"in {where}").replace("{line}", where)
                return self.text.replace("{line}", str(where))
            except Exception:
                return self.text.replace(" (line {line})", "")
        return self.text


class Value:
    """Base class of abstract values."""

    __slots__ = ()

    def describe(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class UnknownValue(Value):
    def describe(self) -> str:
        return "unknown"


UNKNOWN = UnknownValue()


@dataclass(frozen=True)
class Tensor(Value):
    shape: Shape = None
    numel: Optional[str] = None
    # Why the tensor is likely non-scalar when that cannot be proven
    # (an unreduced loss, a DataParallel output).  Only used when numel is None.
    likely: Optional[str] = None
    # True when the tensor holds one loss per element (picks .mean() for fixes).
    per_element: bool = False
    requires_grad: Optional[bool] = None
    dtype: Optional[str] = None  # 'float', 'int', 'bool', 'complex' or None
    # Human-readable explanation of where the tensor's shape comes from.
    origin: tuple = field(default=(), compare=False)
    # Why requires_grad is False (for TL005 messages).
    grad_note: Optional[str] = field(default=None, compare=False)
    # True when the autograd graph behind this tensor certainly holds saved
    # tensors, which a backward() pass frees (a second pass then raises; TL008).
    saved: bool = False
    # True when the tensor is certainly a leaf of the autograd graph: made by a factory, nn.Parameter or
    # .detach(), not computed by an op (TL009: in-place ops on a leaf that requires grad raise).
    leaf: bool = False
    # True when the tensor is certainly a view (w.view(...), w.t(), w[0]), made while grad mode was on, of a leaf
    # that requires grad, or of such a view: an in-place op on it with grad mode on raises as on the leaf
    # ("a view of a leaf Variable that requires grad is being used in an in-place operation"; TL009).
    leaf_view: bool = False
    # Graph provenance: the nodes with saved tensors that a backward() from this tensor certainly runs
    # through, each as (op node, call nodes of the user functions it ran in). A must-set: joins intersect.
    # A backward() without retain_graph frees them; a second pass through one of them raises (TL008).
    graph: frozenset = frozenset()
    # True when the value may also be None: a loop-carried state that is None before the first iteration
    # (``h = None``, then ``out, h = rnn(x, h)``). The other facts hold where it is a tensor.
    maybe_none: bool = False

    def __post_init__(self):
        derived = numel_of_shape(self.shape)
        if derived is not None and derived != self.numel:
            object.__setattr__(self, "numel", derived)
        if self.numel is not None and self.likely is not None:
            object.__setattr__(self, "likely", None)

    @property
    def verdict(self) -> str:
        if self.numel == MANY:
            return NON_SCALAR
        if self.numel == ONE:
            return SCALAR
        if self.likely:
            return LIKELY_NON_SCALAR
        return UNKNOWN_VERDICT

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)

    def with_(self, **changes) -> "Tensor":
        if "shape" in changes and "numel" not in changes:
            changes["numel"] = None
        return replace(self, **changes)

    def because(self, *notes: str) -> "Tensor":
        """Return a copy with ``notes`` appended to the origin chain (bounded)."""
        chain = tuple(n for n in self.origin + notes if n)
        seen = []
        for n in chain:
            if n not in seen:
                seen.append(n)
        return replace(self, origin=tuple(seen[-4:]))

    def describe(self) -> str:
        return f"tensor of shape {format_shape(self.shape)}"


@dataclass(frozen=True)
class Const(Value):
    """A Python literal whose value is known (int, float, bool, str, None, complex)."""

    value: Any

    def describe(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Number(Value):
    """A Python number whose value is unknown.

    ``conv`` records how it was made from a tensor (``.item()``, ``float()``),
    for TL004.  ``sym`` names the value so that dims built from it can be
    compared symbolically.
    """

    kind: Optional[str] = None  # 'int', 'float', 'bool', None
    conv: Optional[str] = None
    sym: Optional[Sym] = None

    def describe(self) -> str:
        return f"Python {self.kind or 'number'}"


@dataclass(frozen=True)
class PyConverted(Value):
    """A Python object (list, ndarray) obtained from a tensor, e.g. by ``.tolist()``."""

    conv: str
    what: str = "object"


@dataclass(frozen=True)
class Seq(Value):
    """A list or tuple. ``items`` is None when its length is not known."""

    kind: str = "tuple"  # 'tuple' or 'list'
    items: Optional[tuple] = ()
    elem: Value = UNKNOWN  # join of the items when items is None
    # the field names of a named tuple (torch.return_types: ``x.max(1).values``), one per item
    names: tuple = ()
    params: bool = False  # an nn.ParameterList: a plain tensor put in it becomes a Parameter
    # True when it is certainly a Python list or tuple (a literal, a list comprehension, list()/tuple()), not an
    # nn.ModuleList, a range, an iterator or a dict view that torchlint also treats as a sequence (isinstance)
    builtin: bool = False

    def element(self) -> Value:
        if self.items is None:
            return self.elem
        return join_all(self.items)

    def describe(self) -> str:
        return self.kind

    def stored(self, v: Value) -> Value:
        """What this list keeps of ``v`` put in it: ``v``, or in an nn.ParameterList a Parameter (:func:`as_parameter`)."""
        return as_parameter(v) if self.params else v

    def grown(self, v: Value) -> "Seq":
        """This list after items like ``v`` are added in a number not known here: a list of unknown length."""
        return Seq(self.kind, None, join(self.element(), v) if self.items != () else v, params=self.params,
                   builtin=self.builtin)


def as_parameter(v: Value) -> Value:
    """What ``nn.ParameterList`` keeps of a value put in it: a tensor that is not a Parameter becomes one (a leaf
    that requires grad), a Parameter stays itself.  Which tensors are Parameters is not tracked, so a tensor that
    does not require grad may come out either way."""
    if not isinstance(v, Tensor):
        return v
    return replace(v, requires_grad=True if v.requires_grad else None, leaf=True, grad_note=None, graph=frozenset())


@dataclass(frozen=True)
class NDArray(Value):
    """A NumPy array (interp/arrays.py): its shape, as for tensors, and its dtype kind. Never part of autograd."""

    shape: Shape = None
    dtype: Optional[str] = None

    def describe(self) -> str:
        return f"NumPy array of shape {format_shape(self.shape)}"


@dataclass(frozen=True)
class DictValue(Value):
    items: tuple = ()  # ((key, value), ...) with hashable Python keys
    complete: bool = True
    # False once a value was stored under a key torchlint does not know (``d[name] = v``): ``items`` may then
    # miss an entry, or hold a value that was replaced (``nn.Sequential(d)`` needs every entry)
    exact: bool = True

    def get(self, key) -> Value:
        for k, v in self.items:
            if k == key:
                return v
        return UNKNOWN


@dataclass(frozen=True)
class Gathered(Value):
    """What ``nn.DataParallel`` returns around a module whose forward torchlint cannot see.

    On several GPUs DataParallel gathers each replica's outputs along dim 0, so
    a 0-d loss in them (``outputs.loss``, ``outputs["loss"]``, or the output
    itself when it is the loss) comes back as one value per GPU.  Anything else
    in it (``outputs[0]``, ``outputs.logits``) stays unknown."""

    note: Note = None

    def as_loss(self) -> "Tensor":
        return Tensor(shape=None, likely=self.note, per_element=True, origin=(self.note,))

    def describe(self) -> str:
        return "DataParallel output"


@dataclass(frozen=True)
class ModuleRef(Value):
    """A qualified name: a Python module, or a function/class inside one."""

    qual: str

    def describe(self) -> str:
        return self.qual


@dataclass(frozen=True)
class TorchObject(Value):
    """An instance of a PyTorch class the API model knows (a loss, a layer, a wrapper)."""

    qual: str
    attrs: tuple = ()  # ((name, value), ...)
    node: Any = field(default=None, compare=False, hash=False)  # where it was built
    label: Optional[str] = field(default=None, compare=False)
    # the callee whose code is the label when ``label`` is None (its text is made only for a message that needs it)
    label_node: Any = field(default=None, compare=False, hash=False, repr=False)

    def attr(self, name, default=UNKNOWN):
        for k, v in self.attrs:
            if k == name:
                return v
        return default

    def describe(self) -> str:
        return self.qual


@dataclass(frozen=True)
class Partial(Value):
    """``functools.partial(func, *args, **kwargs)``: calling it calls ``func`` with these arguments first."""

    func: Value
    args: tuple = ()
    kwargs: tuple = ()  # ((name, value), ...)


@dataclass(frozen=True)
class BoundMethod(Value):
    """``receiver.name`` where receiver is a tensor or a torch object."""

    receiver: Value
    name: str


@dataclass(frozen=True, eq=False)
class Function(Value):
    """A function, method or lambda defined in the analysed file."""

    node: Any
    frame: Any
    qual: str
    cls: Any = None  # the ClassValue a method belongs to

    def __hash__(self):
        return hash(id(self.node))

    def __eq__(self, other):
        return isinstance(other, Function) and other.node is self.node and other.frame is self.frame


@dataclass(frozen=True)
class UserBound(Value):
    """A method of a class in this file bound to an instance."""

    func: Function
    self_value: Value


@dataclass(frozen=True)
class SuperRef(Value):
    """``super()`` / ``super(C, obj)`` in a method of class ``cls``: attribute lookup starts after ``cls`` in
    the class order of ``obj``'s class."""

    cls: Any
    obj: Value


@dataclass(frozen=True, eq=False)
class ClassValue(Value):
    node: Any
    frame: Any
    name: str
    bases: tuple = ()  # base values (ClassValue, ModuleRef, UNKNOWN)

    def __hash__(self):
        return hash(id(self.node))

    def __eq__(self, other):
        return isinstance(other, ClassValue) and other.node is self.node

    def mro(self) -> list:
        out = [self]
        for b in self.bases:
            if isinstance(b, ClassValue):
                for c in b.mro():
                    if c not in out:
                        out.append(c)
        return out

    def is_torch_module(self) -> bool:
        for c in self.mro():
            for b in c.bases:
                if isinstance(b, ModuleRef) and b.qual.startswith(("torch.nn", "lightning", "pytorch_lightning")):
                    return True
        return False


class Instance(Value):
    """One object of a class defined in this file.  Mutable; identity-compared."""

    __slots__ = ("cls", "attrs", "generic", "serial", "sealed", "maybe", "__weakref__")  # (its Attrs' owner is weak)

    def __init__(self, cls: ClassValue, generic: bool = False):
        self.cls = cls
        self.attrs: dict = Attrs(self)  # stores on a path are undone for the other side of a branch (trail.py)
        self.generic = generic
        self.serial = new_serial()
        self.sealed = None  # the epoch in which every store into its attributes was seen (interp/sealed.py)
        self.maybe = False  # True once a branch or a loop may have set an attribute of it, or not

    def describe(self) -> str:
        return f"{self.cls.name} instance"

    def __repr__(self) -> str:
        return f"<Instance {self.cls.name} {sorted(self.attrs)}>"


# ---------------------------------------------------------------------------
# Joins


def join_dim(a: Dim, b: Dim) -> Dim:
    return a if a == b else None


def join_shape(a: Shape, b: Shape) -> Shape:
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(join_dim(x, y) for x, y in zip(a, b))


def _join_likely(a: Tensor, b: Tensor) -> Optional[str]:
    va, vb = a.verdict, b.verdict
    if {va, vb} <= {NON_SCALAR, LIKELY_NON_SCALAR}:
        return a.likely or b.likely or "it is non-scalar on every path that reaches here"
    return None


def views_a_leaf(t: "Tensor") -> bool:
    """Whether a view of ``t`` made with grad mode on is a ``leaf_view``: ``t`` is a leaf that requires grad,
    or already such a view."""
    return t.requires_grad is True and (t.leaf or t.leaf_view)


def join(a: Value, b: Value) -> Value:
    if a is b or a == b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        shape = join_shape(a.shape, b.shape)
        numel = a.numel if a.numel == b.numel else None
        return Tensor(
            shape=shape,
            numel=numel,
            likely=_join_likely(a, b) if numel is None else None,
            per_element=a.per_element and b.per_element,
            requires_grad=a.requires_grad if a.requires_grad == b.requires_grad else None,
            dtype=a.dtype if a.dtype == b.dtype else None,
            origin=a.origin,
            grad_note=a.grad_note if a.requires_grad is False and b.requires_grad is False else None,
            saved=a.saved and b.saved,
            leaf=a.leaf and b.leaf,
            leaf_view=a.leaf_view and b.leaf_view,
            graph=_join_graphs(a.graph, b.graph),
            maybe_none=a.maybe_none or b.maybe_none,
        )
    # ``total = 0; for ...: total += loss``: after the loop ``total`` is the
    # tensor, or the untouched number when the loop never ran (and then
    # ``total.backward()`` fails anyway).  Tensor facts are what matter.
    if isinstance(a, Tensor) and _is_plain_number(b):
        return a
    if isinstance(b, Tensor) and _is_plain_number(a):
        return b
    if isinstance(a, (Const, Number)) and isinstance(b, (Const, Number)):
        ka, kb = _num_kind(a), _num_kind(b)
        if ka is None or kb is None:
            return UNKNOWN
        conv = a.conv if isinstance(a, Number) and isinstance(b, Number) and a.conv == b.conv else None
        return Number(kind=ka if ka == kb else "float" if {ka, kb} <= {"int", "float"} else None, conv=conv)
    if isinstance(a, Seq) and isinstance(b, Seq) and a.kind == b.kind:
        params = a.params or b.params
        builtin = a.builtin and b.builtin
        if a.items is not None and b.items is not None and len(a.items) == len(b.items):
            return Seq(a.kind, tuple(join(x, y) for x, y in zip(a.items, b.items)), names=a.names if a.names == b.names else (),
                       params=params, builtin=builtin)
        # an empty list has no element to join: [] then xs.append(t) in a loop is a list of t
        if a.items == ():
            return Seq(a.kind, None, b.element(), params=params, builtin=builtin)
        if b.items == ():
            return Seq(a.kind, None, a.element(), params=params, builtin=builtin)
        return Seq(a.kind, None, join(a.element(), b.element()), params=params, builtin=builtin)
    if isinstance(a, NDArray) and isinstance(b, NDArray):
        return NDArray(join_shape(a.shape, b.shape), a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, DictValue) and isinstance(b, DictValue):
        # a key set on one branch only is "maybe present": where the program reads it, it is there (or the
        # read raises KeyError), so its value is the one that branch stored
        in_a = {k for k, _ in a.items}
        in_b = {k for k, _ in b.items}
        keys = [k for k, _ in a.items] + [k for k, _ in b.items if k not in in_a]
        return DictValue(tuple((k, join(a.get(k), b.get(k)) if k in in_a and k in in_b
                               else a.get(k) if k in in_a else b.get(k)) for k in keys),
                         complete=a.complete and b.complete and in_a == in_b, exact=a.exact and b.exact)
    if isinstance(a, ModuleRef) and isinstance(b, ModuleRef) and _cpu_type(a.qual) == _cpu_type(b.qual):
        # ``torch.cuda.FloatTensor if cuda else torch.FloatTensor``: one legacy type on two devices
        return ModuleRef(_cpu_type(a.qual))
    # ``if torch.cuda.device_count() > 1: model = nn.DataParallel(model)``: on one GPU DataParallel runs the module
    # itself, so the module or its wrapper is the wrapper, whose outputs are gathered when there are several
    for dp, m in ((a, b), (b, a)):
        if isinstance(dp, TorchObject) and dp.qual == "torch.nn.DataParallel" and isinstance(m, (Instance, TorchObject)) \
                and (dp.attr("module") is m or not isinstance(m, Instance) and dp.attr("module") == m):
            return dp
    if isinstance(a, TorchObject) and isinstance(b, TorchObject) and a.qual == b.qual:
        keys = [k for k, _ in a.attrs]
        return TorchObject(a.qual, tuple((k, join(a.attr(k), b.attr(k))) for k in keys), node=a.node, label=a.label,
                           label_node=a.label_node)
    return UNKNOWN


def _join_graphs(a: frozenset, b: frozenset) -> frozenset:
    """The nodes both graphs run through; a node one side has from an earlier iteration of a loop (see
    PREVIOUS) and the other from this one is kept without that distinction."""
    both = a & b
    rest_a, rest_b = a - both, b - both
    if not rest_a or not rest_b:
        return both
    def base(g):
        return (g[0][2], g[1]) if isinstance(g[0], tuple) else g
    return both | ({base(g) for g in rest_a} & {base(g) for g in rest_b})


# Marks a graph node made by an earlier run of a loop body: ((PREVIOUS, loop, op), call nodes). See
# interp/helpers.previous_iteration and the provenance walk of TL008.
PREVIOUS = "previous iteration"


def join_head(a: Value, b: Value) -> Value:
    """The join at a loop head: a state that is None before the loop and a tensor after each iteration
    (``h = None``, then ``out, h = rnn(x, h)``) is a tensor that may be None, not Unknown."""
    if isinstance(a, Const) and a.value is None and isinstance(b, Tensor):
        return replace(b, maybe_none=True)
    if isinstance(b, Const) and b.value is None and isinstance(a, Tensor):
        return replace(a, maybe_none=True)
    return join(a, b)


def _cpu_type(qual: str) -> str:
    """``torch.FloatTensor`` for ``torch.cuda.FloatTensor`` (a legacy tensor type), else ``qual``."""
    if qual.startswith("torch.cuda.") and qual.endswith("Tensor"):
        return "torch." + qual[len("torch.cuda."):]
    return qual


def join_all(values: Iterable[Value]) -> Value:
    result = None
    for v in values:
        result = v if result is None else join(result, v)
    return UNKNOWN if result is None else result


def _num_kind(v: Value) -> Optional[str]:
    if isinstance(v, Number):
        return v.kind or "float"
    if isinstance(v, Const):
        if isinstance(v.value, bool):
            return "bool"
        if isinstance(v.value, int):
            return "int"
        if isinstance(v.value, float):
            return "float"
    return None


def _is_plain_number(v: Value) -> bool:
    if isinstance(v, Number):
        return v.conv is None
    return isinstance(v, Const) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool)


def is_number(v: Value) -> bool:
    return isinstance(v, Number) or (isinstance(v, Const) and isinstance(v.value, (int, float, complex)))
