"""Output formats: full, concise, json, json-lines, sarif, github, gitlab (Code Quality), junit.

Every reporter takes the sorted diagnostics (findings and file errors) and the
sources, and returns text.  ``full`` shows a code frame with a caret under the
finding and a ``help:`` line with the fix; colour (via rich) only when asked.
"""
from __future__ import annotations

import json
import re
from typing import Optional

from torchlint import __version__
from torchlint.diagnostics import Diagnostic

TOOL_URI = "https://github.com/torchlint/torchlint"
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _lines(source: Optional[str]) -> list:
    if not source:
        return []
    lines = _NEWLINE.split(source)
    if lines and lines[-1] == "":  # the final newline does not start another line
        lines.pop()
    return lines


def _fix_help(d: Diagnostic) -> Optional[str]:
    if d.fix is None:
        return None
    kind = "safe fix" if d.fix.applicability == "safe" else "unsafe fix (needs --unsafe-fixes)"
    return f"{d.fix.message} [{kind}]"


def _cell_path(d: Diagnostic) -> str:
    return d.filename


def fixable(d: Diagnostic, unsafe: bool) -> bool:
    """``--fix`` would apply this finding's fix (marked ``[*]``, as Ruff does)."""
    return d.fix is not None and (d.fix.applicability == "safe" or unsafe)


def full(diags: list, sources: dict, color: bool = False, unsafe: bool = False) -> str:
    """``path:row:col: CODE [*] message``, a code frame with a caret, the rule name and a ``help:`` line.

    ``[*]`` marks findings that ``--fix`` fixes (unsafe fixes only count with ``unsafe``)."""
    out = []
    for d in diags:
        sev = d.severity
        star = fixable(d, unsafe)
        head = f"{d.filename}:{d.location.row}:{d.location.column}: {d.code} {'[*] ' if star else ''}{d.message}"
        if color:
            style = "bold red" if sev == "error" else "bold yellow"
            head = (f"[bold]{_esc(d.filename)}[/bold]:{d.location.row}:{d.location.column}: "
                    f"[{style}]{d.code}[/{style}] {'[cyan][*][/cyan] ' if star else ''}{_esc(d.message)}")
        out.append(head)
        lines = _lines(sources.get(d.filename))
        row = d.location.row
        if lines and 1 <= row <= len(lines):
            width = len(str(min(row + 1, len(lines))))
            for r in range(max(1, row - 1), min(len(lines), row + 1) + 1):
                text = lines[r - 1].expandtabs(4)
                out.append(f"{r:>{width}} | {_esc(text) if color else text}")
                if r == row:
                    raw = lines[r - 1]
                    start = d.location.column - 1
                    end = d.end_location.column - 1 if d.end_location.row == row else len(raw)
                    # columns are characters of the raw line; the frame shows tabs expanded
                    shown_start = len(raw[:start].expandtabs(4))
                    length = max(1, len(raw[:max(end, start)].expandtabs(4)) - shown_start)
                    caret = " " * (width + 3 + shown_start) + "^" * length
                    out.append(f"[{'red' if sev == 'error' else 'yellow'}]{caret}[/]" if color else caret)
        label = "error" if sev == "error" else "warning"
        out.append(f"  = {label}: {d.name}")
        h = _fix_help(d)
        if h:
            out.append(f"  = help: {_esc(h) if color else h}")
        for note in d.notes:
            out.append(f"  = note: {note}")
        out.append("")
    return "\n".join(out)


def _esc(text: str) -> str:
    return text.replace("[", "\\[")


def concise(diags: list, sources: dict, color: bool = False, unsafe: bool = False) -> str:
    """One line per finding: ``path:row:col: CODE [*] message``."""
    return "".join(f"{d.filename}:{d.location.row}:{d.location.column}: {d.code} "
                   f"{'[*] ' if fixable(d, unsafe) else ''}{d.message}\n" for d in diags)


def _url(d: Diagnostic) -> Optional[str]:
    from torchlint.registry import get_rule

    rule = get_rule(d.code) if d.code.startswith("TL") else None
    return rule.url() if rule else None


def _split_cell(filename: str) -> tuple:
    """``("nb.ipynb", 4)`` for a notebook finding's ``"nb.ipynb:cell 4"``; ``(filename, None)`` otherwise."""
    if ":cell " in filename:
        path, cell = filename.rsplit(":cell ", 1)
        if cell.isdigit():
            return path, int(cell)
    return filename, None


def _json_obj(d: Diagnostic) -> dict:
    filename, cell = _split_cell(d.filename)
    return {
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "severity": d.severity,
        # as in Ruff: a notebook finding names the .ipynb file, and its rows count within ``cell``
        "filename": filename,
        "cell": cell,
        "location": {"row": d.location.row, "column": d.location.column},
        "end_location": {"row": d.end_location.row, "column": d.end_location.column},
        "fix": None if d.fix is None else {
            "applicability": d.fix.applicability,
            "message": d.fix.message,
            "edits": [{"content": e.content, "location": {"row": e.location.row, "column": e.location.column},
                       "end_location": {"row": e.end_location.row, "column": e.end_location.column}}
                      for e in d.fix.edits],
        },
        "url": _url(d),
    }


def json_format(diags: list, sources: dict, color: bool = False) -> str:
    return json.dumps([_json_obj(d) for d in diags], indent=2) + "\n"


