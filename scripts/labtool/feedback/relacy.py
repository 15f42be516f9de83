"""Relacy's report of a violated model, read into data: the property, the result and the
steps of the failing execution, and what those steps show (model_timeline.py renders them).

Relacy (Debian relacy-dev) runs a small test under the C++ memory model itself and, when an
assertion fails, prints that execution's history: every atomic operation in the order it
happened, with the value each load read. A load that read a value which was no longer the
latest one of its atomic is marked `[NOT CURRENT]`: the model allowed it because nothing made
the newer store happen before the load. That is what a test on x86 almost never shows.

  has_model_report()  whether an output holds such a report;
  parse()             the report as data (ModelReport: the property, the result, the steps);
  atomic_names()      a name per atomic, from the source line that operates on it;
  stale_loads()       the [NOT CURRENT] loads: the newer store each one missed, and the
                      earlier read of the same thread that had already seen a later write of
                      that store's thread (where a happens-before edge is missing);
  lost_write()        a read and a write of one thread with another thread's write between;
  data_race()         the plain access of a DATA RACE and the write it races with.

The model executable prints, before Relacy's report, a line `model: <the property in words>`
(the instructor models print `model NAME: ...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .paths import Paths, show_path

# Relacy's test results (relacy/test_result.hpp), in words a student can act on.
RESULTS = {
    "USER ASSERT FAILED": "an assertion of the model failed",
    "USER INVARIANT FAILED": "an invariant of the model failed",
    "DATA RACE": "a data race on a non-atomic variable",
    "ACCESS TO FREED MEMORY": "memory was used after it was freed",
    "DOUBLE FREE": "memory was freed twice",
    "MEMORY LEAK": "memory was never freed",
    "RESOURCE LEAK": "an atomic or another resource was never destroyed",
    "ACCESS TO UNINITIALIZED VARIABLE": "a variable was read before anything stored to it",
    "DEADLOCK": "every thread is blocked (a deadlock)",
    "LIVELOCK": "the threads ran thousands of steps without finishing (a livelock: a loop "
                "that waits for something that never happens? A loop that polls an atomic is "
                "explored reading a stale value again and again: does it call "
                "std::this_thread::yield() between polls, which tells the model to run another "
                "thread?)",
    "INCONSISTENT TEST SUITE": "the model itself is inconsistent",
}
_RESULT_LINE = re.compile(r"^(?P<result>" + "|".join(re.escape(r) for r in RESULTS)
                          + r")(?: \((?:assertion: (?P<what>.*)|(?P<other>.*))\))?$")
_PROPERTY = re.compile(r"^model(?: [\w.-]+)?: (?P<what>.+)$")
_HISTORY = re.compile(r"^execution history \((\d+)\):\s*$")
_STEP = re.compile(r"^\[(?P<n>\d+)\] (?P<thread>\d+): (?P<event>.*), in (?P<func>[^,]*), "
                   r"(?P<file>.*)\((?P<line>\d+)\)\s*$")
_ADDR = re.compile(r"^<(?:0x)?[0-9a-fA-F]+>\s*")
_LOAD = re.compile(r"^atomic load, value=(?P<value>.*?)(?P<stale> \[NOT CURRENT\])?, "
                   r"order=(?P<order>\w+)$")
_STORE = re.compile(r"^atomic store, value=(?P<value>.*?), \(prev value=(?P<prev>.*?)\), "
                    r"order=(?P<order>\w+)$")
_RMW = re.compile(r"^(?P<op>\w+) , prev=(?P<prev>.*?), arg=(?P<arg>.*?), new=(?P<value>.*?), "
                  r"order=(?P<order>\w+)$")
_CAS = re.compile(r"^CAS (?P<ok>succ|fail) (?P<spurious>\[SPURIOUSLY\] )?(?:\[ABA\] )?"
                  r"orig=(?P<prev>.*?), cmp=(?P<cmp>.*?), xchg=(?P<value>.*?), "
                  r"order=(?P<order>\w+)$")
_FENCE = re.compile(r"^(?P<order>\w+) fence$")
_PLAIN = re.compile(r"^(?P<op>load|store), value=(?P<value>.*)$")     # an rl::var (not atomic)
_MARKER = re.compile(r"^\[(?P<what>[A-Z ]+)\]$")
# Files that are Relacy's or the course's machinery, never a place to look for the bug.
_MACHINERY = re.compile(r"(?:^|/)(?:relacy/[\w./-]+|checkpoints/common/relacy/[\w./-]+)$")
# "name.load(", "name->store(", "this->name.fetch_add(": the atomic a source line operates on.
_OPERAND = re.compile(r"([A-Za-z_]\w*)\s*(?:\((?:\$|RL_INFO)\))?\s*(?:\.|->)\s*"
                      r"(load|store|exchange|fetch_\w+|compare_exchange_\w+)\s*\(")
_OPS = {"load": ("load",), "store": ("store",), "rmw": ("exchange", "fetch_"),
        "cas": ("compare_exchange",)}
_PLAIN_OPERAND = re.compile(r"([A-Za-z_]\w*)\s*\((?:\$|RL_INFO)\)")   # Relacy's var(RL_INFO)



@dataclass
class Step:
    """One step of the failing execution."""
    number: int            # Relacy's index in the history
    thread: int
    kind: str              # load, store, rmw, cas, fence, plain-load, plain-store, marker,
                           # result, other
    func: str
    path: str              # as shown ("" for Relacy's and the stand-in's own files)
    line: int
    mine: bool             # in the student's files
    addr: str = ""         # the atomic's address (only to tell atomics apart)
    value: str = ""        # a load's value read; a write's value written
    prev: str = ""         # an RMW's or CAS's value read, a store's value overwritten
    order: str = ""
    op: str = ""           # an RMW's operation: fetch_add, exchange, ...
    expected: str = ""     # a CAS's expected value
    stale: bool = False    # [NOT CURRENT]
    ok: bool = True        # a CAS that succeeded
    spurious: bool = False
    text: str = ""         # the event as Relacy printed it, without the address
    phase: str = "run"     # setup (constructors, before()), run, after

    @property
    def writes(self) -> bool:
        return self.kind in ("store", "rmw") or (self.kind == "cas" and self.ok)

    @property
    def reads(self) -> bool:
        return self.kind in ("load", "rmw", "cas")

    @property
    def read_value(self) -> str:
        return self.value if self.kind == "load" else self.prev


@dataclass
class ModelReport:
    prop: str                       # the property in words ("" when the model did not say)
    result: str                     # Relacy's result, e.g. "USER ASSERT FAILED"
    assertion: str                  # the failed expression, when there is one
    misuse: str = ""                # the stand-in <atomic>'s "invalid memory order for ..."
    steps: list[Step] = field(default_factory=list)
    iteration: int | None = None    # the execution Relacy found it in


def has_model_report(output: str) -> bool:
    """Whether the output holds Relacy's report of a failing execution."""
    return bool(re.search(r"^execution history \(\d+\):\s*$", output, re.M)) and any(
        _RESULT_LINE.match(l) for l in output.splitlines())


