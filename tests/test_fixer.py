"""torchlint.fix.fixer: rounds to a fixed point, overlap, rollback, unsafe fixes, and the file writer."""
from __future__ import annotations

import re

import pytest

from torchlint.fix import fixer
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location, SourceError

BAD = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"


def _loc(source: str, offset: int) -> Location:
    before = source[:offset]
    return Location(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _diag(source, code, start, end, content, applicability="safe"):
    edit = Edit(start, end, content, _loc(source, start), _loc(source, end))
    return Diagnostic(code, f"rule-{code.lower()}", f"{code} here", "error", "m.py", _loc(source, start),
                      _loc(source, end), Fix(f"fix {code}", (edit,), applicability))


@pytest.fixture
def fake_engine(monkeypatch):
    """Replace the engine with a regex rule set; returns the list of rules to fill in.

    A rule is (code, pattern, replacement, applicability): every match is a finding whose fix
    replaces the match.  parse() is CPython's, so broken code is detected as the engine would."""
    import ast

    import torchlint.engine as engine

    rules = []

    def lint_source(source, path="<string>", *, select=None):
        try:
            ast.parse(source)
        except SyntaxError as e:
            raise SourceError(path, f"SyntaxError: {e.msg}", Location(e.lineno or 1, e.offset or 1)) from None
        out = []
        for code, pattern, repl, app in rules:
            if select is not None and code not in select:
                continue
            for m in re.finditer(pattern, source):
                out.append(_diag(source, code, m.start(), m.end(), m.expand(repl), app))
        return sorted(out, key=Diagnostic.sort_key)

    def parse(source, path="<string>"):
        try:
            ast.parse(source)
        except SyntaxError as e:
            raise SourceError(path, f"SyntaxError: {e.msg}", Location(e.lineno or 1, e.offset or 1)) from None

    monkeypatch.setattr(engine, "lint_source", lint_source)
    monkeypatch.setattr(engine, "parse", parse)
    return rules


def test_apply_edits_right_to_left():
    src = "abcdef"
    edits = [Edit(0, 1, "X", Location(1, 1), Location(1, 2)), Edit(3, 3, "++", Location(1, 4), Location(1, 4)),
             Edit(5, 6, "", Location(1, 6), Location(1, 7))]
    assert fixer.apply_edits(src, edits) == "Xbc++de"


def test_choose_skips_overlaps_and_unsafe():
    src = "f(g(x))"
    outer = _diag(src, "TL101", 0, 7, "F(g(x))")
    inner = _diag(src, "TL102", 2, 6, "G(x)")
    unsafe = _diag(src, "TL103", 7, 7, " # u", "unsafe")
    assert fixer.choose([inner, outer, unsafe], unsafe=False) == [outer]
    assert fixer.choose([inner, outer, unsafe], unsafe=True) == [outer, unsafe]
    # two insertions at the same point overlap (their order would be ambiguous)
    a, b = _diag(src, "TL104", 1, 1, "a"), _diag(src, "TL105", 1, 1, "b")
    assert fixer.choose([a, b], unsafe=False) == [a]


def test_nested_fixes_are_not_lost(fake_engine):
    # The outer fix rewrites the whole call, so the inner fix (inside it) must wait for round 2.
    fake_engine.append(("TL101", r"\bf\((g|G)\(x\)\)", r"F(\1(x))", "safe"))
    fake_engine.append(("TL102", r"\bg\(x\)", "G(x)", "safe"))
    res = fixer.apply_fixes("y = f(g(x))\n", "m.py")
    assert res.source == "y = F(G(x))\n"
    assert sorted(d.code for d in res.applied) == ["TL101", "TL102"]
    assert res.remaining == [] and res.error is None


def test_unsafe_fixes_only_with_unsafe(fake_engine):
    fake_engine.append(("TL103", r"danger\(\)", "safe_call()", "unsafe"))
    res = fixer.apply_fixes("danger()\n")
    assert res.source == "danger()\n" and res.applied == [] and [d.code for d in res.remaining] == ["TL103"]
    res = fixer.apply_fixes("danger()\n", unsafe=True)
    assert res.source == "safe_call()\n" and [d.code for d in res.applied] == ["TL103"] and res.remaining == []


def test_round_that_breaks_syntax_is_rolled_back_keeping_the_good_fixes(fake_engine):
    fake_engine.append(("TL104", r"good\(\)", "fine()", "safe"))
    fake_engine.append(("TL105", r"bad\(\)", "bad((", "safe"))
    src = "good()\nbad()\n"
    res = fixer.apply_fixes(src, "m.py")
    assert res.source == "fine()\nbad()\n"  # the good fix landed, the bad one did not
    assert [d.code for d in res.applied] == ["TL104"]
    assert [d.code for d in res.remaining] == ["TL105"]
    assert res.error.startswith("the fix for TL105 at 2:1 would have produced invalid code (SyntaxError")
    assert res.error.endswith("rolled back")


def test_only_bad_fixes_leave_the_source_untouched(fake_engine):
    fake_engine.append(("TL105", r"bad\(\)", "bad((", "safe"))
    res = fixer.apply_fixes("bad()\n")
    assert res.source == "bad()\n" and res.applied == [] and "rolled back" in res.error


def test_fix_that_does_not_fix_stops(fake_engine):
    fake_engine.append(("TL106", r"a", "a", "safe"))  # replaces a with itself forever
    res = fixer.apply_fixes("a\n", max_rounds=50)
    assert res.source == "a\n" and res.applied == []


def test_oscillating_fixes_stop(fake_engine):
    fake_engine.append(("TL107", r"\bp\b", "q", "safe"))
    fake_engine.append(("TL108", r"\bq\b", "p", "safe"))
    res = fixer.apply_fixes("p\n", max_rounds=50)
    assert res.source in ("p\n", "q\n") and len(res.applied) <= 2


def test_select_and_keep_are_honoured(fake_engine):
    fake_engine.append(("TL101", r"old", "new", "safe"))
    assert fixer.apply_fixes("old\n", select=["TL002"]).source == "old\n"
    res = fixer.apply_fixes("old\n", keep=lambda diags, text: [])
    assert res.source == "old\n" and res.remaining == []


def test_unparsable_input_raises_source_error(fake_engine):
    with pytest.raises(SourceError):
        fixer.apply_fixes("def f(:\n")


def test_unified_diff_marks_missing_final_newline():
    out = fixer.unified_diff("a\nb", "a\nc", "m.py")
    assert out.splitlines() == ["--- a/m.py", "+++ b/m.py", "@@ -1,2 +1,2 @@", " a", "-b",
                                "\\ No newline at end of file", "+c", "\\ No newline at end of file"]
    assert fixer.unified_diff("same\n", "same\n", "m.py") == ""


# -- with the real engine ----------------------------------------------------------


def test_real_tl001_fix():
    res = fixer.apply_fixes(BAD, "m.py", select=["TL001"])
    assert res.error is None
    assert res.source == BAD.replace("y.backward()", "y.sum().backward()")
    assert [(d.code, d.location.row, d.location.column) for d in res.applied] == [("TL001", 4, 1)]
    assert res.remaining == []
    assert fixer.apply_fixes(res.source, "m.py", select=["TL001"]).applied == []


def test_real_fix_keeps_crlf():
    src = BAD.replace("\n", "\r\n")
    res = fixer.apply_fixes(src, "m.py", select=["TL001"])
    assert res.source == src.replace("y.backward()", "y.sum().backward()")


def test_real_fix_of_several_findings_in_one_file():
    src = BAD + "z = x * 3\nz.backward()\n"
    res = fixer.apply_fixes(src, "m.py", select=["TL001"])
    assert res.source.count(".sum().backward()") == 2 and len(res.applied) == 2


def test_remaining_has_no_suppression_applied():
    src = BAD.replace("y.backward()", "y.backward()  # noqa: TL001")
    res = fixer.apply_fixes(src, "m.py", select=["TL001"])
    assert res.source.count("y.sum().backward()") == 1  # without keep=, noqa does not stop a fix
    from torchlint.report.suppression import filter_diagnostics

    res = fixer.apply_fixes(src, "m.py", select=["TL001"], keep=lambda d, t: filter_diagnostics(d, t))
    assert res.source == src and res.applied == []


def test_unified_diff_headers():
    assert fixer.unified_diff("a\n", "b\n", "pkg/m.py").startswith("--- a/pkg/m.py\n+++ b/pkg/m.py\n")
    assert fixer.unified_diff("a\n", "b\n", "/tmp/m.py").startswith("--- /tmp/m.py\n+++ /tmp/m.py\n")
