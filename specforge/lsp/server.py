"""The language server: pygls wiring, the debounced check, and handlers that never raise.

Diagnostics are published on open and after changes. Changes are debounced with
a leading edge: the first change after a quiet spell is checked at once (so a
single edit gets its diagnostics in the time of one check), while a burst of
changes, typing, is checked once it has paused for ``debounce`` seconds; either
way the check reads the document's latest text, and one check at a time runs.
Requests (completion, hover, ...) use the check of the current text, made on the
spot if the debounced one has not run yet.

Every handler catches its own exceptions, logs them (to the client's log and
to stderr) and answers with an empty result: no text, however broken, and no
plugin, however buggy, takes the server down.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..registry import Registry, get_registry
from . import actions, completion, hover, navigation
from .analysis import Analysis, analyze
from .cursor import cursor_at
from .diagnostics import to_lsp_all
from .positions import from_position, to_position

logger = logging.getLogger("specforge.lsp")

#: Seconds a burst of changes must pause before it is checked.
DEFAULT_DEBOUNCE = 0.15
#: Seconds of quiet after which the cyclic garbage collector runs (see :meth:`SpecServer.collect_soon`).
GC_IDLE = 1.0
#: The collector runs at least this often, quiet or not.
GC_MAX_INTERVAL = 30.0

F = TypeVar("F", bound=Callable[..., Any])


class SpecServer(LanguageServer):
    """The specforge language server: one :class:`Analysis` per open document."""

    def __init__(self, *, debounce: float = DEFAULT_DEBOUNCE, registry: Registry | None = None):
        super().__init__(
            "specforge",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.debounce = debounce
        self.analyses: dict[str, Analysis] = {}
        self._registry = registry
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._last_change: dict[str, float] = {}
        self._gc_timer: asyncio.TimerHandle | None = None
        self._last_gc = time.monotonic()

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = get_registry()
        return self._registry

    @property
    def encoding(self) -> str:
        try:
            return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)
        except RuntimeError:  # before initialize
            return types.PositionEncodingKind.Utf16

    # -- checking ---------------------------------------------------------
    def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text (checked now if it is not yet)."""
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:
            return None
        text = doc.source
        cached = self.analyses.get(uri)
        if cached is not None and cached.text == text:
            cached.version = doc.version
            return cached
        analysis = analyze(
            uri,
            text,
            doc.version,
            language_id=doc.language_id,
            registry=self.registry,
            previous=cached,
        )
        self.analyses[uri] = analysis
        return analysis

    def publish(self, uri: str) -> None:
        analysis = self.current(uri)
        if analysis is None:
            return
        diagnostics = to_lsp_all(analysis.result.diagnostics, analysis.lines, uri, self.encoding)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=analysis.version
            )
        )
        self.collect_soon()

    def take_over_gc(self) -> None:
        """Run the cyclic garbage collector when idle instead of in the middle of a check.

        A big spec's document is some 100,000 objects; a full collection of the
        server's heap takes 50-100 ms, and Python starts one whenever enough new
        objects pile up, often during a check. Spec data holds no reference
        cycles, so reference counting frees it at once; the collector only has
        the protocol's rare cycles to find, which can wait for a quiet second.
        What exists at start-up (modules, the registry) is frozen out of its scans.
        """
        gc.collect()
        gc.freeze()
        gc.disable()

    def collect_soon(self) -> None:
        """Collect once the server has been quiet for a second (at least every 30 s)."""
        if gc.isenabled():
            return
        if self._gc_timer is not None:
            self._gc_timer.cancel()
        if time.monotonic() - self._last_gc > GC_MAX_INTERVAL:
            self._collect()
            return
        try:
            self._gc_timer = asyncio.get_running_loop().call_later(GC_IDLE, self._collect)
        except RuntimeError:  # no loop (tests calling handlers directly)
            self._gc_timer = None

    def _collect(self) -> None:
        self._gc_timer = None
        self._last_gc = time.monotonic()
        gc.collect()

    def schedule(self, uri: str) -> None:
        """Check ``uri`` soon: now after a quiet spell, else once the burst pauses."""
        now = time.monotonic()
        quiet = now - self._last_change.get(uri, float("-inf")) >= self.debounce
        self._last_change[uri] = now
        task = self._pending.get(uri)
        if task is not None and not task.done():
            return  # it reads the latest text when it runs
        self._pending[uri] = asyncio.ensure_future(self._check_later(uri, leading=quiet))

    async def _check_later(self, uri: str, *, leading: bool) -> None:
        try:
            await asyncio.sleep(0)  # let changes already received land first
            if not leading:
                while True:
                    wait = self._last_change.get(uri, 0.0) + self.debounce - time.monotonic()
                    if wait <= 0:
                        break
                    await asyncio.sleep(wait)
            if uri in self._pending:
                self.publish(uri)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log_error(f"checking {uri} failed")
        finally:
            if self._pending.get(uri) is asyncio.current_task():
                del self._pending[uri]

    def forget(self, uri: str) -> None:
        task = self._pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.analyses.pop(uri, None)
        self._last_change.pop(uri, None)

    def log_error(self, what: str) -> None:
        logger.exception(what)
        try:
            import traceback

            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error, message=f"{what}:\n{traceback.format_exc()}"
                )
            )
        except Exception:  # the client is gone: stderr has it
            pass


