"""Every fixture, checked three ways (design.md section 4).

1. static: torchlint's findings equal the ``# expect:`` annotations, as a set
   of (line, code[, severity]);
2. oracle: real PyTorch raises the rule's error on the first annotated line, or
   the program runs clean (``# oracle: effect`` fixtures run clean and assert
   the bug's effect themselves);
3. fix: applying every fix-it gives a program that runs clean under torch and
   lints clean, and fixing again changes nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from torchlint import registry
from torchlint.engine import lint_source

EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>TL\d{3}(?:\[\w+\])?(?:\s*,\s*TL\d{3}(?:\[\w+\])?)*)")
CODE = re.compile(r"(TL\d{3})(?:\[(\w+)\])?")
ORACLE = re.compile(r"^#\s*oracle:\s*(?P<mode>effect|skip)\b(?:\s*--\s*(?P<why>.*))?", re.M)

ALL_CODES = [r.code for r in registry.all_rules()]
PROJECTS = FIXTURES / "projects"  # multi-file projects: tests/test_projects.py
FILES = sorted(p for p in FIXTURES.rglob("*.py") if PROJECTS not in p.parents)


def annotations(source: str) -> list:
    """[(line, code, severity or None)] in source order."""
    found = []
    for lineno, line in enumerate(source.splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            for code, severity in CODE.findall(m.group("codes")):
                found.append((lineno, code, severity or None))
    return found


def oracle_mode(source: str):
    m = ORACLE.search(source)
    return (m.group("mode"), m.group("why")) if m else (None, None)


def ids(paths):
    return [str(p.relative_to(FIXTURES)) for p in paths]


def test_there_are_fixtures():
    assert len(FILES) >= 60


# fixtures/real/ are reductions of real reports: their annotations are the truth that
# real torch confirms, not what torchlint finds today. Precision is exact there (no
# finding off an annotation); recall is measured over the corpus (test_real_corpus.py).
REAL = FIXTURES / "real"
ENGINE_FILES = [p for p in FILES if REAL not in p.parents]


@pytest.mark.parametrize("path", ENGINE_FILES, ids=ids(ENGINE_FILES))
def test_static_findings_equal_annotations(path: Path):
    source = path.read_text(encoding="utf-8")
    expected = annotations(source)
    got = lint_source(source, str(path.relative_to(ROOT)), select=ALL_CODES)
    assert sorted({(line, code) for line, code, _ in expected}) == sorted({(d.location.row, d.code) for d in got}), \
        "\n".join(f"{d.location.row}: {d.code} [{d.severity}] {d.message}" for d in got) or "no findings"
    by_line = {(d.location.row, d.code): d.severity for d in got}
    for line, code, severity in expected:
        if severity:
            assert by_line[(line, code)] == severity, f"line {line}: expected {severity}, got {by_line[(line, code)]}"


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_real_torch_agrees(path: Path, oracle):
    source = path.read_text(encoding="utf-8")
    expected = annotations(source)
    mode, why = oracle_mode(source)
    if mode == "skip":
        pytest.skip(f"oracle skipped by the fixture: {why}")
    result = oracle.run(path)
    if mode == "effect":
        # The bug does not raise (or only on hardware we lack): the program runs clean and
        # sets EFFECT to what real torch shows of the bug (gradients that grew, per-GPU losses).
        assert result.outcome == "clean", f"expected a clean run, got {result}"
        assert result.effect is True, "an '# oracle: effect' fixture must set EFFECT = <the bug's effect, shown by torch>"
        return
    if not expected:
        assert result.outcome == "clean", f"expected a clean run, got {result}"
        return
    first_line, code, _ = expected[0]
    rule = registry.get_rule(code)
    predicted = getattr(rule, "runtime_error", None)
    assert predicted, f"{code} does not raise at run time; its fixtures must use '# oracle: effect'"
    exc_type, fragment = predicted
    assert result.outcome == "raised", f"expected {exc_type} at line {first_line}, the program ran {result}"
    assert result.type == exc_type and fragment in result.message, f"expected {exc_type}: {fragment!r}, got {result}"
    assert first_line in result.lines, f"expected the error at line {first_line}, traceback lines {result.lines}"


FIXABLE = []
for _p in FILES:
    _src = _p.read_text(encoding="utf-8")
    if annotations(_src):
        FIXABLE.append(_p)


@pytest.mark.parametrize("path", FIXABLE, ids=ids(FIXABLE))
def test_fixes_run_clean_and_lint_clean(path: Path, oracle):
    from torchlint.fix.fixer import apply_fixes

    source = path.read_text(encoding="utf-8")
    rel = str(path.relative_to(ROOT))
    result = apply_fixes(source, rel, select=ALL_CODES, unsafe=True)
    assert result.error is None, result.error
    if not result.applied:
        pytest.skip("no fix-it for these findings")
    fixed_codes = {d.code for d in result.applied}
    left = [d for d in result.remaining if d.code in fixed_codes]
    assert not left, "still flagged after fixing:\n" + "\n".join(f"{d.location.row}: {d.code} {d.message}" for d in left)
    outcome = oracle.run_source(result.source, path.name)
    mode, _ = oracle_mode(source)
    if result.remaining:
        # other findings without a fix stay; the program may still raise for them
        return
    if REAL in path.parents and outcome.outcome == "raised":
        # a real program may fail later for another reason of the same root cause (a per-channel loss
        # also passed to .item()); the fix must remove the failure each rule predicts
        for code in fixed_codes:
            predicted = getattr(registry.get_rule(code), "runtime_error", None)
            assert not (predicted and outcome.type == predicted[0] and predicted[1] in outcome.message), \
                f"the fixed program still fails as {code} predicts: {outcome}"
        return
    assert outcome.outcome == "clean", f"the fixed program did not run clean: {outcome}\n{result.source}"
    again = apply_fixes(result.source, rel, select=ALL_CODES, unsafe=True)
    assert again.source == result.source, "a second --fix changed the program again"
