"""Which hints a student unlocked: written by `scripts/lab hint`, read by `grade` for the
instructor.

`hint` keeps its own state in .lab/state.json (ignored by git). So that an instructor can see
how much help a submission took, it also writes `hints-unlocked.json` at the repository's root,
a file the student commits with the code:

    {"format": 1, "hints": {"02-relaxed-metrics": 3}, "stretch_hints": {"04-cas-min-max/rate_limiter.hpp": 1}}

`grade` reads that file from the submission (read_log()) and reports it in summary.md and in
results.json's extra_data ("hints"). The record is INFORMATIONAL: the student's own tool writes
it and the student can edit or delete it, so the grader never trusts it for the score. A
manifest may set "hint_penalty" (points per unlocked rung of the main ladder); the grader then
shows a *suggested* deduction next to the record, never applies it: an instructor who charges
for hints needs a record the student cannot write (a hint server), not this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .course import Milestone

LOG_NAME = "hints-unlocked.json"
MAX_LOG_BYTES = 64 * 1024
FORMAT = 1


def log_entries(state: dict) -> dict:
    """The part of .lab/state.json that the log records."""
    return {"format": FORMAT,
            "hints": {k: int(v) for k, v in sorted(state.get("hints", {}).items())},
            "stretch_hints": {k: int(v) for k, v in sorted(state.get("stretch_hints", {}).items())}}


def write_log(root: Path, state: dict) -> None:
    path = root / LOG_NAME
    tmp = root / (LOG_NAME + ".tmp")
    tmp.write_text(json.dumps(log_entries(state), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


@dataclass
class HintUsage:
    """What a submission's log says, checked against the course's ladders."""

    found: bool
    problem: str = ""                                       # why the log was not usable
    rows: list[tuple[str, int, int]] = field(default_factory=list)   # (ladder, unlocked, of)
    suggested_deduction: float = 0.0

    def as_json(self) -> dict:
        return {"recorded": self.found and not self.problem, "problem": self.problem or None,
                "trusted": False,
                "note": "written by the student's own `scripts/lab hint`; informational, "
                        "never part of the score",
                "ladders": [{"ladder": name, "unlocked": n, "of": of} for name, n, of in self.rows],
                "suggested_deduction": self.suggested_deduction}


def parse_log(data: bytes, milestones: list[Milestone]) -> HintUsage:
    """Validates a log's bytes; anything unexpected makes the whole record unusable (and says
    why) rather than half-read."""
    try:
        log = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return HintUsage(True, f"{LOG_NAME} is not valid JSON ({exc.__class__.__name__})")
    if not isinstance(log, dict) or log.get("format") != FORMAT:
        return HintUsage(True, f"{LOG_NAME} is not a format-{FORMAT} hint log")
    ladders: dict[str, tuple[int, float]] = {}
    for m in milestones:
        penalty = float(m.hint_penalty)
        ladders[m.slug] = (len(m.hints), penalty)
        for name, rungs in m.stretch_hints.items():
            ladders[f"{m.slug}/{name}"] = (len(rungs), 0.0)
    usage = HintUsage(True)
    for key in ("hints", "stretch_hints"):
        book = log.get(key, {})
        if not isinstance(book, dict):
            return HintUsage(True, f"{LOG_NAME}: '{key}' is not an object")
        for name, n in sorted(book.items()):
            if name not in ladders or ("/" in name) != (key == "stretch_hints"):
                return HintUsage(True, f"{LOG_NAME}: no hint ladder '{str(name)[:60]}'")
            of, penalty = ladders[name]
            if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= of:
                return HintUsage(True, f"{LOG_NAME}: '{name}' must be a whole number "
                                       f"from 0 to {of}")
            usage.rows.append((name, n, of))
            usage.suggested_deduction += n * penalty
    return usage


def read_log(repo: Path | None, milestones: list[Milestone], read) -> HintUsage:
    """The submission's log. `read(path, limit)` reads a file inside the submission without
    following links (archive.read_inside); `repo` is the repository root, or None when the
    submission is not a repository (no log expected)."""
    if repo is None or not (repo / LOG_NAME).is_file() or (repo / LOG_NAME).is_symlink():
        return HintUsage(False)
    try:
        data = read(repo / LOG_NAME, MAX_LOG_BYTES)
    except OSError as exc:
        return HintUsage(True, f"{LOG_NAME} could not be read ({exc})")
    return parse_log(data, milestones)
