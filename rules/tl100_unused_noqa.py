"""TL100 unused-noqa (Ruff's RUF100): judged in torchlint.report.suppression, after the other rules."""
from __future__ import annotations

from torchlint.registry import Rule


class UnusedNoqa(Rule):
    code = "TL100"
    name = "unused-noqa"
    summary = "a # noqa or # torchlint: ignore[...] code that suppresses nothing"
    # the directive must be in the file; the rest is decided from comments, never by parsing
    triggers = ("noqa", "NOQA", "NoQA", "ignore[")
    phase = "suppression"
    severity = "warning"
    fix = "always"
    file_facts = ()
    default = False
    doc = """
## What it does
Finds `# noqa: CODE` and `# torchlint: ignore[CODE]` comments that name a
torchlint code with no finding to suppress on the lines the comment covers
(its line, or every line of the statement it ends), and codes that torchlint
does not know (`TL042`). It is Ruff's `RUF100`, and is off by default: turn it
on with `--extend-select TL100` (or `extend-select = ["TL100"]`).

## Why is this bad?
A suppression outlives the finding it was written for: once the code is
fixed, `# noqa: TL001` silences nothing, but it will silence the next real
bug on that line. The comments that `--add-noqa` writes to adopt torchlint in
an existing code base are meant to go away as the findings are fixed; TL100
finds the ones that can go now.

## Example
```python
import torch
x = torch.ones(2, requires_grad=True)
(x * x).sum().backward()  # noqa: TL001
```

## Use instead
```python
import torch
x = torch.ones(2, requires_grad=True)
(x * x).sum().backward()
```

## Fix safety
The fix is **safe**: it removes only what suppresses nothing. It drops the
dead codes from the comment (`# noqa: E501, TL001` becomes `# noqa: E501`),
or the whole directive when no code is left (the comment's line too, when the
comment stood alone on it); other text in the comment stays.

## Known limits
TL100 only judges what this run can see:
* the codes of rules that did not run (not selected, `--select TL005` leaves
  `# noqa: TL001` alone) and other tools' codes (`E501`, `F401`) are never
  reported;
* a bare `# noqa` is left alone (other tools read it too), as is a comment that
  names `TL100` itself (`# noqa: TL001, TL100` keeps the comment);
* file-level `# torchlint: noqa` lines and `per-file-ignores` are not judged;
* a file with a syntax error is not judged;
* `--add-noqa` never writes `TL100`: a dead directive is removed, not kept.
"""

    def check(self, ctx):  # never called: the engine runs only phase "analysis" rules
        return ()
