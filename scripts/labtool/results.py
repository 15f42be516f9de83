"""Every status word of the lab tool and the one scorer that `check`, `grade` and `selftest`
share.

Scoring rules (docs/grading.md states them for students):
  - a passed test earns its points; any other status earns 0;
  - a skipped test (for instance "needs 2 CPUs" on a 1-CPU machine, or a ThreadSanitizer
    race report that cannot judge code with a standalone fence: fences.py) leaves both the
    earned and the possible points: it neither costs nor counts;
  - an inconclusive test (it could not establish the overlap it needs, after its retries and
    ours) earns 0 and says "re-grade on a quieter machine";
  - stretch tests are scored and shown apart, and never lower the main score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from .course import Milestone, Test


class Status(str, Enum):
    # str + Enum, not enum.StrEnum (3.11+): the tool runs on Python 3.10 (Gradescope's image).
    PASSED = "passed"
    FAILED = "failed"             # an assertion failed (or a generic failure)
    TIMEOUT = "timeout"
    CRASH = "crash"
    SANITIZER = "sanitizer"       # a ThreadSanitizer / ASan / UBSan report
    NO_REPORT = "no report"       # grade: the run did not prove it passed
    NOT_BUILT = "not built"       # the milestone does not compile
    BLOCKED = "blocked"           # a milestone it depends on does not compile
    RULE = "rule"                 # the code breaks a grading rule
    BUDGET = "budget"             # grade: the time budget was used up
    ERROR = "error"               # the grader failed, not the code
    NOT_RUN = "not run"           # expected to run, but did not (renamed? removed?)
    SKIPPED = "skipped"           # cannot run here (e.g. needs 2 CPUs): no points either way
    INCONCLUSIVE = "inconclusive"  # ran, but could not establish what it needs

    def __str__(self) -> str:        # as StrEnum: the value, on every Python version
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def passed(self) -> bool:
        return self is Status.PASSED

    @property
    def counts(self) -> bool:
        """Whether the test's points are part of the possible points."""
        return self is not Status.SKIPPED


# Exit code of a checkpoint process that did not run its test ("skipped: ..." or
# "inconclusive: ..." on its output); CTest's SKIP_RETURN_CODE.
NOT_RUN_EXIT_CODE = 77
INCONCLUSIVE_PREFIX = "inconclusive: "
SKIPPED_PREFIX = "skipped: "
INCONCLUSIVE_ADVICE = "inconclusive: re-grade on a quieter machine"
RERUNS_OF_INCONCLUSIVE = 2


def not_run_status(output: str) -> Status:
    """The status of a run that exited 77: inconclusive when it said so, else skipped."""
    if any(line.startswith(INCONCLUSIVE_PREFIX) for line in output.splitlines()):
        return Status.INCONCLUSIVE
    return Status.SKIPPED


R = TypeVar("R")


def until_conclusive(run: Callable[[list[str]], Mapping[str, R]], names: list[str],
                     status: Callable[[R], Status]) -> tuple[dict[str, R], dict[str, int]]:
    """Runs the named tests with `run` (a batch of names -> their runs); a test whose run is
    inconclusive (it could not establish the overlap it needs) runs again, at most
    RERUNS_OF_INCONCLUSIVE times. The one retry rule of `check`, `selftest`'s mutants and
    `stress`. Returns each test's last run (a test `run` did not report is absent) and how
    many times each test was run."""
    last: dict[str, R] = {}
    tries = {n: 0 for n in names}
    pending = list(names)
    for _ in range(1 + RERUNS_OF_INCONCLUSIVE):
        runs = run(pending)
        for n in pending:
            tries[n] += 1
        last.update({n: runs[n] for n in pending if n in runs})
        pending = [n for n in pending if n in runs and status(runs[n]) is Status.INCONCLUSIVE]
        if not pending:
            break
    return last, tries


@dataclass
class TestResult:
    """One manifest test of one milestone, after the run (or after deciding not to run it)."""
    milestone: Milestone
    test: Test
    status: Status = Status.NOT_RUN
    output: str = ""
    seconds: float = 0.0
    runs: int = 0
    # The run failed only because of a ThreadSanitizer data-race report on the test's own data
    # (feedback.race_only(), set by the run strategy that saw the raw output); fences.py may
    # turn such a failure into a skip.
    tsan_race_only: bool = False

    @property
    def name(self) -> str:
        return self.milestone.ctest_name(self.test)

    @property
    def passed(self) -> bool:
        return self.status.passed

    @property
    def score(self) -> int:
        return self.test.points if self.passed else 0

    @property
    def possible(self) -> int:
        return self.test.points if self.status.counts else 0


@dataclass
class Score:
    """A milestone's (or a whole run's) points: main and stretch apart."""
    earned: int = 0
    possible: int = 0
    passed: int = 0
    tests: int = 0
    stretch_earned: int = 0
    stretch_possible: int = 0
    skipped: int = 0
    inconclusive: int = 0

    def add(self, r: TestResult) -> None:
        if r.test.stretch:          # apart: never in the main counts, nor in the status
            self.stretch_earned += r.score
            self.stretch_possible += r.possible
            return
        self.skipped += r.status is Status.SKIPPED
        self.inconclusive += r.status is Status.INCONCLUSIVE
        self.earned += r.score
        self.possible += r.possible
        self.tests += r.status.counts
        self.passed += r.passed

    @property
    def complete(self) -> bool:
        """Every main test that counts passed."""
        return self.passed == self.tests


def score(results: list[TestResult]) -> Score:
    total = Score()
    for r in results:
        total.add(r)
    return total


def milestone_status(s: Score, results: list[TestResult]) -> str:
    """One line for a milestone's row: done, the first reason it is not, or what is missing."""
    statuses = {r.status for r in results if not r.test.stretch}
    for status, text in ((Status.RULE, "breaks a grading rule"), (Status.NOT_BUILT,
                         "does not compile"), (Status.BLOCKED, "blocked by an earlier milestone")):
        if status in statuses:
            return text
    parts = []
    failing = s.tests - s.passed - s.inconclusive
    if failing:
        parts.append(f"{failing} failing")
    if s.inconclusive:
        parts.append(f"{s.inconclusive} inconclusive")
    if s.skipped:
        parts.append(f"{s.skipped} skipped")
    if not failing and not s.inconclusive:
        parts.insert(0, "done")
    return ", ".join(parts)
