#!/usr/bin/env python3
"""Receiver-side check of one auditrelay stream (docs/completeness.md), independent of auditrelay.

Usage: verify_stream.py CAPTURE.ndjson PUBLIC_KEY_BASE64 [CHECKPOINTS.json]
The chain needs only the standard library; checkpoint signatures use `cryptography`'s Ed25519.
Prints a JSON summary; exits 0 complete, 1 a problem, 3 only parked positions missing.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def canonical_json(cp):
    """The bytes a checkpoint's signature covers: its five fields, keys sorted, no whitespace."""
    fields = {k: cp[k] for k in ("chain", "created_at", "parked", "sequence", "stream")}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main(capture, public_key_b64, checkpoints_file=None):
    raw_key = base64.b64decode(public_key_b64)
    key_id = hashlib.sha256(raw_key).digest()[:8].hex()
    public_key = Ed25519PublicKey.from_public_bytes(raw_key)
    stream, digests, headers, checkpoints = None, {}, {}, []
    with open(capture, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            request = json.loads(line)
            h = {name.lower(): value for name, value in request["headers"].items()}
            if "body_base64" in request:
                body = base64.b64decode(request["body_base64"])
            else:
                body = request["body"].encode("utf-8")
            if h.get("x-auditrelay-checkpoint") == "1":
                checkpoints.append(json.loads(body))
            elif "x-auditrelay-stream" in h:
                stream = h["x-auditrelay-stream"]
                n = int(h["x-auditrelay-sequence"])
                digests.setdefault(n, hashlib.sha256(body).digest())
                headers.setdefault(n, bytes.fromhex(h["x-auditrelay-chain"]))
    if checkpoints_file:
        with open(checkpoints_file, encoding="utf-8") as f:
            checkpoints += json.load(f)

    valid, rejected = [], 0
    for cp in checkpoints:
        try:
            if cp["key_id"] != key_id:
                raise InvalidSignature()
            public_key.verify(base64.b64decode(cp["signature"]), canonical_json(cp))
            valid.append(cp)
        except InvalidSignature:
            rejected += 1
    stream = stream or (valid[0]["stream"] if valid else "")
    parked = {p["sequence"]: bytes.fromhex(p["body_sha256"]) for cp in valid for p in cp["parked"]}
    at_checkpoint = {cp["sequence"]: bytes.fromhex(cp["chain"]) for cp in valid}

    chain = hashlib.sha256(b"auditrelay-stream-v1\n" + stream.encode("utf-8")).digest()
    lost, parked_missing, first_mismatch = [], [], None
    top = max([0, *digests, *at_checkpoint])
    for n in range(1, top + 1):
        digest = digests.get(n, parked.get(n))
        if digest is None:
            lost.append(n)
            chain = None  # unknown until a header or checkpoint gives it again
        elif chain is not None:
            chain = hashlib.sha256(chain + digest).digest()
        if n not in digests and n in parked:
            parked_missing.append(n)
        if n in headers:
            if chain is not None and chain != headers[n] and first_mismatch is None:
                first_mismatch = n
            chain = headers[n]
        if n in at_checkpoint:
            if chain is not None and chain != at_checkpoint[n] and first_mismatch is None:
                first_mismatch = n
            chain = at_checkpoint[n]

    problem = lost or first_mismatch is not None or rejected or top == 0
    summary = {
        "stream": stream,
        "received": len(digests),
        "lost": lost,
        "parked": parked_missing,
        "first_mismatch": first_mismatch,
        "checkpoints_valid": len(valid),
        "checkpoints_rejected": rejected,
    }
    print(json.dumps(summary))
    return 1 if problem else 3 if parked_missing else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
