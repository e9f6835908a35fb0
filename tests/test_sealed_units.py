"""The analysis of one function on its own never depends on which functions were analysed before it
(interp/sealed.py: each unit starts a new epoch, and a call summary that made a sealed object is its own
unit's): the partial parse (analysis/partial.py) leaves out functions that nothing kept reaches, and the
findings in the kept ones must be those of the whole file."""
from __future__ import annotations

import torchlint

HEAD = '''import torch


class Box:
    def __init__(self):
        self.w = torch.ones(3, requires_grad=True)


def make():
    return Box()
'''

# analysed before `second`: the first makes the call summary of make() (a Box, sealed in that unit), the
# other moves the epoch on (a call of code torchlint does not see, given an unknown value)
FIRST = '''

def first():
    return make()
'''
UNRELATED = '''

def unrelated(x):
    foreign(x)
'''

SECOND = '''

def second():
    b = make()
    if hasattr(b, "scale"):
        loss = b.w.sum()
    else:
        loss = b.w * 2
    loss.backward()
'''


def _rows(src: str):
    lines = src.splitlines()
    return [(lines[d.location.row - 1].strip(), d.code) for d in torchlint.lint_source(src, "t.py", select=["TL001"])]


def test_what_runs_before_a_function_does_not_change_its_findings():
    # second() makes its own Box: hasattr(b, "scale") is False (b is sealed), loss is b.w * 2, and real
    # torch raises at loss.backward().  Before, the Box came from make()'s summary made in an earlier unit,
    # and whether it was still sealed depended on what ran in between (unrelated(), which nothing calls).
    want = [("loss.backward()", "TL001")]
    assert _rows(HEAD + SECOND) == want
    assert _rows(HEAD + FIRST + SECOND) == want
    assert _rows(HEAD + UNRELATED + SECOND) == want
    assert _rows(HEAD + FIRST + UNRELATED + SECOND) == want
