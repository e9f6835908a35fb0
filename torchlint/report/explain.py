"""``torchlint explain PATH[:LINE]``: every autograd site with what torchlint inferred there, and why.

The machinery is :mod:`torchlint.analysis.explain`; this module finds the files,
runs it and prints the result (text or JSON), or ``--statistics``: the sites
counted by kind and verdict, the share of backward sites with a known verdict,
the constructs that made backward sites Unknown, and the files whose analysis
the interpreter's budget cut short.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

_LINE = re.compile(r"^(?P<path>.+?):(?P<lines>\d+(?:-\d+)?)$")


@click.command("explain")
@click.argument("targets", nargs=-1, type=click.Path(), metavar="PATH[:LINE]...")
@click.option("--statistics", is_flag=True, help="Count the sites by kind and verdict instead of listing them.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["backward", "autograd.grad", "func.grad", "inplace", "requires_grad"]),
              help="Only these kinds of site (repeatable).")
def explain_command(targets, statistics, output_format, kinds):
    """Show what torchlint inferred at every autograd site of PATH (only at LINE, or FIRST-LAST, when given):
    shape, dtype kind, requires_grad, leaf-ness, scalar verdict and origin, and where a value is Unknown, the
    construct that made it so."""
    from torchlint.analysis.explain import explain_source

    wanted = _targets(targets or (".",))
    results = []
    for path, lines, explicit in wanted:
        try:
            data = path.read_bytes()
            from torchlint.runner import decode

            text = decode(data, str(path))[0]
        except Exception as e:  # unreadable or undecodable: say so, go on
            from torchlint.analysis.explain import FileExplanation

            results.append(FileExplanation(str(path), error=getattr(e, "message", None) or str(e)))
            continue
        # a file named on the command line is analysed even without a site the gate sees
        exp = explain_source(text, str(path), lines, gate=not explicit)
        if kinds:
            exp.sites = [s for s in exp.sites if s["kind"] in kinds]
        results.append(exp)
    import json

    if statistics:
        stats = compute_statistics(results)
        click.echo(json.dumps(stats, indent=2) if output_format == "json" else statistics_text(stats), nl=False)
    elif output_format == "json":
        click.echo(json.dumps([_file_json(r) for r in results if r.sites or r.error or r.truncated], indent=2))
    else:
        click.echo(explain_text(results), nl=False)
    sys.exit(2 if any(r.error for r in results) and not any(r.sites for r in results) else 0)


def _targets(targets) -> list:
    """[(file, lines or None, named on the command line)] for PATH[:LINE] arguments (directories are searched
    as ``check`` searches them; notebooks are left out)."""
    from torchlint.workspace.config import ConfigError, build_resolver
    from torchlint.workspace.discovery import discover

    out = []
    plain = []
    for t in targets:
        m = _LINE.match(t)
        if m and not Path(t).exists() and Path(m.group("path")).is_file():
            first, _, last = m.group("lines").partition("-")
            out.append((Path(m.group("path")), set(range(int(first), int(last or first) + 1)), True))
        else:
            plain.append(t)
    if plain:
        try:
            resolver = build_resolver()
            files, problems = discover(plain, resolver.for_path(plain[0]), resolver)
        except ConfigError as e:
            raise click.ClickException(str(e))
        for d in problems:
            click.echo(f"torchlint: error: {d.message}", err=True)
        named = {str(Path(t)) for t in plain if Path(t).is_file()}
        out.extend((Path(f), None, str(Path(f)) in named) for f in files if Path(f).suffix != ".ipynb")
    return out


def truncated_notes(results) -> list:
    """``check --verbose``: one line per checked file whose analysis the interpreter's budget cut short."""
    cut = sorted(str(r.path) for r in results if getattr(r, "truncated", False))
    lines = [f"torchlint: note: the analysis of {p} was cut short by the interpreter's budget: findings there may "
             f"be missing (`torchlint explain {p}` shows what it reached)" for p in cut]
    lines.append(f"torchlint: {len(cut)} of {len(results)} checked file{'s' if len(results) != 1 else ''} "
                 f"cut short by the analysis budget")
    return lines


# -- text -------------------------------------------------------------------------


def _file_json(r) -> dict:
    return {"filename": r.path, "truncated": r.truncated, "error": r.error, "sites": r.sites}