def parse(output: str, paths: Paths) -> ModelReport | None:
    """The first failing execution in Relacy's output; None when there is none."""
    lines = output.splitlines()
    start = next((i for i, l in enumerate(lines) if _HISTORY.match(l)), None)
    if start is None:
        return None
    prop = result = what = misuse = ""
    iteration = None
    for line in lines[:start]:
        if m := _PROPERTY.match(line.strip()):
            prop = m.group("what").strip()
        elif m := _RESULT_LINE.match(line.strip()):
            result, what = m.group("result"), (m.group("what") or "").strip()
            if (m.group("other") or "").startswith("invalid memory order"):
                misuse = m.group("other").strip()
        elif m := re.match(r"^iteration: (\d+)$", line.strip()):
            iteration = int(m.group(1))
    report = ModelReport(prop, result, what, misuse, iteration=iteration)
    phase = "run"
    for line in lines[start + 1:]:
        m = _STEP.match(line)
        if not m:
            break                     # the history ends at the first blank line
        step = _step(m, paths)
        if step.kind == "marker":
            marker = step.text.strip("[]")
            if marker in ("CTOR BEGIN", "BEFORE BEGIN"):
                phase = "setup"
            elif marker in ("CTOR END", "BEFORE END"):
                phase = "run"
            elif marker == "AFTER BEGIN":
                phase = "after"
            continue
        step.phase = phase
        if step.kind == "result" and not report.result:
            r = _RESULT_LINE.match(step.text)
            if r:
                report.result, report.assertion = r.group("result"), (r.group("what") or "")
        report.steps.append(step)
    return report


def _step(m: re.Match, paths: Paths) -> Step:
    event = m.group("event").strip()
    addr_match = _ADDR.match(event)
    addr = addr_match.group(0).strip("<> ") if addr_match else ""
    event = _ADDR.sub("", event)
    path, mine = show_path(m.group("file"), paths)
    if _MACHINERY.search(path) or _MACHINERY.search(m.group("file")):
        path, mine = "", False
    step = Step(int(m.group("n")), int(m.group("thread")), "other", m.group("func"), path,
                int(m.group("line")), mine, addr=addr, text=event)
    if r := _LOAD.match(event):
        step.kind, step.value, step.order = "load", r.group("value"), r.group("order")
        step.stale = bool(r.group("stale"))
    elif r := _STORE.match(event):
        step.kind, step.value, step.prev, step.order = ("store", r.group("value"),
                                                         r.group("prev"), r.group("order"))
    elif r := _RMW.match(event):
        step.kind, step.op = "rmw", r.group("op")
        step.value, step.prev, step.order = r.group("value"), r.group("prev"), r.group("order")
    elif r := _CAS.match(event):
        step.kind, step.ok = "cas", r.group("ok") == "succ"
        step.spurious = bool(r.group("spurious"))
        step.value, step.prev, step.order = r.group("value"), r.group("prev"), r.group("order")
        step.expected = r.group("cmp")
    elif r := _FENCE.match(event):
        step.kind, step.order = "fence", r.group("order")
    elif r := _PLAIN.match(event):
        step.kind, step.value = "plain-" + r.group("op"), r.group("value")
    elif _MARKER.match(event):
        step.kind = "marker"
    elif _RESULT_LINE.match(event):
        step.kind = "result"
    return step


