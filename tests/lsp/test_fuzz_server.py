"""The server never fails on any text: mutated seed specs, sent as edits over stdio.

The mutations are those of ``tests/test_fuzz_validate.py``. Each example is one
``didChange`` to a running server, followed by every request at a few
positions (also past the end of the text). The server must answer each, publish
the diagnostics of that version, and log no handler failure: a handler that
caught its own exception counts as a failure here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.lsp.client import LanguageClient

_FUZZ = Path(__file__).resolve().parent.parent / "test_fuzz_validate.py"
_spec = importlib.util.spec_from_file_location("_fuzz_validate", _FUZZ)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)


class Session:
    """A client on an event loop in a background thread, so hypothesis's synchronous test
    body can drive it (hypothesis runs no coroutines)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient("fuzz", "0")
        self.errors: list[str] = []
        self.published: dict[int, Any] = {}
        self.version = 1
        self.opened: set[str] = set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            if params.type == types.MessageType.Error:
                self.errors.append(params.message)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def show(params: types.ShowMessageParams) -> None:
            self.errors.append(params.message)

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.published[params.version] = params

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "specforge", "lsp")
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={"debounceMs": 0},
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    s = Session()
    s.run(s.start())
    yield s
    s.run(s.stop())
    s.loop.call_soon_threadsafe(s.loop.stop)
    s.thread.join(5)


async def _exchange(
    client: LanguageClient, uri: str, version: int, text: str, spots: list[tuple[int, int]]
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    doc = types.TextDocumentIdentifier(uri=uri)
    for line, character in spots:
        pos = types.Position(line=line, character=character)
        await client.text_document_completion_async(
            types.CompletionParams(text_document=doc, position=pos)
        )
        await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos))
        await client.text_document_definition_async(
            types.DefinitionParams(text_document=doc, position=pos)
        )
        await client.text_document_references_async(
            types.ReferenceParams(
                text_document=doc,
                position=pos,
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        await client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=doc, position=pos)
        )
        try:
            await client.text_document_rename_async(
                types.RenameParams(text_document=doc, position=pos, new_name="renamed")
            )
        except Exception as e:  # a refusal (the name is taken) is an answer, not a failure
            assert "already the name" in str(e), e
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    whole = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=10_000, character=0)
    )
    await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=whole,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    case=fuzz.mutated_spec(),
    spots=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 120)), min_size=1, max_size=3),
)
def test_server_answers_every_request_on_a_mutated_spec(session: Session, case, spots):
    suffix, text = case
    uri = Path(f"/tmp/fuzz{suffix}").as_uri()  # a .json seed is checked as JSON
    client = session.client
    if uri not in session.opened:
        session.opened.add(uri)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=suffix[1:], version=1, text=""
                )
            )
        )
    session.version += 1  # one counter for both documents: each version is unique
    version = session.version
    session.run(_exchange(client, uri, version, text, spots))
    assert not session.errors, session.errors[0]
    # The diagnostics of this version were published (the check ran on this text).
    for _ in range(500):
        if version in session.published:
            break
        session.run(asyncio.sleep(0.01))
    assert session.published[version].uri == uri
