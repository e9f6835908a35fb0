"""``torchlint explain``: the sites, their facts, why a value is Unknown, --statistics, and check --verbose."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from torchlint.analysis.explain import explain_source
from torchlint.cli import cli
from torchlint.report.explain import compute_statistics

SEED = ROOT / "fixtures" / "tl001" / "seed_vector_product.py"


def explain(code: str, path: str = "m.py", **kw):
    return explain_source(textwrap.dedent(code), path, **kw)


def backward_at(exp, line: int) -> dict:
    return next(s for s in exp.sites if s["kind"] == "backward" and s["line"] == line)


def test_flagged_site_is_non_scalar_with_its_shape():
    exp = explain_source(SEED.read_text(), str(SEED))
    site = backward_at(exp, 7)
    assert (site["verdict"], site["shape"], site["dtype"], site["requires_grad"], site["leaf"]) == \
        ("non_scalar", "(2,)", "float", True, False)
    assert "why" not in site
    made = [s for s in exp.sites if s["kind"] == "requires_grad"]
    assert [(s["line"], s["leaf"], s["requires_grad"]) for s in made] == [(4, True, True), (5, True, True)]


def test_every_tl001_finding_is_a_non_scalar_site():
    """explain and the rule read the same values: each TL001 finding's line has a non-scalar backward site."""
    from torchlint.engine import lint_source

    for path in sorted((ROOT / "fixtures" / "tl001").glob("*.py")):
        src = path.read_text()
        found = {d.location.row for d in lint_source(src, str(path), select=["TL001"])}
        sites = explain_source(src, str(path)).sites
        for row in found:
            verdicts = {s["verdict"] for s in sites if s["kind"] == "backward" and s["line"] == row}
            dtypes = {s["dtype"] for s in sites if s["kind"] == "backward" and s["line"] == row}
            assert verdicts & {"non_scalar", "likely_non_scalar"} or "complex" in dtypes, (path.name, row, verdicts)


def test_unknown_names_the_import_from_another_module():
    exp = explain("""\
        import torch
        from pkg.losses import build

        criterion = build("mse")
        out = torch.randn(8, requires_grad=True)
        loss = criterion(out, torch.randn(8))
        loss.backward()
    """)
    site = backward_at(exp, 7)
    assert site["value"] == "Unknown" and site["verdict"] == "unknown"
    why = site["why"]
    assert why["cause"] == "`build` comes from another module: `from pkg.losses import build`"
    assert (why["kind"], why["line"]) == ("import from another module", 2)
    assert [s["text"] for s in why["steps"]] == ["`loss = criterion(out, torch.randn(8))`",
                                                 '`criterion = build("mse")`']


def test_unknown_names_kwargs_it_cannot_expand():
    exp = explain("""\
        import json
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, hidden=4):
                super().__init__()
                self.lin = nn.Linear(3, hidden)

            def forward(self, x):
                return self.lin(x)

        cfg = json.load(open("cfg.json"))
        model = Net(**cfg)
        out = model(torch.randn(2, 3))
        out.backward()
    """)
    why = backward_at(exp, 16)["why"]
    assert why["cause"] == "`Net(**cfg)` forwards **kwargs (`cfg`) that torchlint cannot expand"
    assert why["kind"] == "*args/**kwargs" and why["line"] == 14


def test_unknown_names_a_parameter_no_call_gives():
    exp = explain("""\
        def train_step(loss):
            loss.backward()
    """)
    why = backward_at(exp, 2)["why"]
    assert why["kind"] == "parameter"
    assert why["cause"].startswith("`loss` is a parameter of `train_step()`, and no call in this file passes it")


def test_unknown_size_walks_to_the_unknown_input():
    """A tensor whose size is unknown: the walk goes to the parameter that brought it in."""
    exp = explain("""\
        import torch

        def step(n):
            w = torch.randn(n, requires_grad=True)
            loss = w * 2
            loss.backward()
    """)
    site = backward_at(exp, 6)
    assert site["value"] == "tensor" and site["verdict"] == "unknown"
    assert site["why"]["kind"] == "parameter" and "`n` is a parameter of `step()`" in site["why"]["cause"]
    assert [s["text"] for s in site["why"]["steps"]][:2] == ["`loss = w * 2`", "`w = torch.randn(n, requires_grad=True)`"]


def test_walk_passes_over_literal_operands():
    """A literal operand (`2` in `2 * x`) has a value even though none was recorded: the walk follows `x`."""
    exp = explain("""\
        import torch

        def step(n):
            w = torch.randn(n, requires_grad=True)
            loss = 2 * (w - 1)
            loss.backward()
    """)
    why = backward_at(exp, 6)["why"]
    assert why["kind"] == "parameter" and "`n` is a parameter of `step()`" in why["cause"]
    assert [s["text"] for s in why["steps"]][:2] == ["`loss = 2 * (w - 1)`", "`w = torch.randn(n, requires_grad=True)`"]


def test_whole_reduction_of_an_unseen_value_is_0_dim():
    """`x.mean()` / `torch.sum(x)` with no dimension: 0-dim whatever x is, even when torchlint cannot see x."""
    exp = explain("""\
        import torch
        from elsewhere import loss_fn

        def step(a, b):
            loss = loss_fn(a, b).mean() + torch.sum(loss_fn(b, a))
            loss.backward()
            part = loss_fn(a, b).mean(dim=1)
            part.backward()
    """)
    assert (backward_at(exp, 6)["verdict"], backward_at(exp, 6)["shape"]) == ("scalar", "()")
    assert backward_at(exp, 8)["verdict"] == "unknown"  # a reduction over one dimension keeps the others


