"""Recall and false positives of torchlint on fixtures/real/, the corpus of real cases.

    python benchmarks/real_corpus.py            # print the table and the two numbers
    python benchmarks/real_corpus.py --write    # also rewrite the table in fixtures/real/README.md

A bug case is *found* when torchlint reports the annotated code on an annotated
line; a *false positive* is any finding on a line that carries no annotation for
its code (in a correct case, any finding at all). tests/test_real_corpus.py
keeps the README's table and numbers equal to what this computes.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
README = REAL / "README.md"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>TL\d{3}(?:\[\w+\])?(?:\s*,\s*TL\d{3}(?:\[\w+\])?)*)")
FIELD = re.compile(r"^(Source|Kind|Rule|Changed):\s*(.*)$", re.M)
BEGIN, END = "<!-- table: begin -->", "<!-- table: end -->"


@dataclass
class Case:
    name: str
    source: str
    kind: str  # 'bug' or 'correct'
    rule: str
    found: bool
    false_positives: list  # ["line: CODE", ...]


def annotations(text: str) -> set:
    out = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            out |= {(lineno, c) for c in re.findall(r"TL\d{3}", m.group("codes"))}
    return out


def cases() -> list:
    sys.path.insert(0, str(ROOT))
    from torchlint import registry
    from torchlint.engine import lint_source

    codes = [r.code for r in registry.all_rules()]
    out = []
    for path in sorted(REAL.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        fields = dict(FIELD.findall(text.split('"""', 2)[1] if text.startswith('"""') else ""))
        expected = annotations(text)
        got = {(d.location.row, d.code) for d in lint_source(text, str(path.relative_to(ROOT)), select=codes)}
        kind = fields.get("Kind", "bug" if expected else "correct").split()[0].strip().lower()
        out.append(Case(path.name, fields.get("Source", "").strip(), kind, fields.get("Rule", "").strip(),
                        bool(got & expected), [f"{line}: {code}" for line, code in sorted(got - expected)]))
    return out


def summary(cs: list) -> tuple:
    bugs = [c for c in cs if c.kind == "bug"]
    found = sum(c.found for c in bugs)
    fps = sum(len(c.false_positives) for c in cs)
    return len(cs), len(bugs), found, fps


def table(cs: list) -> str:
    total, nbugs, found, fps = summary(cs)
    lines = [BEGIN,
             f"**{total} cases: {nbugs} bugs and {total - nbugs} correct programs. Recall on the bugs: "
             f"{found}/{nbugs} = {found / max(nbugs, 1):.2f}. False positives: {fps}.**", "",
             "| case | rule | kind | torchlint | source |", "| --- | --- | --- | --- | --- |"]
    for c in cs:
        verdict = ("found" if c.found else "missed") if c.kind == "bug" else "clean"
        if c.false_positives:
            verdict += " (false positive: " + ", ".join(c.false_positives) + ")"
        lines.append(f"| `{c.name}` | {c.rule} | {c.kind} | {verdict} | {c.source} |")
    lines.append(END)
    return "\n".join(lines)


def readme_with_table(text: str, cs: list) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + table(cs) + text[end:]


def main() -> int:
    cs = cases()
    total, nbugs, found, fps = summary(cs)
    print(table(cs))
    if "--write" in sys.argv:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8"), cs), encoding="utf-8")
    print(f"\nrecall {found}/{nbugs} = {found / max(nbugs, 1):.2f}, false positives {fps}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
