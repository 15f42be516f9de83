"""The grader's run strategy: every checkpoint as its own process, report-verified.

A run passes only when the process exits 0, printed no sanitizer report, AND doctest's own XML
report, written to a fresh random path, is complete and says that exactly this test case (from
our checkpoint source) ran, with at least one assertion and no failure, under this run's nonce.
Printing fake doctest output or exiting early earns nothing. The command line and time limit of
each test come from CTest's listing (our CMake, our manifest), never from the submission.

Tests that need more CPUs than this machine has are skipped by the grader's own decision (the
manifest's "needs_cpus"); a run that exits 77 saying `inconclusive: ...` runs up to twice more.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import feedback
from ..build import Tree, failure_summary
from ..console import LabError, info
from ..course import CHECKPOINTS, ROOT, CTestEntry, Milestone, ctest_listing
from ..cpus import usable_cpus
from ..results import (INCONCLUSIVE_ADVICE, NOT_RUN_EXIT_CODE, RERUNS_OF_INCONCLUSIVE, Status,
                       TestResult, not_run_status)
from . import imports, records
from .archive import read_inside
from .confine import TEST_RAM, GradingBox, run_checkpoint
from .sandbox import Limits
from .symbolize import symbolize
from .tsanprobe import tsan_prefix

SANITIZER_OPTIONS_FILE = CHECKPOINTS / "common" / "sanitizer_options.json"
TOOL_LIMITS = Limits(wall=60, cpu=60, memory=2 << 30, fsize=64 << 20, nproc=16)
MAX_TOOL_OUTPUT = 64 << 20

def sanitizer_env() -> dict[str, str]:
    """The options main.cpp compiles in, set explicitly so that nothing can weaken them; plus
    symbolize=0: the seccomp filter of a graded run refuses the symbolizer's fork and exec, so
    the grader symbolizes reports itself (symbolize.py)."""
    data = json.loads(SANITIZER_OPTIONS_FILE.read_text())
    return {"TSAN_OPTIONS": data["tsan"] + ":symbolize=0",
            "ASAN_OPTIONS": data["asan"] + ":symbolize=0",
            "UBSAN_OPTIONS": data["ubsan"] + ":symbolize=0"}


def sanitizer_exit_code() -> int:
    """The exit code TSan ends a run with after its first report (sanitizer_options.json)."""
    found = re.search(r"(?:^|:)exitcode=(\d+)", sanitizer_env()["TSAN_OPTIONS"])
    return int(found.group(1)) if found else 66


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask capped by the cgroup's CPU quota)."""
    return usable_cpus()


@dataclass
class Run:
    status: Status
    reason: str = ""      # one line: why it failed ("" when it passed)
    detail: str = ""      # the evidence: doctest's failures, the sanitizer report
    seconds: float = 0.0
    race_only: bool = False   # failed only for TSan data races on the test's data (fences.py)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


def _doctest_failures(case: ET.Element) -> list[str]:
    """Readable lines for the failed assertions and exceptions of one doctest TestCase."""
    lines = []
    for el in case.iter():
        if el.tag == "Expression" and el.get("success") == "false":
            original = (el.findtext("Original") or "").strip()
            where = f"{el.get('filename', '?')}:{el.get('line', '?')}"
            lines.append(f"{where}: {el.get('type', 'CHECK')}( {original} ) failed")
            expanded = (el.findtext("Expanded") or "").strip()
            diff = feedback.text_diff(expanded, original)
            if diff:
                lines.append("  the two texts differ (- expected, + what the code produced):")
                lines.extend("    " + line for line in diff.splitlines())
            elif expanded and expanded != original:
                lines.append(f"  values: {expanded}")
            exc = (el.findtext("Exception") or "").strip().strip('"')
            if exc:
                lines.append(f"  threw: {exc}")
            for info_el in el.iter("Info"):
                if (info_el.text or "").strip():
                    lines.append(f"  info: {info_el.text.strip()}")
        elif el.tag == "Exception" and el.get("crash") is not None:
            lines.append(f"threw: {(el.text or '').strip()}")
        elif el.tag == "Message" and el.get("type", "").startswith("FATAL"):
            lines.append(f"{el.get('filename', '?')}:{el.get('line', '?')}: "
                         f"{(el.findtext('Text') or '').strip()}")
    return lines


