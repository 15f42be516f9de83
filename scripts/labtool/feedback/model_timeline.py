"""A violated model, as a student can read it: the property, the counterexample as a short
timeline, and the questions it raises (the data comes from relacy.py).

  model_headline()  one line for the list of failures;
  model_excerpt()   the property, the timeline (one line per step, the student's own steps
                    marked ">>" with their file, line and source text; each load with the value
                    it read and, in words, whether a newer value was already stored), then
                    questions that lead to the missing happens-before edge. At most about 40
                    lines; no addresses, constructor steps, header paths, or steps attributed
                    to the course's stand-in <atomic>.

Messages describe what happened and ask; they never name the order to use.
"""

from __future__ import annotations

import re

from .paths import Paths
from .relacy import (RESULTS, ModelReport, Stale, Step, atomic_names, data_race, lost_write,
                     parse, source_text, stale_loads)
from .sanitizers import MARK

MAX_LINES = 40


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
        if s.text.startswith("USER") and "(invalid memory order" in s.text:
            return s.text[s.text.index("invalid memory order"):].split(" (")[0]
        return "the check fails" if s.text.startswith("USER") else s.text.split(" (")[0].lower()
    return re.sub(r"\s+", " ", s.text)[:60]


def _where(s: Step, paths: Paths) -> str:
    if not s.path:
        return ""
    where = f"{s.path}:{s.line}"
    source = source_text(s, paths)
    if source:
        where += "  " + (source if len(source) <= 80 else source[:77] + "...")
    return where


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _failing_at(report: ModelReport) -> str:
    """file:line of the step where the execution failed; "" when Relacy gave none."""
    failing = next((s for s in report.steps if s.kind == "result"), None)
    return f"{failing.path}:{failing.line}" if failing is not None and failing.path else ""


def model_headline(output: str, paths: Paths) -> str:
    """A violated model in one line: the property, and the student's first stale load."""
    report = parse(output, paths)
    if report is None:
        return "the model check failed without a history"
    if report.misuse:
        at = f" at {where}" if (where := _failing_at(report)) else ""
        return (f"model check: {report.misuse}{at}: the operation may not take that order "
                "([atomics.types.operations], Preconditions)")[:300]
    what = report.prop or report.assertion or RESULTS.get(report.result, report.result)
    line = f"model check: {what}: violated"
    stale = stale_loads(report.steps)
    if stale and stale[0].load.path:
        line += f" (a load at {stale[0].load.path}:{stale[0].load.line} read an older value)"
    elif report.result and report.result != "USER ASSERT FAILED":
        line += f" ({RESULTS.get(report.result, report.result.lower())})"
    return line[:300]


def model_excerpt(output: str, paths: Paths) -> str:
    """The property, the counterexample as a timeline, and questions that lead to the
    missing happens-before edge (see the module's docstring)."""
    report = parse(output, paths)
    if report is None:
        return ""
    steps = report.steps
    names = atomic_names(steps, paths)
    out = []
    if report.prop and report.misuse:
        out.append(f"Model check stopped before it could judge: {report.prop}")
    elif report.prop:
        out.append(f"Model check failed: {report.prop}")
    else:
        out.append("Model check failed: " + RESULTS.get(report.result, report.result.lower()))
    where = _failing_at(report)
    if report.misuse:
        at = f" at {where}" if where else ""
        out.append(f"What went wrong: {report.misuse}{at}, in this execution (the model stops "
                   "there, before its own check):")
    elif report.assertion:
        at = f" ({where})" if where else ""
        out.append(f"The model's check `{report.assertion}` failed{at} in this execution, "
                   "which Relacy's model of C++ allows (docs/model-checks.md):")
    elif report.result:
        out.append(f"What went wrong: {RESULTS.get(report.result, report.result.lower())}, in "
                   "this execution:")

    setup = [s for s in steps if s.phase == "setup" and (s.writes or s.kind == "plain-store")]
    if setup:
        first: dict[str, str] = {}
        for s in setup:
            first[names[s.addr]] = s.value
        out.append("  start: " + ", ".join(f"{n} = {_v(v)}" for n, v in first.items()))

    stale = stale_loads(steps)
    lost = lost_write(steps) if not stale else None
    shown = [s for s in steps if s.phase != "setup" and (s.addr or s.kind in ("fence", "result"))
             or s.kind == "result"]
    race = data_race(steps) if report.result == "DATA RACE" else None
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
    label = {s.number: i for i, s in enumerate(shown, 1)}
    shown, repeats = _fold(shown, key)
    keep = _keep(shown, key, budget)

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
        if s.number in repeats:
            times, last = repeats[s.number]
            effect += f" ({times} times, to step {label[last]})"
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


