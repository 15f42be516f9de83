"""Mutants: a classic mistake as text edits on a solution file, kept in
checkpoints/NN-name/mutants.json, that the checkpoints named in "killed_by" must catch.

    {"name": ..., "mistake": ..., "file": "atomic_counter.hpp",
     "replace": [{"old": "exact text, found once", "new": "its replacement"}],
     "killed_by": ["test name", ...]}

The same format describes the grader's adversarial submissions (scripts/fixtures/grading.json),
applied by the same code.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..console import LabError, info, paint
from ..course import ROOT, Milestone
from ..mutation import MutationTree, apply_edits, course_sources, make_tree
from ..pool import in_parallel, worker_count
from .report import StepReport

__all__ = ["apply_edits", "mutated_source", "mutant_run"]


def mutated_source(m: Milestone, mutant: dict) -> str:
    """The mutant's file: the solution's (or, with "base": "checkpoints", the checkpoint
    source's) text with the mutant's edits."""
    rel = f"{mutant.get('base', 'solutions')}/{m.slug}/{mutant['file']}"
    return apply_edits((ROOT / rel).read_text(), mutant["replace"],
                       f"mutant {mutant['name']}", rel)


def _one_mutant(w: MutationTree, m: Milestone, mutant: dict, reliability: int) -> str | None:
    """Runs one mutant; returns a problem, or None when the mutant was killed. Only the
    executables of the tests that must kill it are rebuilt."""
    rel = f"{mutant.get('base', 'solutions')}/{m.slug}/{mutant['file']}"
    trial = w.trial(m, rel, mutated_source(m, mutant), mutant["killed_by"],
                    reruns=max(0, reliability - 1))
    if not trial.built:
        return (f"{m.slug} mutant {mutant['name']} does not compile (a mutant must be a "
                f"plausible program):\n{trial.errors}")
    failing, missing, seen = trial.failing, trial.missing, trial.seen
    # A model checkpoint is deterministic: each one the mutant names must catch it.
    models = [m.ctest_name(t.name) for t in m.tests
              if t.model and t.name in mutant["killed_by"]]
    escaped = [n for n in models if n not in failing]
    if failing and escaped:
        return (f"{m.slug} mutant {mutant['name']}: its model checkpoint did not catch it "
                f"({seen}). Mistake: {mutant['mistake']}")
    took = f"build {trial.build_seconds:.1f} s, tests {trial.test_seconds:.1f} s"
    if failing and reliability:
        kills = 1 + trial.caught_again
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


def solution_workers(root: Path, count: int, cache: dict,
                     selected: list[Milestone]) -> list[MutationTree] | str:
    """`count` workers over copies of the solutions in root/selftest-mutants/wI, each tree in
    build/selftest-solutions as the solutions step's is (so its first build is made of that
    step's cached objects, or the first worker's); the problem as text if one failed."""
    files = course_sources(ROOT / "solutions", "solutions")
    workers = []
    for i in range(count):
        w = make_tree(root / "selftest-mutants" / f"w{i}", files, "solutions",
                      "selftest-solutions", cache, selected)
        if isinstance(w, str):
            return f"worker tree {i} failed: {w}"
        workers.append(w)
    return workers


def mutant_run(selected: list[Milestone], root: Path, only: str | None, report: StepReport,
               reliability: int = 0, cache: dict | None = None) -> None:
    start = time.monotonic()
    jobs = [(m, mutant) for m in selected for mutant in m.mutants()
            if not only or mutant["name"] == only]
    # A mutant's rebuild is usually one translation unit: one compiler, one CPU.
    workers = solution_workers(root, min(worker_count(), len(jobs)) or 1, cache or {},
                               selected)
    if isinstance(workers, str):
        report.add("mutants", False, "a worker tree failed", [workers])
        return

    def one(w: MutationTree, job: tuple[Milestone, dict]) -> str | None:
        try:
            return _one_mutant(w, job[0], job[1], reliability)
        except LabError as exc:
            return str(exc)

    problems = [p for p in in_parallel(workers, jobs, one) if p]
    total = len(jobs)
    report.add("mutants", not problems and total > 0,
               f"{total - len(problems)}/{total} killed, {len(workers)} at a time, "
               f"{time.monotonic() - start:.0f} s", problems)
