"""The student's commands: check, status, list, reset, watch (hint: hints.py)."""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import feedback
from .build import Tree
from .console import LabError, info, paint, table
from .course import ROOT, Milestone, load_milestones, select_milestones
from .ctest import CTestRunner
from .flow import Outcome, run_flow
from .grade.rules import forbidden_violations, linked_files, tamper_findings
from .packages import STUDENT_PACKAGES, ensure_packages
from .release import shipped_starter
from .results import Status, TestResult, milestone_status, score
from .state import STATE_DIR, load_state, save_state

# --- check -------------------------------------------------------------------------------------

def add_check_arguments(p):
    p.add_argument("milestone", nargs="?", help="milestone number (e.g. 3); all when omitted")
    p.add_argument("--track", default=None,
                   help="check another tree of NN-name/ folders instead of starter/")


def _progress_rows(outcome: dict[int, list[TestResult]],
                   milestones: list[Milestone]) -> list[list[str]]:
    rows = []
    for m in milestones:
        results = outcome.get(m.number)
        if results is None:
            rows.append([f"{m.number:02d}", m.title, "-", "-", paint("not checked", "dim")])
            continue
        s = score(results)
        status = milestone_status(s, results)
        colour = "green" if status.startswith("done") else \
            "yellow" if s.passed and "failing" in status else "red"
        if status.startswith("done") and (s.skipped or s.inconclusive):
            colour = "yellow"
        stretch = f" +{s.stretch_earned}/{s.stretch_possible} stretch" if s.stretch_possible else ""
        rows.append([f"{m.number:02d}", m.title, f"{s.passed}/{s.tests}",
                     f"{s.earned}/{s.possible}{stretch}", paint(status, colour)])
    return rows


def _remember(outcome: Outcome) -> None:
    state = load_state()
    last = state.setdefault("last_check", {})
    for results in outcome.results.values():
        if results:
            last[results[0].milestone.slug] = {
                "tests": {r.test.name: str(r.status) for r in results},
                "when": datetime.datetime.now().isoformat(timespec="seconds")}
    save_state(state)


_SHOWN_AS_IS = (Status.NOT_BUILT, Status.BLOCKED, Status.NOT_RUN)


def _feedback_paths(tree: Tree) -> feedback.Paths:
    """How check shows paths: the student's files as starter/... (or as the --track folder)."""
    track = Path(tree.track_dir or ROOT / "starter")
    try:
        label = track.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        label = str(track)
    return feedback.Paths(ROOT, track, label, feedback.source_reader(ROOT, track, label))


def _limit(r: TestResult) -> float:
    return r.test.timeout or r.milestone.timeout


def _status_word(r: TestResult) -> str:
    """The status as the list shows it; CTest reports a sanitizer's exit as a plain failure."""
    if r.status is Status.FAILED and feedback.has_sanitizer_report(r.output):
        return str(Status.SANITIZER)
    return str(r.status)


def _detail(r: TestResult, paths: feedback.Paths) -> str:
    if r.status in _SHOWN_AS_IS:
        return feedback.tidy(r.output, paths)
    return feedback.failure_detail(r.output, paths, timed_out=r.status is Status.TIMEOUT,
                                   limit=_limit(r), on_timeout=r.test.on_timeout)


_NOT_RUN = (Status.SKIPPED, Status.INCONCLUSIVE)
_WHOLE_MILESTONE = (Status.NOT_BUILT, Status.BLOCKED)


def _failure_rows(results: list[TestResult], paths: feedback.Paths) -> list[tuple[str, str, str]]:
    """(name, status, reason) of failed tests: the reason is the mistake the test exists to
    catch, then the evidence in one line."""
    rows = []
    for r in results:
        evidence = feedback.one_line(r.output, paths, r.status is Status.TIMEOUT, _limit(r))
        mistake = feedback.likely_mistake(r.test.catches)
        reason = (f"likely mistake: {mistake}\n" if mistake else "") + evidence
        rows.append((r.name, _status_word(r), reason))
    return rows


