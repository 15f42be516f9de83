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
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..build import Tree, failure_summary
from ..console import LabError, info
from ..course import CHECKPOINTS, CTestEntry, ctest_listing
from ..results import (INCONCLUSIVE_ADVICE, NOT_RUN_EXIT_CODE, RERUNS_OF_INCONCLUSIVE, Status,
                       TestResult, not_run_status)
from .evidence import SANITIZER_REPORT, sanitizer_excerpt, sanitizer_headline, tail

MAX_OUTPUT_KEEP = 256 * 1024                 # bytes of a test's output that are read back
SANITIZER_OPTIONS_FILE = CHECKPOINTS / "common" / "sanitizer_options.json"

def sanitizer_env() -> dict[str, str]:
    """The options main.cpp compiles in, set explicitly so that nothing can weaken them."""
    data = json.loads(SANITIZER_OPTIONS_FILE.read_text())
    return {"TSAN_OPTIONS": data["tsan"], "ASAN_OPTIONS": data["asan"],
            "UBSAN_OPTIONS": data["ubsan"]}


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0))


@dataclass
class Run:
    status: Status
    reason: str = ""      # one line: why it failed ("" when it passed)
    detail: str = ""      # the evidence: doctest's failures, the sanitizer report
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED



def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 20, 256 << 20))


