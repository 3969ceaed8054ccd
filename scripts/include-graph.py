#!/usr/bin/python3
"""include-graph.py — the lib/ module graph from #include "..." lines.

A module is a name X with lib/X.h and/or lib/X.c; X depends on Y when
X.h or X.c includes "Y.h" (Y != X). Prints the graph's cycles, if any,
and exits 1 when there is one (make check runs it: issue 13 wants the
layers acyclic). Usage: scripts/include-graph.py [--dot]
"""
import re
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)


def graph():
    deps = {}
    for p in sorted(LIB.glob("*.[ch]")):
        deps.setdefault(p.stem, set())
        for m in INC.finditer(p.read_text()):
            if m.group(1) != p.stem and (LIB / (m.group(1) + ".h")).exists():
                deps[p.stem].add(m.group(1))
    return deps


def cycles(deps):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main():
    deps = graph()
    if "--dot" in sys.argv:
        print("digraph lib {")
        for a in sorted(deps):
            for b in sorted(deps[a]):
                print('  "%s" -> "%s";' % (a, b))
        print("}")
        return 0
    found = cycles(deps)
    for c in found:
        print("include cycle among: " + " ".join(c))
    print("lib/ include graph: %d modules, %d cycle(s)" % (len(deps), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
