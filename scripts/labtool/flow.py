"""The one flow of `check`, `grade` and `selftest`:

    course model -> workspace (a track: starter/, solutions/, a mirror or an overlay)
                 -> build (milestone by milestone) -> run -> score -> report

After the run, one rule applies to every strategy alike: a ThreadSanitizer race report that
cannot judge code with a standalone fence becomes a skip (fences.py).

The commands differ only in their inputs (which track, which milestones, which milestones a
rule already decided) and in their reporters. The run step has two strategies behind one
interface, Runner: CTest (ctest.py: `check`, `selftest`) and report-verified runs
(grade/runner.py: `grade`, which trusts nothing the submission's process says).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from .build import BuildResult, Tree, compile_errors
from .feedback import compile_failure
from .course import Milestone, with_dependencies
from .fences import skip_fence_races
from .results import Status, TestResult


class Runner(Protocol):
    def run(self, tree: Tree, results: list[TestResult]) -> None:
        """Runs the tests of `results` in `tree` and fills in their status, output, time."""

    def fence_in(self, tree: Tree, m: Milestone) -> str | None:
        """Where milestone m's own code calls a standalone fence, as the compiler sees it
        ('file:line' as the student knows it), or None. Asked only after a race-only failure
        of a test with "fence_models" (fences.py)."""


@dataclass
class Decided:
    """Tests decided before anything is built (a broken grading rule)."""
    status: Status
    output: str
    build: bool = True      # False: do not even compile the milestone's code


@dataclass
class Outcome:
    builds: dict[int, BuildResult] = field(default_factory=dict)
    results: dict[int, list[TestResult]] = field(default_factory=dict)   # selected milestones

    def all_results(self) -> list[TestResult]:
        return [r for rs in self.results.values() for r in rs]


def run_flow(tree: Tree, selected: list[Milestone], all_ms: list[Milestone], runner: Runner,
             decided: dict[int, Decided] | None = None, jobs: int | None = None,
             explain: Callable[[str], str] = str,
             progress: Callable[[Milestone], None] | None = None) -> Outcome:
    """Builds the selected milestones (and all they depend on), runs what built, and returns
    one TestResult per manifest test of every selected milestone. `explain` rewrites compiler
    output for the reader (the grader shows its overlay as starter/)."""
    decided = decided or {}
    to_build = [m for m in with_dependencies(selected, all_ms)
                if m.tests and (m.number not in decided or decided[m.number].build)]
    # A milestone that is only depended on needs to compile, not its checkpoints.
    compile_only = {m.number for m in to_build} - {m.number for m in selected}
    outcome = Outcome(builds=tree.build_milestones(to_build, all_ms, jobs=jobs,
                                                   progress=progress,
                                                   compile_only=compile_only))
    to_run: list[TestResult] = []
    for m in selected:
        results = [TestResult(m, t) for t in m.tests]
        outcome.results[m.number] = results
        build = outcome.builds.get(m.number)
        if m.number in decided:
            status, output = decided[m.number].status, decided[m.number].output
        elif build is not None and build.blocked_by:
            status, output = Status.BLOCKED, build.output
        elif build is None or not build.ok:
            status = Status.NOT_BUILT
            output = compile_failure(explain(compile_errors(build.output if build else "")))
        else:
            broken_model = build.models is not None and not build.models.ok
            for r in results:
                if broken_model and r.test.model:
                    r.status = Status.NOT_BUILT
                    r.output = compile_failure(explain(compile_errors(build.models.output)))
                else:
                    to_run.append(r)
            continue
        for r in results:
            r.status, r.output = status, output
    if to_run:
        runner.run(tree, to_run)
        # The one place where a race report that cannot judge fenced code becomes a skip.
        skip_fence_races(to_run, lambda m: runner.fence_in(tree, m))
    return outcome
