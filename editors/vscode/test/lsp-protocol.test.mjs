// Drives the real `forewarn lsp` (env FOREWARN_BIN) through vscode-languageserver-protocol, the
// library vscode-languageclient is built on, the way VS Code does: UTF-16 positions only,
// incremental changes, code actions that may need resolving. A line with emoji and accented text
// before the flagged command makes every column depend on the encoding being honoured.
//
// Run: FOREWARN_BIN=../../target/debug/forewarn node --test test/
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const rpc = require("vscode-languageserver-protocol/node");

const BIN = process.env.FOREWARN_BIN;
const TIMEOUT_MS = 15000;

let tmp;
let server;
let connection;
let stderr = "";
const published = new Map(); // uri -> every publishDiagnostics params, oldest first
const waiters = [];
const logMessages = [];

/** Resolves with the first publishDiagnostics for `uri` (already received or coming) that `accept` takes. */
function waitForDiagnostics(uri, accept, what, since = 0) {
  const seen = (published.get(uri) ?? []).slice(since);
  const hit = seen.find(accept);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const waiter = { uri, accept, resolve };
    waiters.push(waiter);
    setTimeout(() => {
      const i = waiters.indexOf(waiter);
      if (i >= 0) waiters.splice(i, 1);
      reject(
        new Error(
          `no publishDiagnostics for ${uri} with ${what} within ${TIMEOUT_MS} ms.\n` +
            `received: ${JSON.stringify(published.get(uri) ?? [], null, 1)}\n` +
            `logMessage: ${JSON.stringify(logMessages)}\nserver stderr:\n${stderr}`,
        ),
      );
    }, TIMEOUT_MS).unref();
  });
}

/** UTF-16 position -> JS string index (JS strings are UTF-16, as VS Code's documents are). */
function offsetAt(text, position) {
  let lineStart = 0;
  for (let line = 0; line < position.line; line++) {
    const nl = text.indexOf("\n", lineStart);
    assert.notEqual(nl, -1, `position ${JSON.stringify(position)} is past the end of the text`);
    lineStart = nl + 1;
  }
  const lineEnd = text.indexOf("\n", lineStart);
  const lineLength = (lineEnd === -1 ? text.length : lineEnd) - lineStart;
  assert.ok(
    position.character <= lineLength,
    `position ${JSON.stringify(position)} is past the end of its line (${lineLength} UTF-16 units)`,
  );
  return lineStart + position.character;
}

