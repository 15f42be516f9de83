"""What a failed checkpoint tells the student: the one place that turns a test's raw output
into feedback, shared by `scripts/lab check` and the grader's reports.

Pure functions of text (no processes; only source_reader() reads files), each with one job;
paths.py shows paths, sanitizers.py cuts sanitizer reports, assertions.py reads doctest's
failed assertions:

  sanitizer_excerpt()  a ThreadSanitizer / AddressSanitizer / UBSan / LeakSanitizer report
                       with every stack that matters (this access AND the previous one, or
                       the allocation and the free), the student's own frames first and
                       marked, paths relative to the repository, no BuildId, module offsets,
                       addresses or symbolizer noise;
  sanitizer_headline() its one-line summary;
  race_only()          whether a failed run failed only for TSan data races on the test's
                       own data (fences.py's evidence);
  timeout_note()       a timeout named as one, with the limit and the test's likely causes
                       (the manifest's "on_timeout");
  text_diff()          a unified diff when a doctest CHECK compared two multi-line texts;
  doctest_failure()    the failed assertions of a doctest run, with that diff in place of
                       the two texts;
  failure_detail()     all of the above for one failed test, in full;
  headline()           a failed test's first line: the property it checks and the mistake it
                       exists to catch (catches.py);
  failing_tests()      the list of every failing test of a milestone, one line each;
  not_run_tests()      the tests that did not run (skipped, inconclusive), apart, with why;
  compile_failure()    "does not compile: <first compiler error>", then the diagnostics
                       ("not modelled: <construct> at file:line" for a construct the model
                       build renamed, such as a thread_local);
  model_excerpt()      a violated Relacy model: the property, then the counterexample as a
                       short timeline (relacy.py, model_timeline.py); model_headline() its one line;
  tidy()               the same path and noise clean-up for any other text (compiler errors).

Paths: a frame in a file under `Paths.track` (starter/, another tree, or a submission) is the
student's; it is shown as `<track label>/NN-name/file.hpp:LINE` and marked with ">>". Files
under `Paths.root` (the repository) are shown relative to it.
"""

from __future__ import annotations

import re
from typing import Iterable

from .assertions import ASSERTION, doctest_failure, logged_message, text_diff
from .catches import headline, likely_mistake
from .paths import Paths, show_path, source_reader, tidy
from .model_timeline import model_excerpt, model_headline
from .relacy import has_model_report
from .sanitizers import (MARK, has_sanitizer_report, parse_frame, race_only,
                         sanitizer_excerpt, sanitizer_headline)

__all__ = ["MARK", "Paths", "compile_failure", "ctest_timeouts", "doctest_failure",
           "failing_tests", "failure_detail", "has_model_report", "has_sanitizer_report",
           "headline", "likely_mistake", "model_excerpt", "model_headline", "not_run_reason",
           "not_run_tests", "one_line", "race_only", "sanitizer_excerpt", "sanitizer_headline",
           "show_path", "source_reader", "tail", "text_diff", "tidy", "timeout_note"]


# --- timeouts -----------------------------------------------------------------------------

def timeout_note(limit: float | None, on_timeout: str | None = None) -> str:
    """A timeout named as one: the limit, and what usually makes this test hang."""
    limit_text = f"after {limit:g} s" if limit else "at its time limit"
    lines = [f"The test timed out {limit_text}: it was still running and was stopped (no "
             "assertion failed: some thread never finished)."]
    if on_timeout:
        lines.append(f"Likely cause for this test: {on_timeout}")
    else:
        lines.append("Likely causes: a loop whose exit condition never becomes true, a thread "
                     "that is never stopped or joined, or a lock that is never released.")
    return "\n".join(lines)


