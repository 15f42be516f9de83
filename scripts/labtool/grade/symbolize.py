"""Sanitizer reports of graded runs, symbolized by the grader after the run.

A sanitizer symbolizes its reports by starting llvm-symbolizer: a fork and an exec from
inside the test process. A graded run's seccomp filter (checkpoints/common/main.cpp) refuses
both, and no filter can allow "the exec of exactly that program" (it cannot read the path a
pointer points to). So graded runs set `symbolize=0`, the report's frames read
`#3 <null> <null> (m1_checkpoints+0x1c2f3)`, and the grader resolves them here, with
llvm-symbolizer run in the sandbox (the executable was built from the student's code), into
the frames the feedback expects: `#3 function file:line:col (m1_checkpoints+0x1c2f3)`, with
inlined frames expanded as the sanitizer would.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Callable

# "Location is global '<null>' at 0x... (module+0xoffset)": a global of the executable, or an
# artifact after a stack location (module [stack]), which is dropped.
_GLOBAL = re.compile(r"^(?P<indent>\s*)Location is global '<null>' at 0x[0-9a-fA-F]+ "
                     r"\((?P<module>[^()+\s]+)\+0x(?P<offset>[0-9a-fA-F]+)\)(?P<rest>.*)$")
_FRAME = re.compile(r"^(?P<indent>\s*)#(?P<n>\d+) <null> <null> \((?P<module>[^()+\s]+)"
                    r"\+0x(?P<offset>[0-9a-fA-F]+)\)(?P<rest>.*)$")
_ANY_FRAME = re.compile(r"^(?P<indent>\s*)#(?P<n>\d+) (?P<body>.*)$")
MAX_ADDRESSES = 400


def symbolizer() -> str | None:
    return shutil.which("llvm-symbolizer") or shutil.which("llvm-symbolizer-14")


def symbolize(output: str, exe: Path,
              run: Callable[[list[str]], str | None]) -> str:
    """`output` with the frames of `exe` (by module name) symbolized; run(argv) runs the
    symbolizer (in the sandbox) and returns its output, or None when it failed."""
    tool = symbolizer()
    lines = output.splitlines()
    wanted = sorted({m.group("offset").lower() for line in lines
                     if (m := _FRAME.match(line)) and m.group("module") == exe.name})
    data = sorted({m.group("offset").lower() for line in lines
                   if (m := _GLOBAL.match(line)) and m.group("module") == exe.name})
    text = None
    if tool is not None and (wanted or data):
        wanted, data = wanted[:MAX_ADDRESSES], data[:MAX_ADDRESSES]
        text = run([tool, f"--obj={exe}", "--functions=linkage", "--demangle", "--inlines",
                    *(f"CODE 0x{a}" for a in wanted), *(f"DATA 0x{a}" for a in data)])
    blocks = text.strip("\n").split("\n\n") if text else []
    resolved: dict[str, list[tuple[str, str]]] = {}
    for address, block in zip(wanted, blocks):
        rows = block.splitlines()
        pairs = [(rows[i], rows[i + 1]) for i in range(0, len(rows) - 1, 2)]
        if pairs and not all(f == "??" for f, _ in pairs):
            resolved[address] = pairs
    globals_ = {address: block.splitlines()[0]
                for address, block in zip(data, blocks[len(wanted):])
                if block.strip() and block.splitlines()[0] != "??"}
    out, number = [], 0
    for line in lines:
        glob = _GLOBAL.match(line)
        if glob is not None:
            name = globals_.get(glob.group("offset").lower()) \
                if glob.group("module") == exe.name else None
            if name:
                out.append(f"{glob.group('indent')}Location is global '{name}' "
                           f"({glob.group('module')}+0x{glob.group('offset')}){glob.group('rest')}")
            elif glob.group("module") != "[stack]":
                out.append(line)
            continue
        frame = _ANY_FRAME.match(line)
        if frame is None:
            out.append(line)
            continue
        if frame.group("n") == "0":
            number = 0
        m = _FRAME.match(line)
        pairs = resolved.get(m.group("offset").lower()) if m and m.group(
            "module") == exe.name else None
        if not pairs:
            out.append(f"{frame.group('indent')}#{number} {frame.group('body')}")
            number += 1
            continue
        for function, where in pairs:
            where = where if not where.startswith("??") else "<null>"
            out.append(f"{m.group('indent')}#{number} {function} {where} "
                       f"({m.group('module')}+0x{m.group('offset')}){m.group('rest')}")
            number += 1
    return "\n".join(out) + ("\n" if output.endswith("\n") else "")
