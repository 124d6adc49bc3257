#!/bin/sh
# forewarn: target=alpine
# Health check baked into the portal's worker image (python:3.12-alpine), run by Docker every 30 s.
set -eu

if ! curl -fsS --max-time 5 http://127.0.0.1:8000/healthz >/dev/null; then
    echo "portal worker unhealthy, restarting gunicorn" >&2
    systemctl restart gunicorn
    exit 1
fi

# Queue depth must stay below 500.
DEPTH=$(wget -qO- http://127.0.0.1:8000/metrics | awk '/^queue_depth / {print $2}')
[ "${DEPTH:-0}" -lt 500 ]