/** Applies a WorkspaceEdit's edits for `uri` to `text`, as VS Code would. */
function applyWorkspaceEdit(text, edit, uri) {
  const edits = [];
  for (const change of edit.documentChanges ?? []) {
    assert.ok(change.textDocument, `unsupported document change ${JSON.stringify(change)}`);
    assert.equal(change.textDocument.uri, uri);
    edits.push(...change.edits);
  }
  edits.push(...(edit.changes?.[uri] ?? []));
  assert.ok(edits.length > 0, `the edit changes nothing in ${uri}: ${JSON.stringify(edit)}`);
  const spans = edits
    .map((e) => ({ start: offsetAt(text, e.range.start), end: offsetAt(text, e.range.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  for (const s of spans) {
    text = text.slice(0, s.start) + s.newText + text.slice(s.end);
  }
  return text;
}

/** The code actions for `diagnostic`, each with its edit resolved if the server deferred it. */
async function quickFixes(uri, diagnostic, resolveProvider) {
  const actions = await connection.sendRequest(rpc.CodeActionRequest.type, {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic], triggerKind: rpc.CodeActionTriggerKind.Invoked },
  });
  assert.ok(Array.isArray(actions) && actions.length > 0, `no code actions for ${JSON.stringify(diagnostic)}`);
  const resolved = [];
  for (const action of actions) {
    assert.ok(!("command" in action && typeof action.command === "string"), "a bare Command instead of a CodeAction");
    if (action.edit === undefined && action.data !== undefined && resolveProvider) {
      resolved.push(await connection.sendRequest(rpc.CodeActionResolveRequest.type, action));
    } else {
      resolved.push(action);
    }
  }
  return resolved;
}

function sameRange(a, b) {
  return (
    a.start.line === b.start.line &&
    a.start.character === b.start.character &&
    a.end.line === b.end.line &&
    a.end.character === b.end.character
  );
}

let initializeResult;
/** What the client answers for the `forewarn` section, as the extension's serverSettings() would. */
let settings;

before(async () => {
  assert.ok(BIN, "set FOREWARN_BIN to the forewarn binary (cargo test --test editors does)");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "forewarn-vscode-"));
  const store = path.join(tmp, "store.db");
  // A store of our own, seeded with the default library, so no user store is read or written.
  execFileSync(BIN, ["--store", store, "store", "init"], { stdio: "pipe" });
  server = spawn(BIN, ["lsp"], {
    cwd: tmp,
    env: { ...process.env, FOREWARN_STORE: store, FOREWARN_LOG: process.env.FOREWARN_LOG ?? "info" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  server.stderr.on("data", (d) => (stderr += d));
  connection = rpc.createProtocolConnection(
    new rpc.StreamMessageReader(server.stdout),
    new rpc.StreamMessageWriter(server.stdin),
  );
  connection.onNotification(rpc.PublishDiagnosticsNotification.type, (params) => {
    const list = published.get(params.uri) ?? [];
    list.push(params);
    published.set(params.uri, list);
    for (const w of [...waiters]) {
      if (w.uri === params.uri && w.accept(params)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(params);
      }
    }
  });
  connection.onNotification(rpc.LogMessageNotification.type, (p) => logMessages.push(p.message));
  connection.onNotification(rpc.ShowMessageNotification.type, (p) => logMessages.push(p.message));
  settings = { store };
  connection.onRequest(rpc.ConfigurationRequest.type, (params) =>
    params.items.map((item) => (item.section === "forewarn" ? settings : item.section ? null : { forewarn: settings })),
  );
  connection.onRequest(rpc.RegistrationRequest.type, () => null);
  connection.onRequest(rpc.UnregistrationRequest.type, () => null);
  connection.onRequest(rpc.WorkDoneProgressCreateRequest.type, () => null);
  connection.listen();

  const rootUri = pathToFileURL(tmp).href;
  initializeResult = await connection.sendRequest(rpc.InitializeRequest.type, {
    processId: process.pid,
    clientInfo: { name: "forewarn-editors-test", version: "1" },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: "fixture" }],
    initializationOptions: { forewarn: { store } },
    capabilities: {
      // What VS Code offers: UTF-16 and nothing else.
      general: { positionEncodings: [rpc.PositionEncodingKind.UTF16] },
      workspace: {
        configuration: true,
        workspaceFolders: true,
        applyEdit: true,
        didChangeConfiguration: { dynamicRegistration: true },
        executeCommand: { dynamicRegistration: true },
        workspaceEdit: { documentChanges: true },
      },
      textDocument: {
        synchronization: { dynamicRegistration: true, didSave: true, willSave: true },
        publishDiagnostics: {
          relatedInformation: true,
          versionSupport: true,
          codeDescriptionSupport: true,
          dataSupport: true,
          tagSupport: { valueSet: [1, 2] },
        },
        codeAction: {
          dynamicRegistration: true,
          isPreferredSupport: true,
          disabledSupport: true,
          dataSupport: true,
          resolveSupport: { properties: ["edit"] },
          codeActionLiteralSupport: {
            codeActionKind: { valueSet: ["", "quickfix", "refactor", "refactor.rewrite", "source"] },
          },
        },
        hover: { dynamicRegistration: true, contentFormat: ["markdown", "plaintext"] },
      },
      window: { workDoneProgress: true, showMessage: {} },
    },
  });
  await connection.sendNotification(rpc.InitializedNotification.type, {});
});

after(async () => {
  // Only if a test failed before the shutdown test ran: don't leave the server behind.
  connection?.dispose();
  if (server && server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the server answers a UTF-16-only client in UTF-16", () => {
  const encoding = initializeResult.capabilities.positionEncoding;
  assert.ok(
    encoding === undefined || encoding === rpc.PositionEncodingKind.UTF16,
    `positionEncoding ${encoding} was not offered`,
  );
  assert.ok(initializeResult.capabilities.textDocumentSync, "no textDocumentSync capability");
  assert.ok(initializeResult.capabilities.codeActionProvider, "no codeActionProvider capability");
});

test("PowerShell on Server 2008: Get-LocalUser after emoji is an error at its UTF-16 columns", async () => {
  const uri = pathToFileURL(path.join(tmp, "users.ps1")).href;
  const flagged = 'Write-Host "🚀 déploiement 用户 ✅"; Get-LocalUser -Name admin';
  const text = ["# forewarn: target=windows-server-2008", "$ErrorActionPreference = 'Stop'", flagged, ""].join("\n");
  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "powershell", version: 1, text },
  });
  const start = { line: 2, character: flagged.indexOf("Get-LocalUser") };
  const expected = { start, end: { line: 2, character: start.character + "Get-LocalUser".length } };
  const params = await waitForDiagnostics(
    uri,
    (p) => p.diagnostics.some((d) => d.range.start.line === 2),
    "a diagnostic on line 2",
  );
  if (params.version !== undefined && params.version !== null) assert.equal(params.version, 1);
  const diagnostic = params.diagnostics.find((d) => sameRange(d.range, expected));
  assert.ok(diagnostic, `no diagnostic at ${JSON.stringify(expected)} (UTF-16): ${JSON.stringify(params.diagnostics)}`);
  assert.equal(diagnostic.severity, rpc.DiagnosticSeverity.Error, "blocking must be an Error");
  assert.equal(diagnostic.source, "forewarn");
  assert.ok(typeof diagnostic.code === "string" && diagnostic.code.length > 0, "code is the pattern signature");
  assert.match(diagnostic.message, /windows-server-2008/, "the message names the target");
  assert.ok(diagnostic.data !== undefined && diagnostic.data !== null, "data carries the pattern id");
  assert.equal(
    params.diagnostics.filter((d) => d.range.start.line === 0 || d.range.start.line === 1).length,
    0,
    `nothing else on the first lines: ${JSON.stringify(params.diagnostics)}`,
  );

  const actions = await quickFixes(uri, diagnostic, initializeResult.capabilities.codeActionProvider?.resolveProvider);
  for (const action of actions) {
    assert.equal(action.kind, rpc.CodeActionKind.QuickFix, `${action.title}: kind`);
    assert.ok(
      action.diagnostics?.some((d) => sameRange(d.range, expected)),
      `${action.title}: carries the diagnostic it resolves`,
    );
    assert.ok(action.edit, `${action.title}: no edit after resolve`);
  }
  const results = actions.map((a) => ({ title: a.title, text: applyWorkspaceEdit(text, a.edit, uri) }));
  // Insert the recommended solution as a comment above the flagged line, the line itself unchanged.
  const commented = results.find((r) => {
    const lines = r.text.split("\n");
    const i = lines.indexOf(flagged);
    return i > 2 && lines.slice(2, i).every((l) => /^\s*#/.test(l));
  });
  assert.ok(commented, `no action inserts a comment above the line: ${JSON.stringify(results, null, 1)}`);
  assert.match(commented.text, /Win32_UserAccount/, "the comment carries the recommended solution");
  // Suppress on this line.
  const suppressed = results.find((r) => /forewarn: ignore/.test(r.text));
  assert.ok(suppressed, `no suppress action: ${JSON.stringify(results.map((r) => r.title))}`);
  const lines = suppressed.text.split("\n");
  const at = lines.findIndex((l) => l.includes("Get-LocalUser"));
  assert.ok(
    /forewarn: ignore/.test(lines[at]) || /^\s*# forewarn: ignore/.test(lines[at - 1]),
    `the suppression is not on or above the flagged line:\n${suppressed.text}`,
  );
  assert.ok(!actions.some((a) => a.isPreferred), "this pattern has no fix, so nothing is preferred");

  const before = published.get(uri).length;
  await connection.sendNotification(rpc.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  await waitForDiagnostics(uri, (p) => p.diagnostics.length === 0, "an empty list after close", before);
});

test("bash on Debian 12: the preferred fix turns python into python3, and an edit clears it", async () => {
  const uri = pathToFileURL(path.join(tmp, "deploy.sh")).href;
  const flagged = 'echo "🐍 résumé → 😀"; python x.py';
  const text = ["#!/bin/bash", "# forewarn: target=debian-12", flagged, ""].join("\n");
  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "shellscript", version: 1, text },
  });
  const start = { line: 2, character: flagged.indexOf("python") };
  const expected = { start, end: { line: 2, character: start.character + "python".length } };
  const params = await waitForDiagnostics(
    uri,
    (p) => p.diagnostics.some((d) => d.range.start.line === 2),
    "a diagnostic on line 2",
  );
  const diagnostic = params.diagnostics.find((d) => sameRange(d.range, expected));
  assert.ok(diagnostic, `no diagnostic at ${JSON.stringify(expected)} (UTF-16): ${JSON.stringify(params.diagnostics)}`);
  assert.equal(diagnostic.severity, rpc.DiagnosticSeverity.Warning, "major must be a Warning");
  assert.equal(diagnostic.source, "forewarn");
  assert.match(diagnostic.message, /debian-12/, "the message names the target");

  const actions = await quickFixes(uri, diagnostic, initializeResult.capabilities.codeActionProvider?.resolveProvider);
  const preferred = actions.filter((a) => a.isPreferred);
  assert.equal(preferred.length, 1, `exactly one preferred fix: ${JSON.stringify(actions.map((a) => a.title))}`);
  const fixed = applyWorkspaceEdit(text, preferred[0].edit, uri);
  assert.equal(fixed, ["#!/bin/bash", "# forewarn: target=debian-12", 'echo "🐍 résumé → 😀"; python3 x.py', ""].join("\n"));

  // Type the fix in, as VS Code sends it: one incremental change in UTF-16 positions.
  await connection.sendNotification(rpc.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: expected.end, end: expected.end }, rangeLength: 0, text: "3" }],
  });
  const after = await waitForDiagnostics(
    uri,
    (p) => p.version === 2 || (p.version == null && !p.diagnostics.some((d) => d.range.start.line === 2)),
    "the diagnostics of version 2",
  );
  assert.deepEqual(
    after.diagnostics.filter((d) => d.range.start.line === 2),
    [],
    `python3 is still flagged after the edit: ${JSON.stringify(after.diagnostics)}`,
  );
  await connection.sendNotification(rpc.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
});

