"""The command line, modelled on Ruff's: ``torchlint check``, ``rule``, ``rules``, ``clean``.

Exit codes: 0 when nothing is left to report, 1 when findings remain (syntax
and I/O errors count as findings), 2 for bad usage or configuration and for
internal errors.  ``--exit-zero`` turns 1 into 0.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from torchlint import __version__
from torchlint.report import output
from torchlint.settings import OUTPUT_FORMATS

FORMATS = OUTPUT_FORMATS
TEXT_FORMATS = output.TEXT_FORMATS
PROGRESS_MIN_FILES = 10


@dataclass(frozen=True)
class ExitPolicy:
    """The exit code of a check: 2 for internal and fix errors (always), then ``--exit-zero`` (0), then
    ``--exit-non-zero-on-fix`` (1 when a fix was applied), then findings (1), unless ``--fix-only``."""

    exit_zero: bool = False
    fix_only: bool = False
    non_zero_on_fix: bool = False

    def code(self, diags, applied, internal: bool) -> int:
        if internal:
            return 2
        if self.exit_zero:
            return 0
        if self.non_zero_on_fix and applied:
            return 1
        return 0 if self.fix_only or not diags else 1


def _emit(text: str, output_file, color: bool = False) -> None:
    try:
        output.emit(text, output_file, color)
    except output.OutputError as e:
        _fail(str(e))


def _report(*args, **kwargs) -> None:
    try:
        output.report(*args, **kwargs)
    except output.OutputError as e:
        _fail(str(e))


_render = output.render


def _split(values) -> list:
    out = []
    for v in values or ():
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _fail(message: str) -> None:
    click.echo(f"torchlint: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="torchlint", message="%(prog)s %(version)s")
def cli():
    """torchlint: find autograd misuse in PyTorch code before it runs."""


@cli.command()
def version():
    """Print torchlint's version (as `torchlint --version`)."""
    click.echo(f"torchlint {__version__}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--fix", is_flag=True, help="Apply fixes (safe ones; unsafe ones too with --unsafe-fixes).")
@click.option("--unsafe-fixes/--no-unsafe-fixes", "unsafe_fixes", default=None, help="Also apply (and count) unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing. Exit 1 if there would be changes.")
@click.option("--show-fixes", is_flag=True, help="List the findings that --fix fixed.")
@click.option("--fix-only", is_flag=True, help="Apply fixes (implies --fix); do not report the findings left, "
                                                "nor exit 1 for them.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when --fix changed a file, even if no finding "
                                                            "is left.")
@click.option("--select", multiple=True, help="Rules to run: codes, prefixes (TL0), names or ALL. Comma-separated.")
@click.option("--ignore", multiple=True, help="Rules to skip. Comma-separated.")
@click.option("--extend-select", multiple=True, help="Rules to add to the selection. Comma-separated.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--output-format", "output_formats", multiple=True, callback=lambda c, p, v: _parse_formats(v),
              metavar="[" + "|".join(FORMATS) + "][:PATH]",
              help="How to print findings. Repeat with FORMAT:PATH to also write other formats in the same run, "
                   "e.g. --output-format github --output-format sarif:torchlint.sarif.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Colour the output.")
@click.option("--stdin-filename", help="Read the source from standard input; report it under this name.")
@click.option("--config", "config_path", type=click.Path(), help="Use this pyproject.toml or torchlint.toml.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--exclude", multiple=True, help="Replace the exclude globs. Comma-separated.")
@click.option("--extend-exclude", multiple=True, help="Add exclude globs. Comma-separated.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files that .gitignore ignores.")
@click.option("--force-exclude/--no-force-exclude", default=None, help="Apply excludes to files named on the command line too.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Where the cache lives (default .torchlint_cache).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: usable cores).")
@click.option("--show-files", is_flag=True, help="List the files that would be checked, and exit.")
@click.option("--show-settings", is_flag=True, help="Print the settings in force (after the configuration), and exit.")
@click.option("--watch", is_flag=True, expose_value=False,
              callback=lambda c, p, v: c.meta.__setitem__("torchlint.watch", v),
              help="Check again whenever a checked file or the configuration changes.")
@click.option("-v", "--verbose", is_flag=True, expose_value=False,
              callback=lambda c, p, v: c.meta.__setitem__("torchlint.verbose", v),
              help="Also say, on standard error, which files' analysis the interpreter's budget cut short.")
@click.option("--add-noqa", is_flag=True,
              help="Silence every finding with a '# noqa: CODE' comment on its line (to adopt torchlint in an "
                   "existing codebase), and write the files.")
