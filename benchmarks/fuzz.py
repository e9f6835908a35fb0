"""A standing fuzz harness: torchlint must never crash, hang or corrupt a file.

    python benchmarks/fuzz.py --count 20000 --seed 1 [--corpus DIR ...] [--generated 2000] [--filesystem]
    python benchmarks/fuzz.py --kill-trials DIR --count 20 [--seed-bug] [-- torchlint options such as --unsafe-fixes]

Inputs, all reproducible from ``--seed``:

* **generated** programs (hypothesmith, from Python's grammar) with autograd calls spliced in;
* **mutations** of the fixtures and of any ``--corpus`` directory: deleted, duplicated and swapped lines,
  swapped operators, an inserted ``name.backward()``, deep nesting, long boolean chains, truncation,
  flipped bytes, NUL bytes, CRLF line endings, a BOM, a latin-1 coding cookie, an odd file mode;
* with ``--filesystem``, **hostile file systems**: a symbolic-link loop, broken links, unreadable files,
  names that are not UTF-8, and 20,000 small files, checked with the command line.

Each input is written to a file and checked by a worker process that calls torchlint as the command line
does (``runner.lint_file``): once to lint, then, if it has fixes, with ``--fix --unsafe-fixes`` on disk,
then once more to see that the fix is idempotent.  The parent gives every input ``--timeout`` seconds; a
worker that dies (a signal) or does not answer is a crash or a hang, recorded with the input, and a new
worker takes over.  A fix is *corrupt* when the fixed file does not parse, or loses its BOM, CRLF line
endings, coding cookie or mode, or a second ``--fix`` changes it again.  Every ``--batch`` inputs the
command line checks the batch's directory and its exit code must match its findings (0 or 1; 2 only with
an internal error).  The summary (JSON on stdout) counts inputs, crashes, hangs, internal errors
(``TL999``), corrupt fixes, rolled-back fixes, wrong exit codes and the slowest input; failing inputs are
kept in ``--keep``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUG = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 2).backward()\n"
SPLICES = [
    "{n}.backward()",
    "{n}.sum().backward()",
    "torch.autograd.grad({n}, [{n}])",
    "{n}.mean().item().backward()",
    "{n} = torch.ones(3, requires_grad=True)",
    "{n} = torch.zeros(2, dtype=torch.long, requires_grad=True)",
    "optimizer.step()",
    "with torch.no_grad():\n{i}    {n}.backward()",
]
OPERATORS = [(" + ", " * "), (" * ", " @ "), (" - ", " + "), (" < ", " == "), (" and ", " or "), (".sum()", ""),
             (".mean()", ".sum(dim=0)"), ("==", "="), ("(", ""), (")", ""), (":", ""), (", ", " "),
             ("reduction='mean'", "reduction='none'"), ("zero_grad()", "step()"), ("detach()", "clone()")]


# -- inputs ----------------------------------------------------------------------------------------------------


def corpus_files(dirs) -> list:
    files = []
    for d in dirs:
        for p in sorted(Path(d).rglob("*.py")):
            try:
                files.append(p.read_bytes())
            except OSError:
                pass
    return files


def generated_programs(count: int, seed: int) -> list:
    """``count`` programs from hypothesmith (Python's grammar), reproducible from ``seed``; [] without it."""
    if count <= 0:
        return []
    try:
        import hypothesmith
        from hypothesis import HealthCheck, given, settings
        from hypothesis import seed as hseed
    except ImportError:
        print("fuzz: hypothesmith is not installed (pip install hypothesmith): no generated programs",
              file=sys.stderr)
        return []
    out: list = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hypothesmith.from_grammar())
    def collect(src):
        out.append(src)

    collect()
    return out[:count]


def _names(text: str) -> list:
    names = sorted(set(re.findall(r"\b([A-Za-z_][A-Za-z_0-9]*)\s*=", text)))
    return names or ["x"]


def splice(text: str, rng: random.Random) -> str:
    """Autograd calls at a random line of ``text``, indented as that line."""
    lines = text.splitlines(True) or ["\n"]
    k = rng.randrange(len(lines) + 1)
    indent = re.match(r"[ \t]*", lines[k - 1] if k else "").group(0)
    snippet = rng.choice(SPLICES).format(n=rng.choice(_names(text)), i=indent)
    head = "" if "import torch" in text or rng.random() < 0.3 else "import torch\n"
    if k and lines[k - 1].rstrip().endswith(":"):
        indent += "    "
    body = "".join(indent + s + "\n" for s in snippet.split("\n"))
    if k and not lines[k - 1].endswith("\n"):
        body = "\n" + body
    return head + "".join(lines[:k]) + body + "".join(lines[k:])


