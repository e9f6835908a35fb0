"""A flake8 plugin: ``flake8 --select TL`` runs torchlint's rules.

flake8 hands us the file name and its lines; torchlint analyses the source
itself (flake8's ``tree`` is the ``ast`` module's, which we do not use).
flake8 handles ``# noqa`` itself, so no suppression is applied here.
"""
from __future__ import annotations

from torchlint import __version__


class TorchlintChecker:
    name = "torchlint"
    version = __version__

    def __init__(self, tree=None, filename: str = "<stdin>", lines=None):
        self.filename = filename
        self.lines = lines

    def run(self):
        from torchlint.diagnostics import SourceError
        from torchlint.registry import all_rules
        from torchlint.runner import needs_parsing, triggers_for

        if self.lines is not None:
            source = "".join(self.lines)
        else:
            try:
                with open(self.filename, encoding="utf-8") as f:
                    source = f.read()
            except OSError:
                return
        codes = {r.code for r in all_rules() if r.default}
        if not needs_parsing(source.encode("utf-8", "surrogatepass"), triggers_for(codes)):
            return
        from torchlint.engine import lint_source

        try:
            diags = lint_source(source, self.filename, select=sorted(codes))
        except SourceError:
            return  # flake8 reports syntax errors itself (E999)
        for d in diags:
            yield d.location.row, d.location.column - 1, f"{d.code} {d.message}", type(self)