def ctest_timeouts(console: str) -> dict[str, float]:
    """The tests CTest stopped at their time limit, from its console output ("Test #35:
    m4/name ....***Timeout  30.06 sec"), with the seconds they ran. CTest's JUnit report does
    not say which failures were timeouts; its console does."""
    found = {}
    for m in re.finditer(r"Test\s+#\d+: (.+?) \.*\s*\*\*\*Timeout\s+([\d.]+) sec", console):
        found[m.group(1).strip()] = float(m.group(2))
    return found


# --- one failed test, and a milestone's list ----------------------------------------------

def failure_detail(output: str, paths: Paths, timed_out: bool = False,
                   limit: float | None = None, on_timeout: str | None = None) -> str:
    """Everything a student needs about one failed test, in full: a timeout note, else the
    sanitizer report, else the failed assertions (with diffs), else the end of the output."""
    if timed_out:
        note = timeout_note(limit, on_timeout)
        report = sanitizer_excerpt(output, paths)
        return note + ("\n\n" + report if report else "")
    if has_model_report(output):
        return model_excerpt(output, paths)
    report = sanitizer_excerpt(output, paths)
    failed = doctest_failure(output, paths)
    if report:
        return report + ("\n\nThe test's own checks also failed:\n" + failed if failed else "")
    if failed:
        return failed
    kept = [l for l in output.splitlines()
            if l.strip() and not l.startswith("[doctest]") and not re.match(r"^=+$", l)]
    return tidy("\n".join(kept[-15:]), paths)


def one_line(output: str, paths: Paths, timed_out: bool = False,
             limit: float | None = None) -> str:
    """A failed test in one line, for the list of failures."""
    if timed_out:
        return f"timed out after {limit:g} s" if limit else "timed out"
    if has_model_report(output):
        return model_headline(output, paths)
    if has_sanitizer_report(output):
        where = ""
        for line in output.splitlines():
            frame = parse_frame(line, paths)
            if frame is not None and frame.mine:
                where = f" in {frame.where}"
                break
        if not where:
            m = re.search(r"^SUMMARY: \w+Sanitizer: .*?([^\s:]+:\d+)(?::\d+)? in ", output, re.M)
            if m:
                where = " at " + show_path(m.group(1).rsplit(":", 1)[0], paths)[0] + ":" \
                    + m.group(1).rsplit(":", 1)[1]
        return sanitizer_headline(output) + where
    lines = output.splitlines()
    for i, line in enumerate(lines):
        todo = re.search(r"([^\s\"]+:\d+: TODO: .*?)\"?$", line)
        if todo:                          # the task itself, whoever called it
            return tidy(todo.group(1), paths)[:300]
        m = ASSERTION.match(line)
        if m:
            logged = logged_message(lines[i + 1:])
            if logged:                    # a CHECK_MESSAGE / INFO says it better than the code
                return tidy(f"{m.group('where')}: {logged}", paths)[:300]
            what = re.sub(r"\s+is NOT correct!$", "", m.group("what"))
            return tidy(f"{m.group('where')}: {what}", paths)[:160]
        if line.startswith(("skipped: ", "inconclusive: ")):
            return line.strip()[:160]
    kept = [l.strip() for l in output.splitlines() if l.strip() and not l.startswith("[doctest]")
            and not re.match(r"^=+$", l)]
    return tidy(kept[-1], paths)[:160] if kept else "failed without output"


def tail(output: str, lines: int = 12) -> str:
    """The last non-empty lines of an output (when nothing better explains a failure)."""
    kept = [l for l in output.splitlines() if l.strip()]
    return "\n".join(kept[-lines:])


def failing_tests(rows: Iterable[tuple[str, str, str]], total: int) -> str:
    """The list of a milestone's failing tests: rows of (name, status, one-line reason)."""
    rows = list(rows)
    out = [f"{len(rows)} of {total} tests not passing:"]
    width = max((len(status) for _, status, _ in rows), default=0)
    for name, status, reason in rows:
        out.append(f"  {status:<{width}}  {name}")
        for line in reason.splitlines():
            out.append(f"  {'':<{width}}    {line}")
    return "\n".join(out)


