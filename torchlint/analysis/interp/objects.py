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
    NDArray,
    Number,
    PyConverted,
    Seq,
    SuperRef,
    Tensor,
    TorchObject,
    UnknownValue,
    UserBound,
    Value,
    join_all,
)
from torchlint.analysis.interp import arrays, sealed, typeof
from torchlint.analysis.interp.data import PARSER as ARGUMENT_PARSER, is_stand_in
from torchlint.analysis.interp.state import Frame, MAX_DEPTH, MODULE_SELF_METHODS, WHOLE_REDUCTIONS
from torchlint.analysis.interp.helpers import _grad_mode_of, _grad_off_label, _is_plain_base, _is_property, _is_static, rebase_graphs
from torchlint.analysis.interp.helpers import _is_classmethod, grad_state, join_grad_states, set_grad_state
from torchlint.analysis.deferred import BLANKED, PENDING, full_def


# What a subclass of a torch class may define and still build and call as that class.
LIFT_TRANSPARENT = frozenset({"__getattr__"})


class UserCode:
    """User code of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def instantiate(self, cls: ClassValue, args, kwargs) -> Value:
        inst = self.ip.new_instance(cls)
        init = self.class_attr(cls, "__init__")
        if init is None:
            fields = self.dataclass_fields(cls)
            if fields is not None:
                return self.init_dataclass(inst, fields, args, kwargs)
        if init is None or isinstance(init, Function):
            sealed.seal(inst, cls, self.ip.class_ns)
        else:
            sealed.moved_on()  # an __init__ torchlint cannot see runs
        if isinstance(init, Function):
            self.ip.constructing.append(inst)
            try:
                self.call_user(init, [inst] + list(args), kwargs)
            finally:
                self.ip.constructing.pop()
        elif init is UNKNOWN and not cls.is_torch_module():
            return UNKNOWN
        return inst

    def torch_base_alone(self, cls: ClassValue):
        """The qualified name of the torch class that ``cls`` subclasses when the file's classes on the way add
        nothing that changes it (an empty body, or only ``__getattr__`` delegating to the wrapped module):
        ``class MMDataParallel(nn.DataParallel): pass`` builds and calls as an nn.DataParallel. None otherwise."""
        found = None
        for c in cls.mro():
            ns = self.ip.class_ns.get(c.node)
            if ns is None or set(ns) - LIFT_TRANSPARENT:
                return None
            for b in c.bases:
                if isinstance(b, ClassValue) or _is_plain_base(b):
                    continue
                if not (isinstance(b, ModuleRef) and b.qual.startswith("torch.")) or found not in (None, b.qual):
                    return None
                found = b.qual
        return found

    def dataclass_fields(self, cls: ClassValue):
        """[(name, default value or None, in __init__)] of a ``@dataclass`` class (and its dataclass bases, first),
        from its annotated class attributes; None when ``cls`` is no dataclass."""
        if not any(self._is_dataclass(c) for c in cls.mro()):
            return None
        fields: dict = {}
        for c in reversed(cls.mro()):
            if not self._is_dataclass(c):
                continue
            ns = self.ip.class_ns.get(c.node, {})
            for stmt in c.node.body.body:
                for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
                    if not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
                        continue
                    if "ClassVar" in cst.Module([]).code_for_node(small.annotation.annotation):
                        continue
                    name, default, init = small.target.value, None, True
                    if small.value is not None:
                        default = ns.get(name, UNKNOWN)
                        v = small.value
                        if isinstance(v, cst.Call) and _callee_name(v) == "field":  # field(default=..., init=...)
                            kw = {a.keyword.value: a.value for a in v.args if a.keyword is not None}
                            init = not (isinstance(kw.get("init"), cst.Name) and kw["init"].value == "False")
                            default = self.eval_quiet(kw["default"], c.frame) if "default" in kw else \
                                UNKNOWN if "default_factory" in kw else None
                    fields[name] = (name, default, init)
        return list(fields.values())

    def _is_dataclass(self, c: ClassValue) -> bool:
        for dec in getattr(c.node, "decorators", ()):
            d = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            v = self.eval_quiet(d, c.frame)
            if isinstance(v, ModuleRef) and v.qual == "dataclasses.dataclass":
                return True
        return False

    def init_dataclass(self, inst: Instance, fields: list, args, kwargs) -> Value:
        """The ``__init__`` a dataclass gets: its fields in order, by position or keyword, else their defaults."""
        params = [(n, d) for n, d, init in fields if init]
        if len(args) > len(params) or set(kwargs) - {n for n, _ in params}:
            return UNKNOWN  # TypeError
        for i, (name, default) in enumerate(params):
            v = args[i] if i < len(args) else kwargs.get(name, default)
            inst.attrs[name] = UNKNOWN if v is None else v
        for name, default, init in fields:
            if not init:
                inst.attrs[name] = UNKNOWN if default is None else default
        post = self.class_attr(inst.cls, "__post_init__")
        if isinstance(post, Function):
            self.ip.constructing.append(inst)
            try:
                self.call_user(post, [inst], {})
            finally:
                self.ip.constructing.pop()
        elif post is not None:
            return UNKNOWN
        return inst

    def class_attr(self, cls: ClassValue, name: str) -> Value:
        if self.ip.project is not None:  # base classes defined in other modules of the project, found when needed
            self.ip.project.complete(cls)
        for c in cls.mro():
            ns = self.ip.class_ns.get(c.node)
            if ns is not None and name in ns:
                return _unless_blanked(ns[name])
        # an unknown base class may define it
        if any(not isinstance(b, ClassValue) for c in cls.mro() for b in c.bases if not _is_plain_base(b)):
            return UNKNOWN
        return None

    def call_user(self, fn: Function, args: list, kwargs: dict, generic: bool = False, site=None,
                  fresh: bool = False) -> Value:
        """Call ``fn``; with ``fresh`` its summary is neither looked up nor kept (``__next__`` changes its object,
        whose identity is all a summary's key sees of it)."""
        node = fn.node
        if PENDING and node in PENDING and not full_def(node):  # a method of another module, its body parsed now
            sealed.moved_on()
            return UNKNOWN
        if self.ip.project is not None and self.ip.project.entering(fn, self.ip):  # a function of another module
            got = self.ip.project.call_quietly(self, fn, args, kwargs, generic, site)  # (budgeted, no findings)
            if got is UNKNOWN:
                sealed.moved_on()  # perhaps stopped half-way
            return got
        if node in self.ip.active or (len(self.ip.stack) >= MAX_DEPTH and not generic) or \
                (self.ip.budget_spent and not generic):
            sealed.moved_on()  # a call not followed
            if self.ip.sets_grad_mode:  # the call not followed may switch grad mode
                self.ip.grad_enabled, self.ip.grad_off = None, None
            return UNKNOWN
        try:
            key = None if fresh else (id(node), id(fn.frame), tuple(args), tuple(sorted(kwargs.items())),
                                      self.ip.grad_enabled)
            hash(key)
        except TypeError:
            key = None
        recording = not self.ip.silent
        context = self.ip.context() + (site,)
        if key is not None and key in self.ip.memo:
            value, recorded, first_context, exit_grad, unit = self.ip.memo[key]
            # (a summary that made a sealed object is another unit's to take: interp/sealed.py)
            if (recorded or not recording) and unit in (None, self.ip.unit):
                if unit is not None:
                    sealed.MADE[0] += 1  # (the caller's summary holds that object too)
                if exit_grad is not None:
                    set_grad_state(self.ip, exit_grad)
                if self.ip.units is not None:
                    self.ip.memo_used(key)
                return rebase_graphs(value, first_context, context)
        frame = self.ip.new_frame(fn.frame, "function")
        made = sealed.MADE[0]
        if not self.bind_params(fn, args, kwargs, frame, defaults=not generic):
            return UNKNOWN
        saved_grad = self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed
        decorated = False  # a grad-mode decorator sets the caller's mode back on return
        if isinstance(node, cst.FunctionDef):
            for dec in node.decorators:
                ctx = self.eval_quiet(dec.decorator, fn.frame)
                mode = _grad_mode_of(ctx)
                if mode is not None:
                    decorated = True
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
        self.ip.generic += generic
        self.ip.returns.append([])
        self.ip.exit_grads.append([])
        self.ip.generator_flags.append(False)
        saved_loops = self.ip.loop_stack
        saved_in_loop, saved_unrolled = self.ip.in_loop, self.ip.unrolled
        self.ip.loop_stack = []
        self.ip.outer_loops += saved_in_loop - saved_unrolled  # an unrolled loop runs this call once per item
        self.ip.in_loop = self.ip.unrolled = 0
        try:
            if isinstance(node, cst.Lambda):
                result = self.ip.exprs.eval(node.body, frame)
            else:
                falls_off = self.ip.stmts.exec_block(node.body, frame)
                values = self.ip.returns[-1]
                if falls_off:
                    values = values + [Const(None)]
                    self.ip.exit_grads[-1].append(grad_state(self.ip))
                if self.ip.generator_flags[-1]:
                    result = UNKNOWN
                    sealed.moved_on()  # a generator's body runs later, as it is iterated
                else:
                    result = join_all(values) if values else UNKNOWN
        finally:
            self.ip.generic -= generic
            self.ip.returns.pop()
            exits = self.ip.exit_grads.pop()
            generator = self.ip.generator_flags[-1]
            self.ip.generator_flags.pop()
            self.ip.stack.pop()
            self.ip.active.pop()
            self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed = saved_grad
            self.ip.loop_stack = saved_loops
            self.ip.in_loop, self.ip.unrolled = saved_in_loop, saved_unrolled
            self.ip.outer_loops -= saved_in_loop - saved_unrolled
        # torch.set_grad_enabled(False) as a statement outlives the function that runs it (torch's grad mode
        # is global): the caller goes on in the mode the function returns in
        exit_grad = None
        if exits and not decorated and not generator and isinstance(node, cst.FunctionDef):
            exit_grad = join_grad_states(exits)
            set_grad_state(self.ip, exit_grad)
        if key is not None:
            self.ip.memo[key] = (result, recording, context, exit_grad,
                                 self.ip.unit if sealed.made_since(made) else None)
            if self.ip.units is not None:
                self.ip.memo_owner[key] = self.ip.unit_of
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
            # at a call site the extra keywords are exactly these (build(**kw) forwards them); a function
            # analysed on its own may be called with any
            frame.vars[params.star_kwarg.name.value] = DictValue(tuple(kwargs.items()), complete=defaults)
            kwargs = {}
        # An arity mismatch means the call raises TypeError (or our model of it is wrong).
        return not args and not kwargs

    def super_of(self, args: list, frame) -> Value:
        """``super()`` in a method (its class and first parameter), or ``super(C, obj)``."""
        if len(args) == 2 and isinstance(args[0], ClassValue):
            return SuperRef(args[0], args[1])
        if args or not self.ip.stack:
            return UNKNOWN
        fn = self.ip.stack[-1][0]
        node = fn.node
        if fn.cls is None or not isinstance(node, cst.FunctionDef):
            return UNKNOWN
        params = list(node.params.posonly_params) + list(node.params.params)
        if not params:
            return UNKNOWN
        obj = frame.lookup(params[0].name.value)
        return SuperRef(fn.cls, obj) if obj is not None else UNKNOWN

    def super_attr(self, sup, name: str) -> Value:
        obj = sup.obj
        cls = obj.cls if isinstance(obj, Instance) else obj if isinstance(obj, ClassValue) else None
        if cls is None:
            return UNKNOWN
        order = cls.mro()
        if sup.cls not in order:
            return UNKNOWN
        for c in order[order.index(sup.cls) + 1:]:
            ns = self.ip.class_ns.get(c.node)
            if ns is not None and name in ns:
                attr = _unless_blanked(ns[name])
                if isinstance(attr, Function) and isinstance(attr.node, cst.FunctionDef) and _is_static(attr.node):
                    return attr
                return UserBound(attr, obj) if isinstance(attr, Function) else attr
        bases = [b for c in order[order.index(sup.cls):] for b in c.bases if not isinstance(b, ClassValue)]
        if all(_is_plain_base(b) for b in bases) and name == "__init__":
            return BoundMethod(obj, "__init__")  # object.__init__
        if isinstance(obj, Instance) and obj.cls.is_torch_module() and (name == "__init__" or name in MODULE_SELF_METHODS):
            return BoundMethod(obj, name)  # torch.nn.Module.__init__, .to(), .train(), ...
        return UNKNOWN

    def getattr(self, base: Value, name: str) -> Value:
        if isinstance(base, SuperRef):
            return self.super_attr(base, name)
        if isinstance(base, ModuleRef):
            resolved = self.ip.project.resolve(base.qual) if self.ip.project is not None else None
            if resolved is not None and not isinstance(resolved, ModuleRef):  # an object of another module
                return self.getattr(resolved, name)
            if name == "__name__" and resolved is None and typeof.type_name(base) is not None:
                return typeof.type_name(base)  # type(x).__name__ of a builtin type
            return ModuleRef(f"{(resolved or base).qual}.{name}")
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
        if isinstance(base, NDArray):
            return arrays.attr(base, name) if name in ("shape", "ndim", "size", "T") else BoundMethod(base, name)
        if isinstance(base, TorchObject):
            v = base.attr(name, None)
            if name in ("weight", "bias") and api.is_known(base.qual) and (v is None or v in (Const(True), Const(False))):
                # nn.Linear(..., bias=True).bias is the parameter, not the constructor's flag (bias=False: None)
                return Const(None) if v == Const(False) else Tensor(shape=None, requires_grad=True, dtype="float", leaf=True)
            if v is not None:
                return v
            return BoundMethod(base, name)
        if isinstance(base, Instance):
            if name in base.attrs:
                return base.attrs[name]
            if name == "__dict__":  # what is done with it is not followed
                base.sealed = None
                return UNKNOWN
            if is_stand_in(base):  # an argparse parser's methods; an option a namespace lacks
                return BoundMethod(base, name) if base.cls is ARGUMENT_PARSER else UNKNOWN
            attr = self.class_attr(base.cls, name)
            if isinstance(attr, Function):
                if isinstance(attr.node, cst.FunctionDef) and _is_property(attr.node):
                    return self.call_user(attr, [base], {})
                if isinstance(attr.node, cst.FunctionDef) and _is_static(attr.node):
                    return attr
                if isinstance(attr.node, cst.FunctionDef) and _is_classmethod(attr.node):
                    return UserBound(attr, base.cls)
                return UserBound(attr, base)
            if base.cls.is_torch_module() and attr in (None, UNKNOWN):
                if name in MODULE_SELF_METHODS:
                    return BoundMethod(base, name)  # .to(device), .eval(), ...: the module itself
                if name == "training":  # nn.Module.__init__ sets it; .train()/.eval() change it
                    return Number("bool") if base.generic else Const(True)
            if name in ("parameters", "named_parameters") and attr in (None, UNKNOWN) and base.cls.is_torch_module():
                return BoundMethod(base, name)  # nn.Module's own: see interp/params.py
            if attr is UNKNOWN and sealed.is_sealed(base):
                # a class attribute torchlint cannot see may be a descriptor whose code runs now, unfollowed
                # (functools.cached_property stores its value into the object's __dict__)
                sealed.moved_on()
            if attr is not None:
                return attr
            if name in MODULE_SELF_METHODS:
                return BoundMethod(base, name)
            return UNKNOWN
        if isinstance(base, ClassValue):
            if name == "__name__":  # type's own data descriptor: a class body's __name__ does not shadow it
                return typeof.type_name(base) or UNKNOWN
            attr = self.class_attr(base, name)
            if isinstance(attr, Function) and isinstance(attr.node, cst.FunctionDef) and _is_classmethod(attr.node):
                return UserBound(attr, base)
            return attr if attr is not None else UNKNOWN
        if isinstance(base, Seq) and name in base.names and base.items is not None:
            return base.items[base.names.index(name)]  # x.max(1).values
        if isinstance(base, (DictValue, Seq, Number, PyConverted, Const)):
            return BoundMethod(base, name)
        if isinstance(base, UnknownValue) and name in WHOLE_REDUCTIONS:
            return BoundMethod(base, name)  # `loss.mean()` on a loss torchlint cannot see (Calls.call_bound)
        return UNKNOWN


def _callee_name(call: cst.Call) -> str:
    f = call.func
    return f.value if isinstance(f, cst.Name) else f.attr.value if isinstance(f, cst.Attribute) else ""


def _unless_blanked(attr: Value) -> Value:
    """A class attribute, unless it is a method the partial parse left out (analysis/partial_methods.py): what
    it does is then known only to the whole file."""
    if attr is BLANKED:
        from torchlint.diagnostics import WholeFileNeeded

        raise WholeFileNeeded()
    return attr
