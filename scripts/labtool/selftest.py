"""`scripts/lab selftest`: the instructor's proof that the course is sound.

It checks, for every milestone (or the one given with --only):
  1. the manifests, starters and solutions agree (files exist, no TODO left in solutions,
     every starter says LAB_TODO), and the forbidden-construct rules hold on the solutions;
  2. the solutions pass every checkpoint under clang + ThreadSanitizer, and the instructor-only
     checks (label `instructor`: model checks, integration tests) pass too;
  3. the solutions pass every checkpoint under gcc + AddressSanitizer + UBSan;
  4. the starters compile warning-free and fail every checkpoint with a TODO message;
  5. every mutant (a classic mistake, kept in checkpoints/NN-name/mutants.json) compiles and
     is killed by at least one of the tests that claim to catch it;
  6. the grader scores a suite of adversarial submissions exactly as expected;
  7. the student release reveals no solution, and `scripts/lab check` works in a clone of it.
Exit 0 only when all of that holds.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from . import build as b
from .common import (INSTRUCTOR_PACKAGES, ROOT, LabError, Milestone, ensure_packages,
                     forbidden_violations, info, load_milestones, paint, select_milestones, table)
from .student import check_tree

STEPS = ("static", "solutions", "instructor", "asan", "starter", "mutants", "grading", "export")


def add_arguments(p):
    p.add_argument("--only", metavar="N", help="check one milestone (and build what it includes)")
    p.add_argument("--skip", action="append", default=[], choices=STEPS,
                   help="skip a step (repeatable)")
    p.add_argument("--build-root", default=str(ROOT / "build"),
                   help="where the self-test's build trees go (default: build/)")
    p.add_argument("--mutant", metavar="NAME", help="run only this mutant")
    p.add_argument("--reliability", metavar="K", type=int, default=0,
                   help="also run every mutant's killing tests K times (each run must kill it) "
                        "and the solutions' concurrency tests K times (each run must pass)")


class Report:
    def __init__(self):
        self.rows: list[list[str]] = []
        self.failures: list[str] = []
        self.ok_steps = 0
        self.failed_steps = 0

    def add(self, step: str, ok: bool, detail: str, problems: list[str] = ()) -> None:
        self.rows.append([step, paint("ok", "green") if ok else paint("FAIL", "red"), detail])
        if ok:
            self.ok_steps += 1
        else:
            self.failed_steps += 1
        for p in problems:
            self.failures.append(f"[{step}] {p}")
        mark = paint("ok  ", "green") if ok else paint("FAIL", "red")
        info(f"{mark} {step}: {detail}")


# --- 1. static checks ------------------------------------------------------------------------

def static_checks(milestones: list[Milestone], report: Report) -> None:
    problems = []
    for m in milestones:
        names = [t.name for t in m.tests]
        if len(set(n.lower() for n in names)) != len(names):
            problems.append(f"{m.slug}: two tests share a name (doctest names are case-insensitive)")
        for n in names:
            if any(c in n for c in ",*?[]"):
                problems.append(f"{m.slug}: test name '{n}' has a character doctest filters treat "
                                "specially (, * ? [ ])")
        if len(m.hints) < 3:
            problems.append(f"{m.slug}: fewer than three hints")
        for f in m.files:
            for track in ("starter", "solutions"):
                if not (ROOT / track / m.slug / f).exists():
                    problems.append(f"{track}/{m.slug}/{f} is listed in the manifest but missing")
            sol = ROOT / "solutions" / m.slug / f
            if sol.exists() and "TODO" in sol.read_text(errors="replace"):
                problems.append(f"solutions/{m.slug}/{f} still says TODO")
        code_files = [f for f in m.files if f.endswith((".hpp", ".cpp"))]
        if code_files and not any("LAB_TODO" in (ROOT / "starter" / m.slug / f).read_text()
                                  for f in code_files if (ROOT / "starter" / m.slug / f).exists()):
            problems.append(f"starter/{m.slug}: no LAB_TODO: a starter must fail loudly")
        problems += [f"solution breaks a rule: {v}"
                     for v in forbidden_violations(m, ROOT / "solutions")]
        claimed = {k for mut in m.mutants() for k in mut["killed_by"]}
        for n in names:
            if n not in claimed:
                problems.append(f"{m.slug}: checkpoint '{n}' has no mutant that it must kill "
                                "(add one to mutants.json)")
        mutant_names = set()
        for mut in m.mutants():
            if mut["name"] in mutant_names:
                problems.append(f"{m.slug}: two mutants named {mut['name']}")
            mutant_names.add(mut["name"])
            for k in mut["killed_by"]:
                if k not in names:
                    problems.append(f"{m.slug}: mutant {mut['name']} names unknown test '{k}'")
    n_mutants = sum(len(m.mutants()) for m in milestones)
    report.add("static", not problems,
               f"{len(milestones)} manifests, {sum(len(m.tests) for m in milestones)} tests, "
               f"{n_mutants} mutants; rules hold on solutions" if not problems
               else f"{len(problems)} problem(s)", problems)


# --- 2-4. whole-track runs --------------------------------------------------------------------

def track_run(name: str, tree: b.Tree, selected: list[Milestone], all_ms: list[Milestone],
              expect_pass: bool, report: Report) -> None:
    start = time.monotonic()
    cfg = tree.configure()
    if not cfg.ok:
        report.add(name, False, "CMake configure failed", [cfg.output[-2000:]])
        return
    builds, scored = check_tree(tree, selected, all_ms)
    problems = []
    total = passed = 0
    for m in selected:
        if not builds[m.number].ok:
            problems.append(f"{m.slug} does not compile:\n{b.compile_errors(builds[m.number].output)}")
            continue
        for test, result in scored[m.number]:
            total += 1
            passed += result.passed
            if expect_pass and not result.passed:
                problems.append(f"{result.name}: {result.status}\n{b.failure_summary(result.output)}")
            if not expect_pass:
                if result.passed:
                    problems.append(f"{result.name} passes on the starter: the test cannot fail "
                                    "for a student who has done nothing")
                elif result.status == b.FAILED and not _names_todo(result.output, m):
                    problems.append(f"{result.name} fails on the starter without naming a TODO "
                                    f"in starter/{m.slug}/:\n{b.failure_summary(result.output)}")
    problems += _manifest_drift(tree, selected)
    took = time.monotonic() - start
    what = "pass" if expect_pass else "fail with a TODO message"
    report.add(name, not problems,
               f"{passed}/{total} passed ({'all must ' + what}), {took:.0f} s", problems)


def _names_todo(output: str, m: Milestone) -> bool:
    return "TODO" in output and f"starter/{m.slug}/" in output


def _manifest_drift(tree: b.Tree, milestones: list[Milestone]) -> list[str]:
    """Tests that exist in CTest but not in the manifest (and so earn no points)."""
    import subprocess
    proc = subprocess.run(["ctest", "--test-dir", str(tree.build_dir), "-N"],
                          capture_output=True, text=True)
    listed = {line.split(": ", 1)[1].strip() for line in proc.stdout.splitlines()
              if line.strip().startswith("Test") and ": " in line}
    problems = []
    for m in milestones:
        manifest = {m.ctest_name(t) for t in m.tests}
        for name in sorted(n for n in listed if n.startswith(m.label + "/")):
            if name not in manifest:
                problems.append(f"{name} exists but {m.slug}/manifest.json does not list it")
    return problems


def instructor_run(tree: b.Tree, report: Report) -> None:
    start = time.monotonic()
    result = tree.build()
    if not result.ok:
        report.add("instructor", False, "full build (lessons, instructor checks) failed",
                   [b.compile_errors(result.output, 30)])
        return
    ran = tree.run_tests(label_regex="^instructor$")
    bad = [r for r in ran.values() if not r.passed]
    problems = [f"{r.name}: {r.status}\n{b.failure_summary(r.output, 30)}" for r in bad]
    report.add("instructor", not problems,
               f"lesson examples build; {len(ran) - len(bad)}/{len(ran)} instructor checks pass, "
               f"{time.monotonic() - start:.0f} s", problems)


# --- 5. mutants --------------------------------------------------------------------------------

def _sync_tree(src: Path, dst: Path) -> None:
    """Makes dst a copy of src, rewriting only files whose bytes differ (keeps mtimes, so
    ninja rebuilds only what a mutant touched)."""
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif not target.exists() or target.read_bytes() != path.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())  # a fresh mtime, so ninja sees the change
    for path in sorted(dst.rglob("*"), reverse=True):
        if not (src / path.relative_to(dst)).exists():
            path.unlink() if path.is_file() else shutil.rmtree(path)


def apply_mutant(m: Milestone, mutant: dict, track: Path) -> Path:
    path = track / m.slug / mutant["file"]
    source = (ROOT / "solutions" / m.slug / mutant["file"]).read_text()
    for edit in mutant["replace"]:
        count = source.count(edit["old"])
        if count != 1:
            raise LabError(f"mutant {mutant['name']}: text to replace found {count} times in "
                           f"solutions/{m.slug}/{mutant['file']} (must be exactly once):\n"
                           f"{edit['old']}")
        source = source.replace(edit["old"], edit["new"])
    path.write_text(source)
    return path


def mutant_run(selected: list[Milestone], root: Path, only: str | None,
               report: Report, reliability: int = 0, cache: dict | None = None) -> None:
    start = time.monotonic()
    track = root / "selftest-mutants-track"
    _sync_tree(ROOT / "solutions", track)
    tree = b.Tree("solutions", root / "selftest-mutants", track_dir=track, cache=dict(cache or {}))
    cfg = tree.configure()
    if not cfg.ok:
        report.add("mutants", False, "CMake configure failed", [cfg.output[-2000:]])
        return
    known = tree.targets()
    problems, killed, total = [], 0, 0
    for m in selected:
        targets = tree.milestone_targets(m, known)
        for mutant in m.mutants():
            if only and mutant["name"] != only:
                continue
            total += 1
            t0 = time.monotonic()
            try:
                path = apply_mutant(m, mutant, track)
            except LabError as exc:
                problems.append(str(exc))
                continue
            try:
                built = tree.build(targets)
                if not built.ok:
                    problems.append(f"{m.slug} mutant {mutant['name']} does not compile (a mutant "
                                    f"must be a plausible program):\n{b.compile_errors(built.output)}")
                    continue
                names = [m.ctest_name(k) for k in mutant["killed_by"]]
                ran = tree.run_tests(name_regex=b.ctest_regex(names))
                failing = [n for n in names if n in ran and not ran[n].passed]
                missing = [n for n in names if n not in ran]
                if failing and reliability:
                    kills = 1 + sum(
                        any(not r.passed for r in tree.run_tests(name_regex=b.ctest_regex(names)).values())
                        for _ in range(reliability - 1))
                    info(f"  {m.label} {mutant['name']}: killed in {kills}/{reliability} runs")
                    if kills < reliability:
                        problems.append(f"{m.slug} mutant {mutant['name']} killed in only "
                                        f"{kills}/{reliability} runs")
                if failing:
                    killed += 1
                    info(f"  killed  {m.label} {mutant['name']} by '{failing[0]}' "
                         f"({time.monotonic() - t0:.1f} s)")
                elif missing:
                    problems.append(f"{m.slug} mutant {mutant['name']}: tests did not run: {missing}")
                else:
                    problems.append(f"{m.slug} mutant {mutant['name']} SURVIVED: every test meant "
                                    f"to catch it passed ({', '.join(mutant['killed_by'])}). "
                                    f"Mistake: {mutant['mistake']}")
                    info(paint(f"  SURVIVED {m.label} {mutant['name']}", "red"))
            finally:
                # write (not copy2): the restored file must look newer than the mutant's objects
                path.write_bytes((ROOT / "solutions" / m.slug / mutant["file"]).read_bytes())
    report.add("mutants", not problems and total > 0,
               f"{killed}/{total} killed, {time.monotonic() - start:.0f} s", problems)


def solution_reliability(tree: b.Tree, selected: list[Milestone], runs: int,
                         report: Report) -> None:
    """Runs every concurrency checkpoint of the solutions `runs` times; all must pass."""
    start = time.monotonic()
    problems, total = [], 0
    for m in selected:
        names = [m.ctest_name(t) for t in m.tests if t.concurrency]
        if not names:
            continue
        passes = {n: 0 for n in names}
        for _ in range(runs):
            for n, r in tree.run_tests(name_regex=b.ctest_regex(names)).items():
                passes[n] += r.passed
        for n, k in passes.items():
            total += 1
            info(f"  {n}: passed {k}/{runs}")
            if k < runs:
                problems.append(f"{n} passed only {k}/{runs} runs on the solution")
    report.add("reliability", not problems,
               f"{total} concurrency checkpoints x {runs} runs on the solutions, "
               f"{time.monotonic() - start:.0f} s", problems)


def grading_run(root: Path, report: Report) -> None:
    from . import grade_selftest
    start = time.monotonic()
    results = grade_selftest.run_suite(root)
    problems = [f"{name}: {detail}" for name, ok, detail in results if not ok]
    report.add("grading", not problems and bool(results),
               f"{len(results) - len(problems)}/{len(results)} adversarial submissions graded "
               f"as expected, {time.monotonic() - start:.0f} s", problems)


def export_run(root: Path, report: Report) -> None:
    from . import export
    start = time.monotonic()
    dest = root / "selftest-export"
    export.write_export(dest, force=True)
    problems, _shared = export.leak_problems(dest)
    if not problems:
        export.git_commit(dest)
        problems = [f"{name}: {detail}" for name, ok, detail in export.verify(dest, keep=False)
                    if not ok]
    report.add("export", not problems,
               f"student release has no solution; check/hint/reset/grade work in a clone, "
               f"{time.monotonic() - start:.0f} s" if not problems else "student release is wrong",
               problems)


# --- entry ---------------------------------------------------------------------------------------

def run(args) -> int:
    ensure_packages(INSTRUCTOR_PACKAGES)
    if not (ROOT / "solutions").is_dir():
        raise LabError("selftest needs solutions/, which the student release does not ship")
    all_ms = load_milestones()
    selected = select_milestones(all_ms, args.only)
    root = Path(args.build_root).resolve()
    report = Report()
    # With --only, build just that milestone and what it includes, so that a half-written
    # other milestone cannot break this one's configure step.
    needed = {n for m in selected for n in [m.number, *m.depends]}
    only = {"LAB_MILESTONES": ";".join(f"{n:02d}" for n in sorted(needed)) if args.only else ""}
    started = time.monotonic()

    if "static" not in args.skip:
        static_checks(selected, report)
    if "solutions" not in args.skip or "instructor" not in args.skip:
        tree = b.Tree("solutions", root / "selftest-solutions", cache=dict(only))
        if "solutions" not in args.skip:
            track_run("solutions", tree, selected, all_ms, True, report)
            if args.reliability:
                solution_reliability(tree, selected, args.reliability, report)
        if "instructor" not in args.skip and args.only is None:
            instructor_run(tree, report)
    if "asan" not in args.skip:
        track_run("asan", b.Tree("asan", root / "selftest-asan", cache=dict(only)),
                  selected, all_ms, True, report)
    if "starter" not in args.skip:
        track_run("starter", b.Tree("student", root / "selftest-starter",
                                    cache={"LAB_WERROR": "ON", **only}),
                  selected, all_ms, False, report)
    if "mutants" not in args.skip:
        mutant_run(selected, root, args.mutant, report, args.reliability, only)

    if "grading" not in args.skip and args.only is None:
        grading_run(root, report)
    if "export" not in args.skip and args.only is None:
        export_run(root, report)

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
