"""The one rule for what ThreadSanitizer cannot see: standalone fences.

TSan does not model std::atomic_thread_fence (compiler-rt, lib/tsan/rtl/tsan_interface_atomic.cpp:
__tsan_atomic_thread_fence, the fence entry point, does "// FIXME(dvyukov): not implemented."
and a hardware barrier, so the detector's clocks learn nothing from a fence;
google/sanitizers#1415). So a "payload"
checkpoint (a plain variable written before the student's publishing operation and read after
the reading operation saw it) reports a data race on correct code whose orders come from
standalone fences.

The course never fails correct code, and judges orders by the memory model (the Relacy model
checkpoints), not by a tool that cannot see them. So a test whose manifest entry names the
model checkpoints that judge its orders ("fence_models") is SKIPPED, its points left out of the
total, when all of this holds:

  - the run failed only because of a ThreadSanitizer data-race report on the test's own data
    (TestResult.tsan_race_only, decided by each run strategy from the run's raw output with
    feedback.race_only(): no other report, no failed assertion, none of the racing accesses in
    the student's files);
  - the milestone's own code calls a standalone fence, as the compiler sees it (after
    preprocessing: a fence in a comment or a string does not count, a macro that expands to
    one does; each run strategy scans its own way: fencescan.py for `check`/`selftest`, the
    grader's sandboxed rule scan for `grade`).

A failed assertion, a timeout, a crash, any other sanitizer report still fail as before. Only
tests whose milestone's model checkpoints catch every ordering mistake its payload tests catch
carry "fence_models" (docs/grading.md, "Fences and ThreadSanitizer", has the evidence).
`flow.run_flow` applies the rule once, after either run strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .course import Milestone
from .results import Status, TestResult

# Identifiers of a standalone thread fence: the standard function and the compiler builtins it
# is made of (each reaches TSan's fence entry point, which orders nothing for the detector).
FENCE_NAMES = frozenset({"atomic_thread_fence", "__atomic_thread_fence",
                         "__c11_atomic_thread_fence"})


def first_fence(tokens: Iterable) -> tuple[str, int] | None:
    """(file, line) of the first fence identifier among preprocessed tokens (objects with
    kind, text, file and line, as cxxscan.Token); None when there is none. Only identifiers
    count: comments are gone after preprocessing, and literals are not identifiers."""
    for tok in tokens:
        if tok.kind == "id" and tok.text in FENCE_NAMES:
            return tok.file, tok.line
    return None


def skip_message(models: Iterable[str], where: str = "") -> str:
    """What a skipped test says, in lines short enough for `check`'s list (it never names an
    exercise's memory orders)."""
    names = list(models)
    at = f" (at {where})" if where else ""
    judge = "This model check judges" if len(names) == 1 else "These model checks judge"
    return "\n".join([
        "skipped: ThreadSanitizer does not model std::atomic_thread_fence, which your code calls"
        + at + ".",
        "  A race report here cannot tell a missing order from a fence TSan ignores, so this",
        "  test's points are left out of the total.",
        f"  {judge} your orders under Relacy's model of C++:",
        *(f'    "{n}"' for n in names)])


def candidates(results: Iterable[TestResult]) -> list[TestResult]:
    """The results the rule may skip: a race-only TSan failure of a test with fence_models."""
    return [r for r in results
            if r.tsan_race_only and r.test.fence_models
            and r.status in (Status.FAILED, Status.SANITIZER)]


def skip_fence_races(results: Iterable[TestResult],
                     fence_in: Callable[[Milestone], str | None]) -> list[TestResult]:
    """Turns every candidate whose milestone's code calls a fence into SKIPPED with the
    message; fence_in(milestone) says where the first fence call is (None: no fence). It is
    asked only when there is a candidate, and once per milestone. Returns the skipped ones."""
    found: dict[int, str | None] = {}
    skipped = []
    for r in candidates(results):
        m = r.milestone
        if m.number not in found:
            found[m.number] = fence_in(m)
        where = found[m.number]
        if where is None:
            continue
        r.status = Status.SKIPPED
        r.output = skip_message(r.test.fence_models, where) + "\n\n" + r.output
        skipped.append(r)
    return skipped