def check(paths, fix, unsafe_fixes, diff, show_fixes, fix_only, exit_non_zero_on_fix, select, ignore, extend_select, exit_zero, statistics,
          output_formats, output_file, quiet, color, stdin_filename, config_path, isolated, exclude, extend_exclude,
          respect_gitignore, force_exclude, no_cache, cache_dir, jobs, show_files, show_settings, add_noqa):
    """Check PATHS (default: the current directory) for autograd misuse."""
    if click.get_current_context().meta.get("torchlint.watch"):
        from torchlint.workspace.watch import watch_check

        return watch_check(click.get_current_context(), paths, stdin_filename)
    from torchlint.workspace.config import ConfigError, build_resolver, show_settings as shown_settings

    paths = list(paths)
    if "-" in paths:  # as Ruff: `-` reads standard input (named by --stdin-filename, if given)
        if len(paths) > 1:
            _fail("'-' (standard input) cannot be combined with other paths")
        stdin_filename, paths = stdin_filename or "-", []
    fix = fix or fix_only
    if add_noqa and (fix or diff or stdin_filename):
        _fail("--add-noqa cannot be combined with --fix, --fix-only, --diff or standard input")
        return

    output_format = next((f for f, path in output_formats if path is None), None)
    extra_reports = [(f, path) for f, path in output_formats if path is not None]
    paths = paths or ([stdin_filename] if stdin_filename else ["."])
    try:
        resolver = build_resolver(
            config=config_path, isolated=isolated, select=_split(select), ignore=_split(ignore),
            extend_select=_split(extend_select), exclude=_split(exclude) or None, extend_exclude=_split(extend_exclude),
            respect_gitignore=respect_gitignore, force_exclude=force_exclude, unsafe_fixes=unsafe_fixes,
            output_format=output_format, cache_dir=cache_dir, no_cache=no_cache, jobs=jobs,
        )
        # each file gets its closest configuration; the run as a whole (output, cache) the current directory's
        settings = resolver.for_path(paths[0]) if stdin_filename is not None or show_settings else resolver.run
    except ConfigError as e:
        _fail(str(e))
        return
    if show_settings:  # for PATH (the first one given), as Ruff's --show-settings
        click.echo(shown_settings(settings), nl=False)
        return
    fmt = settings.output_format
    use_color = fmt in TEXT_FORMATS and (color == "always" or (
        color == "auto" and output_file is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
    if stdin_filename is not None:
        return _check_stdin(stdin_filename, settings, fix or diff, diff, fmt, use_color, output_file, quiet, exit_zero,
                            extra_reports, ExitPolicy(exit_zero, fix_only, exit_non_zero_on_fix))

    from torchlint.startup import compiled_once

    with compiled_once():  # (their dataclasses: see torchlint/startup.py)
        from torchlint.workspace.discovery import discover
        from torchlint.runner import FixMode, check_files

    try:
        files, problems = discover(paths, settings, resolver)
        for f in files:  # read (and check) every configuration in use before any file is checked
            resolver.for_path(f)
    except ConfigError as e:
        _fail(str(e))
        return
    if show_files:
        for f in sorted(str(p) for p in files):
            click.echo(f)
        for d in problems:  # a missing path, a permission error: said, as in a check
            click.echo(f"torchlint: error: {d.message}", err=True)
        sys.exit(2 if problems else 0)
    progress, finish = _progress(len(files), fmt, quiet)
    try:
        results = check_files(files, settings, progress=progress, settings_for=resolver.for_path, roots=paths,
                              mode=FixMode(fix=fix or diff, unsafe=bool(settings.unsafe_fixes), diff=diff,
                                           add_noqa=add_noqa))
    finally:
        finish()
    if click.get_current_context().meta.get("torchlint.verbose"):
        from torchlint.report.explain import truncated_notes

        for line in truncated_notes(results):
            click.echo(line, err=True)
    diags = list(problems)
    sources = {}
    wants_frames = fmt == "full" or any(f == "full" for f, _ in extra_reports)
    applied = []
    diffs = []
    fix_errors = []
    for r in results:
        if r.error is not None:
            diags.append(_map_notebook_error(r.error, r.source))
        diags.extend(r.diagnostics)
        if r.source is not None:
            sources[str(r.path)] = r.source
        elif wants_frames and (r.diagnostics or r.error is not None):
            text = _read_source(r.path)  # a cache hit carries no source; the code frame needs it
            if text is not None:
                sources[str(r.path)] = text
        if r.applied:
            applied.extend(r.applied)
        if r.diff:
            diffs.append(r.diff)
        if r.fix_error:
            fix_errors.append(f"{r.path}: {r.fix_error}")
    from torchlint.diagnostics import Diagnostic

    diags.sort(key=Diagnostic.sort_key)
    for msg in fix_errors:
        click.echo(f"torchlint: error: {msg}", err=True)
    if add_noqa:
        # as Ruff: report how many comments went in; what could not be silenced (parse errors,
        # notebooks) is still listed, and decides the exit code
        n = sum(r.noqa_added for r in results)
        click.echo(f"Added {n} noqa directive{'s' if n != 1 else ''}.", err=True)
        if diags:
            _report(diags, _with_cells(sources), settings, fmt, use_color, output_file, quiet, statistics,
                    files=files)
        sys.exit(2 if fix_errors else (0 if exit_zero or not diags else 1))
    if diff:
        text = "".join(diffs)
        _emit(text, output_file)
        n = len(applied)
        if not quiet:
            click.echo(f"Would fix {n} problem{'s' if n != 1 else ''}." if n else "No fixes available.", err=True)
        code = 1 if diffs else 0
        sys.exit(2 if fix_errors or any(d.code == "TL999" for d in diags) else code)
    internal = any(d.code == "TL999" for d in diags) or bool(fix_errors)
    policy = ExitPolicy(exit_zero, fix_only, exit_non_zero_on_fix)
    if fix_only:  # as Ruff: say what was fixed, not what is left
        if show_fixes and applied:
            _emit(output.fixed_listing(applied), output_file)
        if applied and not quiet:
            n = len(applied)
            _emit(f"Fixed {n} problem{'s' if n != 1 else ''}.\n", output_file)
        sys.exit(policy.code(diags, applied, internal))
    _report(diags, _with_cells(sources), settings, fmt, use_color, output_file, quiet, statistics,
            applied=applied if fix else None, show_fixes=show_fixes, files=files)
    for extra_fmt, extra_path in extra_reports:
        _report(diags, _with_cells(sources), settings, extra_fmt, False, extra_path, quiet, False,
                applied=applied if fix else None, files=files)
    sys.exit(policy.code(diags, applied, internal))


def _parse_formats(values) -> list:
    """``--output-format`` values: ``FORMAT`` (at most one: standard output or --output-file) or ``FORMAT:PATH``."""
    out = []
    for value in values:
        fmt, sep, path = value.partition(":")
        if fmt not in FORMATS:
            raise click.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)} (optionally followed by :PATH)")
        if sep and not path:
            raise click.BadParameter(f"{value!r}: give a file name after the colon, e.g. {fmt}:report")
        out.append((fmt, path or None))
    if sum(1 for _, path in out if path is None) > 1:
        raise click.BadParameter("only one format can go to standard output (or --output-file); "
                                 "give the others a file: FORMAT:PATH")
    return out


