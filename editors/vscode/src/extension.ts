/**
 * The forewarn VS Code extension: starts `forewarn lsp` on stdio for PowerShell, shell and batch
 * files and hands it the `forewarn.*` settings. Everything a user sees (diagnostics, quick fixes,
 * hover) comes from the server; this file only finds the binary, keeps the settings in sync and
 * offers the restart / reload / output commands.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";

import { findServer } from "./serverPath";

const SECTION = "forewarn";
/** The languages DESIGN.md §5 names; the server also recognises `#!` lines. */
const LANGUAGES = ["powershell", "shellscript", "bat"];

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("forewarn", { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("forewarn.restartServer", () => restart()),
    vscode.commands.registerCommand("forewarn.reloadPatternStore", () => reloadStore()),
    vscode.commands.registerCommand("forewarn.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) {
        return;
      }
      if (e.affectsConfiguration(`${SECTION}.path`)) {
        // A different binary needs a new process; the other settings travel over the protocol.
        void restart();
      } else if (client?.state === State.Running) {
        void client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { [SECTION]: serverSettings() },
        });
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

/**
 * The settings the server reads (DESIGN.md §8). Empty strings mean "not set" in the UI and are
 * left out, so the server falls back to `.forewarn.toml`, `FOREWARN_STORE` and its defaults.
 */
function serverSettings(scope?: vscode.ConfigurationScope): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const settings: Record<string, unknown> = {};
  for (const key of ["store", "target", "severity"]) {
    const value = config.get<string>(key, "").trim();
    if (value !== "") {
      settings[key] = value;
    }
  }
  const targets = config.get<Record<string, string>>("targets", {});
  if (targets && Object.keys(targets).length > 0) {
    settings.targets = targets;
  }
  return settings;
}

function workspacePaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === "file")
    .map((f) => f.uri.fsPath);
}

async function start(): Promise<void> {
  const tried: string[] = [];
  const found = findServer(
    {
      configured: vscode.workspace.getConfiguration(SECTION).get<string>("path", ""),
      workspaceFolders: workspacePaths(),
      envPath: process.env.PATH,
      envPathExt: process.env.PATHEXT,
      platform: process.platform,
    },
    tried,
  );
  if (found === undefined) {
    output.error(`forewarn binary not found; looked at:\n  ${tried.join("\n  ")}`);
    const choice = await vscode.window.showErrorMessage(
      "forewarn: the `forewarn` binary was not found on PATH. Install it (`cargo install --path .` in a forewarn checkout) or set `forewarn.path`.",
      "Open settings",
      "Show output",
    );
    if (choice === "Open settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "forewarn.path");
    } else if (choice === "Show output") {
      output.show(true);
    }
    return;
  }
  output.info(`starting ${found.path} lsp (from ${found.source})`);

  const serverOptions: ServerOptions = {
    command: found.path,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: "file", language },
      { scheme: "untitled", language },
    ]),
    outputChannel: output,
    initializationOptions: { [SECTION]: serverSettings() },
    middleware: {
      workspace: {
        // Answer the server's workspace/configuration pulls with the same cleaned settings.
        configuration: (params, token, next) => {
          const answers = params.items.map((item) => {
            if (item.section !== undefined && item.section !== SECTION) {
              return null;
            }
            const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
            return item.section === undefined
              ? { [SECTION]: serverSettings(scope) }
              : serverSettings(scope);
          });
          if (answers.every((a) => a !== null)) {
            return answers;
          }
          return next(params, token);
        },
      },
    },
  };

  // The client id "forewarn" makes vscode-languageclient honour `forewarn.trace.server`.
  client = new LanguageClient(SECTION, "forewarn", serverOptions, clientOptions);
  try {
    // The settings travel in initializationOptions; later changes as didChangeConfiguration.
    await client.start();
  } catch (err) {
    output.error(`forewarn lsp did not start: ${String(err)}`);
    void vscode.window.showErrorMessage(
      `forewarn: the language server (${found.path} lsp) did not start. See the forewarn output.`,
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined && running.state !== State.Stopped) {
    await running.stop();
  }
}

async function restart(): Promise<void> {
  output.info("restarting the language server");
  await stop();
  await start();
}

async function reloadStore(): Promise<void> {
  if (client?.state !== State.Running) {
    void vscode.window.showWarningMessage("forewarn: the language server is not running.");
    return;
  }
  try {
    await client.sendRequest(ExecuteCommandRequest.type, {
      command: "forewarn.reloadStore",
      arguments: [],
    });
    vscode.window.setStatusBarMessage("forewarn: pattern store reloaded", 3000);
  } catch (err) {
    output.error(`forewarn.reloadStore failed: ${String(err)}`);
    void vscode.window.showErrorMessage(`forewarn: reloading the pattern store failed: ${String(err)}`);
  }
}
