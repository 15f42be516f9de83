"""Sanitizer reports (ThreadSanitizer, AddressSanitizer, UBSan, LeakSanitizer) cut to what
shows the bug: every stack that matters, the student's frames first and marked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .assertions import ASSERTION
from .paths import Paths, show_path, tidy

MARK = ">>"                  # prefix of the student's own frames
_MAX_FUNCTION = 90           # longer demangled names are shortened in the middle


# --- frames -------------------------------------------------------------------------------

# "#3 0x55d1 in f(int) /src/a.cpp:12:5 (exe+0x1234) (BuildId: ab12)" (gcc/ASan) and
# "#3 f(int) /src/a.cpp:12:5 (exe+0x1234) (BuildId: ab12)" (clang/TSan), and their variants.
_FRAME = re.compile(r"^\s*#(\d+)\s+(.*)$")
_BUILD_ID = re.compile(r"\s*\(BuildId: [0-9a-f]+\)\s*$")
_MODULE = re.compile(r"\s*\((?:[^()\s]*)\+0x[0-9a-f]+\)\s*$")
_PC = re.compile(r"^0x[0-9a-f]+(?: in |\s*$)")
_LOCATION = re.compile(r"^(.*?)\s+(\S+?):(\d+)(?::\d+)?$")


@dataclass
class Frame:
    number: int
    function: str
    path: str          # as shown ("" when unknown)
    line: int          # 0 when unknown
    mine: bool
    module: str = ""   # the library, when there is no source location

    @property
    def where(self) -> str:
        if self.path:
            return f"{self.path}:{self.line}" if self.line else self.path
        return f"({self.module})" if self.module else ""


def parse_frame(text: str, paths: Paths) -> Frame | None:
    m = _FRAME.match(text)
    if not m:
        return None
    number, rest = int(m.group(1)), m.group(2)
    rest = _BUILD_ID.sub("", rest)
    module = ""
    mod = _MODULE.search(rest)
    if mod:
        module = mod.group(0).strip()[1:-1].split("+", 1)[0].rsplit("/", 1)[-1]
        rest = rest[:mod.start()]
    rest = _PC.sub("", rest).strip()
    path, line = "", 0
    loc = _LOCATION.match(rest)
    if loc and ("/" in loc.group(2) or loc.group(2).endswith((".hpp", ".cpp", ".h", ".cc"))):
        rest, path, line = loc.group(1), loc.group(2), int(loc.group(3))
    elif rest.endswith(" <null>"):
        rest = rest[:-len(" <null>")]
    function = rest.strip()
    if function in ("<null>", ""):
        function = "?"
    mine = False
    if path:
        path, mine = show_path(path, paths)
    return Frame(number, shorten(function), path, line, mine, module)


def shorten(function: str) -> str:
    function = re.sub(r"DOCTEST_ANON_FUNC_\d+\(\)::\$_\d+::operator\(\)\([^()]*\)(?: const)?",
                      "a lambda in the TEST_CASE", function)
    function = re.sub(r"DOCTEST_ANON_FUNC_\d+(?:\(\))?", "TEST_CASE", function)
    if len(function) > _MAX_FUNCTION:
        function = function[:55] + " ... " + function[-30:]
    return function


def _is_test(frame: Frame) -> bool:
    """A checkpoint's own test code (not the shared harness, not a library)."""
    return frame.path.startswith("checkpoints/") and "/common/" not in frame.path


def _render_stack(frames: list[Frame], paths: Paths, others: int = 2) -> list[str]:
    """The student's frames first (marked, with their source line), then a few test frames,
    then how many frames were left out."""
    mine = [f for f in frames if f.mine]
    tests = [f for f in frames if not f.mine and _is_test(f)][:others]
    if not mine and not tests:
        tests = [f for f in frames if f.path][:others] or frames[:others]
    shown = mine + tests
    # The first test frame shows its source line too when no frame is the student's.
    tests_first = tests[0] if tests and not mine else None
    lines = []
    for f in shown:
        marker = MARK if f.mine else "  "
        lines.append(f"    {marker} #{f.number} {f.function}  {f.where}".rstrip())
        if (f.mine or f is tests_first) and paths.read_line is not None and f.path and f.line:
            source = paths.read_line(f.path, f.line)
            if source is not None and source.strip():
                lines.append(f"           {f.line} | {source.strip()}")
    hidden = len(frames) - len(shown)
    if hidden > 0:
        lines.append(f"       ({hidden} more frame{'s' if hidden != 1 else ''}: test harness and "
                     "standard library)")
    return lines


