"""The self-test's table of steps: one row per step, its problems listed at the end."""

from __future__ import annotations

import threading

from ..console import info, ok_or_fail


class StepReport:
    """Steps that run side by side add to one report (add() holds a lock); `order` lists step
    names in the order the table shows them, whichever finished first."""

    def __init__(self, order: tuple[str, ...] = ()):
        self._order = order
        self._lock = threading.Lock()
        self._rows: list[list[str]] = []
        self.failures: list[str] = []
        self.ok_steps = 0
        self.failed_steps = 0

    @property
    def rows(self) -> list[list[str]]:
        rank = {name: i for i, name in enumerate(self._order)}
        return sorted(self._rows, key=lambda row: rank.get(row[0], len(rank)))

    def add(self, step: str, ok: bool, detail: str, problems: list[str] = ()) -> None:
        with self._lock:
            self._rows.append([step, ok_or_fail(ok), detail])
            if ok:
                self.ok_steps += 1
            else:
                self.failed_steps += 1
            for p in problems:
                self.failures.append(f"[{step}] {p}")
        info(f"{ok_or_fail(ok):4} {step}: {detail}")
