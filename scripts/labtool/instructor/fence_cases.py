"""The grader's cases for fences that ThreadSanitizer does not model (fences.py): the payload
checkpoint of milestone 2 reports a race on fenced code whatever its orders, so the grader
skips it and the model checks judge. Three submissions, edits of the milestone 2 solution in
scripts/fixtures/grading.json:

  fenced_publication  correct with standalone fences: full marks, the payload checkpoint
                      skipped (its points out of the total) and every model check passing;
  useless_fence       a fence that publishes nothing beside a missing order: the payload
                      checkpoint skipped, but the model checks still fail and cost their points;
  fence_in_comment    the same missing order with a fence only in a comment: the compiler sees
                      no fence, so the payload checkpoint fails as before.

grading_cases.cases() adds them to `scripts/lab grade-selftest`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

from ..course import ROOT, Milestone
from .mutants import mutated_source

FIXTURES = ROOT / "scripts" / "fixtures" / "grading.json"
M2 = "02-relaxed-metrics"


def _submission(fixture: str) -> Callable[[Path, list[Milestone]], None]:
    """Every solution in place of the starter's, and milestone 2's file with the fixture's
    edits."""
    def make(dst: Path, milestones: list[Milestone]) -> None:
        shutil.copytree(ROOT / "starter", dst / "starter",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for src in sorted((ROOT / "solutions").glob("[0-9][0-9]-*/*")):
            if src.is_file():
                (dst / "starter" / src.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst / "starter" / src.parent.name / src.name)
        fx = {f["name"]: f for f in json.loads(FIXTURES.read_text())["fixtures"]}[fixture]
        m = next(m for m in milestones if m.slug == fx["milestone"])
        (dst / "starter" / m.slug / fx["file"]).write_text(mutated_source(m, fx))
    return make


def _results(folder: Path) -> dict:
    try:
        return json.loads((folder / "out" / "results.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _skipped_as_blind(m: Milestone, payload: str) -> Callable[[Path], list[str]]:
    """The payload checkpoint is reported skipped, saying why and which model checks judge,
    and its points are out of the milestone's possible points."""
    def verify(folder: Path) -> list[str]:
        data = _results(folder)
        problems = []
        test = next((t for t in data.get("tests", [])
                     if t["name"].split(" [")[0] == f"{m.label}/{payload}"), None)
        if test is None or "skipped" not in test.get("tags", []) or \
                "does not model std::atomic_thread_fence" not in test.get("output", ""):
            problems.append(f"{payload}: expected skipped with the fence message, got "
                            f"{(test or {}).get('tags')}: {(test or {}).get('output', '')[:300]}")
        elif any(f'"{name}"' not in test["output"] for name in
                 next(t.fence_models for t in m.tests if t.name == payload)):
            problems.append(f"{payload}: the skip does not name every model check that judges")
        row = next((d for d in data.get("extra_data", {}).get("milestones", [])
                    if d["number"] == m.number), {})
        lost = next(t.points for t in m.tests if t.name == payload)
        if row.get("max_score") != m.max_points - lost:
            problems.append(f"milestone {m.number}: max_score {row.get('max_score')}, expected "
                            f"{m.max_points - lost} (the skipped checkpoint left out)")
        return problems
    return verify


def cases(milestones: list[Milestone], case_type) -> list:
    m = next((m for m in milestones if m.slug == M2), None)
    payload = next((t for t in m.tests if t.fence_models), None) if m else None
    if m is None or payload is None:
        return []
    models = {t.name for t in m.tests if t.model}
    lost = payload.points
    model_points = sum(t.points for t in m.tests if t.model)

    def score(n: int) -> Callable[[list[Milestone]], dict[int, int]]:
        return lambda ms: {m.number: n}

    Case = case_type
    return [
        Case("fences: correct fenced publication gets full marks, payload checkpoint skipped",
             _submission("fenced_publication"), score(m.max_points - lost), only=[m.number],
             failing={m.number: set()}, verify=_skipped_as_blind(m, payload.name)),
        Case("fences: a useless fence keeps a missing order: the model checks still fail",
             _submission("useless_fence"), score(m.max_points - lost - model_points),
             only=[m.number], failing={m.number: models},
             verify=_skipped_as_blind(m, payload.name)),
        Case("fences: a fence only in a comment does not count: the payload checkpoint fails",
             _submission("fence_in_comment"), score(m.max_points - lost - model_points),
             only=[m.number], failing={m.number: models | {payload.name}}),
    ]
