"""The grader's adversarial cases: one per attack class of docs/grading.md's threat model.

Each was a real way to earn points with wrong code, to hang the grader, or to crash it, before
the grader read clang's tokens and ran student code in a sandbox. grading_cases.cases() adds
them to `scripts/lab grade-selftest`; every one must end with exactly 0 for the milestone it
attacks, or with a clear error (exit code 2) and every report written.

The file-level attacks are edits in scripts/fixtures/grading_adversarial.json (mutants.json
format); archives, links and batches are built here. Cases that need the grader as a separate
process (a background process looking for `--out` on the grader's command line, a batch) run
`scripts/lab grade` itself.

The environment cases attack what surrounds the test process: the setpriv mode (reading the
course's private files, a zombie leader whose thread runs on, files and IPC left behind; root
only), a build tree or compiler cache left writable or configured by someone else, a test that
takes the machine's memory (only where cgroups cap it), and hostile batch names.
"""

from __future__ import annotations

import binascii
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..course import ROOT, Milestone
from ..grade.archive import md_code
from ..grade.args import Options
from ..grade.cgroups import CgroupLayout
from ..grade.pipeline import grade_submission
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


# --- the grader's environment: sandbox modes, leftovers, the compiler cache, batches ----------

SANDBOX_UIDS = range(62000, 62064)


def _tasks_named(name: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/comm") as fh:
                    if fh.read().strip() == name:
                        found.append(int(pid))
        except OSError:
            continue
    return found


def _nothing_survives(folder: Path) -> list[str]:
    """No thread of the zombie_leader fixture runs on (they are killed here if they do)."""
    time.sleep(1.0)
    left = _tasks_named("lab-zombie-thr")
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    return [f"a thread of the run survived the grade (process {pid})" for pid in left]


def _nothing_left(folder: Path) -> list[str]:
    """Nothing of the uid_leftovers fixture is left (removed here if it is)."""
    problems = []
    for top in ("/dev/shm", "/var/tmp", "/tmp"):
        for path in Path(top).glob("lab-left-*"):
            problems.append(f"{path} was left behind")
            path.unlink(missing_ok=True)
    for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]:
        key, ident = line.split()[:2]
        if int(key) == 0x4c41424c:
            problems.append(f"System V shared memory {ident} was left behind")
            subprocess.run(["ipcrm", "-m", ident], check=False)
    return problems


def _no_leak(folder: Path) -> list[str]:
    """The setpriv_reads_private fixture ran (its end marker is in the reports) and printed
    neither mutants.json nor a line of the solution that the starter does not have."""
    text = json.dumps(json.loads((folder / "out" / "results.json").read_text()))
    mutants = json.loads((ROOT / "checkpoints" / M1 / "mutants.json").read_text())
    problems = [] if "LAB-LEAK-END" in text else ["the leaking code never ran"]
    if any(json.dumps(m["mistake"][:40])[1:-1] in text for m in mutants):
        problems.append("a sandboxed run read mutants.json and printed it into the report")
    starter = (ROOT / "starter" / M1 / M1_FILE).read_text()
    own = [ln.strip() for ln in (ROOT / "solutions" / M1 / M1_FILE).read_text().splitlines()
           if len(ln.strip()) >= 30 and ln.strip() not in starter]
    if any(json.dumps(ln)[1:-1] in text for ln in own):
        problems.append("a sandboxed run read the solution and printed it into the report")
    return problems


def _closed_tree(work: Path) -> list[str]:
    """The grader's build tree and compiler cache after a grade: root's, writable by no one
    else, and no ccache.conf in the cache (whatever mode graded)."""
    problems = []
    for top in (work / "tsan", work / "ccache"):
        for folder, dirs, files in os.walk(top):
            for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                st = os.lstat(name)
                if os.path.islink(name):
                    continue
                if st.st_uid != 0 or st.st_mode & 0o022:
                    problems.append(f"{name} is {oct(st.st_mode & 0o777)} of uid {st.st_uid}: "
                                    "a later run could change what the grader builds")
                    break
            if problems:
                break
    return problems[:2]


def _graded_then(check: Callable[[Path], list[str]], **changes):
    """Grades in-process (with these Options changes), then runs check(work) and keeps its
    findings for verify (the case folder's 'after.txt')."""
    def grade(given: Path, out: Path, work: Path, opts: Options) -> bool:
        opts = replace(opts, **{k: v(out.parent) if callable(v) else v
                                for k, v in changes.items()})
        error = bool(grade_submission(given, out, work, opts).error)
        (out.parent / "after.txt").write_text("\n".join(check(work)))
        return error
    return grade


def _after(folder: Path) -> list[str]:
    text = (folder / "after.txt").read_text().strip()
    return text.splitlines() if text else []


POISON = ('#!/bin/sh\n# a "prefix_command" of a ccache.conf planted in the cache folder: it puts '
          'its own include folder first\ncc="$1"; shift\nexec "$cc" -I"$(dirname "$0")/inc" "$@"\n')


def _poisoned_cache(out_parent: Path) -> Path:
    """A compiler cache whose ccache.conf runs a prefix command that compiles the solution in
    place of the student's header (a restored Actions cache, or one a setpriv run wrote)."""
    cache = out_parent / "ccache"
    shutil.rmtree(cache, ignore_errors=True)
    (cache / "inc").mkdir(parents=True)
    shutil.copy2(ROOT / "solutions" / M1 / M1_FILE, cache / "inc" / M1_FILE)
    (cache / "prefix.sh").write_text(POISON)
    os.chmod(cache / "prefix.sh", 0o755)
    (cache / "ccache.conf").write_text(f"prefix_command = {cache / 'prefix.sh'}\n")
    for path in (cache, cache / "inc"):
        os.chmod(path, 0o755)
    os.chmod(cache / "inc" / M1_FILE, 0o644)
    return cache