def _check_stdin(name, settings, fix, diff, fmt, use_color, output_file, quiet, exit_zero, extra_reports=(),
                 policy=None):
    """Lint standard input as if it were the file ``name``; with --fix print the fixed text."""
    from torchlint.report import suppression
    from torchlint.diagnostics import Diagnostic, Location, SourceError
    from torchlint.runner import _per_file_codes, needs_parsing, triggers_for

    source = sys.stdin.read()
    path = Path(name)
    if settings.force_exclude:
        from torchlint.workspace.discovery import discover

        files, _ = discover([name], settings) if path.exists() else (None, None)
        if files == [] or (files is None and _stdin_excluded(path, settings)):
            if fix and not diff:  # excluded: pass the text through untouched
                sys.stdout.write(source)
            sys.exit(0)
    ignored = _per_file_codes(path, settings)
    notebook = None
    module = source
    diags: list = []

    def error(code, kind, message, loc=None):
        loc = loc or Location(1, 1)
        return Diagnostic(code, kind, message, "error", name, loc, loc)

    if name.endswith(".ipynb"):
        from torchlint.workspace import notebook as nbmod

        try:
            notebook = nbmod.load(source)
            module = notebook.source
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            diags = [error("E902", "io-error", f"not a valid Jupyter notebook: {e}")]
            module = None
    judged = settings.select if "TL100" in settings.select else None  # unused-noqa: judge these rules' codes
    keep = (lambda ds, text: suppression.filter_diagnostics(ds, text, per_file_ignores_codes=ignored,
                                                            unused_noqa=judged, filename=name))
    internal = False
    if module is not None and needs_parsing(module.encode("utf-8", "surrogatepass"), triggers_for(settings.select)):
        from torchlint.engine import lint_source

        try:
            diags = keep(lint_source(module, name, select=sorted(settings.select)), module)
        except SourceError as e:
            diags = [error("E999", "syntax-error", e.message, e.location)]
        except Exception as e:  # an engine bug: report it, exit 2
            diags = [error("TL999", "internal-error", f"internal error while analysing this file: "
                                                      f"{type(e).__name__}: {e}; please report this")]
    internal = any(d.code == "TL999" for d in diags)
    fixed_text = source
    applied: list = []
    fix_error = None
    if fix and any(d.fix for d in diags):
        from torchlint.fix.fixer import apply_fixes

        try:
            res = apply_fixes(module, name, select=sorted(settings.select), unsafe=bool(settings.unsafe_fixes),
                              keep=keep)
        except Exception as e:  # pragma: no cover - the first lint succeeded, so this is an engine bug
            fix_error, res = f"internal error while fixing: {type(e).__name__}: {e}", None
        if res is not None:
            fix_error = res.error
            if res.applied:
                applied = res.applied
                diags = res.remaining
                fixed_text = res.source if notebook is None else nbmod.write_back(notebook, res.source)
    if notebook is not None:
        diags = [nbmod.map_diagnostic(notebook, d, name) for d in diags]
    if fix_error:
        click.echo(f"torchlint: error: {name}: {fix_error}", err=True)
    if diff:
        from torchlint.fix.fixer import unified_diff

        _emit(unified_diff(source, fixed_text, name), output_file)
        sys.exit(2 if internal or fix_error else (1 if applied else 0))
    policy = policy or ExitPolicy(exit_zero)
    if fix:
        sys.stdout.write(fixed_text)
        if diags and not quiet and not policy.fix_only:
            click.echo(_render(diags, {name: fixed_text}, "concise", False), err=True, nl=False)
        sys.exit(policy.code(diags, applied, internal or bool(fix_error)))
    for report_fmt, path, color in [(fmt, output_file, use_color), *[(f, p, False) for f, p in extra_reports]]:
        _report(diags, _with_cells({name: source}), settings, report_fmt, color, path, quiet, False, files=[name])
    sys.exit(2 if internal else (0 if exit_zero or not diags else 1))


