"""The CTest run strategy (`check`, `selftest`): runs exactly the named tests with CTest and
reads their results from CTest's JUnit report. A test that exits 77 is skipped or, when it
printed `inconclusive: ...`, inconclusive; inconclusive tests run up to twice more."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from . import feedback
from .build import Tree
from .course import ROOT, Milestone
from .fencescan import fence_in_tree
from .feedback import ctest_timeouts
from .results import Status, TestResult, not_run_status, until_conclusive


@dataclass
class CTestRun:
    status: Status
    seconds: float
    output: str


def ctest_regex(names: list[str]) -> str:
    """An anchored CTest -R regex that matches exactly these test names."""
    def esc(name):
        return re.sub(r"([][.*+?^$(){}|\\])", r"\\\1", name)
    return "^(" + "|".join(esc(n) for n in names) + ")$"


def parse_junit(path: Path) -> dict[str, CTestRun]:
    runs = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        out = case.findtext("system-out") or ""
        failure = case.find("failure")
        if failure is not None:
            message = failure.get("message", "")
            out = (message + "\n" + out).strip()
            status = Status.TIMEOUT if "Timeout" in message else Status.FAILED
        elif case.find("skipped") is not None or case.get("status") == "notrun":
            status = not_run_status(out)
        elif case.find("error") is not None:
            status = Status.FAILED
        else:
            status = Status.PASSED
        runs[case.get("name", "")] = CTestRun(status, float(case.get("time", "0") or 0), out)
    return runs


def run_ctest(tree: Tree, names: list[str], timeout: float = 3600,
              parallel: int = 1) -> dict[str, CTestRun]:
    """Runs exactly these CTest tests, one at a time (concurrency tests need the cores) unless
    `parallel` says how many single-threaded ones may run side by side."""
    if not names:
        return {}
    with tempfile.TemporaryDirectory(prefix="lab-junit-") as tmp:
        junit = Path(tmp) / "junit.xml"
        proc = subprocess.run(["ctest", "--test-dir", str(tree.build_dir), "--output-junit",
                               str(junit), "--no-tests=ignore", "-j", str(max(1, parallel)),
                               "-R", ctest_regex(names)],
                              cwd=tree.source_dir, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
        if not junit.exists():
            return {}
        runs = parse_junit(junit)
        # CTest's JUnit report leaves a timeout's failure message empty; its console says it.
        for name in ctest_timeouts(proc.stdout):
            if name in runs:
                runs[name].status = Status.TIMEOUT
        return runs


def side_by_side() -> int:
    """How many single-threaded checkpoints may run at once: one per CPU this process may use
    (at most 4); the concurrency checkpoints always run alone."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


class CTestRunner:
    """Runner strategy: CTest runs the tests; results come from its JUnit report. The
    single-threaded checkpoints run side by side (one per CPU), then the concurrency
    checkpoints one at a time."""

    def run(self, tree: Tree, results: list[TestResult]) -> None:
        seconds: dict[str, float] = {}
        alone = {r.name for r in results if r.test.concurrency}

        def batch(names: list[str]) -> dict[str, CTestRun]:
            quick = [n for n in names if n not in alone]
            runs = run_ctest(tree, quick, parallel=side_by_side())
            runs.update(run_ctest(tree, [n for n in names if n in alone]))
            for n, run in runs.items():
                seconds[n] = seconds.get(n, 0.0) + run.seconds
            return runs

        runs, tries = until_conclusive(batch, [r.name for r in results], lambda run: run.status)
        track = tree.track()
        paths = feedback.Paths(ROOT, track, track.name)
        for r in results:
            run = runs.get(r.name)
            r.runs += tries[r.name]
            if run is None:
                r.status, r.output = Status.NOT_RUN, (
                    "this checkpoint did not run: was the test renamed or removed?")
            else:
                r.status, r.output = run.status, run.output
                r.seconds += seconds[r.name]
                r.tsan_race_only = run.status is Status.FAILED and feedback.race_only(
                    run.output, paths)

    def fence_in(self, tree: Tree, m: Milestone) -> str | None:
        """Where milestone m's own code calls a standalone fence (fencescan.py), or None."""
        return fence_in_tree(tree, m)
