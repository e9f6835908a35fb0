"""Abstract interpretation of one module's LibCST tree.

The interpreter executes the module with abstract values (see
:mod:`torchlint.analysis.values`): statements update an environment, branches are
joined, loops are iterated to a fixed point, functions and methods defined in
the file are evaluated with the argument values of each call site (up to
``MAX_DEPTH`` calls deep, recursion cut off), and every function is also
analysed on its own with unknown arguments.  While it runs, it records every
call it evaluates (:class:`CallEvent`); rules query those facts and never walk
the tree to work out values themselves.
"""
from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace
from typing import Optional

import libcst as cst

from torchlint.analysis import api
from torchlint.analysis.api import CallEnv
from torchlint.analysis.cstwalk import dotted
from torchlint.analysis.values import (
    MANY,
    UNKNOWN,
    BoundMethod,
    ClassValue,
    Const,
    DictValue,
    Function,
    Gathered,
    Instance,
    ModuleRef,
    Note,
    Number,
    PyConverted,
    Seq,
    Sym,
    Tensor,
    TorchObject,
    UnknownValue,
    UserBound,
    Value,
    format_shape,
    is_number,
    join,
    join_all,
)

MAX_DEPTH = 3
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
        self.functions: list = []  # FunctionDef nodes, in source order of discovery
        # Return statement -> [value returned, per context] (Lightning's training_step result is a sink)
        self.returns: dict = {}
        # AugAssign statement or subscript target written in place -> [(the tensor before, grad mode), per context]
        self.inplace: dict = {}

    def events(self, node) -> list:
        return self.calls.get(node, [])


