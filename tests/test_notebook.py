"""Jupyter notebooks: code cells linted as one module, magics skipped, cell locations, fixes written back."""
from __future__ import annotations

import json

import pytest

from tlcli import tl
from torchlint.workspace import notebook
from torchlint.diagnostics import Diagnostic, Location


def cell(source, kind="code"):
    c = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    return c


def nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


NB = nb(
    cell(["# Title\n", "text backward()"], "markdown"),
    cell(["%matplotlib inline\n", "import torch\n", "x = torch.randn(3, requires_grad=True)"]),
    cell(["%%bash\n", "echo (not python\n"]),
    cell(["!pip install foo\n", "y = x * 2\n", "y?\n", "y.backward()"]),
    cell("z = x * 3\nz.sum().backward()\n"),
)


def test_load_joins_code_cells_and_hides_magics():
    n = notebook.load(json.dumps(NB))
    assert n.cell_ids == [1, 2, 3, 4]
    body = [l for l in n.source.splitlines() if not l.startswith("# torchlint-")]
    assert body == ["pass  # torchlint-magic 0", "import torch", "x = torch.randn(3, requires_grad=True)",
                    "pass  # torchlint-magic 4", "y = x * 2", "pass  # torchlint-magic 5", "y.backward()",
                    "z = x * 3", "z.sum().backward()", ""]
    compile(n.source, "nb", "exec")  # the joined module is valid Python


MAGIC_BODIES = nb(
    cell(["import os\n", "if 'COLAB' in os.environ:\n",
          "    VERSION = !curl -s https://example.org | grep -Po 'v\\K.*'\n",
          "    !pip install torch=={VERSION[0]}\n", "for i in range(2):\n", "    %time f(i)\n",
          "a, b = %sx echo 1\n", "!echo \\\n", "   continued\n", "print(VERSION, a, b)"]),
)


def test_magics_as_block_bodies_and_assigned_magics_keep_the_module_valid():
    text = json.dumps(MAGIC_BODIES, indent=1) + "\n"
    n = notebook.load(text)
    compile(n.source, "nb", "exec")
    assert "    VERSION = ...  # torchlint-magic 0" in n.source.splitlines()
    assert "a, b = ...  # torchlint-magic 3" in n.source.splitlines()
    assert notebook.write_back(n, n.source) == text


def test_write_back_is_the_identity_without_fixes():
    for indent in (1, 2):
        for final in ("", "\n"):
            text = json.dumps(NB, indent=indent) + final
            n = notebook.load(text)
            assert notebook.write_back(n, n.source) == text


def test_map_diagnostic_to_cell_rows():
    n = notebook.load(json.dumps(NB))
    row = n.source.splitlines().index("y.backward()") + 1
    d = Diagnostic("TL001", "n", "m", "error", "nb.ipynb", Location(row, 1), Location(row, 13))
    m = notebook.map_diagnostic(n, d, "nb.ipynb")
    assert (m.filename, m.location, m.end_location) == ("nb.ipynb:cell 4", Location(4, 1), Location(4, 13))


def test_write_back_puts_fixed_lines_in_the_right_cell_and_restores_magics():
    text = json.dumps(NB, indent=1) + "\n"
    n = notebook.load(text)
    fixed = n.source.replace("y.backward()", "y.sum().backward()")
    out = json.loads(notebook.write_back(n, fixed))
    assert out["cells"][3]["source"] == ["!pip install foo\n", "y = x * 2\n", "y?\n", "y.sum().backward()"]
    assert out["cells"][2]["source"] == ["%%bash\n", "echo (not python\n"]
    assert out["cells"][1]["source"][0] == "%matplotlib inline\n"
    assert out["cells"][0] == NB["cells"][0]
    assert out["cells"][4]["source"] == NB["cells"][4]["source"]


@pytest.mark.parametrize("text", ["{", "[]", '{"cells": 3}', '{"cells": [5]}'])
def test_invalid_notebooks_raise_value_errors(text):
    with pytest.raises((ValueError, AttributeError, TypeError)):
        notebook.load(text)


def test_cli_locations_code_frame_and_fix(tmp_path):
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(NB, indent=1) + "\n")
    r = tl("check", "nb.ipynb", cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0].startswith("nb.ipynb:cell 4:4:1: TL001 [*] `y` has shape (3,)")
    assert lines[1:4] == ["3 | y?", "4 | y.backward()", "    ^^^^^^^^^^^^"]
    r = tl("check", "nb.ipynb", "--output-format", "json", cwd=tmp_path)
    d = json.loads(r.stdout)[0]
    assert (d["filename"], d["cell"], d["location"]) == ("nb.ipynb", 4, {"row": 4, "column": 1})
    r = tl("check", "nb.ipynb", "--fix", cwd=tmp_path)
    assert r.returncode == 0 and "1 fixed" in r.stdout
    out = json.loads(p.read_text())
    assert out["cells"][3]["source"][-1] == "y.sum().backward()"
    out["cells"][3]["source"][-1] = "y.backward()"
    assert out == NB  # nothing else changed
    assert tl("check", "nb.ipynb", cwd=tmp_path).returncode == 0


def test_cli_syntax_error_in_a_cell_points_into_the_cell(tmp_path):
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb(cell("import torch\n"), cell("def f(:\n    x.backward()\n"))))
    r = tl("check", "nb.ipynb", "--output-format", "concise", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("nb.ipynb:cell 2:1:7: E999 SyntaxError")


def test_cli_notebook_from_stdin(tmp_path):
    text = json.dumps(NB, indent=1) + "\n"
    r = tl("check", "--stdin-filename", "nb.ipynb", "--output-format", "concise", input=text, cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("nb.ipynb:cell 4:4:1: TL001")
    r = tl("check", "--stdin-filename", "nb.ipynb", "--fix", input=text, cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["cells"][3]["source"][-1] == "y.sum().backward()"


def test_empty_and_code_free_notebooks_are_clean(tmp_path):
    (tmp_path / "a.ipynb").write_text(json.dumps(nb()))
    (tmp_path / "b.ipynb").write_text(json.dumps(nb(cell(["backward() in prose"], "markdown"))))
    r = tl("check", ".", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "All checks passed!\n")
