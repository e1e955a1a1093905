#!/usr/bin/env bash
# Proves that python-gitlab 8.x, unchanged, works against the real server: it installs the
# library into a virtualenv (once), starts the debug binary on SQLite, and runs
# python_gitlab_check.py (get_all paging through Link headers, filters, typed audit events).
# Usage: scripts/python-gitlab.sh   (after `cargo build`; AUDITRELAY_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${AUDITRELAY_BIN:-${CARGO_TARGET_DIR:-target}/debug/auditrelay}
VENV=${PYTHON_GITLAB_VENV:-/var/tmp/auditrelay-python-gitlab}
PORT=${PYTHON_GITLAB_PORT:-18931}
TOKEN=glpat-python-gitlab-check-0001
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import gitlab' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'python-gitlab>=8,<9'
fi
DATA=$(mktemp -d)
AUDITRELAY_ROOT_TOKEN=$TOKEN AUDITRELAY_ROOT_PASSWORD=python-gitlab-check \
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/-/health" >/dev/null 2>&1 && break
  sleep 0.1
done
"$VENV/bin/python" scripts/python_gitlab_check.py "http://127.0.0.1:$PORT" "$TOKEN"
