"""IPython syntax in notebook cells, found where IPython finds it: a cell magic on the cell's first line,
and line magics, shell escapes, assigned magics and help requests only at the start of a logical line
(outside brackets, strings and backslash continuations).  One test per shape, both ways."""
from __future__ import annotations

import json

import pytest

from tlcli import tl
from torchlint.workspace import notebook
from torchlint.workspace.notebook import ASSIGNED, CONTINUED, STATEMENT, magic_lines


def found(cell: str) -> dict:
    return magic_lines(cell.split("\n"))


def joined(*cells: str) -> str:
    """The module torchlint lints for a notebook of these code cells; it must be valid Python."""
    data = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                      for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    n = notebook.load(json.dumps(data))
    compile(n.source, "nb", "exec")
    text = json.dumps(data)
    assert json.loads(notebook.write_back(n, n.source)) == json.loads(text)  # magics restored exactly
    return n.source


# -- what IPython takes for its own syntax, and torchlint must too -------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    ("%time f(x)", {0: STATEMENT}),                                  # line magic
    ("%matplotlib inline\nimport torch", {0: STATEMENT}),
    ("!pip install torch", {0: STATEMENT}),                          # shell escape
    ("!!ls", {0: STATEMENT}),
    ("?len", {0: STATEMENT}),                                        # help, prefix form
    ("len?", {0: STATEMENT}),                                        # help, suffix form
    ("torch.nn.Linear??", {0: STATEMENT}),
    ("x[0]?", {0: STATEMENT}),
    ("%timeit?", {0: STATEMENT}),                                    # help on a magic
    ("/print 1", {0: STATEMENT}),                                    # autocall escapes
    (",print a b", {0: STATEMENT}),
    ("!echo a \\\n   b\nx = 1", {0: STATEMENT, 1: CONTINUED}),       # a magic continued with a backslash
    ("files = !ls", {0: (ASSIGNED, "files")}),                       # assigned shell output
    ("a, b = %sx echo 1", {0: (ASSIGNED, "a, b")}),                  # assigned magic
    ("self.out[f(k=1)] = !ls", {0: (ASSIGNED, "self.out[f(k=1)]")}),
    ("t = %timeit -o f()", {0: (ASSIGNED, "t")}),
    ("if cond:\n    !pip install x\nelse:\n    %time g()", {1: STATEMENT, 3: STATEMENT}),  # magic as a body
    ("%%bash\necho (not python", {0: CONTINUED, 1: CONTINUED}),      # cell magic: the whole cell
    ("\n%%time\nf(", {0: CONTINUED, 1: CONTINUED, 2: CONTINUED}),    # after a blank first line
    ("x = (1,\n     2)\n!ls", {2: STATEMENT}),                       # a magic after a bracketed statement
    ("s = '''a\nb'''\n%time f()", {2: STATEMENT}),                   # ... and after a triple-quoted string
    ("!echo it's fine\nx = 1", {0: STATEMENT}),                      # an unbalanced quote inside the magic
    ("!echo (\nx = 1", {0: STATEMENT}),                              # an unbalanced bracket inside the magic
])
def test_ipython_syntax_is_found(cell, expected):
    assert found(cell) == expected
    joined(cell)


def test_help_on_a_cell_magic_leaves_the_cell_python():
    assert found("%%time?\nx = 1\ny?") == {0: STATEMENT, 2: STATEMENT}


# -- Python that only looks like IPython syntax (each was a false E999 on real notebooks) --------------------

@pytest.mark.parametrize("cell", [
    # the modulo operator starting a continuation line, inside brackets (rasbt/deeplearning-models)
    "print('Epoch: %03d/%03d | Cost: %.4f'\n      % (epoch + 1, 10, cost))",
    # ... after a backslash continuation
    "msg = 'a %s' \\\n    % 'b'",
    # ``!=`` starting a continuation line
    "ok = (a\n      != b)",
    "ok = a \\\n    != b",
    # a line inside brackets that ends in ``?`` in a comment
    "x = f(1,  # what is this?\n      2)",
    "d = {\n    'k': 1,  # why?\n}",
    # a line inside a triple-quoted string that ends in ``?``
    's = """Is it a magic?\n%not a magic\n!nor this\n"""',
    "def f():\n    '''Does it work?\n    !yes\n    '''\n    return 1",
    # a comment that ends in ``?``, a ``?`` inside a string, comparisons and modulo
    "# really?\nx = 1",
    "print('what?')",
    "y = x % 2\nz = x != 3",
    # an ``=`` followed by ``%`` or ``!`` inside brackets or a string is not an assignment of a magic
    "f(a='%d' % 3)",
    "s = '= !ls'",
])
def test_python_that_looks_like_ipython_syntax_is_left_alone(cell):
    assert found(cell) == {}
    assert joined(cell).count("torchlint-magic") == 0


def test_rasbt_cell_with_a_finding_is_checked_and_fixed_in_place(tmp_path):
    """The shape that made 60 of 181 rasbt/deeplearning-models notebooks E999: a ``%`` continuation line.
    Now the notebook is checked, the real finding reported in its cell, and the fix lands in that cell."""
    cells = [
        "%matplotlib inline\nimport torch",
        "x = torch.randn(3, requires_grad=True)\nfor epoch in range(2):\n    cost = x * 2\n"
        "    print('Epoch: %03d | Cost: %s'\n          % (epoch + 1, cost))\n    cost.backward()",
    ]
    data = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": c.splitlines(True)} for c in cells], "metadata": {}, "nbformat": 4,
            "nbformat_minor": 5}
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(data, indent=1) + "\n")
    r = tl("check", "--output-format", "concise", "nb.ipynb", cwd=tmp_path)
    assert r.returncode == 1 and "E999" not in r.stdout, r.stdout + r.stderr
    assert r.stdout.startswith("nb.ipynb:cell 2:6:5: TL001"), r.stdout
    assert tl("check", "--fix", "nb.ipynb", cwd=tmp_path).returncode == 0
    out = json.loads(p.read_text())
    assert out["cells"][1]["source"][-1] == "    cost.sum().backward()"
    out["cells"][1]["source"][-1] = "    cost.backward()"
    assert out == data


def test_agrees_with_ipython_where_it_is_installed():
    """Cross-check every shape above against IPython's own transformer: the lines it rewrites are the lines
    torchlint takes for magics (IPython rewrites a magic's first line and drops its continuation lines)."""
    tm = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager()
    cells = [c for c, _ in test_ipython_syntax_is_found.pytestmark[0].args[1]]
    cells += list(test_python_that_looks_like_ipython_syntax_is_left_alone.pytestmark[0].args[1])
    for cell in cells:
        if cell.lstrip().startswith("%%"):
            continue  # a cell magic: IPython runs the cell as one call, torchlint comments it all out
        src = cell + "\n"
        out = tm.transform_cell(src)
        assert (out == src) == (found(cell) == {}), cell
