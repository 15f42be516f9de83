"""`scripts/lab feedback-times`: how long a student waits for `scripts/lab check N`, as a table.

A benchmark, not a test: it prints what it measured and never fails on a number. Per
milestone, in the student release (written by export-student, then cloned as a student does):

  first check   a fresh clone of the release, its starter as shipped, nothing built and an
                empty compiler cache (a student's first `check N` on a new machine; the
                packages are installed): configure, build the milestone, run its checkpoints.
  re-check      the same clone with the solution files of the milestone and of those it
                depends on copied in (a student who is done, so every checkpoint runs its
                full length), checked once, then one
                student file edited (a comment appended, so the compiler really sees a
                change) and checked again: only that second check is measured.

Wall seconds and the CPU seconds of every process the check started (user + system), with the
machine's load average before each run: on 2 cores, CPU seconds above the wall seconds mean
both cores were busy. Goals of the course: re-check <= 15 s, first check <= 60 s.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..console import LabError, info
from ..course import ROOT, load_milestones, select_milestones, with_dependencies
from .export import git_commit, write_export

FIRST_CHECK_GOAL_S = 60
RECHECK_GOAL_S = 15


def add_arguments(p) -> None:
    p.add_argument("milestones", nargs="?", default=None,
                   help="which milestones (e.g. 6 or 2,5; default: all)")
    p.add_argument("--out", default=None, help="also write the table (Markdown) to this file")
    p.add_argument("--keep", action="store_true", help="keep the work folder for a look")


def _timed(clone: Path, ccache: Path, *args: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the check and everything it started, exit code) of `scripts/lab ARGS`."""
    env = dict(os.environ, NO_COLOR="1", CCACHE_DIR=str(ccache),
               CCACHE_BASEDIR=str(clone), CCACHE_NOHASHDIR="true")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(clone / "scripts" / "lab"), *args], cwd=clone,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):  # 1: some checkpoint failed, as a starter's do
        raise LabError(f"scripts/lab {' '.join(args)} failed in {clone} (exit "
                       f"{proc.returncode}):\n{proc.stderr[-1500:]}")
    return wall, cpu, proc.returncode


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _measure(release: Path, work: Path, m, milestones) -> list[str]:
    clone = work / f"clone-m{m.number}"
    subprocess.run(["git", "clone", "-q", str(release), str(clone)], check=True)
    ccache = work / f"ccache-m{m.number}"  # empty: nothing this machine compiled before
    load_first = _load()
    first, first_cpu, _ = _timed(clone, ccache, "check", str(m.number))
    for done in with_dependencies([m], milestones):  # its code calls theirs
        for name in done.code_files():
            src = ROOT / "solutions" / done.slug / name
            if src.is_file():  # written now (not copy2): newer than the objects, as an edit is
                (clone / "starter" / done.slug / name).write_bytes(src.read_bytes())
    _timed(clone, ccache, "check", str(m.number))
    edited = clone / "starter" / m.slug / m.code_files()[0]
    edited.write_text(edited.read_text() + "\n// an edit: the compiler sees a changed file\n")
    load_re = _load()
    again, again_cpu, code = _timed(clone, ccache, "check", str(m.number))
    verdict = "all pass" if code == 0 else "some fail"
    return [f"m{m.number}", f"{first:.0f}", f"{first_cpu:.0f}", load_first,
            f"{again:.1f}", f"{again_cpu:.1f}", load_re, m.code_files()[0], verdict]


HEADER = ["milestone", "first check wall s", "CPU s", "load", "re-check wall s", "CPU s",
          "load", "edited file", "re-check result"]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run(args) -> int:
    if not (ROOT / "solutions").is_dir():
        raise LabError("feedback-times runs in the instructor's repository (it has solutions/)")
    milestones = load_milestones()
    selected = select_milestones(milestones, args.milestones)
    work = Path(tempfile.mkdtemp(prefix="lab-feedback-times-"))
    rows = []
    try:
        release = work / "release"
        info(f"writing the student release to {release}")
        write_export(release)
        git_commit(release)
        for m in selected:
            info(f"m{m.number}: first check from a fresh clone, then a re-check after an edit")
            rows.append(_measure(release, work, m, milestones))
            info("  " + ", ".join(f"{h}: {v}" for h, v in zip(HEADER[1:], rows[-1][1:])))
    finally:
        if args.keep:
            info(f"work folder kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table = markdown(rows)
    print(table)
    print(f"\nGoals: first check <= {FIRST_CHECK_GOAL_S} s, re-check <= {RECHECK_GOAL_S} s "
          f"(wall, {os.cpu_count()} CPUs).")
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0