def _safe(server: SpecServer, default: Any = None) -> Callable[[F], F]:
    """Run the handler; on any exception log it and answer ``default``."""

    def wrap(f: F) -> F:
        @functools.wraps(f)
        def handler(*args: Any) -> Any:
            try:
                return f(*args)
            except JsonRpcInvalidParams:
                raise  # a refusal meant for the user (an invalid rename)
            except Exception:
                server.log_error(f"{f.__name__} failed")
                return default() if callable(default) else default

        return handler  # type: ignore[return-value]

    return wrap


def create_server(
    *, debounce: float = DEFAULT_DEBOUNCE, registry: Registry | None = None
) -> SpecServer:
    """A server with every feature registered (not started)."""
    server = SpecServer(debounce=debounce, registry=registry)
    safe = functools.partial(_safe, server)

    def locate(uri: str, position: types.Position) -> tuple[Analysis, int, int] | None:
        analysis = server.current(uri)
        if analysis is None:
            return None
        line, col = from_position(analysis.lines, position, server.encoding)
        return analysis, line, col

    @server.feature(types.INITIALIZE)
    @safe()
    def initialize(params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
            server.debounce = max(float(options["debounceMs"]), 0.0) / 1000
        server.registry  # load the plugins now, not on the first keystroke  # noqa: B018
        server.take_over_gc()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @safe()
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        server.analyses.pop(params.text_document.uri, None)
        server.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @safe()
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        server.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @safe()
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.forget(params.text_document.uri)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=list(completion.trigger_characters())),
    )
    @safe(lambda: types.CompletionList(is_incomplete=False, items=[]))
    def complete(params: types.CompletionParams) -> types.CompletionList:
        found = locate(params.text_document.uri, params.position)
        if found is None:
            return types.CompletionList(is_incomplete=False, items=[])
        analysis, line, col = found
        cursor = cursor_at(analysis.lines, line, col, json=analysis.format == "json")
        return completion.completion(analysis, cursor, server.registry, server.encoding)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @safe()
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        found = locate(params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, line, col = found
        cursor = cursor_at(analysis.lines, line, col, json=analysis.format == "json")
        rng = None
        if cursor is not None and cursor.word:
            rng = types.Range(
                start=to_position(analysis.lines, line + 1, cursor.start + 1, server.encoding),
                end=to_position(analysis.lines, line + 1, cursor.end + 1, server.encoding),
            )
        return hover.hover(analysis, cursor, server.registry, rng)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @safe(list)
    def on_definition(params: types.DefinitionParams) -> list[types.Location]:
        found = locate(params.text_document.uri, params.position)
        return navigation.definition(*found, server.encoding) if found else []

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @safe(list)
    def on_references(params: types.ReferenceParams) -> list[types.Location]:
        found = locate(params.text_document.uri, params.position)
        if found is None:
            return []
        return navigation.references(*found, server.encoding, params.context.include_declaration)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @safe()
    def on_prepare_rename(params: types.PrepareRenameParams) -> types.Range | None:
        found = locate(params.text_document.uri, params.position)
        return navigation.prepare_rename(*found, server.encoding) if found else None

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    @safe()
    def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
        found = locate(params.text_document.uri, params.position)
        if found is None:
            return None
        try:
            return navigation.rename(*found, params.new_name, server.encoding)
        except navigation.RenameError as e:
            raise JsonRpcInvalidParams(str(e)) from None

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @safe(list)
    def on_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        analysis = server.current(params.text_document.uri)
        return navigation.document_symbols(analysis, server.encoding) if analysis else []

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @safe(list)
    def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        analysis = server.current(params.text_document.uri)
        if analysis is None:
            return []
        return actions.code_actions(
            params.text_document.uri, analysis.lines, params.context.diagnostics, server.encoding
        )

    @server.feature(types.SHUTDOWN)
    @safe()
    def on_shutdown(*_: Any) -> None:
        for uri in list(server._pending):
            server.forget(uri)

    return server
