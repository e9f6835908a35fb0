"""User iterators: a ``for`` over an object of the file's classes that defines ``__iter__`` and ``__next__``.

``__iter__`` runs once before the loop; each iteration's element is what ``__next__`` returns, evaluated on the
object's state at that point of the fixed point (``__next__`` changes the object: its summary is never
memoised). The loop runs an unknown number of times, possibly none, except where the first ``__next__`` call
certainly returns: that is proven by running ``__iter__`` and then ``__next__`` once more on a copy of the object
(silently), where a store to the copy is a strong update only when it is a top-level statement of one of those
two methods (so it happens on every path that reaches it), and the proof fails as soon as the run may raise: a
``raise`` statement is reached, or a call whose callee torchlint does not see (it could raise StopIteration),
``next()`` or a ``__next__`` method is made, or the copy is written any other way.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from torchlint.analysis.values import UNKNOWN, BoundMethod, Function, Instance, ModuleRef, UnknownValue, Value

# Modules whose functions never raise StopIteration into the caller (their iterators are not called here).
_QUIET_ROOTS = ("torch", "numpy", "math", "random", "builtins", "collections", "functools", "operator")


class Probe:
    """A run of ``__iter__``/``__next__`` on a copy of an object, to prove that the first ``__next__`` returns."""

    __slots__ = ("obj", "strong", "failed")

    def __init__(self, obj: Instance, strong: set):
        self.obj = obj
        self.strong = strong  # ids of the attribute targets that are top-level statements of the two methods
        self.failed = False

    def note_call(self, callee: Value) -> None:
        """A call made during the run: one that may raise StopIteration makes the proof fail."""
        if isinstance(callee, UnknownValue):
            self.failed = True
        elif isinstance(callee, ModuleRef):
            if callee.qual.split(".")[0] not in _QUIET_ROOTS or callee.qual in ("builtins.next", "builtins.anext"):
                self.failed = True
        elif isinstance(callee, BoundMethod) and callee.name in ("__next__", "next", "send", "throw"):
            self.failed = True

    def store(self, base: Value, target) -> Optional[bool]:
        """Should the store of ``target`` on ``base`` be a strong update (None: not the probed object)?"""
        if base is not self.obj:
            return None
        if id(target) in self.strong:
            return True
        self.failed = True
        return False


def _self_param(fn: Function) -> Optional[str]:
    node = fn.node
    if not isinstance(node, cst.FunctionDef):
        return None
    params = list(node.params.posonly_params) + list(node.params.params)
    return params[0].name.value if params else None


def _top_level_stores(fn: Function) -> set:
    """Ids of the ``self.attr`` targets assigned by top-level statements of the method ``fn``."""
    me = _self_param(fn)
    if me is None or not isinstance(fn.node.body, cst.IndentedBlock):
        return set()
    out = set()
    for stmt in fn.node.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                [small.target] if isinstance(small, (cst.AugAssign, cst.AnnAssign)) else []
            for t in targets:
                if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == me:
                    out.add(id(t))
    return out


class UserIterators:
    """The iterator protocol on objects of the file's classes; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def _method(self, inst: Value, name: str) -> Optional[Function]:
        if not isinstance(inst, Instance):
            return None
        fn = self.ip.objects.class_attr(inst.cls, name)
        return fn if isinstance(fn, Function) and _self_param(fn) is not None else None

    def start(self, inst: Instance, site) -> Optional[tuple]:
        """``iter(inst)``: (the iterator, its ``__next__``), or None when that is not an object of the file's
        classes with a ``__next__`` (a generator ``__iter__``, an unknown one)."""
        it_fn = self._method(inst, "__iter__")
        if it_fn is None:
            return None
        it = self.ip.objects.call_user(it_fn, [inst], {}, site=site, fresh=True)
        nxt = self._method(it, "__next__")
        return None if nxt is None else (it, nxt)

    def next(self, it: Instance, nxt: Function, site) -> Value:
        """What one ``__next__`` call returns on the iterator's current state."""
        return self.ip.objects.call_user(nxt, [it], {}, site=site, fresh=True)

    def first_returns(self, inst: Instance) -> bool:
        """Does the first ``__next__`` after ``iter(inst)`` certainly return (so the loop runs at least once)?"""
        it_fn = self._method(inst, "__iter__")
        nxt = self._method(inst, "__next__")
        if it_fn is None or nxt is None or self.ip.probe is not None:
            return False
        copy = self.ip.new_instance(inst.cls)
        copy.attrs.update(inst.attrs)
        probe = Probe(copy, _top_level_stores(it_fn) | _top_level_stores(nxt))
        self.ip.probe = probe
        self.ip.silent += 1
        try:
            got = self.ip.objects.call_user(it_fn, [copy], {}, fresh=True)
            if got is not copy:
                return False
            # an unknown result may be a call that never ran (an arity error, the budget): no proof
            out = self.ip.objects.call_user(nxt, [copy], {}, fresh=True)
            return not probe.failed and out is not UNKNOWN
        finally:
            self.ip.silent -= 1
            self.ip.probe = None