def _print_in_full(r: TestResult, paths: feedback.Paths, label: str) -> None:
    """One failed test in full: first the property and the likely mistake, then the evidence."""
    if r.status not in _WHOLE_MILESTONE:
        print()
        print(paint(f"{label}: {r.name}", "bold") + f"  ({_status_word(r)})")
        print("  " + feedback.headline(r.test.name, r.test.catches))
    for line in _detail(r, paths).splitlines():
        print("  " + line)


def failing_stretch(outcome: Outcome) -> list[TestResult]:
    """The stretch tests that ran and did not pass (skipped ones cost nothing, as in scoring)."""
    return [r for results in outcome.results.values() for r in results
            if r.test.stretch and not r.passed and r.status is not Status.SKIPPED]


def _report_stretch(bad: list[TestResult], paths: feedback.Paths, in_full: bool) -> None:
    """Failing stretch tests, apart from the main ones: listed with reason and evidence, the
    first in full when nothing else was."""
    print()
    print(paint("Stretch (optional; counted apart, never lowers the score): ", "bold")
          + feedback.failing_tests(_failure_rows(bad, paths), len(bad)).replace(
              " tests not passing:", " stretch tests not passing:", 1))
    if in_full:
        _print_in_full(bad[0], paths, "First stretch failure, in full")
    number = bad[0].milestone.number
    print(f"\nStretch hints: scripts/lab hint {number} --stretch")


def _report_failures(outcome: Outcome, paths: feedback.Paths) -> None:
    """The first milestone with a failing or not-run test: its failures (each with the mistake
    it catches), then the tests that did not run (skipped, inconclusive) apart with their
    reason, then the first failure in full; failing stretch tests are listed apart."""
    listed = {}
    for results in outcome.results.values():
        main = [r for r in results if not r.passed and not r.test.stretch]
        bad = [r for r in main if r.status not in _NOT_RUN]
        not_run = [r for r in main if r.status in _NOT_RUN]
        if bad or not_run:      # a skip says why (needs 2 CPUs; a fence TSan cannot see)
            listed[results[0].milestone.number] = (bad, not_run, score(results).tests)
    stretch = failing_stretch(outcome)
    if not listed:
        if stretch:
            _report_stretch(stretch, paths, in_full=True)
        return
    number = next(iter(listed))
    bad, not_run, total = listed[number]
    m = (bad or not_run)[0].milestone
    print()
    if bad and bad[0].status in _WHOLE_MILESTONE:
        print(paint(f"Milestone {m.number}:", "bold"))
    elif bad:
        print(paint(f"Milestone {m.number}: ", "bold")
              + feedback.failing_tests(_failure_rows(bad, paths), total))
    if not_run and not (bad and bad[0].status in _WHOLE_MILESTONE):
        rows = [(r.name, str(r.status), feedback.not_run_reason(r.output, str(r.status)))
                for r in not_run]
        print((paint(f"Milestone {m.number}: ", "bold") if not bad else "")
              + feedback.not_run_tests(rows))
    if bad:
        # A model's counterexample says why an order is wrong; show it before a test's report.
        first = next((r for r in bad if feedback.has_model_report(r.output)), bad[0])
        _print_in_full(first, paths, f"{'First' if first is bad[0] else 'A'} failure, in full")
    stretch = [r for r in stretch if r.status not in _WHOLE_MILESTONE]
    if stretch:
        _report_stretch(stretch, paths, in_full=False)
    others = [str(n) for n in listed if n != number]
    if others:
        print(paint(f"\nAlso not passing: milestone {', '.join(others)} "
                    f"(scripts/lab check {others[0]})", "dim"))
    print()
    print(f"Stuck?   scripts/lab hint {m.number}")
    print(f"Lesson:  lessons/{m.slug}/README.md")
    print(f"Re-run:  scripts/lab check {m.number}")


def student_tree(track: str | None) -> Tree:
    if track is None:
        return Tree("student", ROOT / "build" / "student")
    path = Path(track).resolve()
    if not path.is_dir():
        raise LabError(f"--track {track}: no such directory")
    return Tree("student", ROOT / "build" / "student-other", track_dir=path)


