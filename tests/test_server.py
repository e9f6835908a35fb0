"""``torchlint server`` driven over stdio by a real LSP client (pygls's), as an editor would."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as t  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (ROOT / "fixtures" / "tl001" / "seed_vector_product.py").read_text()
FIXED = BUGGY.replace("\nA.backward()", "\nA.sum().backward()")
TIMEOUT = 60


class Session:
    """A client connected to a ``torchlint server`` subprocess, recording what it publishes."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.client = LanguageClient("torchlint-test", "0")
        self.diagnostics: dict = {}
        self.versions: dict = {}  # uri -> the document version of each publication, in order
        self.changed = asyncio.Condition()
        self.messages: list = []

        @self.client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def _diags(ls, params):
            async with self.changed:
                self.diagnostics[params.uri] = list(params.diagnostics)
                self.versions.setdefault(params.uri, []).append(params.version)
                self.changed.notify_all()

        @self.client.feature(t.WINDOW_SHOW_MESSAGE)
        def _message(ls, params):
            self.messages.append(params.message)

    async def start(self, init_options=None, resolve=False, watch=False):
        await self.client.start_io(sys.executable, "-m", "torchlint", "server", cwd=str(self.cwd))
        self.registrations: list = []

        @self.client.feature(t.CLIENT_REGISTER_CAPABILITY)
        def _register(ls, params):
            self.registrations.extend(params.registrations)

        caps = t.ClientCapabilities(
            workspace=t.WorkspaceClientCapabilities(did_change_watched_files=t.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=watch)),
            notebook_document=t.NotebookDocumentClientCapabilities(
                synchronization=t.NotebookDocumentSyncClientCapabilities()),
            text_document=t.TextDocumentClientCapabilities(code_action=t.CodeActionClientCapabilities(
                resolve_support=t.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None)))
        result = await self.client.initialize_async(t.InitializeParams(
            capabilities=caps, root_uri=from_fs_path(str(self.cwd)), initialization_options=init_options))
        self.client.initialized(t.InitializedParams())
        return result

    async def stop(self):
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        await asyncio.wait_for(self.client._server.wait(), TIMEOUT)
        errors = (await self.client._server.stderr.read()).decode(errors="replace")
        assert "Traceback" not in errors and "Error" not in errors, errors  # no handler failed

    async def wait(self, uri, pred=lambda diags: True):
        """The diagnostics of ``uri`` once ``pred`` holds for them.

        A rule's own crash (``TL999 internal error in rule ...``, another rule's bug, reported by the
        engine) is left out, so that these tests are about the server."""
        def found():
            return [d for d in self.diagnostics.get(uri, ()) if not (d.code == "TL999" and " in rule " in d.message)]

        async def until():
            async with self.changed:
                await self.changed.wait_for(lambda: uri in self.diagnostics and pred(found()))
                return found()

        return await asyncio.wait_for(until(), TIMEOUT)

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = from_fs_path(str(path))
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "python", version, text)))
        return uri

    def replace(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(version, uri), [t.TextDocumentContentChangeWholeDocument(text)]))

    async def hover(self, uri, line, character):
        return await asyncio.wait_for(self.client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(line, character))), TIMEOUT)

    async def actions(self, uri, rng, diags=(), only=None):
        return await asyncio.wait_for(self.client.text_document_code_action_async(t.CodeActionParams(
            t.TextDocumentIdentifier(uri), rng, t.CodeActionContext(diagnostics=list(diags), only=only))), TIMEOUT)


def run(tmp_path, scenario, **start):
    async def main():
        s = Session(tmp_path)
        await s.start(**start)
        try:
            await scenario(s)
        finally:
            await s.stop()

    asyncio.run(main())


