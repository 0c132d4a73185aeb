#!/usr/bin/env python3
"""Write hack/controller.order: the controller's functions that run, hottest phase first.

The static controller is linked with `--symbol-ordering-file=hack/controller.order` (Makefile
`static-controller`, Dockerfile). Without it, the ~2 MB of code that runs at start and idle is
spread over ~18 MB of text, and because the kernel maps file pages 64 KiB around each fault, idle
RSS held most of the binary's code. Ordered, those functions sit together (see bench/results.md,
"controller / idle RSS").

Input: callgrind profiles (`--dump-instr=no --demangle=no --compress-strings=no`) of the
controller, as written by hack/controller-order.sh, in phase order: start+idle first, then a
reconcile run. Output: every function of the binary that ran, start+idle ones first, each name
once, only names that the binary defines (so stale or foreign names never reach the linker).

Usage: hack/controller_order.py BINARY OUTPUT PROFILE [PROFILE...]
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def executed_functions(profile: Path, binary_name: str) -> list[str]:
    """Functions of `binary_name` with cost in a callgrind profile, in the file's order."""
    names: list[str] = []
    object_name = ""
    for line in profile.read_text(errors="replace").splitlines():
        if line.startswith("ob="):
            object_name = line[3:].strip()
        elif line.startswith("fn=") and Path(object_name).name == binary_name:
            # callgrind marks recursion levels as name'2; the symbol is the name.
            names.append(re.sub(r"'\d+$", "", line[3:].strip()))
    return names


def defined_functions(binary: Path) -> set[str]:
    out = subprocess.run(["nm", "--defined-only", str(binary)], capture_output=True, text=True, check=True).stdout
    return {f[2] for f in (line.split(None, 2) for line in out.splitlines()) if len(f) == 3 and f[1] in "tTwW"}


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, output, profiles = Path(argv[1]), Path(argv[2]), [Path(p) for p in argv[3:]]
    defined = defined_functions(binary)
    order: list[str] = []
    seen: set[str] = set()
    for profile in profiles:
        for name in executed_functions(profile, binary.name):
            if name in defined and name not in seen:
                seen.add(name)
                order.append(name)
    if not order:
        print(f"no functions of {binary.name} in {', '.join(map(str, profiles))}", file=sys.stderr)
        return 1
    output.write_text("\n".join(order) + "\n")
    print(f"{output}: {len(order)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
