"""The grader's reports of one submission, always all of them: results.json (Gradescope),
junit.xml, summary.md, and with --format classroom classroom.json and the `result` output of
GitHub Classroom's autograding reporter. docs/grading.md describes them.

Scores come from the one scorer (results.score): stretch tests are listed with a `stretch` tag
and summed apart (extra_data), skipped tests are worth 0 of 0, and the top-level score is the
main score only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .. import feedback
from ..console import table
from ..course import Milestone
from ..hintlog import LOG_NAME, HintUsage
from ..results import Score, Status, TestResult, milestone_status, score
from .archive import md_code, md_text, write_atomic
from .args import Options

MAX_TEST_OUTPUT = 1800                       # characters of a test's output in the reports


@dataclass
class Report:
    submission: str
    milestones: list[Milestone] = field(default_factory=list)
    results: list[TestResult] = field(default_factory=list)
    milestone_notes: dict[int, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    sandbox: str = ""           # the sandbox mode used (sandbox.py); "" before it was chosen
    sandbox_detail: str = ""
    options: Options = field(default_factory=Options)
    hints: HintUsage = field(default_factory=lambda: HintUsage(False))  # informational only

    def of(self, m: Milestone) -> list[TestResult]:
        return [r for r in self.results if r.milestone.number == m.number]

    def milestone_score(self, m: Milestone) -> Score:
        return score(self.of(m))

    def status(self, m: Milestone) -> str:
        return milestone_status(self.milestone_score(m), self.of(m))

    @property
    def total(self) -> Score:
        return score(self.results)

    @property
    def score(self) -> float:
        return float(self.total.earned)

    @property
    def max_score(self) -> float:
        return float(self.total.possible)

    def console_table(self) -> str:
        rows = []
        for m in self.milestones:
            s = self.milestone_score(m)
            stretch = f" (+{s.stretch_earned}/{s.stretch_possible} stretch)" \
                if s.stretch_possible else ""
            rows.append([f"{m.number:02d}", m.title, f"{s.passed}/{s.tests}",
                         f"{s.earned}/{s.possible}{stretch}", self.status(m)])
        if self.error:
            rows.append(["--", "grader error", "-", "-", self.error.splitlines()[0][:60]])
        return table(["#", "Milestone", "Tests", "Points", "Status"], rows)


def _trim(text: str, limit: int = MAX_TEST_OUTPUT) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit - 20].rstrip() + "\n[... trimmed ...]"


# A test that ran and failed; its output starts with the property and the likely mistake.
_RAN_AND_FAILED = (Status.FAILED, Status.TIMEOUT, Status.CRASH, Status.SANITIZER,
                   Status.NO_REPORT)


def _explained(r: TestResult) -> str:
    """A failed test's output, its first line the property it checks and the mistake it
    catches (feedback.headline); other statuses as they are."""
    if r.status not in _RAN_AND_FAILED:
        return r.output
    return feedback.headline(r.test.name, r.test.catches) + "\n" + r.output


def _test_output(r: TestResult) -> str:
    if r.passed:
        return f"passed ({r.runs} runs)" if r.runs > 1 else "passed"
    return _trim(_explained(r))


def _points_line(s: Score) -> str:
    extra = f", stretch {s.stretch_earned}/{s.stretch_possible}" if s.stretch_possible else ""
    return f"{s.earned}/{s.possible}{extra}"


# A note of submission.py about one of the files a milestone grades ("NN-name/file.hpp: ...").
_FILE_NOTE = re.compile(r"^(\d\d-[a-z0-9-]+)/([^:/]+): (.*)$")


def file_notes(report: Report) -> list[tuple[str, str]]:
    """(the path the student should hand in, what is wrong) for every file of the graded
    milestones (and of those they build on) that was not taken from the submission: missing,
    misnamed, ambiguous, a link or too large."""
    graded = {m.number for m in report.milestones}
    graded |= {d for m in report.milestones for d in m.depends}     # their code is built too
    out = []
    for note in report.notes:
        m = _FILE_NOTE.match(note)
        if m and int(m.group(1)[:2]) in graded:
            out.append((f"starter/{m.group(1)}/{m.group(2)}", m.group(3)))
    return out


def _gradescope_test(r: TestResult, number: str, visibility: str) -> dict:
    """One checkpoint as a Gradescope test. A stretch checkpoint is worth 0 of 0 there, with its
    points in the name: Gradescope adds every test's max_score into the total it shows, and
    stretch points are never part of the score."""
    name = r.name
    score_, max_score = r.score, r.possible
    output = _test_output(r)
    if r.test.stretch:
        name = f"{r.name} [stretch: {r.score}/{r.possible} pt, not part of the score]"
        score_, max_score = 0, 0
        output = "Optional stretch checkpoint; its points are shown apart.\n" + output
    return {
        "name": name,
        "number": number,
        "score": score_,
        "max_score": max_score,
        "status": "failed" if r.status.counts and not r.passed else "passed",
        "output": output,
        "visibility": visibility,
        "tags": [r.milestone.label] + (["concurrency"] if r.test.concurrency else [])
        + (["model check"] if getattr(r.test, "model", False) else [])
        + (["stretch"] if r.test.stretch else []) + ([str(r.status)] if not r.passed else []),
        "execution_time": round(r.seconds, 3),
    }


def results_json(report: Report) -> dict:
    """Gradescope's results.json. With --hidden every test and the overall score wait until the
    instructor publishes the grades; the file notes (a missing or misnamed file) stay visible,
    since they say nothing of the score and the student can act on them at once."""
    hidden = report.options.hidden
    visibility = "after_published" if hidden else "visible"
    tests = []
    for path, why in file_notes(report):
        tests.append({"name": f"Hand-in: {path}", "score": 0, "max_score": 0,
                      "status": "failed", "visibility": "visible",
                      "output": f"{path}: {why}. Hand in your file under exactly this name "
                                "(or the whole repository); until then the starter's version "
                                "is graded, so its checkpoints fail with TODO messages."})
    per_milestone: dict[int, int] = {}
    for r in report.results:
        k = per_milestone[r.milestone.number] = per_milestone.get(r.milestone.number, 0) + 1
        tests.append(_gradescope_test(r, f"{r.milestone.number}.{k}", visibility))
    if report.error:
        tests.append({"name": "grader error", "score": 0, "max_score": 0, "status": "failed",
                      "output": _trim(report.error, 4000), "visibility": "visible"})
    total = report.total
    if hidden:
        lines = ["Graded. Your score and the checkpoints' results appear when your instructor "
                 "publishes the grades."]
    else:
        lines = [f"{report.score:g}/{report.max_score:g} points."
                 + (f" Stretch: {total.stretch_earned}/{total.stretch_possible} (not part of "
                    "the score)." if total.stretch_possible else "")]
        for m in report.milestones:
            s = report.milestone_score(m)
            lines.append(f"Milestone {m.number} ({m.title}): {_points_line(s)} "
                         f"({s.passed}/{s.tests} checkpoints) {report.status(m)}")
        for number, notes in sorted(report.milestone_notes.items()):
            lines += [f"Milestone {number}: {n}" for n in notes]
    for path, why in file_notes(report):
        lines.append(f"Hand-in: {path}: {why}.")
    if report.ignored:
        lines.append(f"Ignored (not graded) changes: {len(report.ignored)} file(s); see "
                     "summary.md.")
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.seconds, 1),
        "output": "\n".join(lines),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "milestones": [{"number": m.number, "slug": m.slug,
                            "score": report.milestone_score(m).earned,
                            "max_score": report.milestone_score(m).possible,
                            "stretch_score": report.milestone_score(m).stretch_earned,
                            "stretch_max_score": report.milestone_score(m).stretch_possible,
                            "status": report.status(m),
                            "notes": report.milestone_notes.get(m.number, [])}
                           for m in report.milestones],
            "stretch_score": total.stretch_earned,
            "stretch_max_score": total.stretch_possible,
            "ignored_files": report.ignored,
            "notes": report.notes,
            "repeat": report.options.repeat,
            "error": report.error or None,
            "sandbox": report.sandbox or None,
            "sandbox_detail": report.sandbox_detail or None,
            "hints": report.hints.as_json(),
        },
    }


def junit_xml(report: Report) -> str:
    failed = [r for r in report.results if r.status.counts and not r.passed]
    suites = ET.Element("testsuites", name="lab grade", tests=str(len(report.results)),
                        failures=str(len(failed)), time=f"{report.seconds:.1f}")
    for m in report.milestones:
        mine = report.of(m)
        suite = ET.SubElement(suites, "testsuite", name=f"{m.label} {m.slug}",
                              tests=str(len(mine)),
                              failures=str(sum(r in failed for r in mine)), errors="0",
                              time=f"{sum(r.seconds for r in mine):.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="points",
                      value=_points_line(report.milestone_score(m)))
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=m.label, name=r.name,
                                 time=f"{r.seconds:.3f}")
            ET.SubElement(case, "properties").append(
                ET.Element("property", name="points", value=f"{r.score}/{r.possible}"))
            if r.status is Status.SKIPPED:
                ET.SubElement(case, "skipped", message=r.output.splitlines()[0][:300]
                              if r.output else "skipped")
            elif not r.passed:
                first = (_explained(r).splitlines() or [str(r.status)])[0]
                fail = ET.SubElement(case, "failure", message=first[:300], type=str(r.status))
                fail.text = _trim(_explained(r))
    if report.error:
        suite = ET.SubElement(suites, "testsuite", name="grader", tests="1", failures="0",
                              errors="1")
        case = ET.SubElement(suite, "testcase", classname="grader", name="grader error")
        err = ET.SubElement(case, "error", message=report.error.splitlines()[0][:300])
        err.text = _trim(report.error, 4000)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _md_cell(text: str) -> str:
    return md_text(text)


def _md_block(text: str) -> str:
    body = text.replace("```", "'''")
    return f"```text\n{body}\n```"


def summary_md(report: Report) -> str:
    total = report.total
    out = [f"## Grade: {report.score:g} / {report.max_score:g}", ""]
    if total.stretch_possible:
        out += [f"Stretch goals: {total.stretch_earned} / {total.stretch_possible} (shown apart; "
                "they never lower the score).", ""]
    if report.error.startswith("SubmissionRejected"):
        out += ["> **The submission was rejected** (fix it and hand it in again):", "",
                _md_block(_trim(report.error, 3000)), ""]
    elif report.error:
        out += ["> **The grader failed** (this is not a verdict on your code; tell your "
                "instructor):", "", _md_block(_trim(report.error, 3000)), ""]
    out += ["| # | Milestone | Points | Checkpoints | Status |", "| --- | --- | --- | --- | --- |"]
    for m in report.milestones:
        s = report.milestone_score(m)
        out.append(f"| {m.number:02d} | {_md_cell(m.title)} | {_points_line(s)} | "
                   f"{s.passed}/{s.tests} | {_md_cell(report.status(m))} |")
    out.append("")
    rules = [(n, notes) for n, notes in sorted(report.milestone_notes.items()) if notes]
    if rules:
        out += ["### Rules and blocked milestones", ""]
        for number, notes in rules:
            for note in notes[:12]:
                out.append(f"- Milestone {number}: {_md_cell(note)}")
            if len(notes) > 12:
                out.append(f"- Milestone {number}: ... and {len(notes) - 12} more")
        out.append("")
    shown = (Status.PASSED, Status.RULE, Status.BLOCKED)
    failed = [r for r in report.results if r.status not in shown]
    if failed:
        out += ["### Checkpoints that did not pass", ""]
        for r in failed[:40]:
            first = (_explained(r).splitlines() or [str(r.status)])[0]
            out += [f"<details><summary><code>{_html(r.name)}</code> ({r.test.points} pt, "
                    f"{r.status}): {_html(first[:300])}</summary>", "",
                    _md_block(_trim(_explained(r))), "", "</details>", ""]
        if len(failed) > 40:
            out.append(f"... and {len(failed) - 40} more (see results.json)\n")
    if report.ignored:
        out += ["### Ignored changes", "",
                "Only the files you edit under `starter/` are graded; these files differ from "
                "the course's copy and were **not** used:", ""]
        out += [f"- {md_code(f)}" for f in report.ignored[:50]]
        if len(report.ignored) > 50:
            out.append(f"- ... and {len(report.ignored) - 50} more")
        out.append("")
    if report.notes:
        out += ["### Notes", ""] + [f"- {_md_cell(n)}" for n in report.notes[:30]] + [""]
    out += _hints_md(report.hints)
    out.append(f"<sub>clang + ThreadSanitizer; concurrency checkpoints run "
               f"{report.options.repeat}x and must pass every time; graded in "
               f"{report.seconds:.0f} s; sandbox: {report.sandbox or 'not started'}.</sub>")
    return "\n".join(out) + "\n"


def _hints_md(usage: HintUsage) -> list[str]:
    """The hint record, for the instructor: informational, never part of the score."""
    head = ["### Hints unlocked (informational)", "",
            f"From the submission's `{LOG_NAME}`, written by the student's own `scripts/lab "
            "hint`: the student can edit or delete it, so it is never part of the score.", ""]
    if not usage.found:
        return head + [f"No `{LOG_NAME}` in the submission (no hint taken, or not committed).",
                       ""]
    if usage.problem:
        return head + [f"Not usable: {_md_cell(usage.problem)}.", ""]
    rows = [f"| {md_code(name)} | {n} of {of} |" for name, n, of in usage.rows if n]
    out = head + (["| ladder | unlocked |", "| --- | --- |"] + rows if rows
                  else ["No hint unlocked."]) + [""]
    if usage.suggested_deduction:
        out += [f"Suggested deduction (the manifests' `hint_penalty`, not applied): "
                f"{usage.suggested_deduction:g} points.", ""]
    return out


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def classroom_json(report: Report) -> dict:
    tests = [{"name": r.name, "status": "pass" if r.passed or not r.status.counts else "fail",
              "score": r.score, "message": "" if r.passed else _trim(_explained(r), 600),
              "line_no": 0, "execution_time": f"{r.seconds:.2f}s", "test_code": ""}
             for r in report.results]
    status = "error" if report.error else ("pass" if report.total.complete else "fail")
    if report.error:
        tests.append({"name": "grader error", "status": "error", "score": 0,
                      "message": _trim(report.error, 600), "line_no": 0,
                      "execution_time": "0s", "test_code": ""})
    return {"version": 1, "status": status, "max_score": report.max_score, "tests": tests}


def write_reports(report: Report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": json.dumps(results_json(report), indent=2) + "\n",
        "junit.xml": junit_xml(report) + "\n",
        "summary.md": summary_md(report),
    }
    if report.options.classroom:
        data = classroom_json(report)
        files["classroom.json"] = json.dumps(data, indent=2) + "\n"
    for name, text in files.items():
        write_atomic(out / name, text)
    if report.options.classroom and os.environ.get("GITHUB_OUTPUT"):
        encoded = base64.b64encode(json.dumps(classroom_json(report)).encode()).decode()
        with open(os.environ["GITHUB_OUTPUT"], "a") as fh:
            fh.write(f"result={encoded}\n")

