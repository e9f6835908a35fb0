"""Statements: blocks, assignment and unpacking, branches, loops to a fixed point, try/with/match, def and class."""
from __future__ import annotations

from dataclasses import replace
from typing import Optional
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
from torchlint.analysis.interp.state import Frame, MAX_LOOP_ITERATIONS, TRANSPARENT_DECORATORS, UNROLL_LIMIT
from torchlint.analysis.interp.helpers import GRAD_KEY
from torchlint.analysis.interp.helpers import (NO_KEY, _after_inplace, _callable_qual, _grad_mode_of, _grad_off_label, _name_of,
                                               _truth, grad_from, grad_into, grad_state, join_vars, vars_equal, widen)
from torchlint.analysis.interp.helpers import previous_iteration, _unmark, _unrollable
from torchlint.analysis.cstwalk import walk
from torchlint.analysis.interp import params, sealed
from torchlint.analysis.interp.data import is_stand_in
from torchlint.analysis.interp.tensors import subscript_key

_MISSING = object()


class Statements:
    """Statements of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip
        self._made: dict = {}  # id(loop) -> ids of the nodes of its body and target
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
            method = self._dispatch[kind] = self.exec_small if issubclass(kind, cst.BaseSmallStatement) else \
                getattr(self, "stmt_" + kind.__name__, None)  # (a small statement: the body of a one-line suite)
        if method is None:
            return True
        return method(stmt, frame)

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

    def _run_branch(self, frame: Frame, body, start: dict) -> Optional[dict]:
        saved = frame.vars
        frame.vars = dict(start)
        grad_from(self.ip, start, pop=False)
        try:
            live = self.exec_block(body, frame)
            return frame.vars if live else None
        finally:
            out_vars = frame.vars
            grad_into(self.ip, out_vars)
            frame.vars = saved
            self._last_vars = out_vars

    def stmt_If(self, stmt: cst.If, frame: Frame) -> bool:
        test = self.ip.exprs.eval(stmt.test, frame)
        grad_into(self.ip, frame.vars)
        start = frame.vars
        outs = []
        truth = _truth(test)
        self.ip.analysis.branches.setdefault(stmt, {}).setdefault(self.ip.context(), set()).add(truth)
        self.ip.conditional += truth is None
        try:
            return self._if_branches(stmt, frame, start, truth, outs)
        finally:
            self.ip.conditional -= truth is None

    def _if_branches(self, stmt: cst.If, frame: Frame, start: dict, truth, outs: list) -> bool:
        runs = []
        if truth is not False:
            runs.append(lambda: self._run_branch(frame, stmt.body, start))
        if truth is not True:
            runs.append(lambda: self._else_branch(stmt, frame, start))
        # the sides of an undecided test each start from the objects' state before it (interp/heap.py)
        outs.extend(self.ip.heap.alternatives(runs) if len(runs) > 1 else [runs[0]()])
        return self._merge(frame, outs)

    def _else_branch(self, stmt: cst.If, frame: Frame, start: dict) -> Optional[dict]:
        if stmt.orelse is None:
            return dict(start)
        if isinstance(stmt.orelse, cst.If):
            saved = frame.vars
            frame.vars = dict(start)
            grad_from(self.ip, start, pop=False)
            live = self.stmt_If(stmt.orelse, frame)
            grad_into(self.ip, frame.vars)
            out = frame.vars if live else None
            frame.vars = saved
            return out
        return self._run_branch(frame, stmt.orelse.body, start)

    def _merge(self, frame: Frame, outs: list) -> bool:
        live = [o for o in outs if o is not None]
        if not live:
            frame.vars.pop(GRAD_KEY, None)
            return False
        frame.vars = join_vars(live)
        grad_from(self.ip, frame.vars)
        return True

    def stmt_For(self, stmt: cst.For, frame: Frame) -> bool:
        iterable = self.ip.exprs.eval(stmt.iter, frame)
        if isinstance(iterable, DictValue) and iterable.complete:  # for key in batch: its keys
            iterable = Seq("list", tuple(Const(k) for k, _ in iterable.items))
        if _unrollable(stmt, iterable) or (self.ip.constructing and _unrollable(stmt, iterable, any_items=True)):
            # `for block in self.blocks: x = block(x)`: each module in turn, not their join
            self.ip.in_loop += 1
            self.ip.unrolled += 1
            try:
                for item in iterable.items:
                    self.assign(stmt.target, item, frame)
                    self.exec_block(stmt.body, frame)
            finally:
                self.ip.in_loop -= 1
                self.ip.unrolled -= 1
            return True
        started = self.ip.iterators.start(iterable, stmt.target) \
            if isinstance(iterable, Instance) and not is_stand_in(iterable) else None
        if started is not None:
            # an object of the file's classes with __iter__/__next__: each iteration gets what __next__ returns
            least = 1 if self.ip.iterators.first_returns(iterable) else 0
            trips = self.ip.analysis.least_trips.setdefault(stmt, {})
            context = self.ip.context()
            trips[context] = min(trips.get(context, least), least)

            def bind(f):
                self.assign(stmt.target, self.ip.iterators.next(*started, stmt.target), f)

            return self._loop(stmt, frame, bind, may_skip=True)
        elem = self.ip.tensors.element_of(iterable)
        known_empty = isinstance(iterable, Seq) and iterable.items == ()

        def bind(f):
            self.assign(stmt.target, elem, f)

        live = self._loop(stmt, frame, bind, may_skip=True, body_runs=not known_empty)
        module = params.freezes_all(stmt)
        if module is not None and live and params.can_freeze(self.ip):
            self.ip.heap.store_back(module, params.freeze(self.ip.objects.eval_quiet(module, frame)), frame)
        return live

    def stmt_While(self, stmt: cst.While, frame: Frame) -> bool:
        def bind(f):
            self.ip.exprs.eval(stmt.test, f)

        test = self.ip.exprs.eval(stmt.test, frame)
        forever = _truth(test) is True
        return self._loop(stmt, frame, bind, may_skip=not forever, body_runs=_truth(test) is not False)

    def _loop(self, stmt, frame: Frame, bind, may_skip: bool, body_runs: bool = True) -> bool:
        if not body_runs:
            if stmt.orelse is not None:
                return self.exec_block(stmt.orelse.body, frame)
            return True
        grad_into(self.ip, frame.vars)
        trail = self.ip.heap.open_loop()  # the objects' attributes go round the loop too (interp/heap.py)
        try:
            return self._loop_trail(stmt, frame, bind, may_skip, trail)
        finally:
            self.ip.heap.close_loop(trail)

    def _loop_trail(self, stmt, frame: Frame, bind, may_skip: bool, trail) -> bool:
        head = dict(frame.vars)
        self.ip.silent += 1
        self.ip.in_loop += 1
        self.ip.conditional += 1  # how many times the body runs, and how far, is not known
        try:
            for i in range(MAX_LOOP_ITERATIONS):
                out, breaks, continues = self._loop_body(stmt, frame, head, bind)
                back = [o for o in [out] + continues if o is not None]  # what the next iteration starts from
                ends = [head] + back
                new_head = join_vars(ends, head=True)
                last = i >= MAX_LOOP_ITERATIONS - 2
                if last:
                    new_head = widen(head, new_head)
                moved = self.ip.heap.loop_head(trail, widen=last)
                if vars_equal(new_head, head) and not moved:
                    break
                head = new_head
            else:
                back = []  # no fixed point before widening: nothing is known of the back edge
        finally:
            self.ip.silent -= 1
        made = self._made_in(stmt)
        context = self.ip.context()
        # the body starts from what earlier iterations made (the exits below keep the head as it is), where
        # every iteration certainly leaves a tensor (it may be None before the first one only)
        start = {k: previous_iteration(v, made, context, stmt) if back and all(
            isinstance(b.get(k), Tensor) and not b[k].maybe_none for b in back) else v for k, v in head.items()}
        try:
            out, breaks, continues = self._loop_body(stmt, frame, start, bind)
        finally:
            self.ip.in_loop -= 1
            self.ip.conditional -= 1
        # after the loop, which iteration made a node no longer matters
        out, breaks, continues = (None if out is None else _unmark(out, stmt), [_unmark(b, stmt) for b in breaks],
                                  [_unmark(c, stmt) for c in continues])
        exits = [head] if may_skip else []
        exits += [o for o in [out] + continues if o is not None and may_skip]
        if stmt.orelse is not None and exits:
            frame.vars = join_vars(exits)
            grad_from(self.ip, frame.vars, pop=False)
            live = self.exec_block(stmt.orelse.body, frame)
            grad_into(self.ip, frame.vars)
            exits = [frame.vars] if live else []
        exits += breaks
        if not exits:
            frame.vars.pop(GRAD_KEY, None)
            return False
        frame.vars = join_vars(exits)
        grad_from(self.ip, frame.vars)
        return True

    def _made_in(self, loop) -> set:
        """Ids of the nodes of a loop's body and target (what makes a new graph node each iteration)."""
        got = self._made.get(id(loop))
        if got is None:
            parts = [loop.body] + ([loop.target] if isinstance(loop, cst.For) else [])
            got = self._made[id(loop)] = {id(n) for p in parts for n in walk(p)}
        return got

    def _loop_body(self, stmt, frame: Frame, head: dict, bind):
        breaks: list = []
        continues: list = []
        self.ip.loop_stack.append((breaks, continues))
        saved = frame.vars
        frame.vars = dict(head)
        grad_from(self.ip, head, pop=False)
        try:
            bind(frame)
            live = self.exec_block(stmt.body, frame)
            grad_into(self.ip, frame.vars)
            out = frame.vars if live else None
        finally:
            frame.vars = saved
            self.ip.loop_stack.pop()
        return out, breaks, continues

    def stmt_Try(self, stmt, frame: Frame) -> bool:
        self.ip.conditional += 1  # the body may stop anywhere; a handler may run or not
        try:
            return self._try(stmt, frame)
        finally:
            self.ip.conditional -= 1
            if stmt.handlers:  # a handler runs after stores of the body that may not all have happened
                sealed.moved_on()

    def _try(self, stmt, frame: Frame) -> bool:
        grad_into(self.ip, frame.vars)
        start = dict(frame.vars)
        marks = self._jump_marks()
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
            after = self._last_vars.get(GRAD_KEY)
            if after != f_start.get(GRAD_KEY):  # a return or break in the try runs the finally first
                self._rewrite_jumps(marks, after.value if isinstance(after, Const) and isinstance(after.value, tuple)
                                    else (None, None, self.ip.grad_assumed))
            if f_out is None or not live:
                frame.vars.pop(GRAD_KEY, None)
                return False
            frame.vars = f_out
            grad_from(self.ip, frame.vars)
            return True
        return self._merge(frame, outs)

    def stmt_With(self, stmt: cst.With, frame: Frame) -> bool:
        saved = self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed
        restores = False
        for item in stmt.items:
            ctx = self.ip.exprs.eval(item.item, frame)
            mode = _grad_mode_of(ctx)
            if mode is not None:
                restores = True
                self.ip.grad_enabled = mode if mode != "unknown" else None
                self.ip.grad_assumed = False
                if mode is False:
                    self.ip.grad_off = f"under {_grad_off_label(ctx)}"
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN, frame)
        marks = self._jump_marks()
        try:
            return self.exec_block(stmt.body, frame)
        finally:
            if restores:  # on exit a grad-mode context manager sets back the mode it found
                self.ip.grad_enabled, self.ip.grad_off, self.ip.grad_assumed = saved
                self._rewrite_jumps(marks, saved)  # a return, break or continue inside the block leaves it too

    def _jump_marks(self):
        """How many returns, breaks and continues of the current function are recorded so far."""
        returns = self.ip.exit_grads[-1] if self.ip.exit_grads else []
        return returns, len(returns), [(len(b), len(c)) for b, c in self.ip.loop_stack]

    def _rewrite_jumps(self, marks, state: tuple):
        """The grad mode in which the returns, breaks and continues recorded since ``marks`` leave the
        statement: a grad-mode with-block and a finally clause run on the way out."""
        returns, n, loops = marks
        returns[n:] = [state] * (len(returns) - n)
        for (breaks, continues), (nb, nc) in zip(self.ip.loop_stack, loops):
            for jumped in breaks[nb:] + continues[nc:]:
                jumped[GRAD_KEY] = Const(state)

    def stmt_Match(self, stmt, frame: Frame) -> bool:
        self.ip.conditional += 1
        try:
            return self._match(stmt, frame)
        finally:
            self.ip.conditional -= 1

    def _match(self, stmt, frame: Frame) -> bool:
        subject = self.ip.exprs.eval(stmt.subject, frame)
        grad_into(self.ip, frame.vars)
        start = dict(frame.vars)
        outs = []
        irrefutable = False
        for case in stmt.cases:
            c_start = dict(start)
            self.bind_pattern(case.pattern, subject, c_start)
            saved = frame.vars
            frame.vars = c_start
            if case.guard is not None:
                self.ip.exprs.eval(case.guard, frame)
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
        body_frame = Frame(frame, kind="class", cls=cls)
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