def _read_source(path):
    from torchlint.diagnostics import SourceError
    from torchlint.runner import decode

    try:
        return decode(Path(path).read_bytes(), str(path))[0]
    except (OSError, SourceError):
        return None


def _stdin_excluded(path: Path, settings) -> bool:
    """--force-exclude for a --stdin-filename that does not exist on disk."""
    from torchlint.workspace.discovery import _Matcher

    m = _Matcher(settings)
    return m.excluded(path) or any(m.excluded(a) for a in path.parents if str(a) not in (".", ""))


def _with_cells(sources: dict) -> dict:
    """Add each notebook cell's text under ``nb.ipynb:cell N`` so the full format can show a code frame."""
    out = dict(sources)
    for name, text in sources.items():
        if not name.endswith(".ipynb") or not text:
            continue
        from torchlint.workspace import notebook as nbmod

        try:
            out.update(nbmod.cell_sources(text, name))
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    return out


def _map_notebook_error(d, source):
    """A syntax error's row in a notebook is a row of the joined module: map it to its cell."""
    if d is None or source is None or not d.filename.endswith(".ipynb") or d.code != "E999":
        return d
    from torchlint.workspace import notebook as nbmod

    try:
        return nbmod.map_diagnostic(nbmod.load(source), d, d.filename)
    except (ValueError, KeyError, TypeError, AttributeError):
        return d


def _progress(total: int, fmt: str, quiet: bool):
    """A rich progress bar on a terminal for runs over more than a handful of files."""
    if quiet or fmt not in TEXT_FORMATS or total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task("check", total=total)
    bar.start()

    def update(done, n):
        bar.update(task, completed=done)

    return update, bar.stop


