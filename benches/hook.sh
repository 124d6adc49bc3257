#!/bin/sh
# Whole-process latency of `forewarn hook claude` (DESIGN.md §10), on a release build.
#   benches/hook.sh            # the bench binary: default library and 10,000 synthetic patterns
#   STORE=path benches/hook.sh # also hyperfine against an existing store, when hyperfine is installed
set -eu
cd "$(dirname "$0")/.."
cargo bench --bench hook
if [ -n "${STORE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
    cargo build --release --quiet
    payload=$(mktemp)
    trap 'rm -f "$payload"' EXIT
    printf '%s' '{"session_id":"b","cwd":"/","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"cd /srv/app && git pull --ff-only && sudo systemctl restart app.service"},"tool_use_id":"t"}' >"$payload"
    FOREWARN_TARGET=${FOREWARN_TARGET:-debian-12} hyperfine -N --warmup 20 --runs 300 \
        --input "$payload" "target/release/forewarn --store $STORE hook claude"
fi
