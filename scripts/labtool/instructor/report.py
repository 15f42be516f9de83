"""The self-test's table of steps: one row per step, its problems listed at the end."""

from __future__ import annotations

from ..console import info, ok_or_fail


class StepReport:
    def __init__(self):
        self.rows: list[list[str]] = []
        self.failures: list[str] = []
        self.ok_steps = 0
        self.failed_steps = 0

    def add(self, step: str, ok: bool, detail: str, problems: list[str] = ()) -> None:
        self.rows.append([step, ok_or_fail(ok), detail])
        if ok:
            self.ok_steps += 1
        else:
            self.failed_steps += 1
        for p in problems:
            self.failures.append(f"[{step}] {p}")
        info(f"{ok_or_fail(ok):4} {step}: {detail}")
