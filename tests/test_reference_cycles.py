"""A checked file's values are freed by reference counting where a back-pointer was only a convenience: an object's
attribute dict knows its object by a weak reference.
"""
from __future__ import annotations

from torchlint.analysis import trail
from torchlint.analysis.interp import Interpreter
from torchlint.analysis.values import Instance


def test_an_object_knows_its_attributes_without_a_cycle():
    import libcst as cst
    import weakref

    ip = Interpreter(cst.parse_module("class A:\n    pass\n"))
    ip.run()
    inst = Instance(ip.module_frame.vars["A"])
    inst.attrs["x"] = 1
    dead = weakref.ref(inst)
    attrs = inst.attrs
    del inst
    assert dead() is None  # freed by reference counting alone
    path = trail.Trail()
    trail.OPEN.append(path)
    try:
        attrs["y"] = 2  # (a store into the attributes of an object that is gone records nothing, and does not fail)
    finally:
        trail.OPEN.remove(path)
    assert attrs == {"x": 1, "y": 2} and not path.old
