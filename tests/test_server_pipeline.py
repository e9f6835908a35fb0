"""The language server's pieces without a client: incremental analysis, hover queries, positions, cells."""
from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from torchlint.engine import lint_source
from torchlint.report.suppression import filter_diagnostics
from torchlint.server.cells import JoinedNotebook
from torchlint.server.config import SettingsCache
from torchlint.server.convert import LineIndex, minimal_edit
from torchlint.server.document import View
from torchlint.server.pipeline import Cancelled, IncrementalParser, analyse, split_pieces
from torchlint.server.query import describe, noqa_code_at
from torchlint.workspace.config import build_settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").glob("tl00*/*.py"))
ALL = build_settings([], isolated=True, select=["ALL"])
TL001 = build_settings([], isolated=True, select=["TL001"])


def _codes(diags):
    # not the message: TL008's names one of several equal explanations, not always the same one (an engine
    # matter, seen on fixtures/tl008/provenance_extended_total.py with the CLI alone)
    return [(d.code, d.location, d.end_location, d.severity, d.fix) for d in diags]


@pytest.mark.parametrize("path", FIXTURES[::7], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_findings_as_the_cli_engine(path):
    source = path.read_text()
    expected = filter_diagnostics(lint_source(source, str(path), select=sorted(ALL.select)), source)
    assert _codes(analyse(source, str(path), ALL).diagnostics) == _codes(expected)


@pytest.mark.parametrize("path", FIXTURES[3::25], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_incremental_positions_equal_libcst_positions(path):
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    source = path.read_text()
    module, positions = IncrementalParser().parse(source, str(path), ast.parse(source))
    whole = MetadataWrapper(cst.parse_module(source)).resolve(PositionProvider)
    code = (cst.BaseExpression, cst.BaseStatement, cst.BaseSmallStatement)  # what rules and hovers ask about

    def rows(items):
        return sorted((type(n).__name__, (r.start.line, r.start.column, r.end.line, r.end.column))
                      for n, r in items if isinstance(n, code))

    assert rows(positions.items()) == rows(whole.items())
    assert len(module.body) == len(cst.parse_module(source).body)
    for node in module.body:
        assert node in positions


def test_pieces_add_up_and_keep_statements_whole():
    source = ("# header\nimport torch\n\n@decorator\ndef f(x):\n    return x\na = 1; b = 2\n"
              "c = (1 +\n     2)  # tail\n# trailing comment\n")
    pieces = split_pieces(source, ast.parse(source))
    assert "".join(text for text, _ in pieces) == source
    texts = [text for text, _ in pieces]
    assert "@decorator\ndef f(x):\n    return x\n" in texts[1]
    assert any(text.startswith("a = 1; b = 2") for text in texts)
    assert [line for _, line in pieces] == [1 + source[:source.index(text)].count("\n") for text in texts]


def test_an_edit_reparses_only_its_piece():
    source = "import torch\n\ndef f():\n    return torch.ones(2)\n\ndef g():\n    return torch.ones(3)\n"
    parser = IncrementalParser()
    before, _ = parser.parse(source, "m.py", ast.parse(source))
    edited = source.replace("ones(3)", "ones(4)")
    after, positions = parser.parse(edited, "m.py", ast.parse(edited))
    assert after.body[0] is before.body[0] and after.body[1] is before.body[1]
    assert after.body[2] is not before.body[2]
    assert positions[after.body[2]].start.line == 6


def test_equal_statements_get_their_own_nodes():
    """Node identity keys the analysis and the positions: two equal lines must not share nodes."""
    source = "import torch\nx = torch.ones(2, requires_grad=True)\nx.backward()\nx.backward()\n"
    parser = IncrementalParser()
    for _ in range(2):  # and again from the cache
        module, positions = parser.parse(source, "m.py", ast.parse(source))
        assert module.body[2] is not module.body[3]
        assert positions[module.body[3]].start.line == 4
    rows = [d.location.row for d in analyse(source, "m.py", TL001, parser).diagnostics if d.code == "TL001"]
    assert rows == [3, 4]


def test_a_piece_that_does_not_parse_alone_falls_back_to_the_whole_text():
    # CPython accepts it, LibCST does not: the pipeline reports what the CLI reports
    source = "import torch\n(x): int = 1\n"
    got = analyse(source, "m.py", TL001).diagnostics
    from torchlint.diagnostics import SourceError
    from torchlint.engine import parse

    try:
        parse(source, "m.py")
    except SourceError as e:
        assert [d.code for d in got] == ["E999"] and got[0].message == e.message
    else:  # this LibCST parses it: then so must the pipeline
        assert all(d.code != "E999" for d in got)


def test_cancelled_run_stops():
    source = (ROOT / "fixtures" / "tl001" / "seed_vector_product.py").read_text()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        analyse(source, "m.py", TL001, cancel=cancel)


def test_cancellation_reaches_the_interpreter():
    from torchlint.server.pipeline import _cancellable
    import libcst as cst

    cancel = threading.Event()
    ip = _cancellable(cst.parse_module("import torch\nx = torch.ones(2)\n"), cancel)
    cancel.set()
    with pytest.raises(Cancelled):
        ip.run()


def test_suppression_and_per_file_ignores_apply(tmp_path):
    source = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * x).backward()  # noqa: TL001\n"
    assert analyse(source, str(tmp_path / "a.py"), TL001).diagnostics == []
    (tmp_path / "pyproject.toml").write_text('[tool.torchlint]\nselect = ["TL001"]\nper-file-ignores = { "a.py" = ["TL001"] }\n')
    settings = build_settings([str(tmp_path)])
    assert analyse(source.replace("  # noqa: TL001", ""), str(tmp_path / "a.py"), settings).diagnostics == []


# -- hover queries -----------------------------------------------------------------------


def _hover(source: str, needle: str, nth: int = 0, delta: int = 0):
    result = analyse(source, "m.py", TL001)
    offset = -1
    for _ in range(nth + 1):
        offset = source.index(needle, offset + 1)
    hit = result.query.at(offset + delta)
    return None if hit is None else describe(hit[0], hit[1], result.ctx)


def test_hover_on_names_calls_and_receivers():
    source = ("import torch\nimport torch.nn as nn\ncrit = nn.MSELoss(reduction='none')\n"
              "p = torch.randn(4, 3, requires_grad=True)\nloss = crit(p, torch.zeros(4, 3))\n"
              "total = loss.sum(dim=1)\ntotal.backward()\n")
    assert "shape: `(4, 3)`" in _hover(source, "loss =")  # an assignment target
    assert "one loss per element" in _hover(source, "loss =")
    assert "reduction='none'" in _hover(source, "loss =")  # the origin chain
    assert "shape: `(4,)`" in _hover(source, "total.backward")  # a receiver
    assert "shape: `(4, 3)`" in _hover(source, "torch.zeros", delta=7)  # an argument, a call
    assert "leaf: yes" in _hover(source, "p =") and "requires_grad: True" in _hover(source, "p =")
    assert _hover(source, "crit(") == "`crit`: `torch.nn.MSELoss` (reduction='none')"


def test_hover_on_a_number_from_a_tensor():
    source = "import torch\np = torch.ones(3, requires_grad=True)\nv = p.sum().item()\nprint(v)\n"
    assert "made from a tensor by .item()" in _hover(source, "v)")


def test_hover_on_a_detached_tensor_says_why():
    source = "import torch\nw = torch.ones(3, requires_grad=True)\nd = (w * 2).detach()\nd.sum().backward()\n"
    text = _hover(source, "d.sum")
    assert "requires_grad: False (detached from the graph by .detach())" in text
    assert "leaf: yes" in text


def test_hover_follows_reassignment():
    source = ("import torch\nx = torch.ones(2, 3, requires_grad=True)\nx.sum()\n"
              "x = torch.ones(5, requires_grad=True)\nx.backward()\n")
    assert "`(2, 3)`" in _hover(source, "x.sum")
    assert "`(5,)`" in _hover(source, "x =", nth=1)
    assert "`(5,)`" in _hover(source, "x.backward")


def test_hover_on_nothing_known():
    assert _hover("import os\nx = os.getcwd()\nprint(x)\n", "print") is None


def test_noqa_code_under_the_cursor():
    line = "loss.backward()  # noqa: TL001, TL005"
    assert noqa_code_at(line, line.index("TL001") + 2)[0] == "TL001"
    assert noqa_code_at(line, line.index("TL005"))[0] == "TL005"
    assert noqa_code_at(line, 2) is None
    assert noqa_code_at("x  # torchlint: ignore[TL008]", 26)[0] == "TL008"


# -- positions and cells --------------------------------------------------------------------


def test_utf16_columns():
    text = "s = '𝒳'; x.backward()\nb = 1\r\nc = 2\n"
    index = LineIndex(text)
    offset = text.index("x.backward")
    assert index.position(offset) == (0, offset + 1)  # the astral character is two UTF-16 units
    assert index.offset(0, offset + 1) == offset
    assert index.position(text.index("c =")) == (2, 0)
    assert LineIndex(text, "utf-32").position(offset) == (0, offset)
    assert LineIndex(text, "utf-8").position(offset) == (0, offset + 3)


def test_minimal_edit():
    index = LineIndex("a = 1\nA.backward()\nb = 2\n")
    edit = minimal_edit(index, "a = 1\nA.sum().backward()\nb = 2\n")
    assert edit["range"]["start"]["line"] == 1 and edit["range"]["end"]["line"] == 1
    assert minimal_edit(index, index.text) is None


def test_notebook_view_maps_rows_to_cells_and_back():
    cells = [("c0", "import torch\n%matplotlib inline"), ("c1", "x = torch.ones(2, requires_grad=True)\n(x * x).backward()")]
    view = View("nb", notebook=JoinedNotebook(cells))
    result = analyse(view.source, "nb.ipynb", TL001)
    [f] = [f for f in view.findings(result.diagnostics) if f.diagnostic.code == "TL001"]
    assert f.uri == "c1" and f.range["start"] == {"line": 1, "character": 0}
    offset = view.module_offset("c1", 1, 1)  # `x` inside `(x * x)`
    assert view.source[offset] == "x"
    assert view.place(*_module_row_col(view, offset))[0] == "c1"
    assert view.module_offset("c0", 1, 0) is not None  # the magic line has a module row, but no value
    edits = view.text_change(view.source.replace("(x * x).backward()", "(x * x).sum().backward()"))
    assert list(edits) == ["c1"]
    assert view.notebook.split(view.source)[0] == "import torch\n%matplotlib inline"


def _module_row_col(view, offset):
    line, _ = view.index.position(offset)
    return line + 1, offset - view.index.starts[line] + 1


def test_settings_follow_the_configuration_file(tmp_path):
    cache = SettingsCache()
    target = str(tmp_path / "a.py")
    assert "TL001" in cache.for_path(target).select
    (tmp_path / "torchlint.toml").write_text('ignore = ["TL001"]\n')
    assert "TL001" not in cache.for_path(target).select  # no restart, no notification
    (tmp_path / "torchlint.toml").write_text('ignore = ["TL001"]\nbad-key = 1\n')
    messages = []
    cache.report = messages.append
    assert "TL001" in cache.for_path(target).select and "bad-key" in messages[0]
    cache.set_editor({"select": ["TL006"]})
    (tmp_path / "torchlint.toml").unlink()
    assert cache.for_path(target).select == frozenset({"TL006"})
