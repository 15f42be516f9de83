"""Mutants: a classic mistake as text edits on a solution file, kept in
checkpoints/NN-name/mutants.json, that the checkpoints named in "killed_by" must catch.

    {"name": ..., "mistake": ..., "file": "atomic_counter.hpp",
     "replace": [{"old": "exact text, found once", "new": "its replacement"}],
     "killed_by": ["test name", ...]}

The same format describes the grader's adversarial submissions (scripts/fixtures/grading.json),
applied by the same code.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..build import Tree, compile_errors
from ..console import LabError, info, paint
from ..course import ROOT, Milestone, ctest_listing, mirror, read_tree
from ..ctest import run_ctest
from ..results import Status, until_conclusive
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

    def locked(pending: list[str]) -> dict:
        with _TESTS_RUNNING:
            return run_ctest(tree, pending)

    runs, _ = until_conclusive(locked, names, lambda run: run.status)
    # A skipped or inconclusive run proves nothing: only a real failure kills.
    failing = [n for n in names if n in runs and runs[n].status not in _NO_VERDICT]
    seen = ", ".join(f"'{n}' {runs[n].status}" for n in names if n in runs)
    return failing, [n for n in names if n not in runs], seen


@dataclass
class _Worker:
    """One build tree with its own copy of the solutions, where one mutant at a time lives.
    The tree has one executable per test source (LAB_EXECUTABLE_PER_SOURCE), so a mutant
    rebuilds only the sources of the tests that must kill it, not every source of the
    milestone that includes the mutated header."""
    tree: Tree
    source: Path                 # the worker's copy of the repository's build sources
    known: set[str]
    runner_of: dict[str, str]    # CTest test name -> the executable target that runs it

    def targets_for(self, m: Milestone, mutant: dict) -> list[str]:
        """The executables of the mutant's killing tests; the milestone's when one of them
        is not known (the test then fails to run, and says so)."""
        runners = {self.runner_of.get(m.ctest_name(k)) for k in mutant["killed_by"]}
        if None in runners or not runners <= self.known:
            return self.tree.milestone_targets(m, self.known)
        return sorted(runners)


def _one_mutant(w: _Worker, m: Milestone, mutant: dict, reliability: int) -> str | None:
    """Runs one mutant; returns a problem, or None when the mutant was killed."""
    rel = Path(mutant.get("base", "solutions")) / m.slug / mutant["file"]
    path = w.source / rel
    try:
        path.write_text(mutated_source(m, mutant))
        start = time.monotonic()
        built = w.tree.build(w.targets_for(m, mutant))
        if not built.ok:
            return (f"{m.slug} mutant {mutant['name']} does not compile (a mutant must be a "
                    f"plausible program):\n{compile_errors(built.output)}")
        build_s = time.monotonic() - start
        failing, missing, seen = _kills(w.tree, m, mutant)
        # A model checkpoint is deterministic: each one the mutant names must catch it.
        models = [m.ctest_name(t.name) for t in m.tests
                  if t.model and t.name in mutant["killed_by"]]
        escaped = [n for n in models if n not in failing]
        if failing and escaped:
            return (f"{m.slug} mutant {mutant['name']}: its model checkpoint did not catch it "
                    f"({seen}). Mistake: {mutant['mistake']}")
        took = f"build {build_s:.1f} s, tests {time.monotonic() - start - build_s:.1f} s"
        if failing and reliability:
            kills = 1 + sum(bool(_kills(w.tree, m, mutant)[0]) for _ in range(reliability - 1))
            info(f"  {m.label} {mutant['name']}: killed in {kills}/{reliability} runs")
            if kills < reliability:
                return f"{m.slug} mutant {mutant['name']} killed in only {kills}/{reliability} runs"
        if failing:
            info(f"  killed  {m.label} {mutant['name']} by '{failing[0]}' ({took})")
            return None
        if missing:
            return f"{m.slug} mutant {mutant['name']}: tests did not run: {missing}"
        info(paint(f"  SURVIVED {m.label} {mutant['name']}", "red"))
        return (f"{m.slug} mutant {mutant['name']} SURVIVED: no test meant to catch it failed "
                f"({seen}). Mistake: {mutant['mistake']}")
    finally:
        # write (not copy2): the restored file must look newer than the mutant's objects
        path.write_bytes((ROOT / rel).read_bytes())


# What a worker copies to build the solutions on its own: the build's sources and the track.
_SOURCES = ("CMakeLists.txt", "CMakePresets.json", "checkpoints", "lessons", "solutions")


def _copy_sources(dst: Path) -> None:
    """dst holds what a solutions build reads, as the repository lays it out; its build/ stays."""
    files = {}
    for name in _SOURCES:
        if (ROOT / name).is_dir():
            files.update({f"{name}/{rel}": data for rel, data in read_tree(ROOT / name).items()})
        else:
            files[name] = (ROOT / name).read_bytes()
    mirror(files, dst, keep=("build",))


def _worker(base: Path, i: int, cache: dict, selected: list[Milestone]) -> _Worker | str:
    """Worker i's tree, configured and built (the problem as text if it could not be). The
    worker has a copy of the sources laid out as the repository is, its tree in
    build/selftest-solutions as the solutions step's is, and ccache sees paths relative to the
    copy: its first build is made of the solutions step's cached objects (or, for the second
    worker, the first one's)."""
    source = base / f"w{i}"
    _copy_sources(source)
    tree = Tree("solutions", source / "build" / "selftest-solutions", source_dir=source,
                cache={**cache, "LAB_EXECUTABLE_PER_SOURCE": "ON"}, share_ccache=True)
    cfg = tree.configure()
    if not cfg.ok:
        return f"CMake configure failed:\n{cfg.output[-2000:]}"
    known = tree.targets()
    # The model executables too: CTest lists a test's command only once its executable exists.
    models = [f"{m.label}_model_checks" for m in selected if f"{m.label}_model_checks" in known]
    built = tree.build([t for m in selected for t in tree.milestone_targets(m, known)] + models)
    if not built.ok:
        return f"the solutions do not build:\n{compile_errors(built.output)}"
    runner_of = {name: Path(e.command[0]).name
                 for name, e in ctest_listing(tree.build_dir).items() if e.command}
    return _Worker(tree, source, known, runner_of)


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