def _deep(rng: random.Random, indent: str) -> str:
    kind = rng.choice(["if", "paren", "and", "compare", "attr", "call", "list", "lambda", "not"])
    n = rng.choice([10, 50, 99, 150, 199, 500, 999, 1001, 3000, 12000])
    if kind == "if":
        n = min(n, 98)
        return "".join(indent + "    " * j + "if x:\n" for j in range(n)) + indent + "    " * n + "x.backward()\n"
    expr = {"paren": "(" * min(n, 250) + "x" + ")" * min(n, 250), "and": " and ".join(["x"] * n),
            "compare": " < ".join(["x"] * n), "attr": "x" + ".a" * n, "call": "x" + "()" * n,
            "list": "[" * min(n, 250) + "x" + "]" * min(n, 250), "lambda": "lambda: " * n + "x",
            "not": "not " * n + "x"}[kind]
    return f"{indent}y = {expr}\n"


def mutate(data: bytes, rng: random.Random) -> tuple:
    """(bytes, [mutation names]): one to three mutations of ``data``."""
    applied = []
    text = data.decode("utf-8", "surrogateescape")
    for _ in range(rng.choice([1, 1, 2, 3])):
        lines = text.splitlines(True)
        op = rng.choice(["delete", "duplicate", "swap_lines", "operator", "backward", "backward", "deep", "indent",
                         "truncate", "flip", "nul", "crlf", "bom", "latin1", "unicode", "mode"])
        applied.append(op)
        k = rng.randrange(len(lines)) if lines else 0
        if op == "delete" and lines:
            del lines[k]
            text = "".join(lines)
        elif op == "duplicate" and lines:
            lines.insert(k, lines[k])
            text = "".join(lines)
        elif op == "swap_lines" and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
            text = "".join(lines)
        elif op == "operator":
            a, b = rng.choice(OPERATORS)
            spots = [m.start() for m in re.finditer(re.escape(a), text)]
            if spots:
                at = rng.choice(spots)
                text = text[:at] + b + text[at + len(a):]
        elif op == "backward":
            text = splice(text, rng)
        elif op == "deep" and lines is not None:
            indent = re.match(r"[ \t]*", lines[k]).group(0) if lines else ""
            lines.insert(k, _deep(rng, indent))
            text = "".join(lines)
        elif op == "indent" and lines:
            lines[k] = rng.choice(["\t", "  ", " "]) + lines[k]
            text = "".join(lines)
        elif op == "truncate" and text:
            text = text[: rng.randrange(len(text))]
        elif op == "unicode" and lines:
            lines.insert(k, rng.choice(["ñ = 1\n", "x = '日本語 😀'\n", "λ = torch.ones(2, requires_grad=True)\n",
                                        "# 🔥 comment\n", "s = '\u200b'\n"]))
            text = "".join(lines)
    out = text.encode("utf-8", "surrogateescape")
    for op in applied:
        if op == "flip" and out:
            i = rng.randrange(len(out))
            out = out[:i] + bytes([rng.randrange(256)]) + out[i + 1:]
        elif op == "nul" and out:
            i = rng.randrange(len(out))
            out = out[:i] + b"\0" + out[i:]
        elif op == "crlf":
            out = out.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif op == "bom" and not out.startswith(b"\xef\xbb\xbf"):
            out = b"\xef\xbb\xbf" + out
        elif op == "latin1":
            body = out.decode("utf-8", "replace").encode("latin-1", "replace")
            out = b"# -*- coding: latin-1 -*-\n" + body
    return out, applied


# -- the worker: one input at a time, in-process -----------------------------------------------------------