class Interpreter:
    def __init__(self, module: cst.Module):
        self.module = module
        self.analysis = Analysis(module)
        self.grad_enabled: Optional[bool] = True
        self.grad_off = "under torch.no_grad()"  # how grad mode was turned off (for messages)
        self.grad_assumed = False  # grad mode is on only by assumption (a function analysed on its own)
        self.silent = 0
        self.steps = 0
        self.stack: list = []  # [(Function, call node)]
        self.active: list = []  # function nodes on the stack
        self.memo: dict = {}
        self.loop_stack: list = []  # [(breaks, continues)]
        self.returns: list = []  # stack of lists of return values
        self.generator_flags: list = []  # stack: did the running function yield?
        self.class_ns: dict = {}  # ClassDef node -> namespace dict
        self.generic_instances: dict = {}
        self.pending: list = []  # (Function) to analyse generically
        self.analysed: set = set()
        self.in_loop = 0
        self.constructing: list = []  # Instances whose __init__ is running
        self.module_frame = Frame()
        self.budget_spent = False

    # ------------------------------------------------------------------
    # entry point

    def run(self) -> Analysis:
        frame = self.module_frame
        frame.vars["__name__"] = Const("__main__")
        try:
            self.exec_block(self.module.body, frame)
        except Budget:
            self.analysis.truncated = True
        # Analyse every function on its own, with unknown arguments.
        i = 0
        while i < len(self.pending):
            fn = self.pending[i]
            i += 1
            if fn.node in self.analysed:
                continue
            self.analysed.add(fn.node)
            try:
                self.analyse_generic(fn)
            except Budget:
                self.analysis.truncated = True
                if self.steps > STEP_BUDGET * 2:
                    break
        return self.analysis

    def tick(self, n: int = 1):
        self.steps += n
        if self.steps > STEP_BUDGET:
            self.budget_spent = True
            if self.steps > STEP_BUDGET * 2 or self.stack:
                raise Budget()

    def _known_grad(self) -> Optional[bool]:
        """Grad mode where it is known; None where it is only assumed (see ``grad_assumed``)."""
        return None if self.grad_assumed else self.grad_enabled

    def analyse_generic(self, fn: Function):
        args: list = []
        node = fn.node
        if isinstance(node, cst.FunctionDef) and fn.cls is not None and not _is_static(node):
            args.append(self.generic_instance(fn.cls))
        saved = self.grad_enabled, self.grad_assumed
        self.grad_enabled, self.grad_assumed = True, True
        try:
            self.call_user(fn, args, {}, generic=True)
        finally:
            self.grad_enabled, self.grad_assumed = saved

    def generic_instance(self, cls: ClassValue) -> Value:
        inst = self.generic_instances.get(cls.node)
        if inst is None:
            inst = Instance(cls, generic=True)
            self.generic_instances[cls.node] = inst
            init = self.class_attr(cls, "__init__")
            if isinstance(init, Function):
                self.silent += 1
                self.constructing.append(inst)
                try:
                    self.call_user(init, [inst], {}, generic=True)
                except Budget:
                    pass
                finally:
                    self.constructing.pop()
                    self.silent -= 1
        return inst

    # ------------------------------------------------------------------
    # statements

    def exec_block(self, body, frame: Frame) -> bool:
        """Execute statements; return False when every path left the block (return/raise/break)."""
        if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            body = body.body
        for stmt in body:
            if not self.exec_stmt(stmt, frame):
                return False
        return True

    def exec_stmt(self, stmt, frame: Frame) -> bool:
        self.tick()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if not self.exec_small(small, frame):
                    return False
            return True
        if isinstance(stmt, cst.BaseSmallStatement):  # the body of a one-line suite
            return self.exec_small(stmt, frame)
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is None:
            return True
        return method(stmt, frame)

    def exec_small(self, s, frame: Frame) -> bool:
        if isinstance(s, cst.Expr):
            self.eval(s.value, frame)
        elif isinstance(s, cst.Assign):
            value = self.eval(s.value, frame)
            for t in s.targets:
                self.assign(t.target, value, frame)
        elif isinstance(s, cst.AnnAssign):
            if s.value is not None:
                self.assign(s.target, self.eval(s.value, frame), frame)
        elif isinstance(s, cst.AugAssign):
            current = self.eval(s.target, frame)
            value = self.binop(type(s.operator).__name__.replace("Assign", ""), current, self.eval(s.value, frame), s)
            if isinstance(current, Tensor):
                # x += y changes x in place: it stays the same tensor
                if not self.silent:
                    self.analysis.inplace.setdefault(s, []).append((current, self._known_grad()))
                value = _after_inplace(current, value, self.grad_enabled)
            self.assign(s.target, value, frame)
        elif isinstance(s, cst.Return):
            value = self.eval(s.value, frame) if s.value is not None else Const(None)
            if not self.silent:
                self.analysis.returns.setdefault(s, []).append(value)
            if self.returns:
                self.returns[-1].append(value)
            return False
        elif isinstance(s, cst.Raise):
            if s.exc is not None:
                self.eval(s.exc, frame)
            return False
        elif isinstance(s, cst.Break):
            if self.loop_stack:
                self.loop_stack[-1][0].append(dict(frame.vars))
            return False
        elif isinstance(s, cst.Continue):
            if self.loop_stack:
                self.loop_stack[-1][1].append(dict(frame.vars))
            return False
        elif isinstance(s, cst.Import):
            for alias in s.names:
                full = dotted(alias.name)
                if alias.asname is not None:
                    frame.vars[_name_of(alias.asname.name)] = ModuleRef(full)
                else:
                    top = full.split(".")[0]
                    frame.vars[top] = ModuleRef(top)
        elif isinstance(s, cst.ImportFrom):
            self.exec_import_from(s, frame)
        elif isinstance(s, cst.Assert):
            self.eval(s.test, frame)
        elif isinstance(s, cst.Del):
            self.delete(s.target, frame)
        return True

    def exec_import_from(self, s: cst.ImportFrom, frame: Frame):
        if s.relative or s.module is None:
            base = None
        else:
            base = dotted(s.module)
        if isinstance(s.names, cst.ImportStar):
            return
        for alias in s.names:
            name = dotted(alias.name)
            bound = _name_of(alias.asname.name) if alias.asname is not None else name.split(".")[0]
            frame.vars[bound] = ModuleRef(f"{base}.{name}") if base else UNKNOWN

    def delete(self, target, frame):
        if isinstance(target, cst.Name):
            frame.vars.pop(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.delete(el.value, frame)

    # -- compound statements

    def _run_branch(self, frame: Frame, body, start: dict) -> Optional[dict]:
        saved = frame.vars
        frame.vars = dict(start)
        try:
            live = self.exec_block(body, frame)
            return frame.vars if live else None
        finally:
            out_vars = frame.vars
            frame.vars = saved
            self._last_vars = out_vars

    def stmt_If(self, stmt: cst.If, frame: Frame) -> bool:
        test = self.eval(stmt.test, frame)
        start = frame.vars
        outs = []
        truth = _truth(test)
        if truth is not False:
            outs.append(self._run_branch(frame, stmt.body, start))
        if truth is not True:
            if stmt.orelse is None:
                outs.append(dict(start))
            elif isinstance(stmt.orelse, cst.If):
                saved = frame.vars
                frame.vars = dict(start)
                live = self.stmt_If(stmt.orelse, frame)
                outs.append(frame.vars if live else None)
                frame.vars = saved
            else:
                outs.append(self._run_branch(frame, stmt.orelse.body, start))
        return self._merge(frame, outs)

    def _merge(self, frame: Frame, outs: list) -> bool:
        live = [o for o in outs if o is not None]
        if not live:
            return False
        frame.vars = join_vars(live)
        return True

    def stmt_For(self, stmt: cst.For, frame: Frame) -> bool:
        iterable = self.eval(stmt.iter, frame)
        elem = self.element_of(iterable)
        known_empty = isinstance(iterable, Seq) and iterable.items == ()

        def bind(f):
            self.assign(stmt.target, elem, f)

        return self._loop(stmt, frame, bind, may_skip=True, body_runs=not known_empty)

    def stmt_While(self, stmt: cst.While, frame: Frame) -> bool:
        def bind(f):
            self.eval(stmt.test, f)

        test = self.eval(stmt.test, frame)
        forever = _truth(test) is True
        return self._loop(stmt, frame, bind, may_skip=not forever, body_runs=_truth(test) is not False)

    def _loop(self, stmt, frame: Frame, bind, may_skip: bool, body_runs: bool = True) -> bool:
        if not body_runs:
            if stmt.orelse is not None:
                return self.exec_block(stmt.orelse.body, frame)
            return True
        head = dict(frame.vars)
        self.silent += 1
        self.in_loop += 1
        try:
            for i in range(MAX_LOOP_ITERATIONS):
                out, breaks, continues = self._loop_body(stmt, frame, head, bind)
                ends = [head] + [o for o in [out] + continues if o is not None]
                new_head = join_vars(ends)
                if i >= MAX_LOOP_ITERATIONS - 2:
                    new_head = widen(head, new_head)
                if vars_equal(new_head, head):
                    break
                head = new_head
        finally:
            self.silent -= 1
        try:
            out, breaks, continues = self._loop_body(stmt, frame, head, bind)
        finally:
            self.in_loop -= 1
        exits = [head] if may_skip else []
        exits += [o for o in [out] + continues if o is not None and may_skip]
        if stmt.orelse is not None and exits:
            frame.vars = join_vars(exits)
            live = self.exec_block(stmt.orelse.body, frame)
            exits = [frame.vars] if live else []
        exits += breaks
        if not exits:
            return False
        frame.vars = join_vars(exits)
        return True

    def _loop_body(self, stmt, frame: Frame, head: dict, bind):
        breaks: list = []
        continues: list = []
        self.loop_stack.append((breaks, continues))
        saved = frame.vars
        frame.vars = dict(head)
        try:
            bind(frame)
            live = self.exec_block(stmt.body, frame)
            out = frame.vars if live else None
        finally:
            frame.vars = saved
            self.loop_stack.pop()
        return out, breaks, continues

    def stmt_Try(self, stmt, frame: Frame) -> bool:
        start = dict(frame.vars)
        body_out = self._run_branch(frame, stmt.body, start)
        # an exception may come from anywhere in the body
        mid = join_vars([v for v in (start, body_out, getattr(self, "_last_vars", None)) if v is not None])
        outs = []
        if body_out is not None:
            if stmt.orelse is not None:
                outs.append(self._run_branch(frame, stmt.orelse.body, body_out))
            else:
                outs.append(body_out)
        for handler in stmt.handlers:
            h_start = dict(mid)
            if handler.name is not None and isinstance(handler.name.name, cst.Name):
                h_start[handler.name.name.value] = UNKNOWN
            outs.append(self._run_branch(frame, handler.body, h_start))
        live = [o for o in outs if o is not None]
        if stmt.finalbody is not None:
            f_start = join_vars(live) if live else dict(mid)
            f_out = self._run_branch(frame, stmt.finalbody.body, f_start)
            if f_out is None:
                return False
            if not live:
                return False
            frame.vars = f_out
            return True
        return self._merge(frame, outs)

    stmt_TryStar = stmt_Try

    def stmt_With(self, stmt: cst.With, frame: Frame) -> bool:
        saved = self.grad_enabled, self.grad_off, self.grad_assumed
        for item in stmt.items:
            ctx = self.eval(item.item, frame)
            mode = _grad_mode_of(ctx)
            if mode is not None:
                self.grad_enabled = mode if mode != "unknown" else None
                self.grad_assumed = False
                if mode is False:
                    self.grad_off = f"under {_grad_off_label(ctx)}"
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN, frame)
        try:
            return self.exec_block(stmt.body, frame)
        finally:
            self.grad_enabled, self.grad_off, self.grad_assumed = saved

    def stmt_Match(self, stmt, frame: Frame) -> bool:
        subject = self.eval(stmt.subject, frame)
        start = dict(frame.vars)
        outs = []
        irrefutable = False
        for case in stmt.cases:
            c_start = dict(start)
            self.bind_pattern(case.pattern, subject, c_start)
            saved = frame.vars
            frame.vars = c_start
            if case.guard is not None:
                self.eval(case.guard, frame)
            frame.vars = saved
            outs.append(self._run_branch(frame, case.body, c_start))
            if isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None and case.guard is None:
                irrefutable = True
        if not irrefutable:
            outs.append(start)
        return self._merge(frame, outs)

    def bind_pattern(self, pattern, subject, vars_: dict):
        if isinstance(pattern, cst.MatchAs):
            if pattern.name is not None:
                vars_[pattern.name.value] = subject if pattern.pattern is None else UNKNOWN
            if pattern.pattern is not None:
                self.bind_pattern(pattern.pattern, UNKNOWN, vars_)
            return
        for child in pattern.children:
            if isinstance(child, cst.MatchAs) or isinstance(child, cst.MatchPattern):
                self.bind_pattern(child, UNKNOWN, vars_)
            else:
                for sub in getattr(child, "children", []):
                    if isinstance(sub, cst.MatchPattern):
                        self.bind_pattern(sub, UNKNOWN, vars_)
        if isinstance(pattern, cst.MatchStar) and pattern.name is not None:
            vars_[pattern.name.value] = UNKNOWN
        if isinstance(pattern, cst.MatchMapping) and pattern.rest is not None:
            vars_[pattern.rest.value] = UNKNOWN

    def stmt_FunctionDef(self, stmt: cst.FunctionDef, frame: Frame) -> bool:
        cls = frame.cls if frame.kind == "class" else None
        qual = stmt.name.value if cls is None else f"{cls.name}.{stmt.name.value}"
        fn = Function(stmt, frame, qual, cls)
        self.pending.append(fn)
        self.analysis.functions.append(stmt)
        value: Value = fn
        for dec in stmt.decorators:
            d = self.eval(dec.decorator, frame)
            dq = _callable_qual(d)
            if dq is None or (dq not in TRANSPARENT_DECORATORS and dq.split(".")[-1] not in TRANSPARENT_DECORATORS):
                value = UNKNOWN
        frame.vars[stmt.name.value] = value
        return True

    def stmt_ClassDef(self, stmt: cst.ClassDef, frame: Frame) -> bool:
        bases = tuple(self.eval(b.value, frame) for b in stmt.bases)
        cls = ClassValue(stmt, frame, stmt.name.value, bases)
        body_frame = Frame(frame, kind="class", cls=cls)
        self.exec_block(stmt.body, body_frame)
        self.class_ns[stmt] = body_frame.vars
        frame.vars[stmt.name.value] = cls
        return True

    # ------------------------------------------------------------------
    # assignment

    def assign(self, target, value: Value, frame: Frame):
        if isinstance(target, cst.Name):
            frame.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            self.unpack(target.elements, value, frame)
        elif isinstance(target, cst.Attribute):
            base = self.eval(target.value, frame)
            if isinstance(base, Tensor) and isinstance(target.value, cst.Name):
                if not self.silent:
                    self.analysis.attr_stores.setdefault(target, []).append((base, value))
                # x.requires_grad = True / x.grad = None / x.data = ...: the tensor x changes
                if target.attr.value == "requires_grad":
                    rg = bool(value.value) if isinstance(value, Const) else None
                    frame.vars[target.value.value] = replace(base, requires_grad=rg, grad_note=None)
                elif target.attr.value == "data":
                    frame.vars[target.value.value] = replace(base, shape=None, numel=None) \
                        if not isinstance(value, Tensor) else replace(base, shape=value.shape, numel=value.numel)
                return
            if isinstance(base, Instance):
                name = target.attr.value
                if base in self.constructing or name not in base.attrs:
                    base.attrs[name] = value
                else:
                    base.attrs[name] = join(base.attrs[name], value)
        elif isinstance(target, cst.Subscript):
            if isinstance(target.value, cst.Name):
                base = frame.lookup(target.value.value)
                if isinstance(base, Tensor):
                    # x[i] = v writes into x in place
                    if not self.silent:
                        self.analysis.inplace.setdefault(target, []).append((base, self._known_grad()))
                    written = value if isinstance(value, Tensor) else \
                        Tensor(shape=None, requires_grad=False if is_number(value) else None)
                    frame.vars[target.value.value] = _after_inplace(base, written, self.grad_enabled)
                if isinstance(base, DictValue) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                    key = self.eval(target.slice[0].slice.value, frame)
                    if isinstance(key, Const):
                        items = tuple((k, v) for k, v in base.items if k != key.value) + ((key.value, value),)
                        frame.vars[target.value.value] = DictValue(items, base.complete)
                elif isinstance(base, Seq) and base.kind == "list":
                    frame.vars[target.value.value] = Seq("list", None, join(base.element(), value))
            else:
                self.eval(target.value, frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, Seq("list", None, UNKNOWN), frame)

    def unpack(self, elements, value: Value, frame: Frame):
        targets = [e.value if not isinstance(e, cst.StarredElement) else e for e in elements]
        star = next((i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)), None)
        items = None
        if isinstance(value, Seq) and value.items is not None:
            items = list(value.items)
        elif isinstance(value, Tensor) and value.shape and isinstance(value.shape[0], int) and value.shape[0] <= UNROLL_LIMIT:
            items = [self.element_of(value)] * value.shape[0]
        if items is not None:
            if star is None and len(items) == len(targets):
                for t, v in zip(targets, items):
                    self.assign(t, v, frame)
                return
            if star is not None and len(items) >= len(targets) - 1:
                after = len(targets) - star - 1
                for t, v in zip(targets[:star], items[:star]):
                    self.assign(t, v, frame)
                rest = items[star: len(items) - after]
                self.assign(elements[star].value, Seq("list", tuple(rest)), frame)
                for t, v in zip(targets[star + 1:], items[len(items) - after:]):
                    self.assign(t, v, frame)
                return
        elem = self.element_of(value) if not isinstance(value, Seq) or value.items is None else UNKNOWN
        for i, t in enumerate(targets):
            if i == star:
                self.assign(elements[i].value, Seq("list", None, elem), frame)
            else:
                self.assign(t, elem, frame)

    # ------------------------------------------------------------------
    # expressions

    def eval(self, node, frame: Frame) -> Value:
        self.tick()
        method = getattr(self, "ex_" + type(node).__name__, None)
        if method is None:
            # still evaluate children so that calls inside are recorded
            for child in node.children:
                if isinstance(child, cst.BaseExpression):
                    self.eval(child, frame)
            return UNKNOWN
        value = method(node, frame)
        return value

    def ex_Name(self, node: cst.Name, frame: Frame) -> Value:
        v = frame.lookup(node.value)
        if v is not None:
            return v
        if node.value in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[node.value])
        if hasattr(builtins, node.value):
            return ModuleRef("builtins." + node.value)
        return UNKNOWN

    def ex_Integer(self, node, frame):
        try:
            return Const(node.evaluated_value)
        except ValueError:  # over sys.get_int_max_str_digits() digits
            return Number("int")

    def ex_Float(self, node, frame):
        return Const(node.evaluated_value)

    def ex_Imaginary(self, node, frame):
        return Const(node.evaluated_value)

    def ex_SimpleString(self, node, frame):
        raw = node.value
        q = raw[:1]
        if q in ("'", '"') and "\\" not in raw:
            n = 3 if raw[:3] in ("\'\'\'", '\"\"\"') and len(raw) >= 6 else 1
            return Const(raw[n:-n])
        try:
            return Const(node.evaluated_value)
        except Exception:
            return UNKNOWN

    def ex_ConcatenatedString(self, node, frame):
        try:
            v = node.evaluated_value
            return Const(v) if v is not None else UNKNOWN
        except Exception:
            return UNKNOWN

    def ex_FormattedString(self, node, frame):
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.eval(part.expression, frame)
        return UNKNOWN

    def ex_Ellipsis(self, node, frame):
        return Const(Ellipsis)

    def ex_Attribute(self, node: cst.Attribute, frame: Frame) -> Value:
        base = self.eval(node.value, frame)
        return self.getattr(base, node.attr.value)

    def ex_Tuple(self, node, frame):
        return self._sequence("tuple", node.elements, frame)

    def ex_List(self, node, frame):
        return self._sequence("list", node.elements, frame)

    def ex_Set(self, node, frame):
        self._sequence("list", node.elements, frame)
        return UNKNOWN

    def _sequence(self, kind, elements, frame) -> Value:
        items: list = []
        known = True
        extra = []
        for el in elements:
            v = self.eval(el.value, frame)
            if isinstance(el, cst.StarredElement):
                if isinstance(v, Seq) and v.items is not None:
                    items.extend(v.items)
                else:
                    known = False
                    extra.append(self.element_of(v))
            else:
                items.append(v)
        if known:
            return Seq(kind, tuple(items))
        return Seq(kind, None, join_all(items + extra))

    def ex_Dict(self, node, frame):
        items = []
        complete = True
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                k = self.eval(el.key, frame)
                v = self.eval(el.value, frame)
                if isinstance(k, Const):
                    try:
                        hash(k.value)
                        items.append((k.value, v))
                        continue
                    except TypeError:
                        pass
                complete = False
            else:
                self.eval(el.value, frame)
                complete = False
        return DictValue(tuple(items), complete)

    def ex_BinaryOperation(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        return self.binop(type(node.operator).__name__, left, right, node)

    def binop(self, opname: str, left: Value, right: Value, node) -> Value:
        op_cls = getattr(cst, opname, None)
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            qual = BINOPS.get(op_cls)
            if qual is None:
                return UNKNOWN
            if (isinstance(left, Tensor) or is_number(left)) and (isinstance(right, Tensor) or is_number(right)):
                return self.torch_call(qual, [left, right], {}, node)
            return UNKNOWN
        if isinstance(left, Const) and isinstance(right, Const):
            try:
                v = fold_constants(op_cls, left.value, right.value)
            except Exception:  # 1 / 0, "a" - 1, ...: what Python would raise is not ours to report
                return UNKNOWN
            return UNKNOWN if v is None else Const(v)
        if is_number(left) and is_number(right):
            kinds = {_kind(left), _kind(right)}
            if op_cls is cst.Divide:
                return Number("float")
            return Number("float" if "float" in kinds else "int" if kinds == {"int"} else None)
        if isinstance(left, Seq) and isinstance(right, Seq) and op_cls is cst.Add:
            if left.items is not None and right.items is not None:
                return Seq(left.kind, left.items + right.items)
            return Seq(left.kind, None, join(left.element(), right.element()))
        if isinstance(left, Seq) and op_cls is cst.Multiply and isinstance(right, Const) and isinstance(right.value, int):
            if left.items is not None and len(left.items) * max(right.value, 0) <= UNROLL_LIMIT:
                return Seq(left.kind, left.items * max(right.value, 0))
            return Seq(left.kind, None, left.element())
        return UNKNOWN

    def ex_UnaryOperation(self, node, frame):
        v = self.eval(node.expression, frame)
        op = type(node.operator)
        if isinstance(v, Tensor):
            if op is cst.Not:
                return Number("bool")
            return self.torch_call("torch.neg" if op is cst.Minus else "torch.positive" if op is cst.Plus else "torch.bitwise_not", [v], {}, node)
        if isinstance(v, Const):
            try:
                if op is cst.Minus:
                    return Const(-v.value)
                if op is cst.Plus:
                    return Const(+v.value)
                if op is cst.Not:
                    return Const(not v.value)
                if op is cst.BitInvert:
                    return Const(~v.value)
            except Exception:
                return UNKNOWN
        if isinstance(v, Number):
            return Number("bool") if op is cst.Not else v
        return UNKNOWN

    def ex_BooleanOperation(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        t = _truth(left)
        if isinstance(node.operator, cst.And):
            if t is False:
                return left
            if t is True:
                return right
        else:
            if t is True:
                return left
            if t is False:
                return right
        return join(left, right)

    def ex_Comparison(self, node, frame):
        left = self.eval(node.left, frame)
        result: Value = UNKNOWN
        for comp in node.comparisons:
            right = self.eval(comp.comparator, frame)
            op = type(comp.operator)
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                qual = COMPARE_OPS.get(op)
                result = self.torch_call(qual, [left, right], {}, node) if qual else Number("bool")
            elif isinstance(left, Const) and isinstance(right, Const):
                try:
                    result = Const(_compare(op, left.value, right.value))
                except Exception:
                    result = Number("bool")
            else:
                result = Number("bool")
            left = right
        return result if len(node.comparisons) == 1 else Number("bool")

    def ex_IfExp(self, node, frame):
        test = _truth(self.eval(node.test, frame))
        if test is True:
            return self.eval(node.body, frame)
        if test is False:
            return self.eval(node.orelse, frame)
        return join(self.eval(node.body, frame), self.eval(node.orelse, frame))

    def ex_NamedExpr(self, node, frame):
        v = self.eval(node.value, frame)
        self.assign(node.target, v, frame)
        return v

    def ex_Yield(self, node, frame):
        if self.generator_flags:
            self.generator_flags[-1] = True
        if node.value is not None:
            v = node.value
            self.eval(v.item if isinstance(v, cst.From) else v, frame)
        return UNKNOWN

    def ex_Await(self, node, frame):
        self.eval(node.expression, frame)
        return UNKNOWN

    def ex_Lambda(self, node, frame):
        fn = Function(node, frame, "<lambda>")
        self.pending.append(fn)
        return fn

    def ex_Subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        base = self.eval(node.value, frame)
        index = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                v = self.eval(s.value, frame)
                index.append(("star", v) if s.star else ("index", v))
            else:
                parts = tuple(self.eval(p, frame) if p is not None else Const(None) for p in (s.lower, s.upper, s.step))
                index.append(("slice", parts))
        return self.subscript(base, index, node)

    def _comprehension(self, node, frame: Frame, kind: str) -> Value:
        f = Frame(frame, kind="comp")
        values = self._comp_values(node.for_in, f, node.elt if kind != "dict" else None)
        if kind == "dict":
            return DictValue((), complete=False)
        if values is None:
            return Seq(kind, None, UNKNOWN)
        items, known = values
        if known:
            return Seq(kind, tuple(items))
        return Seq(kind, None, join_all(items))

    def _comp_values(self, comp_for, frame: Frame, elt):
        iterable = self.eval(comp_for.iter, frame)
        if isinstance(iterable, Seq) and iterable.items is not None and len(iterable.items) <= UNROLL_LIMIT:
            elements = list(iterable.items)
            known = True
        else:
            elements = [self.element_of(iterable)]
            known = False
        out = []
        for e in elements:
            sub = Frame(frame, kind="comp")
            self.assign(comp_for.target, e, sub)
            for cond in comp_for.ifs:
                t = _truth(self.eval(cond.test, sub))
                if t is not True:
                    known = False
            if comp_for.inner_for_in is not None:
                inner = self._comp_values(comp_for.inner_for_in, sub, elt)
                if inner is None:
                    return None
                items, inner_known = inner
                out.extend(items)
                known = known and inner_known
            elif elt is not None:
                out.append(self.eval(elt, sub))
        return out, known

    def ex_ListComp(self, node, frame):
        return self._comprehension(node, frame, "list")

    def ex_GeneratorExp(self, node, frame):
        return self._comprehension(node, frame, "list")

    def ex_SetComp(self, node, frame):
        self._comprehension(node, frame, "list")
        return UNKNOWN

    def ex_DictComp(self, node, frame):
        return self._comprehension(node, frame, "dict")

    def ex_Call(self, node: cst.Call, frame: Frame) -> Value:
        func = node.func
        callee = self.eval(func, frame)
        args, kwargs, star = self.eval_args(node.args, frame)
        # list mutation: xs.append(v)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and isinstance(callee, BoundMethod) \
                and isinstance(callee.receiver, Seq) and callee.receiver.kind == "list":
            name = func.attr.value
            seq = callee.receiver
            if name == "append" and args and not star:
                new = Seq("list", seq.items + (args[0],)) if seq.items is not None and not self.in_loop and len(seq.items) < UNROLL_LIMIT \
                    else Seq("list", None, join(seq.element(), args[0]) if seq.items != () else args[0])
                frame.vars[func.value.value] = new if frame.lookup(func.value.value) is seq else new
                return Const(None)
            if name == "extend" and args:
                new = Seq("list", None, join(seq.element(), self.element_of(args[0])) if seq.items != () else self.element_of(args[0]))
                frame.vars[func.value.value] = new
                return Const(None)
        if star:
            result = UNKNOWN
            if isinstance(callee, TorchObject) and callee.qual == "torch.nn.DataParallel" \
                    and isinstance(callee.attr("module"), UnknownValue):
                # model(**batch) on a wrapped module torchlint cannot see: the arguments do not matter
                result = _gather(UNKNOWN, callee, node.func)
        else:
            result = self.call(callee, args, kwargs, node)
        # In-place tensor methods (x.requires_grad_(), x.add_(y), x.zero_()) change x itself.
        if isinstance(callee, BoundMethod) and isinstance(callee.receiver, Tensor) and callee.name.endswith("_") \
                and not callee.name.startswith("_") and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            name = func.value.value
            if frame.lookup(name) is callee.receiver:
                if callee.name in ("requires_grad_", "detach_"):  # they set requires_grad themselves
                    frame.vars[name] = result if isinstance(result, Tensor) else Tensor(shape=callee.receiver.shape)
                else:
                    frame.vars[name] = _after_inplace(callee.receiver, result, self.grad_enabled)
        if not self.silent:
            ev = CallEvent(callee, tuple(args), dict(kwargs), result, self.grad_enabled,
                           tuple((fn.qual, n) for fn, n in self.stack), self.in_loop > 0, not self.grad_assumed)
            self.analysis.calls.setdefault(node, []).append(ev)
        return result

    def eval_args(self, args, frame):
        pos, kw, star = [], {}, False
        for a in args:
            v = self.eval(a.value, frame)
            if a.star == "*":
                if isinstance(v, Seq) and v.items is not None:
                    pos.extend(v.items)
                else:
                    star = True
            elif a.star == "**":
                if isinstance(v, DictValue) and v.complete and all(isinstance(k, str) for k, _ in v.items):
                    kw.update(dict(v.items))
                else:
                    star = True
            elif a.keyword is not None:
                kw[a.keyword.value] = v
            else:
                pos.append(v)
        return pos, kw, star

    # ------------------------------------------------------------------
    # calls

    def call_env(self, **kwargs) -> CallEnv:
        """What the API model may know about a call made here: grad mode (and what turned it off)."""
        return CallEnv(grad_enabled=self.grad_enabled, grad_off=self.grad_off, **kwargs)

    def torch_call(self, qual: str, args, kwargs, node) -> Value:
        r = api.call_function(qual, list(args), dict(kwargs), self.call_env())
        return UNKNOWN if r is None else r

    def call(self, callee: Value, args: list, kwargs: dict, node) -> Value:
        if isinstance(callee, ModuleRef):
            return self.call_qual(callee.qual, args, kwargs, node)
        if isinstance(callee, BoundMethod):
            return self.call_bound(callee, args, kwargs, node)
        if isinstance(callee, TorchObject):
            return self.call_torch_object(callee, args, kwargs, node)
        if isinstance(callee, Function):
            return self.call_user(callee, args, kwargs)
        if isinstance(callee, UserBound):
            return self.call_user(callee.func, [callee.self_value] + list(args), kwargs)
        if isinstance(callee, ClassValue):
            return self.instantiate(callee, args, kwargs)
        if isinstance(callee, Instance):
            call = self.class_attr(callee.cls, "__call__")
            if isinstance(call, Function):
                return self.call_user(call, [callee] + list(args), kwargs)
            if callee.cls.is_torch_module():
                fwd = self.class_attr(callee.cls, "forward")
                if isinstance(fwd, Function):
                    return self.call_user(fwd, [callee] + list(args), kwargs)
            return UNKNOWN
        return UNKNOWN

    def call_qual(self, qual: str, args, kwargs, node) -> Value:
        if qual.startswith("builtins."):
            return self.call_builtin(qual[len("builtins."):], args, kwargs, node)
        if qual in ("torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.data_parallel.DataParallel"):
            inner = args[0] if args else kwargs.get("module", UNKNOWN)
            return TorchObject("torch.nn.DataParallel", (("module", inner),), node=node)
        if qual in ("torch.nn.parallel.DistributedDataParallel", "torch.nn.DistributedDataParallel",
                    "torch.nn.parallel.distributed.DistributedDataParallel"):
            return args[0] if args else kwargs.get("module", UNKNOWN)
        if qual in ("torch.nn.Sequential",):
            if not kwargs and all(isinstance(a, (TorchObject, Instance, Function)) for a in args):
                return TorchObject("torch.nn.Sequential", (("children", Seq("tuple", tuple(args))),))
            return UNKNOWN
        if qual in ("torch.nn.ModuleList",):
            return args[0] if args and isinstance(args[0], Seq) else Seq("list", ())
        if qual in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            data = args[0] if args else kwargs.get("data", UNKNOWN)
            rg = kwargs.get("requires_grad", args[1] if len(args) > 1 else Const(True))
            rgv = bool(rg.value) if isinstance(rg, Const) else None
            if isinstance(data, Tensor):
                return Tensor(shape=data.shape, numel=data.numel, requires_grad=rgv, dtype=data.dtype, leaf=True)
            return Tensor(shape=None, requires_grad=rgv, leaf=True)
        if qual in ("torch.autograd.Variable",):
            data = args[0] if args else UNKNOWN
            rg = kwargs.get("requires_grad", Const(False))
            if isinstance(data, Tensor):
                rgv = True if (isinstance(rg, Const) and rg.value) else data.requires_grad
                return Tensor(shape=data.shape, numel=data.numel, requires_grad=rgv, dtype=data.dtype)
            return UNKNOWN
        if qual in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled"):
            # As a statement it switches grad mode from here on; as a context manager
            # stmt_With restores the mode after the block.
            flag = args[0] if args else kwargs.get("mode", UNKNOWN)
            self.grad_enabled = bool(flag.value) if isinstance(flag, Const) else None
            self.grad_assumed = False
            if self.grad_enabled is False:
                self.grad_off = "after torch.set_grad_enabled(False)"
            return TorchObject(qual, (("arg", flag),))
        if qual in NO_GRAD_CONTEXTS or qual in ENABLE_GRAD_CONTEXTS:
            if not args and "mode" in kwargs:  # torch.inference_mode(mode=False)
                args = [kwargs["mode"]]
            return TorchObject(qual, tuple(("arg", a) for a in args[:1]))
        if qual in FUNC_TRANSFORMS:
            f = args[0] if args else kwargs.get("func", UNKNOWN)
            attrs = [("func", f), ("kind", Const(FUNC_TRANSFORMS[qual]))]
            for name in ("argnums", "has_aux"):
                if name in kwargs:
                    attrs.append((name, kwargs[name]))
            return TorchObject("torch.func.grad", tuple(attrs), node=node)
        if qual in VJP_FUNCTIONS:
            f = args[0] if args else kwargs.get("func", UNKNOWN)
            inputs = args[1] if len(args) > 1 else kwargs.get("inputs", UNKNOWN)
            call_args = list(inputs.items) if isinstance(inputs, Seq) and inputs.kind == "tuple" and inputs.items is not None else [inputs]
            out = self.call(f, call_args, {}, node) if isinstance(f, (Function, UserBound)) else UNKNOWN
            if not self.silent:
                self.analysis.func_outputs.setdefault(node, []).append(out)
            return Seq("tuple", (UNKNOWN, UNKNOWN))
        if qual in ("torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler",
                    "torch.GradScaler"):
            return TorchObject("torch.amp.GradScaler")
        if qual.startswith("torch.") or qual == "torch":
            label_node = node.func if isinstance(node, cst.Call) else None
            r = api.call_function(qual, list(args), dict(kwargs), self.call_env(node=node, label_node=label_node))
            if r is not None:
                if isinstance(r, TorchObject):
                    return TorchObject(r.qual, r.attrs, node=node)
                return r
        return UNKNOWN

    def call_builtin(self, name: str, args, kwargs, node) -> Value:
        if name == "sum" and args and not kwargs.keys() - {"start"}:
            seq = args[0]
            start = args[1] if len(args) > 1 else kwargs.get("start", Const(0))
            items = None
            if isinstance(seq, Seq):
                items = list(seq.items) if seq.items is not None else [seq.elem]
            if items is None or not items:
                return start if isinstance(seq, Seq) and seq.items == () else UNKNOWN
            if all(isinstance(i, Tensor) or is_number(i) for i in items):
                total = start
                for it in items:
                    total = self.binop("Add", total, it, node)
                return total
            return UNKNOWN
        if name in ("float", "int", "bool", "complex"):
            if not args:
                return Const({"float": 0.0, "int": 0, "bool": False, "complex": 0j}[name])
            v = args[0]
            if isinstance(v, Tensor):
                return Number(kind=name if name != "complex" else None, conv=f"{name}()")
            if isinstance(v, Const):
                try:
                    return Const(getattr(builtins, name)(v.value))
                except Exception:
                    return UNKNOWN
            if isinstance(v, Number):
                return Number(kind=name, conv=v.conv)
            return Number(kind=name if name != "complex" else None)
        if name == "len" and args:
            v = args[0]
            if isinstance(v, Seq) and v.items is not None:
                return Const(len(v.items))
            if isinstance(v, Tensor) and v.shape:
                d = v.shape[0]
                return Const(d) if isinstance(d, int) else Number("int")
            return Number("int")
        if name == "range":
            if all(isinstance(a, Const) and isinstance(a.value, int) for a in args) and 1 <= len(args) <= 3:
                try:
                    r = range(*(a.value for a in args))
                    n = len(r)  # OverflowError past sys.maxsize
                except Exception:
                    return Seq("list", None, Number("int"))
                if n <= UNROLL_LIMIT:
                    return Seq("list", tuple(Const(i) for i in r))
            return Seq("list", None, Number("int"))
        if name in ("list", "tuple"):
            if not args:
                return Seq(name, ())
            v = args[0]
            if isinstance(v, Seq):
                return Seq(name, v.items, v.elem)
            if isinstance(v, Tensor) and v.shape and isinstance(v.shape[0], int) and v.shape[0] <= UNROLL_LIMIT:
                return Seq(name, tuple([self.element_of(v)] * v.shape[0]))
            return Seq(name, None, self.element_of(v))
        if name == "zip" and args:
            seqs = args
            if all(isinstance(s, Seq) and s.items is not None for s in seqs):
                n = min(len(s.items) for s in seqs)
                return Seq("list", tuple(Seq("tuple", tuple(s.items[i] for s in seqs)) for i in range(n)))
            return Seq("list", None, Seq("tuple", tuple(self.element_of(s) for s in seqs)))
        if name == "enumerate" and args:
            v = args[0]
            if isinstance(v, Seq) and v.items is not None:
                return Seq("list", tuple(Seq("tuple", (Const(i), it)) for i, it in enumerate(v.items)))
            return Seq("list", None, Seq("tuple", (Number("int"), self.element_of(v))))
        if name in ("reversed", "sorted") and args:
            v = args[0]
            if isinstance(v, Seq):
                return Seq("list", None, v.element()) if v.items is None else Seq("list", tuple(reversed(v.items)) if name == "reversed" else None, v.element())
            return Seq("list", None, self.element_of(v))
        if name in ("isinstance", "issubclass", "hasattr", "callable", "all", "any"):
            return Number("bool")
        if name == "abs" and args:
            v = args[0]
            if isinstance(v, Tensor):
                return self.torch_call("torch.abs", [v], {}, node)
            return v if is_number(v) else UNKNOWN
        if name in ("max", "min") and len(args) >= 2 and all(is_number(a) for a in args):
            return Number(None)
        if name == "round" and args and is_number(args[0]):
            return Number("int" if len(args) == 1 else "float")
        if name == "print":
            return Const(None)
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], Const) and isinstance(args[1].value, str):
            return self.getattr(args[0], args[1].value)
        if name == "dict":
            if not args and kwargs:
                return DictValue(tuple(kwargs.items()))
            return DictValue((), complete=False)
        if name == "super":
            return UNKNOWN
        return UNKNOWN

    def call_bound(self, m: BoundMethod, args, kwargs, node) -> Value:
        recv = m.receiver
        name = m.name
        if isinstance(recv, Tensor):
            if name in ("backward", "register_hook", "retain_grad", "zero_", "fill_", "copy_", "normal_", "uniform_"):
                if name in ("zero_", "fill_", "copy_", "normal_", "uniform_"):
                    return recv
                return Const(None)
            if name == "size":
                if not args and not kwargs:
                    return self.getattr(recv, "shape")
                d = args[0] if args else kwargs.get("dim", UNKNOWN)
                return self.subscript(self.getattr(recv, "shape"), [("index", d)], node)
            if name in ("dim", "ndimension"):
                return Const(len(recv.shape)) if recv.shape is not None else Number("int")
            if name in ("numel", "nelement"):
                from torchlint.analysis.shapes import numel
                n = numel(recv.shape)
                return Const(n) if n is not None else Number("int")
            if name in ("is_floating_point", "is_complex", "is_contiguous", "equal", "allclose"):
                return Number("bool")
            label_node = node.func if isinstance(node, cst.Call) else None
            r = api.call_method(recv, name, list(args), dict(kwargs), self.call_env(label_node=label_node))
            return UNKNOWN if r is None else r
        if isinstance(recv, TorchObject):
            if recv.qual == "torch.amp.GradScaler" and name == "scale" and args:
                return args[0]
            if name == "forward":
                return self.call_torch_object(recv, args, kwargs, node)
            if name in MODULE_SELF_METHODS:
                return recv
            return UNKNOWN
        if isinstance(recv, Instance):
            if name in MODULE_SELF_METHODS:
                return recv
            return UNKNOWN
        if isinstance(recv, DictValue):
            if name == "get" and args and isinstance(args[0], Const):
                v = recv.get(args[0].value)
                return v if v is not UNKNOWN or recv.complete else UNKNOWN
            if name == "values":
                return Seq("list", tuple(v for _, v in recv.items)) if recv.complete else Seq("list", None, UNKNOWN)
            if name == "items":
                if recv.complete:
                    return Seq("list", tuple(Seq("tuple", (Const(k), v)) for k, v in recv.items))
            return UNKNOWN
        if isinstance(recv, Seq):
            if name in ("index", "count"):
                return Number("int")
            if name == "pop":
                return recv.element()
            if name == "copy":
                return recv
            return UNKNOWN
        return UNKNOWN

    def call_torch_object(self, obj: TorchObject, args, kwargs, node) -> Value:
        if obj.qual == "torch.func.grad":
            f = obj.attr("func")
            out = self.call(f, args, kwargs, node) if isinstance(f, (Function, UserBound)) else UNKNOWN
            has_aux = obj.attr("has_aux", Const(False))
            if isinstance(has_aux, Const) and has_aux.value:
                # f must return a 2-tuple (output, aux); anything else raises a different error
                out = out.items[0] if isinstance(out, Seq) and out.kind == "tuple" and out.items is not None \
                    and len(out.items) == 2 else UNKNOWN
            elif not isinstance(has_aux, Const):
                out = UNKNOWN
            argnums = obj.attr("argnums", Const(0))
            # grad raises before calling f when argnums points past the positional arguments
            # or at an integer tensor (it cannot require grad): f's output is then not what fails.
            nums = [argnums.value] if isinstance(argnums, Const) else \
                [a.value for a in argnums.items] if isinstance(argnums, Seq) and argnums.items is not None \
                and all(isinstance(a, Const) for a in argnums.items) else None
            if nums is None or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < len(args) for n in nums) \
                    or any(isinstance(args[n], Tensor) and args[n].dtype in ("int", "bool") for n in nums):
                checked = UNKNOWN
            else:
                checked = out
            if not self.silent:
                self.analysis.func_outputs.setdefault(node, []).append(checked)
            first = args[argnums.value] if isinstance(argnums, Const) and isinstance(argnums.value, int) \
                and 0 <= argnums.value < len(args) else UNKNOWN
            grad = Tensor(shape=first.shape, numel=first.numel, dtype=first.dtype) if isinstance(first, Tensor) else UNKNOWN
            kind = obj.attr("kind")
            if isinstance(kind, Const) and kind.value == "grad_and_value":
                return Seq("tuple", (grad, out if isinstance(out, Tensor) else UNKNOWN))
            return grad
        if obj.qual == "torch.nn.DataParallel":
            inner = obj.attr("module")
            out = self.call(inner, args, kwargs, node)
            return _gather(out, obj, node.func if isinstance(node, cst.Call) else None)
        if obj.qual == "torch.nn.Sequential":
            children = obj.attr("children")
            if not isinstance(children, Seq) or children.items is None or kwargs or len(args) != 1:
                return UNKNOWN
            value = args[0]
            for child in children.items:
                value = self.call(child, [value], {}, node)
            return value
        env = self.call_env(node=obj.node, label=None if isinstance(node, cst.Call) else obj.label,
                            label_node=node.func if isinstance(node, cst.Call) else None)
        r = api.call_module(obj, list(args), dict(kwargs), env)
        return UNKNOWN if r is None else r

    def instantiate(self, cls: ClassValue, args, kwargs) -> Value:
        inst = Instance(cls)
        init = self.class_attr(cls, "__init__")
        if isinstance(init, Function):
            self.constructing.append(inst)
            try:
                self.call_user(init, [inst] + list(args), kwargs)
            finally:
                self.constructing.pop()
        elif init is UNKNOWN and not cls.is_torch_module():
            return UNKNOWN
        return inst

    def class_attr(self, cls: ClassValue, name: str) -> Value:
        for c in cls.mro():
            ns = self.class_ns.get(c.node)
            if ns is not None and name in ns:
                return ns[name]
        # an unknown base class may define it
        if any(not isinstance(b, ClassValue) for c in cls.mro() for b in c.bases if not _is_plain_base(b)):
            return UNKNOWN
        return None

    def call_user(self, fn: Function, args: list, kwargs: dict, generic: bool = False) -> Value:
        node = fn.node
        if node in self.active or (len(self.stack) >= MAX_DEPTH and not generic):
            return UNKNOWN
        if self.budget_spent and not generic:
            return UNKNOWN
        try:
            key = (id(node), id(fn.frame), tuple(args), tuple(sorted(kwargs.items())), self.grad_enabled)
            hash(key)
        except TypeError:
            key = None
        recording = not self.silent
        if key is not None and key in self.memo:
            value, recorded = self.memo[key]
            if recorded or not recording:
                return value
        frame = Frame(fn.frame, kind="function")
        if not self.bind_params(fn, args, kwargs, frame, defaults=not generic):
            return UNKNOWN
        saved_grad = self.grad_enabled, self.grad_off, self.grad_assumed
        if isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                ctx = self.eval_quiet(dec.decorator, fn.frame)
                mode = _grad_mode_of(ctx)
                if mode is not None:
                    self.grad_assumed = False
                if mode is False:
                    self.grad_enabled = False
                    self.grad_off = f"in a function decorated with @{_grad_off_label(ctx)}"
                elif mode is True:
                    self.grad_enabled = True
                elif mode == "unknown":
                    self.grad_enabled = None
        self.active.append(node)
        self.stack.append((fn, None))
        self.returns.append([])
        self.generator_flags.append(False)
        saved_loops = self.loop_stack
        saved_in_loop = self.in_loop
        self.loop_stack = []
        self.in_loop = 0
        try:
            if isinstance(node, cst.Lambda):
                result = self.eval(node.body, frame)
            else:
                falls_off = self.exec_block(node.body, frame)
                values = self.returns[-1]
                if falls_off:
                    values = values + [Const(None)]
                if self.generator_flags[-1]:
                    result = UNKNOWN
                else:
                    result = join_all(values) if values else UNKNOWN
        finally:
            self.returns.pop()
            self.generator_flags.pop()
            self.stack.pop()
            self.active.pop()
            self.grad_enabled, self.grad_off, self.grad_assumed = saved_grad
            self.loop_stack = saved_loops
            self.in_loop = saved_in_loop
        if key is not None:
            self.memo[key] = (result, recording)
        return result

    def eval_quiet(self, node, frame):
        self.silent += 1
        try:
            return self.eval(node, frame)
        finally:
            self.silent -= 1

    def bind_params(self, fn: Function, args: list, kwargs: dict, frame: Frame, defaults: bool = True) -> bool:
        """Bind a call's arguments to ``fn``'s parameters in ``frame``.

        With ``defaults=False`` (the generic analysis of a function on its own)
        a parameter that has a default is unknown, not its default: callers
        elsewhere may pass anything.
        """
        params: cst.Parameters = fn.node.params
        positional = list(params.posonly_params) + list(params.params)
        args = list(args)
        kwargs = dict(kwargs)
        for p in positional:
            name = p.name.value
            if args:
                frame.vars[name] = args.pop(0)
            elif name in kwargs:
                frame.vars[name] = kwargs.pop(name)
            elif p.default is not None and defaults:
                frame.vars[name] = self.eval_quiet(p.default, fn.frame)
            else:
                frame.vars[name] = UNKNOWN
        if isinstance(params.star_arg, cst.Param):
            frame.vars[params.star_arg.name.value] = Seq("tuple", tuple(args))
            args = []
        for p in params.kwonly_params:
            name = p.name.value
            if name in kwargs:
                frame.vars[name] = kwargs.pop(name)
            elif p.default is not None and defaults:
                frame.vars[name] = self.eval_quiet(p.default, fn.frame)
            else:
                frame.vars[name] = UNKNOWN
        if params.star_kwarg is not None:
            frame.vars[params.star_kwarg.name.value] = DictValue(tuple(kwargs.items()), complete=False)
            kwargs = {}
        # An arity mismatch means the call raises TypeError (or our model of it is wrong).
        return not args and not kwargs

    # ------------------------------------------------------------------
    # attributes, subscripts, iteration

    def getattr(self, base: Value, name: str) -> Value:
        if isinstance(base, ModuleRef):
            return ModuleRef(f"{base.qual}.{name}")
        if isinstance(base, Gathered):
            # `outputs.loss` (Hugging Face models) is the gathered loss; a tensor method on the output
            # itself (`out.backward()`, `out.mean()`) treats it as the loss it then must be
            if name == "loss":
                return base.as_loss()
            if name == "backward" or api.is_tensor_method(name):
                return self.tensor_attr(base.as_loss(), name)
            return UNKNOWN
        if isinstance(base, Tensor):
            return self.tensor_attr(base, name)
        if isinstance(base, TorchObject):
            v = base.attr(name, None)
            if v is not None:
                return v
            if name in ("weight", "bias") and api.is_known(base.qual):
                return Tensor(shape=None, requires_grad=True, dtype="float", leaf=True)  # a parameter
            return BoundMethod(base, name)
        if isinstance(base, Instance):
            if name in base.attrs:
                return base.attrs[name]
            attr = self.class_attr(base.cls, name)
            if isinstance(attr, Function):
                if isinstance(attr.node, cst.FunctionDef) and _is_property(attr.node):
                    return self.call_user(attr, [base], {})
                if isinstance(attr.node, cst.FunctionDef) and _is_static(attr.node):
                    return attr
                return UserBound(attr, base)
            if attr is not None:
                return attr
            if name in MODULE_SELF_METHODS:
                return BoundMethod(base, name)
            return UNKNOWN
        if isinstance(base, ClassValue):
            attr = self.class_attr(base, name)
            return attr if attr is not None else UNKNOWN
        if isinstance(base, (DictValue, Seq, Number, PyConverted, Const)):
            return BoundMethod(base, name)
        return UNKNOWN

    def tensor_attr(self, t: Tensor, name: str) -> Value:
        if name == "shape":
            if t.shape is None:
                return Seq("tuple", None, Number("int"))
            return Seq("tuple", tuple(Const(d) if isinstance(d, int) else Number("int", sym=d if isinstance(d, Sym) else None) for d in t.shape))
        if name == "ndim":
            return Const(len(t.shape)) if t.shape is not None else Number("int")
        if name in ("T", "mT", "H", "mH"):
            if t.shape is None:
                return Tensor(shape=None, numel=t.numel, likely=t.likely, per_element=t.per_element,
                              requires_grad=t.requires_grad, dtype=t.dtype, origin=t.origin)
            shape = tuple(reversed(t.shape)) if name in ("T", "H") else (t.shape[:-2] + (t.shape[-1], t.shape[-2]) if len(t.shape) >= 2 else None)
            return Tensor(shape=shape, numel=t.numel, requires_grad=t.requires_grad, dtype=t.dtype, origin=t.origin,
                          per_element=t.per_element)
        if name == "data":
            return Tensor(shape=t.shape, numel=t.numel, likely=t.likely, per_element=t.per_element, requires_grad=False,
                          dtype=t.dtype, origin=t.origin, grad_note="taken from .data, which is detached from the graph")
        if name == "grad":
            return Tensor(shape=t.shape, numel=t.numel, requires_grad=False, dtype=t.dtype,
                          grad_note="a .grad tensor, which does not require grad")
        if name in ("real", "imag"):
            return Tensor(shape=t.shape, numel=t.numel, requires_grad=t.requires_grad, dtype="float", origin=t.origin)
        if name == "requires_grad":
            return Const(t.requires_grad) if t.requires_grad is not None else Number("bool")
        if name in ("is_leaf", "is_cuda", "is_sparse"):
            return Number("bool")
        if name in ("dtype", "device", "layout", "grad_fn", "names"):
            return UNKNOWN
        return BoundMethod(t, name)

    def subscript(self, base: Value, index: list, node) -> Value:
        if isinstance(base, Tensor):
            return index_tensor(base, index, self.grad_enabled)
        if isinstance(base, Gathered):
            if len(index) == 1 and index[0][0] == "index" and index[0][1] == Const("loss"):
                return base.as_loss()
            return UNKNOWN
        if isinstance(base, Seq):
            if len(index) == 1 and index[0][0] == "index":
                i = index[0][1]
                if isinstance(i, Const) and isinstance(i.value, int) and base.items is not None:
                    try:
                        return base.items[i.value]
                    except IndexError:
                        return UNKNOWN
                return base.element()
            if len(index) == 1 and index[0][0] == "slice":
                parts = index[0][1]
                if base.items is not None and all(isinstance(p, Const) and (p.value is None or isinstance(p.value, int)) for p in parts):
                    try:
                        return Seq(base.kind, base.items[slice(*(p.value for p in parts))])
                    except ValueError:
                        return UNKNOWN
                return Seq(base.kind, None, base.element())
            return UNKNOWN
        if isinstance(base, DictValue):
            if len(index) == 1 and index[0][0] == "index" and isinstance(index[0][1], Const):
                v = base.get(index[0][1].value)
                return v
            return UNKNOWN
        if isinstance(base, TorchObject) and base.qual == "torch.nn.Sequential":
            children = base.attr("children")
            if len(index) == 1 and index[0][0] == "index" and isinstance(index[0][1], Const) and isinstance(children, Seq) \
                    and children.items is not None and isinstance(index[0][1].value, int):
                try:
                    return children.items[index[0][1].value]
                except IndexError:
                    return UNKNOWN
        return UNKNOWN

    def element_of(self, v: Value) -> Value:
        if isinstance(v, Seq):
            return v.element()
        if isinstance(v, Tensor):
            if v.shape:
                return Tensor(shape=v.shape[1:], requires_grad=v.requires_grad, dtype=v.dtype, origin=v.origin,
                              per_element=v.per_element)
            if v.shape is None:
                return Tensor(shape=None, requires_grad=v.requires_grad, dtype=v.dtype)
            return UNKNOWN
        if isinstance(v, DictValue):
            return UNKNOWN
        return UNKNOWN


