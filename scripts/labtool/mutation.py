"""Mutation runs: one edited file at a time in a private copy of the course's build sources,
rebuilt and judged by a milestone's checkpoints. The one build-and-run loop of the self-test's
mutants (instructor/mutants.py) and of `lab orders` (orders.py).

A worker (MutationTree) is a copy of the sources laid out as the repository is, with its own
build tree; ccache sees paths relative to the copy, so two workers (and the self-test's trees
of the same name) share compiled objects. The tree has one executable per test source
(LAB_EXECUTABLE_PER_SOURCE): an edit rebuilds only the sources that include the edited file.
Workers run side by side (pool.py's in_parallel, one per CPU); one worker at a time runs tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .build import Tree, compile_errors
from .console import LabError
from .course import ROOT, Milestone, ctest_listing, mirror, read_tree
from .ctest import run_ctest
from .results import Status, until_conclusive

# A skipped or inconclusive run proves nothing: only a real failure catches an edit.
NO_VERDICT = (Status.PASSED, Status.SKIPPED, Status.INCONCLUSIVE)
_TESTS_RUNNING = threading.Lock()

# What a copy holds besides the track: the build's own sources.
BUILD_SOURCES = ("CMakeLists.txt", "CMakePresets.json", "checkpoints", "lessons")


def apply_edits(source: str, edits: list[dict], what: str, where: str) -> str:
    """source with every {"old", "new"} edit applied; each "old" must occur exactly once."""
    for edit in edits:
        count = source.count(edit["old"])
        if count != 1:
            raise LabError(f"{what}: text to replace found {count} times in {where} (must be "
                           f"exactly once):\n{edit['old']}")
        source = source.replace(edit["old"], edit["new"])
    return source


@dataclass
class Trial:
    """What one edit did: whether it built (the compiler's errors if not), and for each test
    that ran its last status; `failing` are the tests that caught it."""
    built: bool
    errors: str = ""
    failing: list[str] = field(default_factory=list)   # CTest names
    missing: list[str] = field(default_factory=list)   # asked for, but did not run
    seen: str = ""                       # "'name' status, ..." of every test asked for
    build_seconds: float = 0.0
    test_seconds: float = 0.0
    caught_again: int = 0                # of the re-runs asked for, how many caught it too


@dataclass
class MutationTree:
    """One worker: a build tree over its own copy of the sources, where one edit at a time
    lives."""
    tree: Tree
    source: Path                 # the worker's copy of the repository's build sources
    known: set[str]
    runner_of: dict[str, str]    # CTest test name -> the executable target that runs it

    def targets_for(self, m: Milestone, tests: list[str]) -> list[str]:
        """The executables of these tests (manifest names); the milestone's, and its model
        executable, when one of them is not known (the test then fails to run, and says so)."""
        runners = {self.runner_of.get(m.ctest_name(t)) for t in tests}
        if None in runners or not runners <= self.known:
            model = f"{m.label}_model_checks"
            return self.tree.milestone_targets(m, self.known) + \
                ([model] if model in self.known else [])
        return sorted(runners)

    def run_tests(self, m: Milestone, tests: list[str]) -> tuple[list[str], list[str], str]:
        """(failing, missing, seen) of these tests (manifest names) as the tree stands. An
        inconclusive test (it could not establish the overlap it needs) runs again, as `check`
        runs it again. One worker runs tests at a time (the other may be compiling):
        concurrency tests must pass beside a busy CPU anyway, but not beside each other."""
        names = [m.ctest_name(t) for t in tests]

        def locked(pending: list[str]) -> dict:
            with _TESTS_RUNNING:
                return run_ctest(self.tree, pending)

        runs, _ = until_conclusive(locked, names, lambda run: run.status)
        failing = [n for n in names if n in runs and runs[n].status not in NO_VERDICT]
        seen = ", ".join(f"'{n}' {runs[n].status}" for n in names if n in runs)
        return failing, [n for n in names if n not in runs], seen

    def trial(self, m: Milestone, rel: str, text: str, tests: list[str],
              reruns: int = 0) -> Trial:
        """Puts `text` in the copy's file `rel` (relative to the copy), rebuilds what runs
        `tests`, runs them (when they catch the edit, `reruns` more times, counted in
        caught_again), and puts the file back."""
        path = self.source / rel
        original = path.read_bytes()
        try:
            path.write_text(text)
            start = time.monotonic()
            built = self.tree.build(self.targets_for(m, tests))
            build_s = time.monotonic() - start
            if not built.ok:
                return Trial(False, compile_errors(built.output), build_seconds=build_s)
            failing, missing, seen = self.run_tests(m, tests)
            took = time.monotonic() - start - build_s
            again = sum(bool(self.run_tests(m, tests)[0]) for _ in range(reruns if failing else 0))
            return Trial(True, "", failing, missing, seen, build_s, took, again)
        finally:
            # write (not copy2): the restored file must look newer than the edit's objects
            path.write_bytes(original)


def course_sources(track: Path, track_name: str) -> dict[str, bytes]:
    """The files a build of `track` reads, as a copy lays them out: the build's sources and
    the track's folders under `track_name`/."""
    files = {}
    for name in BUILD_SOURCES:
        if (ROOT / name).is_dir():
            files.update({f"{name}/{rel}": data for rel, data in read_tree(ROOT / name).items()})
        elif (ROOT / name).is_file():
            files[name] = (ROOT / name).read_bytes()
    files.update({f"{track_name}/{rel}": data for rel, data in read_tree(track).items()})
    return files


def make_tree(source: Path, files: dict[str, bytes], preset: str, build_name: str,
              cache: dict, selected: list[Milestone]) -> MutationTree | str:
    """A worker over a copy of `files` at `source`, configured with `preset` in
    source/build/`build_name` and built (the selected milestones' tests and models): the
    worker, or the problem as text. ccache sees paths relative to the copy: its first build is
    made of cached objects of trees laid out alike."""
    mirror(files, source, keep=("build",))
    tree = Tree(preset, source / "build" / build_name, source_dir=source,
                cache={**cache, "LAB_EXECUTABLE_PER_SOURCE": "ON"}, share_ccache=True)
    cfg = tree.configure()
    if not cfg.ok:
        return f"CMake configure failed:\n{cfg.output[-2000:]}"
    known = tree.targets()
    # The model executables too: CTest lists a test's command only once its executable exists.
    models = [f"{m.label}_model_checks" for m in selected if f"{m.label}_model_checks" in known]
    built = tree.build([t for m in selected for t in tree.milestone_targets(m, known)] + models)
    if not built.ok:
        return f"the code does not build:\n{compile_errors(built.output)}"
    runner_of = {name: Path(e.command[0]).name
                 for name, e in ctest_listing(tree.build_dir).items() if e.command}
    return MutationTree(tree, source, known, runner_of)
