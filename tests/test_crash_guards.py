"""No input can crash the process: LibCST's native parser and the analysis recurse once per level of
nesting, and a level too many used to overflow the C stack (SIGSEGV, no output at all)."""
from __future__ import annotations

import ast
import json
import sys

import pytest

from tlcli import tl
from torchlint.engine import lint_source
from torchlint.diagnostics import SourceError
from torchlint.syntax import guards

HEAD = "import torch\nx = torch.ones(2, requires_grad=True)\n"
TAIL = "(x * 2).backward()\n"


def _expr(kind: str, n: int) -> str:
    """One statement of ``n`` operands or levels of the given kind."""
    return {
        "and": "y = " + " and ".join(["x"] * n),
        "or": "y = " + " or ".join(["x"] * n),
        "mixed": "y = " + " and ".join(["(x or x)"] * n),
        "compare": "y = " + " < ".join(["x"] * n),
        "add": "y = " + " + ".join(["x"] * n),
        "power": "y = " + " ** ".join(["x"] * n),
        "attribute": "y = x" + ".a" * n,
        "call": "y = x" + "()" * n,
        "subscript": "y = x" + "[0]" * n,
        "not": "y = " + "not " * n + "x",
        "minus": "y = " + "-" * n + "x",
        "ternary": "y = " + "x if x else " * n + "x",
        "lambda": "y = " + "lambda: " * n + "x",
        "elif": "if x:\n    pass\n" + "elif x:\n    pass\n" * n,
        "strings": "y = " + " ".join(["'a'"] * n),
        "decorators": "@x\n" * n + "def f():\n    pass",
    }[kind] + "\n"


KINDS = ["and", "or", "mixed", "compare", "add", "power", "attribute", "call", "subscript", "not", "minus",
         "ternary", "lambda", "elif", "strings", "decorators"]


def test_a_long_boolean_chain_is_a_diagnostic_not_a_segfault(tmp_path):
    # the reported case: ``ast`` parses it (a BoolOp is flat there), LibCST nests it 10,000 deep
    (tmp_path / "deep.py").write_text(HEAD + _expr("and", 10_000) + TAIL)
    r = tl("check", "--jobs", "1", "--no-cache", "--output-format", "concise", "deep.py", cwd=tmp_path)
    assert r.returncode == 1, (r.returncode, r.stderr[-500:])
    assert r.stdout.startswith("deep.py:3:5: E999 line 3 has an expression of 10,000 operands in one boolean or "
                               "comparison chain"), r.stdout[:300]


def test_worst_cases_of_every_kind_never_end_in_a_signal(tmp_path):
    """Each kind at the guards' limits, just over them and far over them, in one serial run (as pre-commit runs)."""
    sizes = [guards.MAX_CHAIN - 1, guards.MAX_NESTING + 10, 20_000]
    for kind in KINDS:
        for n in sizes:
            (tmp_path / f"{kind}_{n}.py").write_text(HEAD + _expr(kind, n) + TAIL)
    r = tl("check", "--jobs", "1", "--no-cache", "--select", "TL001", "--output-format", "json-lines", ".",
           cwd=tmp_path, timeout=600)
    assert r.returncode == 1, (r.returncode, r.stderr[-800:])
    by_file: dict = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        by_file.setdefault(d["filename"], set()).add(d["code"])
    assert len(by_file) == len(KINDS) * len(sizes)
    for name, codes in by_file.items():
        # either analysed (the backward() on the last line is found) or refused with one diagnostic
        assert codes in ({"TL001"}, {"E999"}), (name, codes)
    for kind in ("and", "or", "compare", "add", "subscript"):
        assert by_file[f"{kind}_20000.py"] == {"E999"}
        assert by_file[f"{kind}_{guards.MAX_CHAIN - 1}.py"] in ({"TL001"}, {"E999"})


@pytest.mark.parametrize("kind,n,what", [
    ("and", guards.MAX_CHAIN + 1, "in one boolean or comparison chain"),
    ("compare", guards.MAX_CHAIN + 1, "in one boolean or comparison chain"),
    ("subscript", guards.MAX_NESTING + 1, "levels deep"),
])
def test_guards_name_the_line(kind, n, what):
    src = HEAD + "\n" + _expr(kind, n) + TAIL
    with pytest.raises(SourceError) as e:
        lint_source(src, "<t>")
    assert what in e.value.message and e.value.location.row == 4, e.value.message


def test_measure_counts_boolean_chains_as_libcst_nests_them():
    flat, _, chain, _ = guards.measure(ast.parse("y = a + b\n"))
    deep, _, chain2, _ = guards.measure(ast.parse("y = a and b and c and d and e\n"))
    assert deep - flat == 4  # five operands: one extra level per operand after the first
    assert (chain, chain2) == (0, 5)
    assert guards.measure(ast.parse("y = a < b < c\n"))[2] == 3


def test_real_code_is_far_below_the_limits():
    import torchlint.runner as sample  # a real module of ours

    tree = ast.parse(open(sample.__file__, encoding="utf-8").read())
    nesting, _, chain, _ = guards.measure(tree)
    assert nesting < 60 and chain < 10


def test_run_deep_turns_deep_recursion_into_recursion_error_and_restores_the_limit():
    before = sys.getrecursionlimit()

    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    assert guards.run_deep(down, 5_000) == 5_000  # deeper than the default limit allows
    with pytest.raises(RecursionError):
        guards.run_deep(down, 10 ** 6)
    assert sys.getrecursionlimit() == before
    with pytest.raises(KeyError):
        guards.run_deep(lambda: {}["missing"])
    # nested calls run inline in the deep thread
    assert guards.run_deep(lambda: guards.run_deep(lambda: 42)) == 42


def _deep_ident():
    import threading

    return threading.current_thread()  # an object, not an ident: the idents of finished threads are reused


def _deep_name():
    import threading

    return threading.current_thread().name


def test_the_main_threads_calls_share_one_deep_thread_and_a_forked_child_gets_its_own():
    # one thread kept for the process: a new thread per file left two stacks resident at once
    import multiprocessing
    import threading

    first, second = guards.run_deep(_deep_ident), guards.run_deep(_deep_ident)
    assert first is second is not threading.current_thread()
    others = []
    for _ in range(2):  # another thread's calls each get a thread of their own, as before
        t = threading.Thread(target=lambda: others.append(guards.run_deep(_deep_ident)))
        t.start()
        t.join()
    assert others[0] is not others[1] and first not in others
    if "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(1) as pool:  # the parent's deep thread is not in the child
            assert pool.apply_async(guards.run_deep, (_deep_name,)).get(timeout=60) == "torchlint-deep"


def test_cpythons_warnings_about_the_checked_code_are_not_printed(tmp_path):
    (tmp_path / "w.py").write_text(HEAD + "y = 1if x else 2\nz = '\\d'\n" + TAIL)
    r = tl("check", "--no-cache", "--select", "TL001", "--output-format", "concise", "w.py", cwd=tmp_path)
    assert r.returncode == 1 and "w.py:5:1: TL001" in r.stdout
    assert r.stderr == "", r.stderr
