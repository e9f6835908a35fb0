"""Output formats: full, concise, json, json-lines, sarif, github, gitlab (Code Quality), junit.

Every reporter takes the sorted diagnostics (findings and file errors) and the
sources, and returns text.  ``full`` shows a code frame with a caret under the
finding and a ``help:`` line with the fix; colour (via rich) only when asked.

File names are shown as Ruff shows them: bytes that are not UTF-8 (a name read
with ``surrogateescape``) become U+FFFD, so every format can be written and
parsed; SARIF's URIs percent-encode the real bytes instead.  SARIF and GitLab
name files relative to the repository (the closest directory above the current
one holding ``.git``, else the current directory).
"""
from __future__ import annotations

import os
import re
from typing import Optional

from torchlint import __version__
from torchlint.diagnostics import Diagnostic, split_cell

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


def display_name(text: str) -> str:
    """``text`` (a file name, or a message naming one) with undecodable bytes shown as U+FFFD, as Ruff does."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that did not come from surrogateescape
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _cells(text: str) -> int:
    """How many terminal cells ``text`` takes (wide CJK and emoji take two); rich only for non-ASCII text."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def repo_root(start: Optional[str] = None) -> str:
    """The repository the report's paths are relative to: the closest directory holding ``.git`` (a
    directory, or the file a worktree has), from ``start`` (the current directory) upwards; else ``start``."""
    here = os.path.abspath(start or os.getcwd())
    d = here
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return here
        d = parent


def _in_repo(filename: str, root: str) -> Optional[str]:
    """``filename`` as a POSIX path relative to ``root``, or None when it lies outside."""
    path = os.path.abspath(filename)
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


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
        out.append(_head(d, star, color))
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
                    # columns are characters of the raw line; the frame shows tabs expanded, and a wide
                    # character (CJK, emoji) takes two terminal cells
                    shown_start = _cells(raw[:start].expandtabs(4))
                    length = max(1, _cells(raw[:max(end, start)].expandtabs(4)) - shown_start)
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


def _head(d: Diagnostic, star: bool, color: bool) -> str:
    """``path:row:col: CODE [*] message`` (rich markup when ``color``)."""
    filename, message = display_name(d.filename), display_name(d.message)
    if not color:
        return f"{filename}:{d.location.row}:{d.location.column}: {d.code} {'[*] ' if star else ''}{message}"
    style = "bold red" if d.severity == "error" else "bold yellow"
    return (f"[bold]{_esc(filename)}[/bold]:{d.location.row}:{d.location.column}: "
            f"[{style}]{d.code}[/{style}] {'[cyan][*][/cyan] ' if star else ''}{_esc(message)}")


def concise(diags: list, sources: dict, color: bool = False, unsafe: bool = False) -> str:
    """One line per finding: ``path:row:col: CODE [*] message``."""
    return "".join(_head(d, fixable(d, unsafe), color) + "\n" for d in diags)


def _url(d: Diagnostic) -> Optional[str]:
    from torchlint.registry import get_rule

    rule = get_rule(d.code) if d.code.startswith("TL") else None
    return rule.url() if rule else None


_split_cell = split_cell


