"""The attribute stores of one path: the undo trail that lets the two sides of a branch keep their own object state.

An object of the file's classes (``values.Instance``) is mutable and shared, so a store into one of its
attributes in one branch of an ``if`` would be seen by the other branch and after the merge as if it had
certainly happened.  While a path runs, every first store into an attribute of an object that existed
before the path started records the value it replaces on the innermost open :class:`Trail`.  When the path
ends, the interpreter reads what the path left, puts the old values back, runs the other path, and joins
the two states at the merge (interp/heap.py), as it joins local variables.
"""
from __future__ import annotations

from itertools import count
from weakref import ref


ABSENT = object()  # an attribute the object did not have


_serials = count()


def new_serial() -> int:
    return next(_serials)


class Trail:
    """The values that the stores of one path replaced: ``(id(obj), name) -> (obj, name, old value or ABSENT)``.
    Objects made after the path started (serial ``>= start``) have no state before it and are not recorded.
    A trail that ``collects`` (a loop's) also keeps the join of every value stored in each attribute."""

    __slots__ = ("old", "start", "seen", "join", "head")

    def __init__(self, join=None):
        self.old: dict = {}
        self.start = new_serial()
        self.join = join
        self.seen: dict = {}  # (id, name) -> the join of the values stored (when ``join`` is given)
        self.head: dict = {}  # (id, name) -> the value at a loop's head (interp/heap.py)

    def note(self, owner, name, attrs, value):
        if owner.serial >= self.start:
            return
        key = (id(owner), name)
        if key not in self.old:
            self.old[key] = (owner, name, dict.get(attrs, name, ABSENT))
        if self.join is not None:
            seen = self.seen.get(key, ABSENT)
            self.seen[key] = value if seen is ABSENT or value is ABSENT else self.join(seen, value)

    def undo(self) -> dict:
        """Put back the values this path replaced; return what the path left, ``(id, name) -> value or ABSENT``."""
        left = {}
        for key, (obj, name, old) in self.old.items():
            attrs = obj.attrs
            left[key] = dict.get(attrs, name, ABSENT)
            if old is ABSENT:
                dict.pop(attrs, name, None)
            else:
                dict.__setitem__(attrs, name, old)
        return left


EPOCH = [0]  # moves on when code torchlint does not follow may have changed any object (interp/sealed.py)


OPEN: list = []  # the trails of the paths running now, innermost last


class Attrs(dict):
    """An object's attribute dict: stores record on the open trails what they replace (and what they store).

    It knows its object by a weak reference: a strong one would make every object a reference cycle, so that the
    checked file's objects, and the tree their values point into, would wait for the garbage collector."""

    __slots__ = ("owner",)

    def __init__(self, owner, *args):
        super().__init__(*args)
        self.owner = ref(owner)

    def _note(self, name, value):
        owner = self.owner()
        if owner is None:  # (the object is gone: no path can see what its attributes were)
            return
        for trail in OPEN:  # every open path: an outer one (a loop) sees what an inner one (a branch) stored
            trail.note(owner, name, self, value)

    def __setitem__(self, name, value):
        if OPEN:
            self._note(name, value)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        if OPEN:
            self._note(name, ABSENT)
        dict.__delitem__(self, name)

    def pop(self, name, *default):
        if OPEN:
            self._note(name, ABSENT)
        return dict.pop(self, name, *default)

    def setdefault(self, name, value=None):
        if name not in self:
            self[name] = value
        return dict.__getitem__(self, name)

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self[k] = v