# --- naming the atomics -------------------------------------------------------------------

def atomic_names(steps: list[Step], paths: Paths) -> dict[str, str]:
    """A name per address: the variable a source line applies that operation to (`requests_`
    in `requests_.fetch_add(1, ...)`, `payload` in `payload($) = 42`), else "atomic A",
    "atomic B", ... ("variable C" for a plain one)."""
    names: dict[str, str] = {}
    for s in steps:
        if not s.addr or s.addr in names:
            continue
        source = source_text(s, paths)
        if s.kind.startswith("plain-"):
            plain = set(_PLAIN_OPERAND.findall(source or "")) - set(
                n for n, _ in _OPERAND.findall(source or ""))
            if len(plain) == 1 and (name := plain.pop()) not in names.values():
                names[s.addr] = name
            continue
        if s.kind not in _OPS:
            continue
        found = {name for name, op in _OPERAND.findall(source or "")
                 if op.startswith(_OPS[s.kind])}
        if len(found) == 1 and (name := found.pop()) not in names.values():
            names[s.addr] = name
    letters = iter("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for s in steps:
        if s.addr and s.addr not in names:
            kind = "variable" if s.kind.startswith("plain-") else "atomic"
            names[s.addr] = f"{kind} {next(letters, '?')}"
    return names


def source_text(step: Step, paths: Paths) -> str | None:
    """The step's source line, stripped; None without a readable file."""
    if not step.path or paths.read_line is None:
        return None
    text = paths.read_line(step.path, step.line)
    return text.strip() if text else None


# --- what each load saw ---------------------------------------------------------------------

@dataclass
class Stale:
    load: Step
    latest: Step            # the newest write to that atomic before the load
    bridge: tuple[Step, Step] | None = None   # (a read by the loader, the write it read), the
                                              # write coming after `latest` in its thread


def _writer_of(steps: list[Step], at: int, addr: str, value: str) -> Step | None:
    """The newest write before steps[at] to `addr` that wrote `value`."""
    for s in reversed(steps[:at]):
        if s.addr == addr and s.writes and s.value == value:
            return s
    return None


def stale_loads(steps: list[Step]) -> list[Stale]:
    """Every [NOT CURRENT] load: the newer write it missed, and the read before it (same
    thread) that had already seen a later write of the missed write's thread, if any."""
    found = []
    for i, s in enumerate(steps):
        if s.kind != "load" or not s.stale:
            continue
        latest = next((w for w in reversed(steps[:i]) if w.addr == s.addr and w.writes), None)
        if latest is None:
            continue
        stale = Stale(s, latest)
        for j in range(i - 1, -1, -1):           # an earlier read of this thread that saw a
            r = steps[j]                           # later write of the latest's thread
            if r.thread != s.thread or not r.reads or r.addr == s.addr:
                continue
            w = _writer_of(steps, j, r.addr, r.read_value)
            if w is not None and w.thread == latest.thread and w.number > latest.number:
                stale.bridge = (r, w)
                break
        found.append(stale)
    return found


def lost_write(steps: list[Step]) -> tuple[Step, Step, Step] | None:
    """(a read, the write of the same thread that acted on it, another thread's write in
    between that it overwrote): a check and an act that were two steps."""
    for i, w in enumerate(steps):
        if w.kind != "store":
            continue
        read = next((r for r in reversed(steps[:i]) if r.thread == w.thread and r.reads
                     and r.addr == w.addr), None)
        if read is None:
            continue
        between = [o for o in steps[steps.index(read) + 1:i] if o.addr == w.addr and o.writes
                   and o.thread != w.thread]
        if between:
            return read, w, between[-1]
    return None


def data_race(steps: list[Step]) -> tuple[Step, Step] | None:
    """(the racing access, the other thread's conflicting write) of a data race: the last
    plain access and the newest plain write of another thread to the same variable."""
    access = next((s for s in reversed(steps) if s.kind.startswith("plain-")), None)
    if access is None:
        return None
    write = next((s for s in reversed(steps[:steps.index(access)]) if s.addr == access.addr
                  and s.kind == "plain-store" and s.thread != access.thread), None)
    return (access, write) if write is not None else None
