"""The grader's adversarial cases: one per attack class of docs/grading.md's threat model.

Each was a real way to earn points with wrong code, to hang the grader, or to crash it, before
the grader read clang's tokens and ran student code in a sandbox. grading_cases.cases() adds
them to `scripts/lab grade-selftest`; every one must end with exactly 0 for the milestone it
attacks, or with a clear error (exit code 2) and every report written.

The file-level attacks are edits in scripts/fixtures/grading_adversarial.json (mutants.json
format); archives, links and batches are built here. Cases that need the grader as a separate
process (a background process looking for `--out` on the grader's command line, a batch) run
`scripts/lab grade` itself.

The cases that attack what surrounds the test process are in adversarial_env.py.
"""

from __future__ import annotations

import binascii
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Callable

from ..course import ROOT, Milestone
from ..grade.archive import md_code
from ..grade.args import Options
from ..grade.pipeline import grade_submission
from . import adversarial_env
from .mutants import apply_edits

FIXTURES = ROOT / "scripts" / "fixtures" / "grading_adversarial.json"
M1, M1_FILE = "01-seq-cst-counter", "atomic_counter.hpp"
LAB = ROOT / "scripts" / "lab"
CHECKPOINT = ROOT / "checkpoints" / M1 / "test_atomic_counter.cpp"


# --- submissions -----------------------------------------------------------------------------

def _starter(dst: Path) -> None:
    shutil.copytree(ROOT / "starter", dst / "starter",
                    ignore=shutil.ignore_patterns("__pycache__"))


def _solutions(dst: Path) -> None:
    _starter(dst)
    for src in sorted((ROOT / "solutions").glob("[0-9][0-9]-*/*")):
        if src.is_file():
            shutil.copy2(src, dst / "starter" / src.parent.name / src.name)


def _injected_line(milestones: list[Milestone]) -> str:
    """What the test-list injection prints: for every test name of milestone 1, a line that
    doctest's CMake discovery turned into `add_test(m1/<name> /bin/sh -c <forger> ...)`."""
    m1 = next(m for m in milestones if m.slug == M1)
    forger = ("import sys\nargs=sys.argv[1:]\nget=lambda k: next((a[len(k):] for a in args if "
              "a.startswith(k)), '')\nopen(get('--out='),'w').write('<doctest binary=\"/bin/sh\">"
              "<Options rand_seed=\"'+get('--rand-seed=')+'\"/><TestSuite><TestCase name=\"'+"
              "get('--test-case=')+'\" filename=\"checkpoints/01-seq-cst-counter/t.cpp\">"
              "<OverallResultsAsserts successes=\"1\" failures=\"0\" test_case_success=\"true\"/>"
              "</TestCase></TestSuite><OverallResultsAsserts successes=\"1\" failures=\"0\"/>"
              "<OverallResultsTestCases successes=\"1\" failures=\"0\"/></doctest>')\n")
    script = (f"exec python3 -c \\\"exec(bytes.fromhex('"
              f"{binascii.hexlify(forger.encode()).decode()}').decode())\\\" \\\"$@\\\"")
    return "\\n".join(f"{t.name}]==] /bin/sh -c [==[{script}" for t in m1.tests)


def fixture_text(name: str, milestones: list[Milestone]) -> tuple[dict, str]:
    fx = {f["name"]: f for f in json.loads(FIXTURES.read_text())["fixtures"]}[name]
    rel = f"{fx.get('base', 'solutions')}/{fx['milestone']}/{fx['file']}"
    text = apply_edits((ROOT / rel).read_text(), fx["replace"], f"fixture {name}", rel)
    if "@LINE@" in text:
        text = text.replace("@LINE@", _injected_line(milestones))
    return fx, text.replace("@ROOT@", str(ROOT))


def _with(name: str, base: Callable[[Path], None] = _solutions):
    def make(dst: Path, milestones: list[Milestone]) -> None:
        base(dst)
        fx, text = fixture_text(name, milestones)
        (dst / "starter" / fx["milestone"] / fx["file"]).write_text(text)
    return make


def _non_header(dst: Path, milestones: list[Milestone]) -> None:
    """sharded_counter.hpp includes ORDERING.md, which hides its Markdown under #if 0."""
    _with("include_non_header")(dst, milestones)
    md = dst / "starter" / "06-ordering-benchmarks" / "ORDERING.md"
    md.write_text("#if 0\n" + md.read_text() + "\n#endif\n")


def _symlinked_folder(dst: Path, milestones: list[Milestone]) -> None:
    _starter(dst)
    shutil.rmtree(dst / "starter" / M1)
    os.symlink(ROOT / "solutions" / M1, dst / "starter" / M1)