def _json_obj(d: Diagnostic) -> dict:
    filename, cell = _split_cell(d.filename)
    return {
        "code": d.code,
        "name": d.name,
        "message": display_name(d.message),
        "severity": d.severity,
        # as in Ruff: a notebook finding names the .ipynb file, and its rows count within ``cell``
        # (its fix's edits too)
        "filename": display_name(filename),
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
    import json

    return json.dumps([_json_obj(d) for d in diags], indent=2) + "\n"


def json_lines(diags: list, sources: dict, color: bool = False) -> str:
    import json

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
    filename, cell = split_cell(d.filename)
    if cell is not None:
        where = f"cell {cell}, line {d.location.row}, column {d.location.column}"
        return filename, 1, 1, 1, 1, f"{where}: {display_name(d.message)}"
    return (filename, d.location.row, d.location.column, d.end_location.row, d.end_location.column,
            display_name(d.message))


def github(diags: list, sources: dict, color: bool = False) -> str:
    """GitHub Actions workflow commands: ``::error title=...,file=...,line=...::message``."""
    out = []
    for d in diags:
        level = "error" if d.severity == "error" else "warning"
        filename, row, col, end_row, end_col, message = _file_position(d)
        out.append(f"::{level} title={_gh_escape('torchlint (' + d.code + ')', True)},"
                   f"file={_gh_escape(display_name(filename), True)},"
                   f"line={row},col={col},endLine={end_row},"
                   f"endColumn={end_col}::{_gh_escape(d.code + ' ' + message)}")
    return "\n".join(out) + ("\n" if out else "")


SRCROOT = "%SRCROOT%"


def _file_uri(path: str) -> str:
    """``file:///abs/path``, percent-encoded from the path's real bytes."""
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


def _base_uri(root: str) -> str:
    uri = _file_uri(root)
    return uri if uri.endswith("/") else uri + "/"


def _artifact(filename: str, root: str) -> dict:
    """A SARIF artifactLocation: relative to %SRCROOT% (the repository) when inside it, else a file:// URI."""
    from urllib.parse import quote_from_bytes

    rel = _in_repo(filename, root)
    if rel is None:
        return {"uri": _file_uri(filename)}
    return {"uri": quote_from_bytes(os.fsencode(rel), safe="/"), "uriBaseId": SRCROOT}


def sarif(diags: list, sources: dict, color: bool = False, root: Optional[str] = None) -> str:
    import json

    from torchlint.registry import all_rules

    root = root or repo_root()
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for d in diags:
        filename, row, col, end_row, end_col, message = _file_position(d)
        where = _artifact(filename, root)
        res = {
            "ruleId": d.code,
            "level": "error" if d.severity == "error" else "warning",
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": where,
                "region": {"startLine": row, "startColumn": col, "endLine": end_row, "endColumn": end_col},
            }}],
        }
        if d.code in index:
            res["ruleIndex"] = index[d.code]
        if d.fix is not None and split_cell(d.filename)[1] is None:  # edits in a cell are not edits of the JSON
            res["fixes"] = [{
                "description": {"text": d.fix.message},
                "artifactChanges": [{
                    "artifactLocation": dict(where),
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
            # a base URI ends in "/" (SARIF 3.14.14): the relative URIs above resolve against it
            "originalUriBaseIds": {SRCROOT: {"uri": _base_uri(root)}},
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
                    "defaultConfiguration": {"level": "warning" if r.severity == "warning" else "error"},
                } for r in rules],
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def junit(diags: list, sources: dict, color: bool = False, files: Optional[list] = None) -> str:
    """JUnit XML: a test case per finding, and one per file without any (a notebook is one file, whatever
    cells its findings are in)."""
    from xml.sax.saxutils import escape, quoteattr

    by_file: dict = {}
    for d in diags:
        by_file.setdefault(split_cell(d.filename)[0], []).append(d)
    for f in files or []:
        by_file.setdefault(str(f), [])
    cases = []
    failures = 0
    for filename in sorted(by_file):
        found = by_file[filename]
        shown = display_name(filename)
        if not found:
            cases.append(f'    <testcase name={quoteattr(shown)} classname="torchlint"/>')
            continue
        for d in found:
            failures += 1
            where = f"{display_name(d.filename)}:{d.location.row}:{d.location.column}"
            message = display_name(d.message)
            cases.append(f"    <testcase name={quoteattr(f'{where} {d.code}')} classname={quoteattr(shown)}>\n"
                         f"      <failure type={quoteattr(d.code)} message={quoteattr(message)}>"
                         f"{escape(f'{where}: {d.code} {message}')}</failure>\n"
                         f"    </testcase>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="torchlint" tests="{len(cases)}" failures="{failures}">\n'
            f'  <testsuite name="torchlint" tests="{len(cases)}" failures="{failures}" errors="0">\n'
            + "\n".join(cases) + ("\n" if cases else "") +
            "  </testsuite>\n</testsuites>\n")


_GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def gitlab(diags: list, sources: dict, color: bool = False, root: Optional[str] = None) -> str:
    """A GitLab Code Quality report (the Code Climate issue format GitLab reads from ``artifacts:reports``).

    Paths are relative to the repository, as GitLab needs them.  Each finding gets a fingerprint that stays
    the same while the finding does (the file, the rule, the message and, for identical findings in one
    file, their order), so GitLab can tell new findings from old ones across commits even when lines move."""
    import json

    import hashlib

    root = root or repo_root()
    out = []
    seen: dict = {}
    for d in diags:
        filename, cell = split_cell(d.filename)
        path = display_name(_in_repo(filename, root) or filename)
        message = display_name(d.message)
        key = (path, d.code, message)
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256("\0".join((*key, str(seen[key]))).encode()).hexdigest()
        where = f"cell {cell}, line {d.location.row}: " if cell is not None else ""
        out.append({
            "description": f"{d.code} {where}{message}",
            "check_name": d.code,
            "fingerprint": fingerprint,
            "severity": _GITLAB_SEVERITY.get(d.severity, "info"),
            "location": {"path": path,
                         "lines": {"begin": d.location.row if cell is None else 1,
                                   "end": d.end_location.row if cell is None else 1}},
        })
    return json.dumps(out, indent=2) + "\n"


FORMATS = {
    "full": full, "concise": concise, "json": json_format, "json-lines": json_lines,
    "sarif": sarif, "github": github, "gitlab": gitlab, "junit": junit,
}
