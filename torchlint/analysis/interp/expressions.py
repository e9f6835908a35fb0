"""Expressions: names, literals, operators, comprehensions, lambdas and the call expression itself."""
from __future__ import annotations

import builtins
from dataclasses import replace
import libcst as cst
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
    Seq,
    Tensor,
    TorchObject,
    UnknownValue,
    Value,
    is_number,
    join,
    join_all,
)
from torchlint.analysis.interp.state import BINOPS, COMPARE_OPS, PY_BINOPS as PY_ARITHMETIC, CallEvent, Frame, UNROLL_LIMIT, \
    fold_constants
from torchlint.analysis.interp import arrays, params, sealed, typeof
from torchlint.analysis.deferred import BLANKED, BLANKED_NAME
from torchlint.analysis.interp.helpers import NO_KEY, UNROLL_BUILD, _after_inplace, _compare, _gather, _kind, _truth, dict_key


class Expressions:
    """Expressions of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip
        self._dispatch: dict = {}  # node class -> its ex_ method, or None

    def eval(self, node, frame: Frame) -> Value:
        self.ip.tick()
        kind = type(node)
        try:
            method = self._dispatch[kind]
        except KeyError:
            method = self._dispatch[kind] = getattr(self, "ex_" + kind.__name__, None)
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
        if node.value == BLANKED_NAME:  # a method the partial parse left out (analysis/partial_methods.py)
            return BLANKED
        return UNKNOWN

    def ex_Integer(self, node, frame):
        try:  # (``evaluated_value`` runs ast.literal_eval: a plain decimal literal is int() of its text)
            return Const(int(node.value) if node.value.isdigit() and node.value.isascii() else node.evaluated_value)
        except ValueError:  # over sys.get_int_max_str_digits() digits
            return Number("int")

    def ex_Float(self, node, frame):
        return Const(float(node.value) if node.value.isascii() else node.evaluated_value)

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
        return self.ip.objects.getattr(base, node.attr.value)

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
                    extra.append(self.ip.tensors.element_of(v))
            else:
                items.append(v)
        if known:
            return Seq(kind, tuple(items), builtin=True)
        return Seq(kind, None, join_all(items + extra), builtin=True)

    def ex_Dict(self, node, frame):
        items = []
        complete = True
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                k = dict_key(self.eval(el.key, frame))
                v = self.eval(el.value, frame)
                if k is not NO_KEY:
                    items = [(k2, v2) for k2, v2 in items if k2 != k] + [(k, v)]
                    continue
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
        # an element of a DataParallel output that torchlint cannot see into is one value per GPU
        left = left.as_loss() if isinstance(left, Gathered) else left
        right = right.as_loss() if isinstance(right, Gathered) else right
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            qual = BINOPS.get(op_cls)
            if qual is None:
                return UNKNOWN
            if (isinstance(left, Tensor) or is_number(left)) and (isinstance(right, Tensor) or is_number(right)):
                return self.ip.calls.torch_call(qual, [left, right], {}, node)
            return UNKNOWN
        if isinstance(left, NDArray) or isinstance(right, NDArray):
            return arrays.binop(left, right, op_cls is cst.Divide) if op_cls in PY_ARITHMETIC else UNKNOWN
        if isinstance(left, Const) and isinstance(right, Const):
            try:
                v = fold_constants(op_cls, left.value, right.value)
            except Exception:  # 1 / 0, "a" - 1, ...: what Python would raise is not ours to report
                return UNKNOWN
            return UNKNOWN if v is None else Const(v)
        if is_number(left) and is_number(right):
            kinds = {_kind(left), _kind(right)}
            # a number made from a tensor stays one: ``s = w.item() * 2; s.backward()`` (TL004)
            conv = next((v.conv for v in (left, right) if isinstance(v, Number) and v.conv), None)
            if op_cls is cst.Divide:
                return Number("float", conv=conv)
            return Number("float" if "float" in kinds else "int" if kinds == {"int"} else None, conv=conv)
        if isinstance(left, Seq) and isinstance(right, Seq) and op_cls is cst.Add:
            builtin = left.builtin and right.builtin and left.kind == right.kind
            if left.items is not None and right.items is not None:
                return Seq(left.kind, left.items + right.items, builtin=builtin)
            return Seq(left.kind, None, join(left.element(), right.element()), builtin=builtin)
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
            return self.ip.calls.torch_call("torch.neg" if op is cst.Minus else "torch.positive" if op is cst.Plus else "torch.bitwise_not", [v], {}, node)
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
        if isinstance(v, NDArray) and op in (cst.Minus, cst.Plus):
            return v
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
            op = type(comp.operator)
            present = self._in_vars(left, comp.comparator, frame) if op in (cst.In, cst.NotIn) else None
            if present is not None:  # 'config' in vars(self) on an object whose attribute names are known
                result = left = Const(present is (op is cst.In))
                continue
            right = self.eval(comp.comparator, frame)
            is_none = _none_test(left, right) if op in (cst.Is, cst.IsNot) else None
            same = typeof.same_type(op, left, right) if is_none is None else None
            if is_none is not None:
                result = Const(is_none is (op is cst.Is))
            elif same is not None:  # type(x) is int
                result = Const(same)
            elif op in (cst.In, cst.NotIn) and isinstance(right, DictValue) and right.complete \
                    and dict_key(left) is not NO_KEY:  # `k in d` on a dict whose keys are all known
                present = any(k == dict_key(left) for k, _ in right.items)
                result = Const(present is (op is cst.In))
            elif op in (cst.In, cst.NotIn) and isinstance(left, Const) and isinstance(right, Seq) \
                    and right.items is not None and all(isinstance(i, Const) for i in right.items):
                # `self.gan_mode in ['lsgan', 'vanilla']`: a constant among a list or tuple of constants
                present = left.value in [i.value for i in right.items]
                result = Const(present is (op is cst.In))
            elif isinstance(left, Tensor) or isinstance(right, Tensor):
                qual = COMPARE_OPS.get(op)
                result = self.ip.calls.torch_call(qual, [left, right], {}, node) if qual else Number("bool")
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
        self.ip.stmts.assign(node.target, v, frame)
        return v

    def ex_Yield(self, node, frame):
        if self.ip.generator_flags:
            self.ip.generator_flags[-1] = True
        if node.value is not None:
            v = node.value
            self.eval(v.item if isinstance(v, cst.From) else v, frame)
        return UNKNOWN

    def ex_Await(self, node, frame):
        self.eval(node.expression, frame)
        return UNKNOWN

    def ex_Lambda(self, node, frame):
        fn = Function(node, frame, "<lambda>")
        self.ip.pending.append(fn)
        return fn

    def ex_Subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        base = self.eval(node.value, frame)
        return self.ip.tensors.subscript(base, self.index_of(node, frame), node)

    def index_of(self, node: cst.Subscript, frame: Frame) -> list:
        """The evaluated index of ``node``: [("index"|"star", value) or ("slice", (lower, upper, step))]."""
        index = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                v = self.eval(s.value, frame)
                index.append(("star", v) if s.star else ("index", v))
            else:
                parts = tuple(self.eval(p, frame) if p is not None else Const(None) for p in (s.lower, s.upper, s.step))
                index.append(("slice", parts))
        return index

    def _comprehension(self, node, frame: Frame, kind: str) -> Value:
        f = self.ip.new_frame(frame, "comp")
        values = self._comp_values(node.for_in, f, node.elt if kind != "dict" else (node.key, node.value))
        if kind == "dict":
            # {name: nn.Linear(8, 1) for name in tasks} over a known list of names: a dict of known keys
            if values is None or not values[1] or not all(isinstance(k, Const) for k, _ in values[0]):
                return DictValue((), complete=False)
            out: dict = {}
            for k, v in values[0]:
                try:
                    out[k.value] = v
                except TypeError:
                    return DictValue((), complete=False)
            return DictValue(tuple(out.items()), complete=True)
        if values is None:
            return Seq(kind, None, UNKNOWN)
        items, known = values
        if known:
            return Seq(kind, tuple(items))
        return Seq(kind, None, join_all(items))

    def _comp_values(self, comp_for, frame: Frame, elt):
        iterable = self.eval(comp_for.iter, frame)
        items = self.ip.tensors.items_of(iterable)  # a list's items, a tensor's or an array's rows
        if items is not None and len(items) <= UNROLL_LIMIT:
            elements = list(items)
            known = True
        else:
            elements = [self.ip.tensors.element_of(iterable)]
            known = False
        out = []
        for e in elements:
            sub = self.ip.new_frame(frame, "comp")
            self.ip.stmts.assign(comp_for.target, e, sub)
            truths = []
            for cond in comp_for.ifs:
                truths.append(_truth(self.eval(cond.test, sub)))
                if truths[-1] is False:
                    break
            if False in truths:
                continue  # a condition known false leaves this element out
            if None in truths:
                known = False
            if comp_for.inner_for_in is not None:
                inner = self._comp_values(comp_for.inner_for_in, sub, elt)
                if inner is None:
                    return None
                items, inner_known = inner
                out.extend(items)
                known = known and inner_known
            elif isinstance(elt, tuple):  # a dict comprehension's key and value
                out.append((self.eval(elt[0], sub), self.eval(elt[1], sub)))
            elif elt is not None:
                out.append(self.eval(elt, sub))
        return out, known

    def ex_ListComp(self, node, frame):
        v = self._comprehension(node, frame, "list")
        return replace(v, builtin=True) if isinstance(v, Seq) and v.kind == "list" else v

    def ex_GeneratorExp(self, node, frame):
        return self._comprehension(node, frame, "list")

    def ex_SetComp(self, node, frame):
        self._comprehension(node, frame, "list")
        return UNKNOWN

    def ex_DictComp(self, node, frame):
        return self._comprehension(node, frame, "dict")

    def ex_Call(self, node: cst.Call, frame: Frame) -> Value:
        func = node.func
        attr_call = type(func) is cst.Attribute  # (exact node types: isinstance on LibCST's ABCs is slow)
        callee = self.eval(func, frame)
        args, kwargs, star = self.eval_args(node.args, frame)
        # list mutation: xs.append(v), and self.xs.append(v) on an object of the file's classes
        owner = None
        if attr_call and type(func.value) is cst.Attribute and type(func.value.value) is cst.Name \
                and isinstance(callee, BoundMethod) and isinstance(callee.receiver, Seq):
            owner = frame.lookup(func.value.value.value)
            if not isinstance(owner, Instance) or owner.attrs.get(func.value.attr.value) is not callee.receiver:
                owner = None
        if attr_call and (type(func.value) is cst.Name or owner is not None) \
                and isinstance(callee, BoundMethod) and isinstance(callee.receiver, Seq) and callee.receiver.kind == "list":
            name = func.attr.value
            seq = callee.receiver
            new = None
            if name == "append" and args and not star:
                item = seq.stored(args[0])
                # an object's list outlives the call: a loop around any caller may append to it again (a loop
                # unrolled over a known list appends once per item, in order: the list stays exact)
                looping = self.ip.in_loop > self.ip.unrolled or (owner is not None and self.ip.outer_loops)
                limit = UNROLL_BUILD if self.ip.unrolled else UNROLL_LIMIT  # an unrolled loop bounds its appends
                new = Seq("list", seq.items + (item,), params=seq.params, builtin=seq.builtin) \
                    if seq.items is not None and not looping and len(seq.items) < limit \
                    else seq.grown(item)
            elif name == "extend" and args:
                new = seq.grown(seq.stored(self.ip.tensors.element_of(args[0])))
            if new is not None:
                if owner is not None:
                    owner.attrs[func.value.attr.value] = new
                else:
                    frame.vars[func.value.value] = new
                return Const(None)
        popped = self._dict_pop(func, callee, args, kwargs, star, frame)
        if popped is not None:
            return popped
        if attr_call and type(func.value) is cst.Name and func.attr.value == "update" \
                and isinstance(callee, BoundMethod) and isinstance(callee.receiver, DictValue) and not star \
                and frame.lookup(func.value.value) is callee.receiver:
            new = _updated(callee.receiver, args, kwargs)
            if new is not None:  # d.update(other): the entries of other replace or join those of d
                frame.vars[func.value.value] = new
                return Const(None)
        if star:
            result = UNKNOWN
            if isinstance(callee, TorchObject) and callee.qual == "torch.nn.DataParallel" \
                    and isinstance(callee.attr("module"), UnknownValue):
                # model(**batch) on a wrapped module torchlint cannot see: the arguments do not matter
                result = _gather(UNKNOWN, callee, node.func)
        elif isinstance(callee, ModuleRef) and callee.qual == "builtins.super" and not kwargs:
            result = self.ip.objects.super_of(args, frame)
        else:
            result = self.ip.calls.call(callee, args, kwargs, node)
        # m.requires_grad_(False) on a module freezes every parameter of it (interp/params.py)
        if isinstance(callee, BoundMethod) and callee.name == "requires_grad_" and attr_call \
                and isinstance(callee.receiver, (TorchObject, Instance)) and not star \
                and (args or list(kwargs.values())) == [Const(False)] and params.can_freeze(self.ip):
            result = params.freeze(callee.receiver)
            self.ip.heap.store_back(func.value, result, frame)
        # In-place tensor methods (x.requires_grad_(), x.add_(y), x.zero_()) change x itself.
        if isinstance(callee, BoundMethod) and isinstance(callee.receiver, Tensor) and callee.name.endswith("_") \
                and not callee.name.startswith("_") and attr_call and type(func.value) is cst.Name:
            name = func.value.value
            if frame.lookup(name) is callee.receiver:
                if callee.name in ("requires_grad_", "detach_"):  # they set requires_grad themselves
                    frame.vars[name] = result if isinstance(result, Tensor) else Tensor(shape=callee.receiver.shape)
                else:
                    frame.vars[name] = _after_inplace(callee.receiver, result, self.ip.grad_enabled)
        sealed.after_call(callee, args, kwargs, star)
        if not self.ip.silent:
            ev = CallEvent(callee, tuple(args), dict(kwargs), result, self.ip.grad_enabled,
                           tuple((fn.qual, n) for fn, n in self.ip.stack), self.ip.in_loop > 0, not self.ip.grad_assumed)
            self.ip.analysis.calls.setdefault(node, []).append(ev)
        return result

    def _in_vars(self, key: Value, node, frame):
        """``key in vars(obj)``: True or False when ``obj`` is sealed (interp/sealed.py), else None (and then
        ``vars(obj)`` is evaluated as any call)."""
        if not (isinstance(node, cst.Call) and len(node.args) == 1 and not node.args[0].star
                and node.args[0].keyword is None and isinstance(key, Const) and isinstance(key.value, str)):
            return None
        if self.ip.objects.eval_quiet(node.func, frame) != ModuleRef("builtins.vars"):
            return None
        return sealed.has_key(self.ip.objects.eval_quiet(node.args[0].value, frame), key.value)

    def _dict_pop(self, func, callee, args, kwargs, star, frame):
        """``d.pop(k)`` / ``d.pop(k, default)`` with a known key on a dict a local name holds (``kwargs.pop("x", 1)``):
        the key's value, or the default where a complete dict lacks it; the name then holds the dict without the
        key. None when not that case."""
        if not (type(func) is cst.Attribute and func.attr.value == "pop" and type(func.value) is cst.Name
                and isinstance(callee, BoundMethod) and isinstance(callee.receiver, DictValue) and not star
                and not kwargs and 1 <= len(args) <= 2 and func.value.value in frame.vars):
            return None
        d, key = callee.receiver, dict_key(args[0])
        if key is NO_KEY:
            return None
        if any(k == key for k, _ in d.items):
            frame.vars[func.value.value] = DictValue(tuple((k, v) for k, v in d.items if k != key), d.complete, d.exact)
            return d.get(key)
        return args[1] if len(args) == 2 and d.complete else UNKNOWN  # (a complete dict without it: KeyError)

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


def _none_test(a: Value, b: Value):
    """``a is None`` when one side is None and the other a value known to be None or known not to be
    (a tensor, an object, a container, a number); None when that is not known."""
    if isinstance(b, Const) and b.value is None:
        a, b = b, a
    if not (isinstance(a, Const) and a.value is None):
        return None
    if isinstance(b, Const):
        return b.value is None
    if isinstance(b, Tensor) and b.maybe_none:
        return None
    if isinstance(b, (Tensor, NDArray, Instance, TorchObject, Seq, DictValue, Function, ClassValue, Number, ModuleRef)):
        return False
    return None


def _updated(d: DictValue, args, kwargs):
    """``d`` after ``d.update(other)`` / ``d.update(k=v)`` when every new entry is known; None otherwise."""
    if len(args) > 1 or (args and not isinstance(args[0], DictValue)):
        return None
    new = list(args[0].items) if args else []
    new += [(k, v) for k, v in kwargs.items()]
    keys = {k for k, _ in new}
    other_complete = args[0].complete if args else True
    other_exact = args[0].exact if args else True
    return DictValue(tuple((k, v) for k, v in d.items if k not in keys) + tuple(new),
                     complete=d.complete and other_complete, exact=d.exact and other_exact)