def _read_capped(path: Path) -> str:
    size = path.stat().st_size if path.exists() else 0
    with open(path, "rb") as fh:
        if size <= MAX_OUTPUT_KEEP:
            data = fh.read()
        else:
            head = fh.read(MAX_OUTPUT_KEEP // 2)
            fh.seek(size - MAX_OUTPUT_KEEP // 2)
            data = head + b"\n[... output cut ...]\n" + fh.read()
    return data.decode("utf-8", errors="replace")


def _doctest_failures(case: ET.Element) -> list[str]:
    """Readable lines for the failed assertions and exceptions of one doctest TestCase."""
    lines = []
    for el in case.iter():
        if el.tag == "Expression" and el.get("success") == "false":
            original = (el.findtext("Original") or "").strip()
            where = f"{el.get('filename', '?')}:{el.get('line', '?')}"
            lines.append(f"{where}: {el.get('type', 'CHECK')}( {original} ) failed")
            expanded = (el.findtext("Expanded") or "").strip()
            if expanded and expanded != original:
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


def run_once(spec: CTestEntry, test_name: str, slug: str, timeout: float) -> Run:
    """Runs one checkpoint once and decides from the exit status, the output and doctest's own
    report whether it really passed."""
    result = _run_once(spec, test_name, slug, timeout, [])
    if result.status is Status.ERROR and shutil.which("setarch"):
        # TSan (clang < 18) cannot start when the kernel randomizes mmap with more bits than
        # its memory layout allows (vm.mmap_rnd_bits > 28), which a container cannot change:
        # run the test without address-space randomization instead.
        result = _run_once(spec, test_name, slug, timeout,
                           ["setarch", os.uname().machine, "-R"])
    if result.status is Status.ERROR:
        raise LabError("ThreadSanitizer cannot start on this machine (\"unexpected memory "
                       "mapping\"): run `sudo sysctl -w vm.mmap_rnd_bits=28` first")
    return result


def _judge(proc_code: int, output: str, seconds: float,
           verdict: tuple[bool, str, list[str]]) -> Run:
    """The run's status from its exit code, its output and the verified report."""
    ok, why, failures = verdict
    if "ThreadSanitizer: unexpected memory mapping" in output:
        return Run(Status.ERROR, "ThreadSanitizer could not start", tail(output), seconds)
    if SANITIZER_REPORT.search(output):
        return Run(Status.SANITIZER, sanitizer_headline(output, proc_code),
                   sanitizer_excerpt(output), seconds)
    if proc_code < 0:
        name = signal.Signals(-proc_code).name \
            if -proc_code in signal.Signals._value2member_map_ else str(-proc_code)
        return Run(Status.CRASH, f"crashed ({name})", "\n".join(failures) or tail(output),
                   seconds)
    if proc_code == NOT_RUN_EXIT_CODE:
        if not_run_status(output) is Status.INCONCLUSIVE:
            return Run(Status.INCONCLUSIVE, INCONCLUSIVE_ADVICE, tail(output), seconds)
        return Run(Status.FAILED, "the test said it was skipped (exit 77), but this machine "
                   "has what it needs: the grader decides skips itself", tail(output), seconds)
    if proc_code != 0:
        detail = "\n".join(failures) or failure_summary(output)
        return Run(Status.FAILED if failures else Status.CRASH,
                   why if not ok else f"exit code {proc_code}", detail, seconds)
    if not ok:
        return Run(Status.NO_REPORT if "report" in why else Status.FAILED, why,
                   "\n".join(failures) or tail(output), seconds)
    return Run(Status.PASSED, seconds=seconds)


def _run_once(spec: CTestEntry, test_name: str, slug: str, timeout: float,
              prefix: list[str]) -> Run:
    exe = spec.command[0]
    if not Path(exe).is_file():
        return Run(Status.FAILED, "the checkpoint executable was not built")
    scratch = Path(tempfile.mkdtemp(prefix="lab-grade-run-"))
    try:
        os.chmod(scratch, 0o700)
        report = scratch / f"{secrets.token_hex(12)}.xml"
        nonce = secrets.randbelow(2**31 - 2) + 1
        command = prefix + spec.command + ["--reporters=xml", f"--out={report}",
                                           f"--rand-seed={nonce}", "--no-colors=true",
                                           "--no-breaks=true"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch),
               "TMPDIR": str(scratch), "LANG": "C.UTF-8", **sanitizer_env()}
        out_path = scratch / "output.txt"
        start = time.monotonic()
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(command, cwd=spec.cwd if spec.cwd.is_dir() else scratch,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                    preexec_fn=_limit_child)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)   # and anything it left behind
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        seconds = time.monotonic() - start
        output = _read_capped(out_path)
        if timed_out:
            return Run(Status.TIMEOUT, f"timed out after {timeout:g} s (an endless loop, a "
                       "deadlock or a thread that never stops?)", tail(output), seconds)
        return _judge(proc.returncode, output, seconds,
                      verify_report(report, exe, test_name, slug, nonce))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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

    def run(self, tree: Tree, results: list[TestResult]) -> None:
        listing = ctest_listing(tree.build_dir)
        cpus = self.cpus or cpu_count()
        deadline = time.monotonic() + self.budget
        info(f"  running {len(results)} checkpoints ({self.repeat}x each concurrency "
             "checkpoint)")

        def one(r: TestResult) -> None:
            self._grade_one(r, listing.get(r.name), cpus, deadline)

        if self.test_jobs > 1:
            with ThreadPoolExecutor(self.test_jobs) as pool:
                list(pool.map(one, results))
        else:
            for r in results:
                one(r)

    def _grade_one(self, r: TestResult, spec: CTestEntry | None, cpus: int,
                   deadline: float) -> None:
        if r.test.needs_cpus > cpus:
            r.status = Status.SKIPPED
            r.output = (f"skipped: needs {r.test.needs_cpus} CPUs, the grading machine has "
                        f"{cpus}; its points are left out of the total")
            return
        if spec is None or not spec.command:
            r.status, r.output = Status.ERROR, (
                "not graded: CTest does not list this checkpoint (the grader's build is wrong)")
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
            run = run_once(spec, r.test.name, r.milestone.slug, max(1.0, min(timeout, remaining)))
            r.seconds += run.seconds
            r.runs += 1
            if run.status is Status.INCONCLUSIVE and inconclusive_left:
                inconclusive_left -= 1
                continue
            i += 1
            if not run.passed:
                where = f" (run {i} of {reps})" if reps > 1 else ""
                r.status = run.status
                r.output = self.explain(f"{run.reason}{where}\n{run.detail}".strip())
                if run.status is Status.TIMEOUT and r.test.on_timeout:
                    r.output += f"\nLikely causes: {r.test.on_timeout}"
                return
        r.status = Status.PASSED
