"""Write docs/lsp-transcript.md: a real LSP exchange with ``specforge lsp`` on a broken spec.

A pygls client starts ``python -m specforge lsp`` over stdio and records every
JSON-RPC message both ways, exactly as sent and received (message ids are
renumbered 1, 2, 3 ... for readability: pygls numbers them with random UUIDs).

    python docs/lsp_transcript.py            # rewrite docs/lsp-transcript.md
    python docs/lsp_transcript.py --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, ClassVar

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import LanguageServerProtocol

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "lsp-transcript.md"
URI = "file:///home/user/specs/digits.yaml"

BROKEN = """\
specforge: 2
name: digits
inputs:
  - {name: image, shape: [8, 8]}
nodes:
  - {name: flatten, type: Flatten}
  - {name: hidden, type: Dens, units: 64, activation: relu}
  - {name: output, type: Dense, units: 10, activation: softmax, inputs: [hiden]}
outputs:
  - {node: output, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
optimizer: {type: adam}
"""


class Recorder(LanguageServerProtocol):
    """The client's protocol, keeping a copy of every message as JSON data."""

    log: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def _send_data(self, data: Any) -> None:
        if data:
            self.log.append(("→", json.loads(json.dumps(data, default=self._serialize_message))))
        super()._send_data(data)

    def structure_message(self, data: dict[str, Any]) -> Any:
        # Called for every JSON object of a message, innermost first: keep whole messages.
        if "jsonrpc" in data:
            self.log.append(("←", json.loads(json.dumps(data))))
        return super().structure_message(data)


def P(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def exchange() -> list[tuple[str, str, dict[str, Any]]]:
    """Run the session; return (step title, direction, message) triples."""
    Recorder.log = []
    client = LanguageClient("transcript", "1", protocol_cls=Recorder)
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    steps: list[tuple[str, int]] = []

    def step(title: str) -> None:
        steps.append((title, len(Recorder.log)))

    await client.start_io(sys.executable, "-m", "specforge", "lsp", "--stdio", cwd=str(ROOT))
    doc = types.TextDocumentIdentifier(uri=URI)
    step("Initialize")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            process_id=None,
            client_info=types.ClientInfo(name="transcript"),
        )
    )
    client.initialized(types.InitializedParams())
    step("Open a spec with a misspelt type and a misspelt reference: the diagnostics of validate")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="yaml", version=1, text=BROKEN
            )
        )
    )
    first = await asyncio.wait_for(published.get(), 30)
    step("Quick fixes for both, from the did-you-mean help lines")
    await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(start=P(6, 0), end=P(7, 80)),
            context=types.CodeActionContext(diagnostics=list(first.diagnostics)),
        )
    )
    step("Apply both fixes, as an editor does: the diagnostics again, none left")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=P(6, 25), end=P(6, 29)), text="Dense"
                ),
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=P(7, 73), end=P(7, 78)), text="hidden"
                ),
            ],
        )
    )
    await asyncio.wait_for(published.get(), 30)
    step("Complete the reference `hidden` (the cursor after `hidd`): the names a node may read")
    await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=P(7, 77))
    )
    step("Hover on `hidden`: its inferred shape and parameter count")
    await client.text_document_hover_async(types.HoverParams(text_document=doc, position=P(6, 13)))
    step("Go to the definition of `output` from the outputs section")
    await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=P(9, 13))
    )
    step("Find the references to `hidden`")
    await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=P(6, 13),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    step("Rename `hidden` to `encoder`: its definition and every reference")
    await client.text_document_rename_async(
        types.RenameParams(text_document=doc, position=P(6, 13), new_name="encoder")
    )
    step("Outline")
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    step("Shut down")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    ids: dict[Any, int] = {}
    out = []
    for k, (title, start) in enumerate(steps):
        end = steps[k + 1][1] if k + 1 < len(steps) else len(Recorder.log)
        for direction, message in Recorder.log[start:end]:
            if "id" in message and message["id"] is not None:
                message["id"] = ids.setdefault(message["id"], len(ids) + 1)
            out.append((title, direction, message))
    return out


def render(messages: list[tuple[str, str, dict[str, Any]]]) -> str:
    parts = [
        "# An LSP session with `specforge lsp`",
        "",
        "Generated by `python docs/lsp_transcript.py` from a real session: a pygls client",
        "starts `python -m specforge lsp --stdio` and every JSON-RPC message is shown as",
        "sent (→, client to server) and received (←, server to client). Message ids are",
        "renumbered; positions are 0-based lines and UTF-16 characters, as LSP counts them.",
        "See `docs/editors.md` for editor set-up.",
        "",
        "The spec (`digits.yaml`; `Dens` and `hiden` are typos):",
        "",
        "```yaml",
        BROKEN.rstrip("\n"),
        "```",
    ]
    title = None
    for step, direction, message in messages:
        if step != title:
            title = step
            parts += ["", f"## {step}"]
        what = message.get("method") or ("error" if "error" in message else "result")
        parts += [
            "",
            f"{direction} `{what}`",
            "",
            "```json",
            json.dumps(message, indent=2, ensure_ascii=False),
            "```",
        ]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args()
    text = render(asyncio.run(exchange()))
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python docs/lsp_transcript.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(messages_of(text))} messages)")
    return 0


def messages_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("→", "←"))]


if __name__ == "__main__":
    sys.exit(main())
