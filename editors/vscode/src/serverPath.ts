/**
 * Finds the `forewarn` binary the extension starts. Kept free of the `vscode` module so the
 * lookup order can be tested under plain Node (test/server-path.test.mjs).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Lookup {
  /** The `forewarn.path` setting, possibly empty. */
  configured: string;
  /** Workspace folder paths; the first one anchors a relative `forewarn.path`. */
  workspaceFolders: string[];
  /** `process.env.PATH` (and `PATHEXT` on Windows). */
  envPath: string | undefined;
  envPathExt?: string | undefined;
  platform: NodeJS.Platform;
}

export interface Found {
  path: string;
  /** Where it came from, for the output channel. */
  source: "setting" | "PATH" | "workspace build";
}

/** The binary to run, or undefined with the list of places looked at in `tried`. */
export function findServer(lookup: Lookup, tried: string[] = []): Found | undefined {
  const configured = lookup.configured.trim();
  if (configured !== "") {
    // An explicit setting is used even when missing, so the error names what the user wrote.
    const anchored =
      path.isAbsolute(configured) || lookup.workspaceFolders.length === 0
        ? configured
        : path.join(lookup.workspaceFolders[0], configured);
    const hasSeparator = configured.includes("/") || configured.includes("\\");
    if (hasSeparator || path.isAbsolute(configured)) {
      return { path: anchored, source: "setting" };
    }
    // A bare name such as "forewarn-nightly" is looked up on PATH like a shell would.
    const onPath = searchPath(configured, lookup, tried);
    return { path: onPath ?? configured, source: "setting" };
  }
  const onPath = searchPath("forewarn", lookup, tried);
  if (onPath !== undefined) {
    return { path: onPath, source: "PATH" };
  }
  // A checkout of forewarn itself: the binary `cargo build` just made.
  const exe = lookup.platform === "win32" ? "forewarn.exe" : "forewarn";
  for (const folder of lookup.workspaceFolders) {
    for (const profile of ["release", "debug"]) {
      const candidate = path.join(folder, "target", profile, exe);
      tried.push(candidate);
      if (isExecutableFile(candidate)) {
        return { path: candidate, source: "workspace build" };
      }
    }
  }
  return undefined;
}

function searchPath(name: string, lookup: Lookup, tried: string[]): string | undefined {
  const delimiter = lookup.platform === "win32" ? ";" : ":";
  const dirs = (lookup.envPath ?? "").split(delimiter).filter((d) => d !== "");
  const extensions =
    lookup.platform === "win32"
      ? (lookup.envPathExt ?? ".EXE;.CMD;.BAT;.COM").split(";").filter((e) => e !== "")
      : [""];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      tried.push(candidate);
      if (isExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}