# ---------------------------------------------------------------------------
# helpers


def join_vars(states: list) -> dict:
    states = [s for s in states if s is not None]
    if len(states) == 1:
        return dict(states[0])
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
                                requires_grad=v.requires_grad, dtype=v.dtype, origin=v.origin)
            else:
                out[k] = UNKNOWN
    return out


def index_tensor(t: Tensor, index: list, grad_enabled) -> Value:
    """Basic and (simple) advanced indexing, following PyTorch/NumPy rules."""
    shape = t.shape
    base = dict(requires_grad=t.requires_grad if grad_enabled is not False else False, dtype=t.dtype, origin=t.origin)
    if shape is None:
        return Tensor(shape=None, **base)
    items = list(index)
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
    if grad_enabled is True and current.leaf and current.requires_grad is True:
        return current  # PyTorch refuses this op (TL009): the tensor stays as it was
    out = result if isinstance(result, Tensor) else Tensor(shape=current.shape)
    keep = dict(shape=current.shape, numel=current.numel, dtype=current.dtype or out.dtype, likely=current.likely,
                per_element=current.per_element)
    if grad_enabled is False:
        return replace(out, requires_grad=current.requires_grad, grad_note=current.grad_note, leaf=current.leaf,
                       origin=current.origin, **keep)
    if current.requires_grad:  # an in-place op never takes requires_grad away
        rg = True
    elif out.requires_grad:
        rg = True if grad_enabled else None
    elif current.requires_grad is False and out.requires_grad is False:
        rg = False
    else:
        rg = None
    return replace(out, requires_grad=rg, grad_note=current.grad_note if rg is False else None,
                   leaf=current.leaf and rg is False, **keep)


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
        return Seq(out.kind, tuple(_gather(i, dp, label_node) for i in out.items))
    if isinstance(out, DictValue):
        return DictValue(tuple((k, _gather(v, dp, label_node)) for k, v in out.items), out.complete)
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


def _is_property(node: cst.FunctionDef) -> bool:
    return any(dotted(d.decorator) in ("property", "functools.cached_property", "cached_property") for d in node.decorators)


def _is_plain_base(b: Value) -> bool:
    return isinstance(b, ClassValue) or (isinstance(b, ModuleRef) and b.qual in ("builtins.object",))


_CODE_MODULE = cst.Module(body=[])


def _short_code(node) -> Optional[str]:
    try:
        code = _CODE_MODULE.code_for_node(node)
    except Exception:
        return None
    code = " ".join(code.split())
    return code if len(code) <= 60 else code[:57] + "..."


__all__ = ["Interpreter", "Analysis", "CallEvent", "format_shape", "MANY"]
