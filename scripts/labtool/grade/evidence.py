"""What a failed checkpoint run shows the student: the sanitizer report's essentials, the
last lines of output, and paths and stack frames made short and readable."""

from __future__ import annotations

import re
from pathlib import Path

from ..build import failure_summary
from ..course import ROOT

SANITIZER_REPORT = re.compile(
    r"WARNING: ThreadSanitizer:|ERROR: ThreadSanitizer:|ThreadSanitizer:DEADLYSIGNAL|"
    r"ERROR: AddressSanitizer:|ERROR: LeakSanitizer:|runtime error:")


def sanitizer_headline(output: str, code: int) -> str:
    for line in output.splitlines():
        m = re.search(r"(WARNING|ERROR): (\w+Sanitizer): (.*)", line)
        if m:
            what = re.sub(r"\s*\((?:pid|pc)[= ][^)]*\)", "", m.group(3)).strip()
            return f"{m.group(2)}: {what} (exit code {code})"
        if "runtime error:" in line:
            return "UndefinedBehaviorSanitizer: " + line.split("runtime error:", 1)[1].strip()
    return f"a sanitizer reported a problem (exit code {code})"


_FRAME = re.compile(r"^\s+#\d+ ")


def sanitizer_excerpt(output: str, frames_per_stack: int = 4, max_lines: int = 30) -> str:
    """The first sanitizer report, shortened: every section header (the racing accesses,
    the threads, the location) with the first frames of its stack, and the SUMMARY line."""
    lines = output.splitlines()
    start = next((i for i, l in enumerate(lines) if SANITIZER_REPORT.search(l)), None)
    if start is None:
        return failure_summary(output)
    kept, in_stack, skipping = [], 0, False
    for line in lines[start:]:
        if line.startswith("SUMMARY:"):
            kept.append(line)
            break
        if _FRAME.match(line):
            in_stack += 1
            if in_stack <= frames_per_stack and not skipping:
                kept.append(line)
            continue
        in_stack = 0
        # Where the threads were created says little about the bug: leave those stacks out.
        skipping = bool(re.match(r"\s+Thread T\d+ .*created by", line))
        if skipping:
            continue
        if line.strip() and not line.startswith("=="):
            kept.append(line)
        elif line.startswith("==") and "ERROR:" in line:
            kept.append(line)
    return "\n".join(kept[:max_lines])


_NOISE = [
    (re.compile(r" \((?:[\w.+-]+)\+0x[0-9a-f]+\)(?: \(BuildId: [0-9a-f]+\))?"), ""),
    (re.compile(r" \(BuildId: [0-9a-f]+\)"), ""),
    (re.compile(r"/usr/bin/\.\./lib/gcc/x86_64-linux-gnu/\d+/\.\./\.\./\.\./\.\./include/c\+\+/\d+/"),
     "<libstdc++>/"),
]


def tidy(text: str, track: Path | None = None) -> str:
    """Shorter, student-readable paths and frames: the overlay is shown as starter/."""
    if track is not None:
        prefixes = [str(track) + "/"]
        try:
            prefixes.append(track.relative_to(ROOT).as_posix() + "/")
        except ValueError:
            pass
        for prefix in prefixes:
            text = text.replace(prefix, "starter/")
    text = text.replace(str(ROOT) + "/", "")
    for regex, repl in _NOISE:
        text = regex.sub(repl, text)
    return _LONG_FRAME.sub(_shorten_frame, text)


_LONG_FRAME = re.compile(r"^(\s+#\d+ )(.+?)( \S+:\d+(?::\d+)?)?$", re.M)


def _shorten_frame(match: re.Match) -> str:
    function = match.group(2)
    if len(function) > 90:
        function = function[:60] + " ... " + function[-25:]
    return match.group(1) + function + (match.group(3) or "")


def tail(output: str, lines: int = 12) -> str:
    kept = [l for l in output.splitlines() if l.strip()]
    return "\n".join(kept[-lines:])
