"""Which torch calls real code makes most, and which of them torchlint's API model leaves out.

    python benchmarks/op_usage.py DIR [DIR ...] [--top N] [--missing] [--json]

Counts, with ``ast`` (the code is parsed, never imported or run), the calls
of every ``.py`` file under each DIR by name:

* ``torch.*`` calls, imports and aliases resolved: ``F.relu`` is
  ``torch.nn.functional.relu`` after ``import torch.nn.functional as F``,
  ``nn.Linear`` is ``torch.nn.Linear``, ``Linear`` is too after
  ``from torch.nn import Linear``;
* tensor-method calls ``<expr>.NAME(...)`` whose NAME is a method of
  ``torch.Tensor`` (``dir(torch.Tensor)`` when torch is installed, else every
  attribute call), counted as ``Tensor.NAME``. The receiver's type is not
  known, so a name that Python's own containers and strings also have
  (``split``, ``index``, ``sort``, ``values``, ``add``: ``line.split(",")``,
  ``d.values()``) is left out, and so is a call on a string literal or with a
  string literal argument (``.to`` and ``.type`` excepted, which take device
  and type names). Other receivers that are not tensors (a module's
  ``.to(device)``, a NumPy array's ``.reshape``) still count: the method
  counts are an upper bound.

A name is *modelled* when torchlint's API tables (``torchlint.analysis.api``:
``FUNCTIONS``, ``METHODS``, ``CLASSES``) have an entry for it, or when the
interpreter evaluates it itself (``INTERPRETED`` below: grad-mode contexts,
containers of layers, data pipelines, tensor queries such as ``.size()``).
The report gives the top-N names with their counts and whether they are
modelled, and the coverage of the top 100 and top 200 (by name and by calls).
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "node_modules", "site-packages", ".tox", "__pycache__"}
STRING_ARG_METHODS = {"to", "type"}


def interpreted() -> set:
    """The torch names the interpreter evaluates outside the API tables (see interp/calls.py)."""
    from torchlint.analysis.interp import state
    from torchlint.analysis.interp.calls import CHECKPOINTS
    from torchlint.analysis.interp.data import CONSTRUCTORS

    names = set(CONSTRUCTORS) | state.NO_GRAD_CONTEXTS | state.ENABLE_GRAD_CONTEXTS | set(state.FUNC_TRANSFORMS) \
        | state.VJP_FUNCTIONS | set(state.TRANSPARENT_DECORATORS) | CHECKPOINTS
    names |= {  # Calls.call_qual
        "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.Parameter", "torch.nn.parameter.Parameter",
        "torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.data_parallel",
        "torch.nn.parallel.DistributedDataParallel", "torch.nn.DistributedDataParallel", "torch.set_grad_enabled",
        "torch.autograd.set_grad_enabled", "torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.GradScaler",
    }
    names |= {  # Calls.call_bound on a tensor, and module methods that return the module
        f"Tensor.{m}" for m in ("backward", "register_hook", "retain_grad", "zero_", "fill_", "copy_", "normal_",
                                "uniform_", "size", "dim", "ndimension", "numel", "nelement", "is_floating_point",
                                "is_complex", "is_contiguous", "equal", "allclose", "requires_grad_")
    }
    names |= {f"Tensor.{m}" for m in state.MODULE_SELF_METHODS}
    return names


def is_modelled(name: str, extra: set) -> bool:
    from torchlint.analysis import api

    api.load()
    if name in extra:
        return True
    if name.startswith("Tensor."):
        return name[len("Tensor."):] in api.METHODS
    return api.is_known(name)


def tensor_methods():
    try:
        import torch
    except Exception:
        return None
    builtin = set().union(*(dir(t) for t in (dict, list, str, bytes, set, tuple)))
    return {n for n in dir(torch.Tensor) if not n.startswith("__")} - builtin


class Counter_(ast.NodeVisitor):
    """The calls of one module, by resolved name."""

    def __init__(self, methods, counts: Counter):
        self.aliases: dict = {}
        self.methods = methods
        self.counts = counts

    # imports -----------------------------------------------------------
    def visit_Import(self, node: ast.Import):
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    # calls -------------------------------------------------------------
    def qualified(self, expr) -> str | None:
        parts = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name) or expr.id not in self.aliases:
            return None
        return ".".join([self.aliases[expr.id]] + parts[::-1])

    def visit_Call(self, node: ast.Call):
        self.generic_visit(node)
        q = self.qualified(node.func)
        if q is not None:
            if q == "torch" or q.startswith("torch."):
                self.counts[q] += 1
            return
        if not isinstance(node.func, ast.Attribute):
            return
        name = node.func.attr
        if self.methods is not None and name not in self.methods:
            return
        recv = node.func.value
        if isinstance(recv, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(recv, "value", ""), (str, bytes)):
            return
        if name not in STRING_ARG_METHODS and any(
                isinstance(a, ast.Constant) and isinstance(a.value, (str, bytes)) or isinstance(a, ast.JoinedStr)
                for a in node.args):
            return
        self.counts["Tensor." + name] += 1


def python_files(d: str):
    p = Path(d)
    if p.is_file():
        yield p
        return
    for f in sorted(p.rglob("*.py")):
        if not SKIP_DIRS.intersection(f.relative_to(p).parts[:-1]):
            yield f


def count(dirs, methods) -> tuple[Counter, int]:
    counts: Counter = Counter()
    files = 0
    for d in dirs:
        for f in python_files(d):
            try:
                tree = ast.parse(f.read_bytes(), str(f))
            except (SyntaxError, ValueError, RecursionError):
                continue
            files += 1
            Counter_(methods, counts).visit(tree)
    return counts, files


def coverage(ranked, n: int) -> dict:
    top = ranked[:n]
    calls = sum(c for _, c, _ in top)
    return {"names": len(top), "modelled": sum(1 for _, _, m in top if m),
            "calls": calls, "calls_modelled": sum(c for _, c, m in top if m)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--top", type=int, default=200)
    ap.add_argument("--missing", action="store_true", help="list only the names torchlint does not model")
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args(argv)
    methods = tensor_methods()
    counts, files = count(opts.dirs, methods)
    extra = interpreted()
    ranked = [(name, c, is_modelled(name, extra)) for name, c in counts.most_common()]
    report = {"files": files, "distinct": len(ranked),
              "coverage": {str(n): coverage(ranked, n) for n in (100, 200)},
              "top": [{"rank": i + 1, "name": nm, "calls": c, "modelled": m}
                      for i, (nm, c, m) in enumerate(ranked[:opts.top])]}
    if opts.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{files} files, {len(ranked)} distinct torch call names"
          + ("" if methods is not None else " (torch not installed: every attribute call counted as a method)"))
    for n, cov in report["coverage"].items():
        print(f"top {n}: {cov['modelled']}/{cov['names']} names modelled, "
              f"{cov['calls_modelled']}/{cov['calls']} calls ({cov['calls_modelled'] / max(cov['calls'], 1):.0%})")
    for row in report["top"]:
        if opts.missing and row["modelled"]:
            continue
        print(f"{row['rank']:4d} {row['calls']:7d}  {'   ' if row['modelled'] else 'NO '} {row['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