test("workspace/executeCommand forewarn.reloadStore succeeds", async () => {
  const commands = initializeResult.capabilities.executeCommandProvider?.commands ?? [];
  assert.ok(commands.includes("forewarn.reloadStore"), `commands advertised: ${JSON.stringify(commands)}`);
  await connection.sendRequest(rpc.ExecuteCommandRequest.type, { command: "forewarn.reloadStore", arguments: [] });
});

test("settings changes arrive as the extension sends them and re-publish open documents", async () => {
  // No directive and no .forewarn.toml: the target comes from the forewarn.target setting.
  const uri = pathToFileURL(path.join(tmp, "untargeted.ps1")).href;
  const text = "Get-LocalUser | Format-Table Name, Enabled\n";
  await connection.sendNotification(rpc.DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "powershell", version: 1, text },
  });
  const isGetLocalUser = (d) => d.range.start.line === 0 && d.range.start.character === 0;
  const flagged = (severity) => (p) => p.diagnostics.some((d) => isGetLocalUser(d) && d.severity === severity);
  const change = async (next, accept, what) => {
    const seen = published.get(uri)?.length ?? 0;
    settings = next;
    await connection.sendNotification(rpc.DidChangeConfigurationNotification.type, { settings: { forewarn: settings } });
    return waitForDiagnostics(uri, accept, what, seen);
  };
  // Unknown target: at most minor (Information), naming the systems the pattern affects.
  const unknown = await waitForDiagnostics(uri, flagged(rpc.DiagnosticSeverity.Information), "an Information diagnostic");
  assert.match(unknown.diagnostics.find(isGetLocalUser).message, /windows-server-2008/, "names the affected systems");
  const targeted = await change(
    { ...settings, target: "windows-server-2008" },
    flagged(rpc.DiagnosticSeverity.Error),
    "an Error once forewarn.target is windows-server-2008",
  );
  assert.match(targeted.diagnostics.find(isGetLocalUser).message, /target: windows-server-2008/);
  const { target, ...untargeted } = settings;
  assert.equal(target, "windows-server-2008");
  await change({ ...untargeted, severity: "blocking" }, (p) => p.diagnostics.length === 0, "nothing once severity is blocking and the finding minor");
  await change({ ...untargeted, severity: "info" }, flagged(rpc.DiagnosticSeverity.Information), "the Information diagnostic back");
  await connection.sendNotification(rpc.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
});

test("shutdown then exit ends the server with code 0", async () => {
  const exited = new Promise((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
  await connection.sendRequest(rpc.ShutdownRequest.type);
  await connection.sendNotification(rpc.ExitNotification.type);
  const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), 5000).unref());
  const result = await Promise.race([exited, timeout]);
  assert.deepEqual(result, { code: 0, signal: null }, `the server did not exit cleanly:\n${stderr}`);
});
