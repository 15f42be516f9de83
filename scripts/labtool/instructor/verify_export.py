"""`export-student --verify` (and selftest's export step): the student's commands, run in a
clean clone of the student release: list, check (every checkpoint must fail on the starters),
hint, reset, that no instructor command is shipped, and grade (the workflow's command)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..console import info
from ..course import load_milestones
from ..results import Status


def _lab(clone: Path, *args, timeout: float = 3600, stdin: str | None = None):
    env = dict(os.environ, NO_COLOR="1", CCACHE_BASEDIR=str(clone), CCACHE_NOHASHDIR="true")
    return subprocess.run([sys.executable, str(clone / "scripts" / "lab"), *args], cwd=clone,
                          capture_output=True, text=True, errors="replace", env=env,
                          timeout=timeout, input=stdin)


def keep_clone(steps: list[tuple[str, bool, str]], keep: bool) -> bool:
    """The clone stays for a look when asked, or when any step failed (the clone included)."""
    return keep or not steps or not all(ok for _, ok, _ in steps)


def verify(dest: Path, keep: bool) -> list[tuple[str, bool, str]]:
    """Runs the student's commands in a clean clone of the export."""
    steps: list[tuple[str, bool, str]] = []
    work = Path(tempfile.mkdtemp(prefix="lab-export-verify-"))
    clone = work / "clone"
    try:
        _run_steps(dest, work, clone, steps)
    except BaseException:
        info(f"verification clone kept in {clone}")
        raise
    if keep_clone(steps, keep):
        info(f"verification clone kept in {clone}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return steps


def _run_steps(dest: Path, work: Path, clone: Path, steps: list[tuple[str, bool, str]]) -> None:
    proc = subprocess.run(["git", "clone", "-q", str(dest), str(clone)],
                          capture_output=True, text=True)
    steps.append(("git clone", proc.returncode == 0, proc.stderr.strip()[-300:]))
    if proc.returncode != 0:
        return
    milestones = load_milestones(clone / "checkpoints")
    n_tests = sum(len(m.tests) for m in milestones)

    proc = _lab(clone, "list")
    steps.append(("scripts/lab list", proc.returncode == 0,
                  f"{len(milestones)} milestones" if proc.returncode == 0 else proc.stderr))

    start = time.monotonic()
    proc = _lab(clone, "check")
    state_path = clone / ".lab" / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    last = state.get("last_check", {})
    statuses = [s for m in last.values() for s in m.get("tests", {}).values()]
    passed = sum(s == Status.PASSED for s in statuses)
    ok = proc.returncode == 1 and len(statuses) == n_tests and passed == 0 and \
        len(last) == len(milestones)
    steps.append(("scripts/lab check (all red)", ok,
                  f"exit {proc.returncode}, {len(statuses)}/{n_tests} checkpoints ran, "
                  f"{passed} passed, {time.monotonic() - start:.0f} s"
                  + ("" if ok else "\n" + (proc.stdout + proc.stderr)[-1500:])))

    proc = _lab(clone, "hint", str(milestones[0].number))
    steps.append(("scripts/lab hint", proc.returncode == 0 and "Hint 1" in proc.stdout,
                  proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else proc.stderr))

    m = milestones[0]
    edited = clone / "starter" / m.slug / m.files[0]
    original = edited.read_bytes()
    edited.write_bytes(original + b"\n// an edit to throw away\n")
    proc = _lab(clone, "reset", str(m.number), "--yes")
    steps.append(("scripts/lab reset", proc.returncode == 0 and edited.read_bytes() == original,
                  proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr))

    proc = _lab(clone, "selftest")
    steps.append(("scripts/lab selftest is not shipped", proc.returncode == 2 and
                  "invalid choice: 'selftest'" in proc.stderr and
                  not (clone / "scripts" / "labtool" / "instructor").exists(), proc.stderr.strip()[-200:]))

    start = time.monotonic()
    proc = _lab(clone, "grade", ".", "--out", str(work / "grade-report"), "--repeat", "1")
    results = work / "grade-report" / "results.json"
    data = json.loads(results.read_text()) if results.exists() else {}
    total = sum(m.max_points for m in milestones)
    ok = proc.returncode == 0 and data.get("score") == 0 and data.get("max_score") == total \
        and all((work / "grade-report" / f).exists() for f in ("junit.xml", "summary.md"))
    steps.append(("scripts/lab grade . (the workflow's command)", ok,
                  f"exit {proc.returncode}, {data.get('score')}/{data.get('max_score')}, "
                  f"{time.monotonic() - start:.0f} s"
                  + ("" if ok else "\n" + (proc.stdout + proc.stderr)[-1500:])))
    # The hint taken above reaches the instructor's report, and not the score (hintlog.py).
    hints = data.get("extra_data", {}).get("hints", {})
    want = {"ladder": milestones[0].slug, "unlocked": 1, "of": len(milestones[0].hints)}
    steps.append(("grade reports the hint unlocked, unscored", hints.get("recorded") is True
                  and want in hints.get("ladders", []) and data.get("score") == 0,
                  str(hints)[:300]))