def json_lines(diags: list, sources: dict, color: bool = False) -> str:
    return "".join(json.dumps(_json_obj(d)) + "\n" for d in diags)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _file_position(d: Diagnostic) -> tuple:
    """(file, start row, start col, end row, end col, message) for formats that point into files.

    A notebook finding's rows count within its cell, not within the ``.ipynb``
    JSON, so it points at the top of the file and says where in the message."""
    if ":cell " in d.filename:
        filename, cell = d.filename.split(":cell ", 1)
        where = f"cell {cell}, line {d.location.row}, column {d.location.column}"
        return filename, 1, 1, 1, 1, f"{where}: {d.message}"
    return d.filename, d.location.row, d.location.column, d.end_location.row, d.end_location.column, d.message


def github(diags: list, sources: dict, color: bool = False) -> str:
    """GitHub Actions workflow commands: ``::error title=...,file=...,line=...::message``."""
    out = []
    for d in diags:
        level = "error" if d.severity == "error" else "warning"
        filename, row, col, end_row, end_col, message = _file_position(d)
        out.append(f"::{level} title={_gh_escape('torchlint (' + d.code + ')', True)},file={_gh_escape(filename, True)},"
                   f"line={row},col={col},endLine={end_row},"
                   f"endColumn={end_col}::{_gh_escape(d.code + ' ' + message)}")
    return "\n".join(out) + ("\n" if out else "")


def sarif(diags: list, sources: dict, color: bool = False) -> str:
    from torchlint.registry import all_rules

    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for d in diags:
        filename, row, col, end_row, end_col, message = _file_position(d)
        res = {
            "ruleId": d.code,
            "level": "error" if d.severity == "error" else "warning",
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": filename.replace("\\", "/")},
                "region": {"startLine": row, "startColumn": col, "endLine": end_row, "endColumn": end_col},
            }}],
        }
        if d.code in index:
            res["ruleIndex"] = index[d.code]
        if d.fix is not None and ":cell " not in d.filename:  # edits in a cell are not edits of the JSON file
            res["fixes"] = [{
                "description": {"text": d.fix.message},
                "artifactChanges": [{
                    "artifactLocation": {"uri": filename.replace("\\", "/")},
                    "replacements": [{
                        "deletedRegion": {"startLine": e.location.row, "startColumn": e.location.column,
                                          "endLine": e.end_location.row, "endColumn": e.end_location.column},
                        "insertedContent": {"text": e.content},
                    } for e in d.fix.edits],
                }],
            }]
        results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "columnKind": "unicodeCodePoints",  # our columns count characters, not UTF-16 units
            "tool": {"driver": {
                "name": "torchlint",
                "version": __version__,
                "informationUri": TOOL_URI,
                "rules": [{
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.summary},
                    "help": {"text": r.doc.strip(), "markdown": r.doc.strip()},
                    "helpUri": r.url(),
                    "defaultConfiguration": {"level": "error"},
                } for r in rules],
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def junit(diags: list, sources: dict, color: bool = False, files: Optional[list] = None) -> str:
    from xml.sax.saxutils import escape, quoteattr

    by_file: dict = {}
    for d in diags:
        by_file.setdefault(d.filename, []).append(d)
    for f in files or []:
        by_file.setdefault(str(f), [])
    cases = []
    failures = 0
    for filename in sorted(by_file):
        found = by_file[filename]
        if not found:
            cases.append(f'    <testcase name={quoteattr(filename)} classname="torchlint"/>')
            continue
        for d in found:
            failures += 1
            name = f"{filename}:{d.location.row}:{d.location.column} {d.code}"
            cases.append(f"    <testcase name={quoteattr(name)} classname={quoteattr(filename)}>\n"
                         f"      <failure type={quoteattr(d.code)} message={quoteattr(d.message)}>"
                         f"{escape(f'{filename}:{d.location.row}:{d.location.column}: {d.code} {d.message}')}</failure>\n"
                         f"    </testcase>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="torchlint" tests="{len(cases)}" failures="{failures}">\n'
            f'  <testsuite name="torchlint" tests="{len(cases)}" failures="{failures}" errors="0">\n'
            + "\n".join(cases) + ("\n" if cases else "") +
            "  </testsuite>\n</testsuites>\n")


_GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def gitlab(diags: list, sources: dict, color: bool = False) -> str:
    """A GitLab Code Quality report (the Code Climate issue format GitLab reads from ``artifacts:reports``).

    Each finding gets a fingerprint that stays the same while the finding does (the file, the rule, the
    message and, for identical findings in one file, their order), so GitLab can tell new findings from
    old ones across commits even when lines move."""
    import hashlib

    out = []
    seen: dict = {}
    for d in diags:
        filename, cell = _split_cell(d.filename)
        key = (filename, d.code, d.message)
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256("\0".join((*map(str, key), str(seen[key]))).encode()).hexdigest()
        where = f"cell {cell}, line {d.location.row}: " if cell is not None else ""
        out.append({
            "description": f"{d.code} {where}{d.message}",
            "check_name": d.code,
            "fingerprint": fingerprint,
            "severity": _GITLAB_SEVERITY.get(d.severity, "info"),
            "location": {"path": filename,
                         "lines": {"begin": d.location.row if cell is None else 1,
                                   "end": d.end_location.row if cell is None else 1}},
        })
    return json.dumps(out, indent=2) + "\n"


FORMATS = {
    "full": full, "concise": concise, "json": json_format, "json-lines": json_lines,
    "sarif": sarif, "github": github, "gitlab": gitlab, "junit": junit,
}
