// The extension's lookup of the forewarn binary (src/serverPath.ts, compiled to out/), checked
// against real files in a temp directory: setting first, then PATH, then a workspace build.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const require = createRequire(import.meta.url);
const { findServer } = require("../out/serverPath.js");

function executable(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "#!/bin/sh\n");
  fs.chmodSync(file, 0o755);
  return file;
}

const posix = process.platform !== "win32";
const made = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

test("PATH is searched in order, skipping non-executables", { skip: !posix }, () => {
  const tmp = tempDir("forewarn-path-");
  const notExec = path.join(tmp, "a", "forewarn");
  fs.mkdirSync(path.dirname(notExec));
  fs.writeFileSync(notExec, "");
  const good = executable(path.join(tmp, "b", "forewarn"));
  executable(path.join(tmp, "c", "forewarn"));
  const envPath = ["a", "b", "c"].map((d) => path.join(tmp, d)).join(":");
  const found = findServer({ configured: "", workspaceFolders: [], envPath, platform: "linux" });
  assert.deepEqual(found, { path: good, source: "PATH" });
});

test("a workspace build is the fallback, release before debug", { skip: !posix }, () => {
  const ws = tempDir("forewarn-ws-");
  const debug = executable(path.join(ws, "target", "debug", "forewarn"));
  const tried = [];
  assert.deepEqual(findServer({ configured: "", workspaceFolders: [ws], envPath: "", platform: "linux" }, tried), {
    path: debug,
    source: "workspace build",
  });
  assert.ok(tried.includes(path.join(ws, "target", "release", "forewarn")));
  const release = executable(path.join(ws, "target", "release", "forewarn"));
  assert.equal(findServer({ configured: "", workspaceFolders: [ws], envPath: "", platform: "linux" }).path, release);
});

test("nothing found: undefined, and every place looked at is listed", () => {
  const empty = tempDir("forewarn-none-");
  const tried = [];
  const found = findServer({ configured: "", workspaceFolders: [empty], envPath: empty, platform: process.platform }, tried);
  assert.equal(found, undefined);
  assert.ok(tried.length >= 3, JSON.stringify(tried));
});

test("the setting wins; a relative path is taken from the first workspace folder", () => {
  const ws = tempDir("forewarn-set-");
  const onPath = executable(path.join(ws, "bin", "forewarn"));
  const lookup = { workspaceFolders: [ws], envPath: path.dirname(onPath), platform: process.platform };
  assert.deepEqual(findServer({ ...lookup, configured: "tools/forewarn" }), {
    path: path.join(ws, "tools", "forewarn"),
    source: "setting",
  });
  const abs = path.join(ws, "elsewhere", "forewarn");
  assert.equal(findServer({ ...lookup, configured: abs }).path, abs, "used even when missing, so the error names it");
  // A bare name is a command looked up on PATH.
  const custom = executable(path.join(ws, "bin", "forewarn-dev"));
  assert.equal(findServer({ ...lookup, configured: "forewarn-dev" }).path, custom);
});