def _deep_source() -> str:
    lines = ["import torch", "x = torch.ones(3, requires_grad=True)", "def f(xs):"]
    indent = "    "
    for i in range(20):  # issue 14: twenty nested loops spend the budget
        lines.append(f"{indent}for i{i} in xs:")
        indent += "    "
    lines += [f"{indent}y = x * i0", "    (x * 2).backward()", "f(range(3))", "(x * 3).backward()"]
    return "\n".join(lines) + "\n"


def test_cut_short_analysis_says_so():
    exp = explain_source(_deep_source(), "deep.py")
    assert exp.truncated
    last = backward_at(exp, 27)
    assert not last["reached"] and last["why"]["kind"] == "analysis budget"
    assert last["why"]["cause"] == "the analysis budget ran out before it"


def test_statistics_count_sites_by_verdict(tmp_path):
    (tmp_path / "a.py").write_text("import torch\nx = torch.ones(2, requires_grad=True)\n(x * x).backward()\n"
                                   "(x * x).sum().backward()\n")
    (tmp_path / "b.py").write_text("def step(loss):\n    loss.backward()\n")
    (tmp_path / "c.py").write_text("print('no autograd here')\n")
    runner = CliRunner()
    r = runner.invoke(cli, ["explain", "--statistics", "--output-format", "json", str(tmp_path)])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.output)
    assert stats["sites"]["backward"] == {"scalar": 1, "non_scalar": 1, "likely_non_scalar": 0, "unknown": 1,
                                          "total": 3}
    assert stats["sites"]["requires_grad"]["non_scalar"] == 1
    assert stats["backward"] == {"known": 2, "total": 3, "share": 0.6667}
    assert stats["unknown_backward_causes"] == {"parameter": 1}
    assert (stats["files"]["analysed"], stats["files"]["with_sites"], stats["files"]["truncated"]) == (2, 2, 0)
    text = runner.invoke(cli, ["explain", "--statistics", str(tmp_path)]).output
    assert "backward            1           1                  0        1      3" in text
    assert "backward sites with a known verdict: 2 of 3 (66.7%)" in text


def test_statistics_count_truncated_files():
    exp = explain_source(_deep_source(), "deep.py")
    stats = compute_statistics([exp])
    assert stats["files"]["truncated"] == 1 and stats["files"]["truncated_files"] == ["deep.py"]


def test_text_output_and_line_filter(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(SEED.read_text())
    r = CliRunner().invoke(cli, ["explain", f"{target}:7"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"{target}:7:1: backward `A` (.backward()): non_scalar",
        "    tensor: shape (2,), dtype float, requires_grad True, leaf no",
        "1 autograd site.",
    ]


def test_check_verbose_names_cut_short_files(tmp_path, monkeypatch):
    (tmp_path / "deep.py").write_text(_deep_source())
    (tmp_path / "ok.py").write_text(SEED.read_text())
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
    plain = runner.invoke(cli, ["check", "--exit-zero", "--jobs", "1", "."])
    assert "cut short" not in plain.output and "cut short" not in (plain.stderr if hasattr(plain, "stderr") else "")
    for _ in range(2):  # cold, then from the cache
        r = runner.invoke(cli, ["check", "--exit-zero", "--jobs", "1", "-v", "."])
        err = r.stderr if hasattr(r, "stderr") else r.output
        assert "the analysis of deep.py was cut short by the interpreter's budget" in err
        assert "ok.py was cut short" not in err
        assert "1 of 2 checked files cut short by the analysis budget" in err


@pytest.mark.parametrize("name", ["seed_vector_product.py"])
def test_explain_json_lists_the_file(name, tmp_path):
    r = CliRunner().invoke(cli, ["explain", "--output-format", "json", str(ROOT / "fixtures" / "tl001" / name)])
    data = json.loads(r.output)
    assert Path(data[0]["filename"]).name == name and data[0]["truncated"] is False
    assert {s["kind"] for s in data[0]["sites"]} == {"backward", "requires_grad"}


def test_a_node_of_another_module_ends_the_walk():
    """Project links let the interpreter run other modules' functions; their nodes have no position here
    (this crashed explain on peft with a KeyError)."""
    import libcst as cst

    from torchlint.analysis.explain import analyse
    from torchlint.analysis.explain.why import Explainer
    from torchlint.server.query import ValueIndex

    ctx = analyse("import torch\nx = torch.ones(2)\n", "m.py")
    foreign = cst.parse_expression("base_layer.weight")
    why = Explainer(ctx, ValueIndex(ctx)).why(foreign)
    assert why.cause == "`base_layer.weight` is computed in another module of the project"
    assert why.kind == "import from another module"


def test_unknown_that_a_walk_traces_to_a_constant_names_the_undecided_paths():
    """`loss = 0` and tensors added on branches the config decides: the walk ends at the literal, which is known
    itself; the cause is that other values meet it where the paths join (not that `0` cannot be evaluated)."""
    path = ROOT / "fixtures" / "real" / "tl004_gh_threegen_image_config_int_loss.py"
    site = next(s for s in explain_source(path.read_text(), str(path)).sites
                if s["kind"] == "backward" and s["verdict"] == "unknown")
    why = site["why"]
    assert why["cause"].startswith("`0` is a constant, but where the paths meet other values reach it too")
    assert why["kind"] == "undecided branch" and why["steps"][-1]["text"] == "`loss = 0`"