_NOT_RUN_ADVICE = {"skipped": "cannot run on this machine; it neither costs nor earns points",
                   "inconclusive": "could not establish the overlap it needs (a busy machine?); "
                                   "re-run the check"}


def not_run_reason(output: str, status: str) -> str:
    """Why a test did not run: its own "skipped: ..." / "inconclusive: ..." line, or the
    general reason for that status."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith((f"{status}: ", "skipped: ", "inconclusive: ")):
            # Its indented continuation lines belong to it (fences.py's skip says why and
            # what judges instead).
            more = []
            for follow in lines[i + 1:]:
                if not follow.startswith("  ") or not follow.strip():
                    break
                more.append(follow.strip()[:160])
            return "\n".join([line.strip()[:160]] + more)
    return f"{status}: {_NOT_RUN_ADVICE.get(status, 'did not run')}"


def not_run_tests(rows: Iterable[tuple[str, str, str]]) -> str:
    """The tests that did not run, never counted as failures: rows of (name, status, reason);
    inconclusive ones say to re-run."""
    rows = list(rows)
    out = [f"{len(rows)} {'test' if len(rows) == 1 else 'tests'} not run (not failures):"]
    width = max((len(status) for _, status, _ in rows), default=0)
    for name, status, reason in rows:
        out.append(f"  {status:<{width}}  {name}")
        if status == "inconclusive" and "re-run" not in reason:
            reason += " (re-run the check)"
        for line in reason.splitlines():
            out.append(f"  {'':<{width}}    {line}")
    return "\n".join(out)


# A construct the model build cannot compile: lab_model_student_begin.hpp renames it to
# LAB_NOT_MODELLED_<construct>_<why>, and the compiler names that identifier at the student's
# line. The reason each one cannot be modelled, in words:
_NOT_MODELLED_WHY = {
    "thread_local": "Relacy runs every modelled thread as a fiber of one OS thread, so a "
                    "thread_local would be one object shared by all of them (only this "
                    "milestone's model tests are affected)",
}
_NOT_MODELLED = re.compile(r"^\s*(?P<file>\S+?):(?P<line>\d+):\d+: (?:fatal )?error: .*?"
                           r"\bLAB_NOT_MODELLED_(?P<name>\w+)", re.M)


def not_modelled_at_compile_time(errors: str) -> str | None:
    """'not modelled: <construct> at file:line; <why>' when the first compiler error that
    names a LAB_NOT_MODELLED_ stand-in is found (the model build's compile-time "not
    modelled", in the words of the run-time one), else None."""
    m = _NOT_MODELLED.search(errors)
    if m is None:
        return None
    construct = next((c for c in _NOT_MODELLED_WHY if m["name"].startswith(c + "_")),
                     m["name"])
    why = _NOT_MODELLED_WHY.get(construct, "the model build cannot compile it")
    return f"not modelled: {construct} at {m['file']}:{m['line']}; {why}"


def compile_failure(errors: str) -> str:
    """A build failure for the reports: 'does not compile: <the first error line>', then the
    compiler's diagnostics (already cut and tidied), so that a one-line summary names the
    file and line; a construct the model build renamed says 'not modelled: <construct> at
    file:line' there instead; a build that failed without a diagnostic says so."""
    lines = [l.strip() for l in errors.splitlines() if l.strip()]
    if not lines:
        return "does not compile: the build failed without printing a compiler error"
    not_modelled = not_modelled_at_compile_time(errors)
    if not_modelled:
        return f"does not compile: {not_modelled[:300]}\n{errors.strip()}"
    first = next((l for l in lines if re.search(r":\d+(?::\d+)?: (?:fatal )?error:", l)),
                 None) or next((l for l in lines if re.search(r"\berror\b", l)), lines[-1])
    return f"does not compile: {first[:200]}\n{errors.strip()}"
