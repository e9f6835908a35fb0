"""Statements: running a block, dispatching each statement, and the statements that bind or unbind names:
expressions, assignment (to names, attributes, items; unpacking), ``return``/``raise``/``break``/``continue``,
imports, ``del``, ``def`` and ``class``.

The compound statements that choose or repeat what runs (``if``, loops, ``try``, ``with``, ``match``) are
interp/flow.py's (``ip.flow``); :meth:`Statements.exec_stmt` dispatches to them by node type.
"""
from __future__ import annotations

from dataclasses import replace
import libcst as cst
from torchlint.analysis.cstwalk import dotted
from torchlint.analysis.values import (
    UNKNOWN,
    ClassValue,
    Const,
    DictValue,
    Function,
    Instance,
    ModuleRef,
    Seq,
    Tensor,
    TorchObject,
    Value,
    is_number,
    join,
)
from torchlint.analysis.interp.state import Frame, TRANSPARENT_DECORATORS, UNROLL_LIMIT
from torchlint.analysis.interp.helpers import NO_KEY, _after_inplace, _callable_qual, _name_of, grad_into, grad_state
from torchlint.analysis.cstwalk import walk
from torchlint.analysis.interp import params, sealed
from torchlint.analysis.interp.tensors import subscript_key

_MISSING = object()