def apply_edits(text: str, edits) -> str:
    """Apply LSP TextEdits (UTF-16 positions; these texts are ASCII) to ``text``."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p):
        return starts[p.line] + p.character if p.line < len(lines) else len(text)

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def _lint(text: str) -> list:
    from torchlint.engine import lint_source

    return [d.code for d in lint_source(text, "fixed.py", select=["TL001"])]


def test_diagnostic_hover_quick_fix_and_change(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(BUGGY)

    async def scenario(s: Session):
        uri = s.open(path, BUGGY)
        diags = await s.wait(uri, lambda d: len(d) > 0)
        assert [d.code for d in diags] == ["TL001"]
        d = diags[0]
        # `A.backward()` on line 7: rows from 0, the whole call
        assert (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) == (6, 0, 6, 12)
        assert d.severity == t.DiagnosticSeverity.Error
        assert d.source == "torchlint"
        assert d.code_description.href.endswith("docs/rules.md#tl001")

        hover = await s.hover(uri, 6, 0)  # on `A`
        assert "`A`: tensor" in hover.contents.value
        assert "shape: `(2,)`" in hover.contents.value
        assert "requires_grad: True" in hover.contents.value
        assert (hover.range.start.line, hover.range.start.character, hover.range.end.character) == (6, 0, 1)
        hover = await s.hover(uri, 3, 0)  # on `x`, an assignment target
        assert "shape: `(2,)`" in hover.contents.value and "leaf: yes" in hover.contents.value

        actions = await s.actions(uri, d.range, diags, only=[t.CodeActionKind.QuickFix])
        fix = next(a for a in actions if a.title.startswith("Fix TL001"))
        assert fix.is_preferred and "unsafe" not in fix.title
        fixed = apply_edits(BUGGY, fix.edit.changes[uri])
        assert FIXED != BUGGY
        assert fixed == FIXED
        assert _lint(fixed) == []

        s.replace(uri, fixed, 2)
        assert await s.wait(uri, lambda d: len(d) == 0) == []

    run(tmp_path, scenario)


def test_a_burst_of_edits_ends_with_the_last_version(tmp_path):
    """Stale runs are cancelled or dropped: whatever was published in between, the last word is the last text's."""
    path = tmp_path / "bug.py"
    path.write_text(BUGGY)

    async def scenario(s: Session):
        uri = s.open(path, BUGGY)
        await s.wait(uri, lambda d: len(d) == 1)
        for version in range(2, 12):
            s.replace(uri, FIXED if version % 2 == 0 else BUGGY, version)
        s.replace(uri, FIXED, 12)
        await s.wait(uri, lambda d: s.versions[uri][-1] == 12)
        await asyncio.sleep(1.0)  # nothing stale arrives afterwards
        assert s.versions[uri][-1] == 12 and s.diagnostics[uri] == []
        assert len(s.versions[uri]) < 12  # the burst did not cost one analysis per edit
        hover = await s.hover(uri, 6, 0)
        assert "`A`: tensor" in hover.contents.value

    run(tmp_path, scenario)


