"""Calls: dispatch to the torch API model, Python builtins, bound methods and torch objects (layers, losses, optimizers, wrappers)."""
from __future__ import annotations

import builtins
import libcst as cst
from torchlint.analysis import api
from torchlint.analysis.api import CallEnv
from torchlint.analysis.values import (
    UNKNOWN,
    BoundMethod,
    ClassValue,
    Const,
    DictValue,
    Function,
    Instance,
    ModuleRef,
    NDArray,
    Number,
    Partial,
    Seq,
    Tensor,
    TorchObject,
    UnknownValue,
    UserBound,
    Value,
    is_number,
)
from torchlint.analysis.interp.data import CONSTRUCTORS as DATA_CONSTRUCTORS, PARSER as ARGUMENT_PARSER
from torchlint.analysis.interp.state import ENABLE_GRAD_CONTEXTS, FUNC_TRANSFORMS, MODULE_SELF_METHODS, NO_GRAD_CONTEXTS, UNROLL_LIMIT, VJP_FUNCTIONS
from torchlint.analysis.interp.state import reduces_whole
from torchlint.analysis.interp.helpers import _gather
from torchlint.analysis.interp import arrays, params, sealed, typeof


class Calls:
    """Calls of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def call_env(self, **kwargs) -> CallEnv:
        """What the API model may know about a call made here: grad mode (and what turned it off)."""
        return CallEnv(grad_enabled=self.ip.grad_enabled, grad_off=self.ip.grad_off,
                       context=self.ip.context(), **kwargs)

    def torch_call(self, qual: str, args, kwargs, node) -> Value:
        r = api.call_function(qual, list(args), dict(kwargs), self.call_env(site=node))
        return UNKNOWN if r is None else r

    def call(self, callee: Value, args: list, kwargs: dict, node) -> Value:
        if self.ip.probe is not None:
            self.ip.probe.note_call(callee)
        if isinstance(callee, ModuleRef):
            resolved = self.ip.project.resolve(callee.qual) if self.ip.project is not None else None
            if resolved is not None:  # a function, class or object of another module of the project
                return self.call(resolved, args, kwargs, node) if not isinstance(resolved, ModuleRef) \
                    else self.call_qual(resolved.qual, args, kwargs, node)
            return self.call_qual(callee.qual, args, kwargs, node)
        if isinstance(callee, Partial):
            return self.call(callee.func, list(callee.args) + list(args), {**dict(callee.kwargs), **kwargs}, node)
        if isinstance(callee, BoundMethod):
            return self.call_bound(callee, args, kwargs, node)
        if isinstance(callee, TorchObject):
            return self.call_torch_object(callee, args, kwargs, node)
        if isinstance(callee, Function):
            return self.ip.objects.call_user(callee, args, kwargs, site=node)
        if isinstance(callee, UserBound):
            return self.ip.objects.call_user(callee.func, [callee.self_value] + list(args), kwargs, site=node)
        if isinstance(callee, ClassValue):
            base = self.ip.objects.torch_base_alone(callee)
            if base is not None:  # class MyDataParallel(nn.DataParallel): pass -- it is its torch base
                return self.call_qual(base, args, kwargs, node)
            return self.ip.objects.instantiate(callee, args, kwargs)
        if isinstance(callee, Instance):
            call = self.ip.objects.class_attr(callee.cls, "__call__")
            if isinstance(call, Function):
                return self.ip.objects.call_user(call, [callee] + list(args), kwargs, site=node)
            if callee.cls.is_torch_module():
                fwd = self.ip.objects.class_attr(callee.cls, "forward")
                if isinstance(fwd, Function):
                    return self.ip.objects.call_user(fwd, [callee] + list(args), kwargs, site=node)
            return UNKNOWN
        return UNKNOWN

    def call_qual(self, qual: str, args, kwargs, node) -> Value:
        if qual in DATA_CONSTRUCTORS:
            return self.ip.data.construct(qual, args, kwargs, node)
        if qual.startswith("builtins."):
            return self.call_builtin(qual[len("builtins."):], args, kwargs, node)
        if qual.startswith("numpy."):
            return arrays.call(qual[len("numpy."):], args, kwargs)
        if qual.startswith("math."):
            return call_math(qual[len("math."):], args, kwargs)
        if qual in ("torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.data_parallel.DataParallel"):
            inner = args[0] if args else kwargs.get("module", UNKNOWN)
            return TorchObject("torch.nn.DataParallel", (("module", inner),), node=node)
        if qual in ("torch.nn.parallel.data_parallel", "torch.nn.parallel.data_parallel.data_parallel"):
            return self.call_data_parallel(args, kwargs, node)
        if qual in ("torch.nn.parallel.DistributedDataParallel", "torch.nn.DistributedDataParallel",
                    "torch.nn.parallel.distributed.DistributedDataParallel"):
            return args[0] if args else kwargs.get("module", UNKNOWN)
        if qual in CHECKPOINTS:
            return self.call_checkpoint(args, kwargs, node)
        if qual in ("torch.nn.Sequential",):
            named = ()
            if len(args) == 1 and isinstance(args[0], DictValue) and args[0].complete and args[0].exact:
                # nn.Sequential(OrderedDict(...)): its modules, in order, each also an attribute by its name
                named = tuple((k, v) for k, v in args[0].items if isinstance(k, str) and k != "children")
                args = [v for _, v in args[0].items]
            # a child torchlint cannot evaluate stays in the chain as Unknown: the layers after it still
            # give what they certainly make (see the partial rules of api/layers.py)
            if not kwargs and all(isinstance(a, (TorchObject, Instance, Function, UnknownValue)) for a in args):
                return TorchObject("torch.nn.Sequential", (("children", Seq("tuple", tuple(args))),) + named)
            return UNKNOWN
        if qual == "functools.partial" and args and not isinstance(args[0], UnknownValue):
            return Partial(args[0], tuple(args[1:]), tuple(kwargs.items()))
        if qual == "collections.OrderedDict" and not kwargs and len(args) <= 1:
            return _dict_of(args[0] if args else Seq("list", ()))
        if qual in ("torch.nn.ModuleList", "torch.nn.ParameterList"):
            params = qual == "torch.nn.ParameterList"
            src = args[0] if args else kwargs.get("values" if params else "modules")
            empty = Seq("list", (), params=params)
            if src is None:
                return empty
            if not isinstance(src, Seq):
                return Seq("list", None, UNKNOWN, params=params)
            if src.items is None:
                return Seq("list", None, empty.stored(src.elem), params=params)
            return Seq("list", tuple(empty.stored(v) for v in src.items), params=params)
        if qual == "torch.nn.ModuleDict":
            src = args[0] if args else kwargs.get("modules")
            if src is None:
                return DictValue((), complete=True)
            return src if isinstance(src, DictValue) else UNKNOWN
        if qual in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            data = args[0] if args else kwargs.get("data", UNKNOWN)
            rg = kwargs.get("requires_grad", args[1] if len(args) > 1 else Const(True))
            rgv = bool(rg.value) if isinstance(rg, Const) else None
            if isinstance(data, Tensor):
                return Tensor(shape=data.shape, numel=data.numel, requires_grad=rgv, dtype=data.dtype, leaf=True)
            return Tensor(shape=None, requires_grad=rgv, leaf=True)
        if qual in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled"):
            # As a statement it switches grad mode from here on; as a context manager
            # stmt_With restores the mode after the block.
            flag = args[0] if args else kwargs.get("mode", UNKNOWN)
            self.ip.grad_enabled = bool(flag.value) if isinstance(flag, Const) else None
            self.ip.grad_assumed = False
            if self.ip.grad_enabled is False:
                self.ip.grad_off = "after torch.set_grad_enabled(False)"
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
            if not self.ip.silent:
                self.ip.analysis.func_outputs.setdefault(node, []).append(out)
            return Seq("tuple", (UNKNOWN, UNKNOWN))
        if qual in ("torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler",
                    "torch.GradScaler"):
            return TorchObject("torch.amp.GradScaler")
        if qual.startswith("torch.") or qual == "torch":
            label_node = node.func if isinstance(node, cst.Call) else None
            if args and isinstance(args[0], UnknownValue) and reduces_whole(qual[len("torch."):], args[1:], kwargs):
                args = [Tensor(shape=None)]  # torch.sum(x) with no dimension: 0-dim if x is a tensor (as x.sum())
            r = api.call_function(qual, list(args), dict(kwargs), self.call_env(node=node, label_node=label_node, site=node))
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
            elif isinstance(seq, Tensor) and self.ip.tensors.items_of(seq) is not None:
                items = list(self.ip.tensors.items_of(seq))  # sum(t): its rows added up
            if items is None or not items:
                return start if isinstance(seq, Seq) and seq.items == () else UNKNOWN
            if all(isinstance(i, Tensor) or is_number(i) for i in items):
                total = start
                for it in items:
                    total = self.ip.exprs.binop("Add", total, it, node)
                return total
            return UNKNOWN
        if name == "str" and len(args) == 1 and not kwargs and isinstance(args[0], Const) \
                and isinstance(args[0].value, (int, float, str, type(None))) and len(repr(args[0].value)) < 100:
            return Const(str(args[0].value))
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
        if name == "iter" and len(args) == 1 and not kwargs:
            return args[0]  # iterating the iterator gives what iterating the object gives
        if name == "next" and args:
            return self.ip.tensors.element_of(args[0])
        if name == "len" and args:
            v = args[0]
            if isinstance(v, (TorchObject, Instance)):
                return self.ip.data.length(v)
            if isinstance(v, Seq) and v.items is not None:
                return Const(len(v.items))
            if isinstance(v, (Tensor, NDArray)) and v.shape:
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
                return Seq(name, (), builtin=True)
            v = args[0]
            if isinstance(v, Seq):
                return Seq(name, v.items, v.elem, builtin=True)
            if isinstance(v, Tensor) and v.shape and isinstance(v.shape[0], int) and v.shape[0] <= UNROLL_LIMIT:
                return Seq(name, tuple([self.ip.tensors.element_of(v)] * v.shape[0]), builtin=True)
            return Seq(name, None, self.ip.tensors.element_of(v), builtin=True)
        if name == "zip" and args:
            seqs = [self.ip.tensors.items_of(s) for s in args]
            if all(s is not None for s in seqs):
                n = min(len(s) for s in seqs)
                return Seq("list", tuple(Seq("tuple", tuple(s[i] for s in seqs)) for i in range(n)))
            return Seq("list", None, Seq("tuple", tuple(self.ip.tensors.element_of(s) for s in args)))
        if name == "enumerate" and args:
            v = args[0]
            items = self.ip.tensors.items_of(v)
            start = args[1] if len(args) > 1 else kwargs.get("start", Const(0))
            if items is not None and isinstance(start, Const) and type(start.value) is int:
                return Seq("list", tuple(Seq("tuple", (Const(i), it)) for i, it in enumerate(items, start.value)))
            return Seq("list", None, Seq("tuple", (Number("int"), self.ip.tensors.element_of(v))))
        if name in ("reversed", "sorted") and args:
            v = args[0]
            if isinstance(v, Seq):
                return Seq("list", None, v.element()) if v.items is None else Seq("list", tuple(reversed(v.items)) if name == "reversed" else None, v.element())
            return Seq("list", None, self.ip.tensors.element_of(v))
        if name == "iter" and len(args) == 1 and isinstance(args[0], (Seq, Tensor)):
            return args[0]
        if name == "next" and len(args) == 1 and isinstance(args[0], (Seq, Tensor)):
            if isinstance(args[0], Seq) and args[0].items == ():
                return UNKNOWN  # StopIteration
            return self.ip.tensors.element_of(args[0])
        if name == "isinstance" and len(args) == 2 and not kwargs:
            return typeof.is_instance(args[0], args[1])
        if name == "type" and len(args) == 1 and not kwargs:
            return typeof.type_of(args[0])
        if name == "hasattr" and len(args) == 2 and isinstance(args[1], Const) and isinstance(args[1].value, str):
            return sealed.has_attr(self.ip.objects, args[0], args[1].value)
        if name in ("isinstance", "issubclass", "hasattr", "callable", "all", "any"):
            return Number("bool")
        if name == "abs" and args:
            v = args[0]
            if isinstance(v, Tensor):
                return self.torch_call("torch.abs", [v], {}, node)
            if isinstance(v, NDArray):
                return v
            return v if is_number(v) else UNKNOWN
        if name in ("max", "min") and len(args) >= 2 and all(is_number(a) for a in args):
            if not kwargs and all(isinstance(a, Const) and isinstance(a.value, (int, float)) for a in args):
                return Const((min if name == "min" else max)(a.value for a in args))
            return Number(None)
        if name == "round" and args and is_number(args[0]):
            return Number("int" if len(args) == 1 else "float")
        if name == "print":
            return Const(None)
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], Const) and isinstance(args[1].value, str):
            return self.ip.objects.getattr(args[0], args[1].value)
        if name == "dict":
            if not args:  # dict(), dict(a=1)
                return DictValue(tuple(kwargs.items()))
            if len(args) == 1 and isinstance(args[0], DictValue):  # a copy, updated by the keywords
                items = tuple((k, v) for k, v in args[0].items if k not in kwargs) + tuple(kwargs.items())
                return DictValue(items, args[0].complete, args[0].exact)
            if len(args) == 1 and isinstance(args[0], Seq) and not kwargs:
                return _dict_of(args[0])  # dict(pairs)
            return DictValue((), complete=False)
        if name == "super":
            return UNKNOWN
        return UNKNOWN

    def call_bound(self, m: BoundMethod, args, kwargs, node) -> Value:
        recv = m.receiver
        name = m.name
        if name == "requires_grad_":
            params.note_freeze(self.ip, recv, args[0] if args else kwargs.get("requires_grad", Const(True)))
        if name in params.PARAM_METHODS and isinstance(recv, (TorchObject, Instance)) and not kwargs \
                and all(isinstance(a, Const) for a in args):
            return params.parameters(self.ip, recv, named=name == "named_parameters")
        if isinstance(recv, UnknownValue):
            # x.mean() with no dimension: 0-dim if x is a tensor, whatever torchlint does not know about x
            if not reduces_whole(name, args, kwargs):
                return UNKNOWN
            recv = Tensor(shape=None)
        if isinstance(recv, Tensor):
            if name in ("backward", "register_hook", "retain_grad", "zero_", "fill_", "copy_", "normal_", "uniform_"):
                if name in ("zero_", "fill_", "copy_", "normal_", "uniform_"):
                    return recv
                return Const(None)
            if name == "size":
                if not args and not kwargs:
                    return self.ip.objects.getattr(recv, "shape")
                d = args[0] if args else kwargs.get("dim", UNKNOWN)
                return self.ip.tensors.subscript(self.ip.objects.getattr(recv, "shape"), [("index", d)], node)
            if name in ("dim", "ndimension"):
                return Const(len(recv.shape)) if recv.shape is not None else Number("int")
            if name in ("numel", "nelement"):
                from torchlint.analysis.shapes import numel
                n = numel(recv.shape)
                return Const(n) if n is not None else Number("int")
            if name in ("is_floating_point", "is_complex", "is_contiguous", "equal", "allclose"):
                return Number("bool")
            label_node = node.func if isinstance(node, cst.Call) else None
            r = api.call_method(recv, name, list(args), dict(kwargs), self.call_env(label_node=label_node, site=node))
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
            if recv.cls is ARGUMENT_PARSER:
                return self.ip.data.parser_method(recv, name, list(args), dict(kwargs))
            if name == "__init__":
                return Const(None)  # object.__init__ / torch.nn.Module.__init__ through super()
            if name in ("train", "eval") and recv.cls.is_torch_module():
                mode = Const(name == "train") if not args and not kwargs else (args or list(kwargs.values()))[0]
                recv.attrs["training"] = Number("bool") if recv.generic or not isinstance(mode, Const) \
                    else Const(bool(mode.value))
            if name in MODULE_SELF_METHODS:
                return recv
            return UNKNOWN
        if isinstance(recv, NDArray):
            return arrays.method(recv, name, list(args), dict(kwargs))
        if isinstance(recv, DictValue):
            if name == "get" and args and isinstance(args[0], Const):
                if any(k == args[0].value for k, _ in recv.items):
                    return recv.get(args[0].value)
                # a key a complete dict lacks gives the default (None unless one is passed)
                default = args[1] if len(args) > 1 else Const(None)
                return default if recv.complete else UNKNOWN
            if name == "values":
                return Seq("list", tuple(v for _, v in recv.items)) if recv.complete else Seq("list", None, UNKNOWN)
            if name == "keys":
                return Seq("list", tuple(Const(k) for k, _ in recv.items)) if recv.complete else Seq("list", None, UNKNOWN)
            if name == "items":
                if recv.complete:
                    return Seq("list", tuple(Seq("tuple", (Const(k), v)) for k, v in recv.items))
            if name == "keys" and recv.complete:
                return Seq("list", tuple(Const(k) for k, _ in recv.items))
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

    def call_checkpoint(self, args, kwargs, node) -> Value:
        """``torch.utils.checkpoint.checkpoint(function, *args, use_reentrant=..., **kwargs)``: what
        ``function(*args, **kwargs)`` gives. Without ``use_reentrant=False`` (torch's default is the reentrant
        variant) the outputs require grad only when some tensor argument does: parameters used inside do not
        count, so a checkpoint of a model on data that does not require grad has outputs that do not."""
        f = args[0] if args else kwargs.get("function", UNKNOWN)
        rest = {k: v for k, v in kwargs.items() if k not in CHECKPOINT_OPTIONS}
        out = self.call(f, list(args[1:]), rest, node)
        reentrant = kwargs.get("use_reentrant", Const(None))
        if isinstance(reentrant, Const) and reentrant.value is False:
            return out
        tensors = [a for a in list(args[1:]) + list(rest.values()) if isinstance(a, Tensor)]
        known = all(isinstance(a, (Tensor, Const, Number)) for a in list(args[1:]) + list(rest.values()))
        if any(t.requires_grad for t in tensors) and self.ip.grad_enabled:
            rg = True
        elif known and all(t.requires_grad is False for t in tensors):
            rg = False
        else:
            rg = None
        return _with_grad(out, rg)

    def call_data_parallel(self, args, kwargs, node) -> Value:
        """``nn.parallel.data_parallel(module, inputs, device_ids, output_device, dim, module_kwargs)``: runs
        ``module(*inputs, **module_kwargs)`` on each GPU and gathers the outputs, like ``nn.DataParallel``."""
        names = ("module", "inputs", "device_ids", "output_device", "dim", "module_kwargs")
        bound = dict(zip(names, args))
        if len(args) > len(names) or any(k not in names or k in bound for k in kwargs):
            return UNKNOWN
        bound.update(kwargs)
        module, inputs = bound.get("module", UNKNOWN), bound.get("inputs", UNKNOWN)
        mkw = bound.get("module_kwargs", Const(None))
        dp = TorchObject("torch.nn.DataParallel", (("module", module),), node=node)
        call_args = list(inputs.items) if isinstance(inputs, Seq) and inputs.kind == "tuple" and inputs.items is not None \
            else [inputs] if isinstance(inputs, Tensor) else None
        call_kwargs = {} if isinstance(mkw, Const) and mkw.value is None else \
            dict(mkw.items) if isinstance(mkw, DictValue) and mkw.complete and all(isinstance(k, str) for k, _ in mkw.items) \
            else None
        out = UNKNOWN if call_args is None or call_kwargs is None else self.call(module, call_args, call_kwargs, node)
        label = node.args[0].value if isinstance(node, cst.Call) and node.args and not node.args[0].keyword else None
        return _gather(out, dp, label)

    def call_torch_object(self, obj: TorchObject, args, kwargs, node) -> Value:
        if obj.qual == "torch.func.grad":
            f = obj.attr("func")
            # a user function, or a torch function itself (grad(torch.sin)): what it returns for these arguments
            torch_fn = isinstance(f, ModuleRef) and f.qual.startswith("torch.")
            out = self.call(f, args, kwargs, node) if isinstance(f, (Function, UserBound)) or torch_fn else UNKNOWN
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
            if not self.ip.silent:
                self.ip.analysis.func_outputs.setdefault(node, []).append(checked)
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
        env = self.call_env(node=obj.node, site=node, label=None if isinstance(node, cst.Call) else obj.label,
                            label_node=node.func if isinstance(node, cst.Call) else obj.label_node)
        r = api.call_module(obj, list(args), dict(kwargs), env)
        return UNKNOWN if r is None else r


CHECKPOINTS = {"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint"}
CHECKPOINT_OPTIONS = {"function", "use_reentrant", "preserve_rng_state", "context_fn", "determinism_check", "debug",
                      "early_stop"}


def _with_grad(out: Value, rg) -> Value:
    """``out`` (a tensor, or a tuple or list of them) with requires_grad ``rg`` (True, False or None)."""
    if isinstance(out, Tensor):
        if rg is False:
            return out.with_(requires_grad=False, graph=frozenset(), saved=False,
                             grad_note="returned by a reentrant checkpoint whose inputs do not require grad")
        return out.with_(requires_grad=rg) if out.requires_grad != rg else out
    if isinstance(out, Seq) and out.items is not None:
        return Seq(out.kind, tuple(_with_grad(i, rg) for i in out.items))
    return out if rg is True or not isinstance(out, Seq) else UNKNOWN


# The math module on tensors: each function converts a one-element tensor to a Python number (a
# multi-element one raises ValueError first), so the result has left autograd (TL004's provenance).
MATH_FLOAT = frozenset("""acos acosh asin asinh atan atan2 atanh cbrt copysign cos cosh degrees dist erf erfc exp exp2
expm1 fabs fmod fsum gamma hypot ldexp lgamma log log10 log1p log2 pow radians remainder sin sinh sqrt tan tanh""".split())
MATH_INT = frozenset({"ceil", "floor"})
MATH_BOOL = frozenset({"isclose", "isfinite", "isinf", "isnan"})


def call_math(name: str, args, kwargs) -> Value:
    """``math.NAME(*args)``: a Python number; made from a tensor (``conv``) when an argument is one, or keeps
    the conversion of a number that was (``math.sqrt(loss.item())``)."""
    kind = "float" if name in MATH_FLOAT else "int" if name in MATH_INT else "bool" if name in MATH_BOOL else None
    if kind is None or kwargs and name != "isclose":
        return UNKNOWN
    conv = None
    for a in args:
        if isinstance(a, Tensor):
            if a.numel == "many":
                return UNKNOWN  # ValueError: only one element tensors can be converted to Python scalars
            conv = conv or f"math.{name}()"
        elif isinstance(a, Number) and a.conv:
            conv = conv or a.conv
        elif not is_number(a):
            return Number(kind) if kind == "bool" else UNKNOWN
    return Number(kind, conv=conv)


def _dict_of(pairs: Value) -> Value:
    """``OrderedDict(pairs)`` for a known list of (constant key, value) pairs; an incomplete dict otherwise."""
    if isinstance(pairs, Seq) and pairs.items is not None:
        items: list = []
        for p in pairs.items:
            if not (isinstance(p, Seq) and p.items is not None and len(p.items) == 2 and isinstance(p.items[0], Const)):
                return DictValue((), complete=False)
            items = [(k, v) for k, v in items if k != p.items[0].value] + [(p.items[0].value, p.items[1])]
        return DictValue(tuple(items))
    if isinstance(pairs, DictValue):
        return pairs
    return DictValue((), complete=False)
