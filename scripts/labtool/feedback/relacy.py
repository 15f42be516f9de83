"""A violated model, as a student can read it: Relacy's report of the failing execution cut to
the property, a short timeline and the questions it raises.

Relacy (Debian relacy-dev) runs a small test under the C++ memory model itself and, when an
assertion fails, prints that execution's history: every atomic operation in the order it
happened, with the value each load read. A load that read a value which was no longer the
latest one of its atomic is marked `[NOT CURRENT]`: the model allowed it because nothing made
the newer store happen before the load. That is what a test on x86 almost never shows.

  has_model_report()  whether an output holds such a report;
  parse()             the report as data (ModelReport: the property, the result, the steps);
  model_headline()    one line for the list of failures;
  model_excerpt()     the property, the timeline (one line per step, the student's own steps
                      marked ">>" with their file, line and source text; each load with the
                      value it read and, in words, whether a newer value was already stored),
                      then questions that lead to the missing happens-before edge. At most
                      about 40 lines; no addresses, constructor steps, header paths, or steps
                      attributed to the course's stand-in <atomic>.

The model executable prints, before Relacy's report, a line `model: <the property in words>`
(the instructor models print `model NAME: ...`). Messages describe what happened and ask; they
never name the order to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .paths import Paths, show_path
from .sanitizers import MARK

# Relacy's test results (relacy/test_result.hpp), in words a student can act on.
_RESULTS = {
    "USER ASSERT FAILED": "an assertion of the model failed",
    "USER INVARIANT FAILED": "an invariant of the model failed",
    "DATA RACE": "a data race on a non-atomic variable",
    "ACCESS TO FREED MEMORY": "memory was used after it was freed",
    "DOUBLE FREE": "memory was freed twice",
    "MEMORY LEAK": "memory was never freed",
    "RESOURCE LEAK": "an atomic or another resource was never destroyed",
    "ACCESS TO UNINITIALIZED VARIABLE": "a variable was read before anything stored to it",
    "DEADLOCK": "every thread is blocked (a deadlock)",
    "LIVELOCK": "the threads run forever without progress (a livelock: a loop that waits for "
                "something that never happens?)",
    "INCONSISTENT TEST SUITE": "the model itself is inconsistent",
}
_RESULT_LINE = re.compile(r"^(?P<result>" + "|".join(re.escape(r) for r in _RESULTS)
                          + r")(?: \((?:assertion: (?P<what>.*)|.*)\))?$")
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
_OPERAND = re.compile(r"([A-Za-z_]\w*)\s*(?:\((?:\$|RL_INFO)\))?\s*(?:\.|->)\s*(load|store|exchange|fetch_\w+|"
                      r"compare_exchange_\w+)\s*\(")
_OPS = {"load": ("load",), "store": ("store",), "rmw": ("exchange", "fetch_"),
        "cas": ("compare_exchange",)}
_PLAIN_OPERAND = re.compile(r"([A-Za-z_]\w*)\s*\((?:\$|RL_INFO)\)")   # Relacy's var(RL_INFO)

MAX_LINES = 40


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
    prop = result = what = ""
    iteration = None
    for line in lines[:start]:
        if m := _PROPERTY.match(line.strip()):
            prop = m.group("what").strip()
        elif m := _RESULT_LINE.match(line.strip()):
            result, what = m.group("result"), (m.group("what") or "").strip()
        elif m := re.match(r"^iteration: (\d+)$", line.strip()):
            iteration = int(m.group(1))
    report = ModelReport(prop, result, what, iteration=iteration)
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

def _names(steps: list[Step], paths: Paths) -> dict[str, str]:
    """A name per atomic address: the variable a source line applies that operation to
    (`requests_` in `requests_.fetch_add(1, ...)`), else "atomic A", "atomic B", ..."""
    names: dict[str, str] = {}
    for s in steps:
        if not s.addr or s.addr in names:
            continue
        source = _source(s, paths)
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


def _source(step: Step, paths: Paths) -> str | None:
    if not step.path or paths.read_line is None:
        return None
    text = paths.read_line(step.path, step.line)
    return text.strip() if text else None


# --- what each load saw ---------------------------------------------------------------------

@dataclass
class Stale:
    load: Step
    latest: Step            # the newest write to that atomic before the load
    source: Step | None     # the write the load read from, when one is in the history
    bridge: tuple[Step, Step] | None = None   # (a read by the loader, the write it read), the
                                              # write coming after `latest` in its thread


def _writer_of(steps: list[Step], at: int, addr: str, value: str) -> Step | None:
    """The newest write before steps[at] to `addr` that wrote `value`."""
    for s in reversed(steps[:at]):
        if s.addr == addr and s.writes and s.value == value:
            return s
    return None


def _stale_loads(steps: list[Step]) -> list[Stale]:
    found = []
    for i, s in enumerate(steps):
        if s.kind != "load" or not s.stale:
            continue
        latest = next((w for w in reversed(steps[:i]) if w.addr == s.addr and w.writes), None)
        if latest is None:
            continue
        stale = Stale(s, latest, _writer_of(steps, i, s.addr, s.value))
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


def _lost_write(steps: list[Step]) -> tuple[Step, Step, Step] | None:
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


def _race(steps: list[Step]) -> tuple[Step, Step] | None:
    """(the racing access, the other thread's conflicting write) of a data race: the last
    plain access and the newest plain write of another thread to the same variable."""
    access = next((s for s in reversed(steps) if s.kind.startswith("plain-")), None)
    if access is None:
        return None
    write = next((s for s in reversed(steps[:steps.index(access)]) if s.addr == access.addr
                  and s.kind == "plain-store" and s.thread != access.thread), None)
    return (access, write) if write is not None else None


# --- rendering ----------------------------------------------------------------------------

# Values a student recognizes by name (an empty minimum starts at the largest value).
_LIMITS = {str(2**64 - 1): "UINT64_MAX", str(2**63 - 1): "INT64_MAX", str(-2**63): "INT64_MIN",
           str(2**32 - 1): "UINT32_MAX", str(2**31 - 1): "INT32_MAX", str(-2**31): "INT32_MIN"}


def _v(value: str) -> str:
    return _LIMITS.get(value, value)


def _effect(s: Step, name: str) -> str:
    """What a step did, in a few words."""
    if s.kind == "load":
        return f"read {name} = {_v(s.value)}" + (" (an older value)" if s.stale else "")
    if s.kind == "store":
        return f"store {name} = {_v(s.value)} (was {_v(s.prev)})"
    if s.kind == "rmw":
        return f"{s.op} {name}: {_v(s.prev)} -> {_v(s.value)}"
    if s.kind == "cas":
        if s.ok:
            return f"CAS {name}: {_v(s.prev)} -> {_v(s.value)}"
        why = "failed spuriously" if s.spurious else "failed"
        return f"CAS {name} {why}: read {_v(s.prev)}, expected {_v(s.expected)}"
    if s.kind == "fence":
        return f"{s.order} fence"
    if s.kind == "plain-load":
        return f"read {name} = {_v(s.value)} (not atomic)"
    if s.kind == "plain-store":
        return f"write {name} = {_v(s.value)} (not atomic)"
    if s.kind == "result":
        return "the check fails" if s.text.startswith("USER") else s.text.split(" (")[0].lower()
    return re.sub(r"\s+", " ", s.text)[:60]


def _where(s: Step, paths: Paths) -> str:
    if not s.path:
        return ""
    where = f"{s.path}:{s.line}"
    source = _source(s, paths)
    if source:
        where += "  " + (source if len(source) <= 80 else source[:77] + "...")
    return where


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def model_headline(output: str, paths: Paths) -> str:
    """A violated model in one line: the property, and the student's first stale load."""
    report = parse(output, paths)
    if report is None:
        return "the model check failed without a history"
    what = report.prop or report.assertion or _RESULTS.get(report.result, report.result)
    line = f"model check: {what}: violated"
    stale = _stale_loads(report.steps)
    if stale and stale[0].load.path:
        line += f" (a load at {stale[0].load.path}:{stale[0].load.line} read an older value)"
    elif report.result and report.result != "USER ASSERT FAILED":
        line += f" ({_RESULTS.get(report.result, report.result.lower())})"
    return line[:300]


def model_excerpt(output: str, paths: Paths) -> str:
    """The property, the counterexample as a timeline, and questions that lead to the
    missing happens-before edge (see the module's docstring)."""
    report = parse(output, paths)
    if report is None:
        return ""
    steps = report.steps
    names = _names(steps, paths)
    out = []
    if report.prop:
        out.append(f"Model check failed: {report.prop}")
    else:
        out.append("Model check failed: " + _RESULTS.get(report.result, report.result.lower()))
    failing = next((s for s in steps if s.kind == "result"), None)
    if report.assertion:
        at = f" ({failing.path}:{failing.line})" if failing is not None and failing.path else ""
        out.append(f"The model's check `{report.assertion}` failed{at} in this execution, "
                   "which the C++ memory model allows:")
    elif report.result:
        out.append(f"What went wrong: {_RESULTS.get(report.result, report.result.lower())}, in "
                   "this execution:")

    setup = [s for s in steps if s.phase == "setup" and (s.writes or s.kind == "plain-store")]
    if setup:
        first: dict[str, str] = {}
        for s in setup:
            first[names[s.addr]] = s.value
        out.append("  start: " + ", ".join(f"{n} = {_v(v)}" for n, v in first.items()))

    stale = _stale_loads(steps)
    lost = _lost_write(steps) if not stale else None
    shown = [s for s in steps if s.phase != "setup" and (s.addr or s.kind in ("fence", "result"))
             or s.kind == "result"]
    race = _race(steps) if report.result == "DATA RACE" else None
    key = {s.number for s in shown if s.kind == "result"}
    if lost:
        key |= {s.number for s in lost}
    if race:
        key |= {s.number for s in race}
    for st in stale[:3]:
        key |= {st.load.number, st.latest.number}
        if st.bridge:
            key |= {st.bridge[0].number, st.bridge[1].number}
    budget = MAX_LINES - len(out) - 10          # room for the questions
    keep = _keep(shown, key, budget)
    label = {s.number: i for i, s in enumerate(shown, 1)}

    width = max((len(_effect(s, names.get(s.addr, ""))) for s in shown), default=0)
    width = min(width, 44)
    notes = {st.load.number: st for st in stale}
    skipped = 0
    after = False
    for s in shown:
        if s.number not in keep:
            skipped += 1
            continue
        if skipped:
            out.append(f"     ... {_plural(skipped, 'step')} not shown")
            skipped = 0
        if s.phase == "after" and not after:
            out.append("     (every thread has finished; the model checks the result)")
            after = True
        mark = MARK if s.mine else "  "
        effect = _effect(s, names.get(s.addr, ""))
        out.append(f"{mark} {label[s.number]:>2}  thread {s.thread}  {effect:<{width}}  "
                   f"{_where(s, paths)}".rstrip())
        if s.number in notes:
            st = notes[s.number]
            out.append(f"{'':8}^ read {_v(s.value)} although {_v(st.latest.value)} was already "
                       f"stored by thread {st.latest.thread} (step "
                       f"{label.get(st.latest.number, '?')}): nothing orders this load after "
                       "that store")
    if skipped:
        out.append(f"     ... {_plural(skipped, 'step')} not shown")
    out.append("")
    out.extend(_questions(report, stale, lost, label, names))
    return "\n".join(out[:MAX_LINES + 6])


def _keep(shown: list[Step], key: set[int], budget: int) -> set[int]:
    """Which steps fit in the budget: all when they fit, else the key steps (the stale load,
    the store it missed, the steps between them that matter, the failure) and then those
    nearest to the end, where the failure is."""
    if len(shown) <= budget:
        return {s.number for s in shown}
    keep = set(key)
    for s in reversed(shown):
        if len(keep) >= budget:
            break
        keep.add(s.number)
    return keep


def _questions(report: ModelReport, stale: list[Stale], lost, label: dict[int, int],
               names: dict[str, str]) -> list[str]:
    """What to ask of this history: never the answer, always the two steps to look at."""
    def n(step: Step) -> str:
        return f"step {label.get(step.number, '?')}"

    out = ["How to read it: steps are in the order they happened; each thread runs its own "
           "steps in program order."]
    if stale:
        st = stale[0]
        var = names.get(st.load.addr, "the atomic")
        out.append(f"At {n(st.load)} thread {st.load.thread} read {var} = {_v(st.load.value)}, "
                   f"although thread {st.latest.thread} had stored {_v(st.latest.value)} at "
                   f"{n(st.latest)}.")
        if st.bridge:
            read, write = st.bridge
            out.append(f"Yet at {n(read)} thread {read.thread} had already read what thread "
                       f"{write.thread} wrote at {n(write)}, AFTER {n(st.latest)}.")
            out.append(f"Ask: for {n(st.latest)} to happen before {n(st.load)}, which of these "
                       f"steps would have to synchronize with which? Does your code make "
                       f"{n(write)} and {n(read)} do that, and why (or why not)?")
        else:
            out.append(f"Ask: what in thread {st.load.thread}'s steps before {n(st.load)} "
                       f"observes thread {st.latest.thread}'s work after {n(st.latest)}, and "
                       "does that observation make the store visible too?")
        out.append("A test on x86 almost never shows this: the hardware keeps loads in order. "
                   "The C++ memory model does not, unless happens-before says so.")
    elif report.result == "DATA RACE" and (race := _race(report.steps)) is not None:
        read, write = race
        out.append(f"At {n(read)} thread {read.thread} read {names.get(read.addr, 'a variable')}"
                   f", which is not atomic, while thread {write.thread}'s write at {n(write)} "
                   f"did not happen before it: a data race (undefined behaviour), whatever "
                   f"value it read.")
        out.append(f"Ask: which steps between {n(write)} and {n(read)} could carry that write "
                   f"to thread {read.thread}, and what does each of them order?")
    elif lost:
        read, write, other = lost
        out.append(f"Thread {write.thread} read {names.get(read.addr, 'the atomic')} at "
                   f"{n(read)} and wrote it at {n(write)}; in between, thread {other.thread} "
                   f"wrote it at {n(other)}, and {n(write)} overwrote that.")
        out.append(f"Ask: what in your code would notice that the value changed between "
                   f"{n(read)} and {n(write)}?")
    elif any(s.kind == "cas" and s.spurious for s in report.steps):
        cas = next(s for s in report.steps if s.kind == "cas" and s.spurious)
        out.append(f"At {n(cas)} compare_exchange_weak failed although the value was the "
                   "expected one: a weak CAS may fail spuriously (LL/SC machines do).")
        out.append("Ask: what does your code do after such a failure, and what does its "
                   "contract promise in that case?")
    else:
        out.append("Every load here read the newest value: this interleaving alone breaks the "
                   "property, on any machine. Ask: which two of your steps must nothing come "
                   "between, and what keeps them together?")
    return out
