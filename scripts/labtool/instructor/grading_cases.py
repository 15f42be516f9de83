"""The grader's own proof: adversarial submissions, each graded to an exact expected score.

    scripts/lab grade-selftest [--build-root DIR] [--case TEXT]   # or, from Python:
    run_suite(build_root) -> [(case name, ok, detail), ...]

Every case builds a submission directory under BUILD_ROOT/grade-selftest/cases/NAME/ (a copy of
starter/ with solution files, or a solution file with the edits of a fixture from
scripts/fixtures/grading.json, in the mutants.json format and applied by the same code), grades it with
grade.grade_submission and checks the exact score of every graded milestone, which checkpoints
fail and why, and that results.json, junit.xml and summary.md were all written and agree.
The cases are generic over the milestones that exist (their manifests); the crafted ones
target milestone 1, whose API is fixed. Two cases run at a time, each worker with its own
build tree (BUILD_ROOT/grade-selftest/work0, work1) that serves every case it takes: the overlay
rewrites only the files that differ, so each case recompiles only the milestones it changes
(and ccache remembers the rest).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..console import info, ok_or_fail, table
from ..course import ROOT, Milestone, dependents, load_milestones
from ..grade.args import Options
from ..grade.pipeline import grade_submission
from . import adversarial, fence_cases
from .mutants import mutated_source
from ..pool import in_parallel, worker_count

FIXTURES = ROOT / "scripts" / "fixtures" / "grading.json"
M1 = "01-seq-cst-counter"
# The checkpoints of milestone 1 that the crafted fixtures break, one each.
LOOPS_TEST = "add adds the given amount"
CRASH_TEST = "add keeps all 64 bits"
RACE_TEST = "get never goes backwards while writers run"


@dataclass
class Case:
    name: str
    make: Callable[[Path, list[Milestone]], None]      # writes the submission into a folder
    expect: Callable[[list[Milestone]], dict[int, int]]  # milestone -> exact score
    only: list[int] | None = None
    repeat: int = 1
    test_timeout: float | None = None
    tamper_rules: bool = True
    failing: dict[int, set[str]] = field(default_factory=dict)   # exact failing test names
    failing_mention: str = ""        # every failing test's output must contain this
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (report file, text)
    expect_error: bool = False
    missing: bool = False            # grade a path that does not exist
    build_timeout: float = 600       # seconds for one milestone's build
    # Grades the case another way (a separate process, a batch, the archive it made): returns
    # whether the grader ended with an error. Default: grade_submission on the folder.
    grade: Callable[[Path, Path, Path, Options], bool] | None = None
    verify: Callable[[Path], list[str]] | None = None   # more checks on the case's folder


# --- building submissions --------------------------------------------------------------------

def _copy_starter(dst: Path) -> None:
    shutil.copytree(ROOT / "starter", dst / "starter",
                    ignore=shutil.ignore_patterns("__pycache__"))


def _solutions(dst: Path, milestones: list[Milestone]) -> None:
    """A student who solved everything: every file of solutions/ in place of the starter's
    (also for a milestone whose manifest is not written yet: later milestones include it)."""
    del milestones
    _copy_starter(dst)
    for src in sorted((ROOT / "solutions").glob("[0-9][0-9]-*/*")):
        if src.is_file():
            (dst / "starter" / src.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / "starter" / src.parent.name / src.name)


def fixture_source(name: str, milestones: list[Milestone]) -> tuple[dict, str]:
    """A fixture of grading.json and the text it makes (a solution file with its edits)."""
    fixtures = {f["name"]: f for f in json.loads(FIXTURES.read_text())["fixtures"]}
    fx = fixtures[name]
    m = next(m for m in milestones if m.slug == fx["milestone"])
    return fx, mutated_source(m, fx)


def _with_m1_fixture(name: str, base: Callable[[Path, list[Milestone]], None]):
    def make(dst: Path, milestones: list[Milestone]) -> None:
        base(dst, milestones)
        fx, text = fixture_source(name, milestones)
        (dst / "starter" / fx["milestone"] / fx["file"]).write_text(text)
    return make


def broken_milestone(milestones: list[Milestone]) -> Milestone:
    """The milestone whose compile error costs the most: the one most others include."""
    candidates = [m for m in milestones if m.code_files()]
    return max(candidates, key=lambda m: (len(dependents(m.number, milestones)), -m.number))


def _compile_error(dst: Path, milestones: list[Milestone]) -> None:
    _solutions(dst, milestones)
    m = broken_milestone(milestones)
    path = dst / "starter" / m.slug / m.code_files()[0]
    path.write_text(path.read_text() + "\nthis line is not C++ and does not compile;\n")


def _nothing_compiles(dst: Path, milestones: list[Milestone]) -> None:
    _copy_starter(dst)
    for m in milestones:
        for name in m.code_files():
            path = dst / "starter" / m.slug / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("#pragma once\nnamespace metrics { class }  // not C++\n")


def _edited_checkpoints(dst: Path, milestones: list[Milestone]) -> None:
    _copy_starter(dst)
    shutil.copytree(ROOT / "checkpoints", dst / "checkpoints",
                    ignore=shutil.ignore_patterns("__pycache__"))
    fx, text = fixture_source("edited_checkpoints", milestones)
    (dst / "checkpoints" / fx["milestone"] / fx["file"]).write_text(text)
    cmake = (ROOT / "CMakeLists.txt").read_text()
    (dst / "CMakeLists.txt").write_text(cmake.replace(
        'set(LAB_SANITIZER "thread"', 'set(LAB_SANITIZER "none"'))
    (dst / "notes.txt").write_text("a file the course does not have\n")


# --- expectations ----------------------------------------------------------------------------

def _full(milestones: list[Milestone]) -> dict[int, int]:
    return {m.number: m.max_points for m in milestones}


def _zero(milestones: list[Milestone]) -> dict[int, int]:
    return {m.number: 0 for m in milestones}


def _m1_minus(test: str) -> Callable[[list[Milestone]], dict[int, int]]:
    def expect(milestones: list[Milestone]) -> dict[int, int]:
        m1 = next(m for m in milestones if m.slug == M1)
        lost = sum(t.points for t in m1.tests if t.name == test)
        return {m1.number: m1.max_points - lost}
    return expect


def _m1_zero(milestones: list[Milestone]) -> dict[int, int]:
    return {next(m for m in milestones if m.slug == M1).number: 0}


def _compile_error_expect(milestones: list[Milestone]) -> dict[int, int]:
    broken = broken_milestone(milestones)
    lost = {broken.number, *dependents(broken.number, milestones)}
    return {m.number: 0 if m.number in lost else m.max_points for m in milestones}


def cases(milestones: list[Milestone]) -> list[Case]:
    m1 = next((m for m in milestones if m.slug == M1), None)
    one = [m1.number] if m1 else None
    broken = broken_milestone(milestones)
    result = [
        Case("all solutions: full marks", _solutions, _full, repeat=3),
        Case(f"milestone {broken.number} does not compile: only it and its dependents lose",
             _compile_error, _compile_error_expect,
             # the compiler's own error, naming the file, in both reports
             mentions=[(report, f"does not compile: starter/{broken.slug}/"
                                f"{broken.code_files()[0]}:") for report in
                       ("summary.md", "results.json")] + (
                 [("results.json", f"depends on milestone {broken.number}")]
                 if dependents(broken.number, milestones) else [])),
    ]
    if m1 is not None:
        result += [
            Case("infinite loop: one checkpoint times out, the others pass",
                 _with_m1_fixture("infinite_loop", _solutions), _m1_minus(LOOPS_TEST),
                 only=one, test_timeout=12, failing={m1.number: {LOOPS_TEST}},
                 failing_mention="timed out"),
            Case("segfault: one checkpoint crashes, the others pass",
                 _with_m1_fixture("segfault", _solutions), _m1_minus(CRASH_TEST),
                 only=one, failing={m1.number: {CRASH_TEST}}, failing_mention="SEGV"),
            Case("data race: TSan fails the checkpoint that reads while writers run",
                 _with_m1_fixture("data_race", _solutions), _m1_minus(RACE_TEST),
                 only=one, repeat=3, failing={m1.number: {RACE_TEST}},
                 failing_mention="data race"),
            Case("std::exit(0) from a static initializer: rule", _with_m1_fixture(
                "exit_static_init", _solutions), _m1_zero, only=one,
                mentions=[("summary.md", "ends the process")]),
            Case("std::exit(0) from a static initializer: run-time checks alone",
                 _with_m1_fixture("exit_static_init", _solutions), _m1_zero, only=one,
                 tamper_rules=False, failing={m1.number: {t.name for t in m1.tests}},
                 failing_mention="wrote no report"),
            Case("#define of doctest macros in a student header: rule",
                 _with_m1_fixture("doctest_define", _solutions), _m1_zero, only=one,
                 mentions=[("summary.md", "redefines a test-framework macro")]),
            Case("doctest assertions defined away: run-time checks alone",
                 _with_m1_fixture("doctest_silenced", _solutions), _m1_zero, only=one,
                 tamper_rules=False, failing={m1.number: {t.name for t in m1.tests}},
                 failing_mention="no assertion ran"),
            Case("forbidden std::mutex: milestone zeroed with the reason",
                 _with_m1_fixture("mutex", _solutions), _m1_zero, only=one,
                 mentions=[("summary.md", "std::mutex"), ("results.json", "lock-free")]),
            Case("edited checkpoint and CMake files: ignored and reported",
                 _edited_checkpoints, _m1_zero, only=one,
                 mentions=[("summary.md", f"checkpoints/{M1}/test_atomic_counter.cpp"),
                           ("summary.md", "CMakeLists.txt (changed)"),
                           ("summary.md", "notes.txt (added)")]),
        ]
    result += [
        Case("the starters: zero", lambda d, ms: _copy_starter(d), _zero),
        Case("nothing compiles: zero, and every report is written", _nothing_compiles, _zero,
             mentions=[("summary.md", "does not compile")]),
        Case("missing submission: an error entry, every report written, exit non-zero",
             lambda d, ms: None, _zero, expect_error=True, missing=True,
             mentions=[("results.json", "grader error")]),
    ]
    return result + adversarial.cases(milestones, Case) + fence_cases.cases(milestones, Case)


# --- checking one case -----------------------------------------------------------------------

def check_reports(out: Path) -> tuple[list[str], dict]:
    """The three files exist, parse and agree; returns (problems, results.json)."""
    problems = []
    data: dict = {}
    for name in ("results.json", "junit.xml", "summary.md"):
        if not (out / name).is_file():
            problems.append(f"{name} was not written")
    if problems:
        return problems, data
    try:
        data = json.loads((out / "results.json").read_text())
    except json.JSONDecodeError as exc:
        return [f"results.json is not JSON: {exc}"], {}
    for key in ("score", "max_score", "tests"):
        if key not in data:
            problems.append(f"results.json lacks '{key}'")
    tests = data.get("tests", [])
    for t in tests:
        missing = [k for k in ("name", "score", "max_score", "status", "output", "visibility")
                   if k not in t]
        if missing:
            problems.append(f"results.json test {t.get('name')} lacks {missing}")
        if t.get("status") not in ("passed", "failed"):
            problems.append(f"results.json test {t.get('name')}: status {t.get('status')}")
    main = [t for t in tests if "stretch" not in t.get("tags", [])]
    if abs(sum(t.get("score", 0) for t in main) - data.get("score", -1)) > 1e-9:
        problems.append("results.json: score is not the sum of the tests' scores")
    try:
        root = ET.parse(out / "junit.xml").getroot()
        cases = len(list(root.iter("testcase")))
        # results.json also lists a visible "Hand-in: ..." entry per file not taken (Gradescope)
        checkpoints = [t for t in tests if not str(t.get("name", "")).startswith("Hand-in:")]
        if cases != len(checkpoints):
            problems.append(f"junit.xml has {cases} test cases, results.json "
                            f"{len(checkpoints)} checkpoints")
    except ET.ParseError as exc:
        problems.append(f"junit.xml does not parse: {exc}")
    if not (out / "summary.md").read_text().startswith("## Grade"):
        problems.append("summary.md does not start with the grade")
    return problems, data


def score_problems(case: Case, graded: list[Milestone], data: dict) -> list[str]:
    """Each graded milestone's score in results.json is exactly the case's (error cases too)."""
    problems = []
    expected = case.expect(graded)
    got = {d["number"]: d["score"] for d in data.get("extra_data", {}).get("milestones", [])}
    for number, score in sorted(expected.items()):
        if got.get(number) != score:
            mine = [t for t in data.get("tests", []) if t["name"].startswith(f"m{number}/")]
            why = "; ".join(f"{t['name']}: {t['output'].splitlines()[0] if t['output'] else ''}"
                            for t in mine if t["status"] == "failed")[:600]
            problems.append(f"milestone {number}: {got.get(number)} points, expected "
                            f"{score}" + (f" ({why})" if why else ""))
    return problems


def run_case(case: Case, milestones: list[Milestone], base: Path, work: Path) -> tuple[bool, str]:
    folder = base / "cases" / "".join(c if c.isalnum() else "-" for c in case.name)[:60]
    shutil.rmtree(folder, ignore_errors=True)
    submission, out = folder / "submission", folder / "out"
    submission.mkdir(parents=True)
    case.make(submission, milestones)
    given = folder / "does-not-exist" if case.missing else submission
    opts = Options(repeat=case.repeat, test_timeout=case.test_timeout, only=case.only,
                   tamper_rules=case.tamper_rules, budget=900, build_timeout=case.build_timeout)
    start = time.monotonic()
    if case.grade is not None:
        error = case.grade(given, out, work, opts)
    else:
        report = grade_submission(given, out, work, opts, milestones)
        error = bool(report.error)
    took = time.monotonic() - start
    problems, data = check_reports(out)
    if error != case.expect_error:
        problems.append("the grader ended with an error" if error
                        else "expected a grader error (non-zero exit), got none")
    graded = [m for m in milestones if case.only is None or m.number in case.only]
    problems += score_problems(case, graded, data)
    got = {d["number"]: d["score"] for d in data.get("extra_data", {}).get("milestones", [])}
    tests = data.get("tests", [])
    for number, names in case.failing.items():
        failing = {t["name"].split("/", 1)[1] for t in tests
                   if t["name"].startswith(f"m{number}/") and t["status"] == "failed"}
        if failing != names:
            problems.append(f"milestone {number}: failing {sorted(failing)}, expected "
                            f"{sorted(names)}")
    if case.failing_mention:
        for t in tests:
            if t["status"] == "failed" and case.failing_mention not in t["output"]:
                problems.append(f"{t['name']}: output lacks '{case.failing_mention}': "
                                f"{t['output'][:300]}")
    for name, text in case.mentions:
        path = out / name
        if not path.exists() or text not in path.read_text():
            problems.append(f"{name} does not mention '{text}'")
    if case.verify is not None:
        problems += case.verify(folder)
    score = ", ".join(f"m{n} {got.get(n)}/{next(m.max_points for m in graded if m.number == n)}"
                      for n in sorted(got)) or "no milestone graded"
    if problems:
        return False, f"{took:.0f} s; {score}; " + " | ".join(problems)
    return True, f"{took:.0f} s; {score}"


def let_the_sandbox_read(root: Path) -> None:
    """The cases are graded in the sandbox, as a user who must read the course (the grader
    refuses otherwise: sandbox.py). A checkout made in a private folder (`mktemp -d` makes
    0700 folders) would fail every case; the self-test opens the checkout's own top folder to
    others (o+rx: what a clone's subfolders already have) and says so. The grader itself keeps
    refusing: whether to open a course tree is the instructor's decision."""
    mode = os.stat(root).st_mode & 0o7777
    if mode & 0o005 != 0o005:
        os.chmod(root, mode | 0o005)
        info(f"grade selftest: {root} was mode {mode:04o}; the sandbox user must read the course, "
             f"so it is now {mode | 0o005:04o} (chmod o+rx)")


def run_suite(build_root: Path, only: str | None = None) -> list[tuple[str, bool, str]]:
    """Grades every adversarial submission (or those whose name contains `only`); returns
    (case, ok, detail) for each. Two cases at a time on two CPUs, each worker with its own
    work folder (the grader's build tree), so that one case's compiler or time limit keeps
    the other CPU busy."""
    milestones = load_milestones()
    let_the_sandbox_read(ROOT)
    base = Path(build_root).resolve() / "grade-selftest"
    selected = [c for c in cases(milestones) if not only or only.lower() in c.name.lower()]
    works = [base / f"work{i}" for i in range(min(worker_count(), len(selected)) or 1)]

    def one(work: Path, case: Case) -> tuple[str, bool, str]:
        info(f"grade selftest: {case.name} ...")
        try:
            ok, detail = run_case(case, milestones, base, work)
        except Exception as exc:  # noqa: BLE001 - report the case, go on with the next
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        info(f"{ok_or_fail(ok)} {case.name}: {detail}")
        return case.name, ok, detail

    # A setpriv grading closes the course's build/ to other users but the way to its own work
    # folder (privacy.py), which would close the other worker's tree under its feet: those
    # cases run alone, after the others.
    alone = [c for c in selected if c.name.startswith("attack: setpriv")]
    together = [c for c in selected if c not in alone]
    results = in_parallel(works, together, one) if together else []
    return results + [one(works[0], c) for c in alone]


def add_grade_selftest_arguments(p) -> None:
    p.add_argument("--build-root", default=str(ROOT / "build"),
                   help="where the cases and their build tree go (default: build/)")
    p.add_argument("--case", help="only the cases whose name contains this text")


def run_grade_selftest(args) -> int:
    start = time.monotonic()
    results = run_suite(Path(args.build_root).resolve(), args.case)
    print()
    print(table(["Case", "Result", "Detail"],
                [[n, ok_or_fail(ok), d[:150]]
                 for n, ok, d in results]))
    failed = [r for r in results if not r[1]]
    print(f"\ngrade selftest: {len(results) - len(failed)} passed, {len(failed)} failed "
          f"({time.monotonic() - start:.0f} s)")
    for name, _, detail in failed:
        print(f"- {name}: {detail}")
    return 1 if failed else 0
