"""The interpreter's state: limits, frames, recorded call events and the per-file Analysis; joins and widening of environments."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional
import libcst as cst
from torchlint.analysis.values import Value


MAX_DEPTH = 8


MAX_LOOP_ITERATIONS = 6


STEP_BUDGET = 400_000


UNROLL_LIMIT = 32


# Decorators that leave a function's semantics alone (for our purposes).
TRANSPARENT_DECORATORS = {
    "staticmethod", "classmethod", "property", "functools.wraps", "functools.lru_cache", "functools.cache",
    "torch.compile", "torch.jit.script", "torch.jit.ignore", "torch.jit.unused", "abc.abstractmethod",
    "typing.override", "typing_extensions.override", "torch.no_grad", "torch.inference_mode", "torch.enable_grad",
    "torch.autocast", "torch.cuda.amp.autocast", "torch.amp.autocast", "lru_cache", "cache", "abstractmethod",
    "override", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
}


NO_GRAD_CONTEXTS = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
                    "torch.autograd.inference_mode"}


ENABLE_GRAD_CONTEXTS = {"torch.enable_grad", "torch.autograd.enable_grad"}


# torch.func.grad(f) and friends: calling the result evaluates f, which must return a scalar.
FUNC_TRANSFORMS = {
    "torch.func.grad": "grad", "torch.func.grad_and_value": "grad_and_value", "functorch.grad": "grad",
    "functorch.grad_and_value": "grad_and_value", "torch._functorch.eager_transforms.grad": "grad",
    "torch._functorch.eager_transforms.grad_and_value": "grad_and_value",
}


VJP_FUNCTIONS = {"torch.autograd.functional.vjp"}


# Methods of nn.Module that return the module itself.
MODULE_SELF_METHODS = {"to", "cuda", "cpu", "train", "eval", "float", "double", "half", "bfloat16", "requires_grad_",
                       "share_memory", "to_empty", "type", "apply", "xpu", "mps"}


# Tensor methods that, called with no dimension, reduce every element to one: ``x.mean()`` is 0-dim
# whatever ``x``'s shape.  On a value torchlint cannot see, such a call is still a 0-dim tensor if it is
# one at all (a non-tensor has no ``backward()`` to misuse).  Only the differentiable ones: ``x.any()``
# would claim a bool result that does not require grad.
WHOLE_REDUCTIONS = {"mean", "sum", "prod", "norm", "std", "var", "max", "min", "median", "nansum", "nanmean"}


def reduces_whole(name: str, args, kwargs) -> bool:
    """``x.name(*args, **kwargs)`` (or ``torch.name(x, *args, **kwargs)``) reduces every element of ``x`` to one:
    a reduction of :data:`WHOLE_REDUCTIONS` given no dimension (a ``dtype=`` at most)."""
    return name in WHOLE_REDUCTIONS and not args and not set(kwargs) - {"dtype"}


BINOPS = {
    cst.Add: "torch.add", cst.Subtract: "torch.sub", cst.Multiply: "torch.mul", cst.Divide: "torch.div",
    cst.FloorDivide: "torch.floor_divide", cst.Modulo: "torch.remainder", cst.Power: "torch.pow",
    cst.MatrixMultiply: "torch.matmul", cst.BitAnd: "torch.bitwise_and", cst.BitOr: "torch.bitwise_or",
    cst.BitXor: "torch.bitwise_xor",
}


COMPARE_OPS = {
    cst.Equal: "torch.eq", cst.NotEqual: "torch.ne", cst.LessThan: "torch.lt", cst.LessThanEqual: "torch.le",
    cst.GreaterThan: "torch.gt", cst.GreaterThanEqual: "torch.ge",
}


PY_BINOPS = {
    cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b, cst.FloorDivide: lambda a, b: a // b, cst.Modulo: lambda a, b: a % b,
    cst.Power: lambda a, b: a ** b,
}


MAX_FOLD_BITS = 4096  # larger integer constants are left unknown: folding them costs time and memory


MAX_FOLD_LEN = 1000  # the same for strings, bytes and tuples


def fold_constants(op_cls, a, b):
    """``a <op> b`` for two Python constants, or None when it is unknown or too costly to compute.

    The checks come before the operation: ``10 ** 10 ** 10`` or ``"x" * 10 ** 9``
    in a file must not stall or exhaust the linter."""
    fn = PY_BINOPS.get(op_cls)
    if fn is None:
        return None
    ints = [x for x in (a, b) if isinstance(x, int)]
    if any(x.bit_length() > MAX_FOLD_BITS for x in ints):
        return None
    if op_cls is cst.Power and isinstance(b, (int, float)):
        if abs(b) >= 64 or (isinstance(a, int) and a.bit_length() * abs(b) > MAX_FOLD_BITS):
            return None
    if op_cls is cst.Multiply:
        seq, count = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(seq, (str, bytes, tuple, list)) and isinstance(count, int) and len(seq) * count > MAX_FOLD_LEN:
            return None
    v = fn(a, b)
    if isinstance(v, (str, bytes, tuple)) and len(v) >= MAX_FOLD_LEN:
        return None
    if isinstance(v, int) and v.bit_length() > MAX_FOLD_BITS:
        return None
    return v


class Budget(Exception):
    """The per-file analysis budget is spent."""


@dataclass
class CallEvent:
    callee: Value
    args: tuple
    kwargs: dict
    result: Value
    grad_enabled: Optional[bool]
    stack: tuple  # ((function qual, call line node), ...) context of the evaluation
    in_loop: bool = False
    # False when grad_enabled is only assumed: the generic analysis of a function runs it with grad on, but
    # its callers (in other files) may well call it under torch.no_grad()
    grad_known: bool = True


@dataclass
class FunctionInfo:
    node: cst.CSTNode
    returns: list = field(default_factory=list)


class Frame:
    __slots__ = ("vars", "parent", "kind", "cls", "globals_")

    def __init__(self, parent: Optional["Frame"] = None, kind: str = "module", cls=None):
        self.vars: dict = {}
        self.parent = parent
        self.kind = kind
        self.cls = cls

    def lookup(self, name: str):
        f = self
        while f is not None:
            if name in f.vars:
                return f.vars[name]
            # class bodies are not visible from the methods they contain
            f = f.parent
            while f is not None and f.kind == "class":
                f = f.parent
        return None


class _Return(Exception):
    pass


class Analysis:
    """The facts one run of the interpreter produced."""

    def __init__(self, module: cst.Module):
        self.module = module
        self.calls: dict = {}  # Call node -> [CallEvent]
        self.values: dict = {}  # expression node -> joined value (for names the rules ask about)
        # Call node of grad(f)(x) / vjp(f, x) -> [value f returned, per context]
        self.func_outputs: dict = {}
        # Attribute target node of ``x.attr = value`` on a tensor x -> [(x's value, stored value), per context]
        self.attr_stores: dict = {}
        self.truncated = False
        self.budget_spent = False  # the run went past the step budget somewhere (truncated or not)
        self.lenient: frozenset = frozenset()  # of a reduced file: see torchlint.analysis.partial.Reduced
        self.functions: list = []  # FunctionDef nodes, in source order of discovery
        # Return statement -> [value returned, per context] (Lightning's training_step result is a sink)
        self.returns: dict = {}
        # AugAssign statement or subscript target written in place -> [(the tensor before, grad mode), per context]
        self.inplace: dict = {}
        # For statement over a user iterator -> {call context: how many times it certainly runs (0 or 1)}
        self.least_trips: dict = {}
        # If statement -> {call context: the truths its test had (True, False, None: unknown)}
        self.branches: dict = {}
        # Subscript target of ``c[k] = v`` -> [(c's value, whether the context is a function analysed on its own)]
        self.item_stores: dict = {}

    def events(self, node) -> list:
        return self.calls.get(node, [])

    _LISTS = ("calls", "func_outputs", "attr_stores", "returns", "inplace", "item_stores")

    def merge(self, other: "Analysis") -> None:
        """Add the facts of ``other`` (a later part of the same run) after this analysis's own, as if the run
        had recorded them here: lists are extended, a branch's truths joined, a loop's least trips kept least."""
        for name in self._LISTS:
            mine = getattr(self, name)
            for key, entries in getattr(other, name).items():
                got = mine.get(key)
                if got is None:
                    mine[key] = list(entries)
                else:
                    got.extend(entries)
        self.values.update(other.values)
        self.functions.extend(other.functions)
        for stmt, by_context in other.branches.items():
            mine = self.branches.setdefault(stmt, {})
            for context, truths in by_context.items():
                mine.setdefault(context, set()).update(truths)
        for stmt, by_context in other.least_trips.items():
            mine = self.least_trips.setdefault(stmt, {})
            for context, least in by_context.items():
                mine[context] = min(mine.get(context, least), least)
        self.truncated = self.truncated or other.truncated
