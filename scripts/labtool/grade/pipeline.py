"""Grading one submission, on the one flow (flow.py):

  1. take only the student's files (submission.py) and overlay them on our starter tree;
  2. check the rules on them before anything is compiled (rules.py): a forbidden construct
     zeroes its milestone; a tamper finding zeroes it and every milestone that includes it,
     and its code is not even compiled;
  3. build against OUR checkpoints and build files, clang + ThreadSanitizer, one milestone at
     a time; 4. run every checkpoint report-verified (runner.py); 5. score and write every
     report (reports.py), also when nothing builds or the grader itself fails.
"""

from __future__ import annotations

import fcntl
import shutil
import time
import traceback
from dataclasses import replace
from pathlib import Path

from .. import feedback
from ..build import Tree
from ..console import LabError, info, warn
from ..course import ROOT, Milestone, closure, dependents, load_milestones
from ..flow import Decided, run_flow
from ..hintlog import LOG_NAME, read_log
from ..release import release_overrides
from ..results import Status, TestResult
from .archive import read_inside
from .args import Options
from .confine import GradingBox
from .cxxrules import BUILD_FLAGS
from .deadline import is_git_submission, parse_deadline, snapshot_before
from .reports import Report, write_reports
from .runner import VerifiedRunner
from .submission import locate, overlay, unpack


def grade_submission(given: Path, out: Path, work: Path, opts: Options,
                     milestones: list[Milestone] | None = None) -> Report:
    """Grades one submission and writes the reports; never raises (errors become a report)."""
    started = time.monotonic()
    report = Report(submission=str(given), options=opts)
    try:
        all_ms = milestones if milestones is not None else load_milestones()
        graded = [m for m in all_ms if opts.only is None or m.number in opts.only]
        if opts.only and not graded:
            raise LabError(f"--only {opts.only}: no such milestone")
        report.milestones = graded
        opts = replace(opts, private=(*opts.private, out.resolve()))
        _grade(given, work, opts, all_ms, graded, report)
    except Exception as exc:  # noqa: BLE001 - the reports must be written whatever happened
        detail = "" if isinstance(exc, LabError) else "\n" + traceback.format_exc()
        report.error = f"{type(exc).__name__}: {exc}{detail}"
        _mark_ungraded(report)
    finally:
        report.seconds = time.monotonic() - started
        try:
            write_reports(report, out)
        except OSError as exc:
            warn(f"cannot write the reports to {out}: {exc}")
            report.error = report.error or str(exc)
    return report


def _mark_ungraded(report: Report) -> None:
    """After a grader error: every test that got no verdict is an error, worth 0."""
    done = {r.name for r in report.results}
    for m in report.milestones:
        for t in m.tests:
            if m.ctest_name(t) not in done:
                report.results.append(TestResult(m, t, Status.ERROR, (
                    "not graded: the grader failed (see 'grader error')")))
    for r in report.results:
        if r.status is Status.NOT_RUN:
            r.status, r.output = Status.ERROR, "not graded: the grader failed (see 'grader error')"


def _grade(given: Path, work: Path, opts: Options, all_ms: list[Milestone],
           graded: list[Milestone], report: Report) -> None:
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "w") as lock:
        # A grading that just ended may still be letting go of the folder (its last sandboxed
        # processes being reaped): wait a little before calling it a clash.
        deadline = time.monotonic() + 60
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise LabError(f"another grading is using {work}; give this one its own "
                                   "--work DIR") from exc
                time.sleep(0.5)
        _grade_locked(given, work, opts, all_ms, graded, report)


