#!/usr/bin/env python3
"""Checks that every file or directory ARCHITECTURE.md names exists.

A name is a backticked token that ends in a source extension (`.rs`, `.sql`, `.sh`, `.md`, `.js`,
`.css`, `.tsv`, `.py`) or in `/`. Under a `### crates/NAME` heading it must be a path inside that
crate (modules are named relative to the crate's `src/`, or any suffix of a path in it); elsewhere
a path anywhere in the repository. `{a,b}` alternatives are expanded. Exits 1 naming each stale
name.

    python3 scripts/check-architecture.py [ARCHITECTURE.md]
"""
import itertools
import os
import re
import subprocess
import sys

NAME = re.compile(r"`([^`\s]+)`")
SOURCE = (".rs", ".sql", ".sh", ".md", ".js", ".css", ".tsv", ".py")


def expand(token):
    parts = re.split(r"\{([^}]*)\}", token)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def main():
    doc = sys.argv[1] if len(sys.argv) > 1 else "ARCHITECTURE.md"
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    dirs = {os.path.dirname(f) + "/" for f in files}
    dirs |= {d[: i + 1] for d in list(dirs) for i, c in enumerate(d) if c == "/"}
    paths = set(files) | dirs
    crate = None
    stale = []
    for number, line in enumerate(open(doc, encoding="utf-8"), 1):
        heading = re.match(r"###\s+(crates/[\w-]+)", line)
        if heading:
            crate = heading.group(1) + "/"
            continue
        if line.startswith("## "):
            crate = None
        for token in NAME.findall(line):
            if not (token.endswith(SOURCE) or token.endswith("/")) or "://" in token:
                continue
            for name in expand(token):
                name = name.lstrip("./")
                scope = [p for p in paths if crate is None or p.startswith(crate)]
                if not any(p == name or p.endswith("/" + name) for p in scope):
                    stale.append(f"{doc}:{number}: `{name}` does not exist" + (f" in {crate}" if crate else ""))
    for message in stale:
        print(message)
    if stale:
        sys.exit(1)
    print(f"every path {doc} names exists")


if __name__ == "__main__":
    main()
