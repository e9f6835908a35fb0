"""Code actions: apply one fix, silence one finding with ``# noqa``, fix everything.

* **quickfix** "Fix TL001: Reduce `loss` with .sum() before backward()": the
  finding's own edits.  Unsafe fixes are offered too, labelled "(unsafe fix)",
  since the user picks them one by one; safe ones are the preferred action.
* **quickfix** "Ignore TL001 with `# noqa: TL001`": the comment goes where
  ``torchlint check --add-noqa`` puts it (the last line of the statement,
  merged into a ``# noqa`` already there).
* **source.fixAll.torchlint** (and ``notebook.source.fixAll.torchlint``): what
  ``torchlint check --fix`` would do to the document, round after round, safe
  fixes only unless ``unsafe-fixes`` is set; suppressed findings stay.
"""
from __future__ import annotations

from typing import Optional

from torchlint.server.convert import lsp_diagnostic

QUICKFIX = "quickfix"
FIX_ALL = "source.fixAll.torchlint"
NOTEBOOK_FIX_ALL = "notebook.source.fixAll.torchlint"
KINDS = (QUICKFIX, FIX_ALL, NOTEBOOK_FIX_ALL)


def wanted(kind: str, only) -> bool:
    """Whether the client asked for actions of ``kind`` (``only`` holds kinds or their prefixes)."""
    if not only:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in only)


def _overlaps(a: dict, b: dict) -> bool:
    def key(p):
        return p["line"], p["character"]

    return key(a["start"]) <= key(b["end"]) and key(b["start"]) <= key(a["end"])


def quick_fixes(view, findings: list, uri: str, rng: dict) -> list:
    """The quick fixes for the findings in ``uri`` that touch ``rng``."""
    from torchlint.report.suppression import add_noqa

    actions = []
    noqa = []
    for f in findings:
        if f.uri != uri or not _overlaps(f.range, rng):
            continue
        d = f.diagnostic
        diag = lsp_diagnostic(f)
        if d.fix is not None and d.fix.edits:
            changes = view.fix_edits(d.fix.edits)
            if changes:
                unsafe = d.fix.applicability != "safe"
                actions.append({
                    "title": f"Fix {d.code}: {d.fix.message}" + (" (unsafe fix)" if unsafe else ""),
                    "kind": QUICKFIX, "diagnostics": [diag], "isPreferred": not unsafe,
                    "edit": {"changes": changes}})
        if d.code.startswith("TL") and d.code != "TL999":
            new, added = add_noqa(view.source, [d])
            if added:
                noqa.append({"title": f"Ignore {d.code} with `# noqa: {d.code}`", "kind": QUICKFIX,
                             "diagnostics": [diag], "edit": {"changes": view.text_change(new)}})
    return actions + noqa


def has_fixable(result, unsafe: bool) -> bool:
    return any(d.fix is not None and (d.fix.applicability == "safe" or unsafe) for d in result.diagnostics)


def fix_all_action(kind: str, data: Optional[dict] = None, edit: Optional[dict] = None) -> dict:
    action = {"title": "Fix all torchlint problems" + (" (including unsafe fixes)" if data and data.get("unsafe")
                                                        else ""), "kind": kind}
    if data is not None:
        action["data"] = data
    if edit is not None:
        action["edit"] = edit
    return action


def fix_all_edit(view, path: str, settings) -> dict:
    """The WorkspaceEdit of ``torchlint check --fix`` on the document (``{"changes": {}}`` when nothing changes)."""
    from pathlib import Path

    from torchlint.diagnostics import SourceError
    from torchlint.fix.fixer import apply_fixes
    from torchlint.report import suppression
    from torchlint.runner import _per_file_codes

    ignored = _per_file_codes(Path(path), settings)

    def keep(diags, text):
        return suppression.filter_diagnostics(diags, text, per_file_ignores_codes=ignored)

    try:
        fixed = apply_fixes(view.source, path, select=sorted(settings.select), unsafe=bool(settings.unsafe_fixes),
                            keep=keep)
    except SourceError:
        return {"changes": {}}
    if not fixed.applied:
        return {"changes": {}}
    return {"changes": view.text_change(fixed.source)}
