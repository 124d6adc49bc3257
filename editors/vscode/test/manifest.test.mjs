// The extension's manifest (package.json) against its code and its libraries: what VS Code would
// only reveal at run time, such as a command that is contributed but never registered, or one
// that collides with a command vscode-languageclient registers for the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";

const manifest = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url)));
const extension = fs.readFileSync(new URL("../out/extension.js", import.meta.url), "utf8");
const client = JSON.parse(
  fs.readFileSync(new URL("../node_modules/vscode-languageclient/package.json", import.meta.url)),
);

/** `^1.91.0` -> [1, 91, 0] */
function minVersion(range) {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(range);
  assert.ok(m, `no version in ${range}`);
  return m.slice(1).map(Number);
}

function atLeast(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

test("every contributed command is registered, activates the extension, and is not a server command", () => {
  const commands = manifest.contributes.commands.map((c) => c.command);
  assert.deepEqual(commands.sort(), ["forewarn.reloadPatternStore", "forewarn.restartServer", "forewarn.showOutput"]);
  for (const id of commands) {
    assert.match(extension, new RegExp(`registerCommand\\("${id.replace(".", "\\.")}"`), `${id} is not registered`);
    assert.ok(manifest.activationEvents.includes(`onCommand:${id}`), `${id} does not activate the extension`);
  }
  // vscode-languageclient registers the server's executeCommand ids as VS Code commands; a
  // contributed command of the same id would make the client fail to start.
  for (const serverCommand of ["forewarn.reloadStore", "forewarn.recordOccurrence"]) {
    assert.ok(!commands.includes(serverCommand), `${serverCommand} belongs to the server`);
  }
  assert.match(extension, /command: "forewarn\.reloadStore"/, "Reload pattern store must ask the server");
  const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`).sort();
  assert.deepEqual(titles, ["forewarn: Reload pattern store", "forewarn: Restart server", "forewarn: Show output"]);
});

test("activated for PowerShell, shell and batch, and the client selects the same languages", () => {
  for (const language of ["powershell", "shellscript", "bat"]) {
    assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
    assert.match(extension, new RegExp(`"${language}"`), `${language} missing from the document selector`);
  }
});

test("settings: path, store, target, targets, severity (the server's names), trace.server", () => {
  const props = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), [
    "forewarn.path",
    "forewarn.severity",
    "forewarn.store",
    "forewarn.target",
    "forewarn.targets",
    "forewarn.trace.server",
  ]);
  assert.deepEqual(props["forewarn.severity"].enum, ["info", "minor", "major", "blocking"]);
  assert.deepEqual(props["forewarn.trace.server"].enum, ["off", "messages", "verbose"]);
  // The client id must be "forewarn" for vscode-languageclient to read forewarn.trace.server.
  assert.match(extension, /new node_1\.LanguageClient\(SECTION,|new LanguageClient\(SECTION,/);
  assert.match(extension, /const SECTION = "forewarn"/);
});

test("engines.vscode is new enough for vscode-languageclient and @types/vscode", () => {
  const ours = minVersion(manifest.engines.vscode);
  const needed = minVersion(client.engines.vscode);
  assert.ok(atLeast(ours, needed), `engines.vscode ${manifest.engines.vscode} < client's ${client.engines.vscode}`);
  const types = minVersion(manifest.devDependencies["@types/vscode"]);
  assert.ok(atLeast(ours, types), `@types/vscode ${types.join(".")} is newer than engines.vscode`);
  assert.equal(manifest.main, "./out/extension.js");
});
