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


def _report_failures(outcome: Outcome, paths: feedback.Paths) -> None:
    """The first milestone with a failing or not-run test: its failures, then the tests that
    did not run (skipped, inconclusive) apart with their reason, then the first failure in
    full."""
    listed = {}
    for results in outcome.results.values():
        main = [r for r in results if not r.passed and not r.test.stretch]
        bad = [r for r in main if r.status not in _NOT_RUN]
        not_run = [r for r in main if r.status in _NOT_RUN]
        if bad or any(r.status is Status.INCONCLUSIVE for r in not_run):
            listed[results[0].milestone.number] = (bad, not_run, score(results).tests)
    if not listed:
        return
    number = next(iter(listed))
    bad, not_run, total = listed[number]
    m = (bad or not_run)[0].milestone
    print()
    if bad and bad[0].status in (Status.NOT_BUILT, Status.BLOCKED):
        print(paint(f"Milestone {m.number}:", "bold"))
    elif bad:
        rows = [(r.name, _status_word(r), feedback.one_line(r.output, paths,
                                                            r.status is Status.TIMEOUT, _limit(r)))
                for r in bad]
        print(paint(f"Milestone {m.number}: ", "bold") + feedback.failing_tests(rows, total))
    if not_run and not (bad and bad[0].status in (Status.NOT_BUILT, Status.BLOCKED)):
        rows = [(r.name, str(r.status), feedback.not_run_reason(r.output, str(r.status)))
                for r in not_run]
        print((paint(f"Milestone {m.number}: ", "bold") if not bad else "")
              + feedback.not_run_tests(rows))
    if bad:
        first = bad[0]
        if first.status not in (Status.NOT_BUILT, Status.BLOCKED):
            print()
            print(paint(f"First failure, in full: {first.name}", "bold")
                  + f"  ({_status_word(first)})")
        for line in _detail(first, paths).splitlines():
            print("  " + line)
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
    if ok:
        print(paint("\nAll selected checkpoints pass.", "green"))
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


def run_reset(args) -> int:
    m = select_milestones(load_milestones(), args.milestone)[0]
    paths = [f"starter/{m.slug}/{f}" for f in m.files]
    pristine = {}
    for rel in paths:
        proc = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{rel}"],
                              capture_output=True)
        if proc.returncode != 0:
            raise LabError(f"cannot find the original {rel} in git (HEAD). Is this a clone of "
                           "the course repository with its history?")
        pristine[rel] = proc.stdout
    changed = [rel for rel in paths
               if not (ROOT / rel).exists() or (ROOT / rel).read_bytes() != pristine[rel]]
    if not changed:
        print(f"Milestone {m.number}'s files are already as shipped.")
        return 0
    print("This restores the shipped starter version of:\n  " + "\n  ".join(changed))
    if not args.yes:
        if not sys.stdin.isatty():
            raise LabError("not asking on a non-interactive input: add --yes to confirm")
        if input("Continue? Your current files are backed up first. [y/N] ").strip().lower() \
                not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    backup = STATE_DIR / "backup" / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for rel in changed:
        src = ROOT / rel
        if src.exists():
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, backup / rel)
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(pristine[rel])
    print(f"Restored. Your previous version is in {backup.relative_to(ROOT)}/")
    return 0


# --- watch -----------------------------------------------------------------------------------------

def add_watch_arguments(p):
    p.add_argument("milestone", nargs="?", help="milestone number; all when omitted")
    p.add_argument("--interval", type=float, default=0.5, help="polling interval in seconds")
    p.add_argument("--max-runs", type=int, default=0, help=argparse.SUPPRESS)


def _fingerprint(folder: Path) -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()))


def _wait_for_change(folder: Path, interval: float) -> None:
    if shutil.which("inotifywait"):
        subprocess.run(["inotifywait", "-qq", "-r", "-e", "close_write,moved_to,create,delete",
                        str(folder)])
        return
    before = _fingerprint(folder)
    while _fingerprint(folder) == before:
        time.sleep(interval)


def run_watch(args) -> int:
    folder = ROOT / "starter"
    if args.milestone:
        folder = folder / select_milestones(load_milestones(), args.milestone)[0].slug
    runs = 0
    try:
        while True:
            args.track = None
            run_check(args)
            runs += 1
            if args.max_runs and runs >= args.max_runs:
                return 0
            print(paint(f"\nWatching {folder.relative_to(ROOT)}/ for changes (Ctrl-C to stop)...",
                        "dim"))
            _wait_for_change(folder, args.interval)
    except KeyboardInterrupt:
        return 0