# A folder named like the batch's temporary file; two spreadsheet formulas, too long, that are
# the same name once made safe.
HOSTILE_NAMES = ("grades.csv.tmp", "=cmd|' -C calc'!A0" + "x" * 200,
                 "@cmd|' -C calc'!A0" + "x" * 200)


def _hostile_batch(dst: Path, milestones: list[Milestone]) -> None:
    """Submissions whose folder names clash with the batch's files, are spreadsheet formulas,
    collide once made safe, or are very long (each holds the starter of milestone 1)."""
    for name in HOSTILE_NAMES:
        (dst / name / "starter").mkdir(parents=True)
        shutil.copytree(ROOT / "starter" / M1, dst / name / "starter" / M1)


def _batch_grade(given: Path, out: Path, work: Path, opts: Options) -> bool:
    target = out.parent / "batch-out"
    shutil.rmtree(target, ignore_errors=True)
    proc = subprocess.run([sys.executable, str(LAB), "grade", "--batch", str(given), "--out",
                           str(target), "--work", str(work), "--repeat", "1", "--only", "1"],
                          capture_output=True, text=True, timeout=1800)
    (out.parent / "batch-exit.txt").write_text(f"{proc.returncode}\n{proc.stderr[-2000:]}")
    first = sorted(p for p in target.iterdir() if (p / "results.json").is_file()) \
        if target.is_dir() else []
    if first:
        shutil.copytree(first[0], out, dirs_exist_ok=True)
    return False


def _batch_survived(folder: Path) -> list[str]:
    code, _, err = (folder / "batch-exit.txt").read_text().partition("\n")
    problems = [] if code in ("0", "2") else [f"the batch ended with exit {code}: {err[-300:]}"]
    grades = folder / "batch-out" / "grades.csv"
    if not grades.is_file():
        return problems + ["the batch wrote no grades.csv"]
    rows = list(csv.reader(grades.open()))[1:]
    if len(rows) != len(HOSTILE_NAMES):
        problems.append(f"grades.csv has {len(rows)} rows for {len(HOSTILE_NAMES)} submissions")
    if len({r[0] for r in rows}) != len(rows):
        problems.append("two submissions share a row name")
    for row in rows:
        if row[-3:-2] != ["graded"]:
            problems.append(f"{row[0][:40]}: not graded ({row[-3:-2]})")
        bad = [c for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        if bad:
            problems.append(f"a cell a spreadsheet evaluates: {bad[0][:40]}")
        if len(row[0]) > 100:
            problems.append(f"an output folder name of {len(row[0])} characters")
    return problems


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


def cases(milestones: list[Milestone], case_type) -> list:
    """The adversarial cases, as grading_cases.Case objects (case_type)."""
    slugs = {m.slug: m.number for m in milestones}
    if M1 not in slugs:
        return []
    one = [slugs[M1]]
    zero = lambda ms: {slugs[M1]: 0}  # noqa: E731
    Case = case_type
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
        # The grader's environment (docs/grading.md, "The sandbox"): each case failed on the
        # grader before cgroups, per-run uids and gids, and the grader's own ccache.conf.
        Case("attack: setpriv reading the solutions and mutants.json",
             _with("setpriv_reads_private", _starter), zero, only=one,
             grade=_cli(["--only", "1", "--sandbox", "setpriv"]), verify=_no_leak),
        Case("attack: setpriv, a zombie leader whose thread runs on",
             _with("zombie_leader", _starter), zero, only=one,
             grade=_cli(["--only", "1", "--sandbox", "setpriv"]), verify=_nothing_survives),
        Case("attack: setpriv, files and System V IPC left behind",
             _with("uid_leftovers", _starter), zero, only=one,
             grade=_cli(["--only", "1", "--sandbox", "setpriv"]), verify=_nothing_left),
        Case("attack: a build tree left writable for a later run",
             lambda dst, ms: _starter(dst), zero, only=one, grade=_graded_then(_closed_tree),
             verify=_after),
        Case("attack: a ccache.conf with a prefix_command in the compiler cache",
             lambda dst, ms: _starter(dst), zero, only=one,
             grade=_graded_then(_closed_tree, ccache=_poisoned_cache), verify=_after),
        Case("attack: a test taking the machine's memory", _with("memory_hog"), zero, only=one,
             tamper_rules=False, failing_mention="out of memory"),
        Case("attack: batch names (output files, formulas, clashes, length)", _hostile_batch,
             zero, only=one, grade=_batch_grade, verify=_batch_survived),
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
    ]
    # The setpriv mode needs root, the memory cap a cgroup: elsewhere these cases cannot run
    # (the grader refuses the mode, or says that memory is not capped), so they are left out.
    if os.geteuid() != 0:
        result = [c for c in result if "setpriv" not in c.name]
    if CgroupLayout.detect()[0] is None:
        result = [c for c in result if "memory" not in c.name]
    if "06-ordering-benchmarks" in slugs:
        six = slugs["06-ordering-benchmarks"]
        result.append(Case("attack: including a non-header (ORDERING.md)", _non_header,
                           lambda ms: {six: 0}, only=[six],
                           mentions=[("summary.md", "not a header")]))
    return result