def verify_report(report: Path, exe: str, test_name: str, slug: str,
                  nonce: int) -> tuple[bool, str, list[str]]:
    """Reads doctest's XML report of one run: (ok, why not, failure lines)."""
    if not report.exists():
        return False, ("the test runner wrote no report: the process ended before the test "
                       "finished (an exit, a crash or a kill)"), []
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError:
        return False, ("the test runner's report is incomplete: the process ended before the "
                       "test finished"), []
    if root.tag != "doctest":
        return False, "the report is not doctest's", []
    if os.path.realpath(root.get("binary", "")) != os.path.realpath(exe):
        return False, "the report names another executable", []
    options = root.find("Options")
    if options is None or options.get("rand_seed") != str(nonce):
        return False, "the report does not belong to this run", []
    ran = [c for c in root.iter("TestCase") if c.get("skipped") != "true"]
    mine = [c for c in ran if c.get("name") == test_name]
    if not mine:
        return False, f"the test case '{test_name}' did not run", []
    if len(ran) != 1:
        return False, (f"{len(ran)} test cases ran where exactly one was selected (is a test "
                       "case defined outside the checkpoints?)"), []
    case = mine[0]
    failures = _doctest_failures(case)
    if not case.get("filename", "").startswith(f"checkpoints/{slug}/"):
        return False, "the test case that ran is not the course's checkpoint", failures
    asserts = case.find("OverallResultsAsserts")
    totals = root.find("OverallResultsTestCases")
    overall = root.find("OverallResultsAsserts")
    if asserts is None or totals is None or overall is None:
        if failures:
            return False, "the test failed and the process stopped before it finished", failures
        return False, "the report is incomplete: the process stopped before the test finished", \
            failures
    try:
        successes = int(asserts.get("successes", "0"))
        failed = int(asserts.get("failures", "0"))
        cases_ok = int(totals.get("successes", "0"))
        cases_failed = int(totals.get("failures", "0"))
        overall_failed = int(overall.get("failures", "0"))
    except ValueError:
        return False, "the report is malformed", failures
    if failed or overall_failed or cases_failed or asserts.get("test_case_success") != "true" \
            or case.find("Exception") is not None:
        return False, "the checkpoint failed", failures
    if cases_ok != 1:
        return False, "the report does not count exactly one passed test case", failures
    if successes < 1:
        return False, ("no assertion ran (a checkpoint always checks something: were the test "
                       "macros disabled?)"), failures
    return True, "", []


def run_once(gbox: GradingBox, spec: CTestEntry, test_name: str, slug: str,
             timeout: float) -> Run:
    """Runs one checkpoint once and decides from the exit status, the output and doctest's own
    report whether it really passed."""
    # Whether TSan needs `setarch -R` here is the grader's own probe's decision, never the
    # run's output (tsanprobe.py).
    return _run_once(gbox, spec, test_name, slug, timeout, tsan_prefix())


def _judge(proc_code: int, output: str, seconds: float,
           verdict: tuple[bool, str, list[str]], paths: feedback.Paths,
           record: tuple[records.Record | None, str], test_name: str, slug: str) -> Run:
    """The run's status from its exit code, its output, the verified report and the harness's
    record (records.py): only the record can make a run pass or inconclusive."""
    ok, why, failures = verdict
    rec, rec_why = record
    # A report counts as the sanitizer's when the process ended with the sanitizer's exit
    # code (halt_on_error): printed report text alone relabels nothing.
    if feedback.has_sanitizer_report(output) and proc_code == sanitizer_exit_code():
        return Run(Status.SANITIZER, feedback.sanitizer_headline(output, proc_code),
                   feedback.sanitizer_excerpt(output, paths, headline=False), seconds,
                   race_only=not failures and feedback.race_only(output, paths))
    if proc_code < 0:
        name = signal.Signals(-proc_code).name \
            if -proc_code in signal.Signals._value2member_map_ else str(-proc_code)
        return Run(Status.CRASH, f"crashed ({name})",
                   "\n".join(failures) or feedback.tail(output), seconds)
    if proc_code == NOT_RUN_EXIT_CODE:
        if rec is not None and rec.verdict == "not-run" and rec.kind == "inconclusive" \
                and rec.started == 1 and rec.name == test_name \
                and not_run_status(output) is Status.INCONCLUSIVE:
            return Run(Status.INCONCLUSIVE, INCONCLUSIVE_ADVICE, feedback.tail(output), seconds)
        if rec is not None and rec.verdict == "not-run":
            return Run(Status.FAILED, "the test said it was skipped (exit 77), but this "
                       "machine has what it needs: the grader decides skips itself",
                       feedback.tail(output), seconds)
        return Run(Status.FAILED, "exit code 77 (\"not run\"), but the test harness did not "
                   "record it: " + (rec_why or "its record says the test " + rec.verdict),
                   "\n".join(failures) or feedback.tail(output), seconds)
    if proc_code > 0 and feedback.has_model_report(output):
        # A violated model's history (a failure either way: the text can only cost points).
        return Run(Status.FAILED, feedback.model_headline(output, paths),
                   feedback.model_excerpt(output, paths), seconds)
    if proc_code != 0:
        detail = "\n".join(failures) or failure_summary(output)
        return Run(Status.FAILED if failures else Status.CRASH,
                   why if not ok else f"exit code {proc_code}", detail, seconds)
    if not ok:
        return Run(Status.NO_REPORT if "report" in why else Status.FAILED, why,
                   "\n".join(failures) or feedback.tail(output), seconds)
    if rec is None:
        return Run(Status.NO_REPORT, rec_why, feedback.tail(output), seconds)
    passed, why = records.verdict(rec, test_name, slug)
    if not passed:
        return Run(Status.FAILED, why, feedback.tail(output), seconds)
    return Run(Status.PASSED, seconds=seconds)


