"""`scripts/lab selftest`: the instructor's proof that the course is sound.

It checks, for every milestone (or the one given with --only):
  1. the manifests, starters and solutions agree (files exist, no TODO left in solutions,
     every starter says LAB_TODO), the forbidden-construct rules hold on the solutions, and
     the repository stands alone (instructor/standalone.py);
  2. the solutions pass every checkpoint under clang + ThreadSanitizer, and the instructor-only
     checks (label `instructor`: model checks, integration tests) pass too;
  3. the solutions pass every checkpoint under gcc + AddressSanitizer + UBSan;
  4. the starters compile warning-free and fail every checkpoint with a TODO message;
  5. every mutant (a classic mistake, kept in checkpoints/NN-name/mutants.json) compiles and
     is killed by at least one of the tests that claim to catch it;
  6. the grader scores a suite of adversarial submissions exactly as expected;
  7. the student release reveals no solution, `scripts/lab check` works in a clone of it, and
     every command the lessons show a student runs in it (instructor/lesson_commands.py).
Steps 6 and 7 run side by side. Exit 0 only when all of that holds.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..build import Tree, compile_errors, failure_summary
from ..console import LabError, info, labelled, paint, table
from ..course import ROOT, Milestone, ctest_listing, load_milestones, select_milestones
from ..course import with_dependencies
from ..ctest import CTestRunner, run_ctest
from ..flow import run_flow
from ..packages import INSTRUCTOR_PACKAGES, ensure_packages
from ..results import Status
from . import export, gradescope, grading_cases, lesson_commands
from .mutants import mutant_run
from ..pool import in_parallel
from .report import StepReport
from .static import static_checks

STEPS = ("static", "solutions", "instructor", "asan", "starter", "mutants", "grading", "export")


def add_selftest_arguments(p):
    p.add_argument("--only", metavar="N", help="check one milestone (and build what it includes)")
    p.add_argument("--skip", action="append", default=[], choices=STEPS,
                   help="skip a step (repeatable)")
    p.add_argument("--build-root", default=str(ROOT / "build"),
                   help="where the self-test's build trees go (default: build/)")
    p.add_argument("--mutant", metavar="NAME", help="run only this mutant")
    p.add_argument("--reliability", metavar="K", type=int, default=0,
                   help="also run every mutant's killing tests K times (each run must kill it) "
                        "and the solutions' concurrency tests K times (each run must pass)")


# --- 2-4. whole-track runs --------------------------------------------------------------------

def _names_todo(output: str, m: Milestone) -> bool:
    return "TODO" in output and f"starter/{m.slug}/" in output


def _result_problems(r, expect_pass: bool) -> list[str]:
    if expect_pass:
        if r.status is Status.INCONCLUSIVE:
            # Not a failure of the solution; said aloud, so that a test that is never
            # conclusive on this machine gets looked at.
            info(paint(f"  {r.name}: inconclusive after {r.runs} runs", "yellow"))
        if r.passed or r.status in (Status.SKIPPED, Status.INCONCLUSIVE):
            return []
        return [f"{r.name}: {r.status}\n{failure_summary(r.output)}"]
    if r.passed:
        return [f"{r.name} passes on the starter: the test cannot fail for a student who has "
                "done nothing"]
    if r.status is Status.FAILED and not _names_todo(r.output, r.milestone):
        return [f"{r.name} fails on the starter without naming a TODO in "
                f"starter/{r.milestone.slug}/:\n{failure_summary(r.output)}"]
    return []


def track_run(name: str, tree: Tree, selected: list[Milestone], all_ms: list[Milestone],
              expect_pass: bool, report: StepReport) -> None:
    start = time.monotonic()
    cfg = tree.configure()
    if not cfg.ok:
        report.add(name, False, "CMake configure failed", [cfg.output[-2000:]])
        return
    outcome = run_flow(tree, selected, all_ms, CTestRunner())
    problems = []
    total = passed = 0
    for m in selected:
        build = outcome.builds[m.number]
        if not build.ok:
            problems.append(f"{m.slug} does not compile:\n{compile_errors(build.output)}")
            continue
        for r in outcome.results[m.number]:
            total += 1
            passed += r.passed
            problems += _result_problems(r, expect_pass)
    problems += manifest_drift(tree, selected)
    what = "pass" if expect_pass else "fail with a TODO message"
    report.add(name, not problems, f"{passed}/{total} passed ({'all must ' + what}), "
               f"{time.monotonic() - start:.0f} s", problems)


def manifest_drift(tree: Tree, milestones: list[Milestone]) -> list[str]:
    """CTest's tests of each milestone are exactly its manifest's (both directions)."""
    try:
        listed = set(ctest_listing(tree.build_dir))
    except LabError as exc:
        return [str(exc)]
    if not listed:
        return [f"ctest lists no test in {tree.build_dir}"]
    problems = []
    for m in milestones:
        manifest = {m.ctest_name(t) for t in m.tests}
        mine = {n for n in listed if n.startswith(m.label + "/")}
        problems += [f"{n} is a CTest test but {m.slug}/manifest.json does not list it"
                     for n in sorted(mine - manifest)]
        problems += [f"{n} is in {m.slug}/manifest.json but CTest does not list it"
                     for n in sorted(manifest - mine)]
    return problems


def instructor_run(tree: Tree, report: StepReport) -> None:
    start = time.monotonic()
    cfg = tree.configure()      # also when the solutions step was skipped
    if not cfg.ok:
        report.add("instructor", False, "CMake configure failed", [cfg.output[-2000:]])
        return
    result = tree.build()
    if not result.ok:
        report.add("instructor", False, "full build (lessons, instructor checks) failed",
                   [compile_errors(result.output, 30)])
        return
    names = [n for n, e in ctest_listing(tree.build_dir).items() if "instructor" in e.labels]
    runs = run_ctest(tree, names)
    bad = {n: r for n, r in runs.items() if not r.status.passed}
    problems = [f"{n}: {r.status}\n{failure_summary(r.output, 30)}" for n, r in bad.items()]
    problems += [f"{n}: did not run" for n in names if n not in runs]
    report.add("instructor", not problems,
               f"lesson examples build; {len(runs) - len(bad)}/{len(names)} instructor checks "
               f"pass, {time.monotonic() - start:.0f} s", problems)


def solution_reliability(tree: Tree, selected: list[Milestone], runs: int,
                         report: StepReport) -> None:
    """Runs every concurrency checkpoint of the solutions `runs` times; all must pass."""
    start = time.monotonic()
    problems, total = [], 0
    for m in selected:
        names = [m.ctest_name(t) for t in m.tests if t.concurrency]
        passes = {n: 0 for n in names}
        for _ in range(runs if names else 0):
            for n, r in run_ctest(tree, names).items():
                passes[n] += r.status.passed
        for n, k in passes.items():
            total += 1
            info(f"  {n}: passed {k}/{runs}")
            if k < runs:
                problems.append(f"{n} passed only {k}/{runs} runs on the solution")
    report.add("reliability", not problems,
               f"{total} concurrency checkpoints x {runs} runs on the solutions, "
               f"{time.monotonic() - start:.0f} s", problems)


def grading_run(root: Path, report: StepReport) -> None:
    start = time.monotonic()
    results = grading_cases.run_suite(root)
    problems = [f"{name}: {detail}" for name, ok, detail in results if not ok]
    report.add("grading", not problems and bool(results),
               f"{len(results) - len(problems)}/{len(results)} adversarial submissions graded "
               f"as expected, {time.monotonic() - start:.0f} s", problems)


def export_run(root: Path, report: StepReport) -> None:
    start = time.monotonic()
    dest = root / "selftest-export"
    export.write_export(dest, force=True)
    problems, _shared = export.leak_problems(dest)
    if not problems:
        export.git_commit(dest)
        problems = [f"{name}: {detail}" for name, ok, detail in export.verify(dest, keep=False)
                    if not ok]
    if not problems:  # every student command of every lesson, run in the release
        problems = lesson_commands.check_release(dest, smoke=True)
    if not problems:  # the Gradescope autograder, set up and run as Gradescope would
        problems = gradescope.selftest_problems(root / "selftest-gradescope")
    report.add("export", not problems,
               f"student release has no solution; check/hint/reset/grade and the lessons' "
               f"commands work in it; its Gradescope autograder grades a repository, a file "
               f"and a misnamed file upload exactly, "
               f"{time.monotonic() - start:.0f} s" if not problems else "student release is wrong",
               problems)


# --- entry ---------------------------------------------------------------------------------------

def _labelled_step(_context, step: tuple[str, object]) -> None:
    label, run = step
    with labelled(label):
        run()


def run_selftest(args) -> int:
    ensure_packages(INSTRUCTOR_PACKAGES)
    if not (ROOT / "solutions").is_dir():
        raise LabError("selftest needs solutions/, which the student release does not ship")
    all_ms = load_milestones()
    selected = select_milestones(all_ms, args.only)
    root = Path(args.build_root).resolve()
    report = StepReport(order=(*STEPS[:2], "reliability", *STEPS[2:]))
    # With --only, build just that milestone and what it includes, so that a half-written
    # other milestone cannot break this one's configure step.
    needed = with_dependencies(selected, all_ms)
    only = {"LAB_MILESTONES": ";".join(f"{m.number:02d}" for m in needed) if args.only else ""}
    started = time.monotonic()

    if "static" not in args.skip:
        static_checks(selected, report)
    if "solutions" not in args.skip or "instructor" not in args.skip:
        tree = Tree("solutions", root / "selftest-solutions", cache=dict(only),
                    share_ccache=True)
        if "solutions" not in args.skip:
            track_run("solutions", tree, selected, all_ms, True, report)
            if args.reliability:
                solution_reliability(tree, selected, args.reliability, report)
        if "instructor" not in args.skip and args.only is None:
            instructor_run(tree, report)
    if "asan" not in args.skip:
        track_run("asan", Tree("asan", root / "selftest-asan", cache=dict(only)),
                  selected, all_ms, True, report)
    if "starter" not in args.skip:
        track_run("starter", Tree("student", root / "selftest-starter",
                                  cache={"LAB_WERROR": "ON", **only}),
                  selected, all_ms, False, report)
    if "mutants" not in args.skip:
        mutant_run(selected, root, args.mutant, report, args.reliability, only)
    # The last two steps share nothing (their own folders, their own sandboxes) and neither
    # keeps two CPUs busy (grading cases wait on time limits, the release's commands run one
    # at a time): they run side by side.
    last = []
    if "grading" not in args.skip and args.only is None:
        last.append(("grading", lambda: grading_run(root, report)))
    if "export" not in args.skip and args.only is None:
        last.append(("export", lambda: export_run(root, report)))
    in_parallel([None] * len(last), last, _labelled_step)

    print()
    print(table(["Step", "Result", "Detail"], report.rows))
    took = time.monotonic() - started
    if report.failures:
        print(paint(f"\nselftest FAILED ({took:.0f} s):", "red"))
        for f in report.failures:
            print("- " + f.replace("\n", "\n    "))
        print(f"\nselftest: {report.ok_steps} passed, {report.failed_steps} failed")
        return 1
    print(paint(f"\nselftest passed ({took:.0f} s)", "green"))
    print(f"\nselftest: {report.ok_steps} passed, 0 failed")
    return 0