# --- sanitizer reports --------------------------------------------------------------------

SANITIZER_START = re.compile(
    r"WARNING: ThreadSanitizer:|ERROR: ThreadSanitizer:|ThreadSanitizer:DEADLYSIGNAL|"
    r"ERROR: AddressSanitizer:|ERROR: LeakSanitizer:|runtime error:|"
    r"ERROR: UndefinedBehaviorSanitizer:")

_EXPLAIN = {
    "data race": "two threads accessed the same memory, at least one of them writing, and no "
                 "happens-before orders the two accesses (they need not be simultaneous)",
    "heap-use-after-free": "memory was used after it was freed",
    "heap-buffer-overflow": "a read or write went past the end (or before the start) of a heap "
                            "block",
    "stack-buffer-overflow": "a read or write went past a local array",
    "stack-use-after-return": "a reference to a local variable outlived its function",
    "detected memory leaks": "memory was allocated and never freed",
    "lock-order-inversion (potential deadlock)": "two mutexes are locked in opposite orders by "
                                                 "two threads",
    "thread leak": "a thread was never joined",
    "use of an uninitialized value": "a variable was read before anything was written to it",
}


def has_sanitizer_report(output: str) -> bool:
    return SANITIZER_START.search(output) is not None


_TSAN_RACE = re.compile(r"WARNING: ThreadSanitizer: data race(?: \(|\s*$)")


