"""A few jobs at once: one thread per worker context (a build tree, a work folder), each taking
the next job when it is done with one. For the self-test's mutants and grading cases and for
`lab orders`, whose steps are mostly one compiler process or a test waiting on a clock, so that
a second one keeps the second CPU busy."""

from __future__ import annotations

import threading
from typing import Callable, Iterable, TypeVar

from .console import current_label, labelled
from .cpus import usable_cpus

C = TypeVar("C")
J = TypeVar("J")
R = TypeVar("R")


def worker_count(cap: int = 2) -> int:
    """One worker per CPU this process may use, at most `cap`."""
    return max(1, min(cap, usable_cpus()))


def in_parallel(contexts: Iterable[C], jobs: list[J], fn: Callable[[C, J], R]) -> list[R]:
    """fn(context, job) for every job, one thread per context; the results in job order. An
    exception in fn ends that worker's thread and is raised here once all threads are done.
    The threads print with the caller's label (console.labelled)."""
    results: list = [None] * len(jobs)
    pending = iter(enumerate(jobs))
    pick = threading.Lock()
    errors: list[BaseException] = []
    label = current_label()

    def work(context: C) -> None:
        with labelled(label):
            try:
                while True:
                    with pick:
                        job = next(pending, None)
                    if job is None:
                        return
                    results[job[0]] = fn(context, job[1])
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in contexts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