def _run_once(gbox: GradingBox, spec: CTestEntry, test_name: str, slug: str, timeout: float,
              prefix: list[str]) -> Run:
    exe = spec.command[0]
    if not Path(exe).is_file():
        return Run(Status.FAILED, "the checkpoint executable was not built")
    name = f"{secrets.token_hex(12)}.xml"
    nonce = secrets.randbelow(2**31 - 2) + 1
    command = prefix + spec.command + [f"--rand-seed={nonce}", "--reporters=xml",
                                       "--no-colors=true", "--no-breaks=true"]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **sanitizer_env()}
    res, report, fifo = run_checkpoint(gbox, command, name, spec.cwd, timeout, env,
                                       cpu_count())
    output = res.output
    if res.returncode == sanitizer_exit_code() and feedback.has_sanitizer_report(output):
        output = symbolize(output, Path(exe), lambda argv: _in_box(gbox, argv))
    if res.timed_out:
        return Run(Status.TIMEOUT, f"timed out after {timeout:g} s (an endless loop, a "
                   "deadlock or a thread that never stops?)", feedback.tail(res.output),
                   res.seconds)
    if res.oom:     # the sandbox's memory cap (confine.TEST_RAM), not a crash of the code
        return Run(Status.CRASH, f"out of memory: the run used more than "
                   f"{TEST_RAM >> 20} MiB, the grading sandbox's cap", feedback.tail(res.output),
                   res.seconds)
    with tempfile.TemporaryDirectory(prefix="lab-grade-report-") as own:
        path = Path(own) / name
        if report is not None:
            path.write_bytes(report)
        verdict = verify_report(path, exe, test_name, slug, nonce)
    return _judge(res.returncode, output, res.seconds, verdict,
                  feedback.Paths(ROOT, gbox.track, "starter",
                                 feedback.source_reader(ROOT, gbox.track)),
                  records.parse(fifo, nonce), test_name, slug)


