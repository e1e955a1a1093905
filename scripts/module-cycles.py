#!/usr/bin/env python3
"""Finds import cycles between the modules of each workspace crate.

A module is one source file. Module A depends on module B when A names a path into B
(`use crate::b::…`, `crate::b::x`, `super::b`, `self::b`) other than by declaring it
(`mod b;`). A parent naming its child and the child naming its parent is a cycle too.
Prints every cycle (strongly connected component) and exits 1 if there is one.

    python3 scripts/module-cycles.py [crates/...]
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
BARE = re.compile(r"(?<![:\w])([a-z_][a-z0-9_]*)::")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def module_files(src):
    """Maps module paths (tuples) to files."""
    modules = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            modules[tuple(rel)] = os.path.join(root, name)
    return modules


def strip_comments_and_strings(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


REEXPORTS = {}
PUB_USE = re.compile(r"\bpub(?:\([a-z]+\))?\s+use\s+([^;]+);")


def collect_reexports(module, text, modules):
    """`pub use a::B;` in a module makes `module::B` a name for `a`: a path through the facade
    depends on the origin, not on the facade."""
    for clause in PUB_USE.findall(text):
        clause = re.sub(r"\s+", "", clause)
        if "{" in clause:
            prefix, group = clause.split("{", 1)
            items = [prefix + item for item in group.rstrip("}").split(",") if item]
        else:
            items = [clause]
        for item in items:
            parts = [p for p in item.split(" as ")[0].split("::") if p]
            if len(parts) < 2 or parts[-1] == "self":
                continue
            base = parts[0] if parts[0] in ("crate", "super", "self") else "self"
            rest = parts[1:] if base == parts[0] else parts
            origin = resolve(module, base, rest, modules, follow=False)
            if origin != module:
                REEXPORTS.setdefault(module, {})[parts[-1]] = origin


def resolve(module, base, rest, modules, follow=True):
    """The module a path starting at `base` (crate/super/self) followed by `rest` lands in."""
    if base == "crate":
        start = ()
    elif base == "super":
        start = module[:-1]
        while rest and rest[0] == "super":
            start, rest = start[:-1], rest[1:]
    else:
        start = module
    full = start + tuple(rest)
    path = full
    while path and path not in modules:
        path = path[:-1]
    if follow and len(full) > len(path):
        origin = REEXPORTS.get(path, {}).get(full[len(path)])
        if origin is not None:
            return origin
    return path


def edges_of(module, file, modules):
    text = PUB_USE.sub("", strip_comments_and_strings(open(file, encoding="utf-8").read()))
    targets = set()
    for base, rest, group in USE_GROUP.findall(text):
        prefix = [p for p in rest.split("::") if p]
        for item in re.split(r"[,{}\s]+", group):
            head = item.split("::")[0].strip()
            if head and head != "self":
                targets.add(resolve(module, base, prefix + [h for h in item.split("::") if h.strip()], modules))
            elif head == "self":
                targets.add(resolve(module, base, prefix, modules))
    for base, rest in PATH.findall(text):
        targets.add(resolve(module, base, [p for p in rest.split("::") if p], modules))
    for name in BARE.findall(text):
        child = module + (name,)
        if child in modules:
            targets.add(child)
    targets.discard(module)
    return targets


def strongly_connected(graph):
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(component)

    sys.setrecursionlimit(10000)
    for node in graph:
        if node not in index:
            visit(node)
    return result


def main():
    crates = sys.argv[1:] or sorted(os.path.join("crates", c) for c in os.listdir("crates"))
    found = False
    for crate in crates:
        for src in ("src", "tests"):
            directory = os.path.join(crate, src)
            if not os.path.isdir(directory):
                continue
            modules = module_files(directory)
            REEXPORTS.clear()
            for m, f in modules.items():
                collect_reexports(m, strip_comments_and_strings(open(f, encoding="utf-8").read()), modules)
            graph = {m: edges_of(m, f, modules) for m, f in modules.items()}
            for component in strongly_connected(graph):
                found = True
                names = sorted("::".join(("crate",) + m) for m in component)
                print(f"{directory}: cycle between {', '.join(names)}")
    if found:
        sys.exit(1)
    print("no module-level import cycles")


if __name__ == "__main__":
    main()