def _check_one(path: Path, settings) -> dict:
    from torchlint import runner
    from torchlint.engine import parse
    from torchlint.runner import FixMode

    out: dict = {"codes": [], "problems": []}
    data = path.read_bytes()
    t0 = time.perf_counter()
    res = runner.lint_file(path, data, settings, FixMode())
    diags = list(res.diagnostics) + ([res.error] if res.error else [])
    out["codes"] = sorted({d.code for d in diags})
    if "TL999" in out["codes"]:
        out["problems"].append("internal error: " + next(d.message for d in diags if d.code == "TL999")[:300])
    if not any(d.fix for d in res.diagnostics):
        out["seconds"] = time.perf_counter() - t0
        return out
    mode = path.stat().st_mode & 0o7777
    fixed = runner.lint_file(path, data, settings, FixMode(fix=True, unsafe=True))
    if fixed.fix_error:
        out["rolled_back"] = True
    new = path.read_bytes()
    out["fixed"] = new != data
    if new != data:
        problems = out["problems"]
        if data.startswith(b"\xef\xbb\xbf") and not new.startswith(b"\xef\xbb\xbf"):
            problems.append("corrupt: lost the BOM")
        if b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"") and b"\n" in new.replace(b"\r\n", b""):
            problems.append("corrupt: CRLF line endings became LF")
        head = data.split(b"\n", 2)[:2]
        if any(re.match(rb"^[ \t\f]*#.*?coding[:=]", h) for h in head) and new.split(b"\n", 2)[:2] != head:
            problems.append("corrupt: the coding cookie changed")
        if path.stat().st_mode & 0o7777 != mode:
            problems.append("corrupt: the file mode changed")
        try:
            text, _, _ = runner.decode(new, str(path))
            parse(text, str(path))
        except Exception as e:  # noqa: BLE001 - any failure to read back is corruption
            problems.append(f"corrupt: the fixed file does not parse: {type(e).__name__}: {str(e)[:200]}")
        again = runner.lint_file(path, new, settings, FixMode(fix=True, unsafe=True))
        if path.read_bytes() != new or again.applied:
            problems.append("corrupt: a second --fix changed the file again")
    out["seconds"] = time.perf_counter() - t0
    return out


def worker_main() -> None:
    from torchlint import registry
    from torchlint.settings import Settings

    registry.load_rules()
    rules = registry.all_rules()
    settings = Settings(select=frozenset(r.code for r in rules if getattr(r, "phase", "analysis") == "analysis"),
                        no_cache=True)
    for line in sys.stdin:
        job = json.loads(line)
        path = Path(job["path"])
        try:
            out = _check_one(path, settings)
        except Exception as e:  # noqa: BLE001 - lint_file must never raise: that is a finding of the harness
            out = {"codes": [], "problems": [f"internal error: lint_file raised {type(e).__name__}: {e}"[:300]]}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


class Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                     errors="surrogateescape")

    def run(self, path: Path, timeout: float) -> tuple:
        """('ok', result) | ('crash', returncode) | ('hang', None)."""
        try:
            self.proc.stdin.write(json.dumps({"path": str(path)}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:  # it died on the previous input's way out
            return "crash", self.proc.wait()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            return "hang", None
        line = self.proc.stdout.readline()
        if not line:
            return "crash", self.proc.wait()
        return "ok", json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def cli_exit_code_problems(directory: Path, timeout: float) -> list:
    """Check ``directory`` with the command line: its exit code must match its findings."""
    cmd = [sys.executable, "-m", "torchlint", "check", "--isolated", "--no-cache", "--output-format", "json-lines",
           str(directory)]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [f"the command line hung on {directory}"]
    if r.returncode < 0:
        return [f"the command line died with signal {-r.returncode} on {directory}"]
    codes = []
    for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
        try:
            codes.append(json.loads(line)["code"])
        except (ValueError, KeyError):
            return [f"the command line wrote a line that is not JSON: {line[:100]!r}"]
    expected = 2 if "TL999" in codes else (1 if codes else 0)
    if r.returncode != expected:
        return [f"exit code {r.returncode}, expected {expected} ({len(codes)} findings) on {directory}: "
                f"{r.stderr.decode('utf-8', 'replace')[-300:]}"]
    return []


# -- hostile file systems ------------------------------------------------------------------------------------


def filesystem_scenarios(work: Path, small_files: int = 20_000) -> dict:
    """A tree with a symlink loop, broken links, an unreadable file, byte names and many small files."""
    tree = work / "fs"
    (tree / "pkg" / "deep").mkdir(parents=True)
    os.symlink("..", tree / "pkg" / "deep" / "loop")
    os.symlink("missing.py", tree / "pkg" / "broken.py")
    (tree / "pkg" / "locked.py").write_text(BUG)
    os.chmod(tree / "pkg" / "locked.py", 0)
    for name in (b"bad\xff.py", b"caf\xe9.py", "spaces and ünïcode.py".encode()):
        with open(os.path.join(os.fsencode(tree / "pkg"), name), "wb") as f:
            f.write(BUG.encode())
    many = tree / "many"
    many.mkdir()
    for i in range(small_files):
        (many / f"m{i:05d}.py").write_text(BUG if i % 100 == 0 else f"v{i} = {i}\n")
    t = time.perf_counter()
    problems = cli_exit_code_problems(tree, timeout=900)
    return {"files": small_files + 6, "seconds": round(time.perf_counter() - t, 2), "problems": problems}


# -- --fix killed at random moments ------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def kill_trials(source: Path, trials: int, seed: int, extra_args=(), seed_bug: bool = False) -> dict:
    """``torchlint check --fix`` on copies of ``source``, each killed with SIGKILL at a random moment.

    Every ``.py`` file must then be as it was or exactly as an uninterrupted run fixes it.  With
    ``seed_bug``, a non-scalar ``backward()`` is appended to every file first, so that every file is
    written.  Returns the counts (files written, files left unchanged, files broken, temporary files
    left behind, kill times)."""
    import signal

    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="torchlint-kill-"))
    try:
        base = work / "base"
        for p in sorted(Path(source).rglob("*.py")):
            target = base / p.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = p.read_bytes()
            target.write_bytes(data + (b"\n" + BUG.encode() if seed_bug else b""))
        cmd = [sys.executable, "-m", "torchlint", "check", "--isolated", "--no-cache", "--fix", "--exit-zero",
               *extra_args, "."]
        reference = work / "reference"
        shutil.copytree(base, reference, symlinks=True)
        t = time.perf_counter()
        subprocess.run(cmd, cwd=reference, capture_output=True, timeout=900)
        full = time.perf_counter() - t
        before, after = _snapshot(base), _snapshot(reference)
        out = {"files": len(before), "fixed_by_a_full_run": sum(before[k] != after[k] for k in before),
               "full_run_seconds": round(full, 2), "trials": trials, "killed_while_running": 0,
               "files_written": 0, "files_unchanged": 0, "files_broken": 0, "temporary_files_left": 0,
               "broken": []}
        for i in range(trials):
            trial = work / f"trial{i}"
            shutil.copytree(base, trial, symlinks=True)
            delay = rng.uniform(0.05, full * 1.1)
            proc = subprocess.Popen(cmd, cwd=trial, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            time.sleep(delay)
            if proc.poll() is None:
                out["killed_while_running"] += 1
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the run and its pool workers
            except ProcessLookupError:
                pass
            proc.wait()
            now = _snapshot(trial)
            for name, data in now.items():
                if name.endswith(".torchlint"):
                    out["temporary_files_left"] += 1
            for name in before:
                data = now.get(name)
                if data == before[name]:
                    out["files_unchanged"] += 1
                elif data == after[name]:
                    out["files_written"] += 1
                else:
                    out["files_broken"] += 1
                    out["broken"].append(f"trial {i} ({delay:.2f} s): {name}")
            shutil.rmtree(trial, ignore_errors=True)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the driver ----------------------------------------------------------------------------------------------------


def run(count: int, seed: int, corpora, generated: int, timeout: float, keep: Path | None, batch: int = 1000,
        filesystem: bool = False, log=None) -> dict:
    rng = random.Random(seed)
    sources = corpus_files([ROOT / "fixtures", *corpora])
    programs = generated_programs(min(generated, count), seed)
    summary = {"seed": seed, "inputs": 0, "generated": 0, "mutated": 0, "crashes": 0, "hangs": 0,
               "internal_errors": 0, "corrupt_fixes": 0, "rolled_back_fixes": 0, "fixed_files": 0,
               "wrong_exit_codes": 0, "refused": 0, "slowest_seconds": 0.0, "failures": []}
    work = Path(tempfile.mkdtemp(prefix="torchlint-fuzz-"))
    worker = Worker()
    started = time.perf_counter()
    try:
        batch_dir = None
        for i in range(count):
            if i % batch == 0:
                if batch_dir is not None:
                    _batch_done(batch_dir, summary, timeout)
                batch_dir = work / f"batch{i // batch:04d}"
                batch_dir.mkdir()
            if i < len(programs):
                data, how = splice(programs[i], rng).encode("utf-8", "surrogateescape"), ["generated"]
                summary["generated"] += 1
            else:
                data, how = mutate(rng.choice(sources) if sources else BUG.encode(), rng)
                summary["mutated"] += 1
            path = batch_dir / f"in{i:06d}.py"
            path.write_bytes(data)
            if "mode" in how:
                os.chmod(path, 0o751)
            original = data
            kind, res = worker.run(path, timeout)
            summary["inputs"] += 1
            problems = []
            if kind == "crash":
                summary["crashes"] += 1
                problems.append(f"the worker died (exit code {res})")
                worker = Worker()
            elif kind == "hang":
                summary["hangs"] += 1
                problems.append(f"no answer in {timeout} s")
                worker = Worker()
            else:
                summary["slowest_seconds"] = max(summary["slowest_seconds"], round(res.get("seconds", 0), 3))
                summary["rolled_back_fixes"] += bool(res.get("rolled_back"))
                summary["fixed_files"] += bool(res.get("fixed"))
                summary["refused"] += bool(set(res["codes"]) & {"E902", "E999"})
                for p in res["problems"]:
                    if p.startswith("corrupt"):
                        summary["corrupt_fixes"] += 1
                    else:
                        summary["internal_errors"] += 1
                problems.extend(res["problems"])
            if problems:
                summary["failures"].append({"input": path.name, "how": how, "problems": problems})
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / path.name).write_bytes(original)
            if log and (i + 1) % 1000 == 0:
                print(f"fuzz: {i + 1} inputs, {time.perf_counter() - started:.0f} s, "
                      f"{len(summary['failures'])} failures", file=log, flush=True)
        if batch_dir is not None:
            _batch_done(batch_dir, summary, timeout)
        if filesystem:
            summary["filesystem"] = fs = filesystem_scenarios(work)
            summary["wrong_exit_codes"] += len(fs["problems"])
    finally:
        worker.close()
        _chmod_all(work)
        shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["failures"] = summary["failures"][:50]
    return summary


