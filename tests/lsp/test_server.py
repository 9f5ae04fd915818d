"""End to end: a real LSP client drives ``python -m specforge lsp --stdio`` over stdio.

One server for the module (starting one takes about a second); each test opens
its own document, so the tests do not depend on each other's order. Results are
compared exactly: ranges, labels, edits, messages.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
import pytest_lsp
from click.testing import CliRunner
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from specforge.cli import cli
from specforge.registry import get_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPEC = """\
specforge: 2
name: demo
inputs:
  - {name: image, shape: [8, 8]}
nodes:
  - {name: flatten, type: Flatten}
  - {name: hidden, type: Dense, units: 64, activation: relu}
  - {name: output, type: Dense, units: 10, activation: softmax, inputs: [hidden]}
outputs:
  - {node: output, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
optimizer: {type: adam}
"""

BROKEN = """\
specforge: 2
name: demo
inputs:
  - {name: image, shape: [8, 8]}
nodes:
  - {name: flatten, type: Flatten}
  - {name: hidden, type: Dens, units: 64, activation: relu}
  - {name: hidden, type: Dense, units: 10, activation: softmax, inputs: [hiden]}
outputs:
  - {node: hidden, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
optimizer: {type: adam}
"""

PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
TIMEOUT = 30


@pytest_lsp.fixture(
    scope="module",
    loop_scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "specforge", "lsp", "--stdio"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"debounceMs": 50},
        )
    )
    yield
    await lsp_client.shutdown_session()


def R(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(start=P(l1, c1), end=P(l2, c2))


def P(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def open_doc(
    client: LanguageClient, name: str, text: str, language: str = "yaml"
) -> tuple[str, types.PublishDiagnosticsParams]:
    uri = (Path.cwd() / "lsp-test" / name).as_uri()
    waiter = client.protocol.wait_for_notification_async(PUBLISH)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    published = await asyncio.wait_for(waiter, TIMEOUT)
    assert published.uri == uri
    return uri, published


async def change(
    client: LanguageClient, uri: str, version: int, rng: types.Range, text: str
) -> types.PublishDiagnosticsParams:
    waiter = client.protocol.wait_for_notification_async(PUBLISH)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
        )
    )
    published = await asyncio.wait_for(waiter, TIMEOUT)
    assert (published.uri, published.version) == (uri, version)
    return published


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def test_initialize_advertises_the_features(client: LanguageClient):
    # The session was initialized by the fixture; a second document sees the same server.
    _, published = await open_doc(client, "valid.yaml", SPEC)
    assert list(published.diagnostics) == []
    assert published.version == 1


async def test_open_publishes_exactly_validates_diagnostics(client: LanguageClient, tmp_path):
    uri, published = await open_doc(client, "broken.yaml", BROKEN)
    got = [(d.code, d.range, d.severity, d.message, d.source) for d in published.diagnostics]
    assert got == [
        (
            "unknown-node-type",
            R(6, 25, 6, 29),
            types.DiagnosticSeverity.Error,
            "node 'hidden' has unknown type 'Dens'\nhelp: did you mean 'Dense'?",
            "specforge",
        ),
        (
            "duplicate-name",
            R(7, 11, 7, 17),
            types.DiagnosticSeverity.Error,
            "node name 'hidden' is already used (first defined at line 7)\n"
            "help: names of inputs and nodes must be unique: rename one of them",
            "specforge",
        ),
    ]
    dup = published.diagnostics[1]
    assert list(dup.related_information) == [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=R(6, 11, 6, 17)),
            message="'hidden' first defined here",
        )
    ]
    # The same findings as `specforge validate --format json` on the same text.
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(path)])
    expected = [
        (d["code"], d["line"] - 1, d["column"] - 1, d["end_column"] - 1, d["message"])
        for d in json.loads(result.output)
    ]
    assert [
        (d.code, d.range.start.line, d.range.start.character, d.range.end.character,
         d.message.split("\nhelp: ")[0])
        for d in published.diagnostics
    ] == expected  # fmt: skip


async def test_change_updates_diagnostics(client: LanguageClient):
    uri, published = await open_doc(client, "change.yaml", SPEC)
    assert list(published.diagnostics) == []
    # Dense -> Dens on the `hidden` node (line 6, characters 25-30).
    published = await change(client, uri, 2, R(6, 25, 6, 30), "Dens")
    assert [(d.code, d.range) for d in published.diagnostics] == [
        ("unknown-node-type", R(6, 25, 6, 29))
    ]
    # Back to Dense: clean again.
    published = await change(client, uri, 3, R(6, 25, 6, 29), "Dense")
    assert list(published.diagnostics) == []


async def test_a_burst_of_changes_is_checked_once_with_the_latest_text(client: LanguageClient):
    uri, _ = await open_doc(client, "burst.yaml", SPEC)
    waiter = client.protocol.wait_for_notification_async(PUBLISH)
    for version, units in enumerate(("1", "12", "0"), start=2):  # typing; the last is invalid
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangeWholeDocument(text=SPEC.replace("64", units))
                ],
            )
        )
    published = await asyncio.wait_for(waiter, TIMEOUT)
    while published.version != 4:  # a leading-edge check of the first change may come first
        waiter = client.protocol.wait_for_notification_async(PUBLISH)
        published = await asyncio.wait_for(waiter, TIMEOUT)
    assert [(d.code, d.range) for d in published.diagnostics] == [
        ("invalid-value", R(6, 39, 6, 40))
    ]


async def test_completion_of_node_types_parameters_and_names(client: LanguageClient):
    uri, _ = await open_doc(client, "complete.yaml", SPEC)
    # The type of `hidden`: every registered node type, plugins included.
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=P(6, 27))
    )
    labels = [i.label for i in result.items]
    assert labels == get_registry().names("node_type")
    dense = result.items[labels.index("Dense")]
    assert dense.text_edit == types.TextEdit(range=R(6, 25, 6, 30), new_text="Dense")
    assert dense.kind == types.CompletionItemKind.Class
    # A new key in the `hidden` node (after `units: 64, `): the Dense parameters not yet written.
    published = await change(client, uri, 2, R(6, 43, 6, 43), "us, ")
    assert published.diagnostics  # `us` is an unknown key
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=P(6, 45))
    )
    assert [i.label for i in result.items] == [
        "inputs",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
    ]
    use_bias = result.items[1]
    assert use_bias.text_edit == types.TextEdit(range=R(6, 43, 6, 45), new_text="use_bias: ")
    assert use_bias.detail == "bool = true"
    # The names `output` may read: the input and the other nodes.
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=P(7, 77))
    )
    assert [(i.label, i.detail) for i in result.items] == [
        ("image", "input, shape [8, 8]"),
        ("flatten", "node, Flatten"),
        ("hidden", "node, Dense"),
    ]
    # Top-level keys not yet in the spec.
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=P(11, 0))
    )
    assert [i.label for i in result.items] == ["description", "data", "train"]
    assert result.items[1].text_edit == types.TextEdit(range=R(11, 0, 11, 0), new_text="data: ")


async def test_completion_in_json(client: LanguageClient):
    text = '{"specforge": 2, "name": "j", "optimizer": {"type": "ad"}}\n'
    uri, _ = await open_doc(client, "complete.json", text, language="json")
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=P(0, 55))
    )
    adam = next(i for i in result.items if i.label == "adam")
    assert adam.text_edit == types.TextEdit(range=R(0, 52, 0, 56), new_text='"adam"')


async def test_hover_on_a_node_a_type_and_a_parameter(client: LanguageClient):
    uri, _ = await open_doc(client, "hover.yaml", SPEC)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(uri), position=P(6, 13))
    )
    assert hover.range == R(6, 11, 6, 17)
    assert hover.contents.value == (
        "**hidden**: node `Dense`\n\noutput shape `(None, 64)`, 4,160 params\n\nreads `flatten`"
    )
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(uri), position=P(6, 27))
    )
    owner = get_registry().owner[("node_type", "Dense")]
    assert hover.contents.value.startswith(
        f"**Dense** (node type, plugin `{owner}`)\n\n"
        "fully connected layer on the last axis: activation(x · W + b)"
    )
    assert "| `units` | int | required | Number of output features. |" in hover.contents.value
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc_id(uri), position=P(6, 34))
    )
    assert hover.contents.value == (
        "**units**: int (required)\n\nNumber of output features.\n\nParameter of Dense."
    )


async def test_definition_and_references(client: LanguageClient):
    uri, _ = await open_doc(client, "navigate.yaml", SPEC)
    # From `output` under outputs to its definition.
    result = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc_id(uri), position=P(9, 12))
    )
    assert list(result) == [types.Location(uri=uri, range=R(7, 11, 7, 17))]
    result = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc_id(uri),
            position=P(6, 12),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert list(result) == [
        types.Location(uri=uri, range=R(6, 11, 6, 17)),
        types.Location(uri=uri, range=R(7, 73, 7, 79)),
    ]


async def test_rename_a_node_everywhere(client: LanguageClient):
    uri, _ = await open_doc(client, "rename.yaml", SPEC)
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc_id(uri), position=P(7, 74))
    )
    assert prepared == R(7, 73, 7, 79)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc_id(uri), position=P(7, 13), new_name="logits")
    )
    assert {u: list(e) for u, e in edit.changes.items()} == {
        uri: [
            types.TextEdit(range=R(7, 11, 7, 17), new_text="logits"),
            types.TextEdit(range=R(9, 11, 9, 17), new_text="logits"),
        ]
    }
    with pytest.raises(Exception, match="already the name of an input or node"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=doc_id(uri), position=P(7, 13), new_name="hidden")
        )


async def test_document_symbols_outline(client: LanguageClient):
    uri, _ = await open_doc(client, "symbols.yaml", SPEC)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc_id(uri))
    )
    assert [(s.name, [c.name for c in s.children or []]) for s in symbols] == [
        ("specforge", []),
        ("name", []),
        ("inputs", ["image"]),
        ("nodes", ["flatten", "hidden", "output"]),
        ("outputs", ["output"]),
        ("optimizer", []),
    ]
    hidden = symbols[3].children[1]
    assert (hidden.detail, hidden.kind, hidden.range, hidden.selection_range) == (
        "Dense → (None, 64), 4,160 params",
        types.SymbolKind.Function,
        R(6, 4, 6, 60),
        R(6, 11, 6, 17),
    )


async def test_code_action_applies_did_you_mean(client: LanguageClient):
    uri, published = await open_doc(client, "actions.yaml", BROKEN)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc_id(uri),
            range=R(6, 25, 6, 29),
            context=types.CodeActionContext(diagnostics=list(published.diagnostics[:1])),
        )
    )
    assert [
        (a.title, a.kind, {u: list(e) for u, e in a.edit.changes.items()}) for a in actions
    ] == [
        (
            "Replace 'Dens' with 'Dense'",
            types.CodeActionKind.QuickFix,
            {uri: [types.TextEdit(range=R(6, 25, 6, 29), new_text="Dense")]},
        )
    ]


async def test_utf16_columns(client: LanguageClient):
    # 😀 is one character but two UTF-16 code units: the error after it moves one unit right.
    text = SPEC.replace("optimizer: {type: adam}", 'optimizer: {"😀": 1, type: adm}')
    _, published = await open_doc(client, "utf16.yaml", text)
    assert [(d.code, d.range) for d in published.diagnostics] == [
        ("unknown-optimizer", R(10, 27, 10, 30))
    ]


async def test_shutdown_then_exit_ends_the_server_with_code_0():
    # Its own server: the module's one is shut down by the fixture.
    from pygls.lsp.client import LanguageClient as Client

    own = Client("shutdown-test", "1")
    await own.start_io(sys.executable, "-m", "specforge", "lsp", "--stdio")
    await own.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    own.initialized(types.InitializedParams())
    assert await own.shutdown_async(None) is None
    own.exit(None)
    assert await asyncio.wait_for(own._server.wait(), TIMEOUT) == 0
    await own.stop()