def _grade_locked(given: Path, work: Path, opts: Options, all_ms: list[Milestone],
                  graded: list[Milestone], report: Report) -> None:
    track = work / "track"
    if opts.deadline and is_git_submission(given):
        scratch = work / "deadline"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        given_tree, note = snapshot_before(given, parse_deadline(opts.deadline), scratch)
        report.notes.append(note)
        root = given_tree
    elif opts.deadline:
        report.notes.append(f"--deadline: {given.name} is not a git repository; graded as "
                            "handed in")
        root = unpack(given.resolve() if given.exists() else given, work / "scratch")
    else:
        root = unpack(given.resolve() if given.exists() else given, work / "scratch")
    info(f"grading {given}")
    all_ms = all_ms + _unlisted_milestones(all_ms)
    sub = locate(given, root, all_ms, release_overrides())
    # The student's hint log: reported, never scored (hintlog.py), so not an ignored change.
    report.hints = read_log(sub.repo, all_ms, lambda path, limit: read_inside(sub.root, path, limit))
    report.ignored = [f for f in sub.ignored if f.split(" (")[0] != LOG_NAME]
    if sub.layout == "empty":
        report.notes.append("no file of the course was found in the submission: every "
                            "milestone is graded as the starter")
    report.notes += sub.notes

    overlay(sub, all_ms, track, set())
    needed = closure({m.number for m in graded}, all_ms)
    # Every process student code can influence runs in the sandbox from here on (confine.py).
    gbox = GradingBox.create(opts.sandbox, work, track, work / "tsan", jobs=opts.jobs,
                             ccache=opts.ccache, build_wall=opts.build_timeout,
                             private=list(opts.private))
    report.sandbox = gbox.mode
    report.sandbox_detail = gbox.box.describe()
    if gbox.mode != "bubblewrap":
        note = f"sandbox: {gbox.box.describe()}" + (f" ({gbox.box.reason})" if gbox.box.reason
                                                    else "")
        report.notes.append(note)
        warn(note)
    tree = Tree("student", work / "tsan", track_dir=track, runner=gbox.tree_command,
                cache={"LAB_WERROR": "OFF", "LAB_INSTRUCTOR": "OFF", "LAB_BENCHMARKS": "OFF",
                       # the rule against code before main() (runner.py applies it)
                       "CMAKE_CXX_FLAGS": BUILD_FLAGS})
    cfg = tree.configure()
    if not cfg.ok:
        raise LabError("CMake could not configure the grading build (this is the grader's "
                       "environment, not the submission):\n" + cfg.output[-3000:])
    decided = _apply_rules([m for m in all_ms if m.number in needed], all_ms, track, opts,
                           report, gbox)
    excluded = {n for n, d in decided.items() if not d.build}
    if excluded:
        overlay(sub, all_ms, track, excluded)

    def explain(text: str) -> str:
        return feedback.tidy(text, feedback.Paths(ROOT, track))

    runner = VerifiedRunner(repeat=opts.repeat, test_timeout=opts.test_timeout,
                            budget=opts.budget, test_jobs=opts.test_jobs, explain=explain,
                            gbox=gbox, rules=opts.tamper_rules)
    outcome = run_flow(tree, graded, all_ms, runner, decided, jobs=opts.jobs, explain=explain,
                       progress=lambda m: info(f"  building milestone {m.number}"))
    report.results = outcome.all_results()
    for m in graded:
        if opts.tamper_rules and gbox.startup.get(m.label):
            report.milestone_notes.setdefault(m.number, []).extend(
                f"scored 0: {f}" for f in gbox.startup[m.label][:6])
    for m in graded:
        build = outcome.builds.get(m.number)
        if m.number not in decided and build is not None and build.blocked_by:
            deps = ", ".join(map(str, build.blocked_by))
            report.milestone_notes.setdefault(m.number, []).append(
                f"scored 0: depends on milestone {deps}, which does not compile")


def _apply_rules(checked: list[Milestone], all_ms: list[Milestone],
                 track: Path, opts: Options, report: Report,
                 gbox: GradingBox) -> dict[int, Decided]:
    """The rules, on the token streams the compiler sees (cxxrules.py), before anything of the
    student's is compiled: which milestones are decided (scored 0) and which are not even
    built."""
    own = {str(track / m.slug / name): f"starter/{m.slug}/{name}" for m in all_ms
           for name in m.files if (track / m.slug / name).is_file()}
    gbox.own_files = own
    decided: dict[int, Decided] = {}
    for m in checked:
        tamper, forbidden, errors = gbox.rule_check(m, own, opts.tamper_rules)
        for _ in range(2):  # a sandbox that could not start (EAGAIN) is the machine's fault
            if not any("bwrap:" in e for e in errors):
                break
            time.sleep(1.0)
            tamper, forbidden, errors = gbox.rule_check(m, own, opts.tamper_rules)
        notes = [f"scored 0: {t}" for t in tamper or forbidden]
        if errors and not notes:
            # Fail closed: code the rules could not read earns nothing (a preprocessing error
            # also fails the build, so honest work loses nothing it would have earned).
            lines = errors[0].splitlines()
            why = next((ln for ln in lines if "error" in ln), lines[0] if lines else "")
            notes = [f"scored 0: the rules could not read every translation unit "
                     f"({why.strip()[:300]}); re-grade if this is not a compile error"]
        if notes:
            report.milestone_notes.setdefault(m.number, []).extend(notes)
            decided[m.number] = Decided(Status.RULE, "\n".join(notes[:6]), build=not tamper)
    for n in sorted(k for k, d in decided.items() if not d.build):
        for d in dependents(n, all_ms):
            if d in decided and not decided[d].build:
                continue
            note = f"scored 0: it includes milestone {n}'s code, which breaks a grading rule"
            report.milestone_notes.setdefault(d, []).append(note)
            decided[d] = Decided(Status.RULE, note, build=False)
    return decided


def _unlisted_milestones(milestones: list[Milestone]) -> list[Milestone]:
    """starter/NN-name/ folders that have no manifest yet (a milestone being written): their
    files are taken from the submission too, so that the milestones that include them build
    with the student's code. They have no tests, so they are neither built nor scored."""
    known = {m.slug for m in milestones}
    result = []
    for folder in sorted((ROOT / "starter").glob("[0-9][0-9]-*")):
        if folder.name in known or not folder.is_dir():
            continue
        files = sorted(p.name for p in folder.iterdir() if p.is_file())
        result.append(Milestone(number=int(folder.name[:2]), slug=folder.name,
                                title=folder.name, files=files, depends=[], tests=[],
                                directory=ROOT / "checkpoints" / folder.name))
    return result