def _batch_done(directory: Path, summary: dict, timeout: float) -> None:
    problems = cli_exit_code_problems(directory, timeout=max(600.0, timeout * 60))
    summary["wrong_exit_codes"] += len(problems)
    if problems:
        summary["failures"].append({"input": directory.name, "how": ["command line"], "problems": problems})


def _chmod_all(root: Path) -> None:
    for d, _, files in os.walk(root):
        for f in files:
            try:
                os.chmod(os.path.join(d, f), 0o644, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="inputs to try (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--generated", type=int, default=None,
                    help="how many of them hypothesmith generates (default: a tenth)")
    ap.add_argument("--corpus", action="append", default=[], help="a directory of .py files to mutate")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input before it is a hang")
    ap.add_argument("--batch", type=int, default=1000, help="inputs per command-line exit-code check")
    ap.add_argument("--keep", type=Path, default=None, help="where to keep the inputs that fail")
    ap.add_argument("--filesystem", action="store_true", help="also run the hostile file-system scenarios")
    ap.add_argument("--kill-trials", type=Path, default=None, metavar="DIR",
                    help="instead: run --fix on copies of DIR, killed with SIGKILL at random moments (--count trials)")
    ap.add_argument("--seed-bug", action="store_true", help="with --kill-trials: add a fixable bug to every file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args, extra = ap.parse_known_args(argv)
    if args.worker:
        worker_main()
        return 0
    if args.kill_trials is not None:
        summary = kill_trials(args.kill_trials, args.count, args.seed, extra, args.seed_bug)
        print(json.dumps(summary, indent=2))
        return 1 if summary["files_broken"] else 0
    if extra:
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    generated = args.count // 10 if args.generated is None else args.generated
    summary = run(args.count, args.seed, args.corpus, generated, args.timeout, args.keep, args.batch,
                  args.filesystem, log=sys.stderr)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    bad = summary["crashes"] + summary["hangs"] + summary["corrupt_fixes"] + summary["wrong_exit_codes"] \
        + summary["internal_errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `fuzz.py | head`: the reader has what it wanted
        sys.stdout = None
        os._exit(0)