def _yes_no(v, yes="yes", no="no") -> str:
    return "unknown" if v is None else yes if v else no


def site_text(path: str, s: dict) -> list:
    head = f"{path}:{s['line']}:{s['column']}: {s['kind']} `{s['expression']}` ({s['via']}): {s['verdict']}"
    lines = [head]
    if s["value"] == "tensor":
        lines.append(f"    tensor: shape {s['shape'] or 'unknown'}, dtype {s['dtype'] or 'unknown'}, "
                     f"requires_grad {_yes_no(s['requires_grad'], 'True', 'False')}, leaf {_yes_no(s['leaf'])}")
    else:
        lines.append(f"    value: {s['value']}")
    if s.get("note"):
        lines.append(f"    note: {s['note']}")
    if s["origin"]:
        lines.append(f"    origin: {'; '.join(s['origin'])}")
    why = s.get("why")
    if why:
        what = "was not reached" if not s["reached"] else "is Unknown" if s["value"] == "Unknown" \
            else "has an unknown size"
        at = f" (line {why['line']})" if why.get("line") else ""
        lines.append(f"    why: `{s['expression']}` {what}: {why['cause']}{at}")
        if why["steps"]:
            chain = " <- ".join(f"{st['text']} (line {st['line']})" if st.get("line") else st["text"]
                                for st in why["steps"])
            lines.append(f"    via: {chain}")
    return lines


def explain_text(results) -> str:
    out = []
    for r in results:
        if r.error:
            out.append(f"{r.path}: not analysed: {r.error}")
            continue
        for s in r.sites:
            out.extend(site_text(r.path, s))
        if r.truncated:
            out.append(f"{r.path}: note: the analysis of this file was cut short by the interpreter's budget; "
                       f"sites it did not reach are Unknown")
    n = sum(len(r.sites) for r in results)
    out.append(f"{n} autograd site{'s' if n != 1 else ''}." if n else "No autograd site found.")
    return "\n".join(out) + "\n"


# -- statistics -------------------------------------------------------------------


def compute_statistics(results) -> dict:
    from torchlint.analysis.explain import VERDICTS

    kinds: dict = {}
    causes: dict = {}
    for r in results:
        for s in r.sites:
            row = kinds.setdefault(s["kind"], dict.fromkeys(VERDICTS, 0))
            row[s["verdict"]] += 1
            if s["kind"] == "backward" and s["verdict"] == "unknown" and s.get("why"):
                k = s["why"]["kind"]
                causes[k] = causes.get(k, 0) + 1
    back = kinds.get("backward", dict.fromkeys(VERDICTS, 0))
    total = sum(back.values())
    known = total - back["unknown"]
    return {
        "sites": {k: {**v, "total": sum(v.values())} for k, v in sorted(kinds.items())},
        "backward": {"known": known, "total": total, "share": round(known / total, 4) if total else None},
        "unknown_backward_causes": dict(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "files": {"analysed": sum(1 for r in results if r.analysed and not r.error),
                  "with_sites": sum(1 for r in results if r.sites),
                  "errors": sum(1 for r in results if r.error),
                  "truncated": sum(1 for r in results if r.truncated),
                  "truncated_files": sorted(r.path for r in results if r.truncated)},
    }


def statistics_text(stats: dict) -> str:
    from torchlint.analysis.explain import VERDICTS

    cols = list(VERDICTS) + ["total"]
    width = max([len("kind")] + [len(k) for k in stats["sites"]])
    out = [f"{'kind':<{width}}  " + "  ".join(f"{c:>{len(c)}}" for c in cols)]
    for kind, row in stats["sites"].items():
        out.append(f"{kind:<{width}}  " + "  ".join(f"{row[c]:>{len(c)}}" for c in cols))
    b = stats["backward"]
    if b["total"]:
        out.append(f"backward sites with a known verdict: {b['known']} of {b['total']} ({b['share']:.1%})")
    else:
        out.append("backward sites with a known verdict: 0 of 0")
    if stats["unknown_backward_causes"]:
        out.append("unknown backward sites by cause: " + ", ".join(
            f"{k} {n}" for k, n in stats["unknown_backward_causes"].items()))
    f = stats["files"]
    out.append(f"files: {f['analysed']} analysed, {f['with_sites']} with sites, {f['truncated']} cut short by the "
               f"analysis budget, {f['errors']} not analysable")
    return "\n".join(out) + "\n"
