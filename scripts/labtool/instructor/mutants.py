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

from ..build import Tree, compile_errors
from ..console import LabError, info, paint
from ..course import ROOT, Milestone, mirror, read_tree
from ..ctest import run_ctest
from ..results import Status
from .report import StepReport

_NO_VERDICT = (Status.PASSED, Status.SKIPPED, Status.INCONCLUSIVE)


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


def _kills(tree: Tree, m: Milestone, mutant: dict) -> tuple[list[str], list[str]]:
    """(failing, missing): the killing tests that failed, and those that did not run."""
    names = [m.ctest_name(k) for k in mutant["killed_by"]]
    runs = run_ctest(tree, names)
    # A skipped or inconclusive run proves nothing: only a real failure kills.
    failing = [n for n in names if n in runs and runs[n].status not in _NO_VERDICT]
    return failing, [n for n in names if n not in runs]


def _one_mutant(tree: Tree, m: Milestone, mutant: dict, targets: list[str], track: Path,
                reliability: int) -> str | None:
    """Runs one mutant; returns a problem, or None when the mutant was killed."""
    path = track / m.slug / mutant["file"]
    try:
        path.write_text(mutated_source(m, mutant))
        built = tree.build(targets)
        if not built.ok:
            return (f"{m.slug} mutant {mutant['name']} does not compile (a mutant must be a "
                    f"plausible program):\n{compile_errors(built.output)}")
        failing, missing = _kills(tree, m, mutant)
        if failing and reliability:
            kills = 1 + sum(bool(_kills(tree, m, mutant)[0]) for _ in range(reliability - 1))
            info(f"  {m.label} {mutant['name']}: killed in {kills}/{reliability} runs")
            if kills < reliability:
                return f"{m.slug} mutant {mutant['name']} killed in only {kills}/{reliability} runs"
        if failing:
            info(f"  killed  {m.label} {mutant['name']} by '{failing[0]}'")
            return None
        if missing:
            return f"{m.slug} mutant {mutant['name']}: tests did not run: {missing}"
        info(paint(f"  SURVIVED {m.label} {mutant['name']}", "red"))
        return (f"{m.slug} mutant {mutant['name']} SURVIVED: every test meant to catch it "
                f"passed ({', '.join(mutant['killed_by'])}). Mistake: {mutant['mistake']}")
    finally:
        # write (not copy2): the restored file must look newer than the mutant's objects
        path.write_bytes((ROOT / "solutions" / m.slug / mutant["file"]).read_bytes())


def mutant_run(selected: list[Milestone], root: Path, only: str | None, report: StepReport,
               reliability: int = 0, cache: dict | None = None) -> None:
    start = time.monotonic()
    track = root / "selftest-mutants-track"
    mirror(read_tree(ROOT / "solutions"), track)
    tree = Tree("solutions", root / "selftest-mutants", track_dir=track, cache=dict(cache or {}))
    cfg = tree.configure()
    if not cfg.ok:
        report.add("mutants", False, "CMake configure failed", [cfg.output[-2000:]])
        return
    known = tree.targets()
    problems, total = [], 0
    for m in selected:
        targets = tree.milestone_targets(m, known)
        for mutant in m.mutants():
            if only and mutant["name"] != only:
                continue
            total += 1
            try:
                problem = _one_mutant(tree, m, mutant, targets, track, reliability)
            except LabError as exc:
                problem = str(exc)
            if problem:
                problems.append(problem)
    report.add("mutants", not problems and total > 0,
               f"{total - len(problems)}/{total} killed, {time.monotonic() - start:.0f} s",
               problems)