def _cross_batch(dst: Path, milestones: list[Milestone]) -> None:
    """A batch: the attacker first, then a victim who handed in the starter."""
    _with("cross_submission_edit", _starter)(dst / "a_attacker", milestones)
    _starter(dst / "b_victim")


def _zip_bomb(dst: Path, milestones: list[Milestone]) -> None:
    with zipfile.ZipFile(dst / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(f"starter/{M1}/{M1_FILE}", (ROOT / "solutions" / M1 / M1_FILE).read_text())
        for i in range(52):                         # 780 MiB from about 800 KB
            zf.writestr(f"starter/filler{i}.txt", b"\0" * (15 << 20))


def _non_utf8(dst: Path, milestones: list[Milestone]) -> None:
    data = (ROOT / "solutions" / M1 / M1_FILE).read_bytes()
    with tarfile.open(dst / "names.tar", "w", encoding="utf-8",
                      errors="surrogateescape") as tf:
        for name, body in ((f"starter/{M1}/{M1_FILE}", data),
                           (f"starter/{M1}/caf\udce9.hpp", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))


def _name_clash(dst: Path, milestones: list[Milestone]) -> None:
    with zipfile.ZipFile(dst / "clash.zip", "w") as zf:
        zf.writestr(f"starter/{M1}", "a file where a folder belongs")
        zf.writestr(f"starter/{M1}/{M1_FILE}", (ROOT / "solutions" / M1 / M1_FILE).read_text())


MD_NAME = "x` <h2>Grade: 60 of 60 [link](x) `|.txt"


def _markdown(dst: Path, milestones: list[Milestone]) -> None:
    _starter(dst)
    (dst / MD_NAME).write_text("a file with a name made to break summary.md\n")


# --- grading and checking ----------------------------------------------------------------------

def _archive(name: str) -> Callable[[Path, Path, Path, Options], bool]:
    """Grades the archive the case made, not its folder."""
    def grade(given: Path, out: Path, work: Path, opts: Options) -> bool:
        return bool(grade_submission(given / name, out, work, opts).error)
    return grade


def _cli(extra: list[str], settle: float = 0.0, batch: bool = False):
    """Grades with `scripts/lab grade` as its own process (tamper rules off: the sandbox alone
    must stand), then waits `settle` seconds for anything left behind to strike."""
    def grade(given: Path, out: Path, work: Path, opts: Options) -> bool:
        target = out.parent / "batch-out" if batch else out
        cmd = [sys.executable, str(LAB), "grade", *(["--batch"] if batch else []), str(given),
               "--out", str(target), "--work", str(work), "--repeat", "1",
               "--no-tamper-rules", *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        time.sleep(settle)
        if batch:
            shutil.copytree(target / "b_victim", out, dirs_exist_ok=True)
        return proc.returncode == 2
    return grade


def _course_untouched(folder: Path) -> list[str]:
    problems = []
    if "LAB_PWNED" in CHECKPOINT.read_text():
        problems.append(f"{CHECKPOINT} was edited by a submission (restore it with git)")
    if not (folder / "batch-out" / "grades.csv").is_file():
        problems.append("the batch wrote no grades.csv")
    return problems


def _nothing_unpacked(folder: Path) -> list[str]:
    # Every worker's work folder (grading_cases.run_suite): the case ran in one of them.
    return [f"{left} holds what the zip bomb unpacked"
            for left in sorted(folder.parent.parent.glob("work*/scratch/unpacked"))]


def _one_heading(folder: Path) -> list[str]:
    text = (folder / "out" / "summary.md").read_text()
    problems = []
    if sum(line.startswith("#") and "Grade" in line for line in text.splitlines()) != 1:
        problems.append("summary.md has a second 'Grade' heading")
    if md_code(f"{MD_NAME} (added)") not in text:
        problems.append("summary.md does not show the file name as one code span")
    return problems


def _points(milestones: list[Milestone], slug: str) -> int:
    """A milestone's full main score (stretch points are counted apart)."""
    m = next(m for m in milestones if m.slug == slug)
    return sum(t.points for t in m.tests if not t.stretch)


def cases(milestones: list[Milestone], case_type) -> list:
    """The adversarial cases, as grading_cases.Case objects (case_type)."""
    slugs = {m.slug: m.number for m in milestones}
    if M1 not in slugs:
        return []
    one = [slugs[M1]]
    zero = lambda ms: {slugs[M1]: 0}  # noqa: E731
    Case = case_type

    def _rules_on_and_off(attack: str, how: str, fixture: str, harness_says: str) -> list:
        """An attack that ends the process through errx(), which the linked-symbol rule
        refuses; graded again with the rules off, the harness's record alone must stop it."""
        return [Case(f"attack: {attack}, {how}", _with(fixture), zero, only=one,
                     mentions=[("summary.md", "'errx' (linked)")]),
                Case(f"attack: {attack} (rules off: the harness's record)", _with(fixture),
                     zero, only=one, tamper_rules=False, failing_mention=harness_says)]

    result = [
        Case("attack: lexer confusion (digit separator hides #undef CHECK)",
             _with("lexer_digit_separator"), zero, only=one,
             mentions=[("summary.md", "#undef")]),
        Case("attack: line splicing (std::mu\\ newline tex)", _with("line_splicing"), zero,
             only=one, mentions=[("summary.md", "lock_guard")]),
        Case("attack: constructor attributes (using gnu: constructor)",
             _with("constructor_attribute", _starter), zero, only=one,
             mentions=[("summary.md", "gnu::constructor")]),
        Case("attack: forged report with an indirect exit",
             _with("forged_report_indirect_exit", _starter), zero, only=one,
             mentions=[("summary.md", "'exit'")]),
        # The printer is a namespace-scope object with a destructor, which the build refuses
        # (-Werror=global-constructors); with the rules off it runs, and must change nothing.
        Case("attack: test-list injection", _with("test_list_injection", _starter), zero,
             only=one, tamper_rules=False),
        Case("attack: including a solution by relative path",
             _with("include_solution_by_path", _starter), zero, only=one,
             mentions=[("results.json", "solutions/01-seq-cst-counter")]),
        Case("attack: symlinked milestone folder", _symlinked_folder, zero, only=one,
             mentions=[("summary.md", "symbolic link")]),
        Case("attack: static-initializer hang", _with("static_initializer_hang", _starter),
             zero, only=one, mentions=[("summary.md", "global constructor")]),
        Case("attack: compile hang (constexpr template tree)",
             # 15 s: well before clang exhausts the sandbox's memory on this tree (about
             # 55 s on an idle 2-core machine), so the time limit is what ends the build.
             _with("compile_hang", _starter), zero, only=one, build_timeout=15,
             mentions=[("results.json", "timed out")]),
        Case("attack: background process rewriting results.json",
             _with("background_rewrite", _starter), zero, only=one,
             grade=_cli(["--only", "1"], settle=3.0)),
        Case("attack: cross-submission edit of the course's checkpoints", _cross_batch, zero,
             only=one, grade=_cli(["--only", "1"], batch=True), verify=_course_untouched),
        Case("attack: zip bomb", _zip_bomb, zero, only=one, expect_error=True,
             grade=_archive("bomb.zip"), mentions=[("results.json", "zip bomb")],
             verify=_nothing_unpacked),
        Case("attack: non-UTF-8 file name", _non_utf8, zero, only=one, expect_error=True,
             grade=_archive("names.tar"), mentions=[("summary.md", "not UTF-8")]),
        Case("attack: a file and a folder of the same name", _name_clash, zero, only=one,
             expect_error=True, grade=_archive("clash.zip"),
             mentions=[("summary.md", "name clash")]),
        Case("attack: Markdown injection through a file name", _markdown, zero, only=one,
             verify=_one_heading),
        # A report forged from inside the test process, locks the rules did not see, and a
        # process that decides what the grader believes (docs/grading.md, "Threat model").
        *_rules_on_and_off("report forged through its descriptor", "errx() exit",
                           "forged_report_through_descriptor",
                           "ended before the test harness finished"),
        Case("attack: lock named without std:: (using namespace std, namespace alias)",
             _with("lock_using_namespace_std"), zero, only=one,
             mentions=[("summary.md", "'mutex'"), ("summary.md", "'sx::unique_lock'")]),
        Case("attack: POSIX semaphore as a lock", _with("lock_posix_semaphore"), zero,
             only=one, mentions=[("summary.md", "'sem_t'")]),
        Case("attack: lock from atomic<bool> exchange plus wait/notify",
             _with("lock_wait_notify"), zero, only=one,
             mentions=[("summary.md", "notify_one")]),
        Case("attack: a printed 'ThreadSanitizer: unexpected memory mapping' line",
             _with("fake_tsan_cannot_start"), lambda ms: {slugs[M1]: _points(ms, M1)},
             only=one),
        *_rules_on_and_off("inconclusive claimed by the process", "errx(77) exit",
                           "fake_inconclusive", "the test harness did not record it"),
    ]
    result += adversarial_env.cases(Case, zero, one, _with, _starter, _cli)
    if "06-ordering-benchmarks" in slugs:
        six = slugs["06-ordering-benchmarks"]
        result.append(Case("attack: including a non-header (ORDERING.md)", _non_header,
                           lambda ms: {six: 0}, only=[six],
                           mentions=[("summary.md", "not a header")]))
    return result
