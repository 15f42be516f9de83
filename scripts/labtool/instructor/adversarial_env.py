"""The grader's environment cases of `scripts/lab grade-selftest` (adversarial.py has the
others): the setpriv mode reading the course's private files, a zombie leader whose thread
runs on, files and System V IPC left behind (root only); a build tree or compiler cache left
writable, or configured by someone else; a test that takes the machine's memory (only where
cgroups cap it); and hostile batch names. Each changed a score, crashed a batch or left
something behind before the grader had cgroups, a uid and gid per run and its own ccache
configuration.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..course import ROOT, Milestone
from ..grade.args import Options
from ..grade.cgroups import CgroupLayout
from ..grade.pipeline import grade_submission

M1, M1_FILE = "01-seq-cst-counter", "atomic_counter.hpp"
LAB = ROOT / "scripts" / "lab"



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


def cases(Case, zero, one, with_fixture, starter, cli) -> list:
    """The cases, built with adversarial.py's helpers: its Case type, expectation (zero) and
    milestone list (one), and how it makes a submission (with_fixture, starter) or grades one
    in its own process (cli)."""
    result = [
        Case("attack: setpriv reading the solutions and mutants.json",
             with_fixture("setpriv_reads_private", starter), zero, only=one,
             grade=cli(["--only", "1", "--sandbox", "setpriv"]), verify=_no_leak),
        Case("attack: setpriv, a zombie leader whose thread runs on",
             with_fixture("zombie_leader", starter), zero, only=one,
             grade=cli(["--only", "1", "--sandbox", "setpriv"]), verify=_nothing_survives),
        Case("attack: setpriv, files and System V IPC left behind",
             with_fixture("uid_leftovers", starter), zero, only=one,
             grade=cli(["--only", "1", "--sandbox", "setpriv"]), verify=_nothing_left),
        Case("attack: a build tree left writable for a later run",
             lambda dst, ms: starter(dst), zero, only=one, grade=_graded_then(_closed_tree),
             verify=_after),
        Case("attack: a ccache.conf with a prefix_command in the compiler cache",
             lambda dst, ms: starter(dst), zero, only=one,
             grade=_graded_then(_closed_tree, ccache=_poisoned_cache), verify=_after),
        Case("attack: a test taking the machine's memory", with_fixture("memory_hog"), zero, only=one,
             tamper_rules=False, failing_mention="out of memory"),
        Case("attack: batch names (output files, formulas, clashes, length)", _hostile_batch,
             zero, only=one, grade=_batch_grade, verify=_batch_survived),
    ]
    # The setpriv mode needs root, the memory cap a cgroup: elsewhere these cases cannot run
    # (the grader refuses the mode, or says that memory is not capped), so they are left out.
    if os.geteuid() != 0:
        result = [c for c in result if "setpriv" not in c.name]
    if CgroupLayout.detect()[0] is None:
        result = [c for c in result if "memory" not in c.name]
    return result