@cli.command()
@click.argument("code")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text")
def rule(code, output_format):
    """Show the documentation of rule CODE (a code like TL001, or a name)."""
    from torchlint.registry import all_rules, get_rule

    r = get_rule(code)
    if r is None:
        choices = ", ".join(f"{x.code} ({x.name})" for x in all_rules())
        _fail(f"unknown rule {code!r}; known rules: {choices}")
    if output_format == "json":
        import json

        click.echo(json.dumps(_rule_json(r), indent=2))
        return
    text = f"# {r.name} ({r.code})\n\n{r.summary}.\n\nFix: {r.fix}. Enabled by default: {'yes' if r.default else 'no'}.\n\n{r.doc.strip()}\n"
    if output_format == "markdown" or not sys.stdout.isatty():
        click.echo(text, nl=False)
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console().print(Markdown(text))


def _rule_json(r) -> dict:
    return {"code": r.code, "name": r.name, "summary": r.summary, "fix": r.fix, "default": r.default,
            "triggers": list(r.triggers), "url": r.url(), "explanation": r.doc.strip()}


def rules_markdown(rs) -> str:
    """The rules reference page (docs/rules.md): an index table, then each rule's documentation."""
    out = ["# torchlint rules", "",
           "Generated by `torchlint rules --output-format markdown`; do not edit by hand.", "",
           "| code | name | summary | default | fix |", "| --- | --- | --- | --- | --- |"]
    for r in rs:
        out.append(f"| [{r.code}](#{r.code.lower()}) | `{r.name}` | {r.summary} | {'on' if r.default else 'off'} | {r.fix} |")
    for r in rs:
        out += ["", f'<a id="{r.code.lower()}"></a>', "", f"## {r.code} `{r.name}`", "", f"{r.summary}.", "",
                f"Fix: {r.fix}. Enabled by default: {'yes' if r.default else 'no'}.", ""]
        fenced = False
        for line in r.doc.strip().splitlines():
            fenced ^= line.startswith("```")
            # the rule's own sections sit one level below its heading
            out.append("#" + line if line.startswith("## ") and not fenced else line)
    return "\n".join(out) + "\n"


@cli.command()
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules(output_format):
    """List every rule: code, name, summary, default, fix availability."""
    from torchlint.registry import all_rules

    rs = all_rules()
    if output_format == "json":
        import json

        click.echo(json.dumps([_rule_json(r) for r in rs], indent=2))
        return
    if output_format == "markdown":
        click.echo(rules_markdown(rs), nl=False)
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title="torchlint rules")
        for col in ("code", "name", "summary", "default", "fix"):
            table.add_column(col)
        for r in rs:
            table.add_row(r.code, r.name, r.summary, "on" if r.default else "off", r.fix)
        Console().print(table)
        return
    for r in rs:
        click.echo(f"{r.code}\t{r.name}\t{'on' if r.default else 'off'}\tfix={r.fix}\t{r.summary}")


@cli.command("api-coverage")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
def api_coverage(output_format):
    """How much of the PyTorch API the shape model covers (every entry is tested against torch)."""
    from torchlint.analysis import api

    cov = api.coverage()
    if output_format == "json":
        import json

        click.echo(json.dumps(cov, indent=2))
        return
    click.echo(f"PyTorch API model: {cov['entries']} entries covering {cov['names']} names "
               f"({cov['functions']} functions, {cov['methods']} Tensor methods, {cov['classes']} nn classes), "
               f"{cov['examples']} examples checked against real torch.")
    for group, n in cov["groups"].items():
        click.echo(f"  {group:<12} {n}")


from torchlint.report.explain import explain_command  # noqa: E402  (its own module: cli.py stays small)

cli.add_command(explain_command)


@cli.command()
@click.option("--cache-dir", type=click.Path(file_okay=False))
def clean(cache_dir):
    """Remove the cache (.torchlint_cache)."""
    from torchlint.workspace.config import ConfigError, build_settings

    try:
        settings = build_settings(["."], cache_dir=cache_dir)
    except ConfigError as e:
        _fail(str(e))
        return
    from torchlint.workspace import cache

    root = cache.cache_root(settings)
    click.echo(f"Removed {root}" if cache.clean(settings) else f"No cache at {root}")


@cli.command()
def server():
    """Run the language server (LSP over standard input and output) for editors."""
    try:
        from torchlint.server.lsp import serve
    except ImportError as e:
        _fail(f"torchlint server needs pygls and lsprotocol ({e}): pip install 'torchlint[server]'")
        return
    serve()


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="torchlint", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("torchlint: interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # a bug in torchlint itself: say so in one line, exit 2
        if os.environ.get("TORCHLINT_TRACEBACK"):
            raise
        click.echo(f"torchlint: internal error: {type(e).__name__}: {e} (set TORCHLINT_TRACEBACK=1 to see the "
                   f"traceback); please report this", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