def test_noqa_action_hover_on_noqa_code_and_fix_all(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(BUGGY)

    async def scenario(s: Session):
        uri = s.open(path, BUGGY)
        diags = await s.wait(uri, lambda d: len(d) > 0)
        actions = await s.actions(uri, diags[0].range, diags)
        noqa = next(a for a in actions if a.title == "Ignore TL001 with `# noqa: TL001`")
        silenced = apply_edits(BUGGY, noqa.edit.changes[uri])
        assert "A.backward()  # expect: TL001  # noqa: TL001" in silenced
        s.replace(uri, silenced, 2)
        await s.wait(uri, lambda d: len(d) == 0)

        line = next(i for i, text in enumerate(silenced.splitlines()) if "noqa" in text)
        column = silenced.splitlines()[line].index("noqa: TL001") + len("noqa: T")
        hover = await s.hover(uri, line, column)
        assert hover.contents.value.startswith("# backward-non-scalar (TL001)")
        assert "## Fix safety" in hover.contents.value

        s.replace(uri, BUGGY, 3)
        diags = await s.wait(uri, lambda d: len(d) == 1)
        whole = t.Range(t.Position(0, 0), t.Position(len(BUGGY.splitlines()), 0))
        [fix_all] = await s.actions(uri, whole, diags, only=["source.fixAll.torchlint"])
        assert fix_all.kind == "source.fixAll.torchlint"
        assert apply_edits(BUGGY, fix_all.edit.changes[uri]) == FIXED

    run(tmp_path, scenario)


UNSAFE = (ROOT / "fixtures" / "tl002" / "grad_keyword_outputs.py").read_text()


def test_unsafe_fix_is_labelled_and_left_out_of_fix_all_unless_enabled(tmp_path):
    path = tmp_path / "penalty.py"
    path.write_text(UNSAFE)

    async def scenario(s: Session):
        uri = s.open(path, UNSAFE)
        [d] = await s.wait(uri, lambda d: len(d) > 0)
        assert d.code == "TL002"
        actions = await s.actions(uri, d.range, [d], only=[t.CodeActionKind.QuickFix])
        fix = next(a for a in actions if a.title.startswith("Fix TL002"))
        assert fix.title.endswith("(unsafe fix)") and not fix.is_preferred
        assert "grad_outputs=torch.ones_like(out)" in apply_edits(UNSAFE, fix.edit.changes[uri])
        whole = t.Range(t.Position(0, 0), t.Position(len(UNSAFE.splitlines()), 0))
        # only an unsafe fix here: no fix-all unless unsafe-fixes is on
        assert not await s.actions(uri, whole, [d], only=["source.fixAll"])
        s.client.workspace_did_change_configuration(t.DidChangeConfigurationParams(
            settings={"torchlint": {"select": ["TL002"], "unsafeFixes": True}}))
        await asyncio.sleep(0.5)
        [fix_all] = await s.actions(uri, whole, [d], only=["source.fixAll"])
        assert "grad_outputs=torch.ones_like(out)" in apply_edits(UNSAFE, fix_all.edit.changes[uri])

    run(tmp_path, scenario, init_options={"settings": {"select": ["TL002"]}})


def test_fix_all_is_resolved_lazily_when_the_client_can(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(BUGGY)

    async def scenario(s: Session):
        uri = s.open(path, BUGGY)
        diags = await s.wait(uri, lambda d: len(d) > 0)
        actions = await s.actions(uri, diags[0].range, diags)
        lazy = next(a for a in actions if a.kind == "source.fixAll.torchlint")
        assert lazy.edit is None
        resolved = await asyncio.wait_for(s.client.code_action_resolve_async(lazy), TIMEOUT)
        assert apply_edits(BUGGY, resolved.edit.changes[uri]) == FIXED

    run(tmp_path, scenario, resolve=True)


def test_syntax_error_is_a_diagnostic_and_the_server_survives(tmp_path):
    path = tmp_path / "broken.py"
    broken = "import torch\nx = torch.ones(2, requires_grad=True\n(x * x).backward()\n"

    async def scenario(s: Session):
        uri = s.open(path, broken)
        [d] = await s.wait(uri, lambda d: len(d) > 0)
        assert d.code == "E999" and d.severity == t.DiagnosticSeverity.Error
        assert "SyntaxError" in d.message
        assert await s.hover(uri, 1, 0) is None
        s.replace(uri, "\x00\n", 2)  # not even Python
        await s.wait(uri, lambda d: len(d) == 1 and d[0].code == "E999" and "null bytes" in d[0].message)
        s.replace(uri, broken.replace("True\n", "True)\n"), 3)
        [d] = await s.wait(uri, lambda d: len(d) == 1 and d[0].code == "TL001")
        assert d.range.start.line == 2

    run(tmp_path, scenario)


def test_configuration_file_change_takes_effect_without_restart(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(BUGGY)

    async def scenario(s: Session):
        uri = s.open(path, BUGGY)
        await s.wait(uri, lambda d: len(d) == 1)
        config = tmp_path / "pyproject.toml"
        config.write_text('[tool.torchlint]\nignore = ["TL001"]\n')
        s.client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(
            [t.FileEvent(from_fs_path(str(config)), t.FileChangeType.Created)]))
        await s.wait(uri, lambda d: len(d) == 0)
        config.write_text('[tool.torchlint]\nselec = ["TL001"]\n')  # broken: reported, defaults used
        s.client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(
            [t.FileEvent(from_fs_path(str(config)), t.FileChangeType.Changed)]))
        await s.wait(uri, lambda d: len(d) == 1)
        assert any("unknown key 'selec'" in m for m in s.messages)

    run(tmp_path, scenario)


def test_the_server_asks_to_watch_configuration_files(tmp_path):
    async def scenario(s: Session):
        for _ in range(100):
            if s.registrations:
                break
            await asyncio.sleep(0.1)
        [reg] = s.registrations
        assert reg.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES
        globs = {w["globPattern"] for w in reg.register_options["watchers"]}
        assert globs == {"**/pyproject.toml", "**/torchlint.toml"}

    run(tmp_path, scenario, watch=True)


def test_editor_settings_from_initialization_options(tmp_path):
    path = tmp_path / "bug.py"
    path.write_text(BUGGY + "w = torch.ones(2, dtype=torch.long, requires_grad=True)\n")

    async def scenario(s: Session):
        uri = s.open(path, path.read_text())
        diags = await s.wait(uri, lambda d: len(d) > 0)
        assert [d.code for d in diags] == ["TL006"]

    run(tmp_path, scenario, init_options={"settings": {"select": ["TL006"]}})


def _cell_uri(nb: Path, i: int) -> str:
    return f"vscode-notebook-cell:{nb.as_posix()}#cell{i}"


def test_notebook_finding_lands_in_its_cell(tmp_path):
    nb = tmp_path / "train.ipynb"
    cells = ["import torch\n%matplotlib inline", "x = torch.ones(2, requires_grad=True)",
             "y = x * 3\ny.backward()"]

    async def scenario(s: Session):
        nb_uri = from_fs_path(str(nb))
        uris = [_cell_uri(nb, i) for i in range(3)]
        s.client.notebook_document_did_open(t.DidOpenNotebookDocumentParams(
            t.NotebookDocument(nb_uri, "jupyter-notebook", 1, [
                t.NotebookCell(t.NotebookCellKind.Code, uris[0]),
                t.NotebookCell(t.NotebookCellKind.Markup, _cell_uri(nb, 9)),
                t.NotebookCell(t.NotebookCellKind.Code, uris[1]),
                t.NotebookCell(t.NotebookCellKind.Code, uris[2])]),
            [t.TextDocumentItem(uris[0], "python", 1, cells[0]),
             t.TextDocumentItem(_cell_uri(nb, 9), "markdown", 1, "# Notes"),
             t.TextDocumentItem(uris[1], "python", 1, cells[1]),
             t.TextDocumentItem(uris[2], "python", 1, cells[2])]))
        [d] = await s.wait(uris[2], lambda d: len(d) > 0)
        assert d.code == "TL001"
        assert (d.range.start.line, d.range.start.character, d.range.end.character) == (1, 0, 12)
        assert await s.wait(uris[0]) == [] and await s.wait(uris[1]) == []

        hover = await s.hover(uris[2], 1, 0)  # `y` in the third cell
        assert "shape: `(2,)`" in hover.contents.value
        actions = await s.actions(uris[2], d.range, [d], only=[t.CodeActionKind.QuickFix])
        fix = next(a for a in actions if a.title.startswith("Fix TL001"))
        assert list(fix.edit.changes) == [uris[2]]
        fixed = apply_edits(cells[2], fix.edit.changes[uris[2]])
        assert fixed == "y = x * 3\ny.sum().backward()"

        # the cell changes: the finding goes away
        s.client.notebook_document_did_change(t.DidChangeNotebookDocumentParams(
            t.VersionedNotebookDocumentIdentifier(2, nb_uri),
            t.NotebookDocumentChangeEvent(cells=t.NotebookDocumentCellChanges(text_content=[
                t.NotebookDocumentCellContentChanges(t.VersionedTextDocumentIdentifier(2, uris[2]),
                                                     [t.TextDocumentContentChangeWholeDocument(fixed)])]))))
        assert await s.wait(uris[2], lambda d: len(d) == 0) == []

    run(tmp_path, scenario)


def test_server_without_pygls_says_how_to_install(tmp_path):
    """Without the optional dependencies the command fails with the install line, not a traceback."""
    import subprocess

    code = ("import sys; sys.modules['pygls'] = None; sys.modules['pygls.lsp'] = None; "
            "sys.modules['pygls.lsp.server'] = None\nfrom torchlint.cli import main; main(['server'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "pip install 'torchlint[server]'" in proc.stderr