def race_only(output: str, paths: Paths) -> bool:
    """Whether a failed run's output says it failed only because of ThreadSanitizer data-race
    reports on the test's own data: at least one sanitizer report, every one of them a TSan
    "data race" (not a race on a vptr, not any other report), no failed doctest assertion, and
    no frame of any report in the student's files (a race on the student's own variables is
    the student's, whatever else the code does). fences.py decides what follows from it."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if SANITIZER_START.search(line)]
    if not starts or not all(_TSAN_RACE.search(lines[i]) for i in starts):
        return False
    if any(ASSERTION.match(line) for line in lines):
        return False
    for line in lines[starts[0]:]:
        frame = parse_frame(line, paths)
        if frame is not None and frame.mine:
            return False
    return True


def _headline_parts(output: str) -> tuple[str, str] | None:
    for line in output.splitlines():
        m = re.search(r"(?:WARNING|ERROR): (\w+Sanitizer): (.*)", line)
        if m:
            what = re.sub(r"\s*\((?:pid|pc)[= ][^)]*\)", "", m.group(2))
            what = re.sub(r"\s+on (?:unknown )?address 0x[0-9a-f]+.*$", "", what)
            return m.group(1), what.strip()
        if "ThreadSanitizer:DEADLYSIGNAL" in line:
            return "ThreadSanitizer", "the program crashed (a signal)"
        if "runtime error:" in line:
            return "UndefinedBehaviorSanitizer", line.split("runtime error:", 1)[1].strip()
    return None


def sanitizer_headline(output: str, code: int | None = None) -> str:
    """"ThreadSanitizer: data race (exit code 66)"; a generic line when no report is found."""
    parts = _headline_parts(output)
    suffix = f" (exit code {code})" if code is not None else ""
    if parts is None:
        return "a sanitizer reported a problem" + suffix
    return f"{parts[0]}: {parts[1]}{suffix}"


def _report_bounds(lines: list[str]) -> tuple[int, int] | None:
    start = next((i for i, l in enumerate(lines) if SANITIZER_START.search(l)), None)
    if start is None:
        return None
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("SUMMARY:"):
            end = i + 1
            break
        if lines[i].startswith("Shadow bytes around"):
            end = i
            break
    return start, end


def _clean_header(line: str, paths: Paths) -> str:
    line = re.sub(r" at 0x[0-9a-f]+", "", line)
    line = re.sub(r"^(?:Address )?0x[0-9a-f]+ is located", "The address is", line.strip())
    line = re.sub(r" (?:on address |address )?0x[0-9a-f]+\b", "", line)
    line = re.sub(r" \[0x[0-9a-f]+,0x[0-9a-f]+\)", "", line)
    line = re.sub(r" \((?:pid|tid)=[^)]*\)", "", line)
    line = re.sub(r" \(0x[0-9a-f]+\)", "", line)
    return tidy(line, paths)


# Where a thread was created (TSan "... created by main thread at:", ASan "... created by T0
# here:") says little about the bug.
_DROP_SECTION = re.compile(r"^Thread T\d+.* created by .*(?:at|here):$|"
                           r"^Thread T\d+ \(.*\) created by")
_DROP_LINE = re.compile(r"^Location is global '\?\?'|^==\d+==(?!ERROR)|^HINT:|^LLVMSymbolizer|"
                        r"^={10,}$|^\[\d+, \d+\) '|^This frame has \d+ object|"
                        r"^\(longjmp and C\+\+ exceptions")


def sanitizer_excerpt(output: str, paths: Paths, frames_of_others: int = 2,
                      headline: bool = True) -> str:
    """The first sanitizer report of `output`, every stack of it that matters: the student's
    frames first and marked, test frames after them, the harness and library left out. Where
    the threads were created says little about the bug and is left out. Later reports are
    counted. `headline=False` leaves out the first line (sanitizer_headline() without the
    exit code, plus the location for UBSan). Returns "" when the output holds no report."""
    lines = output.splitlines()
    bounds = _report_bounds(lines)
    if bounds is None:
        return ""
    start, end = bounds
    parts = _headline_parts(output)
    head = sanitizer_headline(output) if parts is None else f"{parts[0]}: {parts[1]}"
    kind = parts[1] if parts else ""
    out = [tidy(head, paths)]
    if "runtime error:" in lines[start]:    # UBSan puts the location before the message
        where = lines[start].split(": runtime error:", 1)[0].strip()
        m = re.match(r"^(.*?):(\d+)(?::\d+)?$", where)
        if m:
            out[0] += f"  at {show_path(m.group(1), paths)[0]}:{m.group(2)}"
    if kind in _EXPLAIN:
        out.append(f"  ({_EXPLAIN[kind]})")
    stack: list[Frame] = []
    skipping = False
    any_mine = False

    def flush():
        nonlocal stack, any_mine
        if stack and not skipping:
            out.extend(_render_stack(stack, paths, frames_of_others))
            any_mine = any_mine or any(f.mine for f in stack)
        stack = []

    summary = ""
    for raw in lines[start + 1:end]:
        if raw.startswith("SUMMARY:"):
            summary = raw
            continue
        frame = parse_frame(raw, paths)
        if frame is not None:
            stack.append(frame)
            continue
        text = raw.strip()
        if not text or _DROP_LINE.search(text):
            continue
        flush()
        skipping = bool(_DROP_SECTION.search(text))
        if skipping:
            continue
        if "runtime error:" in text:      # a second UBSan report: counted below
            break
        out.append("  " + _clean_header(text, paths))
    flush()
    if summary:
        m = re.match(r"SUMMARY: \w+Sanitizer: [^/]*?([^\s:]+:\d+)(?::\d+)?(?: in (.*))?$", summary)
        if m:
            where, mine = show_path(m.group(1).rsplit(":", 1)[0], paths)
            line = m.group(1).rsplit(":", 1)[1]
            out.append(f"  Reported at {where}:{line}" + (f" in {shorten(m.group(2))}"
                                                         if m.group(2) else ""))
    if kind == "data race" and not any_mine:
        out.append("  None of these frames is in your files: the race is on the test's own data, "
                   "which it touches only after your code's atomics said it was safe. Which of "
                   "your operations should have carried that data along with it (lesson 2, "
                   "\"Happens-before in five rules\")?")
    more = sum(1 for l in lines[end:] if SANITIZER_START.search(l))
    if more:
        out.append(f"  ({more} more report{'s' if more != 1 else ''} after this one; fix this one "
                   "first)")
    if not headline:        # the caller shows sanitizer_headline() itself
        where = out[0].partition("  at ")[2]
        out = ([f"  at {where}"] if where else []) + out[1:]
    return "\n".join(out)
