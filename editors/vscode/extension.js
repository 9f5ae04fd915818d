// A thin VS Code client for `specforge lsp`: start the server over stdio for the spec files
// named in the settings; everything else (diagnostics, completion, hover, rename, quick
// fixes) is the server's. Install: see docs/editors.md.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function createClient() {
  const config = vscode.workspace.getConfiguration("specforge");
  const [command, ...args] = config.get("command");
  const serverOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: config.get("documents").map((pattern) => ({ scheme: "file", pattern })),
    initializationOptions: { debounceMs: config.get("debounceMs") },
  };
  return new LanguageClient("specforge", "specforge", serverOptions, clientOptions);
}

async function activate(context) {
  client = createClient();
  context.subscriptions.push(
    vscode.commands.registerCommand("specforge.restartServer", async () => {
      await client.stop();
      client = createClient();
      await client.start();
    }),
    { dispose: () => client && client.stop() },
  );
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
