"""Mutants: a classic mistake as text edits on a solution file, kept in
checkpoints/NN-name/mutants.json, that the checkpoints named in "killed_by" must catch.

    {"name": ..., "mistake": ..., "file": "atomic_counter.hpp",
     "replace": [{"old": "exact text, found once", "new": "its replacement"}],
     "killed_by": ["test name", ...]}

The same format describes the grader's adversarial submissions (scripts/fixtures/grading.json),
applied by the same code.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..build import Tree, compile_errors
from ..console import LabError, info, paint
from ..course import ROOT, Milestone, mirror, read_tree
from ..ctest import run_ctest
from ..results import RERUNS_OF_INCONCLUSIVE, Status
from .pool import in_parallel, worker_count
from .report import StepReport

_NO_VERDICT = (Status.PASSED, Status.SKIPPED, Status.INCONCLUSIVE)
_TESTS_RUNNING = threading.Lock()


def apply_edits(source: str, edits: list[dict], what: str, where: str) -> str:
    """source with every {"old", "new"} edit applied; each "old" must occur exactly once."""
    for edit in edits:
        count = source.count(edit["old"])
        if count != 1:
            raise LabError(f"{what}: text to replace found {count} times in {where} (must be "
                           f"exactly once):\n{edit['old']}")
        source = source.replace(edit["old"], edit["new"])
    return source


def mutated_source(m: Milestone, mutant: dict) -> str:
    """The mutant's file: the solution's (or, with "base": "checkpoints", the checkpoint
    source's) text with the mutant's edits."""
    rel = f"{mutant.get('base', 'solutions')}/{m.slug}/{mutant['file']}"
    return apply_edits((ROOT / rel).read_text(), mutant["replace"],
                       f"mutant {mutant['name']}", rel)


def _kills(tree: Tree, m: Milestone, mutant: dict) -> tuple[list[str], list[str], str]:
    """(failing, missing, seen): the killing tests that failed, those that did not run, and
    every test's last status. An inconclusive test (it could not establish the overlap it
    needs) runs again, as `check` runs it again. One worker runs tests at a time (the other
    may be compiling): concurrency tests must pass beside a busy CPU anyway, but not beside
    each other."""
    names = [m.ctest_name(k) for k in mutant["killed_by"]]
    runs: dict = {}
    pending = names
    for _ in range(1 + RERUNS_OF_INCONCLUSIVE):
        with _TESTS_RUNNING:
            runs.update(run_ctest(tree, pending))
        pending = [n for n in pending if n in runs and runs[n].status == Status.INCONCLUSIVE]
        if not pending:
            break
    # A skipped or inconclusive run proves nothing: only a real failure kills.
    failing = [n for n in names if n in runs and runs[n].status not in _NO_VERDICT]
    seen = ", ".join(f"'{n}' {runs[n].status}" for n in names if n in runs)
    return failing, [n for n in names if n not in runs], seen


@dataclass
class _Worker:
    """One build tree with its own copy of the solutions, where one mutant at a time lives."""
    tree: Tree
    track: Path
    known: set[str]


def _one_mutant(w: _Worker, m: Milestone, mutant: dict, reliability: int) -> str | None:
    """Runs one mutant; returns a problem, or None when the mutant was killed."""
    path = w.track / m.slug / mutant["file"]
    try:
        path.write_text(mutated_source(m, mutant))
        built = w.tree.build(w.tree.milestone_targets(m, w.known))
        if not built.ok:
            return (f"{m.slug} mutant {mutant['name']} does not compile (a mutant must be a "
                    f"plausible program):\n{compile_errors(built.output)}")
        failing, missing, seen = _kills(w.tree, m, mutant)
        if failing and reliability:
            kills = 1 + sum(bool(_kills(w.tree, m, mutant)[0]) for _ in range(reliability - 1))
            info(f"  {m.label} {mutant['name']}: killed in {kills}/{reliability} runs")
            if kills < reliability:
                return f"{m.slug} mutant {mutant['name']} killed in only {kills}/{reliability} runs"
        if failing:
            info(f"  killed  {m.label} {mutant['name']} by '{failing[0]}'")
            return None
        if missing:
            return f"{m.slug} mutant {mutant['name']}: tests did not run: {missing}"
        info(paint(f"  SURVIVED {m.label} {mutant['name']}", "red"))
        return (f"{m.slug} mutant {mutant['name']} SURVIVED: no test meant to catch it failed "
                f"({seen}). Mistake: {mutant['mistake']}")
    finally:
        # write (not copy2): the restored file must look newer than the mutant's objects
        path.write_bytes((ROOT / "solutions" / m.slug / mutant["file"]).read_bytes())


def _worker(base: Path, i: int, cache: dict, selected: list[Milestone]) -> _Worker | str:
    """Worker i's tree, configured and built (the problem as text if it could not be).
    ccache sees every worker's paths relative to `base` (CCACHE_BASEDIR), so the second
    worker's first build is made of the first one's cached objects."""
    track = base / f"w{i}" / "track"
    mirror(read_tree(ROOT / "solutions"), track)
    env = {**os.environ, "CCACHE_BASEDIR": str(base), "CCACHE_NOHASHDIR": "true"}

    def run(cmd: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace",
                              env=env)

    tree = Tree("solutions", base / f"w{i}" / "build", track_dir=track, cache=dict(cache),
                runner=run)
    cfg = tree.configure()
    if not cfg.ok:
        return f"CMake configure failed:\n{cfg.output[-2000:]}"
    known = tree.targets()
    built = tree.build([t for m in selected for t in tree.milestone_targets(m, known)])
    if not built.ok:
        return f"the solutions do not build:\n{compile_errors(built.output)}"
    return _Worker(tree, track, known)


def mutant_run(selected: list[Milestone], root: Path, only: str | None, report: StepReport,
               reliability: int = 0, cache: dict | None = None) -> None:
    start = time.monotonic()
    jobs = [(m, mutant) for m in selected for mutant in m.mutants()
            if not only or mutant["name"] == only]
    base = root / "selftest-mutants"
    workers: list[_Worker] = []
    # A mutant's rebuild is usually one translation unit: one compiler, one CPU.
    for i in range(min(worker_count(), len(jobs)) or 1):
        w = _worker(base, i, cache or {}, selected)
        if isinstance(w, str):
            report.add("mutants", False, f"worker tree {i} failed", [w])
            return
        workers.append(w)

    def one(w: _Worker, job: tuple[Milestone, dict]) -> str | None:
        try:
            return _one_mutant(w, job[0], job[1], reliability)
        except LabError as exc:
            return str(exc)

    problems = [p for p in in_parallel(workers, jobs, one) if p]
    total = len(jobs)
    report.add("mutants", not problems and total > 0,
               f"{total - len(problems)}/{total} killed, {len(workers)} at a time, "
               f"{time.monotonic() - start:.0f} s", problems)
