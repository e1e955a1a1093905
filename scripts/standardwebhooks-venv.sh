#!/usr/bin/env bash
# Makes (once) a virtualenv with the `standardwebhooks` package from PyPI, the Standard Webhooks
# reference verifier, and `cryptography` (Ed25519 for scripts/verify_stream.py), and prints its
# python. The signing and receiver-side verify tests check auditrelay with it: implementations
# that share no code with the service. The test command makes it before the tests run.
# Usage: scripts/standardwebhooks-venv.sh   (STANDARDWEBHOOKS_VENV overrides the place)
set -euo pipefail
VENV=${STANDARDWEBHOOKS_VENV:-/var/tmp/auditrelay-standardwebhooks}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import standardwebhooks, cryptography' 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q 'standardwebhooks>=1.0,<2' 'cryptography>=42' >&2
fi
echo "$VENV/bin/python"
