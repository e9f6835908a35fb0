"""User code: instances of the file's classes, attribute lookup, and calls of the file's functions with argument binding."""
from __future__ import annotations

import libcst as cst
from torchlint.analysis import api
from torchlint.analysis.values import (
    UNKNOWN,
    BoundMethod,
    ClassValue,
    Const,
    DictValue,
    Function,
    Gathered,
    Instance,
    ModuleRef,
    Number,
    PyConverted,
    Seq,
    Tensor,
    TorchObject,
    UserBound,
    Value,
    join_all,
)
from torchlint.analysis.interp.state import Frame, MAX_DEPTH, MODULE_SELF_METHODS
from torchlint.analysis.interp.helpers import _grad_mode_of, _grad_off_label, _is_plain_base, _is_property, _is_static, rebase_graphs


class UserCode:
    """User code of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def instantiate(self, cls: ClassValue, args, kwargs) -> Value:
        inst = Instance(cls)
        init = self.class_attr(cls, "__init__")
        if isinstance(init, Function):
            self.ip.constructing.append(inst)
            try:
                self.call_user(init, [inst] + list(args), kwargs)
            finally:
                self.ip.constructing.pop()
        elif init is UNKNOWN and not cls.is_torch_module():
            return UNKNOWN
        return inst

    def class_attr(self, cls: ClassValue, name: str) -> Value:
        for c in cls.mro():
            ns = self.ip.class_ns.get(c.node)
            if ns is not None and name in ns:
                return ns[name]
        # an unknown base class may define it
        if any(not isinstance(b, ClassValue) for c in cls.mro() for b in c.bases if not _is_plain_base(b)):
            return UNKNOWN
        return None

    def call_user(self, fn: Function, args: list, kwargs: dict, generic: bool = False, site=None) -> Value:
        node = fn.node
        if node in self.ip.active or (len(self.ip.stack) >= MAX_DEPTH and not generic):
            return UNKNOWN
        if self.ip.budget_spent and not generic:
            return UNKNOWN
        try:
            key = (id(node), id(fn.frame), tuple(args), tuple(sorted(kwargs.items())), self.ip.grad_enabled)
            hash(key)
        except TypeError:
            key = None
        recording = not self.ip.silent
        context = tuple(n for _, n in self.ip.stack) + (site,)
        if key is not None and key in self.ip.memo:
            value, recorded, first_context = self.ip.memo[key]
            if recorded or not recording:
                return rebase_graphs(value, first_context, context)
        frame = Frame(fn.frame, kind="function")
        if not self.bind_params(fn, args, kwargs, frame, defaults=not generic):
            return UNKNOWN
        saved_grad = self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed
        if isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                ctx = self.eval_quiet(dec.decorator, fn.frame)
                mode = _grad_mode_of(ctx)
                if mode is not None:
                    self.ip.grad_assumed = False
                if mode is False:
                    self.ip.grad_enabled = False
                    self.ip.grad_off = f"in a function decorated with @{_grad_off_label(ctx)}"
                elif mode is True:
                    self.ip.grad_enabled = True
                elif mode == "unknown":
                    self.ip.grad_enabled = None
        self.ip.active.append(node)
        self.ip.stack.append((fn, site))
        self.ip.returns.append([])
        self.ip.generator_flags.append(False)
        saved_loops = self.ip.loop_stack
        saved_in_loop = self.ip.in_loop
        self.ip.loop_stack = []
        self.ip.in_loop = 0
        try:
            if isinstance(node, cst.Lambda):
                result = self.ip.exprs.eval(node.body, frame)
            else:
                falls_off = self.ip.stmts.exec_block(node.body, frame)
                values = self.ip.returns[-1]
                if falls_off:
                    values = values + [Const(None)]
                if self.ip.generator_flags[-1]:
                    result = UNKNOWN
                else:
                    result = join_all(values) if values else UNKNOWN
        finally:
            self.ip.returns.pop()
            self.ip.generator_flags.pop()
            self.ip.stack.pop()
            self.ip.active.pop()
            self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed = saved_grad
            self.ip.loop_stack = saved_loops
            self.ip.in_loop = saved_in_loop
        if key is not None:
            self.ip.memo[key] = (result, recording, context)
        return result

    def eval_quiet(self, node, frame):
        self.ip.silent += 1
        try:
            return self.ip.exprs.eval(node, frame)
        finally:
            self.ip.silent -= 1

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

    def getattr(self, base: Value, name: str) -> Value:
        if isinstance(base, ModuleRef):
            return ModuleRef(f"{base.qual}.{name}")
        if isinstance(base, Gathered):
            # `outputs.loss` (Hugging Face models) is the gathered loss; a tensor method on the output
            # itself (`out.backward()`, `out.mean()`) treats it as the loss it then must be
            if name == "loss":
                return base.as_loss()
            if name == "backward" or api.is_tensor_method(name):
                return self.ip.tensors.tensor_attr(base.as_loss(), name)
            return UNKNOWN
        if isinstance(base, Tensor):
            return self.ip.tensors.tensor_attr(base, name)
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
