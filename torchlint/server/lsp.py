"""The language server: pygls over stdio, the handlers, and when analyses run.

**Scheduling.** Every open document (a Python file, or a notebook) has its own
state.  An edit cancels the document's pending run and stops a running one (its
:class:`threading.Event` is set; the interpreter stops at its next step), then
schedules a new run after ``debounce`` ms (default 15): a burst of keystrokes
costs one analysis, not one each.  Opening and saving run at once.  Analyses
run in one worker thread, so the event loop keeps answering (hovers, code
actions, cancellations) while a file is analysed; one thread also keeps each
document's incremental parser to itself.  A text analysed before is not
analysed again: saving an unchanged file, or a configuration change that
leaves the settings equal, re-publishes the result it has.

**Configuration.** ``initializationOptions`` (``{"settings": {...}}`` or the
settings themselves) and ``workspace/didChangeConfiguration`` carry the editor's
settings (:mod:`torchlint.server.config`): ``select``, ``ignore``,
``extendSelect``, ``unsafeFixes``, ``configuration``, ``isolated`` and
``debounce``.  A ``pyproject.toml`` or ``torchlint.toml`` change reported by the
editor (``workspace/didChangeWatchedFiles``, which the server registers for
when the client allows it) re-checks every open document.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from torchlint import __version__
from torchlint.server import actions
from torchlint.server.cells import JoinedNotebook
from torchlint.server.config import CONFIG_NAMES, SettingsCache
from torchlint.server.convert import lsp_diagnostic
from torchlint.server.document import View
from torchlint.server.pipeline import Cancelled, IncrementalParser, Result, analyse
from torchlint.server.query import describe, noqa_code_at, rule_markdown

log = logging.getLogger("torchlint.server")
DEBOUNCE_MS = 15


@dataclass
class DocState:
    key: str  # the text document's URI, or the notebook's
    notebook: bool = False
    parser: IncrementalParser = field(default_factory=IncrementalParser)
    result: Optional[Result] = None
    view: Optional[View] = None  # the view the result was computed on
    task: Optional[asyncio.Task] = None
    cancel: Optional[threading.Event] = None
    published: set = field(default_factory=set)


class TorchlintServer(LanguageServer):
    def __init__(self):
        super().__init__(
            "torchlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[types.NotebookDocumentFilterWithCells(
                    cells=[types.NotebookCellLanguage(language="python")], notebook="*")],
                save=True))
        self.docs: dict = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torchlint-analysis")
        self.settings = SettingsCache(report=self.show_error)
        self.debounce = DEBOUNCE_MS / 1000

    # -- helpers ----------------------------------------------------------------

    def show_error(self, message: str) -> None:
        try:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))
        except Exception:  # no client yet
            log.error(message)

    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    def configure(self, values) -> None:
        values = values if isinstance(values, dict) else {}
        values = values.get("settings", values) if isinstance(values.get("settings"), dict) else values
        values = values.get("torchlint", values) if isinstance(values.get("torchlint"), dict) else values
        debounce = values.get("debounce")
        if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and debounce >= 0:
            self.debounce = debounce / 1000
        self.settings.set_editor(values)

    def key_of(self, uri: str) -> Optional[str]:
        """The document state key of a text document URI (a cell's URI gives its notebook's)."""
        nb = self.workspace.get_notebook_document(cell_uri=uri)
        if nb is not None:
            return nb.uri
        return uri

    def view_of(self, state: DocState) -> Optional[View]:
        """The document as it is now, as the pipeline sees it."""
        if state.notebook:
            nb = self.workspace.get_notebook_document(notebook_uri=state.key)
            if nb is None:
                return None
            cells = []
            for cell in nb.cells:
                if cell.kind != types.NotebookCellKind.Code:
                    continue
                doc = self.workspace.get_text_document(cell.document)
                if doc.language_id not in (None, "python"):
                    continue
                cells.append((cell.document, doc.source))
            return View(state.key, notebook=JoinedNotebook(cells), encoding=self.encoding)
        doc = self.workspace.text_documents.get(state.key)
        if doc is None:
            return None
        return View(state.key, text=doc.source, encoding=self.encoding)

    @staticmethod
    def path_of(uri: str) -> str:
        return to_fs_path(uri) or uri

    # -- scheduling ---------------------------------------------------------------

    def schedule(self, key: str, delay: float, notebook: bool = False) -> asyncio.Task:
        state = self.docs.get(key)
        if state is None:
            state = self.docs[key] = DocState(key, notebook)
        if state.task is not None and not state.task.done():
            state.task.cancel()
        if state.cancel is not None:
            state.cancel.set()
        state.task = asyncio.ensure_future(self._run(state, delay))
        return state.task

    async def _run(self, state: DocState, delay: float) -> Optional[Result]:
        try:
            return await self._run_once(state, delay)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug of ours: say so in the editor's log, keep serving
            log.exception("torchlint: checking %s failed", state.key)
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"torchlint: internal error while checking {state.key}: "
                                         f"{type(e).__name__}: {e}; please report this"))
            return None

    async def _run_once(self, state: DocState, delay: float) -> Optional[Result]:
        if delay:
            await asyncio.sleep(delay)
        view = self.view_of(state)
        if view is None:
            return None
        path = self.path_of(state.key)
        settings = self.settings.for_path(path if path != state.key else None)
        old = state.result
        if old is not None and old.source == view.source and old.settings == settings:
            result = old  # nothing changed: reuse the analysis
        else:
            cancel = threading.Event()
            state.cancel = cancel
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, _analyse_job, view.source, path, settings,
                                                state.parser, cancel)
            if result is None or cancel.is_set() or self.docs.get(state.key) is not state:
                return None  # a newer edit (or closing the document) made this run stale
        state.result, state.view = result, view
        self.publish(state)
        if result.ctx is not None and result._query is None:
            # build the hover index now, in the worker, so that the first hover is quick
            asyncio.get_running_loop().run_in_executor(self.executor, lambda: result.query)
        return result

    async def current(self, key: str) -> tuple:
        """(result, view) for the document as it is now, analysing it first if needed."""
        state = self.docs.get(key)
        if state is None:
            nb = self.workspace.get_notebook_document(notebook_uri=key) is not None
            await self.schedule(key, 0, nb)
            state = self.docs.get(key)
        view = self.view_of(state) if state is not None else None
        if state is None or view is None:
            return None, None
        if state.result is not None and state.result.source == view.source:
            return state.result, state.view
        task = state.task
        if task is None or task.done():
            task = self.schedule(key, 0, state.notebook)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # this request itself was cancelled ($/cancelRequest)
            return await self.current(key)  # the run was superseded by a newer edit: wait for that one
        if state.result is not None and state.result.source == view.source:
            return state.result, state.view
        return None, None

    def publish(self, state: DocState) -> None:
        view, result = state.view, state.result
        by_uri: dict = {uri: [] for uri in view.uris}
        for f in view.findings(result.diagnostics):
            by_uri.setdefault(f.uri, []).append(self.protocol._converter.structure(lsp_diagnostic(f), types.Diagnostic))
        for uri in state.published - set(by_uri):
            by_uri[uri] = []
        for uri, diags in by_uri.items():
            version = None
            doc = self.workspace.text_documents.get(uri)
            if doc is not None:
                version = doc.version
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diags, version))
        state.published = set(view.uris)

    def close(self, key: str) -> None:
        state = self.docs.pop(key, None)
        if state is None:
            return
        if state.task is not None:
            state.task.cancel()
        if state.cancel is not None:
            state.cancel.set()
        for uri in state.published:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def recheck_all(self) -> None:
        self.settings.clear()
        for key, state in list(self.docs.items()):
            self.schedule(key, 0, state.notebook)


def _analyse_job(source, path, settings, parser, cancel) -> Optional[Result]:
    """The worker's job: a Result, or None when a newer edit cancelled it (no BaseException crosses threads)."""
    try:
        return analyse(source, path, settings, parser, cancel)
    except Cancelled:
        return None


