"""The fast ``ast`` walks (torchlint.syntax.astwalk) see every node ``ast.walk`` sees, and measure as the guards
count: the site gate and the crash guards read them.

The oracle is CPython's own generic walk (``ast.walk``, ``ast.iter_child_nodes``), which asks every field of
every node: the fast walks read the fields from each node type's grammar signature instead, and leave out only
the expression contexts and operator markers.
"""
from __future__ import annotations

import ast

import pytest

from conftest import FIXTURES
from torchlint.syntax import astwalk, guards

MARKERS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
ODD = [
    "async def f(a, /, b=1, *c, d: int = 2, e, **g) -> x:\n    async with a as (b, c), d:\n        yield await b\n",
    "match p:\n    case [1, *rest] | {'k': v, **kw}:\n        pass\n    case C(a, b=2) as c if c:\n        pass\n",
    "x = {**a, 'b': c}\ny = f'{a!r:>{w}} {b}'\nz = [i for i in a if i for j in i]\nlambda q=1, *, r=2: q\n",
    "try:\n    pass\nexcept* E as e:\n    raise X from e\nfinally:\n    del a[1:2:3], b.c\n",
    "global g\nx: int\nx += 1\n(y := 2)\nassert a < b <= c, 'm'\nimport a.b as c\nfrom .. import d\n",
    "y = a and b and (c or d or e) and not f\nz = -a if b else ~c\n@d\n@e.f(g)\nclass K(B, metaclass=M):\n    pass\n",
]


def _sources() -> list:
    srcs = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*.py"))[:200]]
    srcs += ODD + [open(astwalk.__file__, encoding="utf-8").read(), open(guards.__file__, encoding="utf-8").read()]
    return srcs


def _trees() -> list:
    out = []
    for src in _sources():
        try:
            out.append(ast.parse(src))
        except SyntaxError:  # (except* and match need newer Pythons)
            continue
    return out


def _reference(tree) -> list:
    return [n for n in ast.walk(tree) if not isinstance(n, MARKERS)]


def test_the_child_fields_of_every_node_type_are_read_from_its_signature():
    for name in dir(ast):
        kind = getattr(ast, name)
        if isinstance(kind, type) and issubclass(kind, ast.AST) and kind._fields and "Deprecated" not in \
                (kind.__doc__ or "") and not (kind.__doc__ or "").startswith(name + " ="):
            assert astwalk._child_fields(kind) is not None, name


def test_nodes_and_collect_see_what_ast_walk_sees():
    kinds = (ast.Name, ast.Call, ast.Attribute, ast.arg, ast.keyword, ast.Constant, ast.FunctionDef)
    for tree in _trees():
        ref = _reference(tree)
        got = astwalk.nodes(tree)
        assert len(got) == len(ref) and {id(n) for n in got} == {id(n) for n in ref}
        found, _, _ = astwalk.collect(tree, kinds)
        for kind in kinds:
            assert sorted(map(id, found[kind])) == sorted(id(n) for n in ref if type(n) is kind)


def test_children_are_the_child_nodes_in_field_order():
    for tree in _trees():
        for node in ast.walk(tree):
            assert astwalk.children(node) == [c for c in ast.iter_child_nodes(node) if not isinstance(c, MARKERS)]


def test_a_node_comes_after_its_parent():
    # (the site summary reads an assignment before the attribute it assigns)
    for tree in _trees():
        order = {id(n): i for i, n in enumerate(astwalk.nodes(tree))}
        for parent in ast.walk(tree):
            for child in astwalk.children(parent):
                assert order[id(child)] > order[id(parent)]


@pytest.mark.parametrize("src", [
    "y = a + b\n", "y = a and b and c and d and e\n", "y = a and (b or c or (d and e)) and f\n",
    "y = " + " and ".join(["x"] * 700) + "\n", "y = x" + ".a" * 600 + "\n", "y = " + " < ".join(["x"] * 40) + "\n",
    "def f():\n    return lambda: (a or b or c)\n", "x = [a and b]\n",
] + ODD)
def test_collect_measures_as_the_depth_first_walk_does(src):
    try:
        tree = ast.parse(src)
    except SyntaxError:
        pytest.skip("newer syntax")
    _, nesting, chain = astwalk.collect(tree)
    deepest, _, longest, _ = guards.measure(tree)
    assert (nesting, chain) == (deepest, longest)


def test_the_fixtures_measure_alike_both_ways():
    for tree in _trees():
        _, nesting, chain = astwalk.collect(tree)
        assert (nesting, chain) == guards.measure(tree)[0::2]


def test_a_measure_names_its_nodes_only_when_asked():
    tree = ast.parse("x = 1\ny = a and b and c\n")
    m = guards.Measure(tree)
    _, m.deepest, m.longest = astwalk.collect(tree)
    assert m._located is None
    assert m.long_node is tree.body[1].value and m.long_node.lineno == 2 and m._located is not None
    assert m.result() == guards.measure(tree)
