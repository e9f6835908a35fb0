"""Printing a run's report: the chosen format, ``--statistics``, the fix listing and the summary line.

The command line (:mod:`torchlint.cli`) decides what to print; this module
renders it (through :mod:`torchlint.report.reporters`) and writes it to
standard output or a file.  rich is imported only to colour.
"""
from __future__ import annotations

import sys
from collections import Counter

import click

TEXT_FORMATS = ("full", "concise")


class OutputError(Exception):
    """A report that cannot be written (``--output-file`` or ``FORMAT:PATH``)."""


def render(diags, sources, fmt, color, files=None, unsafe=False) -> str:
    from torchlint.report import reporters

    if fmt == "junit":
        return reporters.junit(diags, sources, files=files)
    if fmt in TEXT_FORMATS:
        return reporters.FORMATS[fmt](diags, sources, color, unsafe=unsafe)
    return reporters.FORMATS[fmt](diags, sources, color)


def emit(text: str, output_file, color: bool = False) -> None:
    """Write a report; ``color`` means ``text`` holds rich markup (only the text formats use it)."""
    if output_file:
        try:
            with open(output_file, "w", encoding="utf-8") as f:
                if color:
                    from rich.console import Console

                    Console(file=f, force_terminal=True, highlight=False, soft_wrap=True,
                            no_color=False).print(text, end="")
                else:
                    f.write(text)
        except OSError as e:
            raise OutputError(f"--output-file: cannot write {output_file}: {e.strerror or e}") from None
        return
    if color:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True, force_terminal=True, no_color=False).print(text, end="")
    else:
        sys.stdout.write(text)
    sys.stdout.flush()  # before any summary on stderr


def report(diags, sources, settings, fmt, color, output_file, quiet, statistics, applied=None, show_fixes=False,
           files=None) -> None:
    unsafe = bool(settings.unsafe_fixes)
    if statistics and fmt == "json":  # as Ruff: the counts as JSON, instead of the findings
        emit(statistics_json(diags, unsafe), output_file)
        return
    body = render(diags, sources, fmt, color, files, unsafe=unsafe)
    if fmt in TEXT_FORMATS:
        # As in Ruff, --statistics prints the counts per rule instead of the findings.
        lines = [statistics_text(diags, unsafe, color)] if statistics else ([body] if diags else [])
        if show_fixes and applied:
            lines.append(fixed_listing(applied, color))
        if not quiet:
            lines.append(summary(diags, settings, applied))
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines if line)
        emit(text, output_file, color)
    else:
        emit(body, output_file)
        if statistics:  # a machine format on standard output: the counts go to standard error
            click.echo(statistics_text(diags, unsafe), err=True, nl=False)


def summary(diags, settings, applied) -> str:
    n = len(diags)
    if applied is not None:
        fixed = len(applied)
        if not n and not fixed:
            return "All checks passed!"
        return f"Found {n + fixed} problem{'s' if n + fixed != 1 else ''} ({fixed} fixed, {n} remaining)."
    if not n:
        return "All checks passed!"
    safe = sum(1 for d in diags if d.fix and (d.fix.applicability == "safe" or settings.unsafe_fixes))
    hidden = sum(1 for d in diags if d.fix and d.fix.applicability == "unsafe" and not settings.unsafe_fixes)
    text = f"Found {n} problem{'s' if n != 1 else ''}"
    if safe:
        text += f" ({safe} fixable with --fix)"
    text += "."
    if hidden:
        text += f"\n{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the --unsafe-fixes option."
    return text


def statistics_rows(diags, unsafe: bool = False) -> list:
    """One row per rule, most findings first: ``{code, name, count, fixable, fixable_count}``.

    ``fixable_count`` counts the findings that ``--fix`` (with these settings) fixes; ``fixable`` is true
    when that is all of them."""
    from torchlint.report.reporters import fixable

    count: Counter = Counter()
    fixed: Counter = Counter()
    names: dict = {}
    for d in diags:
        count[d.code] += 1
        fixed[d.code] += fixable(d, unsafe)
        names.setdefault(d.code, d.name)
    return [{"code": code, "name": names[code], "count": n, "fixable": fixed[code] == n,
             "fixable_count": fixed[code]}
            for code, n in sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))]


def statistics_text(diags, unsafe: bool = False, color: bool = False) -> str:
    """``count<TAB>code<TAB>[*] name``: ``[*]`` when --fix fixes them all, ``[~]`` some, ``[ ]`` none (Ruff's
    marks)."""
    out = []
    for row in statistics_rows(diags, unsafe):
        mark = "[*]" if row["fixable"] else ("[~]" if row["fixable_count"] else "[ ]")
        if color:
            mark = mark.replace("[", "\\[")  # rich markup: a literal bracket
        out.append(f"{row['count']:>5}\t{row['code']}\t{mark} {row['name']}\n")
    return "".join(out)


def statistics_json(diags, unsafe: bool = False) -> str:
    import json

    return json.dumps(statistics_rows(diags, unsafe), indent=2) + "\n"


def fixed_listing(applied, color: bool = False) -> str:
    from torchlint.report.reporters import display_name

    counts = Counter((d.filename, d.code, d.name) for d in applied)
    lines = ["Fixed:"]
    for (filename, code, name), n in sorted(counts.items()):
        shown = display_name(filename)
        lines.append(f"  {shown.replace('[', chr(92) + '[') if color else shown}: {n} x {code} ({name})")
    return "\n".join(lines) + "\n"