def grading_rule_findings(track: Path, milestones: list[Milestone]) -> list[str]:
    """What the grader would zero: the manifests' forbidden constructs and the tamper rules."""
    findings = []
    for m in milestones:
        findings += forbidden_violations(m, track)
        for name in linked_files(m):
            path = track / m.slug / name
            if path.is_file():
                findings += tamper_findings(f"{m.slug}/{name}", path.read_text(errors="replace"))
    return findings


def run_check(args) -> int:
    ensure_packages(STUDENT_PACKAGES)
    all_ms = load_milestones()
    selected = select_milestones(all_ms, args.milestone)
    tree = student_tree(args.track)
    findings = grading_rule_findings(tree.track_dir or ROOT / "starter", selected)
    if findings:
        print(paint("The grader would give 0 points to the milestone of each line below:", "red"))
        for f in findings:
            print("  " + f)
        print()
    info(f"configuring ({tree.build_dir.relative_to(ROOT)})")
    cfg = tree.configure()
    if not cfg.ok:
        raise LabError("CMake could not configure the build:\n" + cfg.output[-3000:])
    which = f"milestone {selected[0].number}" if len(selected) == 1 else "all milestones"
    info(f"building and running the checkpoints of {which} under ThreadSanitizer")
    start = time.monotonic()
    outcome = run_flow(tree, selected, all_ms, CTestRunner())
    print()
    print(table(["#", "Milestone", "Tests", "Points", "Status"],
                _progress_rows(outcome.results, selected)))
    print(paint(f"({time.monotonic() - start:.1f} s)", "dim"))
    _remember(outcome)
    ok = score(outcome.all_results()).complete
    if ok and findings:
        print(paint("\nThe checkpoints pass, but the code breaks a grading rule (see the top).",
                    "red"))
        return 1
    if ok and not failing_stretch(outcome):
        print(paint("\nAll selected checkpoints pass.", "green"))
        _report_failures(outcome, _feedback_paths(tree))    # only the skipped ones, if any
        return 0
    if ok:
        print(paint("\nEvery main checkpoint passes; some stretch checkpoints do not:", "green"))
        _report_failures(outcome, _feedback_paths(tree))
        return 0
    _report_failures(outcome, _feedback_paths(tree))
    return 1


# --- status, list -------------------------------------------------------------------------------

def _stored_status(word: str) -> Status:
    try:
        return Status(word)
    except ValueError:
        return Status.NOT_RUN


def run_status(_args) -> int:
    all_ms = load_milestones()
    last = load_state().get("last_check", {})
    stored = {}
    for m in all_ms:
        if m.slug in last:
            statuses = last[m.slug]["tests"]
            stored[m.number] = [TestResult(m, t, _stored_status(statuses.get(t.name, "not run")))
                                for t in m.tests]
    print(table(["#", "Milestone", "Tests", "Points", "Status"], _progress_rows(stored, all_ms)))
    if not last:
        print("\nNo check has run yet: scripts/lab check")
    return 0


def list_rows(milestones: list[Milestone]) -> list[list[str]]:
    """One row per milestone (its main files and points), then one per stretch exercise."""
    rows = []
    for m in milestones:
        main = [f for f in m.files if f not in m.stretch_files]
        rows.append([f"{m.number:02d}", m.title, ", ".join(f"starter/{m.slug}/{f}" for f in main),
                     f"lessons/{m.slug}/README.md", str(m.max_points)])
        # The manifest gives stretch points per milestone, not per exercise.
        shared = f" (its {len(m.stretch_files)} stretch exercises)" if len(m.stretch_files) > 1 else ""
        for name in m.stretch_files:
            rows.append([f"{m.number:02d}", f"stretch: {name}", f"starter/{m.slug}/{name}",
                         m.stretch_lesson(name), f"+{m.stretch_points} stretch points{shared}"])
    return rows


