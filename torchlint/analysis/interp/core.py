"""The interpreter: shared state and the entry point; the concerns live in their own modules."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Optional
import libcst as cst
from torchlint.analysis.cstwalk import walk
from torchlint.analysis.values import ClassValue, Const, Function, Instance, Value
from torchlint.analysis.interp.state import Analysis, Budget, Frame, STEP_BUDGET
from torchlint.analysis.interp.helpers import _is_static
from torchlint.analysis.interp.statements import Statements
from torchlint.analysis.interp.flow import ControlFlow
from torchlint.analysis.interp.expressions import Expressions
from torchlint.analysis.interp.calls import Calls
from torchlint.analysis.interp.objects import UserCode
from torchlint.analysis.interp.tensors import TensorAccess
from torchlint.analysis.interp.data import DataPipelines
from torchlint.analysis.interp.iteration import UserIterators
from torchlint.analysis.interp.heap import Heap
from torchlint.analysis.interp import sealed


class Unit:
    """What the analysis of one function on its own (``fn``) recorded: its ``facts`` (an :class:`Analysis`), the
    interpreter ``steps`` it took, the functions it ``found`` (to analyse next), whether the budget ``cut`` it
    and whose call summaries it ``leans`` on."""

    __slots__ = ("fn", "facts", "steps", "found", "cut", "leans")

    def __init__(self, fn, facts, steps: int, found: list, cut: bool, leans: set):
        self.fn, self.facts, self.steps, self.found, self.cut = fn, facts, steps, found, cut
        self.leans = leans  # the units (FunctionDef nodes; None: the module's code) whose call summaries it reused


_OPEN = threading.local()  # .made: the interpreters made inside the innermost closing() of this thread, or None


@contextmanager
def closing():
    """The interpreters made inside (but those made ``lasting``) are closed on the way out (:meth:`Interpreter.close`):
    the engine checks a file inside one, so that the file's values, analysis and tree are freed by reference
    counting as soon as it is done, not left for the garbage collector.  (Whoever keeps an analysis to use later, the
    language server or ``explain``, makes its interpreter outside, and it is never closed.)"""
    outer = getattr(_OPEN, "made", None)
    made = _OPEN.made = []
    try:
        yield
    finally:
        _OPEN.made = outer
        for ip in made:
            ip.close()


class Interpreter:
    """Runs one module with abstract values. It holds the shared state; each concern is a component:
    ``stmts``, ``exprs``, ``calls``, ``objects`` and ``tensors``.

    ``lasting``: the interpreter of a module kept for later files (analysis/lazymodule.py), never closed."""

    def __init__(self, module: cst.Module, project=None, keep_units: bool = False, reuse=None, lasting: bool = False):
        made = None if lasting else getattr(_OPEN, "made", None)
        # the frames and the objects it makes, when it is closed (see close); None when it never is
        self.frames: Optional[list] = None if made is None else []
        self.instances: Optional[list] = None if made is None else []
        if made is not None:
            made.append(self)
        self.module = module
        self.project = project  # the file's link to its project's other modules (analysis/project.py), or None
        # With keep_units, what the analysis of each function on its own recorded: FunctionDef/Lambda node -> Unit.
        # ``reuse``: an earlier Interpreter of this module alone, made with keep_units: its units are taken as
        # they are (not run again) for the functions that the project link analyses quietly, i.e. as the file
        # alone (see Link.quiet_unit), and what it learnt of the tree is not worked out again.
        self.units: Optional[dict] = {} if keep_units else None
        self.reuse: Optional[dict] = reuse.units if reuse is not None else None
        self._replayable: dict = {}
        self.unit_of = None  # with keep_units: the function whose unit runs now (None: the module's code)
        self.memo_owner: dict = {}  # with keep_units: memo key -> unit_of when the summary was made
        self._leans: Optional[set] = None
        self.analysis = Analysis(module)
        self.grad_enabled: Optional[bool] = True
        self.grad_off = "under torch.no_grad()"  # how grad mode was turned off (for messages)
        self.grad_assumed = False  # grad mode is on only by assumption (a function analysed on its own)
        self.silent = 0
        self.steps = 0
        self.stack: list = []  # [(Function, call node)]
        self.active: list = []  # function nodes on the stack
        self.memo: dict = {}
        self.unit = 0  # which function analysed on its own runs now (0: the module's code; interp/sealed.py)
        self.loop_stack: list = []  # [(breaks, continues)]
        self.returns: list = []  # stack of lists of return values
        self.exit_grads: list = []  # stack of lists of the grad mode at each way out of a function
        self._sets_grad_mode: Optional[bool] = None
        self.generator_flags: list = []  # stack: did the running function yield?
        self.class_ns: dict = {}  # ClassDef node -> namespace dict
        self.generic_instances: dict = {}
        self.pending: list = []  # (Function) to analyse generically
        self.analysed: set = set()
        self.in_loop = 0
        # of those, the loops unrolled over a known list (each item's iteration runs once, in order): a list
        # they append to grows by exactly one item per iteration
        self.unrolled = 0
        self.outer_loops = 0  # loops around the calls on the stack (in_loop counts the running function's)
        self.generic = 0  # > 0 in a function analysed on its own, with unknown arguments
        self.conditional = 0  # > 0 on a path that may not run (an unknown branch, a loop body, a try)
        self.constructing: list = []  # Instances whose __init__ is running
        self.params_frozen = False  # code turned requires_grad off on a leaf or a module (interp/params.py)
        self.params_thawed = False  # a parameter was set to require grad again (interp/params.py)
        self.file_thaws: Optional[bool] = None  # does the file turn requires_grad on anywhere (params.py)
        self.module_frame = self.new_frame(None, "module")
        self.budget_spent = False
        self.stmts = Statements(self)
        self.flow = ControlFlow(self)
        self.exprs = Expressions(self)
        self.calls = Calls(self)
        self.objects = UserCode(self)
        self.tensors = TensorAccess(self)
        self.data = DataPipelines(self)
        self.iterators = UserIterators(self)
        self.heap = Heap(self)
        self.probe = None  # the run proving that a user iterator yields at least once (interp/iteration.py)
        if reuse is not None:
            self._sets_grad_mode = reuse._sets_grad_mode
            self.flow._made = reuse.flow._made  # (loop bodies' nodes: facts of the tree alone)
        if project is not None:
            project.attach(self)

    def new_frame(self, parent: Optional[Frame], kind: str, cls=None) -> Frame:
        frame = Frame(parent, kind, cls)
        if self.frames is not None:
            self.frames.append(frame)
        return frame

    def new_instance(self, cls: ClassValue, generic: bool = False) -> Instance:
        inst = Instance(cls, generic)
        if self.instances is not None:
            self.instances.append(inst)
        return inst

    def close(self) -> None:
        """The file is done (its rules ran, its findings are plain data): break the reference cycles of what this
        interpreter made, so that reference counting frees it, its values and the tree they point into.  A function's
        value points at the frame it was defined in, and that frame's variables hold the function (a class, an
        object's method, a closure likewise); objects point at each other (``self.parent``, ``parent.children``);
        every component points back at the interpreter.  Emptying the frames and the objects it made and forgetting
        its state breaks them all.  Nothing may use the interpreter, nor the values of its analysis that read frames
        or attributes, afterwards."""
        for frame in self.frames or ():
            frame.vars = {}
        for inst in self.instances or ():
            inst.attrs = {}
        for part in (self.stmts, self.flow, self.exprs, self.calls, self.objects, self.tensors, self.data,
                     self.iterators, self.heap):
            vars(part).clear()
        self.__dict__.clear()

    def run(self) -> Analysis:
        frame = self.module_frame
        frame.vars["__name__"] = Const("__main__")
        sealed.moved_on()  # objects of an earlier run are not this one's to know
        try:
            self.stmts.exec_block(self.module.body, frame)
        except Budget:
            self.analysis.truncated = True
        # Analyse every function on its own, with unknown arguments (called any time: no object stays sealed).
        sealed.moved_on()
        i = 0
        while i < len(self.pending):
            fn = self.pending[i]
            i += 1
            if fn.node in self.analysed:
                continue
            self.analysed.add(fn.node)
            if self.project is not None:
                self.project.focus(self, fn)
                if self.reuse is not None and self.replayable(fn):
                    unit = self.reuse[fn.node]
                    self.analysis.merge(unit.facts)
                    self.steps += unit.steps
                    self.pending.extend(unit.found)
                    continue
            try:
                if self.units is None:
                    self.analyse_generic(fn)
                else:
                    self._analyse_unit(fn)
            except Budget:
                self.analysis.truncated = True
                if self.steps > STEP_BUDGET * 2:
                    break
        self.analysis.budget_spent = self.budget_spent
        return self.analysis

    def _analyse_unit(self, fn: Function) -> None:
        """:meth:`analyse_generic`, its facts recorded apart and then added to the run's (see ``units``)."""
        outer, start, first = self.analysis, self.steps, len(self.pending)
        self.analysis, self.unit_of, self._leans = Analysis(self.module), fn.node, set()
        cut = True
        try:
            self.analyse_generic(fn)
            cut = False
        finally:
            facts, self.analysis = self.analysis, outer
            outer.merge(facts)
            self.units[fn.node] = Unit(fn, facts, self.steps - start, self.pending[first:], cut, self._leans)
            self.unit_of, self._leans = None, None

    def memo_used(self, key) -> None:
        """A call summary was taken from the memo (with keep_units): the running unit leans on whoever made it.
        Its facts were recorded there, not in this unit."""
        if self._leans is not None:
            owner = self.memo_owner.get(key)
            if owner is not self.unit_of:
                self._leans.add(owner)

    def replayable(self, fn: Function) -> bool:
        """May the unit of ``fn`` in :attr:`reuse` stand for its analysis in this run?  Only when the link analyses
        ``fn`` quietly, the unit ran to its end, and so may every function it found (nested ``def``s, lambdas):
        they are analysed after it, and one of them may be analysed with the project's names."""
        known = self._replayable.get(fn.node)
        if known is not None:
            return known
        # (while it is being decided, a function found again through the functions it found is not taken, so
        # that every function a taken unit found is taken too, and none of the first run's is run here)
        self._replayable[fn.node] = False
        unit = self.reuse.get(fn.node)
        # a call summary it took from another's memo entry: the second run's quiet memo has that entry too only
        # if that other is quiet (it ran before, taken or run again: either way quietly), not a root or the
        # module's code, which run with the project's names and memo
        ok = unit is not None and not unit.cut and self.project.quiet_unit(fn) and \
            all(f.node is fn.node or self.replayable(f) for f in {f.node: f for f in unit.found}.values()) and \
            all(other is not None and other in self.reuse and self.project.quiet_unit(self.reuse[other].fn)
                for other in unit.leans)
        self._replayable[fn.node] = ok
        return ok

    @property
    def sets_grad_mode(self) -> bool:
        """Whether the file switches grad mode with a statement (``torch.set_grad_enabled(False)`` on its own line),
        which a call torchlint does not follow may run."""
        if self._sets_grad_mode is None:
            self._sets_grad_mode = any(
                isinstance(n.value, cst.Call) and isinstance(n.value.func, (cst.Name, cst.Attribute))
                and (n.value.func.attr if isinstance(n.value.func, cst.Attribute) else n.value.func).value
                == "set_grad_enabled" for n in walk(self.module) if isinstance(n, cst.Expr))
        return self._sets_grad_mode

    def context(self) -> tuple:
        """The call sites of the user functions running now, outermost first: what tells one call's facts
        (a branch taken, a loop's trip count, a call event) from another's."""
        return tuple(n for _, n in self.stack)

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
        sealed.new_unit(self)
        saved = self.grad_enabled, self.grad_assumed
        self.grad_enabled, self.grad_assumed = True, True
        try:
            self.objects.call_user(fn, args, {}, generic=True)
        finally:
            self.grad_enabled, self.grad_assumed = saved

    def generic_instance(self, cls: ClassValue) -> Value:
        inst = self.generic_instances.get(cls.node)
        if inst is None:
            inst = self.new_instance(cls, generic=True)
            self.generic_instances[cls.node] = inst
            init = self.objects.class_attr(cls, "__init__")
            if isinstance(init, Function):
                self.silent += 1
                self.constructing.append(inst)
                try:
                    self.objects.call_user(init, [inst], {}, generic=True)
                except Budget:
                    pass
                finally:
                    self.constructing.pop()
                    self.silent -= 1
        return inst
