"""`scripts/lab stress`: runs every concurrency checkpoint of the solutions many times, with CPU
hogs beside it, and counts how each run ended. The proof that no checkpoint fails correct code
because the machine is busy:

    scripts/lab stress --preset solutions --runs 200 --hogs 4     # clang + ThreadSanitizer
    scripts/lab stress --preset asan --runs 200 --hogs 4          # gcc + ASan + UBSan

It runs in rounds (every test once per round), so load that changes over time reaches every
test alike, and a --minutes limit leaves every test with about the same number of runs. A run
that reports itself inconclusive (it could not establish the overlap it needs) is run again up
to twice, as `check` and `grade` do; it counts as failed only if no run passes. Exit 1 when any
run failed.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..build import Tree, compile_errors, failure_summary
from ..console import LabError, info, table
from ..course import ROOT, CTestEntry, ctest_listing, load_milestones, select_milestones
from ..results import Status, not_run_status, until_conclusive


def add_stress_arguments(p) -> None:
    p.add_argument("--preset", choices=("solutions", "asan"), default="solutions",
                   help="solutions: clang + ThreadSanitizer (default); asan: gcc + ASan + UBSan")
    p.add_argument("--runs", type=int, default=200, help="runs of every test (default 200)")
    p.add_argument("--hogs", type=int, default=4,
                   help="busy processes (`yes > /dev/null`) running beside the tests (default 4)")
    p.add_argument("--only", metavar="N", help="one milestone")
    p.add_argument("--test", metavar="REGEX", help="only tests whose name matches")
    p.add_argument("--minutes", type=float, default=0,
                   help="stop after this many minutes and report the runs made (default: none)")
    p.add_argument("--build-root", default=str(ROOT / "build"),
                   help="where the build tree is (default build/; the tree is build/selftest-"
                        "PRESET, the one selftest uses)")


@dataclass
class Tally:
    passed: int = 0
    rescued: int = 0        # inconclusive at first, then passed on a rerun
    inconclusive: int = 0   # inconclusive every time: no verdict, never a failure
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    first_failure: str = ""

    @property
    def runs(self) -> int:
        return self.passed + self.rescued + self.inconclusive + self.skipped + self.failed


def _one_run(entry: CTestEntry) -> tuple[Status, str]:
    try:
        proc = subprocess.run(entry.command, cwd=entry.cwd, capture_output=True, text=True,
                              errors="replace", timeout=entry.timeout)
    except subprocess.TimeoutExpired:
        return Status.TIMEOUT, f"timed out after {entry.timeout:.0f} s"
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return Status.PASSED, output
    if proc.returncode == 77:
        return not_run_status(output), output
    return Status.FAILED, output


def _run_counted(entry: CTestEntry, tally: Tally) -> None:
    start = time.monotonic()
    runs, tries = until_conclusive(lambda names: {names[0]: _one_run(entry)}, [entry.name],
                                   lambda run: run[0])
    status, output = runs[entry.name]
    reruns = tries[entry.name] - 1
    tally.seconds += time.monotonic() - start
    if status is Status.PASSED:
        if reruns:
            tally.rescued += 1
        else:
            tally.passed += 1
    elif status is Status.INCONCLUSIVE:
        tally.inconclusive += 1
    elif status is Status.SKIPPED:
        tally.skipped += 1
    else:
        tally.failed += 1
        if not tally.first_failure:
            tally.first_failure = failure_summary(output)


def _start_hogs(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(n)]


def run_stress(args) -> int:
    if not (ROOT / "solutions").is_dir():
        raise LabError("stress runs the solutions, which the student release does not ship")
    if args.runs < 1 or args.hogs < 0:
        raise LabError("--runs must be at least 1 and --hogs at least 0")
    selected = select_milestones(load_milestones(), args.only)
    try:
        pattern = re.compile(args.test) if args.test else None
    except re.error as exc:
        raise LabError(f"--test {args.test!r} is not a regular expression ({exc}); "
                       "give part of a test's name, e.g. --test rollover") from exc
    names = [m.ctest_name(t) for m in selected for t in m.tests if t.concurrency]
    names = [n for n in names if pattern is None or pattern.search(n)]
    if not names:
        raise LabError("no concurrency checkpoint matches; see the manifests' \"concurrency\"")

    tree = Tree(args.preset, Path(args.build_root).resolve() / f"selftest-{args.preset}")
    info(f"building {tree.build_dir} ({args.preset} preset)")
    built = tree.configure()
    if built.ok:
        built = tree.build()
    if not built.ok:
        raise LabError(f"the solutions do not build in {tree.build_dir}:\n"
                       f"{compile_errors(built.output)}")
    listing = ctest_listing(tree.build_dir)
    missing = [n for n in names if n not in listing]
    if missing:
        raise LabError(f"not in the CTest list of {tree.build_dir}: {missing}")

    tallies = {n: Tally() for n in names}
    hogs = _start_hogs(args.hogs)
    start = time.monotonic()
    deadline = start + args.minutes * 60 if args.minutes else None
    rounds = 0
    try:
        while rounds < args.runs and (deadline is None or time.monotonic() < deadline):
            for n in names:
                _run_counted(listing[n], tallies[n])
            rounds += 1
            if rounds % 10 == 0 or rounds == args.runs:
                failed = sum(t.failed for t in tallies.values())
                info(f"  round {rounds}/{args.runs}: {failed} failed runs so far, "
                     f"{time.monotonic() - start:.0f} s")
    finally:
        for h in hogs:
            h.kill()
            h.wait()

    rows = [[n, f"{t.passed + t.rescued}/{t.runs}", str(t.rescued), str(t.inconclusive),
             str(t.skipped), str(t.failed), f"{t.seconds / max(t.runs, 1):.2f}"]
            for n, t in tallies.items()]
    print(table(["Test", "Passed", "After rerun", "Inconclusive", "Skipped", "Failed",
                 "s/run"], rows))
    failures = [(n, t) for n, t in tallies.items() if t.failed]
    took = time.monotonic() - start
    summary = (f"{len(names)} concurrency checkpoints x {rounds} rounds ({args.preset}, "
               f"{args.hogs} hogs, {took:.0f} s)")
    if rounds < args.runs:
        summary += f"; stopped by --minutes after {rounds} of {args.runs} rounds"
    for n, t in failures:
        print(f"\n{n}: {t.failed} failed run(s); the first:\n{t.first_failure}")
    print(f"\nstress: {summary}: {sum(t.failed for t in tallies.values())} failed runs")
    return 1 if failures else 0