server = TorchlintServer()


def _structure(value, cls):
    return server.protocol._converter.structure(value, cls)


# -- lifecycle and configuration --------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: TorchlintServer, params: types.InitializeParams):
    ls.configure(params.initialization_options)


@server.feature(types.INITIALIZED)
async def initialized(ls: TorchlintServer, params: types.InitializedParams):
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is not None and watched.dynamic_registration:
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
        try:
            await ls.client_register_capability_async(types.RegistrationParams([types.Registration(
                "torchlint-config-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                types.DidChangeWatchedFilesRegistrationOptions(watchers))]))
        except Exception as e:  # the client refused: configuration files are still re-read by their stamps
            log.info("file watcher registration failed: %s", e)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: TorchlintServer, params: types.DidChangeConfigurationParams):
    values = params.settings
    caps = ls.client_capabilities.workspace
    if not (isinstance(values, dict) and values) and caps is not None and caps.configuration:
        try:
            got = await ls.workspace_configuration_async(types.ConfigurationParams(
                [types.ConfigurationItem(section="torchlint")]))
            values = got[0] if got else None
        except Exception as e:
            log.info("workspace/configuration failed: %s", e)
    ls.configure(values)
    ls.recheck_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: TorchlintServer, params: types.DidChangeWatchedFilesParams):
    if any(c.uri.rsplit("/", 1)[-1] in CONFIG_NAMES for c in params.changes):
        ls.recheck_all()


# -- text documents and notebooks ----------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TorchlintServer, params: types.DidOpenTextDocumentParams):
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TorchlintServer, params: types.DidChangeTextDocumentParams):
    ls.schedule(ls.key_of(params.text_document.uri), ls.debounce)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TorchlintServer, params: types.DidSaveTextDocumentParams):
    uri = params.text_document.uri
    if uri.rsplit("/", 1)[-1] in CONFIG_NAMES:
        ls.recheck_all()
    elif uri in ls.docs:
        ls.schedule(uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TorchlintServer, params: types.DidCloseTextDocumentParams):
    ls.close(params.text_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def nb_did_open(ls: TorchlintServer, params: types.DidOpenNotebookDocumentParams):
    ls.schedule(params.notebook_document.uri, 0, notebook=True)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def nb_did_change(ls: TorchlintServer, params: types.DidChangeNotebookDocumentParams):
    ls.schedule(params.notebook_document.uri, ls.debounce, notebook=True)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def nb_did_save(ls: TorchlintServer, params: types.DidSaveNotebookDocumentParams):
    ls.schedule(params.notebook_document.uri, 0, notebook=True)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def nb_did_close(ls: TorchlintServer, params: types.DidCloseNotebookDocumentParams):
    ls.close(params.notebook_document.uri)


# -- hover -------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: TorchlintServer, params: types.HoverParams):
    uri, pos = params.text_document.uri, params.position
    key = ls.key_of(uri)
    state = ls.docs.get(key)
    view = ls.view_of(state) if state is not None else None
    if view is not None:  # a rule code in a suppression comment needs no analysis
        line = view.line_text(uri, pos.line)
        column = View(uri, text=line, encoding=ls.encoding).index.offset(0, pos.character)
        hit = noqa_code_at(line, column)
        if hit is not None:
            text = rule_markdown(hit[0])
            if text is None:
                return None
            return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text),
                               types.Range(types.Position(pos.line, hit[1]), types.Position(pos.line, hit[2])))
    result, view = await ls.current(key)
    if result is None or result.ctx is None:
        return None
    offset = view.module_offset(uri, pos.line, pos.character)
    if offset is None:
        return None
    query = result._query
    if query is None:
        query = await asyncio.get_running_loop().run_in_executor(ls.executor, lambda: result.query)
    hit = query.at(offset)
    if hit is None:
        return None
    node, value = hit
    text = describe(node, value, result.ctx)
    if text is None:
        return None
    start, end = result.ctx.span(node)
    a = view.place(*_row_col(view, start))
    b = view.place(*_row_col(view, end))
    rng = None
    if a is not None and b is not None and a[0] == b[0] == uri:
        rng = _structure(a[1].range_of(a[2], b[2]), types.Range)
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text), rng)