def _in_box(gbox: GradingBox, argv: list[str]) -> str | None:
    """Runs a binutils-like tool (llvm-symbolizer, nm) on what the student's code built, in
    the sandbox; its standard output, through a file (the output of a run is capped), or None
    when it failed."""
    tmp = Path(tempfile.mkdtemp(prefix="lab-grade-tool-"))
    try:
        gbox.box.writable(tmp)
        inside = "/tmp" if gbox.box.mode == "bubblewrap" else str(tmp)
        res = gbox.box.run(["/bin/sh", "-c", f'"$@" > {inside}/out', "sh", *argv],
                           ro=[gbox.build_dir, gbox.track], rw=[], tmp=tmp, cwd=gbox.build_dir,
                           limits=TOOL_LIMITS, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        if not res.ok:
            return None
        try:
            return read_inside(tmp, tmp / "out", MAX_TOOL_OUTPUT).decode("utf-8", "replace")
        except OSError:
            return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def manifest_command(tree: Tree, r: TestResult, spec: CTestEntry | None) -> CTestEntry | None:
    """The command of one checkpoint, from the manifest's name: one of OUR executables of this
    milestone (the one CTest registered for it) with `--test-case=<manifest name>`, never a
    command line a student-built program could have influenced; None if CTest's entry does
    not name such an executable."""
    if spec is None or not spec.command:
        return None
    exe = Path(spec.command[0])
    folder = (tree.build_dir / "checkpoints" / r.milestone.slug).resolve()
    label = r.milestone.label
    if exe.parent.resolve() != folder or exe.name not in (f"{label}_checkpoints",
                                                          f"{label}_plain",
                                                          f"{label}_model_checks"):
        return None
    return CTestEntry(name=spec.name, command=[str(folder / exe.name),
                                               f"--test-case={r.test.name}"],
                      cwd=folder, timeout=spec.timeout, labels=spec.labels)


# --- the run strategy ------------------------------------------------------------------------

@dataclass
class VerifiedRunner:
    """Runner strategy of `grade`: report-verified runs, repeated for concurrency tests, under
    a time budget for the whole submission."""
    repeat: int = 3
    test_timeout: float | None = None
    budget: float = 1500.0
    test_jobs: int = 1
    explain: Callable[[str], str] = str
    cpus: int = 0               # 0: this machine's
    gbox: GradingBox | None = None   # the sandbox every run goes through (confine.py)
    rules: bool = True          # zero a milestone whose build found code before main()

    def run(self, tree: Tree, results: list[TestResult]) -> None:
        listing = ctest_listing(tree.build_dir)
        cpus = self.cpus or cpu_count()
        deadline = time.monotonic() + self.budget
        info(f"  running {len(results)} checkpoints ({self.repeat}x each concurrency "
             "checkpoint)")

        if self.gbox is None:
            raise LabError("grade runs checkpoints only in its sandbox (confine.GradingBox)")
        self.gbox.seal()            # from here on student code runs: the build is read-only
        if self.rules:
            self._check_imports(tree, results)

        def one(r: TestResult) -> None:
            found = self.gbox.startup.get(r.milestone.label) if self.rules else None
            if found:
                r.status = Status.RULE
                r.output = "\n".join(f"scored 0: {f}" for f in found[:6])
                return
            self._grade_one(r, manifest_command(tree, r, listing.get(r.name)), cpus, deadline)

        if self.test_jobs > 1:
            with ThreadPoolExecutor(self.test_jobs) as pool:
                list(pool.map(one, results))
        else:
            for r in results:
                one(r)

    def fence_in(self, tree: Tree, m: Milestone) -> str | None:
        """Where m's own code calls a fence, as the sandboxed rule scan saw it (confine.py)."""
        return self.gbox.fences.get(m.label) if self.gbox is not None else None

    def _check_imports(self, tree: Tree, results: list[TestResult]) -> None:
        """The linked-symbol rule (imports.py): its findings zero the milestone like the
        build's code-before-main findings (gbox.startup)."""
        for m in {r.milestone.label: r.milestone for r in results}.values():
            needed = imports.undefined_symbols(imports.objects(tree.build_dir, m.label),
                                               lambda argv: _in_box(self.gbox, argv))
            found = imports.findings(m, needed, self.gbox.own_files) if needed is not None \
                else [f"starter/{m.slug}: the grader could not list the symbols its code "
                      "links against (nm failed); re-grade"]
            if found:
                self.gbox.startup.setdefault(m.label, []).extend(found)

    def _grade_one(self, r: TestResult, spec: CTestEntry | None, cpus: int,
                   deadline: float) -> None:
        if r.test.needs_cpus > cpus:
            r.status = Status.SKIPPED
            r.output = (f"skipped: needs {r.test.needs_cpus} CPUs, the grading machine has "
                        f"{cpus}; its points are left out of the total")
            return
        if spec is None or not spec.command:
            r.status, r.output = Status.ERROR, (
                "not graded: CTest does not list this checkpoint with one of the milestone's "
                "checkpoint executables (the grader's build is wrong)")
            return
        timeout = spec.timeout if self.test_timeout is None else min(spec.timeout,
                                                                     self.test_timeout)
        reps = self.repeat if r.test.concurrency else 1
        inconclusive_left = RERUNS_OF_INCONCLUSIVE
        i = 0
        while i < reps:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                r.status = Status.BUDGET
                r.output = ("not run: the grading time budget was used up by earlier "
                            "checkpoints (slow or hanging code?)")
                return
            run = run_once(self.gbox, spec, r.test.name, r.milestone.slug,
                           max(1.0, min(timeout, remaining)))
            r.seconds += run.seconds
            r.runs += 1
            if run.status is Status.INCONCLUSIVE and inconclusive_left:
                inconclusive_left -= 1
                continue
            i += 1
            if not run.passed:
                where = f" (run {i} of {reps})" if reps > 1 else ""
                r.status = run.status
                r.tsan_race_only = run.race_only
                r.output = self.explain(f"{run.reason}{where}\n{run.detail}".strip())
                if run.status is Status.TIMEOUT:
                    note = feedback.timeout_note(max(1.0, min(timeout, remaining)),
                                                 r.test.on_timeout)
                    first, _, causes = note.partition("\n")
                    r.output = self.explain(f"{first}{where}\n{causes}\n{run.detail}".strip())
                return
        r.status = Status.PASSED
