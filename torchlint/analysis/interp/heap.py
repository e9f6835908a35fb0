"""Object state along paths: attribute stores into objects of the file's classes, and the join of the attributes
two sides of a branch left, as for local variables (the undo trail is analysis/trail.py)."""
from __future__ import annotations

from torchlint.analysis.trail import ABSENT, OPEN, Trail
import libcst as cst
from torchlint.analysis.values import UNKNOWN, Const, Instance, ModuleRef, Value, join, join_head
from torchlint.analysis.interp.data import is_stand_in
from torchlint.analysis.interp import sealed


class Heap:
    """Attribute state of the abstract interpreter; shared state lives on ``self.ip``."""

    def __init__(self, ip):
        self.ip = ip

    def store(self, base: Instance, name: str, value: Value, target=None):
        """``base.name = value``.  On the file's own run the store replaces what the attribute held on this path
        (branches and loops join the paths, see below).  In a function analysed on its own, and on an object made
        for one, an attribute is every value stored in it: such methods may run any number of times, in any order."""
        attrs = base.attrs
        strong = self.ip.probe.store(base, target) if self.ip.probe is not None else None
        if strong is not None:
            attrs[name] = value if strong or name not in attrs else join(attrs[name], value)
        elif base in self.ip.constructing or name not in attrs or not (self.ip.generic or base.generic):
            attrs[name] = value
        else:
            # one that __init__ sets to None and a method to a tensor (`self.outputs = None`, later
            # `self.outputs = model(x)`) is a tensor that may be None, not Unknown
            attrs[name] = join_head(attrs[name], value)

    def store_back(self, node, value: Value, frame):
        """Rebind what ``node`` names (a name, or an attribute of an object of the file's classes) to ``value``,
        the same object changed (a frozen module)."""
        if isinstance(node, cst.Name):
            if node.value in frame.vars:
                frame.vars[node.value] = value
            return
        owner, name = None, None
        if isinstance(node, cst.Attribute):
            owner, name = self.ip.objects.eval_quiet(node.value, frame), node.attr.value
        elif isinstance(node, cst.Call) and len(node.args) == 2 and not any(a.keyword or a.star for a in node.args) \
                and self.ip.objects.eval_quiet(node.func, frame) == ModuleRef("builtins.getattr"):
            owner, key = (self.ip.objects.eval_quiet(a.value, frame) for a in node.args)  # getattr(self, name)
            name = key.value if isinstance(key, Const) and isinstance(key.value, str) else None
        if isinstance(owner, Instance) and name in owner.attrs:
            owner.attrs[name] = value

    def open_loop(self) -> Trail:
        """Start a loop: its trail keeps every value stored into an attribute while it runs."""
        trail = Trail(join=join_head)
        OPEN.append(trail)
        return trail

    def loop_head(self, trail: Trail, widen: bool = False) -> bool:
        """The attributes at the head (and after the exit) of a loop: each one the loop stores into holds what it
        held before the loop or any value stored in it since (a run may skip the body, leave it early, or go
        round again). True when that changed an attribute; with ``widen``, one that changed becomes unknown."""
        changed = False
        for key, (obj, name, old) in list(trail.old.items()):
            seen = trail.seen.get(key, ABSENT)
            vals = [v for v in (old, seen) if v is not ABSENT]
            if not vals:
                continue
            value = vals[0] if len(vals) == 1 else join_head(vals[0], vals[1])
            if len(vals) == 1 and old is ABSENT:  # stored in the loop only: maybe present
                obj.maybe = True
                fallback = self._absent(obj, name)
                if fallback is not None:
                    value = join_head(fallback, value)
            before = trail.head.get(key, ABSENT)
            if before is ABSENT or not _same(before, value):
                changed = True
                if widen and before is not ABSENT:
                    value = UNKNOWN
            dict.__setitem__(obj.attrs, name, value)
            trail.seen[key] = trail.head[key] = value
        return changed

    def close_loop(self, trail: Trail):
        OPEN.remove(trail)
        self.loop_head(trail)

    def alternatives(self, runs: list) -> list:
        """Run each of ``runs`` (the sides of a branch whose test is not known: callables that execute one side
        and return its variables, or None when it left the block) from the object state before the branch,
        then join the object states they left; return what each returned."""
        outs, lefts = [], []
        for run in runs:
            trail = Trail()
            OPEN.append(trail)
            try:
                outs.append(run())
            finally:
                OPEN.remove(trail)
                lefts.append((trail, trail.undo()))
        self._merge(lefts)
        return outs

    def _merge(self, lefts: list):
        """Every attribute a side stored: the join of what each side left in it (the old value where a side did
        not store).  A side that left the block early (a return, a raise) is joined too: a caller may see what it
        stored.  An attribute set on some sides only is maybe present: where the object lacks it a read finds
        the class's attribute, or raises, so the join is that of the sides that set it (and the class's)."""
        olds: dict = {}
        for trail, _ in lefts:
            for key, rec in trail.old.items():
                olds.setdefault(key, rec)
        for key, (obj, name, old) in olds.items():
            vals = [left.get(key, old) for _, left in lefts]
            present = [v for v in vals if v is not ABSENT]
            if not present:
                continue
            if len(present) < len(vals):
                obj.maybe = True  # its attribute names are no longer all known (interp/sealed.py)
                fallback = self._absent(obj, name)
                if fallback is not None:
                    present.append(fallback)
            value = present[0]
            for v in present[1:]:
                value = join_head(value, v)
            obj.attrs[name] = value

    def _absent(self, obj: Instance, name: str):
        """What reading ``obj.name`` gives when torchlint saw no store into it: the class's attribute, None when
        the read raises AttributeError; UNKNOWN when a class torchlint cannot see may define it, or code it does
        not follow may have stored it (``setattr(self, k, v)`` for each option: the object is not sealed)."""
        if is_stand_in(obj) or not sealed.is_sealed(obj):
            return UNKNOWN
        return self.ip.objects.class_attr(obj.cls, name)


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, Instance) or isinstance(b, Instance):
        return a is b
    try:
        return a == b
    except Exception:
        return False