def _row_col(view: View, offset: int) -> tuple:
    line, _ = view.index.position(offset)
    return line + 1, offset - view.index.starts[line] + 1


# -- code actions ---------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL, actions.NOTEBOOK_FIX_ALL],
    resolve_provider=True))
async def code_action(ls: TorchlintServer, params: types.CodeActionParams):
    uri = params.text_document.uri
    key = ls.key_of(uri)
    result, view = await ls.current(key)
    if result is None:
        return None
    only = [str(getattr(k, "value", k)) for k in (params.context.only or [])]
    out = []
    if actions.wanted(actions.QUICKFIX, only):
        rng = ls.protocol._converter.unstructure(params.range)
        out.extend(actions.quick_fixes(view, view.findings(result.diagnostics), uri, rng))
    settings = result.settings
    for kind in (actions.FIX_ALL, actions.NOTEBOOK_FIX_ALL):
        if kind == actions.NOTEBOOK_FIX_ALL and view.notebook is None:
            continue
        if not actions.wanted(kind, only) or not actions.has_fixable(result, bool(settings.unsafe_fixes)):
            continue
        data = {"uri": key, "unsafe": bool(settings.unsafe_fixes)}
        if _can_resolve_edit(ls) and not only:
            out.append(actions.fix_all_action(kind, data))  # the edit is computed on resolve
        else:
            edit = await asyncio.get_running_loop().run_in_executor(
                ls.executor, actions.fix_all_edit, view, ls.path_of(key), settings)
            out.append(actions.fix_all_action(kind, data, edit))
    return [_structure(a, types.CodeAction) for a in out]


def _can_resolve_edit(ls: TorchlintServer) -> bool:
    td = ls.client_capabilities.text_document
    ca = td.code_action if td is not None else None
    support = ca.resolve_support if ca is not None else None
    return bool(support and "edit" in support.properties)


@server.feature(types.CODE_ACTION_RESOLVE)
async def code_action_resolve(ls: TorchlintServer, action: types.CodeAction):
    data = action.data if isinstance(action.data, dict) else {}
    key = data.get("uri")
    if key is None or action.edit is not None:
        return action
    result, view = await ls.current(key)
    if result is None:
        return action
    edit = await asyncio.get_running_loop().run_in_executor(
        ls.executor, actions.fix_all_edit, view, ls.path_of(key), result.settings)
    action.edit = _structure(edit, types.WorkspaceEdit)
    return action


def serve() -> None:
    """Run the server on standard input and output until the client says exit."""
    server.start_io()