def _fold(shown: list[Step], key: set[int]) -> tuple[list[Step], dict[int, tuple[int, int]]]:
    """Runs of the same step repeated by one thread (a spin loop) as their first step, with
    {first step's number: (times, last step's number)}."""
    def same(a: Step, b: Step) -> bool:
        return (a.thread, a.kind, a.addr, a.value, a.prev, a.path, a.line, a.stale) == \
               (b.thread, b.kind, b.addr, b.value, b.prev, b.path, b.line, b.stale)
    kept: list[Step] = []
    repeats: dict[int, tuple[int, int]] = {}
    for s in shown:
        first = kept[-1] if kept else None
        if first is not None and same(first, s) and s.number not in key \
                and first.number not in key:
            times, _ = repeats.get(first.number, (1, first.number))
            repeats[first.number] = (times + 1, s.number)
            continue
        kept.append(s)
    return kept, repeats


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


# The lessons with a section "Checking orders with a model checker"; the others point to 2's.
_MODEL_LESSONS = ("02-relaxed-metrics", "03-histogram", "04-cas-min-max",
                  "06-ordering-benchmarks")


def _lesson(report: ModelReport) -> str:
    """Where a student learns to read this history: the milestone's lesson, else lesson 2."""
    slug = next((m.group(1) for s in report.steps
                 if (m := re.search(r"(?:^|/)(\d\d-[\w-]+)/", s.path))), "")
    slug = slug if slug in _MODEL_LESSONS else _MODEL_LESSONS[0]
    return f'lessons/{slug}/README.md, "Checking orders with a model checker"'


def _questions(report: ModelReport, stale: list[Stale], lost, label: dict[int, int],
               names: dict[str, str]) -> list[str]:
    """What to ask of this history: never the answer, always the two steps to look at."""
    def n(step: Step) -> str:
        return f"step {label.get(step.number, '?')}"

    out = ["How to read it: steps are in the order they happened; each thread runs its own "
           "steps in program order (" + _lesson(report) + ")."]
    if report.misuse:
        out.append("An atomic operation was called with a memory order it may not take: "
                   "undefined behaviour, whatever the execution ([atomics.types.operations] "
                   "lists each operation's valid orders under Preconditions; g++ -O2 warns with "
                   "-Winvalid-memory-model, clang 14 emits such a load or store as relaxed). "
                   "Ask: which orders may this operation take, and which order did your code "
                   "compute for it here?")
        return out
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
            out.append(f"Ask: for {n(st.latest)} to happen before {n(st.load)}, which of the "
                       f"steps in between would have to synchronize with which, and what in "
                       f"your code would make them do it?")
        else:
            out.append(f"Ask: what in thread {st.load.thread}'s steps before {n(st.load)} "
                       f"observes thread {st.latest.thread}'s work after {n(st.latest)}, and "
                       "does that observation make the store visible too?")
        out.append("A test on x86 almost never shows this: the hardware keeps loads in order. "
                   "The C++ memory model does not, unless happens-before says so.")
    elif report.result == "DATA RACE" and (race := data_race(report.steps)) is not None:
        read, write = race
        out.append(f"At {n(read)} thread {read.thread} read {names.get(read.addr, 'a variable')}"
                   f", which is not atomic, while thread {write.thread}'s write at {n(write)} "
                   f"did not happen before it: a data race (undefined behaviour), whatever "
                   f"value it read.")
        out.append(f"Ask: which steps between {n(write)} and {n(read)} could carry that write "
                   f"to thread {read.thread}, and what does each of them order?")
    elif report.result in ("LIVELOCK", "DEADLOCK") and report.steps:
        counts: dict[tuple[int, str, int], int] = {}
        for st in report.steps:
            if st.addr:
                counts[(st.thread, st.path, st.line)] = counts.get(
                    (st.thread, st.path, st.line), 0) + 1
        if counts:
            (thread, path, line), times = max(counts.items(), key=lambda kv: kv[1])
            where = f" ({path}:{line})" if path else ""
            out.append(f"Thread {thread} repeated the same step{where} {times} times and the "
                       "test never ended.")
        out.append("Ask: what is that loop waiting for, which step of another thread would end "
                   "the wait, and does any thread still do that step?")
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
