"""The student's commands: check, status, list, hint, reset, watch."""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import build as b
from .common import (ROOT, STATE_DIR, STUDENT_PACKAGES, LabError, Milestone, ensure_packages,
                     info, load_milestones, load_state, paint, save_state, select_milestones,
                     table)


# --- scoring shared with selftest and grade ---------------------------------------------------

def score_milestone(m: Milestone, ran: dict[str, b.TestResult], build: b.BuildResult,
                    broken_deps: list[int]) -> list[tuple]:
    """Pairs every manifest test with its result; a test that did not run has failed."""
    rows = []
    for test in m.tests:
        name = m.ctest_name(test)
        if broken_deps:
            deps = ", ".join(str(d) for d in broken_deps)
            rows.append((test, b.TestResult(name, b.NOT_BUILT, output=(
                f"depends on milestone {deps}, which does not compile"))))
        elif not build.ok:
            rows.append((test, b.TestResult(name, b.NOT_BUILT,
                                            output=b.compile_errors(build.output))))
        elif name in ran:
            rows.append((test, ran[name]))
        else:
            rows.append((test, b.TestResult(name, b.NOT_RUN, output=(
                "this checkpoint did not run: was the test renamed or removed?"))))
    return rows


def broken_dependencies(m: Milestone, builds: dict[int, b.BuildResult]) -> list[int]:
    return [d for d in m.depends if d in builds and not builds[d].ok]


def check_tree(tree: b.Tree, milestones: list[Milestone], all_milestones: list[Milestone],
               repeat: int = 1) -> tuple[dict[int, b.BuildResult], dict[int, list[tuple]]]:
    """Builds each milestone (and those it depends on), runs its tests, scores them."""
    needed = {m.number for m in milestones}
    for m in milestones:
        needed.update(m.depends)
    to_build = [m for m in all_milestones if m.number in needed]
    builds = tree.build_milestones(to_build)
    built = [m for m in milestones if builds[m.number].ok and not broken_dependencies(m, builds)]
    ran = {}
    if built:
        labels = "^(" + "|".join(m.label for m in built) + ")$"
        ran = tree.run_tests(label_regex=labels, repeat=repeat)
    scored = {m.number: score_milestone(m, ran, builds[m.number], broken_dependencies(m, builds))
              for m in milestones}
    return builds, scored


# --- check -------------------------------------------------------------------------------------

def add_check_arguments(p):
    p.add_argument("milestone", nargs="?", help="milestone number (e.g. 3); all when omitted")
    p.add_argument("--track", default=None,
                   help="check another tree of NN-name/ folders instead of starter/")


def _progress_rows(scored: dict[int, list[tuple]], milestones: list[Milestone],
                   builds: dict[int, b.BuildResult] | None = None) -> list[list[str]]:
    rows = []
    for m in milestones:
        pairs = scored.get(m.number)
        if pairs is None:
            rows.append([f"{m.number:02d}", m.title, "-", "-", paint("not checked", "dim")])
            continue
        passed = sum(1 for _, r in pairs if r.passed)
        points = sum(t.points for t, r in pairs if r.passed)
        if passed == len(pairs):
            status = paint("done", "green")
        elif builds is not None and not builds[m.number].ok:
            status = paint("does not compile", "red")
        elif any(r.status == b.NOT_BUILT for _, r in pairs):
            status = paint("blocked by an earlier milestone", "red")
        else:
            status = paint(f"{len(pairs) - passed} failing", "red" if passed == 0 else "yellow")
        rows.append([f"{m.number:02d}", m.title, f"{passed}/{len(pairs)}",
                     f"{points}/{m.max_points}", status])
    return rows


def _remember(scored: dict[int, list[tuple]], milestones: list[Milestone]) -> None:
    state = load_state()
    last = state.setdefault("last_check", {})
    for m in milestones:
        pairs = scored[m.number]
        last[m.slug] = {"tests": {t.name: r.status for t, r in pairs},
                        "when": datetime.datetime.now().isoformat(timespec="seconds")}
    save_state(state)


def _report_first_failure(scored, milestones, builds) -> None:
    for m in milestones:
        for test, result in scored[m.number]:
            if result.passed:
                continue
            print()
            print(paint(f"First failure: {result.name}", "bold") + f"  ({result.status})")
            detail = b.failure_summary(result.output) if result.status == b.FAILED else result.output
            for line in detail.splitlines()[:16]:
                print("  " + line)
            print()
            print(f"Stuck?   scripts/lab hint {m.number}")
            print(f"Lesson:  lessons/{m.slug}/README.md")
            print(f"Re-run:  scripts/lab check {m.number}")
            return


