"""Lesson programs that a student who follows the lessons literally, in order, would run
before any step builds them (scripts/tests/test_lesson_commands.py asserts there are none).
The lesson-command runner (lesson_commands.py) runs the `sh` blocks; this reads the
transcripts (`$ build/...` lines in any fence) too, which nothing runs."""

from __future__ import annotations

import re
from pathlib import Path

from .lesson_commands import MARKER, ROOT, extract, lesson_pages

_PROGRAM = re.compile(r"(?:^|[\s$`(])(?:\./)?build/([\w-]+)/lessons/(\w+)")
_BUILD = re.compile(r"cmake --build (?:--preset ([\w-]+)|build/([\w-]+))([^\n;&|]*)")


def _instructor_marked(lines: list[str], fence: int) -> bool:
    """Whether the fence opening at index `fence` carries an <!-- instructor --> marker."""
    k = fence - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    while k >= 0 and MARKER.match(lines[k]):
        if MARKER.match(lines[k]).group(1) == "instructor":
            return True
        k -= 1
    return False


def unbuilt_programs(root: Path = ROOT) -> list[str]:
    """Lesson programs (build/PRESET/lessons/TARGET) that a student block runs, or that a
    transcript line (`$ build/...` in any fence) shows being run, before any earlier student
    block or transcript line of the lessons, in order, built that target (`cmake --build
    --preset PRESET` or `cmake --build build/PRESET` with it among its --target names, or
    without --target): followed literally, they fail with "No such file or directory"."""
    built: dict[str, set[str]] = {}
    found = []
    for page in lesson_pages(root):
        rel = page.relative_to(root).as_posix()
        text = page.read_text(errors="replace")
        runnable = {b.line: b for b in extract(rel, text) if not b.instructor and not b.skip}
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            m = re.match(r"^\s*(```+|~~~+)", lines[i])
            if not m:
                i += 1
                continue
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(m.group(1)):
                j += 1
            block = runnable.get(i + 1)
            marked_instructor = _instructor_marked(lines, i)
            for k in range(i + 1, j):
                line = lines[k]
                runs = block is not None or (line.lstrip().startswith("$ ")
                                             and not marked_instructor)
                if runs:
                    for b in _BUILD.finditer(line):
                        preset = b.group(1) or b.group(2)
                        targets = re.findall(r"--target\s+([\w\s]+)", b.group(3))
                        names = set(" ".join(targets).split()) if targets else {"*"}
                        built.setdefault(preset, set()).update(names)
                if not runs:
                    continue
                for prog in _PROGRAM.finditer(line):
                    preset, target = prog.group(1), prog.group(2)
                    have = built.get(preset, set())
                    if target not in have and "*" not in have:
                        found.append(f"{rel}:{k + 1}: build/{preset}/lessons/{target} is run, "
                                     "but no earlier student block builds it (cmake --build "
                                     f"--preset {preset} --target {target})")
            i = j + 1
    return found