def run_list(_args) -> int:
    print(table(["#", "Milestone", "You edit", "Lesson", "Points"], list_rows(load_milestones())))
    print(paint("\nStretch exercises are optional: their points are counted apart and never "
                "lower the main score (hints: scripts/lab hint N --stretch).", "dim"))
    return 0


# --- reset -----------------------------------------------------------------------------------------

def add_reset_arguments(p):
    p.add_argument("milestone", help="milestone number whose starter files to restore")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _confirmed(question: str) -> bool:
    """The student's yes to a question: typed at a terminal, or one line piped in (`echo y |
    scripts/lab reset 1`); no answer at all is a clear error that names --yes."""
    if sys.stdin.isatty():
        return input(question + " [y/N] ").strip().lower() in ("y", "yes")
    answer = sys.stdin.readline() if sys.stdin and not sys.stdin.closed else ""
    if not answer.strip():
        raise LabError("no terminal to ask on and no answer on the input: add --yes to "
                       "confirm (nothing was changed)")
    return answer.strip().lower() in ("y", "yes")


def _backup_dir() -> Path:
    """A fresh .lab/backup/<time>[-N]/ (two resets in one second never share one)."""
    base = STATE_DIR / "backup" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup, n = base, 1
    while backup.exists():
        n += 1
        backup = base.with_name(f"{base.name}-{n}")
    return backup


def run_reset(args) -> int:
    m = select_milestones(load_milestones(), args.milestone)[0]
    paths = [f"starter/{m.slug}/{f}" for f in m.files]
    pristine = shipped_starter(paths)
    changed = [rel for rel in paths
               if not (ROOT / rel).exists() or (ROOT / rel).read_bytes() != pristine[rel]]
    if not changed:
        print(f"Milestone {m.number}'s files are already as shipped.")
        return 0
    print("This restores the shipped starter version of:\n  " + "\n  ".join(changed))
    if not args.yes and not _confirmed("Continue? Your current files are backed up first."):
        print("Nothing changed.")
        return 1
    backup = _backup_dir()
    for rel in changed:
        src = ROOT / rel
        if src.exists():
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, backup / rel)
    for rel in changed:
        src = ROOT / rel
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(pristine[rel])
    where = backup.relative_to(ROOT) if backup.exists() else None
    print("Restored." + (f" Your previous version is in {where}/" if where else ""))
    return 0


# --- watch -----------------------------------------------------------------------------------------

def add_watch_arguments(p):
    p.add_argument("milestone", nargs="?", help="milestone number; all when omitted")
    p.add_argument("--interval", type=float, default=0.5, help="polling interval in seconds")
    p.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)


def _fingerprint(folder: Path) -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in folder.rglob("*") if p.is_file()))


def _wait_for_change(folder: Path, interval: float, since: tuple) -> None:
    """Returns once the folder differs from the fingerprint `since` (taken before the last
    run started), at once when it changed during that run: a save is never lost."""
    notify = shutil.which("inotifywait")
    while _fingerprint(folder) == since:
        if notify:      # sleeps until an event, or 2 s (a save just before it started)
            subprocess.run([notify, "-qq", "-r", "-t", "2", "-e",
                            "close_write,moved_to,create,delete", str(folder)])
        else:
            time.sleep(interval)


def run_watch(args) -> int:
    folder = ROOT / "starter"
    if args.milestone:
        folder = folder / select_milestones(load_milestones(), args.milestone)[0].slug
    runs = 0
    try:
        while True:
            args.track = None
            before = _fingerprint(folder)
            try:
                run_check(args)
            except LabError as exc:         # e.g. CMake cannot configure: say so, keep watching
                print(paint(f"error: {exc}", "red"))
            runs += 1
            if args.max_runs and runs >= args.max_runs:
                return 0
            if _fingerprint(folder) != before:
                print(paint("\nA file changed during that run: checking again.", "dim"))
                continue
            print(paint(f"\nWatching {folder.relative_to(ROOT)}/ for changes (Ctrl-C to stop)...",
                        "dim"))
            _wait_for_change(folder, args.interval, before)
    except KeyboardInterrupt:
        return 0
