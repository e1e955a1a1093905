#!/usr/bin/env bash
# Makes (once) a virtualenv with the `standardwebhooks` package from PyPI, the Standard Webhooks
# reference verifier, and prints its python. The signing test checks auditrelay's signatures
# with it: an implementation that shares no code with the service.
# Usage: scripts/standardwebhooks-venv.sh   (STANDARDWEBHOOKS_VENV overrides the place)
set -euo pipefail
VENV=${STANDARDWEBHOOKS_VENV:-/var/tmp/auditrelay-standardwebhooks}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q 'standardwebhooks>=1.0,<2' >&2
fi
echo "$VENV/bin/python"
