"""Checks recorded deliveries with the `standardwebhooks` reference library.

Usage: standardwebhooks_check.py CAPTURE.ndjson --accept whsec_... [--accept ...] [--reject whsec_...]

CAPTURE is the project's capture format (one JSON object per request: "headers", "body").
Every delivery must verify with every --accept secret, fail with every --reject secret, and
fail with a tampered body. Prints one line per delivery; exits 1 on any mismatch.
"""
import argparse
import json
import sys

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


def verifies(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("capture")
    parser.add_argument("--accept", action="append", default=[])
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    problems = 0
    checked = 0
    with open(args.capture, encoding="utf-8") as capture:
        for line in capture:
            if not line.strip():
                continue
            request = json.loads(line)
            headers, body = request["headers"], request["body"]
            tampered = body.replace("}", " }", 1) if "}" in body else body + " "
            for secret in args.accept:
                if not verifies(secret, body, headers):
                    print(f"REFUSED {headers.get('webhook-id')}: a secret in force does not verify")
                    problems += 1
                if verifies(secret, tampered, headers):
                    print(f"ACCEPTED TAMPERED {headers.get('webhook-id')}")
                    problems += 1
            for secret in args.reject:
                if verifies(secret, body, headers):
                    print(f"ACCEPTED {headers.get('webhook-id')} with a secret no longer in force")
                    problems += 1
            checked += 1
    print(f"checked {checked} deliveries, {problems} problems")
    if checked == 0:
        print("no deliveries in the capture")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