def student_tree(track: str | None) -> b.Tree:
    if track is None:
        return b.Tree("student", ROOT / "build" / "student")
    path = Path(track).resolve()
    if not path.is_dir():
        raise LabError(f"--track {track}: no such directory")
    return b.Tree("student", ROOT / "build" / "student-other", track_dir=path)


def _warn_grading_rules(tree: b.Tree, milestones: list[Milestone]) -> bool:
    """Tells the student now what the grader would zero later: tamper rules and locks."""
    from .common import forbidden_violations
    try:
        from .grade import tamper_findings
    except ImportError:
        tamper_findings = None
    track = tree.track_dir or ROOT / "starter"
    findings = []
    for m in milestones:
        findings += forbidden_violations(m, Path(track))
        if tamper_findings is not None:
            for name in m.files:
                path = Path(track) / m.slug / name
                if path.suffix in (".hpp", ".cpp") and path.exists():
                    findings += tamper_findings(f"{m.slug}/{name}", path.read_text(errors="replace"))
    if findings:
        print(paint("The grader would give 0 points to the milestone of each line below:", "red"))
        for f in findings:
            print("  " + f)
        print()
    return bool(findings)


def run_check(args) -> int:
    ensure_packages(STUDENT_PACKAGES)
    all_ms = load_milestones()
    selected = select_milestones(all_ms, args.milestone)
    tree = student_tree(args.track)
    breaks_rules = _warn_grading_rules(tree, selected)
    info(f"configuring ({tree.build_dir.relative_to(ROOT)})")
    cfg = tree.configure()
    if not cfg.ok:
        raise LabError("CMake could not configure the build:\n" + cfg.output[-3000:])
    which = f"milestone {selected[0].number}" if len(selected) == 1 else "all milestones"
    info(f"building and running the checkpoints of {which} under ThreadSanitizer")
    start = time.monotonic()
    builds, scored = check_tree(tree, selected, all_ms)
    print()
    print(table(["#", "Milestone", "Tests", "Points", "Status"],
                _progress_rows(scored, selected, builds)))
    print(paint(f"({time.monotonic() - start:.1f} s)", "dim"))
    _remember(scored, selected)
    ok = all(r.passed for m in selected for _, r in scored[m.number])
    if ok and breaks_rules:
        print(paint("\nThe checkpoints pass, but the code breaks a grading rule (see the top).",
                    "red"))
        return 1
    if ok:
        print(paint("\nAll selected checkpoints pass.", "green"))
        return 0
    _report_first_failure(scored, selected, builds)
    return 1


# --- status, list -------------------------------------------------------------------------------

def add_status_arguments(p):
    del p


def run_status(_args) -> int:
    all_ms = load_milestones()
    last = load_state().get("last_check", {})
    scored = {}
    for m in all_ms:
        if m.slug in last:
            statuses = last[m.slug]["tests"]
            scored[m.number] = [(t, b.TestResult(m.ctest_name(t), statuses.get(t.name, b.NOT_RUN)))
                                for t in m.tests]
    print(table(["#", "Milestone", "Tests", "Points", "Status"], _progress_rows(scored, all_ms)))
    if not last:
        print("\nNo check has run yet: scripts/lab check")
    return 0


def add_list_arguments(p):
    del p


def run_list(_args) -> int:
    rows = [[f"{m.number:02d}", m.title, ", ".join(f"starter/{m.slug}/{f}" for f in m.files),
             f"lessons/{m.slug}/README.md", str(m.max_points)] for m in load_milestones()]
    print(table(["#", "Milestone", "You edit", "Lesson", "Points"], rows))
    return 0


# --- hint ------------------------------------------------------------------------------------------

def add_hint_arguments(p):
    p.add_argument("milestone", help="milestone number, e.g. 2")
    p.add_argument("--again", action="store_true", help="show the hints unlocked so far, no new one")


def run_hint(args) -> int:
    m = select_milestones(load_milestones(), args.milestone)[0]
    if not m.hints:
        raise LabError(f"milestone {m.number} has no hints; read lessons/{m.slug}/README.md")
    state = load_state()
    shown = state.setdefault("hints", {}).get(m.slug, 0)
    if not args.again:
        shown = min(shown + 1, len(m.hints))
    shown = max(shown, 1)
    state["hints"][m.slug] = shown
    save_state(state)
    print(paint(f"Milestone {m.number}: {m.title}", "bold"))
    for i, hint in enumerate(m.hints[:shown], 1):
        marker = paint(f"Hint {i}/{len(m.hints)}", "yellow" if i == shown else "dim")
        print(f"\n{marker}\n{hint}")
    if shown < len(m.hints):
        print(paint(f"\nRun 'scripts/lab hint {m.number}' again for the next hint.", "dim"))
    else:
        print(paint("\nThat was the last hint. The lesson's exercise section walks through it.",
                    "dim"))
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