class Statements:
    """Statements of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip
        self._dispatch: dict = {}  # statement node class -> the method that runs it (None: nothing to run)

    def exec_block(self, body, frame: Frame) -> bool:
        """Execute statements; return False when every path left the block (return/raise/break)."""
        if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            body = body.body
        for stmt in body:
            if not self.exec_stmt(stmt, frame):
                return False
        return True

    def exec_stmt(self, stmt, frame: Frame) -> bool:
        self.ip.tick()
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in stmt.body:
                if not self.exec_small(small, frame):
                    return False
            return True
        # (by exact type, cached per node class: isinstance on LibCST's ABCs is slow, and its concrete node classes
        # have no subclasses)
        method = self._dispatch.get(kind, _MISSING)
        if method is _MISSING:
            method = self._dispatch[kind] = self._method_for(kind)
        if method is None:
            return True
        return method(stmt, frame)

    def _method_for(self, kind):
        """What runs a statement of node class ``kind``: a compound statement's ``stmt_*`` method (interp/flow.py's
        for control flow, this component's for ``def`` and ``class``), ``exec_small`` for a small statement (the
        body of a one-line suite), or None (nothing to run)."""
        if issubclass(kind, cst.BaseSmallStatement):
            return self.exec_small
        name = "stmt_" + kind.__name__
        return getattr(self.ip.flow, name, None) or getattr(self, name, None)

    def exec_small(self, s, frame: Frame) -> bool:
        kind = type(s)
        if kind is cst.Expr:
            self.ip.exprs.eval(s.value, frame)
        elif kind is cst.Assign:
            value = self.ip.exprs.eval(s.value, frame)
            for t in s.targets:
                self.assign(t.target, value, frame)
        elif kind is cst.AnnAssign:
            if s.value is not None:
                self.assign(s.target, self.ip.exprs.eval(s.value, frame), frame)
        elif kind is cst.AugAssign:
            current = self.ip.exprs.eval(s.target, frame)
            value = self.ip.exprs.binop(type(s.operator).__name__.replace("Assign", ""), current, self.ip.exprs.eval(s.value, frame), s)
            if isinstance(current, Tensor):
                # x += y changes x in place: it stays the same tensor (x[i] += y: the tensor x is written into)
                if not self.ip.silent:
                    base = self._written_base(s.target, frame)
                    written = base if isinstance(base, Tensor) else current
                    self.ip.analysis.inplace.setdefault(s, []).append((written, self.ip._known_grad()))
                value = _after_inplace(current, value, self.ip.grad_enabled)
            self.assign(s.target, value, frame)
        elif kind is cst.Return:
            value = self.ip.exprs.eval(s.value, frame) if s.value is not None else Const(None)
            if not self.ip.silent:
                self.ip.analysis.returns.setdefault(s, []).append(value)
            if self.ip.returns:
                self.ip.returns[-1].append(value)
                self.ip.exit_grads[-1].append(grad_state(self.ip))
            return False
        elif kind is cst.Raise:
            if self.ip.probe is not None:
                self.ip.probe.failed = True
            if s.exc is not None:
                self.ip.exprs.eval(s.exc, frame)
            return False
        elif kind is cst.Break:
            if self.ip.loop_stack:
                grad_into(self.ip, frame.vars)
                self.ip.loop_stack[-1][0].append(dict(frame.vars))
            return False
        elif kind is cst.Continue:
            if self.ip.loop_stack:
                grad_into(self.ip, frame.vars)
                self.ip.loop_stack[-1][1].append(dict(frame.vars))
            return False
        elif kind is cst.Import:
            for alias in s.names:
                full = dotted(alias.name)
                if alias.asname is not None:
                    frame.vars[_name_of(alias.asname.name)] = ModuleRef(full)
                else:
                    top = full.split(".")[0]
                    frame.vars[top] = ModuleRef(top)
        elif kind is cst.ImportFrom:
            self.exec_import_from(s, frame)
        elif kind is cst.Assert:
            self.ip.exprs.eval(s.test, frame)
        elif kind is cst.Del:
            self.delete(s.target, frame)
        return True

    def exec_import_from(self, s: cst.ImportFrom, frame: Frame):
        if s.relative or s.module is None:
            base = None
            if self.ip.project is not None:  # from .model import Net: resolved inside the project
                base = self.ip.project.import_base(frame, len(s.relative), dotted(s.module) if s.module else None)
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
        elif isinstance(target, cst.Attribute):
            base = self.ip.exprs.eval(target.value, frame)
            if isinstance(base, Instance):
                base.attrs.pop(target.attr.value, None)
            elif not isinstance(base, (Tensor, TorchObject, ModuleRef)):
                sealed.moved_on()

    def stmt_FunctionDef(self, stmt: cst.FunctionDef, frame: Frame) -> bool:
        cls = frame.cls if frame.kind == "class" else None
        qual = stmt.name.value if cls is None else f"{cls.name}.{stmt.name.value}"
        fn = Function(stmt, frame, qual, cls)
        self.ip.pending.append(fn)
        self.ip.analysis.functions.append(stmt)
        value: Value = fn
        for dec in stmt.decorators:
            d = self.ip.exprs.eval(dec.decorator, frame)
            dq = _callable_qual(d)
            if dq is None or (dq not in TRANSPARENT_DECORATORS and dq.split(".")[-1] not in TRANSPARENT_DECORATORS):
                value = UNKNOWN
        frame.vars[stmt.name.value] = value
        return True

    def stmt_ClassDef(self, stmt: cst.ClassDef, frame: Frame) -> bool:
        bases = tuple(self.ip.exprs.eval(b.value, frame) for b in stmt.bases)
        cls = ClassValue(stmt, frame, stmt.name.value, bases)
        body_frame = self.ip.new_frame(frame, "class", cls)
        self.exec_block(stmt.body, body_frame)
        self.ip.class_ns[stmt] = body_frame.vars
        frame.vars[stmt.name.value] = cls
        return True

    def assign(self, target, value: Value, frame: Frame):
        if isinstance(target, cst.Name):
            frame.vars[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            self.unpack(target.elements, value, frame)
        elif isinstance(target, cst.Attribute):
            base = self.ip.exprs.eval(target.value, frame)
            if target.attr.value == "requires_grad":  # freezing a parameter (interp/params.py)
                params.note_freeze(self.ip, base, value)
            if isinstance(base, Tensor) and isinstance(target.value, cst.Name):
                if not self.ip.silent:
                    self.ip.analysis.attr_stores.setdefault(target, []).append((base, value))
                # x.requires_grad = True / x.grad = None / x.data = ...: the tensor x changes
                if target.attr.value == "requires_grad":
                    rg = bool(value.value) if isinstance(value, Const) else None
                    frame.vars[target.value.value] = replace(base, requires_grad=rg, grad_note=None)
                elif target.attr.value == "data":
                    frame.vars[target.value.value] = replace(base, shape=None, numel=None) \
                        if not isinstance(value, Tensor) else replace(base, shape=value.shape, numel=value.numel)
                return
            if isinstance(base, Instance):
                self.ip.heap.store(base, target.attr.value, value, target)
            elif not isinstance(base, (TorchObject, ModuleRef)):
                sealed.moved_on()  # perhaps an object of the file's classes torchlint lost track of
        elif isinstance(target, cst.Subscript):
            self.assign_item(target, value, frame)
        elif isinstance(target, cst.StarredElement):
            self.assign(target.value, Seq("list", None, UNKNOWN), frame)

    def _written_base(self, target, frame: Frame):
        """The tensor that ``x[i] op= v`` writes into: what the subscripted name or attribute chain holds
        (``w`` of ``w[i]``, ``layers[k].weight`` of ``layers[k].weight[:, j]``); None when the chain holds a
        call, whose evaluation could repeat side effects."""
        if not isinstance(target, cst.Subscript):
            return None
        if isinstance(target.value, cst.Name):
            return frame.lookup(target.value.value)
        if any(isinstance(n, (cst.Call, cst.NamedExpr, cst.Await, cst.Yield, cst.Lambda)) for n in walk(target.value)):
            return None
        return self.ip.exprs.eval(target.value, frame)

    def assign_item(self, target: cst.Subscript, value: Value, frame: Frame):
        """``c[k] = value``: a tensor written in place, or the new contents of a dict or list held by a name or
        by an attribute of an object of the file's classes (``self.models["encoder"] = Net()``)."""
        owner = None
        if isinstance(target.value, cst.Name):
            base = frame.lookup(target.value.value)
        elif isinstance(target.value, cst.Attribute):
            owner = self.ip.exprs.eval(target.value.value, frame)
            base = self.ip.objects.getattr(owner, target.value.attr.value)
        else:  # a[i][j] = v, f()[k] = v: written into an object no name holds here
            base = self.ip.exprs.eval(target.value, frame)
            owner = UNKNOWN
        if not self.ip.silent:  # what was written into, for the aliasing facts (semantic/aliasing.py)
            self.ip.analysis.item_stores.setdefault(target, []).append(
                (base if base is not None else UNKNOWN, self.ip.generic > 0))
        if owner is not None and isinstance(target.value, cst.Attribute) and isinstance(base, Tensor):
            # layer.weight[i] = v writes into the tensor an attribute holds (what it holds stays that tensor)
            if not self.ip.silent:
                self.ip.analysis.inplace.setdefault(target, []).append((base, self.ip._known_grad()))
            return
        if owner is not None and not (isinstance(owner, Instance) and isinstance(base, (DictValue, Seq))):
            return
        if isinstance(base, Tensor):
            # x[i] = v writes into x in place
            if not self.ip.silent:
                self.ip.analysis.inplace.setdefault(target, []).append((base, self.ip._known_grad()))
            written = value if isinstance(value, Tensor) else \
                Tensor(shape=None, requires_grad=False if is_number(value) else None)
            frame.vars[target.value.value] = _after_inplace(base, written, self.ip.grad_enabled)
            return
        if isinstance(base, DictValue):
            key = subscript_key(self.ip.exprs.index_of(target, frame))
            if key is not NO_KEY:
                new = DictValue(tuple((k, v) for k, v in base.items if k != key) + ((key, value),), base.complete,
                                base.exact)
            else:  # some key, perhaps a new one: every value may now be this one
                new = DictValue(tuple((k, join(v, value)) for k, v in base.items), complete=False, exact=False)
        elif isinstance(base, Seq) and base.kind == "list":
            index = self.ip.exprs.index_of(target, frame)
            i = index[0][1] if len(index) == 1 and index[0][0] == "index" else None
            if isinstance(i, Const) and type(i.value) is int and base.items is not None \
                    and -len(base.items) <= i.value < len(base.items):  # hx[0] = cell(x, hx[0]): that item only
                items = list(base.items)
                items[i.value] = base.stored(value)
                new = Seq("list", tuple(items), params=base.params)
            else:
                new = Seq("list", None, join(base.element(), base.stored(value)), params=base.params)
        else:
            return
        if owner is None:
            frame.vars[target.value.value] = new
        else:
            name = target.value.attr.value
            # (base may be the class's attribute: self.d[k] = v on a class-level dict has no instance value yet)
            owner.attrs[name] = new if owner in self.ip.constructing else join(owner.attrs.get(name, base), new)

    def unpack(self, elements, value: Value, frame: Frame):
        targets = [e.value if not isinstance(e, cst.StarredElement) else e for e in elements]
        star = next((i for i, e in enumerate(elements) if isinstance(e, cst.StarredElement)), None)
        items = None
        if isinstance(value, Seq) and value.items is not None:
            items = list(value.items)
        elif isinstance(value, Tensor) and value.shape and isinstance(value.shape[0], int) and value.shape[0] <= UNROLL_LIMIT:
            items = [self.ip.tensors.element_of(value)] * value.shape[0]
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
        elem = self.ip.tensors.element_of(value) if not isinstance(value, Seq) or value.items is None else UNKNOWN
        for i, t in enumerate(targets):
            if i == star:
                self.assign(elements[i].value, Seq("list", None, elem), frame)
            else:
                self.assign(t, elem, frame)

