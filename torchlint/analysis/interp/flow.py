"""Control flow: the branches of ``if`` and ``match``, loops run to a fixed point, ``try`` and ``with``.

Each compound statement runs its bodies through the statements component (``ip.stmts.exec_block``) and joins
what the paths that reach its end leave: the variables, the grad mode (``GRAD_KEY``) and the objects' state
(interp/heap.py). ``ip.stmts`` dispatches ``If``, ``For``, ``While``, ``Try``, ``With`` and ``Match`` nodes to the
``stmt_*`` methods here; binding names (assignment, unpacking, imports, ``def`` and ``class``) stays in
interp/statements.py.
"""
from __future__ import annotations

from typing import Optional
import libcst as cst
from torchlint.analysis.values import UNKNOWN, Const, DictValue, Instance, Seq, Tensor
from torchlint.analysis.interp.state import Frame, MAX_LOOP_ITERATIONS
from torchlint.analysis.interp.helpers import (GRAD_KEY, _grad_mode_of, _grad_off_label, _truth, _unmark, _unrollable,
                                               grad_from, grad_into, join_vars, previous_iteration, vars_equal, widen)
from torchlint.analysis.cstwalk import walk
from torchlint.analysis.interp import params, sealed
from torchlint.analysis.interp.data import is_stand_in


class ControlFlow:
    """The compound statements that choose or repeat what runs; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip
        self._made: dict = {}  # id(loop) -> ids of the nodes of its body and target

    def _run_branch(self, frame: Frame, body, start: dict) -> Optional[dict]:
        saved = frame.vars
        frame.vars = dict(start)
        grad_from(self.ip, start, pop=False)
        try:
            live = self.ip.stmts.exec_block(body, frame)
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
                    self.ip.stmts.assign(stmt.target, item, frame)
                    self.ip.stmts.exec_block(stmt.body, frame)
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
                self.ip.stmts.assign(stmt.target, self.ip.iterators.next(*started, stmt.target), f)

            return self._loop(stmt, frame, bind, may_skip=True)
        elem = self.ip.tensors.element_of(iterable)
        known_empty = isinstance(iterable, Seq) and iterable.items == ()

        def bind(f):
            self.ip.stmts.assign(stmt.target, elem, f)

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
                return self.ip.stmts.exec_block(stmt.orelse.body, frame)
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
            live = self.ip.stmts.exec_block(stmt.orelse.body, frame)
            grad_into(self.ip, frame.vars)
            exits = [frame.vars] if live else []
        exits += breaks
        return self._merge(frame, exits)

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
            live = self.ip.stmts.exec_block(stmt.body, frame)
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
                self.ip.stmts.assign(item.asname.name, UNKNOWN, frame)
        marks = self._jump_marks()
        try:
            return self.ip.stmts.exec_block(stmt.body, frame)
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
